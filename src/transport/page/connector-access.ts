import { envelope, type ConnectorNeedsAccessEnvelope, type ConnectorReadyEnvelope } from '../../shared/wire';
import { connectorFailure } from './connector';
import { RELAY_CHANNEL, relayThroughApp } from './connector-relay';

/**
 * A connector embedded by another site asks for storage access (the Storage Access API, with
 * Chromium's handle for storage beyond cookies) on a click in its own frame, then reaches the
 * sandbox through an open app window (connector-relay.ts). Chromium gives the access only on a
 * user gesture in the frame, and only to a site the person has used as a top-level site; it asks
 * the person (a prompt), remembers the answer for the pair of sites, and gives it without a click
 * next time. Every refusal is told to the embedder at once (`storage-access-denied`).
 */

/** What `requestStorageAccess(types)` resolves to where storage beyond cookies is supported. */
interface StorageAccessHandleLike {
  BroadcastChannel?: (name: string) => BroadcastChannel;
}
type RequestWithTypes = (types: { BroadcastChannel: boolean }) => Promise<StorageAccessHandleLike | undefined>;

export const NO_APP_MESSAGE =
  'the connector has storage access, but the sandbox app is not open in this browser: the person should open it in a tab (the connector shows a link) and the page connects then.';

export const NEEDS_ACCESS_MESSAGE =
  'this agent page is on another site than the sandbox, so the browser keeps the sandbox\'s storage from the embedded connector. ' +
  'The person can allow it with the connector\'s button (Chromium; the sandbox app must be open in a tab), or serve the agent page from the sandbox\'s site (docs/security.md, "Cross-site embedding").';

/** Whether the person already allowed this pair of sites (then no click is needed). */
async function alreadyGranted(win: Window): Promise<boolean> {
  try {
    const status = await win.navigator.permissions.query({ name: 'storage-access' as PermissionName });
    return status.state === 'granted';
  } catch {
    return false;
  }
}

/** Asks for the handle; resolves with the unpartitioned channel, or rejects with the reason to tell. */
async function requestChannel(doc: Document): Promise<BroadcastChannel> {
  const request = (doc.requestStorageAccess as unknown as RequestWithTypes | undefined)?.bind(doc);
  if (!request) throw new AccessProblem('cross-site', 'this browser has no Storage Access API, so a connector embedded by another site cannot reach the sandbox. Serve the agent page from the sandbox\'s site (docs/security.md, "Cross-site embedding").');
  let handle: StorageAccessHandleLike | undefined;
  try {
    handle = await request({ BroadcastChannel: true });
  } catch (error) {
    const e = error as Error;
    throw new AccessProblem(
      'storage-access-denied',
      `the browser refused the connector storage access (${e.name}: ${e.message}). ` +
        `Chromium grants it only after a click in the connector, only to a site the person has used as a top-level site, and only if the person allows it: open the sandbox app (${new URL('./', doc.baseURI).href}) in a tab and use it once, then click the connector's button again and allow it — ` +
        'or serve the agent page from the sandbox\'s site (docs/security.md, "Cross-site embedding").',
    );
  }
  if (typeof handle?.BroadcastChannel !== 'function') {
    throw new AccessProblem('cross-site', 'this browser gives a cross-site connector cookies only, not the storage it needs to reach the sandbox (Chromium\'s Storage Access handle). Serve the agent page from the sandbox\'s site (docs/security.md, "Cross-site embedding").');
  }
  return handle.BroadcastChannel(RELAY_CHANNEL);
}

class AccessProblem extends Error {
  constructor(
    readonly code: 'cross-site' | 'storage-access-denied',
    message: string,
  ) {
    super(message);
  }
}

/** The connector's own small UI: a message, a button, a link to the app. */
function accessPanel(doc: Document) {
  const sheet = new (doc.defaultView as Window & typeof globalThis).CSSStyleSheet();
  sheet.replaceSync(`
    body { margin: 0; font: 14px/1.4 system-ui, sans-serif; color: #0f172a; background: #f8fafc; }
    main { padding: 10px 12px; display: grid; gap: 8px; }
    p { margin: 0; }
    button { justify-self: start; font: inherit; padding: 6px 14px; border-radius: 6px; border: 1px solid #1d4ed8; background: #2563eb; color: white; cursor: pointer; }
    button[hidden] { display: none; }
    [data-state=refused] p.status { color: #b91c1c; }
    a { color: #1d4ed8; }
  `);
  doc.adoptedStyleSheets = [...doc.adoptedStyleSheets, sheet];
  const main = doc.createElement('main');
  main.dataset.state = 'asking';
  const text = doc.createElement('p');
  text.textContent = 'This page wants to use the MCP sandbox you run in this browser. The sandbox is another site, so the browser asks you first.';
  const button = doc.createElement('button');
  button.type = 'button';
  button.textContent = 'Allow access to the MCP sandbox';
  const status = doc.createElement('p');
  status.className = 'status';
  status.setAttribute('role', 'status');
  main.append(text, button, status);
  doc.body.replaceChildren(main);
  const appLink = () => {
    const a = doc.createElement('a');
    a.href = new URL('./', doc.baseURI).href;
    a.target = '_blank';
    a.rel = 'noopener';
    a.textContent = 'Open the MCP sandbox app';
    return a;
  };
  return {
    button,
    state(state: 'asking' | 'waiting-for-app' | 'connected' | 'refused', message: string, withLink = false) {
      main.dataset.state = state;
      status.replaceChildren(message);
      if (withLink) status.append(' ', appLink());
      button.hidden = state === 'connected' || state === 'waiting-for-app';
    },
  };
}

/**
 * Run by the connector when `crossSiteProblem` found it partitioned. With access already
 * given, it connects without asking; otherwise it tells the embedder to show it and waits for
 * the person's click.
 */
export async function connectWithStorageAccess(doc: Document = document): Promise<void> {
  const win = doc.defaultView!;
  const panel = accessPanel(doc);
  const connected = (channel: BroadcastChannel) =>
    relayThroughApp(channel, win, {
      onWaiting: () => {
        panel.state('waiting-for-app', 'Access allowed. The sandbox app is not open in this browser: open it in a tab and this page connects.', true);
        win.parent.postMessage(envelope<ConnectorNeedsAccessEnvelope>({ kind: 'connector-needs-access', reason: 'app-window', message: NO_APP_MESSAGE }), '*');
      },
    }).then(() => {
      panel.state('connected', 'Connected to the MCP sandbox.');
      win.parent.postMessage(envelope<ConnectorReadyEnvelope>({ kind: 'connector-ready' }), '*');
    });
  const fail = (error: unknown) => {
    const problem = error instanceof AccessProblem ? error : new AccessProblem('storage-access-denied', `storage access failed: ${(error as Error).message}`);
    panel.state('refused', problem.code === 'storage-access-denied' ? 'The browser refused access. Open the sandbox app in a tab, use it once, then try again.' : problem.message, problem.code === 'storage-access-denied');
    connectorFailure(problem.code, problem.message, win);
  };

  if (await alreadyGranted(win)) {
    // Given before (Chromium remembers the pair of sites): no click needed.
    try {
      return await connected(await requestChannel(doc));
    } catch (error) {
      return fail(error);
    }
  }
  panel.state('asking', '');
  // Nothing secret: any parent may learn that the connector needs the person's click.
  win.parent.postMessage(envelope<ConnectorNeedsAccessEnvelope>({ kind: 'connector-needs-access', reason: 'storage-access', message: NEEDS_ACCESS_MESSAGE }), '*');
  panel.button.addEventListener('click', () => {
    // Called in the click itself: Chromium needs the gesture.
    requestChannel(doc).then(connected, fail);
  });
}
