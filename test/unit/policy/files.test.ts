import { describe, expect, test } from 'vitest';
import { decideFile, matchesPathPattern, normalisePath, resolvePolicy, type Decision, type FileOp, type NormalPath } from '../../../src/policy';

const limited = resolvePolicy('Limited'); // ./workspace/*, ./temp/*, 10 MiB
const trusted = resolvePolicy('Trusted'); // ./workspace/*, /tmp/*
const ruleOf = (d: Decision) => (d.allow ? 'allow' : d.rule);
const decide = (path: string, op: FileOp = 'read', sizeBytes?: number, policy = limited) =>
  decideFile(policy, sizeBytes === undefined ? { path, op } : { path, op, sizeBytes });

function normal(path: string): NormalPath {
  const result = normalisePath(path);
  if (!result.ok) throw new Error(result.problem.reason);
  return result.path;
}

describe('path normalisation', () => {
  test.each([
    ['./workspace/a.txt', './workspace/a.txt'],
    ['workspace/a.txt', './workspace/a.txt'],
    ['.//workspace///a.txt/', './workspace/a.txt'],
    ['./workspace/./b/../a.txt', './workspace/a.txt'],
    ['./workspace/../etc/passwd', './etc/passwd'],
    ['/tmp/../tmp/x', '/tmp/x'],
    ['//tmp//x', '/tmp/x'],
    ['.', '.'],
    ['./', '.'],
    ['/', '/'],
    ['./a/..', '.'],
  ])('%s → %s', (raw, expected) => {
    expect(normal(raw).path).toBe(expected);
  });

  test.each(['..', '../x', './workspace/../../x', '/..', '/tmp/../../etc'])('%s climbs above its root and is refused', (raw) => {
    const result = normalisePath(raw);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problem.kind).toBe('escape');
  });

  test.each(['', 'a\\b', '..\\..\\x', 'a\u0000b', 'a\nb'])('%j is refused as invalid', (raw) => {
    const result = normalisePath(raw);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problem.kind).toBe('invalid');
  });
});

describe('glob patterns', () => {
  const m = (pattern: string, path: string, includeDirectory = false) => matchesPathPattern(pattern, normal(path), includeDirectory);

  test('a trailing /* matches everything below the directory, recursively', () => {
    expect(m('./workspace/*', './workspace/a.txt')).toBe(true);
    expect(m('./workspace/*', './workspace/deep/er/a.txt')).toBe(true);
  });

  test('a trailing /** means the same', () => {
    expect(m('./workspace/**', './workspace/deep/a.txt')).toBe(true);
    expect(m('./workspace/**', './workspace')).toBe(false);
  });

  test('it does not match the directory itself unless asked to, nor siblings with the same prefix', () => {
    expect(m('./workspace/*', './workspace')).toBe(false);
    expect(m('./workspace/*', './workspace', true)).toBe(true);
    expect(m('./workspace/*', './workspace-old/a.txt')).toBe(false);
    expect(m('./workspace/*', './workspacefoo')).toBe(false);
    expect(m('./workspace/*', '.')).toBe(false);
  });

  test('any other * stays within one segment', () => {
    expect(m('./logs/*.txt', './logs/a.txt')).toBe(true);
    expect(m('./logs/*.txt', './logs/a.json')).toBe(false);
    expect(m('./logs/*.txt', './logs/sub/a.txt')).toBe(false);
    expect(m('./build-*/out', './build-42/out')).toBe(true);
  });

  test('an inner ** spans zero or more segments', () => {
    expect(m('./src/**/index.ts', './src/index.ts')).toBe(true);
    expect(m('./src/**/index.ts', './src/a/b/index.ts')).toBe(true);
    expect(m('./src/**/index.ts', './src/a/b/main.ts')).toBe(false);
  });

  test('relative and absolute roots never match each other', () => {
    expect(m('./tmp/*', '/tmp/a')).toBe(false);
    expect(m('/tmp/*', './tmp/a')).toBe(false);
    expect(m('tmp/*', './tmp/a')).toBe(true);
  });

  test('"*" alone matches every path under either root', () => {
    for (const path of ['.', '/', './a/b', '/etc/passwd']) expect(m('*', path)).toBe(true);
  });

  test('patterns are case-sensitive and treat regex characters literally', () => {
    expect(m('./Workspace/*', './workspace/a')).toBe(false);
    expect(m('./a+b/(x)/*', './a+b/(x)/y')).toBe(true);
    expect(m('./a.b/*', './aXb/y')).toBe(false);
  });

  test('many ** stay fast', () => {
    const pattern = `./${Array.from({ length: 12 }, () => '**').join('/')}/z`;
    const path = `./${Array.from({ length: 40 }, () => 'a').join('/')}/y`;
    const started = performance.now();
    expect(m(pattern, path)).toBe(false);
    expect(performance.now() - started).toBeLessThan(500);
  });
});

describe('decideFile: allowed patterns', () => {
  test('a path under an allowed pattern is allowed', () => {
    expect(decide('./workspace/notes/a.md')).toEqual({ allow: true });
  });

  test('a path under no allowed pattern is denied by file.pattern, naming the patterns', () => {
    expect(decide('./secrets/a.md')).toEqual({
      allow: false,
      rule: 'file.pattern',
      reason: "Path './secrets/a.md' (read) matches none of this agent's file patterns (files.allowedPatterns): ./workspace/*, ./temp/*.",
      limit: ['./workspace/*', './temp/*'],
      observed: './secrets/a.md',
    });
  });

  test('./workspace/../etc/passwd does not match ./workspace/*', () => {
    expect(decide('./workspace/../etc/passwd')).toMatchObject({ rule: 'file.pattern', observed: './etc/passwd' });
    expect(decide('/tmp/../etc/passwd', 'read', undefined, trusted)).toMatchObject({ rule: 'file.pattern', observed: '/etc/passwd' });
  });

  test('climbing above the root is denied by file.path-escape', () => {
    expect(ruleOf(decide('./workspace/../../outside'))).toBe('file.path-escape');
  });

  test('backslashes and control characters are denied by file.path-invalid', () => {
    expect(ruleOf(decide('.\\workspace\\a'))).toBe('file.path-invalid');
    expect(ruleOf(decide('./workspace/a\u0000.txt'))).toBe('file.path-invalid');
    expect(ruleOf(decide(''))).toBe('file.path-invalid');
  });

  test('an empty allowedPatterns allows no path', () => {
    const p = resolvePolicy('FullyTrusted', { version: 1, files: { allowedPatterns: [] } });
    expect(ruleOf(decideFile(p, { path: './a', op: 'read' }))).toBe('file.pattern');
  });

  test('the granted directory itself may be listed and stat-ed, but not written or deleted', () => {
    expect(decide('./workspace', 'list').allow).toBe(true);
    expect(decide('./workspace/', 'stat').allow).toBe(true);
    expect(ruleOf(decide('./workspace', 'delete'))).toBe('file.pattern');
    expect(ruleOf(decide('./workspace', 'write', 0))).toBe('file.pattern');
    expect(ruleOf(decide('.', 'list'))).toBe('file.pattern');
  });

  test('FullyTrusted "*" allows any path under either root', () => {
    const p = resolvePolicy('FullyTrusted');
    expect(decideFile(p, { path: '/etc/hosts', op: 'read' }).allow).toBe(true);
    expect(decideFile(p, { path: '.', op: 'list' }).allow).toBe(true);
  });
});

describe('decideFile: blocked patterns', () => {
  const p = resolvePolicy('Limited', { version: 1, files: { blockedPatterns: ['./workspace/private/*', './workspace/*.key'] } });

  test('a blocked path is denied by file.blocked even though an allowed pattern matches', () => {
    expect(decideFile(p, { path: './workspace/private/diary.txt', op: 'read' })).toMatchObject({
      allow: false,
      rule: 'file.blocked',
      observed: './workspace/private/diary.txt',
    });
    expect(ruleOf(decideFile(p, { path: './workspace/id.key', op: 'read' }))).toBe('file.blocked');
  });

  test('a blocked directory pattern also hides the directory itself', () => {
    expect(ruleOf(decideFile(p, { path: './workspace/private', op: 'list' }))).toBe('file.blocked');
  });

  test('traversal cannot reach a blocked path by another spelling', () => {
    expect(ruleOf(decideFile(p, { path: 'workspace/public/../private//diary.txt', op: 'read' }))).toBe('file.blocked');
  });

  test('unblocked neighbours stay allowed', () => {
    expect(decideFile(p, { path: './workspace/public/a.txt', op: 'read' }).allow).toBe(true);
    expect(decideFile(p, { path: './workspace/sub/id.key', op: 'read' }).allow).toBe(true); // *.key is one level
  });
});

describe('decideFile: size', () => {
  const MiB = 1024 * 1024;

  test('a write of exactly maxSizeMb is allowed', () => {
    expect(decide('./workspace/a.bin', 'write', 10 * MiB).allow).toBe(true);
  });

  test('a write one byte larger is denied by file.size', () => {
    expect(decide('./workspace/a.bin', 'write', 10 * MiB + 1)).toMatchObject({
      allow: false,
      rule: 'file.size',
      limit: 10,
      observed: 10.01,
    });
  });

  test('a write that does not state its size is denied by file.size', () => {
    expect(decide('./workspace/a.bin', 'write')).toMatchObject({ rule: 'file.size', observed: 'unknown' });
  });

  test('a read is checked when the host knows the size, and allowed when it does not', () => {
    expect(ruleOf(decide('./workspace/big.bin', 'read', 11 * MiB))).toBe('file.size');
    expect(decide('./workspace/big.bin', 'read').allow).toBe(true);
  });

  test('maxSizeMb 0 allows only empty writes', () => {
    const p = resolvePolicy('Limited', { version: 1, files: { maxSizeMb: 0 } });
    expect(decideFile(p, { path: './workspace/a', op: 'write', sizeBytes: 0 }).allow).toBe(true);
    expect(ruleOf(decideFile(p, { path: './workspace/a', op: 'write', sizeBytes: 1 }))).toBe('file.size');
  });

  test('pattern checks come before size checks', () => {
    expect(ruleOf(decide('./etc/a', 'write', 100 * MiB))).toBe('file.pattern');
  });
});
