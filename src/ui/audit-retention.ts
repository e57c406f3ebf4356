import { LitElement, css, html } from 'lit';
import type { AdminMethods } from '../api/admin';
import type { ArchiveCheckpoint } from '../store/schema';
import { adminClient, describeError } from './admin';
import { bytes, dateTime } from './format';
import { base } from './styles';

type Retention = AdminMethods['audit.retention']['result'];
const DAY = 86_400_000;
const AGES = [
  { label: '1 day', ms: DAY },
  { label: '7 days', ms: 7 * DAY },
  { label: '30 days', ms: 30 * DAY },
  { label: '90 days', ms: 90 * DAY },
];
/** Bytes of the end of the file read back to find its checkpoint line. */
const TAIL_BYTES = 16 * 1024;

/**
 * Retention (docs/audit.md): download the oldest entries as a signed archive file, then remove
 * them from the browser; the chain left verifies from the archive's checkpoint. Also says how
 * much of the browser's storage the app uses. Two steps on purpose: the entries leave the browser
 * only once the person says the file is kept.
 */
export class AuditRetention extends LitElement {
  static override styles = [
    base,
    css`
      :host { display: block; }
      .row { display: flex; flex-wrap: wrap; gap: 8px; align-items: end; margin: 8px 0; }
      input[type='number'] { width: 110px; }
      dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0 0 8px; font-size: 13px; }
      dt { color: var(--muted); }
    `,
  ];
  static override properties = {
    info: { state: true },
    through: { state: true },
    busy: { state: true },
    failure: { state: true },
    archived: { state: true },
    done: { state: true },
  };
  info: Retention | null = null;
  through = 0;
  busy = false;
  failure = '';
  /** The archive just downloaded, waiting for the person to say it is kept. */
  archived: { checkpoint: ArchiveCheckpoint; size: number } | null = null;
  done = '';

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  private async load(before?: number): Promise<void> {
    try {
      const admin = await adminClient();
      this.info = await admin.request('audit.retention', before === undefined ? undefined : { before });
      if (before !== undefined) this.through = this.info.throughBefore ?? 0;
      else if (!this.through) this.through = this.info.maxThrough;
      this.failure = '';
    } catch (error) {
      this.failure = describeError(error);
    }
  }

  /** Streams the archive into a Blob (Chromium keeps large ones on disk), remembering the file's end, then saves it. */
  private async download(): Promise<void> {
    this.busy = true;
    this.failure = '';
    this.done = '';
    try {
      const url = new URL(`audit/archive.jsonl?through=${this.through}`, new URL(import.meta.env.BASE_URL, location.origin));
      const response = await fetch(url);
      if (!response.ok || !response.body) {
        const body = (await response.json().catch(() => null)) as { error?: { message?: string } } | null;
        throw new Error(body?.error?.message ?? `the archive could not be made (HTTP ${response.status})`);
      }
      const blob = await response.blob();
      const tail = await blob.slice(Math.max(0, blob.size - TAIL_BYTES)).text();
      const last = tail.trimEnd().split('\n').at(-1) ?? '';
      const checkpoint = (JSON.parse(last) as { archive?: ArchiveCheckpoint }).archive;
      if (!checkpoint || checkpoint.through !== this.through) throw new Error('the archive ended early: no checkpoint line (the chain may be broken; verify it first)');
      const link = document.createElement('a');
      link.href = URL.createObjectURL(blob);
      link.download = `audit-archive-${checkpoint.firstSeq}-${checkpoint.through}.jsonl`;
      link.click();
      setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
      this.archived = { checkpoint, size: blob.size };
    } catch (error) {
      this.failure = describeError(error);
    } finally {
      this.busy = false;
    }
  }

  private async prune(): Promise<void> {
    if (!this.archived) return;
    this.busy = true;
    try {
      const admin = await adminClient();
      const checkpoint = this.archived.checkpoint;
      // Each request removes what it can in a few seconds; ask again until nothing is left.
      let removed = 0;
      for (;;) {
        const step = await admin.request('audit.prune', { checkpoint });
        removed += step.removed;
        if (step.done) break;
        this.done = `Removing… ${removed.toLocaleString('en')} entries so far`;
      }
      this.done = `Removed ${removed.toLocaleString('en')} entries through #${checkpoint.through} from this browser; the chain now starts at the archive's checkpoint.`;
      this.archived = null;
      this.through = 0;
      await this.load();
      this.dispatchEvent(new CustomEvent('pruned', { bubbles: true, composed: true }));
    } catch (error) {
      this.failure = describeError(error);
    } finally {
      this.busy = false;
    }
  }

  override render() {
    const info = this.info;
    if (!info) return html`<div class="card">${this.failure ? html`<p class="notice error">${this.failure}</p>` : 'Loading…'}</div>`;
    const storage = info.storage;
    const share = storage && storage.quota ? storage.usage / storage.quota : null;
    return html`<div class="card" data-testid="retention">
      <h3>Retention</h3>
      <dl>
        <dt>in this browser</dt>
        <dd data-testid="retention-entries">${info.entries.toLocaleString('en')} entries (#${info.firstSeq}–#${info.newestSeq})</dd>
        <dt>archived</dt>
        <dd data-testid="retention-archived">${info.archived ? html`through #${info.archived.through}, ${dateTime(info.archived.createdAt)}` : 'nothing yet'}</dd>
        <dt>storage</dt>
        <dd data-testid="retention-storage">${storage ? `${bytes(storage.usage)} of ${bytes(storage.quota)} (${((share ?? 0) * 100).toFixed(1)} %)${storage.indexedDB !== null ? `, the database ${bytes(storage.indexedDB)}` : ''}${storage.persisted ? ', persistent' : ''}` : 'unknown'}</dd>
      </dl>
      ${info.maxThrough
        ? html`<div class="row">
            <label>entries older than
              <select data-testid="retention-age" @change=${(e: Event) => void this.load(Date.now() - Number((e.target as HTMLSelectElement).value))}>
                <option value="" selected disabled>choose</option>
                ${AGES.map((a) => html`<option value=${a.ms}>${a.label}</option>`)}
              </select>
            </label>
            <label>or through #
              <input type="number" data-testid="retention-through" min=${info.firstSeq} max=${info.maxThrough} .value=${String(this.through || '')} @input=${(e: Event) => (this.through = Number((e.target as HTMLInputElement).value))} />
            </label>
            <button class="primary" data-testid="retention-download" ?disabled=${this.busy || this.through < info.firstSeq || this.through > info.maxThrough} @click=${() => void this.download()}>
              Download archive${this.through >= info.firstSeq ? ` (${(this.through - info.firstSeq + 1).toLocaleString('en')} entries)` : ''}
            </button>
          </div>`
        : html`<p class="muted small">Nothing can be archived yet: the log keeps its newest entry and every call still open.</p>`}
      ${this.archived
        ? html`<p class="notice info">
            Downloaded entries #${this.archived.checkpoint.firstSeq}–#${this.archived.checkpoint.through} (${bytes(this.archived.size)}), signed; file SHA-256 ${this.archived.checkpoint.fileSha256.slice(0, 16)}…
            Once the file is kept safe:
            <button data-testid="retention-prune" ?disabled=${this.busy} @click=${() => void this.prune()}>Remove them from this browser</button>
          </p>`
        : ''}
      ${this.done ? html`<p class="notice ok" data-testid="retention-done">${this.done}</p>` : ''}
      ${this.failure ? html`<p class="notice error" data-testid="retention-error">${this.failure}</p>` : ''}
    </div>`;
  }
}

customElements.define('audit-retention', AuditRetention);
declare global {
  interface HTMLElementTagNameMap {
    'audit-retention': AuditRetention;
  }
}
