import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ERROR_META_KEY } from '../client/index';
import { CODE_EXAMPLES, examplesFor, type CodeExample, type RunnerLanguage } from './code-runner-examples';
import { bytes, duration, pretty } from './format';
import { base } from './styles';

const LANGUAGES: readonly { id: RunnerLanguage; label: string }[] = [
  { id: 'javascript', label: 'JavaScript' },
  { id: 'python', label: 'Python' },
];
/** How long the client waits for an answer: past execute_code's own 30 s ceiling and the server's grace. */
const REQUEST_TIMEOUT_MS = 120_000;
const STOP_REASON = 'stopped from the demo agent page';

/** What a successful run returns (execute_code's structured content). */
interface RunOutput {
  result: unknown;
  stdout: string;
  stderr: string;
  durationMs: number;
  memoryBytes: number;
  truncated?: string[];
}

type RunOutcome =
  | { kind: 'ok'; language: RunnerLanguage; output: RunOutput; roundTripMs: number }
  | { kind: 'failed'; language: RunnerLanguage; code: string; message: string; details: Record<string, unknown>; roundTripMs: number }
  | { kind: 'cancelled'; language: RunnerLanguage; roundTripMs: number }
  /** A JSON-RPC error, or the page's own refusal (input that is not JSON). */
  | { kind: 'error'; message: string; rpcCode?: number };

interface Draft {
  code: string;
  input: string;
  timeoutMs: string;
  example: string;
}

function draftOf(example: CodeExample): Draft {
  return { code: example.code, input: example.input, timeoutMs: example.timeoutMs, example: example.id };
}

/** The structured content of a result, or its text parsed. */
function outputOf(result: { structuredContent?: unknown; content?: unknown }): RunOutput | null {
  const structured = result.structuredContent;
  if (structured && typeof structured === 'object') return structured as RunOutput;
  const first = Array.isArray(result.content) ? (result.content[0] as { type?: string; text?: string } | undefined) : undefined;
  if (first?.type !== 'text' || typeof first.text !== 'string') return null;
  try {
    return JSON.parse(first.text) as RunOutput;
  } catch {
    return null;
  }
}

/** What each failure code means, in a sentence a person reads first. */
const FAILURE_TITLES: Record<string, string> = {
  'policy-denied': 'Denied by policy',
  timeout: 'Timed out',
  'memory-limit': 'Out of memory',
  'tool-error': 'The program failed',
  trap: 'The interpreter broke',
  'load-failed': 'Could not start',
  'invalid-arguments': 'Invalid arguments',
  busy: 'The sandbox is busy',
  'no-sandbox-host': 'No sandbox window',
  'host-gone': 'The sandbox window went away',
  cancelled: 'Cancelled',
};

/**
 * A code runner for `execute_code`: language switch, editor, optional JSON input and timeout,
 * Run and Stop (which cancels the call through the SDK Client's `signal`: the server hears
 * `notifications/cancelled` and ends the worker), and the outcome as result / stdout / stderr /
 * duration / memory, or as a typed error with its facts.
 *
 * Keyboard: Ctrl+Enter (⌘+Enter) in the editor runs, Escape stops a run. Focus moves to Stop
 * when a run starts and to the outcome when it ends, so a keyboard user follows the run.
 */
export class CodeRunner extends LitElement {
  static override styles = [
    base,
    css`
      :host { display: block; }
      fieldset { border: none; padding: 0; margin: 0; display: flex; flex-wrap: wrap; gap: 4px 14px; align-items: center; }
      legend { float: left; font-size: 12px; font-weight: 600; color: #334155; margin-right: 10px; padding: 0; }
      fieldset label { display: inline-flex; align-items: center; gap: 5px; font-weight: 500; font-size: 13px; color: var(--ink); }
      .controls { display: grid; gap: 10px; }
      .split { display: grid; grid-template-columns: minmax(0, 1fr) 160px; gap: 10px; }
      .split input { width: 100%; }
      @media (max-width: 760px) { .split { grid-template-columns: minmax(0, 1fr); } }
      textarea.editor { min-height: 190px; tab-size: 2; }
      textarea.input { min-height: 60px; }
      .actions { margin-top: 2px; }
      .status { min-height: 1.4em; margin: 6px 0 0; font-size: 13px; }
      .status.starting { color: #1e3a8a; }
      .outcome { margin-top: 12px; border-radius: 8px; padding: 10px 12px; }
      .outcome h4 { margin: 0 0 8px; font-size: 14px; }
      .outcome h4:focus { outline: 2px solid #93c5fd; outline-offset: 2px; }
      .outcome.ok { border: 1px solid #86efac; background: #f0fdf4; }
      .outcome.failed { border: 1px solid #fca5a5; background: #fff1f2; }
      .outcome.cancelled { border: 1px solid #cbd5e1; background: #f8fafc; }
      .outcome .code { font-weight: 700; }
      .outcome.failed .code { color: var(--bad); }
      .outcome pre { background: #fff; max-height: 260px; overflow: auto; }
      .stream { margin-top: 8px; }
      .stream h5 { margin: 0 0 3px; font-size: 12px; color: #334155; }
      .stream.stderr pre { border-color: #fecaca; }
      dl.facts { margin-bottom: 6px; }
    `,
  ];
  static override properties = {
    client: { attribute: false },
    allowedLanguages: { attribute: false },
    language: { state: true },
    draft: { state: true },
    running: { state: true },
    elapsedMs: { state: true },
    outcome: { state: true },
    pythonStarted: { state: true },
  };
  /** The connected agent's client. */
  client: Client | null = null;
  /** The languages this agent's policy allows (from system://env), or null when not known. */
  allowedLanguages: string[] | null = null;
  language: RunnerLanguage = 'javascript';
  draft: Draft = draftOf(CODE_EXAMPLES[0]!);
  running = false;
  elapsedMs = 0;
  outcome: RunOutcome | null = null;
  /** A Python run finished in this page: the interpreter has been loaded at least once. */
  pythonStarted = false;
  private readonly drafts = new Map<RunnerLanguage, Draft>();
  private controller: AbortController | null = null;
  private ticker: ReturnType<typeof setInterval> | null = null;
  private focusAfterUpdate: string | null = null;

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.controller?.abort(STOP_REASON);
    this.stopTicker();
  }

  protected override updated(changed: PropertyValues): void {
    super.updated(changed);
    if (this.focusAfterUpdate) {
      this.renderRoot.querySelector<HTMLElement>(this.focusAfterUpdate)?.focus();
      this.focusAfterUpdate = null;
    }
  }

  private switchLanguage(language: RunnerLanguage): void {
    if (language === this.language) return;
    this.drafts.set(this.language, this.draft);
    this.language = language;
    this.draft = this.drafts.get(language) ?? draftOf(examplesFor(language)[0]!);
  }

  private loadExample(id: string): void {
    const example = CODE_EXAMPLES.find((e) => e.id === id && e.language === this.language);
    if (example) this.draft = draftOf(example);
  }

  private edit(change: Partial<Draft>): void {
    this.draft = { ...this.draft, ...change };
  }

  private async run(): Promise<void> {
    if (this.running || !this.client) return;
    const language = this.language;
    const { code, input, timeoutMs } = this.draft;
    const args: Record<string, unknown> = { language, code };
    if (input.trim() !== '') {
      try {
        args['input'] = JSON.parse(input);
      } catch (error) {
        this.outcome = { kind: 'error', message: `The input is not valid JSON: ${(error as Error).message}` };
        this.focusAfterUpdate = '[data-focus=outcome]';
        return;
      }
    }
    if (timeoutMs.trim() !== '') {
      const n = Number(timeoutMs);
      if (!Number.isInteger(n) || n < 1) {
        this.outcome = { kind: 'error', message: 'The timeout must be a whole number of milliseconds (1 or more), or empty for the policy’s limit.' };
        this.focusAfterUpdate = '[data-focus=outcome]';
        return;
      }
      args['timeoutMs'] = n;
    }
    const controller = new AbortController();
    this.controller = controller;
    this.running = true;
    this.outcome = null;
    const started = performance.now();
    this.elapsedMs = 0;
    this.ticker = setInterval(() => (this.elapsedMs = performance.now() - started), 100);
    // Keyboard users land on Stop while it runs.
    if (this.matches(':focus-within')) this.focusAfterUpdate = '[data-testid=code-stop]';
    let outcome: RunOutcome;
    try {
      const result = await this.client.callTool({ name: 'execute_code', arguments: args }, undefined, { signal: controller.signal, timeout: REQUEST_TIMEOUT_MS });
      const roundTripMs = performance.now() - started;
      if (result.isError) {
        const info = result._meta?.[ERROR_META_KEY] as { code?: string; message?: string; details?: Record<string, unknown> } | undefined;
        const text = Array.isArray(result.content) ? (result.content as { text?: string }[]).map((c) => c.text ?? '').join('\n') : '';
        outcome = { kind: 'failed', language, code: info?.code ?? 'error', message: info?.message ?? text, details: info?.details ?? {}, roundTripMs };
      } else {
        const output = outputOf(result as { structuredContent?: unknown; content?: unknown });
        outcome = output ? { kind: 'ok', language, output, roundTripMs } : { kind: 'error', message: 'execute_code answered without its output' };
      }
    } catch (error) {
      const roundTripMs = performance.now() - started;
      if (controller.signal.aborted) outcome = { kind: 'cancelled', language, roundTripMs };
      else {
        const e = error as { code?: number; message?: string };
        outcome = { kind: 'error', message: e.message ?? String(error), ...(typeof e.code === 'number' ? { rpcCode: e.code } : {}) };
      }
    }
    // Focus inside the runner (on Stop, say) follows the run to its outcome.
    const followFocus = this.matches(':focus-within') || document.activeElement === document.body;
    this.stopTicker();
    this.controller = null;
    this.running = false;
    // Loaded once a Python run got past starting the interpreter (whatever the program did).
    if (language === 'python' && (outcome.kind === 'ok' || (outcome.kind === 'failed' && outcome.code !== 'load-failed' && outcome.code !== 'policy-denied'))) this.pythonStarted = true;
    this.outcome = outcome;
    if (followFocus) this.focusAfterUpdate = '[data-focus=outcome]';
  }

  private stop(): void {
    this.controller?.abort(STOP_REASON);
  }

  private stopTicker(): void {
    if (this.ticker !== null) clearInterval(this.ticker);
    this.ticker = null;
  }

  private onKeydown(event: KeyboardEvent): void {
    if (event.key === 'Escape' && this.running) {
      event.preventDefault();
      this.stop();
    } else if (event.key === 'Enter' && (event.ctrlKey || event.metaKey) && !this.running) {
      event.preventDefault();
      void this.run();
    }
  }

  override render() {
    const examples = examplesFor(this.language);
    const allowed = this.allowedLanguages;
    return html`<div class="controls" @keydown=${(e: KeyboardEvent) => this.onKeydown(e)}>
      <fieldset data-testid="code-language">
        <legend>Language</legend>
        ${LANGUAGES.map(
          (l) => html`<label
            ><input type="radio" name="language" value=${l.id} .checked=${this.language === l.id} ?disabled=${this.running} @change=${() => this.switchLanguage(l.id)} />
            ${l.label}${allowed && !allowed.includes(l.id) ? html` <span class="hint">(not allowed for this agent)</span>` : nothing}</label
          >`,
        )}
      </fieldset>
      <label
        >Example
        <select data-testid="code-example" ?disabled=${this.running} @change=${(e: Event) => this.loadExample((e.target as HTMLSelectElement).value)}>
          ${examples.map((e) => html`<option value=${e.id} ?selected=${e.id === this.draft.example}>${e.title}</option>`)}
        </select>
      </label>
      <label
        >Code (${LANGUAGES.find((l) => l.id === this.language)!.label})
        <textarea
          class="code editor"
          spellcheck="false"
          autocapitalize="off"
          autocomplete="off"
          data-testid="code-editor"
          aria-describedby="code-help"
          .value=${this.draft.code}
          @input=${(e: Event) => this.edit({ code: (e.target as HTMLTextAreaElement).value, example: '' })}
        ></textarea>
        <span class="hint" id="code-help">Ctrl+Enter (⌘+Enter) runs; Escape stops a run. ${this.language === 'javascript' ? 'The value of the last expression is the result; console.log goes to stdout.' : 'print() goes to stdout.'}</span>
      </label>
      <div class="split">
        <label
          ><span>Input (JSON, optional: the program's <code>input</code>)</span>
          <textarea class="code input" spellcheck="false" data-testid="code-input" .value=${this.draft.input} @input=${(e: Event) => this.edit({ input: (e.target as HTMLTextAreaElement).value })}></textarea>
        </label>
        <label
          >Timeout (ms, optional)
          <input type="number" min="1" step="1" inputmode="numeric" placeholder="policy limit" data-testid="code-timeout" .value=${this.draft.timeoutMs} @input=${(e: Event) => this.edit({ timeoutMs: (e.target as HTMLInputElement).value })} />
        </label>
      </div>
      <div class="row actions">
        <button class="primary" data-testid="code-run" ?disabled=${this.running || !this.client} @click=${() => void this.run()}>Run</button>
        <button data-testid="code-stop" ?disabled=${!this.running} @click=${() => this.stop()}>Stop</button>
      </div>
    </div>
    ${this.renderStatus()} ${this.outcome ? this.renderOutcome(this.outcome) : nothing}`;
  }

  private renderStatus() {
    const starting = this.running && this.language === 'python' && !this.pythonStarted;
    const text = !this.running
      ? ''
      : starting
        ? `Python is starting… the first Python run loads the interpreter, which can take a few seconds (${duration(this.elapsedMs)})`
        : `Running… ${duration(this.elapsedMs)}`;
    return html`<p class="status ${starting ? 'starting' : 'muted'}" role="status" aria-live="polite" data-testid="code-status" data-state=${starting ? 'python-starting' : this.running ? 'running' : 'idle'}>${text}</p>`;
  }

  private renderOutcome(o: RunOutcome) {
    if (o.kind === 'ok') {
      const { output } = o;
      const truncated = output.truncated ?? [];
      return html`<section class="outcome ok" data-testid="code-result" aria-labelledby="outcome-title">
        <h4 id="outcome-title" tabindex="-1" data-focus="outcome"><span class="ok">✓</span> Ran (${o.language})</h4>
        <dl class="facts">
          <dt>duration</dt>
          <dd data-testid="code-duration">${output.durationMs.toFixed(1)} ms <span class="muted">(round trip ${o.roundTripMs.toFixed(0)} ms)</span></dd>
          <dt>memory</dt>
          <dd data-testid="code-memory">${bytes(output.memoryBytes)}</dd>
          ${truncated.length ? html`<dt>truncated</dt><dd>${truncated.join(', ')}</dd>` : nothing}
        </dl>
        ${this.renderStream('result', output.result === undefined ? 'null' : pretty(output.result), 'code-value')} ${this.renderStream('stdout', output.stdout, 'code-stdout')}
        ${this.renderStream('stderr', output.stderr, 'code-stderr')}
      </section>`;
    }
    if (o.kind === 'cancelled') {
      return html`<section class="outcome cancelled" data-testid="code-error" data-code="cancelled" aria-labelledby="outcome-title">
        <h4 id="outcome-title" tabindex="-1" data-focus="outcome"><span class="code">cancelled</span> — Cancelled after ${duration(o.roundTripMs)}</h4>
        <p>You stopped the run: the client sent <code>notifications/cancelled</code>, and the sandbox ended the worker running the program.</p>
      </section>`;
    }
    if (o.kind === 'error') {
      return html`<section class="outcome failed" data-testid="code-error" data-code=${o.rpcCode != null ? `rpc-${o.rpcCode}` : 'error'} aria-labelledby="outcome-title">
        <h4 id="outcome-title" tabindex="-1" data-focus="outcome"><span class="code">${o.rpcCode != null ? `JSON-RPC ${o.rpcCode}` : 'error'}</span> — ${o.message}</h4>
      </section>`;
    }
    const { stdout, stderr, stack, ...facts } = o.details as Record<string, unknown> & { stdout?: unknown; stderr?: unknown; stack?: unknown };
    const unsupported = o.code === 'load-failed' && facts['reason'] === 'unsupported-language';
    return html`<section class="outcome failed" data-testid="code-error" data-code=${o.code} aria-labelledby="outcome-title">
      <h4 id="outcome-title" tabindex="-1" data-focus="outcome"><span class="code">${o.code}</span> — ${FAILURE_TITLES[o.code] ?? 'The call failed'}</h4>
      <p data-testid="code-error-message">${o.message}</p>
      ${unsupported
        ? html`<p class="notice info">The app window hosting the sandbox has no ${o.language === 'python' ? 'Python' : o.language} runtime registered, so it cannot run this language here.</p>`
        : nothing}
      ${Object.keys(facts).length
        ? html`<dl class="facts" data-testid="code-error-facts">
            ${Object.entries(facts).map(([k, v]) => html`<dt>${k}</dt><dd data-fact=${k}>${this.renderFact(k, v)}</dd>`)}
          </dl>`
        : nothing}
      ${typeof stack === 'string' && stack ? this.renderStream('stack', stack, 'code-stack') : nothing}
      ${typeof stdout === 'string' && stdout ? this.renderStream('stdout', stdout, 'code-stdout') : nothing}
      ${typeof stderr === 'string' && stderr ? this.renderStream('stderr', stderr, 'code-stderr') : nothing}
    </section>`;
  }

  private renderStream(title: string, text: string, testId: string) {
    return html`<div class="stream ${title}">
      <h5>${title}</h5>
      ${text === '' ? html`<p class="muted small" data-testid=${testId}>(empty)</p>` : html`<pre data-testid=${testId}>${text}</pre>`}
    </div>`;
  }

  private renderFact(key: string, value: unknown) {
    if (typeof value === 'number' && key.endsWith('Bytes')) return html`<code>${bytes(value)}</code> <span class="muted">(${value} B)</span>`;
    if (typeof value === 'number' && (key.endsWith('Ms') || key === 'limitMs')) return html`<code>${duration(value)}</code>`;
    if (typeof value === 'string') return html`<code>${value}</code>`;
    const json = JSON.stringify(value);
    return json.length > 60 ? html`<pre>${pretty(value)}</pre>` : html`<code>${json}</code>`;
  }
}

customElements.define('code-runner', CodeRunner);
declare global {
  interface HTMLElementTagNameMap {
    'code-runner': CodeRunner;
  }
}
