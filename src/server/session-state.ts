import type { LoggingLevel } from '@modelcontextprotocol/sdk/types.js';

// What a client asked of its live session that is not worth a store write: like the live
// servers themselves (live-sessions.ts), it lasts this service-worker lifetime.

/** The logging level each session set (logging/setLevel); unset sends every level. */
export const logLevels = new Map<string, LoggingLevel>();

/** The resource URIs each session subscribed to (resources/subscribe). */
export const subscriptions = new Map<string, Set<string>>();

export function forgetSession(sessionId: string): void {
  logLevels.delete(sessionId);
  subscriptions.delete(sessionId);
}
