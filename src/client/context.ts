import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { z } from 'zod';

// An agent's conversation context (docs/context.md), over the sandbox's custom MCP methods and
// the resource `context://conversation/{id}`. Without `conversation`, the session is the
// conversation; a tools/call names one in `_meta: { 'mcp-sandbox/conversation': id }`.

export type SharingRule = 'Private' | 'SessionOnly' | 'UserScoped';
const Result = z.object({}).passthrough();

export interface ContextTarget {
  /** The conversation (1–128 letters, digits or `._:@-`); the session's own without it. */
  conversation?: string;
}

/** Sets a variable (Private unless `sharing` says otherwise; Global is admin only). */
export function setContextVariable(client: Client, name: string, value: unknown, options: ContextTarget & { sharing?: SharingRule } = {}): Promise<Record<string, unknown>> {
  return client.request({ method: 'mcp-sandbox/context/set', params: { name, value, ...options } } as never, Result);
}

/** Clears a variable (the Private one unless `sharing` names another). */
export function clearContextVariable(client: Client, name: string, options: ContextTarget & { sharing?: SharingRule } = {}): Promise<Record<string, unknown>> {
  return client.request({ method: 'mcp-sandbox/context/clear', params: { name, ...options } } as never, Result);
}

/** Narrows the conversation's security level: `Strict`, `Moderate`, or `{level: 'Custom', policy}`. */
export function setContextLevel(client: Client, level: unknown, options: ContextTarget = {}): Promise<Record<string, unknown>> {
  return client.request({ method: 'mcp-sandbox/context/level', params: { level, ...options } } as never, Result);
}

export interface ConversationDocument {
  id: string;
  agentId: string;
  startedInSession: string | null;
  startedAt: string;
  securityLevel: unknown;
  readFromSession: string;
  variables: Record<string, { value: unknown; sharing: SharingRule | 'Global'; updatedAt: string; updatedBy: 'agent' | 'tool' | 'admin' }>;
  /** Per tool, how calls in this conversation fared, and its last success's arguments (docs/context.md, "Tool preferences"). */
  toolPreferences: Record<string, { calls: number; ok: number; weight: number; successRate: number; lastOutcome: string; lastUsedAt: number; preferred?: { shape: string; arguments: unknown; at: number; truncated?: true; withheld?: true } }>;
}

/** Reads `context://conversation/{id}` (one of this agent's conversations). */
export async function readConversation(client: Client, id: string): Promise<ConversationDocument> {
  const read = await client.readResource({ uri: `context://conversation/${encodeURIComponent(id)}` });
  return JSON.parse((read.contents[0] as { text: string }).text) as ConversationDocument;
}
