import type { DbHandle } from './db';
import type { Sealed, SealingKeyRecord } from './schema';
import { base64ToBytes, bytesToBase64 } from './hash';

export type { Sealed } from './schema';

/**
 * Encryption at rest for what a policy marks `encryptionRequired`.
 *
 * Invariants:
 * - The key is generated here by WebCrypto as non-extractable and kept, as a CryptoKey, in the
 *   `keys` store: it can be used by this origin's contexts and never read out, not even by them.
 * - There is one current key. Generating it is decided in one IndexedDB transaction (add only
 *   if the store is empty), so two contexts starting at once end up sharing one key; the key is
 *   generated before that transaction, because only IndexedDB requests may be awaited inside one.
 * - A sealed value names the key that opens it, so older values stay readable if a newer key is
 *   ever added (the newest key seals).
 * - `context` is authenticated with the ciphertext (AES-GCM additional data): a value sealed for
 *   one place (a workspace path) does not open in another, so ciphertexts cannot be swapped.
 * - Values are sealed as their JSON text: `seal` refuses what `JSON.stringify` cannot write, and
 *   keeps what it keeps (undefined members are dropped). The ciphertext's length tells the
 *   plaintext's length.
 */
export class Sealer {
  private current: Promise<SealingKeyRecord> | null = null;
  private readonly known = new Map<string, CryptoKey>();

  constructor(
    private readonly handle: DbHandle,
    private readonly clock: () => number = Date.now,
  ) {}

  async seal(value: unknown, context = ''): Promise<Sealed> {
    let text: string | undefined;
    try {
      text = JSON.stringify(value);
    } catch (error) {
      throw new TypeError(`cannot seal this value: ${(error as Error).message}`, { cause: error });
    }
    if (text === undefined) throw new TypeError(`cannot seal ${typeof value}: it has no JSON text`);
    const { id, key } = await this.currentKey();
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const data = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: new TextEncoder().encode(context) }, key, new TextEncoder().encode(text));
    return { alg: 'AES-GCM-256', keyId: id, iv: bytesToBase64(iv), data: bytesToBase64(new Uint8Array(data)) };
  }

  /** The sealed value; rejects if its key is gone, or its ciphertext or context is not the one sealed. */
  async open(sealed: Sealed, context = ''): Promise<unknown> {
    if (!isSealed(sealed)) throw new TypeError('not a sealed value');
    const key = await this.keyById(sealed.keyId);
    let plain: ArrayBuffer;
    try {
      plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: base64ToBytes(sealed.iv), additionalData: new TextEncoder().encode(context) }, key, base64ToBytes(sealed.data));
    } catch {
      throw new Error('sealed value does not open: its ciphertext or its context was changed');
    }
    return JSON.parse(new TextDecoder().decode(plain)) as unknown;
  }

  private currentKey(): Promise<SealingKeyRecord> {
    if (!this.current) {
      this.current = this.loadOrCreate();
      this.current.catch(() => {
        this.current = null;
      });
    }
    return this.current;
  }

  private async loadOrCreate(): Promise<SealingKeyRecord> {
    const db = await this.handle.get();
    const newest = (records: SealingKeyRecord[]) => records.reduce<SealingKeyRecord | undefined>((a, b) => (!a || b.createdAt > a.createdAt || (b.createdAt === a.createdAt && b.id > a.id) ? b : a), undefined);
    let found = newest(await db.getAll('keys'));
    if (!found) {
      const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
      const mine: SealingKeyRecord = { id: crypto.randomUUID(), alg: 'AES-GCM-256', key, createdAt: this.clock() };
      const tx = db.transaction('keys', 'readwrite');
      // Another context may have added one since we looked: then that one is the key.
      found = newest(await tx.store.getAll());
      if (!found) {
        void tx.store.add(mine);
        found = mine;
      }
      await tx.done;
    }
    this.known.set(found.id, found.key);
    return found;
  }

  private async keyById(id: string): Promise<CryptoKey> {
    const cached = this.known.get(id);
    if (cached) return cached;
    const record = await (await this.handle.get()).get('keys', id);
    if (!record) throw new Error(`sealed value does not open: its key ${id} is not in this store`);
    this.known.set(id, record.key);
    return record.key;
  }
}

export function isSealed(v: unknown): v is Sealed {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  return s['alg'] === 'AES-GCM-256' && typeof s['keyId'] === 'string' && typeof s['iv'] === 'string' && typeof s['data'] === 'string';
}
