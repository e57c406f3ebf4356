import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AuditLog, readAudit, toJsonLines } from '../../src/store/audit';
import { pruneArchived, writeArchive } from '../../src/store/archive';
import { verifyAuditFile } from '../../src/store/audit-file';
import { DbHandle } from '../../src/store/db';
import { freshDbName } from './support/server-fixture';

// An exported or archived audit file checks on its own: in the app's code, and from the command
// line (`npm run audit:verify`), file after file.

async function logOf(count: number): Promise<{ handle: DbHandle; log: AuditLog }> {
  const handle = new DbHandle(freshDbName());
  const log = new AuditLog(handle, () => 1_000);
  for (let i = 0; i < count; i += 50) await Promise.all(Array.from({ length: Math.min(50, count - i) }, (_, j) => log.append({ event: 'admin', outcome: 'info', details: { i: i + j } })));
  return { handle, log };
}
async function archiveText(handle: DbHandle, through: number): Promise<string> {
  let text = '';
  await writeArchive(handle, through, (c) => void (text += c), 2_000);
  return text;
}
const lines = (text: string) => text.split('\n');

describe('verifyAuditFile', () => {
  it('checks an archive, its checkpoint, and an export that continues from it', async () => {
    const { handle } = await logOf(300);
    const archive = await archiveText(handle, 200);
    const first = await verifyAuditFile(lines(archive));
    expect(first).toMatchObject({ ok: true, entries: 200, from: { seq: 0, signed: false }, head: { seq: 200 }, archive: { through: 200 } });
    await pruneArchived(handle, first.archive!);
    const db = await handle.get();
    const rest = await db.getAll('audit');
    const exported = JSON.stringify({ archive: first.archive }) + '\n' + toJsonLines(rest);
    expect(await verifyAuditFile(lines(exported))).toMatchObject({ ok: true, entries: 100, from: { seq: 200, signed: true }, head: { seq: 300 } });
    // Or the two files in order, the second's start checked against the first's end.
    expect(await verifyAuditFile(lines(toJsonLines(rest)), first.head)).toMatchObject({ ok: true, entries: 100 });
    expect(await verifyAuditFile(lines(toJsonLines(rest)))).toMatchObject({ ok: false, problem: expect.stringMatching(/^line 1: entry #201: gap/) });
  });

  it('names the line of an edited entry, a changed checkpoint, bytes changed before it, or a cut file', async () => {
    const { handle } = await logOf(120);
    const text = await archiveText(handle, 100);
    const l = lines(text);
    const edited = [...l];
    edited[49] = edited[49]!.replace('"i":49', '"i":1049');
    expect(await verifyAuditFile(edited)).toMatchObject({ ok: false, problem: expect.stringMatching(/^line 50: entry #50: hash-mismatch/) });
    const cp = JSON.parse(l[100]!) as { archive: Record<string, unknown> };
    const forged = [...l];
    forged[100] = JSON.stringify({ archive: { ...cp.archive, through: 99 } });
    expect(await verifyAuditFile(forged)).toMatchObject({ ok: false, problem: expect.stringMatching(/^line 101: .*does not match its signature/) });
    // Whitespace inside a line changes no entry's hash, but the file is not the one signed.
    const spaced = [...l];
    spaced[10] = spaced[10]!.replace('{', '{ ');
    expect(await verifyAuditFile(spaced)).toMatchObject({ ok: false, problem: expect.stringMatching(/^line 101: the file's bytes/) });
    // Entries cut from the end: the checkpoint names an entry the file no longer ends with.
    const cut = [...l.slice(0, 95), l[100]!];
    expect(await verifyAuditFile(cut)).toMatchObject({ ok: false, problem: expect.stringMatching(/names #100, the file ends at #95/) });
  });

  it('runs from the command line, file after file, and exits 1 at a broken one', async () => {
    const { handle } = await logOf(60);
    const text = await archiveText(handle, 40);
    const checkpoint = (JSON.parse(lines(text)[40]!) as { archive: Parameters<typeof pruneArchived>[1] }).archive;
    await pruneArchived(handle, checkpoint);
    const dir = await mkdtemp(join(tmpdir(), 'audit-cli-'));
    const [a, b, bad] = ['archive.jsonl', 'export.jsonl', 'bad.jsonl'].map((f) => join(dir, f)) as [string, string, string];
    await writeFile(a, text);
    await writeFile(b, toJsonLines(await (await handle.get()).getAll('audit')));
    await writeFile(bad, text.replace('"i":3', '"i":4'));
    const run = (...files: string[]) => promisify(execFile)(process.execPath, ['scripts/audit-verify.mjs', ...files]).then((r) => ({ code: 0, out: r.stdout }), (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }));
    const good = await run(a, b);
    expect(good.code).toBe(0);
    expect(good.out).toMatch(/archive\.jsonl: intact — 40 entries #1–#40, from the genesis.*archive checkpoint signed/);
    expect(good.out).toMatch(/export\.jsonl: intact — 20 entries #41–#60, from #40 \(the previous file\)/);
    const broken = await run(bad);
    expect(broken.code).toBe(1);
    expect(broken.out).toMatch(/bad\.jsonl: BROKEN — line 4: entry #4: hash-mismatch/);
  }, 60_000);

  it('checks a verifiable segment: matched entries in full, the chain between them as links; names a changed entry, a dropped or forged link', async () => {
    const { handleAdmin } = await import('../../src/server/admin');
    const { startHarness } = await import('./support/server-fixture');
    const { segmentLines } = await import('../../src/ui/trail-export');
    const h = await startHarness();
    for (let i = 0; i < 30; i++) await h.ctx.audit.append({ event: 'admin', outcome: 'info', agentId: i % 3 === 1 ? 'picked' : 'other', details: { i } });
    const all = await readAudit(h.ctx.db);
    const matched = all.filter((e) => e.agentId === 'picked').map((e) => e.seq);
    const admin = async (method: string, params: unknown) => {
      let answer: { result?: unknown; error?: unknown } = {};
      await handleAdmin(h.ctx, { channel: 'mcp-sandbox', v: 1, kind: 'admin', id: 1, method, params } as never, { postMessage: (m: typeof answer) => (answer = m) } as never, {} as never);
      if (answer.error) throw Object.assign(new Error('admin error'), answer.error);
      return answer.result as never;
    };
    const text = (await segmentLines(matched, (from, to, include) => admin('audit.segment', { from, to, include }))).join('');
    const file = lines(text);
    // The header, then every seq from the first match to the last: the matches in full.
    expect(JSON.parse(file[0]!)).toEqual({ segment: { after: { seq: matched[0]! - 1, hash: all[matched[0]! - 2]!.hash } } });
    expect(file.filter(Boolean)).toHaveLength(1 + matched.at(-1)! - matched[0]! + 1);
    expect(file.filter((l) => l.startsWith('{"link"'))).toHaveLength(matched.at(-1)! - matched[0]! + 1 - matched.length);
    const v = await verifyAuditFile(file);
    expect(v).toMatchObject({ ok: true, entries: matched.length, links: matched.at(-1)! - matched[0]! + 1 - matched.length, head: { seq: matched.at(-1)!, hash: all[matched.at(-1)! - 1]!.hash } });

    const edited = [...file];
    edited[1] = edited[1]!.replace('"picked"', '"forged"');
    expect((await verifyAuditFile(edited)).problem).toMatch(/line 2: entry #\d+: hash-mismatch/);
    const dropped = file.filter((_, i) => i !== 2);
    expect((await verifyAuditFile(dropped)).problem).toMatch(/line 3: .*gap after/);
    const forged = [...file];
    const link = JSON.parse(forged[2]!) as { link: { seq: number; prevHash: string; hash: string } };
    forged[2] = JSON.stringify({ link: { ...link.link, prevHash: 'f'.repeat(64) } });
    expect((await verifyAuditFile(forged)).problem).toMatch(/line 3: link #\d+: it does not link/);
    // A link line is never accepted in a full export.
    expect((await verifyAuditFile([file[2]!])).problem).toMatch(/line 1: a link line outside a segment/);
    // Refused: a range that does not make sense.
    await expect(admin('audit.segment', { from: 0, to: 3, include: [] })).rejects.toMatchObject({ code: 'invalid-params' });
    // And from the command line.
    const dir = await mkdtemp(join(tmpdir(), 'segment-'));
    await writeFile(join(dir, 'view.segment.jsonl'), text);
    const { stdout } = await promisify(execFile)(process.execPath, ['scripts/audit-verify.mjs', join(dir, 'view.segment.jsonl')]);
    expect(stdout).toMatch(new RegExp(`intact — ${matched.length} entries in full and ${v.links} between them as links #${matched[0]}–#${matched.at(-1)}, from #${matched[0]! - 1} \\(a segment`));
  }, 60_000);
});
