// Quiet hours are a local wall-clock window [start, end) in the policy's time zone. When
// start > end the window crosses midnight (22:00–06:00 is quiet from 22:00 to 05:59:59).
// Wall-clock semantics mean a DST change moves the window with the clocks, as a person
// setting "no calls at night" would expect.
import type { QuietHours } from './types';
import { DAY_MS, isValidTimeZone, MINUTE_MS, minuteOfDay, wallClock } from './wall-clock';

export function parseHhMm(text: string): number | null {
  const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(text);
  return match === null ? null : Number(match[1]) * 60 + Number(match[2]);
}

/**
 * Why a window cannot be evaluated, or null. Documents are validated on load; this guards
 * policies built in code, so a bad zone denies with a reason instead of throwing.
 */
export function quietHoursProblem(quiet: QuietHours): string | null {
  if (parseHhMm(quiet.start) === null || parseHhMm(quiet.end) === null) return `its times '${quiet.start}'–'${quiet.end}' are not "HH:MM"`;
  if (!isValidTimeZone(quiet.timeZone)) return `its time zone '${quiet.timeZone}' is not known`;
  return null;
}

export function isQuietTime(quiet: QuietHours, now: number): boolean {
  const start = parseHhMm(quiet.start);
  const end = parseHhMm(quiet.end);
  // A window that cannot be evaluated is quiet all day: deny by default.
  if (start === null || end === null || !isValidTimeZone(quiet.timeZone)) return true;
  const minute = minuteOfDay(now, quiet.timeZone);
  return start <= end ? minute >= start && minute < end : minute >= start || minute < end;
}

/**
 * Milliseconds from `now` (inside quiet hours) until the first instant they are over.
 * The local end time is turned into an instant with the zone offset; around a DST change
 * that guess can be off by the shift, so it is checked and, if needed, refined by
 * bisection between a quiet and a non-quiet instant.
 */
export function msUntilQuietEnds(quiet: QuietHours, now: number): number {
  const end = parseHhMm(quiet.end);
  if (end === null) return DAY_MS;
  const local = wallClock(now, quiet.timeZone);
  const localMidnight = local - ((((local % DAY_MS) + DAY_MS) % DAY_MS));
  let localEnd = localMidnight + end * MINUTE_MS;
  if (localEnd <= local) localEnd += DAY_MS;

  const offsetAt = (instant: number): number => wallClock(instant, quiet.timeZone) - instant;
  const first = localEnd - offsetAt(now);
  const second = localEnd - offsetAt(first);
  const quietAt = (instant: number): boolean => isQuietTime(quiet, instant);

  const guesses = [first, second].sort((a, b) => a - b);
  let lo = now;
  let hi: number | undefined;
  for (const guess of [...guesses, guesses[1]! + 2 * 3_600_000]) {
    if (guess <= lo) continue;
    if (quietAt(guess)) lo = guess;
    else {
      hi = guess;
      break;
    }
  }
  if (hi === undefined) return DAY_MS;
  if (quietAt(hi - 1)) return hi - now; // the usual case: the guess was exact
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (quietAt(mid)) lo = mid;
    else hi = mid;
  }
  return hi - now;
}

export function describeQuietHours(quiet: QuietHours): string {
  return `${quiet.start}–${quiet.end} ${quiet.timeZone}`;
}

export function formatLocalTime(now: number, timeZone: string): string {
  const minute = minuteOfDay(now, timeZone);
  const hh = String(Math.floor(minute / 60)).padStart(2, '0');
  const mm = String(minute % 60).padStart(2, '0');
  return `${hh}:${mm}`;
}
