import { LitElement, css, html } from 'lit';
import type { FolderWatchApi, ScanReport, WatchedFolder } from '../api/host';
import { ago, dateTime } from './format';
import { base } from './styles';

/** The File System Access API's folder picker, where the browser has it. */
type DirectoryPicker = (options?: { mode?: 'read' | 'readwrite'; id?: string }) => Promise<FileSystemDirectoryHandle>;

/** A failure as a person reads it, with its code where it has one. */
function failure(error: unknown): string {
  const e = error as { code?: unknown; message?: string };
  const message = e?.message ?? String(error);
  return typeof e?.code === 'string' ? `${message} (${e.code})` : message;
}

function summary(reports: ScanReport[]): string {
  const n = (k: 'added' | 'updated' | 'removed' | 'unchanged') => reports.reduce((sum, r) => sum + r[k].length, 0);
  const errors = reports.reduce((sum, r) => sum + r.errors.length, 0);
  const parts = [`${n('added')} added`, `${n('updated')} updated`, `${n('removed')} removed`, `${n('unchanged')} unchanged`];
  if (errors) parts.push(`${errors} refused`);
  return parts.join(' · ');
}

/**
 * Watched folders: folders the person picked whose `.wasm` components are kept registered as
 * `discovered` tools. Lists each with its last scan and what became of every file; watch a new
 * folder, rescan, stop watching (asks first). Fires `tools-changed` after anything that may
 * have changed the registry.
 */
export class WatchedFolders extends LitElement {
  static override styles = [
    base,
    css`
      .folder { display: grid; gap: 8px; }
      .folder + .folder { margin-top: 10px; }
      .folder-head { display: flex; flex-wrap: wrap; gap: 6px 10px; align-items: baseline; }
      .folder-head strong { font-size: 14px; }
      .confirm p { margin: 0 0 8px; }
      td.file { overflow-wrap: anywhere; }
    `,
  ];
  static override properties = {
    folders: { attribute: false },
    list: { state: true },
    failure: { state: true },
    notice: { state: true },
    busy: { state: true },
    confirming: { state: true },
    loaded: { state: true },
  };
  folders: FolderWatchApi | null = null;
  list: WatchedFolder[] = [];
  failure = '';
  notice = '';
  busy = false;
  confirming = '';
  loaded = false;
  private timer: ReturnType<typeof setInterval> | undefined;

  override connectedCallback(): void {
    super.connectedCallback();
    // The host rescans on its own interval; the list follows.
    this.timer = setInterval(() => void this.refresh(), 10_000);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearInterval(this.timer);
  }

  protected override willUpdate(changed: Map<PropertyKey, unknown>): void {
    if (changed.has('folders')) void this.refresh();
  }

  private async refresh(): Promise<void> {
    if (!this.folders || document.hidden) return;
    try {
      this.list = await this.folders.list();
      this.failure = '';
    } catch (error) {
      this.failure = failure(error);
    } finally {
      this.loaded = true;
    }
  }

  private async run(action: (api: FolderWatchApi) => Promise<string>): Promise<void> {
    const api = this.folders;
    if (!api) return;
    this.busy = true;
    this.failure = '';
    this.notice = '';
    try {
      this.notice = await action(api);
      this.dispatchEvent(new Event('tools-changed', { bubbles: true, composed: true }));
    } catch (error) {
      // Closing the picker is not a failure.
      if ((error as DOMException)?.name !== 'AbortError') this.failure = failure(error);
    } finally {
      this.busy = false;
      this.confirming = '';
      await this.refresh();
    }
  }

  private watch(): Promise<void> {
    return this.run(async (api) => {
      const pick = (window as unknown as { showDirectoryPicker?: DirectoryPicker }).showDirectoryPicker;
      if (!pick) throw new Error('This browser cannot pick folders (no File System Access API).');
      const handle = await pick.call(window, { mode: 'read', id: 'mcp-sandbox-tools' });
      const { folder, report } = await api.add(handle);
      return `Watching ${folder.name}: ${summary([report])}.`;
    });
  }

  private rescan(id?: string): Promise<void> {
    return this.run(async (api) => `Rescanned: ${summary(await api.rescan(id))}.`);
  }

  private stop(folder: WatchedFolder): Promise<void> {
    return this.run(async (api) => {
      await api.remove(folder.id);
      return `Stopped watching ${folder.name}; its tools were withdrawn.`;
    });
  }

  override render() {
    const api = this.folders;
    if (!api) return '';
    return html`<div class="card" data-testid="watched-folders">
      <div class="toolbar">
        <h3>Watched folders</h3>
        <span class="muted small">components in these folders are kept registered as <em>discovered</em> tools</span>
        <span class="spacer"></span>
        ${this.list.length ? html`<button ?disabled=${this.busy} @click=${() => void this.rescan()} data-testid="folders-rescan-all">Rescan all</button>` : ''}
        <button class="primary" ?disabled=${this.busy || !api.pickerSupported} @click=${() => void this.watch()} data-testid="folder-add">Watch a folder…</button>
      </div>
      ${api.pickerSupported
        ? ''
        : html`<p class="notice info" data-testid="folder-unsupported">
            Watching a folder needs the File System Access API (<code>showDirectoryPicker</code>), which this browser does not offer.
            Desktop Chromium-based browsers (Chrome, Edge) have it; elsewhere, upload components above.
          </p>`}
      ${this.failure ? html`<p class="notice error" data-testid="folders-failure">${this.failure}</p>` : ''}
      ${this.notice ? html`<p class="notice ok" data-testid="folders-notice">${this.notice}</p>` : ''}
      ${this.loaded && this.list.length === 0 ? html`<p class="empty">No folders watched yet.</p>` : ''}
      ${this.list.map((f) => this.renderFolder(f))}
    </div>`;
  }

  private renderFolder(f: WatchedFolder) {
    return html`<div class="folder" data-testid="folder" data-folder=${f.id}>
      <div class="folder-head">
        <strong>${f.name}</strong>
        <span class="muted small" title=${f.lastScanAt ? dateTime(f.lastScanAt) : ''}>
          last scan ${f.lastScanAt ? ago(f.lastScanAt) : 'never'} · ${f.files.length} component${f.files.length === 1 ? '' : 's'} · watched since ${dateTime(f.addedAt)}
        </span>
        <span class="spacer"></span>
        <button ?disabled=${this.busy} @click=${() => void this.rescan(f.id)} data-testid="folder-rescan">Rescan now</button>
        <button class="danger" ?disabled=${this.busy} @click=${() => (this.confirming = f.id)} data-testid="folder-remove">Stop watching</button>
      </div>
      ${this.confirming === f.id
        ? html`<div class="notice error confirm">
            <p>Stop watching <strong>${f.name}</strong>? The tools it registered are withdrawn; the files stay where they are.</p>
            <div class="row end">
              <button @click=${() => (this.confirming = '')}>Cancel</button>
              <button class="danger armed" @click=${() => void this.stop(f)} data-testid="confirm-folder-remove">Stop watching</button>
            </div>
          </div>`
        : ''}
      ${f.files.length
        ? html`<div class="table-wrap">
            <table>
              <thead><tr><th>file</th><th>tool</th><th>sha-256</th></tr></thead>
              <tbody>
                ${f.files.map(
                  (file) => html`<tr>
                    <td class="file"><code>${file.file}</code></td>
                    <td>
                      ${file.tool ? html`<a href="#tools/${encodeURIComponent(file.tool)}">${file.tool}</a>` : ''}
                      ${file.tool && file.error ? html`<span class="muted small">(last good version; the file now fails:)</span>` : ''}
                      ${file.error ? html`<span class="error"><code>${file.error.code}</code> — ${file.error.message}</span>` : ''}
                      ${!file.tool && !file.error ? html`<span class="muted">–</span>` : ''}
                    </td>
                    <td><code title=${file.hash}>${file.hash.slice(0, 12)}…</code></td>
                  </tr>`,
                )}
              </tbody>
            </table>
          </div>`
        : html`<p class="muted small">No <code>.wasm</code> components found in the last scan.</p>`}
    </div>`;
  }
}

customElements.define('watched-folders', WatchedFolders);
declare global {
  interface HTMLElementTagNameMap {
    'watched-folders': WatchedFolders;
  }
}
