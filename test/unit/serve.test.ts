import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
// @ts-expect-error -- plain ESM script without types
import { startServer } from '../../scripts/serve.mjs';

// `npm start`'s server compresses what it serves (brotli, else gzip), for the client that asks.

let server: Server;
let url: string;
const script = `export const x = ${JSON.stringify('abc '.repeat(5_000))};\n`;

beforeAll(async () => {
  const root = await mkdtemp(join(tmpdir(), 'serve-'));
  await writeFile(join(root, 'app.js'), script);
  await writeFile(join(root, 'tiny.js'), 'export {};\n');
  ({ server, url } = (await startServer({ root, port: 0 })) as { server: Server; url: string });
});
afterAll(() => void server?.close());

const get = async (path: string, acceptEncoding: string) => {
  const { request } = await import('node:http');
  return new Promise<{ headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
    request(new URL(path, url), { headers: { 'accept-encoding': acceptEncoding } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
    })
      .on('error', reject)
      .end();
  });
};

describe('serve.mjs compression', () => {
  it('sends brotli when accepted, else gzip, else the bytes as they are; the content is the file', async () => {
    const br = await get('/app.js', 'gzip, deflate, br');
    expect(br.headers).toMatchObject({ 'content-encoding': 'br', vary: 'Accept-Encoding' });
    expect(br.body.byteLength).toBeLessThan(script.length / 10);
    expect(brotliDecompressSync(br.body).toString()).toBe(script);
    const gz = await get('/app.js', 'gzip');
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.body).toString()).toBe(script);
    const plain = await get('/app.js', 'identity');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.toString()).toBe(script);
    // Not worth it under a kilobyte.
    expect((await get('/tiny.js', 'br')).headers['content-encoding']).toBeUndefined();
  });
});
