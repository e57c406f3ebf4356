/**
 * The audit chain's state as the UI knows it.
 *
 * - Incremental: a verified checkpoint (seq, hash, count) is kept in this origin's
 *   localStorage, so opening the app checks only what was appended since the last check,
 *   whatever the log's size.
 * - In slices: each verifies a bounded slice on its own read transaction and the verifier
 *   yields between slices; the slices run in a worker of the page (audit-verifier.ts), so a long
 *   check never holds up an agent's call.
 * - A whole re-verification is an explicit action, with progress, and can be cancelled.
 * - A broken chain stays broken (and the checkpoint stays where it was) until a whole check
 *   says otherwise.
 *
 * One instance per app, so switching views does not start over. Fires `change` after every
 * slice.
 */
import type { ChainVerdict, Tail } from '../store/audit';
import type { SliceVerifier } from './audit-verifier';

const CHECKPOINT_KEY = 'mcp-sandbox.audit-checkpoint';
/** Entries per request: small enough that a slice never delays a call noticeably. */
const SLICE = 2_000;

interface Checkpoint extends Tail {
  count: number;
}

export class ChainVerifier extends EventTarget {
  verdict: ChainVerdict | null = null;
  checkedAt: number | null = null;
  /** While a check runs: how far it has got, and the newest entry it is heading for. */
  progress: { seq: number; newestSeq: number; whole: boolean } | null = null;
  private running: Promise<void> | null = null;
  private cancelled = false;

  constructor(
    private readonly verifySlice: SliceVerifier,
    private readonly storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> | null = typeof localStorage === 'undefined' ? null : localStorage,
  ) {
    super();
  }

  /** Incremental unless `whole`. A whole check waits for a running incremental one, then starts from the genesis. */
  check(whole = false): Promise<void> {
    if (this.running && !whole) return this.running;
    const after = this.running ?? Promise.resolve();
    const run: Promise<void> = after
      .catch(() => undefined)
      .then(() => this.run(whole))
      .finally(() => {
        if (this.running === run) this.running = null;
      });
    this.running = run;
    return run;
  }

  /** Stops a running check after its current slice; the checkpoint keeps what was verified. */
  cancel(): void {
    if (this.running) this.cancelled = true;
  }

  private async run(whole: boolean): Promise<void> {
    this.cancelled = false;
    if (!whole && this.verdict && !this.verdict.ok) return;
    let at: Checkpoint | null = whole ? null : this.checkpoint();
    try {
      for (;;) {
        const slice = await this.verifySlice(at ? { seq: at.seq, hash: at.hash } : undefined, SLICE);
        this.checkedAt = Date.now();
        if (at && slice.newestSeq < at.seq) {
          // The chain alone cannot show a cut tail; the checkpoint can.
          this.verdict = { ok: false, count: at.count, seq: slice.newestSeq + 1, reason: 'truncated', detail: `the log ends at #${slice.newestSeq}, but #${at.seq} was verified before` };
          this.progress = null;
          this.dispatchEvent(new Event('change'));
          return;
        }
        if (!slice.ok) {
          this.verdict = { ...slice, count: (at?.count ?? 0) + slice.count };
          this.progress = null;
          this.dispatchEvent(new Event('change'));
          return;
        }
        at = { seq: slice.headSeq, hash: slice.head, count: (at?.count ?? 0) + slice.count };
        this.save(at);
        this.verdict = { ok: true, count: at.count, head: at.hash, headSeq: at.seq };
        this.progress = slice.complete ? null : { seq: at.seq, newestSeq: slice.newestSeq, whole };
        this.dispatchEvent(new Event('change'));
        if (slice.complete) return;
        if (this.cancelled) {
          this.progress = null;
          this.dispatchEvent(new Event('change'));
          return;
        }
        // Yield: the page stays responsive, and the service worker serves calls in between.
        await new Promise((r) => setTimeout(r, 0));
      }
    } catch (error) {
      this.progress = null;
      this.dispatchEvent(new Event('change'));
      throw error;
    }
  }

  private checkpoint(): Checkpoint | null {
    try {
      const saved = JSON.parse(this.storage?.getItem(CHECKPOINT_KEY) ?? 'null') as Checkpoint | null;
      if (saved && Number.isSafeInteger(saved.seq) && typeof saved.hash === 'string' && Number.isSafeInteger(saved.count)) return saved;
    } catch {
      // unreadable: verify from the genesis
    }
    return null;
  }

  private save(at: Checkpoint): void {
    try {
      this.storage?.setItem(CHECKPOINT_KEY, JSON.stringify(at));
    } catch {
      // storage full or blocked: the next check starts further back, nothing else
    }
  }
}
