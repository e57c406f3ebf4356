import { LitElement, css, html, type PropertyValues } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import type { AuditEntry, AuditEvent, AuditOutcome } from '../store/schema';
import type { ReplayResult } from '../api/admin';
import type { ChartWindowData } from '../store/aggregate-window';
import { adminClient, adminClientNow, describeError } from './admin';
import { followChanges } from './changes';
import type { ChainVerifier } from './chain-verifier';
import { bytes, entrySummary, ms, time } from './format';
import { base } from './styles';
import './audit-details';
import './audit-retention';
import './audit-replay';
import { callRows, type CallRow } from './call-rows';
import { pinnedSeqs } from './pins';
import { csvHeader, csvRows, segmentLines } from './trail-export';
import { ALL, chartSpan, isBounded, parseRange, PRESETS, rangeLabel, rangeParams, resolveRange, storedRange, storeRange, type RangePreset, type TimeRange } from './time-range';
import './chain-badge';

/**
 * Entries the first load reads: first a screen of them (the rows show as soon as they come),
 * then, once those are drawn, the rest of FIRST_LOAD. Later polls read a short tail and append it.
 */
const FIRST_SCREEN = 100;
const FIRST_LOAD = 1000;
/** The rest of the first load is read once the view has not changed nor scrolled for this long. */
const FILL_REST_MS = 300;
const POLL_LOAD = 200;
/** Entries kept in memory at most (the oldest are dropped). */
const KEEP = 3000;

const FILTERS = ['agent', 'event', 'outcome', 'tool'] as const;
/** Entries a "Load older" page reads from the whole log. */
const OLDER_PAGE = 200;
/** Entries the first page of a filter or a search reads: the view's rows and some more. */
const FIRST_PAGE = 60;
/**
 * The table is virtualised: it renders the rows in view and OVERSCAN above and below them (at
 * least MIN_RENDERED rows), with spacers for the rest, however many are loaded. Rows have one
 * height (one line each), measured from the first one rendered.
 */
const OVERSCAN = 20;
const MIN_RENDERED = 60;
const ROW_HEIGHT = 29;
/** Older pages are read when the view comes within this many rows of the end. */
const LOAD_AHEAD_ROWS = 40;
/** The charts are redrawn once what they show has not changed for this long, and the table has not scrolled for CHART_SCROLL_REST_MS. */
const CHART_SETTLE_MS = 250;
const CHART_SCROLL_REST_MS = 300;
/** The search box waits this long after the last keystroke. */
const SEARCH_DEBOUNCE_MS = 150;
/** `beforeSeq` of a first page read from the newest entry (a search does not start from the tail). */
const FROM_NEWEST = Number.MAX_SAFE_INTEGER;
/** Every event and outcome (store/schema.ts), offered whether or not the rows loaded show them. */
const EVENTS = ['call.request', 'call.result', 'call.rejected', 'call.interrupted', 'call.capability', 'session.open', 'session.refused', 'resource.read', 'context.change', 'admin'];
const OUTCOMES = ['pending', 'ok', 'error', 'denied', 'interrupted', 'cancelled', 'info'];
type Filter = (typeof FILTERS)[number];
/** Two `chartKey`s are the same when each part is the same object or value. */
const sameKey = (a: readonly unknown[] | null | undefined, b: readonly unknown[]): boolean => !!a && a.length === b.length && a.every((k, i) => k === b[i]);
type Filters = Record<Filter, string>;

const field: Record<Filter, (e: AuditEntry) => string> = {
  agent: (e) => e.agentId ?? '',
  event: (e) => e.event,
  outcome: (e) => e.outcome,
  tool: (e) => e.tool ?? '',
};

/**
 * The audit trail: the newest entries with filters, a details panel for the selected entry,
 * charts of the last hour, and the hash chain's verdict (checked incrementally, or whole on
 * request). Filters and the selected entry live in the URL hash (`#audit/<seq>?agent=…`).
 */
export class AuditView extends LitElement {
  static override styles = [
    base,
    css`
      audit-charts, audit-retention, audit-replay { display: block; margin-bottom: 14px; }
      a.replay-of { font-size: 12px; margin-right: 4px; }
      tr.broken td { background: #fee2e2; }
      tr.broken td:first-child { box-shadow: inset 4px 0 0 var(--bad); }
      /* On a phone the charts would fill the screen before the first row: folded there. */
      details.charts > summary { cursor: pointer; color: var(--muted); font-size: 13px; margin-bottom: 6px; }
      /* The charts' place while they wait for the rows (drawn a moment after them): the table does not move. */
      .charts-pending { height: 236px; margin-bottom: 14px; }
      .filters { display: flex; flex-wrap: wrap; gap: 8px; align-items: end; margin-bottom: 10px; }
      .filters select { min-width: 130px; }
      .body { display: grid; grid-template-columns: minmax(0, 1fr); gap: 14px; align-items: start; }
      .body.with-details { grid-template-columns: minmax(0, 1fr) minmax(320px, 420px); }
      .table-wrap { max-height: 70vh; }
      td.summary { max-width: 360px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
      tbody td { white-space: nowrap; }
      tr.spacer td { padding: 0; border: 0; }
      input.search { min-width: 240px; }
      td.when, td.nowrap { white-space: nowrap; }
      audit-details { position: sticky; top: 56px; max-height: calc(100vh - 72px); overflow: auto; }
      .with-details .hide-details { display: none; }
      @media (max-width: 1100px) {
        .body.with-details { grid-template-columns: minmax(0, 1fr); }
        audit-details { position: static; max-height: none; }
      }
      @media (max-width: 760px) {
        .hide-narrow { display: none; }
      }
    `,
  ];
  static override properties = {
    verifier: { attribute: false },
    selectedSeq: { attribute: false },
    query: {},
    entries: { state: true },
    filters: { state: true },
    failure: { state: true },
    loaded: { state: true },
    now: { state: true },
    retention: { state: true },
    older: { state: true },
    olderNext: { state: true },
    olderLoading: { state: true },
    known: { state: true },
    byCall: { state: true },
    pinnedOnly: { state: true },
    extra: { state: true },
    pinned: { state: true },
    range: { state: true },
    replay: { state: true },
    text: { state: true },
    searchInfo: { state: true },
    windowStart: { state: true },
    chart: { state: true },
  };
  /** The search box's text (in the hash as `q`): entries of the whole log holding its words, from the search index. */
  text = '';
  /** What the last search page said of the index (its coverage; a prefix too broad). */
  searchInfo: { pendingThrough: number; broad: boolean; prefix: string | null } | null = null;
  /** Pages read from the whole log since the view opened (`data-pages`, for measures). */
  private pagesRead = 0;
  /** The first row rendered (the table is virtualised). */
  windowStart = 0;
  /** Rows the table's viewport shows, and their height, as last measured. */
  private viewportRows = 20;
  private rowHeight = ROW_HEIGHT;
  private scrollFrame = 0;
  private searchTimer: ReturnType<typeof setTimeout> | null = null;
  /** The rows of the last render and what they were computed from (recomputed only when that changes). */
  private rowsCache: { key: unknown[]; rows: CallRow[]; count: number } | null = null;
  /** Each filter's options, kept while the entries and the registered names are the same. */
  private readonly optionCache = new Map<Filter, { entries: AuditEntry[]; fixed: readonly string[]; values: string[] }>();
  /** What the charts draw (read from the aggregates' time buckets), and what it was asked for (`scheduleChart`: after the rows). */
  chart: { key: unknown[]; data: ChartWindowData } | null = null;
  private chartTimer: ReturnType<typeof setTimeout> | null = null;
  /** What the charts' window was last asked for (`chartKey`): not asked twice. */
  private chartAsked: unknown[] | null = null;
  /** When the table last scrolled (performance.now()). */
  private lastScroll = -Infinity;
  /** When the filters, the range or the search last changed (performance.now()). */
  private lastChange = -Infinity;
  /** The time range the rows, the older pages and the charts follow (in the hash, and kept for the next visit). */
  range: TimeRange = ALL;
  /** The replay panel: the call being replayed, its result once there, or why it was refused. */
  replay: { callId: string; result: ReplayResult | null; failure: string } | null = null;
  /** Entries opened by seq (a link, the broken one) that the loaded pages do not hold. */
  extra: AuditEntry[] = [];
  private readonly onVerdict = () => this.requestUpdate();
  /** Only the pinned entries are shown (read by seq, wherever they are in the log). */
  pinnedOnly = false;
  pinned: AuditEntry[] = [];
  private readonly onPins = () => void (this.pinnedOnly ? this.loadPinned() : this.requestUpdate());
  /** One row per call (request, capability uses, outcome folded) instead of one per entry. */
  byCall = false;
  /**
   * Entries of the whole log older than the tail (`entries`), matching the filters, newest
   * first, read page by page from the service worker's indexes (`audit.query`).
   */
  older: AuditEntry[] = [];
  /** Where the next older page starts (null: the log has no more). */
  olderNext: number | null = null;
  olderLoading = false;
  /** Registered agents and tools, offered as filters even when no loaded row names them. */
  known: { agent: string[]; tool: string[] } = { agent: [], tool: [] };
  /** The filters the `older` pages were read for. */
  private olderFor = '';
  /** The retention panel is open. */
  retention = false;
  verifier: ChainVerifier | null = null;
  selectedSeq: number | null = null;
  /** The hash's query part: `agent=…&event=…&outcome=…&tool=…`. */
  query = '';
  entries: AuditEntry[] = [];
  filters: Filters = { agent: '', event: '', outcome: '', tool: '' };
  failure = '';
  loaded = false;
  now = Date.now();
  private stop: (() => void) | undefined;

  override connectedCallback(): void {
    super.connectedCallback();
    // The registered agents and tools (the dropdowns' options) are read after the first rows.
    void this.refresh().then(() => this.loadKnown());
    addEventListener('audit-pins', this.onPins);
    this.watched?.addEventListener('change', this.onVerdict);
    // New entries are read when the service worker says the log grew (and every 30 s besides).
    this.stop = followChanges(() => this.refresh());
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.stop?.();
    if (this.chartTimer !== null) clearTimeout(this.chartTimer);
    this.chartTimer = null;
    removeEventListener('audit-pins', this.onPins);
    this.watched?.removeEventListener('change', this.onVerdict);
  }

  protected override updated(changed: PropertyValues<this>): void {
    // The charts' code (uPlot) loads once the first rows are drawn: none of it is on a cold open's path.
    if (changed.has('loaded') && this.loaded) void import('./audit-charts').catch(() => undefined);
    this.scheduleChart();
    if (!changed.has('selectedSeq')) return;
    if (this.selectedSeq != null && this.loaded) void this.loadSelected(this.selectedSeq);
    const before = changed.get('selectedSeq') as number | null | undefined;
    if (this.selectedSeq != null) {
      const details = this.renderRoot.querySelector('audit-details');
      // In the one-column layout the details sit below the table: bring them into view.
      if (matchMedia('(max-width: 1100px)').matches) details?.scrollIntoView({ behavior: 'smooth', block: 'start' });
      // Opening the panel moves focus into it (keyboard and screen-reader users land on it).
      if (before == null) void details?.updateComplete.then(() => details.focusPanel());
    } else if (before != null) {
      // Closing returns focus to the row it was opened from.
      (this.renderRoot.querySelector(`[data-testid="audit-row"][data-seq="${before}"]`) as HTMLElement | null)?.focus();
    }
  }

  /** The verifier whose verdict the rows show (the broken one highlighted). */
  private watched: ChainVerifier | null = null;

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (this.watched !== this.verifier) {
      this.watched?.removeEventListener('change', this.onVerdict);
      this.verifier?.addEventListener('change', this.onVerdict);
      this.watched = this.verifier;
    }
    if (changed.has('query')) {
      const q = new URLSearchParams(this.query);
      this.filters = Object.fromEntries(FILTERS.map((f) => [f, q.get(f) ?? ''])) as Filters;
      this.text = q.get('q') ?? '';
      // The hash's range, else the one chosen last (then written into the hash, which names the view).
      const named = parseRange(q);
      this.range = named ?? storedRange();
      if (named) storeRange(named);
      else if (isBounded(this.range)) history.replaceState(null, '', this.hashFor(this.selectedSeq, this.filters));
    }
    // Filtered: the first older page is read at once, so an agent that called long ago shows up.
    if ((changed.has('filters') || changed.has('range') || changed.has('loaded') || changed.has('text')) && this.loaded && this.olderFor !== this.filterKey()) {
      this.older = [];
      this.searchInfo = null;
      // Nothing is older than entry #1 (after an archive, the first page finds that out). A
      // search reads its pages from the newest entry on: the tail is not what it shows.
      this.olderNext = this.searching() ? FROM_NEWEST : this.entries[0] && this.entries[0].seq > 1 ? this.entries[0].seq : null;
      this.olderFor = this.filterKey();
      this.lastChange = performance.now();
      this.windowStart = 0;
      const wrap = this.renderRoot.querySelector('.table-wrap');
      if (wrap) wrap.scrollTop = 0;
      if (FILTERS.some((f) => this.filters[f]) || isBounded(this.range) || this.searching()) void this.loadOlder();
    }
  }

  private filterKey(): string {
    return JSON.stringify([this.filters, rangeParams(this.range), this.searching() ? this.text.trim() : '']);
  }

  /** Whether anything filters the rows: a field, a bounded time range, a search. */
  private filtered(): boolean {
    return FILTERS.some((f) => this.filters[f]) || isBounded(this.range) || this.searching();
  }

  /** Whether the search box holds a word to search for (two characters or more). */
  private searching(): boolean {
    return /[\p{L}\p{N}]{2}/u.test(this.text);
  }

  /** The query filter for the whole log: the filters and the range's bounds now. */
  private queryFilter() {
    const { from, to } = resolveRange(this.range, Date.now());
    return { agentId: this.filters.agent, tool: this.filters.tool, event: this.filters.event as AuditEvent, outcome: this.filters.outcome as AuditOutcome, ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}), ...(this.searching() ? { text: this.text.trim() } : {}) };
  }

  private showPinned(on: boolean): void {
    this.pinnedOnly = on;
    if (on) void this.loadPinned();
  }

  private async loadPinned(): Promise<void> {
    try {
      const admin = await adminClient();
      this.pinned = (await admin.request('audit.entries', { seqs: pinnedSeqs() })).sort((a, b) => a.seq - b.seq);
    } catch (error) {
      this.failure = describeError(error);
    }
  }

  /** An entry opened by seq that no loaded page holds is read on its own. */
  private async loadSelected(seq: number): Promise<void> {
    if ([...this.entries, ...this.older, ...this.pinned, ...this.extra].some((e) => e.seq === seq)) return;
    try {
      const [entry] = await (await adminClient()).request('audit.entries', { seqs: [seq] });
      if (entry && !this.extra.some((e) => e.seq === seq)) this.extra = [...this.extra, entry];
    } catch (error) {
      this.failure = describeError(error);
    }
  }

  private async loadKnown(): Promise<void> {
    try {
      const admin = await adminClient();
      const [agents, tools] = await Promise.all([admin.request('agents.list'), admin.request('tools.list')]);
      this.known = { agent: agents.map((a) => a.id), tool: tools.map((t) => t.name) };
    } catch {
      // the options then come from the rows loaded
    }
  }

  /** Reads the next page of older matching entries from the whole log. */
  private async loadOlder(): Promise<void> {
    const key = this.filterKey();
    if (this.olderNext === null || this.olderLoading) return;
    this.olderLoading = true;
    try {
      // A filter's or a search's first page is asked for before the view renders the change.
      const admin = adminClientNow() ?? (await adminClient());
      // The first page only fills the view and a little more (it answers a filter or a search
      // sooner); the next ones are read as the person scrolls towards the end.
      const page = await admin.request('audit.query', { filter: this.queryFilter(), beforeSeq: this.olderNext, limit: this.older.length === 0 && this.filtered() ? FIRST_PAGE : OLDER_PAGE });
      if (key !== this.filterKey()) return;
      this.older = [...this.older, ...page.entries];
      this.olderNext = page.next;
      this.pagesRead++;
      if (page.search) this.searchInfo = { pendingThrough: page.search.pendingThrough, broad: page.search.broad, prefix: page.search.prefix };
      // A page that found nothing in its read budget goes on by itself (a rare match far back).
      if (page.entries.length === 0 && page.next !== null) setTimeout(() => void this.loadOlder(), 0);
    } catch (error) {
      this.failure = describeError(error);
    } finally {
      this.olderLoading = false;
      // The filters or the words changed while this page was read: the new ones' first page now.
      if (key !== this.filterKey() && this.older.length === 0 && this.olderNext !== null && this.filtered()) void this.loadOlder();
    }
  }

  private async refresh(): Promise<void> {
    if (document.hidden) return;
    try {
      const admin = await adminClient();
      const first = !this.loaded;
      const tail = await admin.request('audit.tail', { limit: first ? FIRST_SCREEN : POLL_LOAD });
      // What the view holds now, not before the request: two refreshes may be in flight at once
      // (a change notice while one is read), and the second must not add the first's entries again.
      const last = this.entries.at(-1)?.seq ?? 0;
      const fresh = tail.filter((e) => e.seq > last);
      // A gap (more new entries than one poll reads) restarts from the fetched tail.
      const contiguous = this.loaded && (fresh.length === 0 || fresh[0]!.seq === last + 1);
      if (!this.loaded || !contiguous) {
        this.entries = tail;
        // The tail moved on past what the older pages continued from: they are read again.
        this.olderFor = '';
      }
      else if (fresh.length > 0) this.entries = [...this.entries, ...fresh].slice(-KEEP);
      this.now = Date.now();
      this.failure = '';
      if (first && tail.length === FIRST_SCREEN) void this.fillFirstLoad();
    } catch (error) {
      this.failure = describeError(error);
    } finally {
      this.loaded = true;
    }
  }

  /**
   * The rest of the first load (FIRST_LOAD entries), read once the first screen of rows is drawn,
   * and put before it. What an unfiltered view reads older pages from moves back with it.
   */
  private async fillFirstLoad(): Promise<void> {
    await this.updateComplete;
    // Once the view has rested: a filter, a search or a scroll the person started meanwhile is
    // answered first (the service worker reads and sends one request at a time's worth of work).
    while (this.isConnected && (this.olderLoading || performance.now() - Math.max(this.lastScroll, this.lastChange) < FILL_REST_MS)) await new Promise((resolve) => setTimeout(resolve, FILL_REST_MS / 3));
    if (!this.isConnected) return;
    try {
      const tail = await (await adminClient()).request('audit.tail', { limit: FIRST_LOAD });
      const oldest = this.entries[0]?.seq;
      if (oldest === undefined) return;
      const before = tail.filter((e) => e.seq < oldest);
      if (before.length === 0) return;
      this.entries = [...before, ...this.entries].slice(-KEEP);
      // Unfiltered, older pages continue below the tail (none was read yet, or only entries the tail now holds).
      if (!this.filtered() && !this.olderLoading && this.older.every((e) => e.seq >= before[0]!.seq)) {
        this.older = [];
        this.olderNext = before[0]!.seq > 1 ? before[0]!.seq : null;
      }
    } catch (error) {
      this.failure = describeError(error);
    }
  }

  private hashFor(seq: number | null, filters: Filters = this.filters): string {
    const q = new URLSearchParams([...FILTERS.filter((f) => filters[f]).map((f): [string, string] => [f, filters[f]]), ...rangeParams(this.range), ...(this.text ? [['q', this.text] as [string, string]] : [])]).toString();
    return `#audit${seq != null ? `/${seq}` : ''}${q ? `?${q}` : ''}`;
  }

  private setFilter(name: Filter, value: string): void {
    this.filters = { ...this.filters, [name]: value };
    history.replaceState(null, '', this.hashFor(this.selectedSeq));
  }

  private clearFilters(): void {
    this.filters = { agent: '', event: '', outcome: '', tool: '' };
    this.text = '';
    history.replaceState(null, '', this.hashFor(this.selectedSeq));
  }

  /** The search box changed: searched for once typing pauses. */
  private typed(value: string): void {
    if (this.searchTimer !== null) clearTimeout(this.searchTimer);
    this.searchTimer = setTimeout(() => {
      this.searchTimer = null;
      this.text = value;
      history.replaceState(null, '', this.hashFor(this.selectedSeq));
    }, SEARCH_DEBOUNCE_MS);
  }

  /** The table scrolled: the rows in view are rendered (once a frame at most), and older pages read near the end. */
  private onScroll(): void {
    this.lastScroll = performance.now();
    if (this.scrollFrame) return;
    this.scrollFrame = requestAnimationFrame(() => {
      this.scrollFrame = 0;
      const wrap = this.renderRoot.querySelector<HTMLElement>('.table-wrap');
      if (!wrap) return;
      this.measure(wrap);
      const first = Math.floor(wrap.scrollTop / this.rowHeight);
      const start = Math.max(0, first - OVERSCAN);
      // A new window only when the rows in view come near the edge of the one rendered.
      if (first < this.windowStart + OVERSCAN / 2 || first + this.viewportRows > this.windowStart + this.windowSize() - OVERSCAN / 2) this.windowStart = start;
      const total = this.rowsCache?.rows.length ?? 0;
      if (first + this.viewportRows >= total - LOAD_AHEAD_ROWS && this.olderNext !== null && !this.olderLoading && !this.pinnedOnly) void this.loadOlder();
    });
  }

  private measure(wrap: HTMLElement): void {
    const row = wrap.querySelector<HTMLElement>('tr[data-testid="audit-row"]');
    if (row && row.offsetHeight > 0) this.rowHeight = row.offsetHeight;
    this.viewportRows = Math.max(1, Math.ceil(wrap.clientHeight / this.rowHeight));
  }

  private windowSize(): number {
    return Math.max(MIN_RENDERED, this.viewportRows + 2 * OVERSCAN);
  }

  /** Arrow keys move between rows, rendering the next one first when it is outside the window. */
  private async moveFocus(index: number, delta: number): Promise<void> {
    const target = index + delta;
    const total = this.rowsCache?.rows.length ?? 0;
    if (target < 0 || target >= total) return;
    const wrap = this.renderRoot.querySelector<HTMLElement>('.table-wrap');
    if (!wrap) return;
    if (target < this.windowStart || target >= this.windowStart + this.windowSize()) {
      this.windowStart = Math.max(0, target - OVERSCAN);
      await this.updateComplete;
    }
    const row = wrap.querySelector<HTMLElement>(`tr[data-testid="audit-row"][data-index="${target}"]`);
    row?.focus({ preventScroll: true });
    row?.scrollIntoView({ block: 'nearest' });
  }

  override firstUpdated(): void {
    const wrap = this.renderRoot.querySelector<HTMLElement>('.table-wrap');
    if (wrap) this.measure(wrap);
  }

  private select(seq: number | null): void {
    location.hash = this.hashFor(seq);
  }

  /** Picks a time range: the rows, the older pages and the charts follow; kept in the hash and for the next visit. */
  private setRange(range: TimeRange): void {
    this.range = range;
    this.now = Date.now();
    storeRange(range);
    history.replaceState(null, '', this.hashFor(this.selectedSeq));
  }

  private pickPreset(preset: RangePreset): void {
    if (preset !== 'custom') return this.setRange({ preset });
    // A custom range starts as the bounds the range had (the last hour when it had none).
    const { from, to } = resolveRange(this.range, Date.now());
    this.setRange({ preset, from: from ?? Date.now() - 3_600_000, ...(to !== undefined ? { to } : {}) });
  }

  private setBound(which: 'from' | 'to', value: string): void {
    const t = value ? new Date(value).getTime() : NaN;
    const next: TimeRange = { ...this.range, preset: 'custom' };
    if (Number.isFinite(t)) next[which] = t;
    else delete next[which];
    this.setRange(next);
  }

  /** Re-runs a call as its agent under its policy now (`audit.replay`) and shows both results side by side. */
  private async replayCall(callId: string): Promise<void> {
    this.replay = { callId, result: null, failure: '' };
    try {
      const result = await (await adminClient()).request('audit.replay', { callId });
      if (this.replay?.callId === callId) this.replay = { callId, result, failure: '' };
      await this.refresh();
    } catch (error) {
      if (this.replay?.callId === callId) this.replay = { callId, result: null, failure: describeError(error) };
    }
  }

  /** Opens the first entry of a call (the original of a replay), read from the log when no loaded page holds it. */
  private async openCall(callId: string): Promise<void> {
    const loaded = [...this.entries, ...this.older, ...this.pinned, ...this.extra].filter((e) => e.callId === callId).sort((a, b) => a.seq - b.seq)[0];
    if (loaded) return this.select(loaded.seq);
    try {
      const [first] = await (await adminClient()).request('audit.call', { callId, limit: 1 });
      if (!first) {
        this.failure = `call ${callId} is no longer in the browser's log (archived)`;
        return;
      }
      if (!this.extra.some((e) => e.seq === first.seq)) this.extra = [...this.extra, first];
      this.select(first.seq);
    } catch (error) {
      this.failure = describeError(error);
    }
  }

  /** The oldest entries left the browser: what is shown starts again from the log's tail. */
  private afterPrune(): void {
    this.loaded = false;
    this.entries = [];
    this.older = [];
    this.olderFor = '';
    void this.refresh();
  }

  /** Takes back an agent's settings change (audited as a revert of its entry), then shows the new entry. */
  private async revert(change: { agentId: string; before: Record<string, unknown>; seq: number }): Promise<void> {
    try {
      const admin = await adminClient();
      await admin.request('agents.update', { id: change.agentId, ...change.before, revertOf: change.seq });
      await this.refresh();
      const entry = [...this.entries].reverse().find((e) => e.event === 'admin' && e.details?.['revertOf'] === change.seq);
      if (entry) this.select(entry.seq);
    } catch (error) {
      this.failure = describeError(error);
    }
  }

  private async verifyWhole(): Promise<void> {
    try {
      await this.verifier?.check(true);
    } catch (error) {
      this.failure = describeError(error);
    }
  }

  /**
   * Downloads the whole log as the service worker streams it (audit/export.jsonl): the file is
   * written as it is read, so memory stays bounded whatever the log's size.
   */
  private exportAudit(): void {
    const link = document.createElement('a');
    link.href = new URL('audit/export.jsonl', new URL(import.meta.env.BASE_URL, location.origin)).href;
    link.download = `audit-${new Date().toISOString()}.jsonl`;
    link.click();
  }

  /**
   * Downloads exactly the entries the view shows with its filters (or the pinned ones), read from
   * the whole log page by page, newest first, as JSON Lines or CSV. Sealed fields appear opened,
   * as in the view: a file whose hashes verify is the whole-log export.
   */
  private async exportView(format: 'jsonl' | 'csv' | 'segment'): Promise<void> {
    try {
      const admin = await adminClient();
      const parts: string[] = format === 'csv' ? [csvHeader()] : [];
      const matched: number[] = [];
      const write = (entries: AuditEntry[]) => {
        if (format === 'segment') matched.push(...entries.map((e) => e.seq));
        else parts.push(format === 'csv' ? csvRows(entries) : entries.map((e) => JSON.stringify(e) + '\n').join(''));
      };
      if (this.pinnedOnly) write([...this.pinned].reverse());
      else {
        const filter = this.queryFilter();
        let beforeSeq: number | null = null;
        do {
          const page: { entries: AuditEntry[]; next: number | null } = await admin.request('audit.query', { filter, beforeSeq, limit: 500 });
          write(page.entries);
          beforeSeq = page.next;
        } while (beforeSeq !== null);
      }
      // Verifiable: the matched entries as stored, the chain between them as links (trail-export.ts).
      if (format === 'segment') parts.push(...(await segmentLines(matched, (from, to, include) => admin.request('audit.segment', { from, to, include }))));
      const link = document.createElement('a');
      link.href = URL.createObjectURL(new Blob(parts, { type: format === 'csv' ? 'text/csv' : 'application/jsonl' }));
      const what = this.pinnedOnly ? 'pinned' : [...FILTERS.filter((f) => this.filters[f]).map((f) => `${f}-${this.filters[f]}`), ...(isBounded(this.range) ? [`range-${this.range.preset}`] : [])].join('_') || 'all';
      link.download = `audit-view-${what.replace(/[^\w.-]+/g, '-')}${format === 'segment' ? '.segment.jsonl' : `.${format}`}`;
      link.click();
      setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
    } catch (error) {
      this.failure = describeError(error);
    }
  }

  private rowKey(k: KeyboardEvent, seq: number, index: number): void {
    if (k.key === 'Enter') this.select(seq === this.selectedSeq ? null : seq);
    else if (k.key === 'ArrowDown' || k.key === 'ArrowUp') {
      k.preventDefault();
      void this.moveFocus(index, k.key === 'ArrowDown' ? 1 : -1);
    }
  }

  private passes(e: AuditEntry, only?: readonly Filter[]): boolean {
    return (only ?? FILTERS).every((f) => !this.filters[f] || field[f](e) === this.filters[f]) && (only !== undefined || this.inRange(e));
  }

  private inRange(e: AuditEntry): boolean {
    const { from, to } = resolveRange(this.range, this.now);
    return (from === undefined || e.ts >= from) && (to === undefined || e.ts < to);
  }

  private rangePicker() {
    const r = this.range;
    const local = (t: number | undefined) => {
      if (t === undefined) return '';
      const d = new Date(t - new Date(t).getTimezoneOffset() * 60_000);
      return d.toISOString().slice(0, 16);
    };
    return html`<label
        >time
        <select data-testid="time-range" @change=${(e: Event) => this.pickPreset((e.target as HTMLSelectElement).value as RangePreset)}>
          ${PRESETS.map((p) => html`<option value=${p.id} ?selected=${p.id === r.preset}>${p.label}</option>`)}
        </select>
      </label>
      ${r.preset === 'custom'
        ? html`<label>from <input type="datetime-local" data-testid="range-from" .value=${local(r.from)} @change=${(e: Event) => this.setBound('from', (e.target as HTMLInputElement).value)} /></label>
            <label>to <input type="datetime-local" data-testid="range-to" .value=${local(r.to)} @change=${(e: Event) => this.setBound('to', (e.target as HTMLInputElement).value)} /></label>`
        : ''}`;
  }

  /** The row's detail cell: its summary, cut for the cell, whole in the title. */
  private summaryCode(e: AuditEntry) {
    const text = entrySummary(e);
    return html`<code title=${text}>${text.slice(0, 200)}</code>`;
  }

  /** "replay of #<call>": opens the original call's first entry. */
  private replayLink(e: AuditEntry) {
    if (!e.replayOf) return '';
    const of = e.replayOf;
    return html`<a href="#audit" class="replay-of" data-testid="replay-link" data-call=${of} title="replay of call ${of}: open the original" @click=${(ev: Event) => (ev.preventDefault(), ev.stopPropagation(), void this.openCall(of))}>replay of #${of.slice(0, 8)}</a> `;
  }

  private options(name: Filter) {
    const fixed = name === 'event' ? EVENTS : name === 'outcome' ? OUTCOMES : name === 'agent' ? this.known.agent : this.known.tool;
    const cached = this.optionCache.get(name);
    const values = cached && cached.entries === this.entries && cached.fixed === fixed ? [...cached.values] : [...new Set([...fixed, ...this.entries.map(field[name]).filter(Boolean)])].sort();
    if (!cached || cached.entries !== this.entries || cached.fixed !== fixed) this.optionCache.set(name, { entries: this.entries, fixed, values: [...values] });
    const current = this.filters[name];
    if (current && !values.includes(current)) values.unshift(current);
    return html`<label
      >${name}
      <select data-testid="filter-${name}" @change=${(e: Event) => this.setFilter(name, (e.target as HTMLSelectElement).value)}>
        <option value="" ?selected=${!current}>all</option>
        ${values.map((v) => html`<option value=${v} ?selected=${v === current}>${v}</option>`)}
      </select>
    </label>`;
  }

  /**
   * The rows to show, newest first: the pinned entries; or the query's pages alone when searching
   * (the index answers it, not the loaded tail); or the tail filtered then the older pages. Only
   * recomputed when what they come from changes (not on every scroll).
   */
  private rows(): { rows: CallRow[]; count: number } {
    const key = [this.pinnedOnly, this.pinned, this.entries, this.older, this.filters, this.range, this.now, this.byCall, this.searching()];
    if (this.rowsCache && this.rowsCache.key.every((k, i) => k === key[i])) return this.rowsCache;
    const oldestTail = this.entries[0]?.seq ?? Infinity;
    const shown = this.pinnedOnly
      ? [...this.pinned].reverse()
      : this.searching()
        ? this.older.filter((e) => this.passes(e))
        : [...this.entries.filter((e) => this.passes(e)).reverse(), ...this.older.filter((e) => e.seq < oldestTail && this.passes(e))];
    const rows = this.byCall ? callRows(shown) : shown.map((e): CallRow => ({ entry: e, entries: [e], outcome: e.outcome, capabilities: 0 }));
    this.rowsCache = { key, rows, count: shown.length };
    return this.rowsCache;
  }

  /**
   * What the charts' input comes from: while it is unchanged, a render (for scrolling, say)
   * redraws no chart. The tail (`entries`) changes as calls commit: the charts follow them live.
   * The older pages are not in it: the charts never come from the rows loaded.
   */
  private chartKey(): unknown[] {
    return [this.entries, this.filters.agent, this.filters.tool, this.range, this.now];
  }

  /**
   * Reads the charts' window once what it comes from has stopped changing for CHART_SETTLE_MS,
   * the table is not scrolling and no page is being read: the request and uPlot's drawing never
   * hold up the rows a person is waiting for.
   */
  private scheduleChart(): void {
    if (!this.loaded) return;
    const key = this.chartKey();
    if (sameKey(this.chart?.key, key) || sameKey(this.chartAsked, key)) return;
    if (this.chartTimer !== null) clearTimeout(this.chartTimer);
    this.chartTimer = setTimeout(
      () =>
        this.whenAtRest(() => {
          this.chartAsked = key;
          void this.readChart(key);
        }),
      CHART_SETTLE_MS,
    );
  }

  /** Runs `then` once the table has not scrolled for CHART_SCROLL_REST_MS and no page is being read. */
  private whenAtRest(then: () => void): void {
    const since = performance.now() - this.lastScroll;
    if (since < CHART_SCROLL_REST_MS || this.olderLoading) {
      this.chartTimer = setTimeout(() => this.whenAtRest(then), this.olderLoading ? CHART_SETTLE_MS : CHART_SCROLL_REST_MS - since);
      return;
    }
    this.chartTimer = null;
    then();
  }

  /**
   * The charts follow the range over the whole log, by agent and tool as filtered: read from the
   * aggregates' time buckets by the service worker (`audit.chart`), not from the rows loaded, and
   * drawn once the table rests. An answer for what the view no longer shows is dropped (the next
   * one is on its way); a failed one is not asked again until what the charts follow changes.
   */
  private async readChart(key: unknown[]): Promise<void> {
    try {
      const span = chartSpan(this.range, this.now);
      const data = await (await adminClient()).request('audit.chart', { ...span, ...(this.filters.agent ? { agentId: this.filters.agent } : {}), ...(this.filters.tool ? { tool: this.filters.tool } : {}) });
      this.whenAtRest(() => {
        if (sameKey(key, this.chartKey())) this.chart = { key, data };
      });
    } catch (error) {
      this.failure = describeError(error);
    }
  }

  override render() {
    const { rows, count: shownCount } = this.rows();
    const size = this.windowSize();
    const start = Math.min(this.windowStart, Math.max(0, rows.length - size));
    const visible = rows.slice(start, start + size);
    const all = [...this.entries, ...this.older, ...this.pinned, ...this.extra];
    const verdict = this.verifier?.verdict;
    const broken = verdict && !verdict.ok ? verdict.seq : null;
    const selected = this.selectedSeq == null ? null : (all.find((e) => e.seq === this.selectedSeq) ?? null);
    const related = selected?.callId ? all.filter((e) => e.callId === selected.callId).sort((a, b) => a.seq - b.seq) : [];
    const filtered = this.filtered();
    return html`
      <div class="toolbar">
        <h2>Audit trail</h2>
        <chain-badge .verifier=${this.verifier}></chain-badge>
        <span class="spacer"></span>
        <button @click=${() => void this.verifyWhole()} data-testid="verify-whole" title="re-hash every entry from the first">Verify whole chain</button>
        <button @click=${() => this.exportAudit()} data-testid="export-audit">Export JSON Lines</button>
        <button @click=${() => (this.retention = !this.retention)} data-testid="archive-open" aria-expanded=${this.retention}>Archive…</button>
      </div>
      ${this.retention ? html`<audit-retention @pruned=${() => this.afterPrune()}></audit-retention>` : ''}
      ${this.failure ? html`<p class="notice error">${this.failure}</p>` : ''}
      <details class="charts" data-testid="audit-charts-panel" ?open=${!matchMedia('(max-width: 760px)').matches}>
        <summary>Charts</summary>
        ${this.chart
          ? html`<audit-charts .data=${this.chart.data} .label=${rangeLabel(this.range)}></audit-charts>`
          : html`<div class="charts-pending" aria-busy="true"></div>`}
      </details>
      <div class="filters">
        ${this.rangePicker()}
        ${FILTERS.map((f) => this.options(f))}
        <label
          >search
          <input
            type="search"
            class="search"
            data-testid="audit-search"
            placeholder="tool, arguments, output, errors"
            title="entries of the whole log holding every word (the last one as a prefix), from the search index"
            .value=${this.text}
            @input=${(e: Event) => this.typed((e.target as HTMLInputElement).value)}
            @keydown=${(e: KeyboardEvent) => e.key === 'Enter' && (this.searchTimer !== null && clearTimeout(this.searchTimer), (this.searchTimer = null), (this.text = (e.target as HTMLInputElement).value), history.replaceState(null, '', this.hashFor(this.selectedSeq)))}
          />
        </label>
        <button @click=${() => this.clearFilters()} ?disabled=${!FILTERS.some((f) => this.filters[f]) && !this.text}>Clear filters</button>
        <button data-testid="export-view-jsonl" @click=${() => void this.exportView('jsonl')} title="exactly what this view shows, from the whole log">Export view</button>
        <button data-testid="export-view-csv" @click=${() => void this.exportView('csv')}>CSV</button>
        <button data-testid="export-view-segment" @click=${() => void this.exportView('segment')} title="the matched entries as stored, linked by the chain between them: npm run audit:verify checks the file">Verifiable</button>
        <label class="inline"><input type="checkbox" data-testid="audit-pinned" .checked=${this.pinnedOnly} @change=${(e: Event) => this.showPinned((e.target as HTMLInputElement).checked)} /> pinned only (${pinnedSeqs().length})</label>
        <label class="inline"><input type="checkbox" data-testid="audit-by-call" .checked=${this.byCall} @change=${(e: Event) => (this.byCall = (e.target as HTMLInputElement).checked)} /> one row per call</label>
        <span class="spacer"></span>
        <span class="muted small" data-testid="audit-count">${filtered ? `${shownCount} matching entries of the whole log loaded` : `the newest ${shownCount} entries`}${this.olderNext !== null ? '' : ' (all)'}</span>
      </div>
      ${this.searching() && this.searchInfo && (this.searchInfo.pendingThrough > 0 || this.searchInfo.broad)
        ? html`<p class="muted small" data-testid="audit-search-note">
            ${this.searchInfo.pendingThrough > 0 ? `Entries up to #${this.searchInfo.pendingThrough} were written before the search index and are still being indexed: not searched yet. ` : ''}
            ${this.searchInfo.broad ? `“${this.searchInfo.prefix}” begins too many words to search as a prefix: matched as a whole word (type more).` : ''}
          </p>`
        : ''}
      ${this.replay
        ? html`<audit-replay .result=${this.replay.result} .pending=${this.replay.callId} .failure=${this.replay.failure} @select=${(e: CustomEvent<number>) => this.select(e.detail)} @close=${() => (this.replay = null)}></audit-replay>`
        : ''}
      <div class="body ${this.selectedSeq != null ? 'with-details' : ''}">
        <div class="table-wrap" @scroll=${() => this.onScroll()}>
          <table data-testid="audit-table" data-rows=${rows.length} data-rendered=${visible.length} data-first=${start} data-loading=${this.olderLoading ? 'true' : 'false'} data-pages=${this.pagesRead}>
            <thead>
              <tr>
                <th class="num">#</th><th>time</th><th>event</th><th>outcome</th><th>agent</th><th>tool</th>
                <th class="num hide-narrow">ms</th><th class="num hide-narrow hide-details">memory</th><th class="hide-narrow">detail</th>
              </tr>
            </thead>
            <tbody>
              ${start > 0 ? html`<tr class="spacer" aria-hidden="true" data-testid="audit-spacer-top"><td colspan="9" style="height: ${start * this.rowHeight}px"></td></tr>` : ''}
              ${repeat(
                visible,
                (row) => row.entry.seq,
                ({ entry: e, entries, outcome, capabilities }, i) => html`<tr class="clickable ${e.seq === this.selectedSeq ? 'selected' : ''} ${e.seq === broken ? 'broken' : ''}" data-testid="audit-row" data-seq=${e.seq} data-index=${start + i} aria-rowindex=${start + i + 2} data-broken=${e.seq === broken ? 'true' : 'false'} title=${e.seq === broken ? `the chain breaks here: ${verdict && !verdict.ok ? verdict.reason : ''}` : ''} tabindex="0"
                  @click=${() => this.select(e.seq === this.selectedSeq ? null : e.seq)}
                  @keydown=${(k: KeyboardEvent) => this.rowKey(k, e.seq, start + i)}>
                  <td class="num">${e.seq}</td>
                  <td class="when" title=${new Date(e.ts).toLocaleString()}>${time(e.ts)}</td>
                  <td class="nowrap" data-testid="audit-row-event">${this.byCall && e.callId ? `call · ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}${capabilities ? ` · ${capabilities} capability use${capabilities > 1 ? 's' : ''}` : ''}` : e.event}</td>
                  <td class=${outcome} data-testid="audit-row-outcome">${outcome}</td>
                  <td class="nowrap">${e.agentId ?? ''}</td>
                  <td class="nowrap">${e.tool ?? ''}</td>
                  <td class="num hide-narrow">${ms(e.durationMs)}</td>
                  <td class="num hide-narrow hide-details">${bytes(e.memoryBytes)}</td>
                  <td class="summary hide-narrow">${this.replayLink(e)}${this.byCall && e.callId && e.agentId && e.event.startsWith('call.')
                    ? html`<button class="link" data-testid="audit-replay" title="run this call again as ${e.agentId}, under its policy now" @click=${(ev: Event) => (ev.stopPropagation(), void this.replayCall(e.callId!))}>Replay</button> `
                    : ''}${this.summaryCode(e)}</td>
                </tr>`,
              )}
              ${start + visible.length < rows.length ? html`<tr class="spacer" aria-hidden="true" data-testid="audit-spacer-bottom"><td colspan="9" style="height: ${(rows.length - start - visible.length) * this.rowHeight}px"></td></tr>` : ''}
            </tbody>
          </table>
          ${this.olderNext !== null && this.loaded
            ? html`<p><button data-testid="audit-older" ?disabled=${this.olderLoading} @click=${() => void this.loadOlder()}>${this.olderLoading ? 'Loading…' : 'Load older'}</button></p>`
            : ''}
          ${this.loaded && shownCount === 0 && !this.olderLoading && this.olderNext === null ? html`<p class="empty">${filtered ? 'No entries match these filters in this time range.' : 'No entries yet: calls, sessions and refusals appear here as they happen.'}</p>` : ''}
        </div>
        ${this.selectedSeq == null
          ? ''
          : selected
            ? html`<audit-details .entry=${selected} .related=${related} @replay=${(e: CustomEvent<string>) => void this.replayCall(e.detail)} @open-call=${(e: CustomEvent<string>) => void this.openCall(e.detail)} @select=${(e: CustomEvent<number>) => this.select(e.detail)} @revert=${(e: CustomEvent<{ agentId: string; before: Record<string, unknown>; seq: number }>) => void this.revert(e.detail)} @close=${() => this.select(null)}></audit-details>`
            : html`<div class="card muted">${this.loaded ? `Entry #${this.selectedSeq} is not among the newest ${this.entries.length} entries.` : 'Loading…'}</div>`}
      </div>
    `;
  }
}

customElements.define('audit-view', AuditView);
declare global {
  interface HTMLElementTagNameMap {
    'audit-view': AuditView;
  }
}
