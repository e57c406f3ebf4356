/** Trust levels and origin lists as the forms show and read them. */
import { html } from 'lit';
import { TEMPLATES, TRUST_LEVELS, type TrustLevel } from '../policy';

export function levelSummary(level: TrustLevel): string {
  const t = TEMPLATES[level];
  return `${t.limits.memoryMb} MB · ${t.limits.cpuSeconds} s CPU · ${t.session.callsPerMinute} calls/min · ${t.session.maxCalls} calls/session`;
}

export function levelOptions(selected: TrustLevel) {
  return TRUST_LEVELS.map((level) => html`<option value=${level} ?selected=${level === selected}>${level} — ${levelSummary(level)}</option>`);
}

export function trustBadge(level: TrustLevel) {
  return html`<span class="badge ${level}" data-testid="trust-badge">${level}</span>`;
}

/** One origin per line (or comma-separated) → the list, or the first problem found. */
export function parseOrigins(text: string): { ok: true; origins: string[] } | { ok: false; reason: string } {
  const origins: string[] = [];
  for (const item of text.split(/[\s,]+/).filter(Boolean)) {
    let origin: string;
    try {
      origin = new URL(item).origin;
    } catch {
      return { ok: false, reason: `"${item}" is not an origin (write scheme://host:port, e.g. ${location.origin})` };
    }
    if (origin === 'null' || origin !== item.replace(/\/$/, '')) return { ok: false, reason: `"${item}" is not an origin: write only scheme://host:port (e.g. ${origin === 'null' ? location.origin : origin})` };
    if (!origins.includes(origin)) origins.push(origin);
  }
  if (origins.length === 0) return { ok: false, reason: 'give at least one origin the agent may connect from' };
  return { ok: true, origins };
}
