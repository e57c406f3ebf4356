import { wrap, type Remote } from 'comlink';
import type { AuditWorkerApi } from '../entries/audit-worker';
import type { Tail } from '../store/audit';
import type { VerifiedSlice } from '../store/verify';
import { adminClient } from './admin';

/** Verifies one slice of the audit chain after `from` (src/store/verify.ts). */
export type SliceVerifier = (from: Tail | undefined, limit: number) => Promise<VerifiedSlice>;

/**
 * The app's slice verifier: a worker of this page that reads IndexedDB and hashes itself, so a
 * whole verification takes no time from the service worker that answers agents. Where the worker
 * cannot start, the service worker verifies (`audit.verify`).
 */
export function auditVerifier(): SliceVerifier {
  let worker: Remote<AuditWorkerApi> | null = null;
  const viaAdmin: SliceVerifier = async (from, limit) => (await adminClient()).request('audit.verify', { ...(from ? { from } : {}), limit });
  return async (from, limit) => {
    try {
      worker ??= wrap<AuditWorkerApi>(new Worker(new URL('../entries/audit-worker.ts', import.meta.url), { type: 'module', name: 'audit-verifier' }));
      return await worker.verify(from, limit);
    } catch {
      worker = null;
      return viaAdmin(from, limit);
    }
  };
}
