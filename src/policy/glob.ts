// File patterns (`files.allowedPatterns`, `files.blockedPatterns`):
//   "*"                any path under either root
//   "./workspace/*"    everything below ./workspace at any depth. The seed's templates
//   "./workspace/**"   write directory grants this way, so a trailing `*` is recursive;
//                      `**` means the same.
//   "./a/*.txt"        any other `*` stays within one segment (here: files directly in ./a)
//   "./a/**/b.txt"     `**` as a whole inner segment spans zero or more segments
//   "./notes.txt"      exactly that path
// Patterns are normalised like paths (`workspace/*` = `./workspace/*`) and may not hold
// `..`. Matching is case-sensitive; there is no `?` or `[…]` syntax.
//
// A trailing `/*` names what is *below* a directory. Whether it also names the directory
// itself is the caller's choice (`includeDirectory`): a deny list wants it (revoking
// `./a/*` hides `./a` too); an allow list grants it only to list/stat, so an agent can
// list the folder it was given but never delete it, and a grant never opens the parent.
import { ANY } from './types';
import type { NormalPath, PathRoot } from './paths';

type Token = { kind: 'segment'; test: (segment: string) => boolean } | { kind: 'globstar' };

interface CompiledPattern {
  readonly root: PathRoot | 'any';
  readonly tokens: readonly Token[];
  /** Ends in `/*` or `/**`: matches one or more further segments. */
  readonly recursive: boolean;
}

// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\\\u0000-\u001f\u007f]/;

/** Why a string is not a file pattern, or null when it is one. Used by the document schema. */
export function filePatternProblem(pattern: string): string | null {
  if (pattern.length === 0) return 'must not be empty';
  if (FORBIDDEN.test(pattern)) return 'must not hold a backslash or a control character';
  if (pattern.split('/').includes('..')) return "must not hold '..' segments";
  return null;
}

function compile(pattern: string): CompiledPattern | null {
  if (pattern === ANY) return { root: 'any', tokens: [], recursive: true };
  if (filePatternProblem(pattern) !== null) return null;
  const root: PathRoot = pattern.startsWith('/') ? '/' : '.';
  const segments = pattern.split('/').filter((s) => s !== '' && s !== '.');
  const last = segments[segments.length - 1];
  const recursive = last === '*' || last === '**';
  if (recursive) segments.pop();
  return { root, tokens: segments.map(toToken), recursive };
}

function toToken(segment: string): Token {
  if (segment === '**') return { kind: 'globstar' };
  if (!segment.includes('*')) return { kind: 'segment', test: (s) => s === segment };
  const source = segment
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  const regex = new RegExp(`^${source}$`, 'su');
  return { kind: 'segment', test: (s) => regex.test(s) };
}

export function matchesPathPattern(pattern: string, path: NormalPath, includeDirectory: boolean): boolean {
  const compiled = compile(pattern);
  if (compiled === null) return false;
  if (compiled.root === 'any') return true;
  if (compiled.root !== path.root) return false;
  const minRest = compiled.recursive && !includeDirectory ? 1 : 0;
  return matchTokens(compiled, path.segments, minRest);
}

/** The entry of `patterns` that matches `path`, if any. */
export function findPathPattern(patterns: readonly string[], path: NormalPath, includeDirectory: boolean): string | undefined {
  return patterns.find((pattern) => matchesPathPattern(pattern, path, includeDirectory));
}

// Backtracking over `**`, memoised on (token, segment) so repeated `**` stays polynomial.
function matchTokens(compiled: CompiledPattern, segments: readonly string[], minRest: number): boolean {
  const { tokens, recursive } = compiled;
  const failed = new Set<number>();
  const width = segments.length + 1;
  const visit = (t: number, s: number): boolean => {
    if (failed.has(t * width + s)) return false;
    let result: boolean;
    if (t === tokens.length) {
      result = recursive ? segments.length - s >= minRest : s === segments.length;
    } else {
      const token = tokens[t]!;
      if (token.kind === 'globstar') {
        result = false;
        for (let next = s; next <= segments.length && !result; next++) result = visit(t + 1, next);
      } else {
        result = s < segments.length && token.test(segments[s]!) && visit(t + 1, s + 1);
      }
    }
    if (!result) failed.add(t * width + s);
    return result;
  };
  return visit(0, 0);
}

/** Two patterns are "identical" (for grants) when they normalise to the same text. */
export function samePathPattern(a: string, b: string): boolean {
  return normalisePattern(a) === normalisePattern(b);
}

function normalisePattern(pattern: string): string {
  if (pattern === ANY) return ANY;
  const root = pattern.startsWith('/') ? '/' : './';
  const segments = pattern.split('/').filter((s) => s !== '' && s !== '.');
  if (segments[segments.length - 1] === '**') segments[segments.length - 1] = '*';
  return root + segments.join('/');
}
