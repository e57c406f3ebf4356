/**
 * Wire types for every postMessage boundary. Imports nothing: each context (page, service
 * worker, worker) can depend on this file and nothing else to speak to the others.
 */
import type { SandboxErrorInfo } from './errors';
import csp from './csp.json';

/** Marks our messages so foreign postMessage traffic on the same channel is ignored. */
export const CHANNEL = 'mcp-sandbox';
export const WIRE_VERSION = 1;

/** Largest serialised MCP message the server accepts (bytes of JSON). */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

interface Base {
  channel: typeof CHANNEL;
  v: typeof WIRE_VERSION;
}

/** Agent ⇄ server: one MCP JSON-RPC message of one session. */
export interface McpEnvelope extends Base {
  kind: 'mcp';
  session: string;
  /** A JSON-RPC message (object) or its JSON text; validated by the receiver. */
  message: unknown;
  /** Credentials, sent with `initialize` only: the agent id and its secret token. */
  auth?: { agent: string; token: string };
  /**
   * The agent page's origin, as the browser gave it to the connector (`event.origin`). Set
   * only by the connector page; the server ignores it on messages from any other page.
   */
  origin?: string;
}

/** Connector → agent page: the connector is loaded and will relay. */
export interface ConnectorReadyEnvelope extends Base {
  kind: 'connector-ready';
}

/** The connector cannot relay for its embedder, and says why at once (instead of a silent timeout). */
export interface ConnectorErrorEnvelope extends Base {
  kind: 'connector-error';
  /** `cross-site`: embedded by another site, so the browser gives it partitioned, empty storage. `no-service-worker`: it could not start the sandbox. */
  code: 'cross-site' | 'no-service-worker';
  message: string;
}

/** A window announces that it can host tool workers. */
/**
 * A window announces it can host tool workers. It transfers one MessagePort with it: the host
 * link its calls will travel on (call-link.ts).
 */
export interface HostHelloEnvelope extends Base {
  kind: 'host-hello';
}

/**
 * Agent page → service worker: a MessagePort (transferred with it) the page's MCP messages may
 * travel on while the service worker lives (src/transport/page/agent-link.ts). `link` names it.
 */
export interface AgentPortEnvelope extends Base {
  kind: 'agent-port';
  link: string;
}

/**
 * Agent page → service worker, as an event (which wakes a stopped worker and keeps a live one
 * running): is `link` still known? Answered with `agent-pong`.
 */
export interface AgentPingEnvelope extends Base {
  kind: 'agent-ping';
  link: string;
}

export interface AgentPongEnvelope extends Base {
  kind: 'agent-pong';
  link: string;
  /** False from a service worker that never had the link (the one that had it stopped). */
  known: boolean;
}

/** What travels on an agent link: page → SW, envelopes numbered; SW → page, acknowledgements and replies. */
export type AgentLinkMessage = { seq: number; envelope: McpEnvelope } | { ack: number } | { ready: true };

/** Service worker → host: "hand me a host link" (sent after a wake, when the old one died with the last lifetime). */
export interface HostPortRequestEnvelope extends Base {
  kind: 'host-port-request';
}

/** App pages ⇄ service worker: admin requests (same-origin app pages only). */
export interface AdminRequestEnvelope extends Base {
  kind: 'admin';
  id: string;
  method: string;
  params?: unknown;
}
export interface AdminResponseEnvelope extends Base {
  kind: 'admin-result';
  id: string;
  result?: unknown;
  error?: { code: string; message: string; details?: unknown };
}

/** Service worker → sandbox host: run one call. The reply comes on the transferred port. */
export interface ExecuteEnvelope extends Base {
  kind: 'execute';
  request: ExecuteRequest;
}

/**
 * Service worker → sandbox host: import an uploaded component (the service worker cannot
 * transpile). The host answers `ImportToolResult` on the transferred port.
 */
export interface ImportToolEnvelope extends Base {
  kind: 'import-tool';
  bytes: ArrayBuffer | Uint8Array;
  fileName: string;
}
export type ImportToolResult = { ok: true; record: unknown } | { ok: false; error: { code: string; message: string; details?: unknown } };

export type Envelope = McpEnvelope | HostHelloEnvelope | HostPortRequestEnvelope | AgentPortEnvelope | AgentPingEnvelope | AgentPongEnvelope | AdminRequestEnvelope | AdminResponseEnvelope | ExecuteEnvelope | ConnectorReadyEnvelope | ConnectorErrorEnvelope | ImportToolEnvelope;

/** Path of the connector page, relative to the app root. */
export const CONNECTOR_PATH: string = csp.connectorPath;

/** Where a tool's code lives: transpiled JS glue plus its core modules, all same-origin. */
export interface ToolCode {
  /** Content hash of the component; keys the compiled-module cache. */
  hash: string;
  /** URL of the jco-transpiled glue module, relative to the app root. */
  glueUrl: string;
  /** Core module file name (as the glue asks for it) → URL relative to the app root. */
  coreModules: Record<string, string>;
}

export interface CallLimits {
  /** CPU-time budget; the call is answered as `timeout` at this deadline. */
  cpuMs: number;
  /** Maximum linear memory of each of the tool's memories. */
  memoryBytes: number;
}

export interface ExecuteRequest {
  callId: string;
  /** The calling agent: interpreters are warm-reused only within one agent's runs. */
  agentId?: string;
  tool: string;
  code: ToolCode;
  /** Which export to run: `call` (arguments JSON) or `describe`. */
  entry: 'call' | 'describe';
  args: string;
  limits: CallLimits;
  /**
   * The calling conversation's context as JSON, what the tool's `get-context` import answers
   * (docs/context.md, "Into tools"). Set only for a tool whose metadata declares `context: true`.
   */
  context?: string;
}

/** Host capabilities a tool can ask for while it runs (tools/wit/tool.wit, interface `host`). */
export const CAPABILITIES = ['read-file', 'write-file', 'list-directory', 'stat', 'http-fetch', 'client-request', 'log'] as const;
export type CapabilityName = (typeof CAPABILITIES)[number];

/** Tool worker → host window → service worker: one use of a capability by a running call. */
export interface CapabilityRequest {
  id: number;
  fn: CapabilityName;
  args: Record<string, unknown>;
}
export type CapabilityReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

/** What travels on a call's own MessagePort between the service worker and the host. */
export type CallPortMessage =
  | { kind: 'capability'; request: CapabilityRequest }
  | { kind: 'capability-result'; reply: CapabilityReply }
  | { kind: 'result'; result: ExecuteResult }
  /** SW → host: the agent cancelled the call; stop it (terminate its worker) and free its slot. */
  | { kind: 'cancel'; reason: string };

export type ExecuteResult =
  | { ok: true; output: string; durationMs: number; memoryBytes: number }
  | { ok: false; error: SandboxErrorInfo; durationMs: number; memoryBytes: number };

export function envelope<T extends Envelope>(body: Omit<T, 'channel' | 'v'>): T {
  return { channel: CHANNEL, v: WIRE_VERSION, ...body } as T;
}

export function isEnvelope(data: unknown): data is Envelope {
  return typeof data === 'object' && data !== null && (data as Base).channel === CHANNEL && (data as Base).v === WIRE_VERSION && typeof (data as { kind?: unknown }).kind === 'string';
}

/**
 * Service worker → the app's open pages, on a BroadcastChannel of this name: the audit log
 * grew. Every change (a call, a session, an admin action) writes an entry, so this one notice
 * tells admin views when to load again instead of asking every few seconds.
 */
export const CHANGES_CHANNEL = 'mcp-sandbox:changes';
export type ChangeNotice =
  | {
      channel: typeof CHANNEL;
      v: typeof WIRE_VERSION;
      kind: 'audit-appended';
      /** The newest entry's seq. */
      newestSeq: number;
      /** The distinct events appended since the last notice (`call.result`, `admin`, …). */
      events: string[];
    }
  /** An audit entry could not be written because the origin's storage quota is reached: calls are being refused. */
  | { channel: typeof CHANNEL; v: typeof WIRE_VERSION; kind: 'storage-full'; at: number };
