// Paths are normalised before any pattern sees them, so `./workspace/../etc/passwd` is
// judged as `./etc/passwd`. The file host must then use the normalised path it was
// granted, never the raw one, or the check and the access could name different files.
//
// Two roots: paths starting with `/` are absolute, everything else is relative to the
// sandbox root and written `./…`. `..` may not climb above either root.

export type PathRoot = '/' | '.';

export interface NormalPath {
  readonly root: PathRoot;
  readonly segments: readonly string[];
  /** Canonical text: `/tmp/a`, `./workspace/a`, `.` or `/`. */
  readonly path: string;
}

export type PathProblem = { readonly kind: 'invalid' | 'escape'; readonly reason: string };

// Backslashes are refused rather than read as separators: some file backends treat them
// as separators and some as name characters, and guessing wrong reopens traversal.
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\\\u0000-\u001f\u007f]/;

export function normalisePath(raw: string): { ok: true; path: NormalPath } | { ok: false; problem: PathProblem } {
  if (typeof raw !== 'string' || raw.length === 0) {
    return { ok: false, problem: { kind: 'invalid', reason: 'the path is empty' } };
  }
  if (FORBIDDEN.test(raw)) {
    return { ok: false, problem: { kind: 'invalid', reason: 'the path holds a backslash or a control character' } };
  }
  const root: PathRoot = raw.startsWith('/') ? '/' : '.';
  const segments: string[] = [];
  for (const segment of raw.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment !== '..') {
      segments.push(segment);
    } else if (segments.pop() === undefined) {
      return { ok: false, problem: { kind: 'escape', reason: `the path climbs above ${root === '/' ? 'the root /' : 'the sandbox root .'}` } };
    }
  }
  return { ok: true, path: { root, segments, path: formatPath(root, segments) } };
}

function formatPath(root: PathRoot, segments: readonly string[]): string {
  if (segments.length === 0) return root;
  return `${root === '/' ? '' : '.'}/${segments.join('/')}`;
}
