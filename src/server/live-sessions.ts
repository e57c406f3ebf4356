import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { forgetSession, subscriptions } from './session-state';

/**
 * The sessions this service-worker lifetime has a connected server for. Only these can be told
 * that the tool list changed: a session whose server died with an earlier lifetime has nowhere
 * to be sent to, and sees the new list on its next `tools/list`.
 */
export class LiveSessions {
  private readonly servers = new Map<string, { server: Promise<Server>; agentId: string }>();

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
   * Sends `notifications/tools/list_changed` to every live session (or to those of one agent,
   * whose policy changed); returns how many got it. Resource documents are written by tools
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
    return sent.reduce<number>((a, b) => a + b, 0);
  }
}
