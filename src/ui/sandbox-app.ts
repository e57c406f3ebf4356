import { LitElement, html } from 'lit';
import { createAdminClient, type AdminClient } from '../client/admin';
import type { ChainVerdict } from '../store/audit';
import type { AuditEntry, SessionRecord, ToolRecord } from '../store/schema';
import { base } from './styles';

type View = 'tools' | 'audit' | 'sessions';

/**
 * The person's view of the sandbox: the tool registry, sessions and the audit trail with its
 * chain verified. Reads through the admin API only.
 */
export class SandboxApp extends LitElement {
  static override styles = base;
  static override properties = {
    view: { state: true },
    tools: { state: true },
    sessions: { state: true },
    audit: { state: true },
    verdict: { state: true },
    failure: { state: true },
  };
  view: View = 'audit';
  tools: ToolRecord[] = [];
  sessions: SessionRecord[] = [];
  audit: AuditEntry[] = [];
  verdict: ChainVerdict | null = null;
  failure = '';
  private admin: AdminClient | null = null;
  private timer: ReturnType<typeof setInterval> | undefined;

  override connectedCallback(): void {
    super.connectedCallback();
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), 2000);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearInterval(this.timer);
  }

  /** The head verified so far: each refresh checks only the entries after it. */
  private verified: { seq: number; hash: string; count: number } | null = null;

  private async refresh(): Promise<void> {
    if (document.hidden) return;
    try {
      this.admin ??= await createAdminClient();
      [this.tools, this.sessions, this.audit] = await Promise.all([this.admin.request('tools.list'), this.admin.request('sessions.list'), this.admin.request('audit.tail', { limit: 200 })]);
      await this.verify(false);
      this.failure = '';
    } catch (error) {
      this.failure = (error as Error).message;
    }
  }

  /** Verifies the chain: incrementally from the last verified head, or whole when asked. */
  private async verify(whole: boolean): Promise<void> {
    if (whole) this.verified = null;
    if (this.verdict && !this.verdict.ok && !whole) return;
    const from = this.verified ? { seq: this.verified.seq, hash: this.verified.hash } : undefined;
    const verdict = await this.admin!.request('audit.verify', from ? { from } : undefined);
    if (verdict.ok) {
      const count = (this.verified?.count ?? 0) + verdict.count;
      this.verified = { seq: verdict.headSeq, hash: verdict.head, count };
      this.verdict = { ...verdict, count };
    } else {
      this.verdict = verdict;
    }
  }

  private async exportAudit(): Promise<void> {
    const text = await this.admin!.request('audit.export');
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([text], { type: 'application/jsonl' }));
    a.download = `audit-${new Date().toISOString()}.jsonl`;
    a.click();
    URL.revokeObjectURL(a.href);
  }

  override render() {
    const tab = (v: View, label: string) => html`<button aria-pressed=${this.view === v} @click=${() => (this.view = v)}>${label}</button>`;
    return html`
      <h1>Browser MCP Sandbox</h1>
      <nav>${tab('audit', 'Audit trail')} ${tab('tools', `Tools (${this.tools.length})`)} ${tab('sessions', `Sessions (${this.sessions.length})`)} <a href="/agent.html" target="_blank">Demo agent ↗</a></nav>
      ${this.failure ? html`<p class="error">${this.failure}</p>` : ''}
      ${this.view === 'audit' ? this.renderAudit() : this.view === 'tools' ? this.renderTools() : this.renderSessions()}
    `;
  }

  private renderAudit() {
    const v = this.verdict;
    return html`
      <h2>
        Audit trail
        ${v ? html`<span class="badge ${v.ok ? 'ok' : 'error'}" data-testid="chain">${v.ok ? `chain verified · ${v.count} entries` : `chain BROKEN at #${v.seq}: ${v.reason}`}</span>` : ''}
        <button @click=${() => void this.verify(true)}>Verify whole chain</button>
        <button @click=${() => void this.exportAudit()}>Export JSON Lines</button>
      </h2>
      <table>
        <thead><tr><th>#</th><th>time</th><th>event</th><th>outcome</th><th>agent</th><th>tool</th><th>ms</th><th>memory</th><th>detail</th></tr></thead>
        <tbody>
          ${[...this.audit].reverse().map(
            (e) => html`<tr>
              <td>${e.seq}</td><td>${new Date(e.ts).toLocaleTimeString()}</td><td>${e.event}</td><td class=${e.outcome}>${e.outcome}</td>
              <td>${e.agentId ?? ''}</td><td>${e.tool ?? ''}</td><td>${e.durationMs?.toFixed(1) ?? ''}</td>
              <td>${e.memoryBytes ? `${(e.memoryBytes / 1024).toFixed(0)} KiB` : ''}</td>
              <td><code>${e.error ? `${e.error.code}: ${e.error.message}` : e.args ? JSON.stringify(e.args).slice(0, 120) : ''}</code></td>
            </tr>`,
          )}
        </tbody>
      </table>`;
  }

  private renderTools() {
    return html`<table>
      <thead><tr><th>name</th><th>version</th><th>description</th><th>limits</th><th>size</th><th>sha-256</th></tr></thead>
      <tbody>${this.tools.map(
        (t) => html`<tr><td>${t.name}${t.fixture ? ' (fixture)' : ''}</td><td>${t.version}</td><td>${t.description}</td>
          <td>${t.limits.memoryMb ?? '–'} MB / ${t.limits.cpuMs ?? '–'} ms</td><td>${(t.code.size / 1024).toFixed(1)} KiB</td><td><code>${t.code.hash.slice(0, 16)}…</code></td></tr>`,
      )}</tbody></table>`;
  }

  private renderSessions() {
    return html`<table>
      <thead><tr><th>session</th><th>agent</th><th>client</th><th>calls</th><th>opened</th><th>last activity</th></tr></thead>
      <tbody>${this.sessions.map(
        (s) => html`<tr><td><code>${s.id}</code></td><td>${s.agentId}</td><td>${s.clientInfo?.name ?? ''}</td><td>${s.callCount}</td>
          <td>${new Date(s.createdAt).toLocaleString()}</td><td>${new Date(s.lastActivityAt).toLocaleString()}</td></tr>`,
      )}</tbody></table>`;
  }
}

customElements.define('sandbox-app', SandboxApp);
declare global {
  interface HTMLElementTagNameMap {
    'sandbox-app': SandboxApp;
  }
}
