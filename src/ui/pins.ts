/** Audit entries the person pinned (by seq), kept in this origin's localStorage so they survive reloads. */
const KEY = 'mcp-sandbox.audit-pins';
/** A short list: the oldest pin goes when a new one would pass it. */
export const MAX_PINS = 100;

export function pinnedSeqs(): number[] {
  try {
    const v = JSON.parse(localStorage.getItem(KEY) ?? '[]') as unknown;
    return Array.isArray(v) ? v.filter((x): x is number => Number.isSafeInteger(x)) : [];
  } catch {
    return [];
  }
}

/** Pins or unpins `seq`; returns whether it is pinned now. Tells the page (`audit-pins` on window). */
export function togglePin(seq: number): boolean {
  const pins = pinnedSeqs();
  const at = pins.indexOf(seq);
  if (at >= 0) pins.splice(at, 1);
  else pins.push(seq);
  try {
    localStorage.setItem(KEY, JSON.stringify(pins.slice(-MAX_PINS)));
  } catch {
    // storage full or blocked: the pin lasts until the page reloads
  }
  dispatchEvent(new Event('audit-pins'));
  return at < 0;
}
