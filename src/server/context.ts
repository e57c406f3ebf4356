import type { AuditLog } from '../store/audit';
import type { Sealer } from '../store/sealing';
import type { DbHandle } from '../store/db';
import type { CapabilityReply, CapabilityRequest, ExecuteRequest, ExecuteResult } from '../shared/wire';
import type { ToolRegistry } from './registry';
import type { SessionStore } from './sessions';
import type { AgentDirectory } from './agents';
import type { CallCounters } from './counters';
import type { ContextStore } from './contexts';
import type { CallSlots } from './call-slots';
import type { Lifetimes } from './lifetimes';

/** Answers a running call's use of a host capability (policy-checked and audited). */
export type CapabilityHandler = (request: CapabilityRequest) => Promise<CapabilityReply>;

/**
 * Runs one call somewhere that can start workers. Never throws: failures are results. When
 * `signal` aborts, the call is stopped where it runs and answers `cancelled` at once.
 */
export interface Executor {
  execute(request: ExecuteRequest, capabilities?: CapabilityHandler, signal?: AbortSignal): Promise<ExecuteResult>;
  /** How many windows can run calls now (none: every call fails `no-sandbox-host`); unknown if absent. */
  openHosts?(): Promise<number>;
}

export interface ServerConfig {
  serverInfo: { name: string; version: string };
}

export const DEFAULT_CONFIG: ServerConfig = {
  serverInfo: { name: 'browser-mcp-sandbox', version: '0.1.0' },
};

/** Everything a request handler may touch. Rebuilt on every service-worker wake. */
export interface ServerContext {
  db: DbHandle;
  /** Encrypts what `data.encryptionRequired` says must be encrypted at rest. */
  sealer: Sealer;
  audit: AuditLog;
  registry: ToolRegistry;
  sessions: SessionStore;
  agents: AgentDirectory;
  counters: CallCounters;
  /** Conversation contexts: variables and security levels (contexts.ts). */
  contexts: ContextStore;
  executor: Executor;
  config: ServerConfig;
  clock: () => number;
  /** Random id of this service-worker lifetime; write-ahead records carry it. */
  incarnation: string;
  /** The slots of this lifetime's write-ahead records (call-slots.ts). */
  callSlots: CallSlots;
  /** Which lifetimes still run (lifetimes.ts): recovery closes only the calls of ended ones. */
  lifetimes: Lifetimes;
}
