/**
 * Fleet export: the audit stream as OpenTelemetry logs over OTLP/HTTP (docs/fleet.md). Types
 * only; the service worker implements it (src/server/fleet-export.ts).
 */

/** What `fleet.configure` changes; a member left out stays as it is. */
export interface FleetConfigInput {
  /** Base OTLP/HTTP endpoint (`https://collector.example:4318`, or ending in `/v1/logs`); null removes it. https, or http to loopback only. */
  endpoint?: string | null;
  /** Sends only while true (and an endpoint is set). */
  enabled?: boolean;
  /**
   * Headers sent with every request (an API key, a tenant): they replace those kept. Stored sealed;
   * never shown again, never audited (their names are).
   */
  headers?: Record<string, string>;
  compression?: 'gzip' | 'none';
  /** This sandbox's name in the fleet (resource attribute `mcp_sandbox.name`). */
  name?: string;
  /** Sends what follows this seq next (0: the whole log again, e.g. to a new store). Audited. */
  startAfterSeq?: number;
}

/** The export's configuration and progress, as the Settings view shows it. */
export interface FleetStatus {
  endpoint: string | null;
  /** Where records are POSTed (`{endpoint}/v1/logs`), null without an endpoint. */
  url: string | null;
  enabled: boolean;
  /** Header names only: values are write-only. */
  headerNames: string[];
  compression: 'gzip' | 'none';
  name: string;
  instanceId: string;
  /** Every entry up to this seq was acknowledged by the endpoint. */
  ackedSeq: number;
  /** The newest entry of the log. */
  newestSeq: number;
  /** Entries still to send. */
  backlog: number;
  /** `idle` (nothing to send), `sending`, `waiting` (back-off), `offline`, `disabled`, `unconfigured`. */
  state: 'idle' | 'sending' | 'waiting' | 'offline' | 'disabled' | 'unconfigured';
  failures: number;
  nextAttemptAt: number | null;
  lastError: { message: string; status: number | null; at: number } | null;
  lastSuccessAt: number | null;
  rejected: number;
  skipped: { from: number; to: number }[];
}
