import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { AuditLog, hashEntry, openEntry, readAudit, toJsonLines, verifyChain } from '../../src/store/audit';
import { DbHandle } from '../../src/store/db';
import { isSealed, Sealer } from '../../src/store/sealing';
import { readWorkspaceFile, writeWorkspaceFile } from '../../src/store/workspace';
import type { AuditEntry } from '../../src/store/schema';
import { freshDbName } from './support/server-fixture';

const SECRET = 'hunter2-correct-horse-battery-staple';

async function sealedChain() {
  const handle = new DbHandle(freshDbName());
  const sealer = new Sealer(handle);
  const log = new AuditLog(handle, Date.now, sealer);
  const args = { password: SECRET, nested: [1, { deep: SECRET }] };
  const details = { kind: 'call', output: `echo: ${SECRET}` };
  await log.append({ event: 'admin', outcome: 'info', details: { before: true } });
  const sealed = await log.append({ event: 'call.request', outcome: 'pending', tool: 'echo', agentId: 'agent-1', args, details, seal: ['args', 'details'] });
  await log.append({ event: 'admin', outcome: 'info', details: { after: true } });
  return { handle, sealer, log, args, details, sealed };
}

describe('sealed audit entries', () => {
  it('keep event, outcome, tool, agent and seq readable, name their sealed fields, and store no plaintext', async () => {
    const { handle, sealed } = await sealedChain();
    expect(sealed).toMatchObject({ seq: 2, event: 'call.request', outcome: 'pending', tool: 'echo', agentId: 'agent-1', sealed: ['args', 'details'] });
    const raw = (await (await handle.get()).get('audit', 2))!;
    expect(isSealed(raw.args)).toBe(true);
    expect(isSealed(raw.details)).toBe(true);
    expect(JSON.stringify(raw)).not.toContain('hunter2');
    expect(JSON.stringify(await readAudit(handle))).not.toContain('hunter2');
    // Entries appended without `seal` carry no `sealed`.
    expect((await (await handle.get()).get('audit', 1))!).not.toHaveProperty('sealed');
  });

  it('verify without the key: the hash covers the ciphertext', async () => {
    const { handle } = await sealedChain();
    // A verifier with no key at all: the key store emptied, and no Sealer anywhere.
    await (await handle.get()).clear('keys');
    expect(await verifyChain(await readAudit(handle))).toMatchObject({ ok: true, count: 3 });
  });

  it('detect a changed ciphertext (and a re-hashed one by its broken link)', async () => {
    const { handle } = await sealedChain();
    const db = await handle.get();
    const entry = (await db.get('audit', 2))!;
    const data = (entry.args as { data: string }).data;
    const flipped = { ...entry, args: { ...(entry.args as object), data: (data[0] === 'A' ? 'B' : 'A') + data.slice(1) } };
    await db.put('audit', flipped);
    expect(await verifyChain(await readAudit(handle))).toEqual({ ok: false, count: 1, seq: 2, reason: 'hash-mismatch' });
    const { hash: _h, ...body } = flipped;
    await db.put('audit', { ...flipped, hash: await hashEntry(body) });
    expect(await verifyChain(await readAudit(handle))).toEqual({ ok: false, count: 2, seq: 3, reason: 'broken-link' });
    // Nor does the changed ciphertext open.
    expect((await openEntry((await db.get('audit', 2))!, new Sealer(handle))).unopened).toEqual(['args']);
  });

  it('open again for display, with a fresh Sealer on the same store', async () => {
    const { handle, args, details, sealed } = await sealedChain();
    const opened = await openEntry(sealed, new Sealer(handle));
    expect(opened).toMatchObject({ seq: 2, args, details, sealed: ['args', 'details'] });
    expect(opened).not.toHaveProperty('unopened');
    // Entries with nothing sealed come back as they are.
    const [first] = await readAudit(handle);
    expect(await openEntry(first!, new Sealer(handle))).toEqual(first);
  });

  it('do not open without their key, and say so instead of failing', async () => {
    const { handle, sealed } = await sealedChain();
    await (await handle.get()).clear('keys');
    const opened = await openEntry(sealed, new Sealer(handle));
    expect(opened.unopened).toEqual(['args', 'details']);
    expect(isSealed(opened.args)).toBe(true);
  });

  it('leave a null field null, and list only what they sealed', async () => {
    const handle = new DbHandle(freshDbName());
    const entry = await new AuditLog(handle).append({ event: 'call.result', outcome: 'ok', details: { output: SECRET }, seal: ['args', 'details'] });
    expect(entry).toMatchObject({ args: null, sealed: ['details'] });
    expect(await verifyChain(await readAudit(handle))).toMatchObject({ ok: true, count: 1 });
  });

  it('refuse a value with no JSON text, rejecting only that entry', async () => {
    const handle = new DbHandle(freshDbName());
    const log = new AuditLog(handle);
    const results = await Promise.allSettled([log.append({ event: 'admin', outcome: 'info', args: { n: 1n }, seal: ['args'] }), log.append({ event: 'admin', outcome: 'info', args: { n: 1 }, seal: ['args'] })]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled']);
    expect(await verifyChain(await readAudit(handle))).toMatchObject({ ok: true, count: 1 });
  });

  it('are exported still sealed, each line naming its sealed fields', async () => {
    const { handle } = await sealedChain();
    const lines = toJsonLines(await readAudit(handle)).trim().split('\n').map((l) => JSON.parse(l) as AuditEntry);
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatchObject({ seq: 2, sealed: ['args', 'details'], args: { alg: 'AES-GCM-256' }, details: { alg: 'AES-GCM-256' } });
    expect(lines.map((l) => l.sealed ?? null)).toEqual([null, ['args', 'details'], null]);
    expect(JSON.stringify(lines)).not.toContain('hunter2');
  });
});

describe('the sealing key', () => {
  it('is a non-extractable AES-GCM-256 CryptoKey kept in IndexedDB', async () => {
    const handle = new DbHandle(freshDbName());
    const sealed = await new Sealer(handle).seal('x');
    const records = await (await handle.get()).getAll('keys');
    expect(records).toHaveLength(1);
    const { id, alg, key } = records[0]!;
    expect(sealed.keyId).toBe(id);
    expect(alg).toBe('AES-GCM-256');
    expect(key).toBeInstanceOf(CryptoKey);
    expect(key.extractable).toBe(false);
    expect(key.algorithm).toMatchObject({ name: 'AES-GCM', length: 256 });
    await expect(crypto.subtle.exportKey('raw', key)).rejects.toThrow();
    await expect(crypto.subtle.exportKey('jwk', key)).rejects.toThrow();
  });

  it('is created once when two contexts first seal at the same time', async () => {
    const name = freshDbName();
    const [a, b] = [new Sealer(new DbHandle(name)), new Sealer(new DbHandle(name))];
    const [sa, sb] = await Promise.all([a.seal('from a'), b.seal('from b')]);
    expect(sa.keyId).toBe(sb.keyId);
    expect(await (await new DbHandle(name).get()).count('keys')).toBe(1);
    expect(await b.open(sa)).toBe('from a');
    expect(await a.open(sb)).toBe('from b');
  });

  it('binds a sealed value to its context', async () => {
    const sealer = new Sealer(new DbHandle(freshDbName()));
    const sealed = await sealer.seal({ v: 1 }, 'here');
    expect(await sealer.open(sealed, 'here')).toEqual({ v: 1 });
    await expect(sealer.open(sealed, 'there')).rejects.toThrow(/does not open/);
    expect(sealed.iv).not.toBe((await sealer.seal({ v: 1 }, 'here')).iv);
  });
});

describe('workspace files', () => {
  it('round-trip sealed and in the clear; sealed ones keep no plaintext at rest', async () => {
    const handle = new DbHandle(freshDbName());
    const sealer = new Sealer(handle);
    const secret = { path: './workspace/secret.txt', contents: `token=${SECRET}`, size: 44, modifiedMs: 5 };
    const plain = { path: './workspace/plain.txt', contents: 'hello', size: 5, modifiedMs: 6 };
    await writeWorkspaceFile(handle, sealer, secret, { seal: true });
    await writeWorkspaceFile(handle, sealer, plain, { seal: false });
    expect(await readWorkspaceFile(handle, sealer, secret.path)).toEqual(secret);
    expect(await readWorkspaceFile(handle, new Sealer(handle), plain.path)).toEqual(plain);
    expect(await readWorkspaceFile(handle, sealer, './workspace/none.txt')).toBeUndefined();
    const db = await handle.get();
    const raw = (await db.get('workspace', secret.path))!;
    expect(isSealed(raw.contents)).toBe(true);
    expect(raw).toMatchObject({ path: secret.path, size: 44, modifiedMs: 5 });
    expect(JSON.stringify(raw)).not.toContain('hunter2');
    expect((await db.get('workspace', plain.path))!.contents).toBe('hello');
  });

  it('do not open at another path: sealed contents cannot be moved between files', async () => {
    const handle = new DbHandle(freshDbName());
    const sealer = new Sealer(handle);
    await writeWorkspaceFile(handle, sealer, { path: './workspace/a.txt', contents: 'for a only', size: 10, modifiedMs: 1 }, { seal: true });
    const db = await handle.get();
    const moved = { ...(await db.get('workspace', './workspace/a.txt'))!, path: './workspace/b.txt' };
    await db.put('workspace', moved);
    await expect(readWorkspaceFile(handle, sealer, './workspace/b.txt')).rejects.toThrow(/does not open/);
  });
});
