// The views' Poller (src/ui/poller.ts): a refresh asked for while a load runs gets a load that
// starts after it was asked, so a view never keeps data read before the change it refreshed for
// (the Contexts view's history once showed nothing after a variable was chosen mid-load).
import { afterEach, describe, expect, it } from 'vitest';
import { Poller } from '../../src/ui/poller';

const realDocument = (globalThis as { document?: unknown }).document;
afterEach(() => {
  (globalThis as { document?: unknown }).document = realDocument;
});

describe('Poller.refresh', () => {
  it('loads again after a load that was running when it was asked, once for every refresh meanwhile', async () => {
    (globalThis as { document?: unknown }).document = { hidden: false, addEventListener: () => undefined, removeEventListener: () => undefined };
    const view = { failure: '', loaded: false, addController: () => undefined, removeController: () => undefined, requestUpdate: () => undefined, updateComplete: Promise.resolve(true) };
    let state = 'before';
    const seen: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const poller = new Poller(
      view,
      async () => {
        const saw = state;
        if (seen.length === 0) await gate;
        seen.push(saw);
      },
      60_000,
    );
    const first = poller.refresh();
    // The data changes while the first load runs; the view asks for it, twice.
    state = 'after';
    const second = poller.refresh();
    const third = poller.refresh();
    release();
    await Promise.all([first, second, third]);
    expect(seen).toEqual(['before', 'after']);
    // With nothing running, a refresh is one load.
    await poller.refresh();
    expect(seen).toEqual(['before', 'after', 'after']);
    expect(view.loaded).toBe(true);
  });
});
