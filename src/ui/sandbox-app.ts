import { LitElement, css, html } from 'lit';
import type { FolderWatchApi, ToolImporter } from '../api/host';
import { adminClient, describeError } from './admin';
import { followChanges, onAuditAppended, onStorageFull } from './changes';
import { ChainVerifier } from './chain-verifier';
import { auditVerifier } from './audit-verifier';
import { seedDemoAgents } from './demo-agents';
import { base } from './styles';
import { bytes } from './format';
import { VIEWS, loadView, parseHash, prefetchViews, type View } from './views';
import './chain-badge';

/** Share of the storage quota from which the app warns. */
const STORAGE_WARN_SHARE = 0.8;
/** Start-up work waits for the first view's content at most this long (a view that never says it loaded, a sandbox that does not answer). */
const SHOWN_CAP_MS = 3_000;

/**
 * The person's view of the sandbox: agents and their policies, the audit trail with its chain
 * verified, tools, sessions and settings. The URL hash selects the view, so views can be
 * linked to. Reads and writes through the admin API only.
 */
export class SandboxApp extends LitElement {
  static override styles = [
    base,
    css`
      :host { min-height: 100vh; background: #f1f5f9; }
      header {
        display: flex; align-items: center; gap: 12px; padding: 10px 20px; background: var(--ink); color: #fff;
        position: sticky; top: 0; z-index: 5;
      }
      header h1 { font-size: 16px; font-weight: 600; letter-spacing: 0.01em; }
      header h1 span { color: #94a3b8; font-weight: 400; }
      header a { color: #bfdbfe; font-size: 13px; text-decoration: none; }
      header a:hover { text-decoration: underline; }
      .layout { display: grid; grid-template-columns: 190px minmax(0, 1fr); min-height: calc(100vh - 46px); }
      nav { background: #fff; border-right: 1px solid var(--line); padding: 12px 8px; display: flex; flex-direction: column; gap: 2px; }
      nav a {
        display: flex; gap: 10px; align-items: center; padding: 7px 10px; border-radius: 6px; color: #334155; text-decoration: none; font-size: 14px;
      }
      nav a:hover { background: #f1f5f9; }
      nav a[aria-current='page'] { background: var(--ink); color: #fff; }
      main { padding: 16px 20px 40px; min-width: 0; }
      main:focus { outline: none; }
      /* Off screen until focused: the first Tab stop, for keyboard users to pass the navigation. */
      .skip { position: absolute; left: 8px; top: -48px; z-index: 10; background: #fff; }
      .skip:focus { top: 8px; }
      @media (max-width: 760px) {
        header { padding: 8px 12px; flex-wrap: wrap; gap: 6px 12px; }
        .layout { grid-template-columns: minmax(0, 1fr); grid-template-rows: auto 1fr; }
        nav { flex-direction: row; align-items: center; overflow-x: auto; border-right: none; border-bottom: 1px solid var(--line); padding: 6px 8px; }
        nav a { padding: 5px 10px; white-space: nowrap; font-size: 13px; }
        main { padding: 12px 10px 32px; }
      }
    `,
  ];
  static override properties = {
    importer: { attribute: false },
    folders: { attribute: false },
    view: { state: true }, param: { state: true }, query: { state: true }, failure: { state: true }, chainFailure: { state: true }, warning: { state: true }, storageWarning: { state: true }, ready: { state: true },
    loadedViews: { state: true }, viewFailure: { state: true },
  };
  /** This window's sandbox host, handed over by the app entry (the UI never imports sandbox code). */
  importer: ToolImporter | null = null;
  /** Watched folders, where the host offers them. */
  folders: FolderWatchApi | null = null;
  view: View = 'agents';
  param = '';
  query = '';
  failure = '';
  chainFailure = '';
  warning = '';
  /** Set when this app's storage nears the browser's quota (past it, calls are refused: none runs unrecorded). */
  storageWarning = '';
  /** Views render once the demo agents are seeded, so their first read sees them (the Audit view at once: it opens on the log, not on them). */
  ready = false;
  /** Views whose code is loaded (views.ts): the others show a line until theirs is. */
  loadedViews: ReadonlySet<View> = new Set();
  /** Why the shown view's code could not be loaded. */
  viewFailure = '';
  /**
   * Resolves once the view the app opened on has drawn its first content (SHOWN_CAP_MS at the
   * latest). What nobody opened the app to see waits for it — tool hosting (the app entry), the
   * demo agents when the Audit view opens first, the chain and storage checks — so none of it
   * competes with the first rows for the main thread or the service worker (issue 12).
   */
  readonly shown: Promise<void>;
  private readonly markShown: () => void;
  private readonly verifier = new ChainVerifier(auditVerifier());
  private stopFollowing: (() => void) | undefined;
  private storageTimer: ReturnType<typeof setInterval> | undefined;
  private stopStorageFull: (() => void) | undefined;
  private stopAppended: (() => void) | undefined;
  /** When the service worker last said the quota was reached (null: writes succeed). */
  private storageFullAt: number | null = null;
  constructor() {
    super();
    let markShown!: () => void;
    this.shown = new Promise((resolve) => (markShown = resolve));
    this.markShown = markShown;
  }

  private readonly onHash = () => {
    ({ view: this.view, param: this.param, query: this.query } = parseHash(location.hash));
    this.viewFailure = '';
    void this.showView(this.view);
  };

  override connectedCallback(): void {
    super.connectedCallback();
    this.onHash();
    addEventListener('hashchange', this.onHash);
    void this.start();
    void this.whenShown().finally(this.markShown);
    // What was appended is verified when the service worker says the log grew.
    this.stopFollowing = followChanges(() => this.shown.then(() => this.checkChain()));
    this.storageTimer = setInterval(() => void this.checkStorage(), 60_000);
    this.stopStorageFull = onStorageFull(({ at }) => {
      this.storageFullAt = at;
      this.storageWarning = `This app's storage is full (the browser's quota is reached): since ${new Date(at).toLocaleTimeString()} calls are refused, because their audit entries cannot be written. Archive older audit entries (Audit → Archive…) or free space.`;
    });
    // Entries are written again: space was made.
    this.stopAppended = onAuditAppended(() => {
      if (this.storageFullAt === null) return;
      this.storageFullAt = null;
      void this.checkStorage();
    });
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    removeEventListener('hashchange', this.onHash);
    this.stopFollowing?.();
    clearInterval(this.storageTimer);
    this.stopStorageFull?.();
    this.stopAppended?.();
  }

  private async start(): Promise<void> {
    // The Audit view opens on the log, not on the demo agents: its rows come first.
    if (this.view === 'audit') await this.shown;
    try {
      const admin = await adminClient();
      try {
        await seedDemoAgents(admin);
      } catch (error) {
        this.warning = `The demo agents could not be registered: ${describeError(error)}`;
      }
    } catch (error) {
      this.failure = `Could not reach the sandbox: ${describeError(error)}`;
    }
    this.ready = true;
    await this.shown;
    await Promise.all([this.checkChain(), this.checkStorage()]);
    prefetchViews();
  }

  /** Loads a view's code (views.ts) and shows it; says so when it cannot be loaded. */
  private async showView(view: View): Promise<void> {
    if (this.loadedViews.has(view)) return;
    try {
      await loadView(view);
      this.loadedViews = new Set([...this.loadedViews, view]);
      if (this.view === view) this.viewFailure = '';
    } catch (error) {
      if (this.view === view) this.viewFailure = `The ${VIEWS.find((v) => v.id === view)!.label} view could not be loaded: ${describeError(error)}`;
    }
  }

  /**
   * Waits until the shown view has drawn its first content: its element rendered, and its first
   * read answered where it says so (views with a `loaded` property set it then), then one frame
   * (so it is painted). Gives up after SHOWN_CAP_MS.
   */
  private async whenShown(): Promise<void> {
    const deadline = performance.now() + SHOWN_CAP_MS;
    // A hidden page gets no animation frames: the timer stands in.
    const frame = () => new Promise<void>((resolve) => {
      requestAnimationFrame(() => resolve());
      setTimeout(resolve, 100);
    });
    while (performance.now() < deadline) {
      await frame();
      if (this.failure || this.viewFailure) return;
      const element = this.renderRoot.querySelector<HTMLElement & { loaded?: unknown; updateComplete?: Promise<unknown> }>(`${this.view}-view`);
      if (element?.updateComplete && element.loaded !== false) {
        await element.updateComplete;
        await frame();
        return;
      }
    }
  }

  /**
   * Asks once for persistent storage (an installed app usually gets it: the browser then does not
   * evict the audit log under pressure), and warns from STORAGE_WARN_SHARE of the quota on.
   */
  private async checkStorage(): Promise<void> {
    const storage = navigator.storage;
    if (!storage?.estimate) return;
    if (!this.askedPersist) {
      this.askedPersist = true;
      await storage.persist?.().catch(() => false);
    }
    const { usage = 0, quota = 0 } = await storage.estimate().catch(() => ({ usage: 0, quota: 0 }));
    if (this.storageFullAt !== null) return;
    this.storageWarning =
      quota > 0 && usage / quota >= STORAGE_WARN_SHARE
        ? `This app uses ${bytes(usage)} of the ${bytes(quota)} the browser allows it (${Math.round((usage / quota) * 100)} %). When it is full, calls are refused rather than run unrecorded: archive older audit entries (Audit → Archive…).`
        : '';
  }
  private askedPersist = false;

  private async checkChain(): Promise<void> {
    if (document.hidden) return;
    try {
      await this.verifier.check();
      this.chainFailure = '';
    } catch (error) {
      this.chainFailure = `Could not verify the audit chain: ${describeError(error)}`;
    }
  }

  override render() {
    return html`
      <button class="skip" data-testid="skip-link" @click=${() => (this.renderRoot.querySelector('main') as HTMLElement | null)?.focus()}>Skip to content</button>
      <header>
        <h1>Browser MCP Sandbox <span>· admin</span></h1>
        <chain-badge .verifier=${this.verifier}></chain-badge>
        <span class="spacer"></span>
        <a href="./agent.html" target="_blank" rel="noopener">Open demo agent ↗</a>
      </header>
      <div class="layout">
        <nav aria-label="Views">
          ${VIEWS.map(
            (v) => html`<a href="#${v.id}" aria-current=${v.id === this.view ? 'page' : 'false'} data-testid="nav-${v.id}">${v.label}</a>`,
          )}
        </nav>
        <main tabindex="-1">
          ${this.failure ? html`<p class="notice error">${this.failure}</p>` : ''}
          ${this.chainFailure && !this.failure ? html`<p class="notice error">${this.chainFailure}</p>` : ''}
          ${this.storageWarning ? html`<p class="notice warn" data-testid="storage-warning">${this.storageWarning} <a href="#audit">Audit</a></p>` : ''}
          ${this.warning ? html`<p class="notice warn">${this.warning} <button class="link" @click=${() => (this.warning = '')}>dismiss</button></p>` : ''}
          ${this.viewFailure
            ? html`<p class="notice error" data-testid="view-failure">${this.viewFailure} <button class="link" @click=${() => void this.showView(this.view)}>Try again</button></p>`
            : !this.loadedViews.has(this.view)
              ? html`<p class="empty" aria-busy="true">Loading…</p>`
              : this.ready || this.view === 'audit'
                ? this.renderView()
                : html`<p class="empty">Connecting to the sandbox…</p>`}
        </main>
      </div>
    `;
  }

  private renderView() {
    switch (this.view) {
      case 'agents':
        return html`<agents-view .selectedId=${this.param}></agents-view>`;
      case 'policy':
        return html`<policy-view .agentId=${this.param}></policy-view>`;
      case 'audit':
        return html`<audit-view .verifier=${this.verifier} .selectedSeq=${this.param ? Number(this.param) : null} .query=${this.query}></audit-view>`;
      case 'tools':
        return html`<tools-view .selectedName=${this.param} .importer=${this.importer} .folders=${this.folders}></tools-view>`;
      case 'sessions':
        return html`<sessions-view></sessions-view>`;
      case 'contexts':
        return html`<contexts-view .selected=${this.param}></contexts-view>`;
      case 'settings':
        return html`<settings-view></settings-view>`;
    }
  }
}

customElements.define('sandbox-app', SandboxApp);
declare global {
  interface HTMLElementTagNameMap {
    'sandbox-app': SandboxApp;
  }
}
