import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { forgetSession, subscriptions } from './session-state';

/**
 * The sessions this service-worker lifetime has a connected server for. Only these can be told
 * that the tool list changed: a session whose server died with an earlier lifetime has nowhere
 * to be sent to, and sees the new list on its next `tools/list`.
 */
/** What a `subscriptions/listen` stream of the 2026-07-28 revision asked to be told (listen-stream.ts). */
export interface ListenFilter {
  toolsListChanged?: true;
  promptsListChanged?: true;
  resourcesListChanged?: true;
  resourceSubscriptions?: string[];
}

type Listener = { agentId: string; filter: ListenFilter; send: (method: string, params?: Record<string, unknown>) => void };

export class LiveSessions {
  private readonly servers = new Map<string, { server: Promise<Server>; agentId: string }>();
  private readonly listeners = new Set<Listener>();

  /** Adds a listen stream of `agentId`; returns what removes it. */
  listen(agentId: string, filter: ListenFilter, send: Listener['send']): () => void {
    const listener = { agentId, filter, send };
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  set(sessionId: string, server: Promise<Server>, agentId: string): void {
    this.servers.set(sessionId, { server, agentId });
    server.catch(() => this.servers.delete(sessionId));
  }

  delete(sessionId: string): void {
    this.servers.delete(sessionId);
    forgetSession(sessionId);
  }

  get size(): number {
    return this.servers.size;
  }

  /**
   * Sends `notifications/tools/list_changed` to every live session and listen stream (or to
   * those of one agent, whose policy changed); returns how many got it. Resource documents are written by tools
   * under the reader's policy, so each subscribed URI of those sessions is also announced as
   * updated (`notifications/resources/updated`): the client reads it again.
   */
  async notifyToolsChanged(agentId?: string): Promise<number> {
    const sent = await Promise.all(
      [...this.servers.entries()].filter(([, s]) => agentId === undefined || s.agentId === agentId).map(async ([sessionId, { server }]) => {
        try {
          const live = await server;
          await live.sendToolListChanged();
          for (const uri of subscriptions.get(sessionId) ?? []) await live.sendResourceUpdated({ uri });
          return 1;
        } catch {
          return 0; // a session whose page is gone
        }
      }),
    );
    // Listen streams (2026-07-28): what each asked for. Prompts and resources are produced by
    // tools, so a change of the tools (or of the policy that filters them) may change them too.
    let streams = 0;
    for (const { agentId: owner, filter, send } of this.listeners) {
      if (agentId !== undefined && owner !== agentId) continue;
      if (filter.toolsListChanged) send('notifications/tools/list_changed');
      if (filter.promptsListChanged) send('notifications/prompts/list_changed');
      if (filter.resourcesListChanged) send('notifications/resources/list_changed');
      for (const uri of filter.resourceSubscriptions ?? []) send('notifications/resources/updated', { uri });
      streams++;
    }
    return sent.reduce<number>((a, b) => a + b, 0) + streams;
  }
}
