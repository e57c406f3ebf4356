import type { AuditLog } from '../store/audit';
import type { DbHandle } from '../store/db';
import type { ExecuteRequest, ExecuteResult } from '../shared/wire';
import type { ToolRegistry } from './registry';
import type { SessionStore } from './sessions';

/** Runs one call somewhere that can start workers. Never throws: failures are results. */
export interface Executor {
  execute(request: ExecuteRequest): Promise<ExecuteResult>;
}

export interface ServerConfig {
  serverInfo: { name: string; version: string };
  /** Ceilings for every call until per-agent policy lands: the smaller of these and the tool's own. */
  defaultLimits: { cpuMs: number; memoryMb: number };
  /** Agent id for sessions that name none. */
  anonymousAgent: string;
}

export const DEFAULT_CONFIG: ServerConfig = {
  serverInfo: { name: 'browser-mcp-sandbox', version: '0.1.0' },
  defaultLimits: { cpuMs: 10_000, memoryMb: 64 },
  anonymousAgent: 'anonymous',
};

/** Everything a request handler may touch. Rebuilt on every service-worker wake. */
export interface ServerContext {
  db: DbHandle;
  audit: AuditLog;
  registry: ToolRegistry;
  sessions: SessionStore;
  executor: Executor;
  config: ServerConfig;
  clock: () => number;
  /** Random id of this service-worker lifetime; write-ahead records carry it. */
  incarnation: string;
}
