/** Small formatting helpers shared by the views. */

import type { AuditEntry } from '../store/schema';

export function time(ts: number): string {
  return new Date(ts).toLocaleTimeString();
}

export function dateTime(ts: number): string {
  return new Date(ts).toLocaleString();
}

export function ago(ts: number, now = Date.now()): string {
  const s = Math.round((now - ts) / 1000);
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86_400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} d ago`;
}

export function pretty(value: unknown): string {
  if (value === undefined) return '';
  return JSON.stringify(value, null, 2);
}

export function bytes(n: number | null | undefined): string {
  if (n == null) return '';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

export function ms(n: number | null | undefined): string {
  if (n == null) return '';
  return n < 10 ? n.toFixed(1) : n.toFixed(0);
}

/** A list value as a person reads it: `*` is "any", an empty list is "none". */
export function list(values: readonly unknown[]): string {
  if (values.length === 0) return 'none';
  return values.map((v) => (v === '*' ? 'any (*)' : String(v))).join(', ');
}

/** A wait as a person reads it: "4.2 s", "5 min 3 s", "3 h 24 min". */
export function duration(msValue: number): string {
  const s = msValue / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const whole = Math.round(s);
  if (whole < 3600) return `${Math.floor(whole / 60)} min ${whole % 60} s`;
  return `${Math.floor(whole / 3600)} h ${Math.round((whole % 3600) / 60)} min`;
}

/** One line saying what an audit entry holds: its error, else its arguments, else its details. */
export function entrySummary(e: Pick<AuditEntry, 'error' | 'args' | 'details'>): string {
  if (e.error) {
    const rule = e.error.details?.['rule'];
    return `${e.error.code}${typeof rule === 'string' ? ` (${rule})` : ''}: ${e.error.message}`;
  }
  if (e.args !== null && e.args !== undefined) return JSON.stringify(e.args);
  if (!e.details) return '';
  // A tool's output is text, often JSON: shown as what it says, not as a string escaped again
  // inside the details (`{"output":"{\"words\":4}"}`).
  const { output, ...rest } = e.details;
  if (typeof output !== 'string') return JSON.stringify(e.details);
  const others = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
  return `output: ${compactJson(output)}${others}`;
}

/** JSON text on one line; text that is not JSON (or was cut) as it is. */
function compactJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    return text;
  }
}
