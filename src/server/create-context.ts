import { AuditLog } from '../store/audit';
import type { DbHandle } from '../store/db';
import { Sealer } from '../store/sealing';
import { SessionCheckpoints } from '../store/session-checkpoints';
import { AgentDirectory } from './agents';
import { CallSlots } from './call-slots';
import { DEFAULT_CONFIG, type Executor, type ServerConfig, type ServerContext } from './context';
import { CallCounters } from './counters';
import { ContextStore } from './contexts';
import { platformLifetimes, type Lifetimes } from './lifetimes';
import { ToolRegistry } from './registry';
import { SessionStore } from './sessions';

/**
 * The server's context, wired one way for the service worker and for the tests (which pass an
 * in-memory executor and, for time rules, a fake clock). Called once per service-worker wake.
 */
export function createServerContext(options: { db: DbHandle; executor: Executor; clock?: () => number; config?: ServerConfig; lifetimes?: Lifetimes }): ServerContext {
  const { db, executor } = options;
  const clock = options.clock ?? Date.now;
  // One key for this lifetime's audit entries and workspace files (encryptionRequired).
  const sealer = new Sealer(db);
  // When session records are written (with the audit's commits, not with every call).
  const checkpoints = new SessionCheckpoints();
  return {
    db,
    sealer,
    audit: new AuditLog(db, clock, sealer, checkpoints),
    registry: new ToolRegistry(db),
    sessions: new SessionStore(db, checkpoints),
    agents: new AgentDirectory(db, clock),
    counters: new CallCounters(db),
    contexts: new ContextStore(db, clock),
    executor,
    config: options.config ?? DEFAULT_CONFIG,
    clock,
    incarnation: crypto.randomUUID(),
    callSlots: new CallSlots(),
    lifetimes: options.lifetimes ?? platformLifetimes(),
  };
}
