import type { ServerContext } from './context';
import type { ListenFilter, LiveSessions } from './live-sessions';

/**
 * `subscriptions/listen` of the 2026-07-28 revision (SEP-2575): that revision has no session to
 * push notifications on, so a client opens one long request whose server-sent events carry them.
 * The stream starts with `notifications/subscriptions/acknowledged` (the filter as honoured),
 * then carries only what the filter asked for — `notifications/tools/list_changed`,
 * `prompts/list_changed`, `resources/list_changed` (when the tools, prompts or resources an agent
 * sees may have changed: a tool registered, enabled, removed, or its policy changed) and
 * `resources/updated` for each subscribed URI (a document produced by a tool may differ then;
 * a `context://` URI when a context the agent reads changes) — each tagged with the request's id
 * in `_meta['io.modelcontextprotocol/subscriptionId']`. It ends when the client ends the request
 * (or the service worker stops: the client sees a disconnect and listens again).
 */

export const SUBSCRIPTION_ID_KEY = 'io.modelcontextprotocol/subscriptionId';
/** URIs one stream may watch, as a 2025 session may. */
export const MAX_LISTEN_SUBSCRIPTIONS = 100;
const FLAGS = ['toolsListChanged', 'promptsListChanged', 'resourcesListChanged'] as const;

/** The filter of a listen request, checked; a string naming the problem when it is not one. */
export function listenFilterOf(params: unknown): ListenFilter | string {
  const raw = (params as { notifications?: unknown } | null)?.notifications;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'subscriptions/listen needs params.notifications: an object saying which notifications to send';
  const given = raw as Record<string, unknown>;
  const filter: ListenFilter = {};
  for (const flag of FLAGS) {
    const value = given[flag];
    if (value !== undefined && typeof value !== 'boolean') return `params.notifications.${flag} must be a boolean`;
    if (value === true) filter[flag] = true;
  }
  const uris = given['resourceSubscriptions'];
  if (uris !== undefined) {
    if (!Array.isArray(uris) || !uris.every((u) => typeof u === 'string')) return 'params.notifications.resourceSubscriptions must be an array of URIs';
    const unique = [...new Set(uris as string[])];
    if (unique.length > MAX_LISTEN_SUBSCRIPTIONS) return `a listen stream may watch at most ${MAX_LISTEN_SUBSCRIPTIONS} resources`;
    if (unique.length) filter.resourceSubscriptions = unique;
  }
  return filter;
}

/**
 * The event stream of one listen request for `agentId`. `encode` writes a JSON-RPC message
 * (the revision's `_meta`, the server's identity) before it goes out.
 */
export function listenStream(ctx: ServerContext, live: LiveSessions, agentId: string, id: string | number, filter: ListenFilter, signal: AbortSignal): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const tag = { [SUBSCRIPTION_ID_KEY]: id };
  let stop = (): void => undefined;
  return new ReadableStream<Uint8Array>({
    start: (controller) => {
      const send = (method: string, params: Record<string, unknown> = {}): void => {
        try {
          controller.enqueue(encoder.encode(`event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', method, params: { ...params, _meta: tag } })}\n\n`));
        } catch {
          stop(); // the stream is gone
        }
      };
      send('notifications/subscriptions/acknowledged', { notifications: filter });
      const watchKey = `listen:${crypto.randomUUID()}`;
      const unlisten = live.listen(agentId, filter, send);
      const contexts = (filter.resourceSubscriptions ?? []).filter((uri) => uri.startsWith('context://'));
      if (contexts.length) ctx.contexts.watch(watchKey, agentId, () => contexts.forEach((uri) => send('notifications/resources/updated', { uri })));
      stop = () => {
        unlisten();
        ctx.contexts.unwatch(watchKey);
        signal.removeEventListener('abort', end);
      };
      const end = (): void => {
        stop();
        try {
          controller.close();
        } catch {
          // already closed
        }
      };
      if (signal.aborted) end();
      else signal.addEventListener('abort', end, { once: true });
    },
    cancel: () => stop(),
  });
}
