/**
 * A view's first read, asked before the view's code has arrived: on a cold open the request
 * travels while the view's chunk loads and its first render lays out, instead of after both
 * (issue 12: one round trip less on the Audit view's path). The view asks as it always does;
 * the admin client (admin.ts) answers that one request with the early read's answer.
 *
 * An early read is handed out once, to the first identical request (same method, same params)
 * within EARLY_READ_MS, and never when the service worker announced a change since it was asked
 * (its answer may predate the change, and the view would subscribe to changes only after it):
 * the view then reads afresh. Nothing else changes for a view that never asks.
 */
import type { AdminMethods } from '../api/admin';
import { onAuditAppended } from './changes';

/** How long an early read waits for the view to ask for it. */
export const EARLY_READ_MS = 5_000;

type Method = keyof AdminMethods;
interface Early {
  result: Promise<unknown>;
  stale: boolean;
  stop: () => void;
  timer: ReturnType<typeof setTimeout>;
}

const early = new Map<string, Early>();
const keyOf = (method: string, params: unknown) => `${method} ${JSON.stringify(params ?? null)}`;

/** Starts `read` now, to hand its answer to the first request for `method` with `params`. */
export function readEarly<M extends Method>(method: M, params: AdminMethods[M]['params'], read: () => Promise<AdminMethods[M]['result']>): void {
  const key = keyOf(method, params);
  drop(key);
  const result = read();
  // Unhandled until the view asks (or never, when it does not): a failure is the view's to show.
  result.catch(() => undefined);
  const entry: Early = { result, stale: false, stop: () => undefined, timer: setTimeout(() => drop(key), EARLY_READ_MS) };
  entry.stop = onAuditAppended(() => (entry.stale = true));
  early.set(key, entry);
}

/** The early answer to this request, once; null when there is none (or it may be out of date). */
export function takeEarly(method: string, params: unknown): Promise<unknown> | null {
  const key = keyOf(method, params);
  const entry = early.get(key);
  if (!entry) return null;
  drop(key);
  return entry.stale ? null : entry.result;
}

function drop(key: string): void {
  const entry = early.get(key);
  if (!entry) return;
  early.delete(key);
  clearTimeout(entry.timer);
  entry.stop();
}
