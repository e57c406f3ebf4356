/**
 * The audit chain's state as the UI knows it: each check verifies only the entries after the
 * head verified before (incremental), or the whole chain when asked. One instance per app,
 * so switching views does not start over. Fires `change` after every check.
 */
import type { AdminClient } from '../client/admin';
import type { ChainVerdict } from '../store/audit';

export class ChainVerifier extends EventTarget {
  verdict: ChainVerdict | null = null;
  checkedAt: number | null = null;
  private verified: { seq: number; hash: string; count: number } | null = null;
  private running: Promise<void> | null = null;

  constructor(private readonly admin: () => Promise<AdminClient>) {
    super();
  }

  /** Incremental unless `whole`; a broken chain stays broken until a whole check says otherwise. */
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

  private async run(whole: boolean): Promise<void> {
    if (whole) this.verified = null;
    else if (this.verdict && !this.verdict.ok) return;
    const from = this.verified ? { seq: this.verified.seq, hash: this.verified.hash } : undefined;
    const verdict = await (await this.admin()).request('audit.verify', from ? { from } : undefined);
    if (verdict.ok) {
      const count = (this.verified?.count ?? 0) + verdict.count;
      this.verified = { seq: verdict.headSeq, hash: verdict.head, count };
      this.verdict = { ...verdict, count };
    } else {
      this.verdict = verdict;
    }
    this.checkedAt = Date.now();
    this.dispatchEvent(new Event('change'));
  }
}
