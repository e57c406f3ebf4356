/**
 * The admin API used by the app's own pages (UI, tests): requests to the service worker that
 * never travel over an agent's MCP session.
 */
import { envelope, isEnvelope, type AdminRequestEnvelope } from '../shared/wire';
import type { AuditEntry, SessionRecord, ToolRecord } from '../store/schema';
import type { ChainVerdict, Tail } from '../store/audit';
import { registerSandbox } from './register';

export interface AdminMethods {
  /** Answered by the service worker without touching storage: the bare round trip. */
  ping: { params: undefined; result: 'pong' };
  'server.info': { params: undefined; result: { name: string; version: string; incarnation: string } };
  'tools.list': { params: undefined; result: ToolRecord[] };
  'tools.seed': { params: { fixtures: boolean }; result: string[] };
  'sessions.list': { params: undefined; result: SessionRecord[] };
  'audit.list': { params: { sessionId?: string } | undefined; result: AuditEntry[] };
  'audit.tail': { params: { limit?: number } | undefined; result: AuditEntry[] };
  /** With `from` (a head verified before), checks only what came after it. */
  'audit.verify': { params: { from?: Tail } | undefined; result: ChainVerdict };
  'audit.export': { params: undefined; result: string };
}

export class AdminError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'AdminError';
  }
}

export interface AdminClient {
  request<M extends keyof AdminMethods>(method: M, ...params: undefined extends AdminMethods[M]['params'] ? [AdminMethods[M]['params']?] : [AdminMethods[M]['params']]): Promise<AdminMethods[M]['result']>;
}

export async function createAdminClient(timeoutMs = 30_000): Promise<AdminClient> {
  const registration = await registerSandbox();
  const container = navigator.serviceWorker;
  container.startMessages();
  return {
    request(method, ...params) {
      const id = crypto.randomUUID();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => done(() => reject(new AdminError('timeout', `admin ${method} got no answer in ${timeoutMs} ms`))), timeoutMs);
        const onMessage = (event: MessageEvent) => {
          const data: unknown = event.data;
          if (!isEnvelope(data) || data.kind !== 'admin-result' || data.id !== id) return;
          done(() => (data.error ? reject(new AdminError(data.error.code, data.error.message)) : resolve(data.result as never)));
        };
        const done = (settle: () => void) => {
          clearTimeout(timer);
          container.removeEventListener('message', onMessage);
          settle();
        };
        container.addEventListener('message', onMessage);
        const body: Omit<AdminRequestEnvelope, 'channel' | 'v'> = { kind: 'admin', id, method };
        if (params[0] !== undefined) body.params = params[0];
        (registration.active ?? container.controller)!.postMessage(envelope<AdminRequestEnvelope>(body));
      });
    },
  };
}
