// text_stats: counts characters, words, lines, sentences and paragraphs of a text
// and lists its most frequent words.

import { isAlpha, isSpace } from "~lib/util/string";
import { liftString, returnErr, returnOk, returnString } from "../../lib/abi";
import { JsonScanner, JsonType, JsonWriter, quote } from "../../lib/json";
export { cabi_realloc } from "../../lib/abi";

const DEFAULT_TOP: i32 = 5;
const MAX_TOP: i32 = 50;
const WORDS_PER_MINUTE: i32 = 200;

const METADATA = `{
  "name": "text_stats",
  "description": "Counts characters, words, unique words, lines, sentences and paragraphs of a text, estimates its reading time at 200 words per minute and lists its most frequent words. Words are runs of letters, digits and apostrophes, compared case-insensitively.",
  "version": "0.1.0",
  "author": "Browser MCP Sandbox",
  "tags": ["text", "statistics", "words"],
  "categories": ["text"],
  "inputSchema": {
    "type": "object",
    "properties": {
      "text": { "type": "string", "description": "The text to analyse." },
      "top": {
        "type": "integer",
        "minimum": 1,
        "maximum": 50,
        "default": 5,
        "description": "How many of the most frequent words to list."
      }
    },
    "required": ["text"],
    "additionalProperties": false
  },
  "permissions": [],
  "limits": { "memoryMb": 32, "cpuMs": 2000 }
}`;

export function describe(): usize {
  return returnString(METADATA);
}

export function call(argsPtr: usize, argsLen: usize): usize {
  const scanner = new JsonScanner(liftString(argsPtr, argsLen));
  let text: string | null = null;
  let top = DEFAULT_TOP;
  if (scanner.peekType() != JsonType.Object) return invalid("expected a JSON object");
  scanner.enterObject();
  let i = 0;
  while (scanner.nextMember(i++)) {
    const key = scanner.key;
    if (key == "text") {
      if (scanner.peekType() != JsonType.String) return invalid('"text" must be a string');
      text = scanner.readString();
    } else if (key == "top") {
      if (scanner.peekType() != JsonType.Number) return invalidTop();
      const n = scanner.readNumber();
      if (!scanner.ok) break;
      if (!(n >= 1 && n <= <f64>MAX_TOP && n == Math.floor(n))) return invalidTop();
      top = <i32>n;
    } else {
      return invalid("unknown property " + quote(key));
    }
  }
  if (!scanner.finish()) return invalid("not valid JSON (" + scanner.errorDetail() + ")");
  if (text === null) return invalid('missing required property "text"');
  return returnOk(analyse(text, top));
}

function invalid(reason: string): usize {
  return returnErr("invalid arguments: " + reason);
}

function invalidTop(): usize {
  return invalid('"top" must be an integer from 1 to ' + MAX_TOP.toString());
}

class WordCount {
  constructor(public word: string, public count: i32) {}
}

// @ts-ignore: decorator
@inline function isApostrophe(c: i32): bool {
  return c == 0x27 || c == 0x2019; // ' and ’
}

// Combining marks continue a word, so decomposed "e\u0301" stays one word.
function isCombiningMark(c: i32): bool {
  return (c >= 0x0300 && c <= 0x036f) || (c >= 0x1ab0 && c <= 0x1aff) ||
    (c >= 0x1dc0 && c <= 0x1dff) || (c >= 0x20d0 && c <= 0x20ff) || (c >= 0xfe20 && c <= 0xfe2f);
}

function startsWord(c: i32): bool {
  return isAlpha(<u32>c) || <u32>(c - 0x30) <= 9 || isApostrophe(c);
}

// Sentence terminators. The CJK ones need no following space.
function isTerminator(c: i32): bool {
  return c == 0x2e || c == 0x21 || c == 0x3f || c == 0x2026 || isCjkTerminator(c);
}

function isCjkTerminator(c: i32): bool {
  return c == 0x3002 || c == 0xff01 || c == 0xff1f;
}

// Closing quotes and brackets that may sit between a terminator and the next space.
function isCloser(c: i32): bool {
  return c == 0x22 || c == 0x27 || c == 0x29 || c == 0x5d || c == 0x7d ||
    c == 0x2019 || c == 0x201d || c == 0xbb;
}

// @ts-ignore: decorator
@inline function cpWidth(c: i32): i32 {
  return c >= 0x10000 ? 2 : 1;
}

function analyse(text: string, top: i32): string {
  const n = text.length;
  let characters = 0;
  let charactersNoSpaces = 0;
  let words = 0;
  let wordCodePoints = 0;
  let lineBreaks = 0;
  let endsWithBreak = false;
  let sentences = 0;
  let paragraphs = 0;
  const counts = new Map<string, i32>();

  let wordStart = -1; // UTF-16 index where the current word began, -1 outside words
  let inSentence = false; // a word was seen since the last sentence end
  let lineHasContent = false;
  let inParagraph = false;

  for (let i = 0; i <= n; ) {
    const c = i < n ? text.codePointAt(i) : -1;
    const width = i < n ? cpWidth(c) : 1;

    // Words: letters/digits/apostrophes, plus combining marks inside a word.
    const wordChar = c >= 0 && (startsWord(c) || (wordStart >= 0 && isCombiningMark(c)));
    if (wordChar) {
      if (wordStart < 0) wordStart = i;
    } else if (wordStart >= 0) {
      const word = normaliseWord(text.substring(wordStart, i));
      wordStart = -1;
      if (word.length > 0) {
        words++;
        wordCodePoints += countCodePoints(word);
        counts.set(word, counts.has(word) ? counts.get(word) + 1 : 1);
        inSentence = true;
      }
    }
    if (c < 0) break;

    characters++;
    const space = isSpace(<u32>c);
    if (!space) charactersNoSpaces++;

    // Lines and paragraphs: \n, \r\n and \r each end a line; blank lines separate paragraphs.
    if (c == 0x0a || c == 0x0d) {
      if (c == 0x0d && i + 1 < n && text.charCodeAt(i + 1) == 0x0a) {
        characters++; // the \n of \r\n is consumed here
        i++;
      }
      lineBreaks++;
      if (!lineHasContent) inParagraph = false;
      lineHasContent = false;
      endsWithBreak = i + 1 >= n;
    } else if (!space && !lineHasContent) {
      lineHasContent = true;
      if (!inParagraph) {
        paragraphs++;
        inParagraph = true;
      }
    }

    // Sentences: a run of terminators after some words, followed by a space or the end.
    // (The word before the terminator was closed above: terminators are not word characters.)
    if (inSentence && isTerminator(c)) {
      let j = i + width;
      while (j < n && (isTerminator(text.codePointAt(j)) || isCloser(text.codePointAt(j)))) {
        j += cpWidth(text.codePointAt(j));
      }
      if (j >= n || isSpace(<u32>text.codePointAt(j)) || isCjkTerminator(c)) {
        sentences++;
        inSentence = false;
      }
    }
    i += width;
  }
  if (inSentence) sentences++;

  const lines = n == 0 ? 0 : lineBreaks + (endsWithBreak ? 0 : 1);
  // In hundredths, rounded half up: formatted without f64 toString (saves the dtoa code).
  const averageHundredths = words == 0 ? 0 : (<i64>wordCodePoints * 200 + <i64>words) / (<i64>words * 2);
  // Rounded up to whole seconds: words * 60 / WORDS_PER_MINUTE.
  const readingSeconds = (words * 60 + WORDS_PER_MINUTE - 1) / WORDS_PER_MINUTE;

  const w = new JsonWriter();
  w.beginObject();
  w.key("characters").integer(characters);
  w.key("charactersNoSpaces").integer(charactersNoSpaces);
  w.key("words").integer(words);
  w.key("uniqueWords").integer(counts.size);
  w.key("lines").integer(lines);
  w.key("sentences").integer(sentences);
  w.key("paragraphs").integer(paragraphs);
  w.key("averageWordLength").raw(formatHundredths(averageHundredths));
  w.key("readingTimeSeconds").integer(readingSeconds);
  w.key("topWords").beginArray();
  const ranked = rank(counts);
  const shown = min(top, ranked.length);
  for (let k = 0; k < shown; k++) {
    const entry = ranked[k];
    w.beginObject().key("word").string(entry.word).key("count").integer(entry.count).endObject();
  }
  w.endArray();
  w.endObject();
  return w.toString();
}

// 267 -> "2.67", 460 -> "4.6", 400 -> "4" (what JSON.stringify prints for those numbers).
function formatHundredths(h: i64): string {
  const whole = (h / 100).toString();
  const cents = <i32>(h % 100);
  if (cents == 0) return whole;
  if (cents % 10 == 0) return whole + "." + (cents / 10).toString();
  return whole + "." + (cents < 10 ? "0" : "") + cents.toString();
}

// Lowercases, maps ’ to ' and strips apostrophes used as quotes ('word').
function normaliseWord(raw: string): string {
  let start = 0;
  let end = raw.length;
  while (start < end && isApostrophe(raw.charCodeAt(start))) start++;
  while (end > start && isApostrophe(raw.charCodeAt(end - 1))) end--;
  if (start == end) return "";
  return raw.substring(start, end).replaceAll("\u2019", "'").toLowerCase();
}

function countCodePoints(s: string): i32 {
  let count = 0;
  for (let i = 0, n = s.length; i < n; i += cpWidth(s.codePointAt(i))) count++;
  return count;
}

// Most frequent first; ties in ascending UTF-16 order (as JavaScript's default sort).
function rank(counts: Map<string, i32>): WordCount[] {
  const keys = counts.keys();
  const ranked = new Array<WordCount>();
  for (let i = 0; i < keys.length; i++) ranked.push(new WordCount(keys[i], counts.get(keys[i])));
  ranked.sort((a: WordCount, b: WordCount): i32 => {
    if (a.count != b.count) return b.count - a.count;
    return a.word < b.word ? -1 : a.word > b.word ? 1 : 0;
  });
  return ranked;
}
