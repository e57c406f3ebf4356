import { LitElement, css, html } from 'lit';
import type { ImportFailure, ImportStage, ToolImporter } from '../api/host';
import type { ToolRecord } from '../store/schema';
import { adminClient, describeError } from './admin';
import { bytes } from './format';
import { base } from './styles';

export type ToolImportedEvent = CustomEvent<ToolRecord>;

const STAGES: { id: ImportStage; label: string }[] = [
  { id: 'checking', label: 'Checking' },
  { id: 'transpiling', label: 'Transpiling' },
  { id: 'introspecting', label: 'Introspecting' },
  { id: 'storing', label: 'Storing' },
];

interface Upload {
  id: number;
  fileName: string;
  size: number;
  state: 'queued' | 'running' | 'ok' | 'failed';
  /** The last stage reported (the one that failed, for a failure). */
  stage: ImportStage | null;
  record?: ToolRecord;
  error?: ImportFailure;
  /** Which agents can call the added tool (null while asked; a string if the question failed). */
  audience?: Audience[] | string | null;
}

interface Audience {
  agentId: string;
  trustLevel: string;
  sees: boolean;
  rule: string | null;
}

/**
 * A ready component to try the upload with (tools/examples/csv_to_json.wasm, which the tools build
 * copies to public/examples/ so the app serves it, offline too).
 */
const EXAMPLE_COMPONENT = 'csv_to_json.wasm';

/** The transpiler is loaded once per page; the first upload says it is fetching it. */
let transpilerLoaded = false;

/** `details.errors` of an `invalid-metadata` refusal: `{field, reason}` (or `{path, reason}`). */
function fieldErrors(details: unknown): { field: string; reason: string }[] {
  const errors = (details as { errors?: unknown } | undefined)?.errors;
  if (!Array.isArray(errors)) return [];
  return errors.map((e: { field?: string; path?: string; reason?: string }) => ({ field: e.field ?? e.path ?? '', reason: e.reason ?? '' }));
}

function sandboxError(details: unknown): { code?: string; message?: string } | null {
  const e = (details as { sandboxError?: unknown } | undefined)?.sandboxError;
  return e && typeof e === 'object' ? (e as { code?: string; message?: string }) : null;
}

/**
 * Adds tools: a drop zone and a file picker for `.wasm` components. Files are imported one
 * after another through the host's importer, each showing its stage (checking → transpiling →
 * introspecting → storing), then the new tool or the refusal's code and message. Fires
 * `tool-imported` for each success.
 */
export class ToolUpload extends LitElement {
  static override styles = [
    base,
    css`
      .zone {
        border: 2px dashed #cbd5e1; border-radius: 10px; background: var(--panel); padding: 18px 16px; text-align: center;
        display: grid; gap: 6px; justify-items: center; transition: background 0.1s, border-color 0.1s;
      }
      .zone.over { border-color: var(--accent); background: #eff6ff; }
      .zone.off { opacity: 0.7; }
      .zone strong { font-size: 15px; }
      .zone .button { margin-top: 4px; }
      .picker { position: relative; overflow: hidden; }
      p.example { margin: 6px 2px 0; }
      .picker input { position: absolute; inset: 0; opacity: 0; cursor: pointer; width: 100%; }
      .picker:focus-within { outline: 2px solid #93c5fd; }
      ul.uploads { list-style: none; margin: 10px 0 0; padding: 0; display: grid; gap: 8px; }
      li.upload { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; display: grid; gap: 8px; }
      li.upload.state-failed { border-color: #fca5a5; }
      li.upload.state-ok { border-color: #86efac; }
      .file { display: flex; flex-wrap: wrap; gap: 6px 10px; align-items: baseline; }
      .file .name { font-weight: 600; overflow-wrap: anywhere; }
      ol.stepper { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: 4px 0; align-items: center; font-size: 12px; }
      ol.stepper li { display: flex; align-items: center; gap: 6px; color: var(--muted); }
      ol.stepper li + li::before { content: ''; width: 28px; height: 2px; background: var(--line); margin: 0 8px; }
      ol.stepper li.done + li::before { background: var(--ok); }
      ol.stepper .dot {
        width: 20px; height: 20px; border-radius: 50%; display: inline-grid; place-items: center; font-size: 11px; font-weight: 600;
        border: 2px solid #cbd5e1; background: #fff; color: var(--muted);
      }
      ol.stepper li.done { color: var(--ok); }
      ol.stepper li.done .dot { background: var(--ok); border-color: var(--ok); color: #fff; }
      ol.stepper li.current { color: var(--ink); font-weight: 600; }
      ol.stepper li.current .dot { border-color: var(--accent); color: var(--accent); animation: pulse 1.2s ease-in-out infinite; }
      ol.stepper li.failed { color: var(--bad); font-weight: 600; }
      ol.stepper li.failed .dot { background: var(--bad); border-color: var(--bad); color: #fff; }
      @keyframes pulse { 50% { box-shadow: 0 0 0 4px #bfdbfe; } }
      @media (prefers-reduced-motion: reduce) { ol.stepper li.current .dot { animation: none; } }
      .result { font-size: 13px; }
      .result ul { margin: 4px 0 0; padding-left: 18px; }
      .result code.code { font-weight: 600; }
      @media (max-width: 760px) {
        ol.stepper { gap: 6px 12px; }
        ol.stepper li + li::before { display: none; }
      }
    `,
  ];
  static override properties = { importer: { attribute: false }, uploads: { state: true }, over: { state: true } };
  importer: ToolImporter | null = null;
  uploads: Upload[] = [];
  over = false;
  private next = 1;
  private queue: Promise<void> = Promise.resolve();

  /** Queues files for import, one after another. */
  add(files: Iterable<File>): void {
    for (const file of files) {
      const upload: Upload = { id: this.next++, fileName: file.name, size: file.size, state: 'queued', stage: null };
      this.uploads = [upload, ...this.uploads];
      this.queue = this.queue.then(() => this.run(upload, file));
    }
  }

  private patch(id: number, change: Partial<Upload>): void {
    this.uploads = this.uploads.map((u) => (u.id === id ? { ...u, ...change } : u));
  }

  private async run(upload: Upload, file: File): Promise<void> {
    const importer = this.importer;
    if (!importer) {
      this.patch(upload.id, { state: 'failed', error: { code: 'no-sandbox-host', message: 'The sandbox host of this window is not running yet; try again in a moment.' } });
      return;
    }
    this.patch(upload.id, { state: 'running' });
    let stage: ImportStage | null = null;
    try {
      const data = await file.arrayBuffer();
      const record = await importer.importTool(data, file.name, {
        onProgress: (s) => {
          if (stage === 'transpiling' && s !== 'transpiling') transpilerLoaded = true;
          stage = s;
          this.patch(upload.id, { stage: s });
        },
      });
      transpilerLoaded ||= stage !== null && stage !== 'checking';
      this.patch(upload.id, { state: 'ok', record, audience: null });
      void this.askAudience(upload.id, record.name);
      this.dispatchEvent(new CustomEvent('tool-imported', { detail: record, bubbles: true, composed: true }) satisfies ToolImportedEvent);
    } catch (error) {
      const e = error as Partial<ImportFailure> & { message?: string };
      this.patch(upload.id, { state: 'failed', stage, error: { code: e.code ?? 'import-failed', message: e.message ?? String(error), details: e.details } });
    }
  }

  /** Which agents see the new tool: an upload is useful only to the agents whose policy allows it. */
  private async askAudience(id: number, name: string): Promise<void> {
    try {
      this.patch(id, { audience: await (await adminClient()).request('tools.audience', { name }) });
    } catch (error) {
      this.patch(id, { audience: `could not tell which agents see it: ${describeError(error)}` });
    }
  }

  /** Grants the tool to one agent (its live sessions are told), then asks again who sees it. */
  private async grant(id: number, name: string, agentId: string): Promise<void> {
    try {
      await (await adminClient()).request('agents.grant', { id: agentId, grant: { kind: 'tool', name } });
    } catch (error) {
      this.patch(id, { audience: `the grant to ${agentId} failed: ${describeError(error)}` });
      return;
    }
    await this.askAudience(id, name);
  }

  private renderAudience(u: Upload) {
    const a = u.audience;
    if (a === undefined || a === null) return '';
    if (typeof a === 'string') return html`<p class="muted small">${a}</p>`;
    const seeing = a.filter((x) => x.sees);
    const blind = a.filter((x) => !x.sees);
    return html`<div class="small" data-testid="upload-audience">
      ${a.length === 0 ? html`<p class="muted">No agent is registered yet.</p>` : ''}
      ${seeing.length ? html`<p>Agents that can call it now: ${seeing.map((x) => html`<code>${x.agentId}</code> `)}</p>` : a.length ? html`<p class="notice warn">No agent can call it yet: their policies do not allow it.</p>` : ''}
      ${blind.length
        ? html`<ul class="plain">
            ${blind.map(
              (x) => html`<li data-agent=${x.agentId}>
                <code>${x.agentId}</code> <span class="muted">(${x.trustLevel}; ${x.rule})</span>
                <button class="small" @click=${() => void this.grant(u.id, u.record!.name, x.agentId)}>Grant to ${x.agentId}</button>
              </li>`,
            )}
          </ul>`
        : ''}
    </div>`;
  }

  private onDrop(event: DragEvent): void {
    event.preventDefault();
    this.over = false;
    if (event.dataTransfer?.files.length) this.add(event.dataTransfer.files);
  }

  private onPick(event: Event): void {
    const input = event.target as HTMLInputElement;
    if (input.files?.length) this.add(input.files);
    input.value = ''; // the same file may be picked again
  }

  override render() {
    const busy = this.uploads.some((u) => u.state === 'running' || u.state === 'queued');
    const finished = this.uploads.some((u) => u.state === 'ok' || u.state === 'failed');
    return html`
      <div
        class="zone ${this.over ? 'over' : ''} ${this.importer ? '' : 'off'}"
        data-testid="upload-zone"
        @dragenter=${(e: DragEvent) => (e.preventDefault(), (this.over = true))}
        @dragover=${(e: DragEvent) => (e.preventDefault(), e.dataTransfer && (e.dataTransfer.dropEffect = 'copy'), (this.over = true))}
        @dragleave=${(e: DragEvent) => (e.target === e.currentTarget ? (this.over = false) : undefined)}
        @drop=${(e: DragEvent) => this.onDrop(e)}
      >
        <strong>Drop <code>.wasm</code> components here to add them as tools</strong>
        <span class="muted small">
          Each is checked, transpiled and introspected in this window, then stored; agents whose policy allows it see it at once.
          ${transpilerLoaded ? '' : html`The first upload loads the transpiler (about 3.5 MB).`}
        </span>
        <span class="button picker"
          >Choose files…<input
            type="file"
            accept=".wasm,application/wasm"
            multiple
            aria-label="Choose .wasm component files"
            data-testid="upload-input"
            @change=${(e: Event) => this.onPick(e)}
        /></span>
        ${this.importer ? '' : html`<span class="muted small">Waiting for this window's sandbox host…</span>`}
      </div>
      <p class="small example" data-testid="upload-example">
        Try it with an example:
        <a href="/examples/${EXAMPLE_COMPONENT}" download=${EXAMPLE_COMPONENT} type="application/wasm">${EXAMPLE_COMPONENT}</a>
        <span class="muted">— a ready tool (CSV to JSON) to download and drop here.</span>
      </p>
      ${this.uploads.length
        ? html`<ul class="uploads" data-testid="uploads">
            ${this.uploads.map((u) => this.renderUpload(u))}
          </ul>
          ${finished && !busy ? html`<div class="row end"><button class="link small" @click=${() => (this.uploads = [])} data-testid="uploads-clear">clear</button></div>` : ''}`
        : ''}
    `;
  }

  private renderUpload(u: Upload) {
    const reached = u.stage ? STAGES.findIndex((s) => s.id === u.stage) : -1;
    const stepClass = (i: number) => {
      if (u.state === 'ok') return 'done';
      if (u.state === 'failed') return i < reached ? 'done' : i === Math.max(reached, 0) ? 'failed' : '';
      if (u.state === 'running') return i < reached ? 'done' : i === reached ? 'current' : '';
      return '';
    };
    const status =
      u.state === 'queued'
        ? html`<span class="badge">queued</span>`
        : u.state === 'running'
          ? html`<span class="badge info">${u.stage ?? 'reading'}…</span>`
          : u.state === 'ok'
            ? html`<span class="badge ok">added</span>`
            : html`<span class="badge error">refused</span>`;
    return html`<li class="upload state-${u.state}" data-testid="upload" data-file=${u.fileName} data-state=${u.state}>
      <div class="file"><span class="name">${u.fileName}</span><span class="muted small">${bytes(u.size)}</span>${status}</div>
      <ol class="stepper" data-testid="upload-stages" aria-label="import stages">
        ${STAGES.map((s, i) => {
          const c = stepClass(i);
          return html`<li class=${c} data-stage=${s.id} aria-current=${c === 'current' ? 'step' : 'false'}>
            <span class="dot">${c === 'done' ? '✓' : c === 'failed' ? '✕' : i + 1}</span>${s.label}
          </li>`;
        })}
      </ol>
      ${u.state === 'running' && u.stage === 'transpiling' && !transpilerLoaded
        ? html`<p class="muted small" data-testid="upload-transpiler">Loading the transpiler (about 3.5 MB, once; kept for offline use)…</p>`
        : ''}
      ${u.state === 'ok' && u.record
        ? html`<p class="result ok" data-testid="upload-result">
            ✓ Added <a href="#tools/${encodeURIComponent(u.record.name)}"><strong>${u.record.name}</strong></a> ${u.record.version}
            <span class="muted">— ${u.record.description}</span>
          </p>
          ${this.renderAudience(u)}`
        : ''}
      ${u.state === 'failed' && u.error ? this.renderError(u.error) : ''}
    </li>`;
  }

  private renderError(error: ImportFailure) {
    const fields = error.code === 'invalid-metadata' ? fieldErrors(error.details) : [];
    const sandbox = sandboxError(error.details);
    return html`<div class="result notice error" data-testid="upload-error">
      <code class="code" data-testid="upload-error-code">${error.code}</code> — ${error.message}
      ${sandbox?.code ? html`<span class="small">(sandbox: <code>${sandbox.code}</code>)</span>` : ''}
      ${fields.length
        ? html`<ul data-testid="upload-field-errors">
            ${fields.map((f) => html`<li><code>${f.field || '(metadata)'}</code> — ${f.reason}</li>`)}
          </ul>`
        : ''}
    </div>`;
  }
}

customElements.define('tool-upload', ToolUpload);
declare global {
  interface HTMLElementTagNameMap {
    'tool-upload': ToolUpload;
  }
}
