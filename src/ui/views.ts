/**
 * The app's views, in navigation order, and how each one's code is loaded. Every view is a chunk
 * of its own, imported when it is first shown: a cold open evaluates the shell and the one view
 * it opens on, not every tab's Lit views, uPlot, zod and the policy engine (the 240 KB the app
 * loaded and evaluated before its first paint, issue 12). Vite preloads each chunk's dependencies in
 * parallel when its import starts; the service worker precaches every chunk (vite.config.ts), so
 * a view first opened offline loads all the same.
 */
import { directAdminClient } from './admin';
import { readEarly } from './early-reads';

export const VIEWS = [
  { id: 'agents', label: 'Agents', load: () => import('./agents-view') },
  { id: 'policy', label: 'Policy', load: () => import('./policy-view') },
  // Its first read: the newest screen of entries (audit-view.ts `refresh`, FIRST_SCREEN).
  { id: 'audit', label: 'Audit trail', load: () => import('./audit-view'), firstRead: () => readEarly('audit.tail', { limit: 100 }, async () => (await directAdminClient()).request('audit.tail', { limit: 100 })) },
  { id: 'tools', label: 'Tools', load: () => import('./tools-view') },
  { id: 'sessions', label: 'Sessions', load: () => import('./sessions-view') },
  { id: 'contexts', label: 'Contexts', load: () => import('./contexts-view') },
  { id: 'settings', label: 'Settings', load: () => import('./settings-view') },
] as const;
export type View = (typeof VIEWS)[number]['id'];

/**
 * `#view`, `#view/<param>` (an agent's id for agents and policy, an entry's seq for audit, a
 * tool's name for tools, `<agent>/<conversation>` for contexts),
 * optionally `?key=value&…` (the audit view's filters).
 */
export function parseHash(hash: string): { view: View; param: string; query: string } {
  const [path = '', query = ''] = hash.replace(/^#\/?/, '').split('?', 2);
  const [view = '', ...rest] = path.split('/');
  const known = VIEWS.find((v) => v.id === view);
  return { view: known?.id ?? 'agents', param: decodeURIComponent(rest.join('/')), query };
}

const loads = new Map<View, Promise<void>>();

/** Loads a view's code once (its custom element is defined when this resolves). A failed load is tried again on the next call. */
export function loadView(view: View): Promise<void> {
  let load = loads.get(view);
  if (!load) {
    load = VIEWS.find((v) => v.id === view)!.load().then(() => undefined);
    load.catch(() => loads.delete(view));
    loads.set(view, load);
  }
  return load;
}

/**
 * What a cold open does first: the view's code is loaded, and its first read (where the view
 * names one) asked at the same time (early-reads.ts). Only in a page the service worker already
 * controls: on a first visit the sandbox is still installing, and the view asks when it is ready.
 */
export function openView(view: View): void {
  // The read first: its request is out before the chunk loads' requests are.
  const entry = VIEWS.find((v) => v.id === view)!;
  if (navigator.serviceWorker?.controller && 'firstRead' in entry) entry.firstRead();
  void loadView(view).catch(() => undefined);
}

/** Loads every other view's code in idle time, one at a time, so a later switch to it shows at once. */
export function prefetchViews(): void {
  const pending = VIEWS.map((v) => v.id).filter((id) => !loads.has(id));
  const idle = (run: () => void) => (typeof requestIdleCallback === 'function' ? requestIdleCallback(run, { timeout: 2_000 }) : setTimeout(run, 50));
  const next = () => {
    const view = pending.shift();
    if (view) void loadView(view).catch(() => undefined).finally(() => idle(next));
  };
  idle(next);
}
