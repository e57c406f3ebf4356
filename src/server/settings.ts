import type { DbHandle } from '../store/db';
import type { SettingsRecord } from '../store/schema';

export const DEFAULT_SETTINGS: SettingsRecord = { key: 'settings', unauthenticated: 'refuse', globalConcurrentCalls: 16 };

/**
 * The settings as this service-worker lifetime last read or wrote them, per database: they
 * change only through `writeSettings` (the admin API, in this service worker).
 */
const known = new WeakMap<DbHandle, SettingsRecord>();

export async function readSettings(handle: DbHandle): Promise<SettingsRecord> {
  const cached = known.get(handle);
  if (cached) return cached;
  const stored = (await (await handle.get()).get('settings', 'settings')) ?? DEFAULT_SETTINGS;
  if (!known.has(handle)) known.set(handle, stored);
  return known.get(handle)!;
}

export async function writeSettings(handle: DbHandle, change: Partial<Omit<SettingsRecord, 'key'>>): Promise<SettingsRecord> {
  const errors: string[] = [];
  if (change.unauthenticated !== undefined && change.unauthenticated !== 'refuse' && change.unauthenticated !== 'untrusted') errors.push('unauthenticated: must be "refuse" or "untrusted"');
  if (change.globalConcurrentCalls !== undefined && !(Number.isInteger(change.globalConcurrentCalls) && change.globalConcurrentCalls >= 1 && change.globalConcurrentCalls <= 256)) errors.push('globalConcurrentCalls: must be an integer from 1 to 256');
  if (errors.length) throw Object.assign(new Error(errors.join('; ')), { code: 'invalid-input' });
  const next: SettingsRecord = { ...(await readSettings(handle)), ...change, key: 'settings' };
  const tx = (await handle.get()).transaction('settings', 'readwrite', { durability: 'strict' });
  try {
    await Promise.all([tx.store.put(next), tx.done]);
  } catch (error) {
    known.delete(handle);
    throw error;
  }
  known.set(handle, next);
  return next;
}
