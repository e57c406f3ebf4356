/// <reference lib="webworker" />
import { CONNECTOR_PATH, isEnvelope, type Envelope, type McpEnvelope } from '../shared/wire';
import { DbHandle } from '../store/db';
import { SessionRouter, type Peer } from '../transport/session-router';
import { handleAdmin } from './admin';
import type { ServerContext } from './context';
import { createServerContext } from './create-context';
import { recoverInterrupted } from './recovery';
import type { ToolManifest } from './registry';
import { SandboxDispatcher } from './sandbox-dispatch';
import { createSessionOpener } from './session-opener';
import { dropOldCaches, precache, respond } from './offline';
import { LiveSessions } from './live-sessions';
import { UPLOADED_PREFIX } from './registry';
import { serveToolFile } from './tool-files';
import { AUDIT_EXPORT_PATH, streamAuditExport } from './audit-export';
import { AUDIT_ARCHIVE_PATH, streamAuditArchive } from './audit-archive';
import type { ToolRecord } from '../store/schema';
import { installBenchRelay } from './bench-relay';
import { AgentLinks } from './agent-links';
import { HttpEndpoint, MCP_HTTP_PATH } from './http-endpoint';
import { announceChanges } from './change-feed';
import { FleetExporter } from './fleet-export';

/**
 * Wires the service worker's events to the server. Everything built here is rebuilt on every
 * wake; nothing here outlives a stop except what is in IndexedDB.
 */
export function startServiceWorker(scope: ServiceWorkerGlobalScope): void {
  const db = new DbHandle();
  const dispatcher = new SandboxDispatcher(scope, db);
  const ctx: ServerContext = createServerContext({ db, executor: dispatcher });
  // The benchmark's floors (test/bench/): a port relay and IndexedDB commits in its own database.
  installBenchRelay(scope);
  // Open admin pages are told when the log grows (they load again then, instead of polling).
  announceChanges(ctx.audit);
  // The audit stream to the fleet's collector, when the person configured one (docs/fleet.md).
  const fleet = new FleetExporter({ db, sealer: ctx.sealer, audit: ctx.audit, clock: ctx.clock, incarnation: ctx.incarnation, resource: { serviceName: ctx.config.serverInfo.name, serviceVersion: ctx.config.serverInfo.version, origin: scope.location.origin }, online: () => navigator.onLine });
  scope.addEventListener('online', () => fleet.kick());
  const live = new LiveSessions();
  const router = new SessionRouter(createSessionOpener(ctx, live));
  const agentLinks = new AgentLinks(router);
  const http = new HttpEndpoint(ctx, scope.location.origin, live);
  const mcpPath = new URL(MCP_HTTP_PATH, scope.registration.scope).pathname;
  const uploadedPath = new URL(UPLOADED_PREFIX, scope.registration.scope).pathname;
  const exportPath = new URL(AUDIT_EXPORT_PATH, scope.registration.scope).pathname;
  const archivePath = new URL(AUDIT_ARCHIVE_PATH, scope.registration.scope).pathname;
  const manifestUrl = new URL('tools/manifest.json', scope.registration.scope).href;

  // This lifetime's lock, held until it ends: another lifetime's recovery leaves our calls alone
  // while we run (lifetimes.ts). Held before any call of ours can be recorded. Without it (no Web
  // Locks, or refused) recovery works as after a stop, which is all it can know.
  const holding = ctx.lifetimes.hold(ctx.incarnation).catch(() => undefined);
  // Once per wake: close calls cut off by a stop, and make sure the bundled tools are known.
  let ready: Promise<void> | null = null;
  const wake = () =>
    (ready ??= (async () => {
      await holding;
      await recoverInterrupted(ctx);
      fleet.start();
      if ((await (await db.get()).count('tools')) === 0) await seedBundled(ctx, manifestUrl, false);
    })().catch((error) => {
      ready = null;
      throw error;
    }));

  scope.addEventListener('install', (event) => event.waitUntil(precache(scope).then(() => scope.skipWaiting())));
  scope.addEventListener('activate', (event) =>
    event.waitUntil(
      (async () => {
        await scope.clients.claim();
        await dropOldCaches();
        await seedBundled(ctx, manifestUrl, false);
      })(),
    ),
  );

  scope.addEventListener('message', (event) => {
    const data: unknown = event.data;
    if (!isEnvelope(data)) return;
    const source = event.source as Client | null;
    if (!source) return;
    // Held open until the entries the message caused have committed too (a call's result entry
    // commits after its reply, with the next call's request when that comes within a few ms: not
    // released early here), and a fleet-export send they started has been answered.
    event.waitUntil(
      wake()
        .then(() => handle(data, source, event.ports))
        .finally(() => ctx.audit.drained().then(() => fleet.hold())),
    );
  });

  const handle = async (data: Envelope, source: Client, ports: readonly MessagePort[]): Promise<void> => {
    switch (data.kind) {
      case 'mcp':
        return router.handle(data, { post: (message) => source.postMessage(message) }, peerOf(data, source, scope));
      case 'agent-port':
        // Same-origin pages only: a port carries no origin, and the connector speaks for others.
        if (ports[0] && typeof data.link === 'string' && !isConnector(source, scope)) agentLinks.accept(data.link, ports[0], { origin: scope.location.origin, via: 'direct' });
        return;
      case 'agent-ping':
        if (typeof data.link === 'string') return agentLinks.ping(data.link, (message) => source.postMessage(message));
        return;
      case 'host-hello':
        return dispatcher.announce(source.id, ctx.clock(), ports[0]);
      case 'admin':
        return handleAdmin(ctx, data, source, {
          seed: (fixtures) => seedBundled(ctx, manifestUrl, fixtures),
          fleet,
          toolsChanged: (agentId) => live.notifyToolsChanged(agentId),
          upload: async (bytes, fileName) => {
            const result = await dispatcher.importTool(bytes, fileName);
            if (result.ok) return result.record as ToolRecord;
            throw Object.assign(new Error(result.error.message), { code: result.error.code, details: result.error.details });
          },
        });
      default:
        return;
    }
  };

  scope.addEventListener('fetch', (event) => {
    const request = event.request;
    const url = new URL(request.url);
    // MCP over Streamable HTTP (POST, GET for the stream, DELETE), answered here.
    if (url.origin === scope.location.origin && url.pathname === mcpPath) {
      const answer = wake().then(() => http.handle(request));
      event.respondWith(answer);
      // As for messages: a fleet-export send the request started is not cut by an idle stop.
      return event.waitUntil(answer.then(() => ctx.audit.drained()).then(() => fleet.hold(), () => undefined));
    }
    if (request.method !== 'GET' || url.origin !== scope.location.origin) return;
    // Uploaded tools' glue and core modules live in IndexedDB, not on the server.
    if (url.pathname.startsWith(uploadedPath)) event.respondWith(serveToolFile(db, url.pathname.slice(uploadedPath.length)));
    // Readers of the log: entries held for group commit (a call's result) commit first.
    else if (url.pathname === exportPath && request.mode !== 'no-cors') event.respondWith(ctx.audit.settled().then(() => streamAuditExport(db)));
    else if (url.pathname === archivePath && request.mode !== 'no-cors') event.respondWith(ctx.audit.settled().then(() => streamAuditArchive(ctx, url)));
    else event.respondWith(respond(request, scope.registration.scope));
  });
}

/**
 * Who sent an MCP message. Only the connector page may speak for another origin (it relays
 * `event.origin` as the browser gave it); every other page is its own, same, origin.
 */
function peerOf(data: McpEnvelope, source: Client, scope: ServiceWorkerGlobalScope): Peer {
  if (isConnector(source, scope) && typeof data.origin === 'string') return { origin: data.origin, via: 'connector' };
  return { origin: scope.location.origin, via: 'direct' };
}

function isConnector(source: Client, scope: ServiceWorkerGlobalScope): boolean {
  return new URL(source.url).pathname === new URL(CONNECTOR_PATH, scope.registration.scope).pathname;
}

async function seedBundled(ctx: ServerContext, manifestUrl: string, fixtures: boolean): Promise<string[]> {
  // Offline, the precached copy will do.
  const response = await fetch(manifestUrl, { cache: 'no-cache' }).catch(async (error: unknown) => (await caches.match(manifestUrl)) ?? Promise.reject(error));
  if (!response.ok) throw new Error(`bundled tool manifest: HTTP ${response.status}`);
  return ctx.registry.seed((await response.json()) as ToolManifest, { fixtures, now: ctx.clock() });
}
