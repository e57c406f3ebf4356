import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Server } from 'node:http';
import type { TestProject } from 'vitest/node';
// @ts-expect-error -- plain ESM script without types
import { startServer } from '../../scripts/serve.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    baseUrl: string;
  }
}

/** Serves the built app (npm run build) once for the whole browser tier. */
export default async function setup(project: TestProject) {
  const dist = fileURLToPath(new URL('../../dist/', import.meta.url));
  if (!existsSync(dist + 'sw.js')) throw new Error('dist/ is missing: run `npm run build` before the browser tests');
  const { server, url } = (await startServer({ root: dist, port: 0 })) as { server: Server; url: string };
  project.provide('baseUrl', url);
  return () => new Promise<void>((resolve) => server.close(() => resolve()));
}
