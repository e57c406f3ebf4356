import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openDB } from 'idb';
import { AuditLog, GENESIS_HASH, hashEntry, readAudit, toJsonLines, verifyChain, type ChainVerdict, type Tail } from '../../src/store/audit';
import { DbHandle } from '../../src/store/db';
import { canonicalize, canonicalJson, sha256Hex } from '../../src/store/hash';
import { DB_VERSION } from '../../src/store/migrations';
import type { AuditEntry } from '../../src/store/schema';
import { freshDbName } from './support/server-fixture';

/** A value nested `depth` arrays deep, built without recursion. */
function nested(depth: number): unknown {
  let v: unknown = 'bottom';
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

/** Details with an own `__proto__` member (JSON.parse defines it as an own key, as structured clone keeps it). */
const detailsOf = (i: number) => JSON.parse(`{"__proto__":{"role":"reader"},"i":${i},"nothing":null,"zero":0}`) as Record<string, unknown>;

async function chainOf(count: number): Promise<{ handle: DbHandle; name: string }> {
  const name = freshDbName();
  const handle = new DbHandle(name);
  const log = new AuditLog(handle, () => 1000);
  for (let i = 1; i <= count; i++) await log.append({ event: 'admin', outcome: 'info', details: detailsOf(i) });
  return { handle, name };
}

type Rec = AuditEntry & { details: Record<string, unknown> };
const withDetail = (key: string, value: unknown) => (r: Rec) => ({ ...r, details: Object.defineProperty({ ...r.details }, key, { value, enumerable: true, writable: true, configurable: true }) });

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('canonical form', () => {
  it('writes JSON values exactly as form 1 did (pinned outputs and hashes of the earlier implementation)', async () => {
    const entry = { seq: 1, ts: 1700000000000, event: 'call.request', sessionId: 's-1', agentId: 'demo-limited', callId: 'c-1', tool: 'text_stats', args: { text: 'Hello there.' }, outcome: 'pending', durationMs: null, memoryBytes: null, error: null, details: { kind: 'call', limits: { memoryBytes: 67108864, cpuMs: 5000 }, toolHash: 'ab'.repeat(32) }, prevHash: GENESIS_HASH };
    const keys = { b: [1, 2.5, -3, 1e21, 0.1, 1e-7, true, false, null, 'x'], a: { z: {}, y: [] }, '10': 'ten', '9': 'nine', '01': 'zero-one', '4294967294': 'max-index', '4294967295': 'not-index', é: 'accent', Z: 'upper', '': 'empty' };
    const pinned: [unknown, string, string | null][] = [
      [entry, '65f5ad04ad73997de55fd07a34e0e823e387ffbd600666c65288c0fbbfa89ca7', null],
      [keys, '1f12c57e19647d61e43d438275629ff3841b06e3c60e780b2d24c93a2ae95c73', '{"9":"nine","10":"ten","4294967294":"max-index","":"empty","01":"zero-one","4294967295":"not-index","Z":"upper","a":{"y":[],"z":{}},"b":[1,2.5,-3,1e+21,0.1,1e-7,true,false,null,"x"],"é":"accent"}'],
      [['\u2028\u2029 "quoted" \\ \n\t \u0000 \ud800 😀', 'ünïcödé'], '043ec779c7aa4f74ac0030e3213a2b923bfd680fa6827aedafa61ed284d83744', null],
      [{ nested: [[[{ k: [1, { j: 'v' }] }]]] }, 'f26d82a3e9ce0e284f9a1f331684941093d59c4245edf87a3e98607ee759bb8f', '{"nested":[[[{"k":[1,{"j":"v"}]}]]]}'],
      ['top-level string', '97855b10de0a3311ba7a0d45b5fe072d82d75a1dfdf2a1fcd9080797205d703f', '"top-level string"'],
      [42, '73475cb40a568e8da8a045ced110137e159f890ac4da883b6b17dc651b3a8049', '42'],
      [null, '74234e98afe7498fb5daf1f36ac2d78acc339464f950703b8c019892f982b90b', 'null'],
      [[], '4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945', '[]'],
    ];
    for (const [value, hash, text] of pinned) {
      for (const form of [1, 2] as const) {
        const c = canonicalize(value, form);
        expect(c).toMatchObject({ ok: true, notJson: null });
        if (text !== null) expect((c as { text: string }).text).toBe(text);
        expect(await sha256Hex((c as { text: string }).text)).toBe(hash);
      }
    }
  });

  it('gives different values different texts, and JSON values never the text of a non-JSON one', () => {
    const sparse: unknown[] = [1];
    sparse[2] = 3;
    const named = Object.assign([1, 2], { extra: true });
    const shared = { s: 1 };
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic['self'] = cyclic;
    const buffer = new Uint8Array([1, 2, 3, 4]).buffer;
    const values: unknown[] = [
      null, undefined, 'null', 'undefined', 'NaN', NaN, 0, -0, '-0', 1, 1n, '1n', '1', Infinity, -Infinity, 'Infinity', true, 'true',
      {}, { a: undefined }, { a: null }, [], [undefined], [null], sparse, [1, undefined, 3], [1, null, 3], named, [1, 2],
      JSON.parse('{"__proto__":1}'), { ['__proto__ ']: 1 }, { proto: 1 },
      new Date(0), new Date(NaN), '1970-01-01T00:00:00.000Z', { '!Date(0)': 1 }, '!Date(0)',
      new Map([['a', 1]]), new Map([['a', 1], ['b', 2]]), new Map([['b', 2], ['a', 1]]), { a: 1 }, [['a', 1]], new Set([1]), new Set(['1']),
      /a/g, /a/i, new Uint8Array([1, 2]), new Int8Array([1, 2]), new Uint8Array([1, 2, 3]), new DataView(buffer, 1, 2), new Uint8Array(buffer, 1, 2), new ArrayBuffer(2),
      Object(1), Object('1'), Object(true), Object(1n), new Error('x'), new TypeError('x'),
      { a: shared, b: shared }, { a: { s: 1 }, b: { s: 1 } }, cyclic, { a: 1, self: { a: 1 } },
    ];
    const texts = values.map((v) => {
      const c = canonicalize(v);
      if (!c.ok) throw new Error(`no canonical form for ${String(v)}: ${c.detail}`);
      return c.text;
    });
    const seen = new Map<string, number>();
    texts.forEach((t, i) => {
      expect(seen.has(t), `values ${seen.get(t)} and ${i} share the text ${t}`).toBe(false);
      seen.set(t, i);
    });
    // A JSON value's text is JSON; a non-JSON value's text is not, and says where the first one is.
    expect(canonicalize({ a: [1, { b: NaN }] })).toMatchObject({ ok: true, notJson: 'NaN at /a/1/b' });
    expect(() => JSON.parse(canonicalJson({ a: [1, { b: NaN }] }))).toThrow();
  });

  it('keeps an own __proto__ member as a member, in the value and in the text', () => {
    const a = JSON.parse('{"__proto__":{"role":"reader"}}');
    const b = JSON.parse('{"__proto__":{"role":"admin"}}');
    expect(canonicalJson(a)).toBe('{"__proto__":{"role":"reader"}}');
    expect(canonicalJson(a)).not.toBe(canonicalJson(b));
  });

  // Form 1 writes a shared value out in full each time: the 2^40 case runs to its size bound (a second or two).
  it('walks 100,000 levels of nesting, and cycles, without recursion', { timeout: 30_000 }, () => {
    const deep = nested(100_000);
    expect(canonicalize(deep)).toMatchObject({ ok: true, notJson: null });
    expect(canonicalJson(deep)).toHaveLength(100_000 * 2 + '"bottom"'.length);
    let obj: Record<string, unknown> = {};
    for (let i = 0; i < 100_000; i++) obj = { a: obj };
    expect(canonicalize(obj).ok).toBe(true);
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    expect(canonicalize(cyclic)).toMatchObject({ ok: true, text: '[!ref(0)]' });
    // A value shared many times over is written once, not 2^40 times.
    let dag: unknown = 'leaf';
    for (let i = 0; i < 40; i++) dag = [dag, dag];
    expect(canonicalize(dag).ok).toBe(true);
    // Form 1 could hash neither, so it vouches for neither.
    expect(canonicalize(cyclic, 1)).toMatchObject({ ok: false });
    expect(canonicalize(dag, 1)).toMatchObject({ ok: false });
  });

  it('never throws: a value it cannot read or that has no canonical form gets a reason', () => {
    expect(canonicalize(new Blob(['secret']))).toMatchObject({ ok: false, detail: expect.stringContaining('Blob') });
    expect(canonicalize({ f: () => 1 })).toMatchObject({ ok: false, detail: expect.stringContaining('/f') });
    const hostile = new Proxy({}, { ownKeys: () => { throw new Error('no keys for you'); } });
    expect(canonicalize({ hostile })).toMatchObject({ ok: false, detail: expect.stringContaining('no keys for you') });
    expect(() => canonicalJson(new Blob([]))).toThrow(TypeError);
  });
});

describe('a tampered audit store', () => {
  /**
   * Each case edits the record at seq 3 of a 4-entry chain in IndexedDB (or replaces or removes
   * it); verification, whole and incremental from the head at seq 1, must name the expected seq.
   */
  const cases: { name: string; tamper: (r: Rec) => unknown; seq: number; reason: Extract<ChainVerdict, { ok: false }>['reason'] }[] = [
    { name: 'the value under an own __proto__ key changed', tamper: withDetail('__proto__', { role: 'admin' }), seq: 3, reason: 'hash-mismatch' },
    { name: 'a value replaced by a BigInt', tamper: withDetail('i', 3n), seq: 3, reason: 'hash-mismatch' },
    { name: 'a value replaced by a Date', tamper: withDetail('i', new Date(3)), seq: 3, reason: 'hash-mismatch' },
    { name: 'a value replaced by a Map', tamper: withDetail('i', new Map([['i', 3]])), seq: 3, reason: 'hash-mismatch' },
    { name: 'a value replaced by a typed array', tamper: withDetail('i', new Uint8Array([3])), seq: 3, reason: 'hash-mismatch' },
    { name: 'a value replaced by undefined', tamper: withDetail('i', undefined), seq: 3, reason: 'hash-mismatch' },
    { name: 'an undefined member added', tamper: withDetail('added', undefined), seq: 3, reason: 'hash-mismatch' },
    { name: 'null replaced by NaN', tamper: withDetail('nothing', NaN), seq: 3, reason: 'hash-mismatch' },
    { name: '0 replaced by -0', tamper: withDetail('zero', -0), seq: 3, reason: 'hash-mismatch' },
    { name: 'a value replaced by a Blob', tamper: withDetail('i', new Blob(['3'])), seq: 3, reason: 'malformed' },
    { name: 'its canonical form removed (a downgrade to form 1)', tamper: ({ canonical: _c, ...r }) => r, seq: 3, reason: 'malformed' },
    { name: 'its canonical form removed and its __proto__ member dropped', tamper: ({ canonical: _c, ...r }) => ({ ...r, details: { i: 3, nothing: null, zero: 0 } }), seq: 3, reason: 'hash-mismatch' },
    { name: 'its canonical form changed', tamper: (r) => ({ ...r, canonical: 1 }), seq: 3, reason: 'malformed' },
    { name: 'the record replaced by an array', tamper: (r) => Object.assign(['not', 'an', 'entry'], { seq: r.seq }), seq: 3, reason: 'malformed' },
  ];

  for (const c of cases) {
    it(`names seq ${c.seq} when ${c.name}`, async () => {
      const { handle } = await chainOf(4);
      const head = await verifyChain(await readAudit(handle, 0).then((all) => all.slice(0, 1)));
      if (!head.ok) throw new Error('the first entry should verify');
      const db = await handle.get();
      await db.put('audit', c.tamper((await db.get('audit', 3)) as Rec) as AuditEntry);
      await expectBroken(handle, { seq: head.headSeq, hash: head.head }, c.seq, c.reason);
    });
  }

  it('names seq 3 when it holds a value nested 100,000 levels deep', async () => {
    const { handle } = await chainOf(4);
    const db = await handle.get();
    const record = (await db.get('audit', 3))!;
    // Node's structured clone itself overflows past a few thousand levels, so the record is
    // planted, and read back, with cloning by reference: what a store holding it would return.
    vi.stubGlobal('structuredClone', <T>(value: T): T => value);
    await db.put('audit', { ...record, details: { ...record.details, i: nested(100_000) } });
    await expectBroken(handle, { seq: 1, hash: (await db.get('audit', 1))!.hash }, 3, 'hash-mismatch');
  });

  it('names seq 4 (the entry after the gap) when seq 3 is deleted', async () => {
    const { handle } = await chainOf(4);
    await (await handle.get()).delete('audit', 3);
    await expectBroken(handle, { seq: 1, hash: (await (await handle.get()).get('audit', 1))!.hash }, 4, 'gap');
  });

  it('names seq 3 when entries 3 and 4 are swapped', async () => {
    const { handle } = await chainOf(4);
    const db = await handle.get();
    const [three, four] = [(await db.get('audit', 3))!, (await db.get('audit', 4))!];
    await db.put('audit', { ...four, seq: 3 });
    await db.put('audit', { ...three, seq: 4 });
    await expectBroken(handle, { seq: 1, hash: (await db.get('audit', 1))!.hash }, 3, 'broken-link');
  });

  it('names seq 3 when the record is replaced by a string or by null (possible only once the store loses its key path)', async () => {
    for (const replacement of ['not an entry', null]) {
      const { handle, name } = await chainOf(4);
      const db = await handle.get();
      // The audit store keys records by their `seq`, so IndexedDB refuses a record that is not an object...
      await expect(db.put('audit', replacement as unknown as AuditEntry)).rejects.toMatchObject({ name: 'DataError' });
      const records = await db.getAll('audit');
      await handle.close();
      // ...until someone with the origin re-creates the store without one, as devtools can.
      const raw = await openDB(name, DB_VERSION + 1, {
        upgrade(up) {
          up.deleteObjectStore('audit');
          const store = up.createObjectStore('audit');
          records.forEach((r) => void store.put(r.seq === 3 ? replacement : r, r.seq));
        },
      });
      const stored = (await raw.getAll('audit')) as unknown[];
      raw.close();
      expect(stored[2]).toBe(replacement);
      const verdict = await verifyChain(stored);
      expect(verdict).toMatchObject({ ok: false, count: 2, seq: 3, reason: 'malformed', detail: expect.stringContaining(replacement === null ? 'null' : 'a string') });
      expect(await verifyChain(stored.slice(1), { seq: 1, hash: (stored[0] as AuditEntry).hash })).toMatchObject({ ok: false, count: 1, seq: 3, reason: 'malformed' });
      expect(toJsonLines(stored).split('\n')).toHaveLength(5);
    }
  });

  it('reports a record without a seq where an entry was expected', async () => {
    const { handle } = await chainOf(2);
    const [one, two] = await readAudit(handle);
    const { seq: _s, ...noSeq } = two!;
    expect(await verifyChain([one, noSeq])).toEqual({ ok: false, count: 1, seq: 2, reason: 'malformed', detail: 'the record after #1 has no valid seq (a undefined)' });
    expect(await verifyChain([one, { ...two, seq: 1.5 }])).toMatchObject({ ok: false, seq: 2, reason: 'malformed' });
  });

  async function expectBroken(handle: DbHandle, from: Tail, seq: number, reason: string): Promise<void> {
    const whole = await verifyChain(await readAudit(handle));
    expect(whole).toMatchObject({ ok: false, seq, reason });
    if (reason === 'malformed') expect((whole as { detail: string }).detail).toMatch(new RegExp(`#\\d`));
    expect(await verifyChain(await readAudit(handle, from.seq), from)).toMatchObject({ ok: false, seq, reason });
    // The export writes every record, whatever it holds.
    const lines = toJsonLines(await readAudit(handle)).trimEnd().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
  }
});

describe('entries written before canonical form 2', () => {
  /** An entry as the earlier implementation stored it: no `canonical`, hashed in form 1. */
  async function legacyChain(bodies: Record<string, unknown>[], hashOf: (body: Record<string, unknown>) => Promise<string>): Promise<DbHandle> {
    const handle = new DbHandle(freshDbName());
    const db = await handle.get();
    let prevHash = GENESIS_HASH;
    for (let i = 0; i < bodies.length; i++) {
      const body = { ...bodies[i], seq: i + 1, prevHash };
      const hash = await hashOf(body);
      await db.add('audit', { ...body, hash } as unknown as AuditEntry);
      prevHash = hash;
    }
    return handle;
  }
  /** How the earlier implementation hashed an entry body: JSON.stringify with keys sorted (own __proto__ members fell away). */
  const formOneHash = (body: Record<string, unknown>) => {
    const text = canonicalize(JSON.parse(JSON.stringify(body), (key, value: unknown) => (key === '__proto__' ? undefined : value)), 1);
    if (!text.ok) throw new Error(text.detail);
    return sha256Hex(text.text);
  };

  it('still verify, undefined members, NaN, -0 and holes included (a hash pinned from the earlier implementation), and new entries chain on', async () => {
    const sparse: unknown[] = [1, undefined];
    sparse[3] = -0;
    sparse[4] = Infinity;
    const body = { ts: 1700000000000, event: 'call.request', sessionId: 's-1', agentId: 'a', callId: 'c-1', tool: 'text_stats', args: { text: 'x', limit: undefined, ratio: NaN, list: sparse }, outcome: 'pending', durationMs: null, memoryBytes: null, error: null, details: null };
    const handle = await legacyChain([body], async () => '78c44e2efe5da8478288ec1d5f97977a2e0e56edebfee57c593d4f0c08eb7f72');
    expect(await verifyChain(await readAudit(handle))).toMatchObject({ ok: true, count: 1 });
    const log = new AuditLog(handle);
    const next = await log.append({ event: 'admin', outcome: 'info', details: { after: true } });
    expect(next).toMatchObject({ seq: 2, canonical: 2 });
    expect(await verifyChain(await readAudit(handle))).toMatchObject({ ok: true, count: 2, headSeq: 2 });
    // Its blind spots stay its own: form 1 wrote NaN as null.
    const db = await handle.get();
    await db.put('audit', { ...(await db.get('audit', 1))!, args: { text: 'x', ratio: null, list: sparse } });
    expect(await verifyChain(await readAudit(handle))).toMatchObject({ ok: true });
  });

  it('are reported, not vouched for, when they hold a value form 1 ignored', async () => {
    const base = { ts: 1, event: 'admin', sessionId: null, agentId: null, callId: null, tool: null, args: null, outcome: 'info', durationMs: null, memoryBytes: null, error: null };
    const handle = await legacyChain([{ ...base, details: { ok: 1 } }, { ...base, details: JSON.parse('{"__proto__":{"role":"reader"},"i":2}') }], formOneHash);
    expect(await verifyChain(await readAudit(handle))).toMatchObject({ ok: false, count: 1, seq: 2, reason: 'malformed', detail: expect.stringContaining('__proto__') });
  });
});

describe('appending', () => {
  it('hashes what is stored: entries holding values JSON cannot carry verify, and changing them is caught', async () => {
    const handle = new DbHandle(freshDbName());
    const log = new AuditLog(handle);
    const entry = await log.append({ event: 'admin', outcome: 'info', args: { big: 10n, when: new Date(5), seen: new Map([['k', new Set([1])]]), bytes: new Uint8Array([1, 2]), none: undefined, nan: NaN }, details: detailsOf(1) });
    expect(await verifyChain(await readAudit(handle))).toMatchObject({ ok: true, count: 1, head: entry.hash });
    const db = await handle.get();
    const stored = (await db.get('audit', 1))!;
    (stored.args as { seen: Map<string, Set<number>> }).seen.get('k')!.add(2);
    await db.put('audit', stored);
    expect(await verifyChain(await readAudit(handle))).toMatchObject({ ok: false, seq: 1, reason: 'hash-mismatch' });
    // The export says what is not JSON and keeps the exact text.
    const line = JSON.parse(toJsonLines(await readAudit(handle)).trim()) as { seq: number; problem: string; canonical: string };
    expect(line).toMatchObject({ seq: 1, problem: expect.stringContaining('/args/big') });
    expect(line.canonical).toContain('"big":10n');
  });

  it('rejects only the entry that has no canonical form, and keeps the chain whole', async () => {
    const handle = new DbHandle(freshDbName());
    const log = new AuditLog(handle);
    const results = await Promise.allSettled([
      log.append({ event: 'admin', outcome: 'info', details: { i: 1 } }),
      log.append({ event: 'admin', outcome: 'info', details: { file: new Blob(['x']) } }),
      log.append({ event: 'admin', outcome: 'info', details: { f: (() => 1) as unknown } }),
      log.append({ event: 'admin', outcome: 'info', details: { i: 2 } }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    expect(await verifyChain(await readAudit(handle))).toMatchObject({ ok: true, count: 2 });
  });

  it('hashEntry agrees with verification', async () => {
    const handle = new DbHandle(freshDbName());
    const entry = await new AuditLog(handle).append({ event: 'admin', outcome: 'info', details: detailsOf(1) });
    const { hash, ...body } = entry;
    expect(await hashEntry(body)).toBe(hash);
  });
});
