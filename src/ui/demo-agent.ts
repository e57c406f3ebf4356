import { LitElement, css, html } from 'lit';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { ERROR_META_KEY, connect, exposeToWebMCP, type WebMcpExposure } from '../client/index';
import { DEMO_AGENTS, demoTokens } from './demo-agents';
import { duration, pretty, time } from './format';
import { base } from './styles';
import './code-runner';
import './playground';

/** The built-in tool the code runner calls. */
const EXECUTE_CODE = 'execute_code';

/** What the demo page shows of system://env (written by the system_env wasm module). */
interface Environment {
  summary: string[];
  /** App windows that can run calls right now (≥ 1 whenever this could be read). */
  sandboxHosts?: { open: number };
  executeCode?: { languages?: { allowed?: string[] } };
}

const EXAMPLES: Record<string, unknown> = {
  text_stats: { text: 'The quick brown fox jumps over the lazy dog. The dog sleeps.' },
  json_query: { json: '{"user":{"name":"Ada","langs":["en","fr"]}}', path: '$.user.langs[1]' },
  fetch_url: { url: 'https://httpbin.org/get' },
  execute_code: { language: 'javascript', code: 'input.xs.map((x) => x * 2)', input: { xs: [1, 2, 3] } },
  write_file: { path: './workspace/notes.txt', contents: 'Written by the demo agent.' },
  read_file: { path: './workspace/notes.txt' },
  list_directory: { path: './workspace' },
};

/** The no-credentials choice: connects without a token (allowed only if the sandbox's settings say so). */
const NO_TOKEN = '';

interface Outcome {
  at: number;
  tool: string;
  ms: number;
  /** A result the tool produced. */
  ok?: { texts: string[] };
  /** A failed call (`isError`), with the sandbox's error info when it sent one. */
  failed?: { texts: string[]; code?: string; message?: string; details?: Record<string, unknown> };
  /** A JSON-RPC error (unknown tool, refused session…). */
  thrown?: { code?: number; message: string };
}

/** An example for a tool: a known one, or the schema's required fields as empty strings. */
function exampleFor(tool: Tool | undefined): string {
  if (!tool) return '{}';
  if (EXAMPLES[tool.name]) return pretty(EXAMPLES[tool.name]);
  const required = (tool.inputSchema.required ?? []) as string[];
  return pretty(Object.fromEntries(required.map((k) => [k, ''])));
}

/** Text content, pretty-printed when it is JSON. */
function texts(content: unknown): string[] {
  if (!Array.isArray(content)) return [];
  return content.map((c: { type?: string; text?: string }) => {
    if (c.type !== 'text' || typeof c.text !== 'string') return pretty(c);
    try {
      return pretty(JSON.parse(c.text));
    } catch {
      return c.text;
    }
  });
}

/**
 * A demo agent: connects as one of the demo agents the app registered (or without a token),
 * lists the tools its policy lets it see, calls them with JSON arguments, and shows results
 * and errors — including the sandbox's error code and the policy rule that denied a call.
 */
export class DemoAgent extends LitElement {
  static override styles = [
    base,
    css`
      :host { max-width: 1100px; margin: 0 auto; padding: 16px 20px 40px; }
      header { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: baseline; margin-bottom: 14px; }
      header h1 { font-size: 20px; }
      .grid { display: grid; grid-template-columns: minmax(200px, 280px) minmax(0, 1fr); gap: 14px; align-items: start; margin-top: 14px; }
      @media (max-width: 760px) { :host { padding: 10px; } .grid { grid-template-columns: minmax(0, 1fr); } }
      .tools { display: grid; gap: 6px; }
      .tool { text-align: left; white-space: normal; padding: 8px 10px; display: grid; gap: 2px; }
      .tool[aria-pressed='true'] { border-color: var(--ink); box-shadow: inset 3px 0 0 var(--ink); background: #f8fafc; }
      .tool .desc { font-size: 12px; color: var(--muted); display: -webkit-box; -webkit-line-clamp: 3; -webkit-box-orient: vertical; overflow: hidden; }
      .tool[aria-pressed='true'] .desc { -webkit-line-clamp: unset; }
      textarea { min-height: 120px; }
      .result { margin-top: 12px; }
      .result h4 { margin: 0 0 6px; font-size: 13px; }
      .failed { border: 1px solid #fca5a5; background: #fff1f2; border-radius: 8px; padding: 10px 12px; }
      .failed .code { font-weight: 700; color: var(--bad); }
      .failed h4 { font-weight: 400; line-height: 1.45; }
      .failed pre { max-height: 200px; overflow: auto; }
      .succeeded { border: 1px solid #86efac; background: #f0fdf4; border-radius: 8px; padding: 10px 12px; }
      .succeeded pre, .failed pre { background: #fff; margin-top: 6px; }
      .history { margin-top: 14px; }
      .actions { margin-top: 8px; }
      .env, .runner { margin-top: 14px; }
      .webmcp { margin-top: 8px; }
      .runner h2 { margin-bottom: 4px; }
      .env summary { cursor: pointer; font-weight: 600; }
      .env ul { margin: 8px 0 0; padding-left: 20px; }
    `,
  ];
  static override properties = {
    agentId: { state: true },
    tools: { state: true },
    selected: { state: true },
    args: { state: true },
    status: { state: true },
    connected: { state: true },
    busy: { state: true },
    outcome: { state: true },
    history: { state: true },
    environment: { state: true },
    noHost: { state: true },
    webmcp: { state: true },
    webmcpStatus: { state: true },
  };
  agentId = '';
  tools: Tool[] = [];
  selected = '';
  args = '{}';
  status = '';
  connected = false;
  busy = false;
  outcome: Outcome | null = null;
  history: Outcome[] = [];
  /** system://env as this agent reads it; null until read (or when it could not be). */
  environment: Environment | null = null;
  /** Whether the sandbox said no app window is open to run calls (`no-sandbox-host`). */
  noHost = false;
  /** Whether this agent's tools are offered to the browser's agent (WebMCP), and what came of it. */
  webmcp = false;
  webmcpStatus = '';
  private exposure: WebMcpExposure | null = null;
  private client: Client | null = null;
  private readonly tokens = demoTokens();

  override connectedCallback(): void {
    super.connectedCallback();
    const fromHash = decodeURIComponent(location.hash.slice(1));
    const ids = Object.keys(this.tokens);
    this.agentId = fromHash in this.tokens ? fromHash : (ids[0] ?? NO_TOKEN);
    if (ids.length > 0) void this.connectAs(this.agentId);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    void this.exposure?.unregister();
    void this.client?.close();
  }

  /** Offers this agent's tools to the browser's model context, or takes them back. */
  private async setWebMcp(on: boolean): Promise<void> {
    this.webmcp = on;
    const previous = this.exposure;
    this.exposure = null;
    await previous?.unregister();
    this.webmcpStatus = '';
    if (!on || !this.client) return;
    const client = this.client;
    let exposure: WebMcpExposure | null = null;
    exposure = await exposeToWebMCP(client, {
      ifUnavailable: 'skip',
      // Later changes (a grant, a revoke); the first list is reported below.
      onChange: (names) => {
        if (exposure && this.exposure === exposure) this.webmcpStatus = `${names.length} tool${names.length === 1 ? '' : 's'} offered to the browser's agent`;
      },
    }).catch((error: Error) => {
      this.webmcpStatus = `could not offer the tools: ${error.message}`;
      return null;
    });
    if (!exposure) return;
    if (!exposure.available) {
      this.webmcp = false;
      this.webmcpStatus = exposure.reason ?? 'WebMCP is not available in this browser';
      return;
    }
    if (this.client !== client || !this.webmcp) {
      await exposure.unregister();
      return;
    }
    this.exposure = exposure;
    const n = exposure.tools.length;
    this.webmcpStatus = `${n} tool${n === 1 ? '' : 's'} offered to the browser's agent`;
  }

  private async connectAs(id: string): Promise<void> {
    this.busy = true;
    await this.exposure?.unregister();
    this.exposure = null;
    await this.client?.close().catch(() => undefined);
    this.client = null;
    this.connected = false;
    this.tools = [];
    this.outcome = null;
    this.environment = null;
    this.agentId = id;
    history.replaceState(null, '', id ? `#${encodeURIComponent(id)}` : location.pathname);
    this.status = `connecting as ${id || 'an unauthenticated agent'}…`;
    try {
      const clientInfo = { name: 'demo-agent', version: '0.2.0' };
      this.client = await connect(id ? { agent: id, token: this.tokens[id]!, clientInfo } : { clientInfo });
      this.tools = (await this.client.listTools()).tools;
      this.environment = await this.readEnvironment(this.client);
      this.connected = true;
      this.pick(this.tools.some((t) => t.name === this.selected) ? this.selected : (this.tools[0]?.name ?? ''));
      this.status = `connected as ${id || 'an unauthenticated agent'} · ${this.tools.length} tool${this.tools.length === 1 ? '' : 's'} visible`;
      if (this.webmcp) await this.setWebMcp(true);
    } catch (error) {
      const e = error as { code?: number; message?: string };
      this.status = `could not connect: ${e.message ?? String(error)}`;
    } finally {
      this.busy = false;
    }
  }

  /** Opens the app in a new tab (it hosts the tool workers), then reads again whether one is open. */
  private openHost(): void {
    window.open('./', '_blank');
    const client = this.client;
    if (!client) return;
    // The new window announces itself once it has loaded: ask until it has, for a while.
    let tries = 0;
    const again = async () => {
      if (this.client !== client || ++tries > 20) return;
      this.environment = await this.readEnvironment(client);
      if (this.noHost) setTimeout(() => void again(), 500);
    };
    setTimeout(() => void again(), 500);
  }

  /** Every agent may read system://env; a page without it (an older sandbox) just shows less. */
  private async readEnvironment(client: Client): Promise<Environment | null> {
    try {
      const read = await client.readResource({ uri: 'system://env' });
      const first = read.contents[0];
      this.noHost = false;
      return first && 'text' in first && typeof first.text === 'string' ? (JSON.parse(first.text) as Environment) : null;
    } catch (error) {
      // Resources are written by producers that run in the sandbox: with no app window open,
      // the read fails for the same reason every call would.
      this.noHost = /no-sandbox-host/.test((error as Error)?.message ?? '');
      return null;
    }
  }

  private pick(name: string): void {
    this.selected = name;
    this.args = exampleFor(this.tools.find((t) => t.name === name));
  }

  private async call(): Promise<void> {
    let args: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(this.args);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('arguments must be a JSON object');
      args = parsed as Record<string, unknown>;
    } catch (error) {
      this.outcome = { at: Date.now(), tool: this.selected, ms: 0, thrown: { message: `Arguments are not valid: ${(error as Error).message}` } };
      return;
    }
    this.busy = true;
    const started = performance.now();
    const base = { at: Date.now(), tool: this.selected };
    let outcome: Outcome;
    try {
      const result = await this.client!.callTool({ name: this.selected, arguments: args });
      const took = performance.now() - started;
      if (result.isError) {
        const info = result._meta?.[ERROR_META_KEY] as { code?: string; message?: string; details?: Record<string, unknown> } | undefined;
        outcome = { ...base, ms: took, failed: { texts: texts(result.content), ...info } };
      } else {
        outcome = { ...base, ms: took, ok: { texts: texts(result.content) } };
      }
    } catch (error) {
      const e = error as { code?: number; message?: string };
      outcome = { ...base, ms: performance.now() - started, thrown: { message: e.message ?? String(error), ...(typeof e.code === 'number' ? { code: e.code } : {}) } };
    }
    this.outcome = outcome;
    this.history = [outcome, ...this.history].slice(0, 10);
    this.busy = false;
    // A call that found no window to run in says so; one that ran shows a window is open.
    this.noHost = outcome.failed?.code === 'no-sandbox-host';
  }

  override render() {
    const ids = Object.keys(this.tokens);
    const tool = this.tools.find((t) => t.name === this.selected);
    return html`
      <header>
        <h1>Demo agent</h1>
        <span class="muted">a page that connects to the sandbox like any agent: the client library, an agent id and its token</span>
      </header>
      ${ids.length === 0
        ? html`<p class="notice warn">
            No demo agents are registered in this browser. <a href="./" target="_blank">Open the app</a> first: on a fresh sandbox it registers
            ${DEMO_AGENTS.map((a) => a.id).join(' and ')} and leaves their tokens for this page. Then reload.
          </p>`
        : ''}
      ${this.connected && this.noHost
        ? html`<p class="notice warn" data-testid="demo-no-host">
            No app window is open, so no tool can run (tools run in workers, and only a window can start them).
            <button @click=${() => this.openHost()}>Open the app</button>
          </p>`
        : ''}
      <div class="card row">
        <label class="inline"
          >Connect as
          <select data-testid="demo-agent-select" ?disabled=${this.busy} @change=${(e: Event) => void this.connectAs((e.target as HTMLSelectElement).value)}>
            ${ids.map((id) => html`<option value=${id} ?selected=${id === this.agentId}>${id} (${DEMO_AGENTS.find((a) => a.id === id)?.trustLevel ?? 'agent'})</option>`)}
            <option value=${NO_TOKEN} ?selected=${this.agentId === NO_TOKEN}>no token (unauthenticated)</option>
          </select>
        </label>
        <button @click=${() => void this.connectAs(this.agentId)} ?disabled=${this.busy}>Reconnect</button>
        <span class="${this.connected ? 'ok' : this.status.startsWith('could not') ? 'error' : 'muted'}" data-testid="demo-status">${this.status}</span>
      </div>
      <div class="row webmcp">
        <label class="inline"
          ><input
            type="checkbox"
            data-testid="demo-webmcp"
            .checked=${this.webmcp}
            ?disabled=${!this.connected || this.busy}
            @change=${(e: Event) => void this.setWebMcp((e.target as HTMLInputElement).checked)}
          />
          Expose these tools to the browser's agent (WebMCP)</label
        >
        <span class="muted small" data-testid="demo-webmcp-status" aria-live="polite">${this.webmcpStatus}</span>
      </div>
      ${this.connected
        ? html`<div class="grid">
            <div class="tools" role="group" aria-label="tools">
              ${this.tools.length === 0 ? html`<p class="muted">This agent's policy shows it no tools.</p>` : ''}
              ${this.tools.map(
                (t) => html`<button class="tool" aria-pressed=${t.name === this.selected} @click=${() => this.pick(t.name)}>
                  <strong>${t.name}</strong><span class="desc">${t.description ?? ''}</span>
                </button>`,
              )}
            </div>
            <div class="card">
              ${tool
                ? html`<h3>${tool.name}</h3>
                    <p class="muted small">${tool.description ?? ''}</p>
                    <label
                      >Arguments (JSON)
                      <textarea class="code" spellcheck="false" data-testid="demo-args" .value=${this.args} @input=${(e: Event) => (this.args = (e.target as HTMLTextAreaElement).value)}></textarea>
                    </label>
                    <div class="row actions">
                      <button class="primary" @click=${() => void this.call()} ?disabled=${this.busy} data-testid="demo-call">${this.busy ? 'Calling…' : 'Call tool'}</button>
                      <button @click=${() => this.pick(tool.name)}>Reset example</button>
                    </div>
                    ${this.outcome ? this.renderOutcome(this.outcome) : ''}`
                : html`<p class="muted">Pick a tool.</p>`}
            </div>
          </div>`
        : ''}
      ${this.connected && this.tools.some((t) => t.name === EXECUTE_CODE)
        ? html`<section class="card runner" aria-labelledby="runner-title">
            <h2 id="runner-title">Run code <span class="muted small">(execute_code)</span></h2>
            <p class="muted small">A short program in an isolated interpreter, under this agent's policy and audited like any call.</p>
            <code-runner data-testid="code-runner" .client=${this.client} .allowedLanguages=${this.environment?.executeCode?.languages?.allowed ?? null}></code-runner>
          </section>`
        : ''}
      ${this.connected
        ? html`<section class="card runner" aria-labelledby="playground-title">
            <h2 id="playground-title">Playground <span class="muted small">(a model of yours, with this agent's tools)</span></h2>
            <p class="muted small">Connect an OpenAI-compatible chat-completions endpoint; the model's tool calls run as this agent, under its policy, and are audited.</p>
            <agent-playground data-testid="playground" .client=${this.client}></agent-playground>
          </section>`
        : ''}
      ${this.connected && this.environment?.summary?.length
        ? html`<details class="card env" data-testid="demo-env">
            <summary>What this agent may do <span class="muted small">(the <code>system://env</code> resource)</span></summary>
            <ul>
              ${this.environment.summary.map((line) => html`<li>${line}</li>`)}
            </ul>
          </details>`
        : ''}
      ${this.history.length > 1
        ? html`<div class="history table-wrap">
            <table>
              <thead><tr><th>time</th><th>tool</th><th>outcome</th><th class="num">ms</th></tr></thead>
              <tbody>
                ${this.history.map(
                  (h) => html`<tr>
                    <td>${time(h.at)}</td><td>${h.tool}</td>
                    <td class=${h.ok ? 'ok' : 'error'}>${h.ok ? 'ok' : h.failed ? (h.failed.code ?? 'error') + (h.failed.details?.['rule'] ? ` · ${String(h.failed.details['rule'])}` : '') : `JSON-RPC ${h.thrown?.code ?? ''}`}</td>
                    <td class="num">${h.ms.toFixed(0)}</td>
                  </tr>`,
                )}
              </tbody>
            </table>
          </div>`
        : ''}
    `;
  }

  private renderFact(key: string, value: unknown) {
    if (key === 'retryAfterMs' && typeof value === 'number') return html`<code>${duration(value)}</code>`;
    if (typeof value === 'string') return html`<code>${value}</code>`;
    const json = JSON.stringify(value);
    return json.length > 60 ? html`<pre>${pretty(value)}</pre>` : html`<code>${json}</code>`;
  }

  private renderOutcome(o: Outcome) {
    if (o.ok) {
      return html`<div class="result succeeded" data-testid="demo-result">
        <h4 class="ok">✓ Result <span class="muted small">(${o.ms.toFixed(0)} ms)</span></h4>
        ${o.ok.texts.map((t) => html`<pre>${t}</pre>`)}
      </div>`;
    }
    if (o.failed) {
      const d = o.failed.details ?? {};
      return html`<div class="result failed" data-testid="demo-error">
        <h4><span class="code">${o.failed.code ?? 'error'}</span> — ${o.failed.message ?? 'the call failed'}</h4>
        ${Object.keys(d).length
          ? html`<dl class="facts">
              ${Object.entries(d).map(
                ([k, v]) => html`<dt>${k === 'retryAfterMs' ? 'retry after' : k}</dt>
                  <dd>${this.renderFact(k, v)}</dd>`,
              )}
            </dl>`
          : ''}
        ${o.failed.texts.length && !o.failed.message ? o.failed.texts.map((t) => html`<pre>${t}</pre>`) : ''}
      </div>`;
    }
    return html`<div class="result failed" data-testid="demo-error">
      <h4><span class="code">${o.thrown?.code != null ? `JSON-RPC ${o.thrown.code}` : 'error'}</span> — ${o.thrown?.message}</h4>
    </div>`;
  }
}

customElements.define('demo-agent', DemoAgent);
declare global {
  interface HTMLElementTagNameMap {
    'demo-agent': DemoAgent;
  }
}
