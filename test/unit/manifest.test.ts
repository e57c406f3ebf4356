import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

// The PWA is installable as browsers check it: an id, PNG icons of 192 and 512 px (plain and
// maskable), each file there and of the size it claims, and a screenshot.

const at = (p: string) => fileURLToPath(new URL(`../../public${p}`, import.meta.url));
/** Width and height from a PNG's IHDR chunk. */
async function pngSize(path: string): Promise<[number, number]> {
  const b = await readFile(at(path));
  expect(b.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  return [b.readUInt32BE(16), b.readUInt32BE(20)];
}

describe('the web app manifest', () => {
  it('has an id, PNG icons of 192 and 512 px for any and maskable use, and screenshots, each file of its stated size', async () => {
    const m = JSON.parse(await readFile(at('/manifest.webmanifest'), 'utf8')) as { id: string; icons: { src: string; sizes: string; type: string; purpose: string }[]; screenshots: { src: string; sizes: string }[] };
    expect(m.id).toBe('/');
    const png = m.icons.filter((i) => i.type === 'image/png');
    for (const size of ['192x192', '512x512']) for (const purpose of ['any', 'maskable']) expect(png.some((i) => i.sizes === size && i.purpose === purpose)).toBe(true);
    for (const image of [...png, ...m.screenshots]) expect((await pngSize(image.src)).join('x')).toBe(image.sizes);
  });
});
