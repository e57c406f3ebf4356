// Finding a sensitive word in text. A pattern names a word or key, e.g. `password` or
// `api key`; it matches case-insensitively as a whole word or as a part of an identifier:
//   password, PASSWORD, db_password, passwordHash, userPassword, passwords   (pattern password)
//   api_key, apiKey, API-KEY, X-Api-Key, apikey                              (pattern api key)
// but not inside another word: `key` does not match keyboard, monkey or turkeys.
// Parts of a pattern (split at space, _, ., - and camelCase) may be joined by one of
// those separators or by nothing. Digits count as boundaries (password2 matches).

export interface WordHit {
  readonly pattern: string;
  readonly start: number;
  readonly end: number;
}

const SEPARATOR = String.raw`[\s_.-]?`;

export function sensitivePatternProblem(pattern: string): string | null {
  if (pattern.trim().length === 0) return 'must not be empty';
  if (pattern.length > 64) return 'must be at most 64 characters';
  if (!/^[\p{L}\p{N}][\p{L}\p{N} _.-]*$/u.test(pattern)) return 'must be a word or key name (letters, digits, space, _ . -)';
  return null;
}

function wordSource(pattern: string): string | null {
  const parts = pattern
    .trim()
    .split(/[\s_.-]+|(?<=\p{Ll})(?=\p{Lu})/u)
    .filter((part) => part.length > 0)
    .map((part) => part.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'));
  return parts.length === 0 ? null : parts.join(SEPARATOR);
}

const isLetter = (ch: string | undefined): boolean => ch !== undefined && /\p{L}/u.test(ch);
const isUpper = (ch: string | undefined): boolean => ch !== undefined && ch !== ch.toLowerCase();
const isLower = (ch: string | undefined): boolean => ch !== undefined && ch !== ch.toUpperCase();

function charBefore(text: string, i: number): string | undefined {
  if (i <= 0) return undefined;
  const code = text.charCodeAt(i - 1);
  return code >= 0xdc00 && code <= 0xdfff && i >= 2 ? text.slice(i - 2, i) : text[i - 1];
}

function charAt(text: string, i: number): string | undefined {
  const code = text.codePointAt(i);
  return code === undefined ? undefined : String.fromCodePoint(code);
}

function startsWord(text: string, i: number): boolean {
  const prev = charBefore(text, i);
  const first = charAt(text, i);
  if (!isLetter(prev)) return true;
  if (isLower(prev) && isUpper(first)) return true; // camelCase: userPassword
  return isUpper(prev) && isUpper(first) && isLower(text[i + 1]); // APIKey
}

function endsWord(text: string, i: number): boolean {
  const next = charAt(text, i);
  if (!isLetter(next)) return true;
  return isUpper(next) && !isUpper(charBefore(text, i)); // camelCase: passwordHash
}

export type WordFinder = (text: string) => WordHit[];

/** Finds the whole-word occurrences of one pattern; compiled once, reused for many texts. */
export function wordFinder(pattern: string): WordFinder {
  const source = wordSource(pattern);
  if (source === null) return () => [];
  const regex = new RegExp(source, 'giu');
  return (text) => {
    const hits: WordHit[] = [];
    regex.lastIndex = 0;
    for (let m = regex.exec(text); m !== null; m = regex.exec(text)) {
      const start = m.index;
      let end = start + m[0].length;
      if (startsWord(text, start)) {
        if ((text[end] === 's' || text[end] === 'S') && endsWord(text, end + 1)) end += 1;
        if (endsWord(text, end)) {
          hits.push({ pattern, start, end });
          regex.lastIndex = end;
          continue;
        }
      }
      regex.lastIndex = start + 1;
    }
    return hits;
  };
}

/** Every whole-word occurrence of `pattern` in `text`, left to right. */
export function findWord(text: string, pattern: string): WordHit[] {
  return wordFinder(pattern)(text);
}

/** Does `name` (an object key, say) contain one of `patterns` as a word? */
export function matchingPattern(name: string, patterns: readonly string[]): string | undefined {
  return patterns.find((pattern) => findWord(name, pattern).length > 0);
}
