import { LitElement, css, html } from 'lit';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ERROR_META_KEY } from '../client/index';
import { base } from './styles';
import { completionsUrl, runConversation, streamCompletion, toFunctionTools, type ChatMessage, type McpResultLike, type SandboxError } from './playground-model';

/** How long one tool call may take before the SDK gives up on it (the sandbox has its own deadline). */
const TOOL_TIMEOUT_MS = 10 * 60_000;
const STOP_REASON = 'stopped in the playground';

/** One line of the chat as shown. */
type Entry =
  | { kind: 'user'; text: string }
  | { kind: 'assistant'; text: string; streaming: boolean }
  | { kind: 'call'; id: string; tool: string; args: unknown; state: 'running' | 'ok' | 'failed' | 'cancelled'; result?: string; error?: SandboxError }
  | { kind: 'note'; text: string; error?: boolean };

/**
 * The agent playground: a person connects an OpenAI-compatible chat-completions endpoint
 * (base URL, model, API key — kept in this element's memory only, never stored) and chats.
 * The model sees the tools this agent may use (`tools/list`, as function definitions); every
 * call it asks for is `client.callTool` as this agent — policy-checked, sandboxed, audited —
 * and the result, a denial included, goes back to it. Stop aborts the model request and
 * cancels the tool call in flight (the SDK's `signal` → `notifications/cancelled`).
 */
export class AgentPlayground extends LitElement {
  static override styles = [
    base,
    css`
      .settings { display: grid; grid-template-columns: repeat(auto-fit, minmax(180px, 1fr)); gap: 8px; }
      .settings label { display: grid; gap: 2px; font-size: 12px; }
      input { font: inherit; font-weight: 400; padding: 4px 6px; border: 1px solid #cbd5e1; border-radius: 6px; }
      .chat { display: grid; gap: 8px; margin: 12px 0; max-height: 480px; overflow: auto; }
      .msg { border-radius: 8px; padding: 8px 10px; white-space: pre-wrap; word-break: break-word; }
      .user { background: var(--info-bg); justify-self: end; max-width: 85%; }
      .assistant { background: var(--soft); border: 1px solid var(--line); max-width: 85%; }
      .call { border: 1px solid var(--line); font-size: 12px; }
      .call[data-state='ok'] { border-color: #86efac; background: #f0fdf4; }
      .call[data-state='failed'], .call[data-state='cancelled'] { border-color: #fca5a5; background: #fff1f2; }
      .call pre { margin-top: 4px; max-height: 200px; overflow: auto; background: #fff; }
      .note { font-size: 12px; color: var(--muted); }
      .note.error { color: var(--bad); }
      textarea { width: 100%; min-height: 60px; font: inherit; padding: 6px; border: 1px solid #cbd5e1; border-radius: 6px; }
      .row { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; margin-top: 6px; }
    `,
  ];
  static override properties = {
    client: { attribute: false },
    baseUrl: { state: true },
    model: { state: true },
    maxRounds: { state: true },
    draft: { state: true },
    entries: { state: true },
    running: { state: true },
  };
  client: Client | null = null;
  baseUrl = 'http://127.0.0.1:11434/v1';
  model = '';
  maxRounds = 8;
  draft = '';
  entries: Entry[] = [];
  running = false;
  /** The API key: this element's memory only (not a reactive property, never rendered back, never stored). */
  private apiKey = '';
  private messages: ChatMessage[] = [];
  private controller: AbortController | null = null;
  private shownClient: Client | null = null;

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.controller?.abort(STOP_REASON);
  }

  protected override willUpdate(): void {
    // Another agent (a reconnect): a new conversation, since the tools it may use differ.
    if (this.client !== this.shownClient) {
      this.controller?.abort(STOP_REASON);
      this.shownClient = this.client;
      this.messages = [];
      this.entries = [];
    }
  }

  private update_(entry: Entry | ((e: Entry[]) => Entry[])): void {
    this.entries = typeof entry === 'function' ? entry(this.entries) : [...this.entries, entry];
  }

  private async send(): Promise<void> {
    const text = this.draft.trim();
    const client = this.client;
    if (!text || !client || this.running) return;
    if (!this.model.trim() || !this.baseUrl.trim()) {
      this.update_({ kind: 'note', text: 'Give the endpoint’s base URL and a model first.', error: true });
      return;
    }
    const controller = new AbortController();
    this.controller = controller;
    this.running = true;
    this.draft = '';
    this.update_({ kind: 'user', text });
    const messages = this.messages;
    messages.push({ role: 'user', content: text });
    try {
      // Fresh each message: a grant or revoke since the last one shows here.
      const { tools } = await client.listTools(undefined, { signal: controller.signal });
      const mapping = toFunctionTools(tools);
      const url = completionsUrl(this.baseUrl);
      let current: Extract<Entry, { kind: 'assistant' }> | null = null;
      await runConversation(messages, {
        toMcp: mapping.toMcp,
        maxRounds: this.maxRounds,
        signal: controller.signal,
        complete: (msgs, onText) =>
          streamCompletion((u, init) => fetch(u, init), { url, model: this.model.trim(), apiKey: this.apiKey, messages: msgs, tools: mapping.tools, signal: controller.signal, onText }),
        callTool: (name, args) => client.callTool({ name, arguments: args }, undefined, { signal: controller.signal, timeout: TOOL_TIMEOUT_MS, resetTimeoutOnProgress: true }) as Promise<McpResultLike>,
        onEvent: (event) => {
          if (event.kind === 'text') {
            if (!current) {
              current = { kind: 'assistant', text: '', streaming: true };
              this.update_(current);
            }
            current.text += event.text;
            this.update_((e) => [...e]);
          } else if (event.kind === 'assistant') {
            if (current) current.streaming = false;
            current = null;
            this.update_((e) => [...e]);
          } else if (event.kind === 'tool-call') {
            this.update_({ kind: 'call', id: event.id, tool: event.tool, args: event.args, state: 'running' });
          } else if (event.kind === 'tool-result') {
            const info = event.result._meta?.[ERROR_META_KEY] as SandboxError | undefined;
            this.update_((e) =>
              e.map((x) =>
                x.kind === 'call' && x.id === event.id && x.state === 'running'
                  ? { ...x, state: event.result.isError ? 'failed' : 'ok', result: event.content, ...(info ? { error: info } : {}) }
                  : x,
              ),
            );
          } else if (event.kind === 'rounds-exhausted') {
            this.update_({ kind: 'note', text: `Stopped after ${event.rounds} rounds of tool calls (the limit per message).` });
          }
        },
      });
    } catch (error) {
      if (controller.signal.aborted) {
        this.update_((e) => e.map((x) => (x.kind === 'call' && x.state === 'running' ? { ...x, state: 'cancelled' } : x.kind === 'assistant' ? { ...x, streaming: false } : x)));
        this.update_({ kind: 'note', text: 'Stopped.' });
      } else {
        this.update_({ kind: 'note', text: describe(error), error: true });
      }
      // Keep the history valid for the next message: drop a dangling assistant turn whose calls got no answer.
      repair(messages);
    } finally {
      if (this.controller === controller) this.controller = null;
      this.running = false;
    }
  }

  private stop(): void {
    this.controller?.abort(STOP_REASON);
  }

  private clear(): void {
    this.stop();
    this.messages = [];
    this.entries = [];
  }

  override render() {
    return html`
      <div class="settings">
        <label>Base URL (OpenAI-compatible)
          <input data-testid="pg-url" .value=${this.baseUrl} @input=${(e: Event) => (this.baseUrl = (e.target as HTMLInputElement).value)} placeholder="http://127.0.0.1:11434/v1" />
        </label>
        <label>Model
          <input data-testid="pg-model" .value=${this.model} @input=${(e: Event) => (this.model = (e.target as HTMLInputElement).value)} placeholder="llama3.2" />
        </label>
        <label>API key <span class="muted">(this page's memory only)</span>
          <input data-testid="pg-key" type="password" autocomplete="off" @input=${(e: Event) => (this.apiKey = (e.target as HTMLInputElement).value)} />
        </label>
        <label>Tool rounds per message
          <input data-testid="pg-rounds" type="number" min="1" max="50" .value=${String(this.maxRounds)} @input=${(e: Event) => (this.maxRounds = Math.max(1, Math.min(50, Number((e.target as HTMLInputElement).value) || 1)))} />
        </label>
      </div>
      <div class="chat" data-testid="pg-chat" role="log" aria-live="polite" tabindex="0" aria-label="conversation">
        ${this.entries.length === 0 ? html`<p class="note">The model sees the tools this agent may use; each call it makes runs in the sandbox as this agent and is in the audit trail.</p>` : ''}
        ${this.entries.map((e) => this.renderEntry(e))}
      </div>
      <label class="small">Message
        <textarea
          data-testid="pg-input"
          .value=${this.draft}
          @input=${(e: Event) => (this.draft = (e.target as HTMLTextAreaElement).value)}
          @keydown=${(e: KeyboardEvent) => {
            if (e.key === 'Enter' && !e.shiftKey) {
              e.preventDefault();
              void this.send();
            }
          }}
        ></textarea>
      </label>
      <div class="row">
        <button class="primary" data-testid="pg-send" ?disabled=${this.running || !this.client} @click=${() => void this.send()}>Send</button>
        <button data-testid="pg-stop" ?disabled=${!this.running} @click=${() => this.stop()}>Stop</button>
        <button ?disabled=${this.running} @click=${() => this.clear()}>New conversation</button>
        <span class="muted small" data-testid="pg-state">${this.running ? 'working…' : ''}</span>
      </div>
    `;
  }

  private renderEntry(e: Entry) {
    switch (e.kind) {
      case 'user':
        return html`<div class="msg user" data-testid="pg-user">${e.text}</div>`;
      case 'assistant':
        return html`<div class="msg assistant" data-testid="pg-assistant" data-streaming=${String(e.streaming)}>${e.text}</div>`;
      case 'note':
        return html`<div class="note ${e.error ? 'error' : ''}" data-testid="pg-note">${e.text}</div>`;
      case 'call':
        return html`<div class="msg call" data-testid="pg-call" data-tool=${e.tool} data-state=${e.state} data-code=${e.error?.code ?? ''}>
          <strong>${e.tool}</strong> <span class="muted">${e.state === 'running' ? 'running…' : e.state}${e.error?.code ? ` · ${e.error.code}` : ''}${e.error?.details?.['rule'] ? ` · ${String(e.error.details['rule'])}` : ''}</span>
          <pre>${JSON.stringify(e.args)}</pre>
          ${e.result !== undefined ? html`<pre data-testid="pg-call-result">${e.result}</pre>` : ''}
        </div>`;
    }
  }
}

function describe(error: unknown): string {
  const message = (error as Error)?.message ?? String(error);
  // A fetch the page's CSP (connect-src) or CORS refused only says "Failed to fetch".
  if (error instanceof TypeError && /fetch/i.test(message)) return `Could not reach the model endpoint (${message}). This page may connect to loopback endpoints only (its CSP), and the endpoint must allow this origin (CORS).`;
  return message;
}

/** After a stop or an error: no assistant turn may be left with tool calls not all answered. */
function repair(messages: ChatMessage[]): void {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!;
    if (m.role === 'assistant' && m.tool_calls?.length) {
      const answered = new Set(messages.slice(i + 1).flatMap((x) => (x.role === 'tool' ? [x.tool_call_id] : [])));
      if (m.tool_calls.every((c) => answered.has(c.id))) return;
      messages.splice(i);
      return;
    }
    if (m.role === 'assistant') return;
  }
}

customElements.define('agent-playground', AgentPlayground);
declare global {
  interface HTMLElementTagNameMap {
    'agent-playground': AgentPlayground;
  }
}
