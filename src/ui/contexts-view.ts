import { LitElement, css, html, type PropertyValues } from 'lit';
import type uPlot from 'uplot';
import uPlotLib from 'uplot';
import type { AgentMetrics, AgentView } from '../client/admin';
import type { ToolStats } from '../api/admin';
import type { OpenedEntry } from '../store/audit';
import type { ContextRecord } from '../store/schema';
import { adminClient, describeError } from './admin';
import { FALLBACK_MS } from './changes';
import { conversationsByAgent, globalVariables, historyOf, levelLabel, reachingVariables, shortValue, type HistorySubject, type ReachingVariable, type SharingRule } from './contexts-model';
import { ago, dateTime, ms, time } from './format';
import { Poller } from './poller';
import { base } from './styles';
import './uplot-chart';

/** `context.change` entries read per history (the newest of them). */
const HISTORY_LIMIT = 500;
const LEVELS = ['Permissive', 'Moderate', 'Strict', 'Custom'] as const;
type LevelChoice = (typeof LEVELS)[number];

const axisFont = '11px system-ui, sans-serif';
const axis = (extra: Partial<uPlot.Axis> = {}): uPlot.Axis => ({ font: axisFont, stroke: '#64748b', grid: { stroke: '#f1f5f9' }, ticks: { stroke: '#e2e8f0' }, labelFont: axisFont, labelSize: 16, ...extra });
const COLORS = { ok: '#16a34a', error: '#dc2626', denied: '#d97706', rate: '#2563eb', p95: '#7c3aed' } as const;

/** A categorical x axis: one tick per item, labelled with its name. */
const categoryAxis = (names: () => string[]): uPlot.Axis => axis({ splits: () => names().map((_, i) => i), values: (_u, splits) => splits.map((i) => names()[i] ?? ''), grid: { show: false } });
const categoryScale = (names: () => string[]): uPlot.Scale => ({ time: false, range: () => [-0.5, Math.max(0.5, names().length - 0.5)] });

/**
 * Conversation contexts (docs/context.md): the conversations of each agent, the variables that
 * reach one with their sharing rule, the history of its changes (from the audit's
 * `context.change` entries), its security level (which the admin may set), and per-tool and
 * per-agent statistics from the aggregates kept beside the audit log, with charts.
 * `selected` is `<agent>/<conversation>` (the route `#contexts/<agent>/<conversation>`).
 */
export class ContextsView extends LitElement {
  static override styles = [
    base,
    css`
      .gap { margin-bottom: 14px; }
      .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 420px), 1fr)); gap: 14px; }
      .card h3 { font-size: 14px; }
      .head { display: flex; flex-wrap: wrap; gap: 8px 12px; align-items: center; margin-bottom: 10px; }
      .head h3 { margin: 0; font-size: 16px; }
      h4 { margin: 14px 0 6px; font-size: 13px; text-transform: uppercase; letter-spacing: 0.04em; color: var(--muted); }
      td.value { max-width: 360px; overflow-wrap: anywhere; }
      tr.shadowed td { color: var(--muted); }
      tr.shadowed td.value { text-decoration: line-through; text-decoration-color: #94a3b8; }
      .badge.Private { background: #e0e7ff; color: #3730a3; }
      .badge.SessionOnly { background: #ccfbf1; color: #115e59; }
      .badge.UserScoped { background: #fef3c7; color: #92400e; }
      .badge.Global { background: #ede9fe; color: #5b21b6; }
      .badge.level-Moderate { background: var(--warn-bg); color: var(--warn); }
      .badge.level-Strict { background: var(--bad-bg); color: var(--bad); }
      .badge.level-Custom { background: var(--info-bg); color: #3730a3; }
      .level-form { display: flex; flex-wrap: wrap; gap: 8px; align-items: end; }
      .level-form textarea { min-width: 280px; flex: 1; }
      .agent-group { margin-bottom: 4px; }
      .agent-group td.group { background: var(--soft); font-weight: 600; }
      .arrow { color: var(--muted); padding: 0 4px; }
    `,
  ];
  static override properties = {
    selected: {},
    records: { state: true },
    agents: { state: true },
    tools: { state: true },
    metrics: { state: true },
    history: { state: true },
    historyMore: { state: true },
    globalHistory: { state: true },
    variable: { state: true },
    agentFilter: { state: true },
    levelChoice: { state: true },
    customLevel: { state: true },
    levelMessage: { state: true },
    busy: { state: true },
    failure: { state: true },
    loaded: { state: true },
  };
  /** `<agent>/<conversation>`, or '' for none. */
  selected = '';
  records: ContextRecord[] = [];
  agents: AgentView[] = [];
  tools: ToolStats[] = [];
  metrics: AgentMetrics[] = [];
  /** The selected agent's newest `context.change` entries. */
  history: OpenedEntry[] = [];
  historyMore = false;
  /** The newest `context.change` entries of any agent (read while a Global variable is selected). */
  globalHistory: OpenedEntry[] = [];
  /** The variable whose history is shown (else the whole conversation's). */
  variable: { name: string; sharing: SharingRule; sessionId: string | null } | null = null;
  agentFilter = '';
  levelChoice: LevelChoice = 'Permissive';
  customLevel = '{\n  "version": 1,\n  "limits": { "memoryMb": 64 }\n}';
  levelMessage: { ok: boolean; text: string } | null = null;
  busy = false;
  failure = '';
  loaded = false;
  protected readonly poller = new Poller(this, () => this.load(), FALLBACK_MS);

  /** The selection and level the level form was last set from. */
  private syncedLevel = '';
  private toolNames: string[] = [];
  private toolData: uPlot.AlignedData = [[]];
  private agentNames: string[] = [];
  private agentCounts = { ok: [] as number[], error: [] as number[], denied: [] as number[] };
  private agentData: uPlot.AlignedData = [[]];

  /** The selection as agent and conversation, or null. */
  private selection(): { agentId: string; conversation: string } | null {
    const at = this.selected.indexOf('/');
    if (at <= 0 || at === this.selected.length - 1) return null;
    return { agentId: this.selected.slice(0, at), conversation: this.selected.slice(at + 1) };
  }

  private async load(): Promise<void> {
    const admin = await adminClient();
    const sel = this.selection();
    const wantsGlobal = this.variable?.sharing === 'Global';
    const [records, agents, tools, metrics, history, globalHistory] = await Promise.all([
      admin.request('contexts.list'),
      admin.request('agents.list'),
      admin.request('tools.stats'),
      admin.request('agents.metrics'),
      sel ? admin.request('audit.query', { filter: { event: 'context.change', agentId: sel.agentId }, limit: HISTORY_LIMIT }) : null,
      wantsGlobal ? admin.request('audit.query', { filter: { event: 'context.change' }, limit: HISTORY_LIMIT }) : null,
    ]);
    this.records = records;
    this.agents = agents;
    this.tools = tools;
    this.metrics = metrics;
    this.history = history?.entries ?? [];
    this.historyMore = !!history && history.next !== null;
    this.globalHistory = globalHistory?.entries ?? [];
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('selected')) {
      this.variable = null;
      this.levelMessage = null;
      if (changed.get('selected') !== undefined) void this.poller.refresh();
    }
    if (changed.has('selected') || changed.has('records')) {
      // The form starts from the level in force, and follows it when it changes.
      const level = this.current()?.securityLevel;
      const synced = `${this.selected}|${JSON.stringify(level ?? null)}`;
      if (synced !== this.syncedLevel) {
        this.syncedLevel = synced;
        this.levelChoice = (level?.level ?? 'Permissive') as LevelChoice;
        if (level?.level === 'Custom') this.customLevel = JSON.stringify(level.policy, null, 2);
      }
    }
    if (changed.has('tools')) {
      const ran = this.tools.filter((t) => t.invocations > 0 || t.ok + t.errors + t.denied > 0);
      this.toolNames = ran.map((t) => t.name);
      this.toolData = [ran.map((_, i) => i), ran.map((t) => (t.successRate === null ? null : Math.round(t.successRate * 1000) / 10)), ran.map((t) => t.p95Ms)];
    }
    if (changed.has('metrics')) {
      const active = this.metrics.filter((m) => m.calls > 0 || m.denied > 0);
      this.agentNames = active.map((m) => m.agentId);
      this.agentCounts = { ok: active.map((m) => m.ok), error: active.map((m) => m.errors), denied: active.map((m) => m.denied) };
      const okErr = active.map((m) => m.ok + m.errors);
      // Drawn in this order, each over the last: cumulative totals read as a stack.
      this.agentData = [active.map((_, i) => i), okErr.map((v, i) => v + active[i]!.denied), okErr, active.map((m) => m.ok)];
    }
  }

  private current(): ContextRecord | null {
    const sel = this.selection();
    if (!sel) return null;
    return this.records.find((r) => r.kind === 'conversation' && r.agentId === sel.agentId && r.conversationId === sel.conversation) ?? null;
  }

  private select(agentId: string, conversation: string): void {
    const value = `${agentId}/${conversation}`;
    location.hash = value === this.selected ? '#contexts' : `#contexts/${encodeURIComponent(agentId)}/${encodeURIComponent(conversation)}`;
  }

  private chooseVariable(v: ReachingVariable | null): void {
    this.variable = v && !(this.variable?.name === v.name && this.variable.sharing === v.sharing) ? { name: v.name, sharing: v.sharing, sessionId: v.sessionId } : null;
    if (this.variable?.sharing === 'Global') void this.poller.refresh();
  }

  private async applyLevel(record: ContextRecord): Promise<void> {
    let level: unknown = this.levelChoice;
    if (this.levelChoice === 'Custom') {
      try {
        level = { level: 'Custom', policy: JSON.parse(this.customLevel) as unknown };
      } catch (error) {
        this.levelMessage = { ok: false, text: `The policy document is not JSON: ${(error as Error).message}` };
        return;
      }
    }
    this.busy = true;
    this.levelMessage = null;
    try {
      const { securityLevel } = await (await adminClient()).request('contexts.setLevel', { agentId: record.agentId!, conversation: record.conversationId!, level });
      this.levelMessage = { ok: true, text: `Security level set to ${levelLabel(securityLevel as ContextRecord['securityLevel'])} (audited).` };
      await this.poller.refresh();
    } catch (error) {
      this.levelMessage = { ok: false, text: describeError(error) };
    } finally {
      this.busy = false;
    }
  }

  private readonly toolOptions: Omit<uPlot.Options, 'width' | 'height'> = {
    scales: { x: categoryScale(() => this.toolNames), pct: { range: [0, 100] }, ms: { range: (_u, _min, max) => [0, Math.max(1, Math.ceil((max || 0) * 1.15))] } },
    axes: [categoryAxis(() => this.toolNames), axis({ scale: 'pct', label: 'success %', size: 44 }), axis({ scale: 'ms', side: 1, label: 'p95 ms', size: 48, grid: { show: false } })],
    legend: { live: true },
    cursor: { drag: { x: false, y: false } },
    series: [
      { label: 'tool', value: (_u, v) => (v == null ? '–' : (this.toolNames[v] ?? '')) },
      { label: 'success rate', scale: 'pct', stroke: COLORS.rate, fill: COLORS.rate + '99', width: 0, paths: uPlotLib.paths.bars!({ size: [0.6, 48] }), points: { show: false }, value: (_u, v) => (v == null ? '–' : `${v} %`) },
      { label: 'p95', scale: 'ms', stroke: COLORS.p95, paths: () => null, points: { show: true, size: 9, width: 2, stroke: COLORS.p95, fill: '#fff' }, value: (_u, v) => (v == null ? '–' : `${ms(v)} ms`) },
    ],
  };

  private readonly agentOptions: Omit<uPlot.Options, 'width' | 'height'> = (() => {
    const bars = uPlotLib.paths.bars!({ size: [0.6, 48], gap: 1 });
    const series = (label: 'ok' | 'error' | 'denied'): uPlot.Series => ({ label, fill: COLORS[label], stroke: COLORS[label], width: 0, paths: bars, points: { show: false }, value: (_u, _v, _si, i) => (i == null ? '–' : String(this.agentCounts[label][i] ?? 0)) });
    return {
      scales: { x: categoryScale(() => this.agentNames), y: { range: (_u, _min, max) => [0, Math.max(4, Math.ceil((max || 0) * 1.15))] } },
      axes: [categoryAxis(() => this.agentNames), axis({ label: 'calls', size: 44 })],
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
      series: [{ label: 'agent', value: (_u, v) => (v == null ? '–' : (this.agentNames[v] ?? '')) }, series('denied'), series('error'), series('ok')],
    };
  })();

  override render() {
    const groups = conversationsByAgent(this.records);
    const names = new Map(this.agents.map((a) => [a.id, a.name]));
    const shown = [...groups].filter(([agentId]) => !this.agentFilter || agentId === this.agentFilter);
    const total = [...groups.values()].reduce((n, list) => n + list.length, 0);
    const globals = globalVariables(this.records);
    return html`
      <div class="toolbar">
        <h2>Contexts</h2>
        <span class="muted">${total} conversation${total === 1 ? '' : 's'} of ${groups.size} agent${groups.size === 1 ? '' : 's'} · ${globals.length} Global variable${globals.length === 1 ? '' : 's'}</span>
        <span class="spacer"></span>
        <label class="inline"
          >agent
          <select data-testid="contexts-agent-filter" @change=${(e: Event) => (this.agentFilter = (e.target as HTMLSelectElement).value)}>
            <option value="" ?selected=${!this.agentFilter}>all</option>
            ${[...groups.keys()].map((id) => html`<option value=${id} ?selected=${id === this.agentFilter}>${id}</option>`)}
          </select>
        </label>
      </div>
      ${this.failure ? html`<p class="notice error gap">${this.failure}</p>` : ''}
      <div class="table-wrap gap">
        <table data-testid="contexts-table">
          <thead><tr><th>conversation</th><th>started</th><th>last change</th><th class="num">variables</th><th>security level</th></tr></thead>
          ${shown.map(
            ([agentId, list]) => html`<tbody class="agent-group" data-testid="context-agent" data-agent=${agentId}>
              <tr><td class="group" colspan="5"><a href="#agents/${encodeURIComponent(agentId)}">${names.get(agentId) ?? agentId}</a> <code class="muted">${agentId}</code> · ${list.length} conversation${list.length === 1 ? '' : 's'}</td></tr>
              ${list.map((r) => {
                const isSelected = `${agentId}/${r.conversationId}` === this.selected;
                return html`<tr
                  class="clickable ${isSelected ? 'selected' : ''}"
                  data-testid="context-row"
                  data-agent=${agentId}
                  data-conversation=${r.conversationId!}
                  tabindex="0"
                  @click=${() => this.select(agentId, r.conversationId!)}
                  @keydown=${(e: KeyboardEvent) => e.key === 'Enter' && this.select(agentId, r.conversationId!)}
                >
                  <td><code>${r.conversationId}</code>${r.conversationId === r.sessionId ? html` <span class="badge" title="no conversation named: the session is the conversation">session</span>` : ''}</td>
                  <td>${dateTime(r.startedAt)}</td>
                  <td title=${dateTime(r.updatedAt)}>${ago(r.updatedAt)}</td>
                  <td class="num">${Object.keys(r.variables).length}</td>
                  <td>${this.levelBadge(r)}</td>
                </tr>`;
              })}
            </tbody>`,
          )}
        </table>
        ${this.loaded && total === 0 ? html`<p class="empty">No conversations yet. One is stored when an agent names it in a call's <code>_meta['mcp-sandbox/conversation']</code>, or writes a variable.</p>` : ''}
      </div>
      ${this.renderDetails()}
      <section class="card gap" data-testid="global-variables">
        <h3>Global variables <span class="muted small">· every agent sees them; only an admin sets them (<code>contexts.setGlobal</code>)</span></h3>
        ${globals.length ? this.variablesTable(globals, false) : html`<p class="muted small">None.</p>`}
      </section>
      <div class="grid">${this.renderToolStats()} ${this.renderAgentStats(groups)}</div>
    `;
  }

  private levelBadge(r: ContextRecord) {
    const label = levelLabel(r.securityLevel);
    return html`<span class="badge level-${r.securityLevel?.level ?? 'Permissive'}" data-testid="level-badge">${label}</span>`;
  }

  private renderDetails() {
    const sel = this.selection();
    if (!sel) return html`<p class="muted small gap">Select a conversation to see the variables that reach it, the history of its changes and its security level.</p>`;
    const record = this.current();
    if (!record) return this.loaded ? html`<p class="notice warn gap" data-testid="context-missing">Agent <code>${sel.agentId}</code> has no stored conversation <code>${sel.conversation}</code>.</p>` : '';
    const variables = reachingVariables(this.records, record);
    const subject: HistorySubject = this.variable ? { kind: 'variable', agentId: sel.agentId, conversation: sel.conversation, ...this.variable } : { kind: 'conversation', agentId: sel.agentId, conversation: sel.conversation };
    const rows = historyOf(this.variable?.sharing === 'Global' ? this.globalHistory : this.history, subject);
    return html`
      <section class="card gap" data-testid="context-details" data-agent=${sel.agentId} data-conversation=${sel.conversation}>
        <div class="head">
          <h3>Conversation <code>${sel.conversation}</code></h3>
          <span class="muted">of <a href="#agents/${encodeURIComponent(sel.agentId)}">${sel.agentId}</a></span>
          <span class="spacer"></span>
          <button @click=${() => (location.hash = '#contexts')} data-testid="context-close">Close</button>
        </div>
        <dl class="facts">
          <dt>started</dt><dd>${dateTime(record.startedAt)}</dd>
          <dt>started in session</dt><dd><code>${record.sessionId ?? '–'}</code></dd>
          <dt>last change</dt><dd>${dateTime(record.updatedAt)}</dd>
          <dt>security level</dt><dd data-testid="context-level">${this.levelBadge(record)}</dd>
        </dl>

        <h4>Security level</h4>
        <p class="muted small">Calls in this conversation run under the agent's policy narrowed by the level; it never widens it. An agent may only narrow its own; an admin may set any level, back to Permissive too. Each change is audited.</p>
        <div class="level-form">
          <label
            >level
            <select data-testid="level-select" .value=${this.levelChoice} @change=${(e: Event) => (this.levelChoice = (e.target as HTMLSelectElement).value as LevelChoice)}>
              ${LEVELS.map((l) => html`<option value=${l} ?selected=${l === this.levelChoice}>${l}</option>`)}
            </select>
          </label>
          ${this.levelChoice === 'Custom'
            ? html`<label
                >policy document (narrows only)
                <textarea class="code" rows="4" data-testid="level-custom" .value=${this.customLevel} @input=${(e: Event) => (this.customLevel = (e.target as HTMLTextAreaElement).value)}></textarea>
              </label>`
            : ''}
          <button class="primary" data-testid="level-apply" ?disabled=${this.busy} @click=${() => this.applyLevel(record)}>Set level</button>
        </div>
        ${this.levelMessage ? html`<p class="notice ${this.levelMessage.ok ? 'ok' : 'error'}" data-testid="level-message">${this.levelMessage.text}</p>` : ''}

        <h4>Variables that reach it</h4>
        <p class="muted small">Its own (Private), those of the session it started in (SessionOnly), its agent's (UserScoped) and the Global ones. Where names repeat, the most specific is the one seen; the others are struck through. Select a variable for its history.</p>
        ${variables.length ? this.variablesTable(variables, true) : html`<p class="muted small" data-testid="no-variables">No variables reach this conversation.</p>`}

        <h4>
          ${this.variable ? html`History of <code>${this.variable.name}</code> (${this.variable.sharing}) <button class="link" data-testid="history-all" @click=${() => this.chooseVariable(null)}>whole conversation</button>` : 'History of this conversation'}
        </h4>
        ${this.renderHistory(rows)}
      </section>
    `;
  }

  private variablesTable(variables: ReachingVariable[], selectable: boolean) {
    return html`<div class="table-wrap">
      <table data-testid=${selectable ? 'context-variables' : 'global-variables-table'}>
        <thead><tr><th>name</th><th>value</th><th>sharing</th><th>updated</th><th>by</th></tr></thead>
        <tbody>
          ${variables.map((v) => {
            const chosen = this.variable?.name === v.name && this.variable.sharing === v.sharing;
            return html`<tr
              class="${selectable ? 'clickable' : ''} ${v.shadowed ? 'shadowed' : ''} ${chosen ? 'selected' : ''}"
              data-testid="variable-row"
              data-name=${v.name}
              data-sharing=${v.sharing}
              tabindex=${selectable ? '0' : '-1'}
              @click=${() => selectable && this.chooseVariable(v)}
              @keydown=${(e: KeyboardEvent) => selectable && e.key === 'Enter' && this.chooseVariable(v)}
            >
              <td><code>${v.name}</code></td>
              <td class="value"><code>${shortValue(v.value, 200)}</code></td>
              <td><span class="badge ${v.sharing}" data-testid="sharing">${v.sharing}</span>${v.sessionId ? html` <span class="muted small" title=${v.sessionId}>session ${v.sessionId.slice(0, 8)}…</span>` : ''}${v.shadowed ? html` <span class="muted small">(shadowed)</span>` : ''}</td>
              <td title=${dateTime(v.updatedAt)}>${ago(v.updatedAt)}</td>
              <td>${v.updatedBy}</td>
            </tr>`;
          })}
        </tbody>
      </table>
    </div>`;
  }

  private renderHistory(rows: ReturnType<typeof historyOf>) {
    if (rows.length === 0) return html`<p class="muted small" data-testid="history-empty">No changes recorded${this.historyMore ? ' in the recent part of the log read here' : ''}.</p>${this.olderHint()}`;
    return html`<div class="table-wrap">
        <table data-testid="context-history">
          <thead><tr><th>time</th><th>change</th><th>variable</th><th>before → after</th><th>by</th><th>entry</th></tr></thead>
          <tbody>
            ${rows.map(
              (r) => html`<tr data-testid="history-row" data-seq=${r.seq} data-op=${r.op} data-outcome=${r.outcome}>
                <td class="nowrap" title=${dateTime(r.ts)}>${time(r.ts)}</td>
                <td>${r.outcome === 'denied' ? html`<span class="badge error">refused</span> <code class="small">${r.rule ?? ''}</code>` : html`<span class="badge">${r.op}</span>`}</td>
                <td>${r.op === 'level' ? html`<span class="muted">security level</span>` : r.name ? html`<code>${r.name}</code> ${r.sharing ? html`<span class="badge ${r.sharing}">${r.sharing}</span>` : ''}` : '–'}${r.conversation && r.conversation !== this.selection()?.conversation ? html` <span class="muted small">in ${r.conversation}</span>` : ''}</td>
                <td class="value">${r.sealed ? html`<span class="muted">sealed</span>` : html`<code>${shortValue(r.before)}</code><span class="arrow">→</span><code>${shortValue(r.after)}</code>`}</td>
                <td>${r.actor}${r.tool ? html` <code class="small">${r.tool}</code>` : ''}</td>
                <td><a href="#audit/${r.seq}" title="open the audit entry">#${r.seq}</a></td>
              </tr>`,
            )}
          </tbody>
        </table>
      </div>
      ${this.olderHint()}`;
  }

  /** When the history read stopped before the start of the log (a page of HISTORY_LIMIT, or the scan's bound). */
  private olderHint() {
    const sel = this.selection();
    if (!this.historyMore || !sel) return '';
    return html`<p class="muted small">Read from the recent part of this agent's log; older changes are in the <a href="#audit?agent=${encodeURIComponent(sel.agentId)}&event=context.change">Audit trail</a>.</p>`;
  }

  private renderToolStats() {
    return html`<section class="card" data-testid="tool-stats" data-tools=${this.toolNames.join(',')}>
      <h3>Per tool <span class="muted small">· from the aggregates beside the audit log</span></h3>
      ${this.toolNames.length
        ? html`<div data-testid="chart-tool-stats"><uplot-chart .options=${this.toolOptions} .data=${this.toolData} .height=${200}></uplot-chart></div>`
        : html`<p class="muted small">No tool has run yet.</p>`}
      <div class="table-wrap">
        <table data-testid="tool-stats-table">
          <thead><tr><th>tool</th><th class="num">calls</th><th class="num">success</th><th class="num">mean ms</th><th class="num">p95 ms</th><th>last used</th></tr></thead>
          <tbody>
            ${this.tools
              .filter((t) => this.toolNames.includes(t.name))
              .map(
                (t) => html`<tr data-testid="tool-stats-row" data-tool=${t.name}>
                  <td><a href="#tools/${encodeURIComponent(t.name)}">${t.name}</a></td>
                  <td class="num">${t.invocations}</td>
                  <td class="num">${t.successRate === null ? '–' : `${Math.round(t.successRate * 100)} %`}</td>
                  <td class="num">${ms(t.meanMs) || '–'}</td>
                  <td class="num">${ms(t.p95Ms) || '–'}</td>
                  <td>${t.lastUsedAt ? ago(t.lastUsedAt) : '–'}</td>
                </tr>`,
              )}
          </tbody>
        </table>
      </div>
    </section>`;
  }

  private renderAgentStats(groups: Map<string, ContextRecord[]>) {
    return html`<section class="card" data-testid="agent-stats" data-agents=${this.agentNames.join(',')}>
      <h3>Per agent <span class="muted small">· calls by outcome, from the aggregates</span></h3>
      ${this.agentNames.length
        ? html`<div data-testid="chart-agent-stats"><uplot-chart .options=${this.agentOptions} .data=${this.agentData} .height=${200}></uplot-chart></div>`
        : html`<p class="muted small">No agent has called a tool yet.</p>`}
      <div class="table-wrap">
        <table data-testid="agent-stats-table">
          <thead><tr><th>agent</th><th class="num">calls</th><th class="num">ok</th><th class="num">errors</th><th class="num">denied</th><th class="num">mean ms</th><th class="num">conversations</th></tr></thead>
          <tbody>
            ${this.metrics.map(
              (m) => html`<tr data-testid="agent-stats-row" data-agent=${m.agentId}>
                <td><a href="#agents/${encodeURIComponent(m.agentId)}">${m.agentId}</a></td>
                <td class="num">${m.calls}</td>
                <td class="num">${m.ok}</td>
                <td class="num ${m.errors ? 'error' : ''}">${m.errors}</td>
                <td class="num ${m.denied ? 'denied' : ''}">${m.denied}</td>
                <td class="num">${ms(m.meanDurationMs) || '–'}</td>
                <td class="num">${groups.get(m.agentId)?.length ?? 0}</td>
              </tr>`,
            )}
          </tbody>
        </table>
      </div>
    </section>`;
  }
}

customElements.define('contexts-view', ContextsView);
declare global {
  interface HTMLElementTagNameMap {
    'contexts-view': ContextsView;
  }
}
