import type { DbHandle } from '../store/db';
import type { SettingsRecord } from '../store/schema';

export const DEFAULT_SETTINGS: SettingsRecord = { key: 'settings', unauthenticated: 'refuse', globalConcurrentCalls: 16 };

export async function readSettings(handle: DbHandle): Promise<SettingsRecord> {
  return (await (await handle.get()).get('settings', 'settings')) ?? DEFAULT_SETTINGS;
}

export async function writeSettings(handle: DbHandle, change: Partial<Omit<SettingsRecord, 'key'>>): Promise<SettingsRecord> {
  const errors: string[] = [];
  if (change.unauthenticated !== undefined && change.unauthenticated !== 'refuse' && change.unauthenticated !== 'untrusted') errors.push('unauthenticated: must be "refuse" or "untrusted"');
  if (change.globalConcurrentCalls !== undefined && !(Number.isInteger(change.globalConcurrentCalls) && change.globalConcurrentCalls >= 1 && change.globalConcurrentCalls <= 256)) errors.push('globalConcurrentCalls: must be an integer from 1 to 256');
  if (errors.length) throw Object.assign(new Error(errors.join('; ')), { code: 'invalid-input' });
  const next: SettingsRecord = { ...(await readSettings(handle)), ...change, key: 'settings' };
  const tx = (await handle.get()).transaction('settings', 'readwrite', { durability: 'strict' });
  await Promise.all([tx.store.put(next), tx.done]);
  return next;
}
