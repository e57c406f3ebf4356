import { expose } from 'comlink';
import { DbHandle } from '../store/db';
import { verifySlice } from '../store/verify';
import type { Tail } from '../store/audit';

// The app's audit verifier, off every thread that serves calls: it reads IndexedDB itself, on
// short read transactions of its own, and hashes here. Verifying in the service worker would
// hold the thread that answers agents (SHA-256 of 2,000 entries is ~100 ms of it).
const db = new DbHandle();
const api = { verify: (from: Tail | undefined, limit: number) => verifySlice(db, from, limit) };
export type AuditWorkerApi = typeof api;
expose(api);
