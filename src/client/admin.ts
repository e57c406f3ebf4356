/**
 * The admin API used by the app's own pages (UI, tests): requests to the service worker that
 * never travel over an agent's MCP session.
 */
import { envelope, isEnvelope, type AdminRequestEnvelope } from '../shared/wire';
import type { AdminMethods } from '../api/admin';
import { registerSandbox } from './register';

export type { AdminMethods, AgentView, AgentInput, AgentMetrics } from '../api/admin';

export class AdminError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** For refused tool uploads: field errors of invalid metadata. */
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'AdminError';
  }
}

export interface AdminClient {
  request<M extends keyof AdminMethods>(method: M, ...params: undefined extends AdminMethods[M]['params'] ? [AdminMethods[M]['params']?] : [AdminMethods[M]['params']]): Promise<AdminMethods[M]['result']>;
}

export async function createAdminClient(timeoutMs = 30_000): Promise<AdminClient> {
  const container = navigator.serviceWorker;
  // A page the service worker already controls asks it at once: registering again first (the app
  // entry registers anyway) puts a round trip to the browser before an app's first request.
  const registration = container.controller ? null : await registerSandbox();
  container.startMessages();
  return {
    request(method, ...params) {
      const id = crypto.randomUUID();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => done(() => reject(new AdminError('timeout', `admin ${method} got no answer in ${timeoutMs} ms`))), timeoutMs);
        const onMessage = (event: MessageEvent) => {
          const data: unknown = event.data;
          if (!isEnvelope(data) || data.kind !== 'admin-result' || data.id !== id) return;
          done(() => (data.error ? reject(new AdminError(data.error.code, data.error.message, data.error.details)) : resolve(data.result as never)));
        };
        const done = (settle: () => void) => {
          clearTimeout(timer);
          container.removeEventListener('message', onMessage);
          settle();
        };
        container.addEventListener('message', onMessage);
        const body: Omit<AdminRequestEnvelope, 'channel' | 'v'> = { kind: 'admin', id, method };
        if (params[0] !== undefined) body.params = params[0];
        (registration?.active ?? container.controller)!.postMessage(envelope<AdminRequestEnvelope>(body));
      });
    },
  };
}
