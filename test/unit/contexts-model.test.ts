import { describe, expect, it } from 'vitest';
import { conversationsByAgent, globalVariables, historyOf, levelLabel, reachingVariables, shortValue } from '../../src/ui/contexts-model';
import type { AuditEntry, ContextRecord, ContextVariableRecord } from '../../src/store/schema';

// What the app's Contexts view computes from the admin API's answers (src/ui/contexts-model.ts).

const v = (value: unknown, sharing: ContextVariableRecord['sharing'], updatedAt = 1): ContextVariableRecord => ({ value, sharing, updatedAt, updatedBy: sharing === 'Global' ? 'admin' : 'agent' });
const conv = (agentId: string, id: string, sessionId: string, variables: Record<string, ContextVariableRecord> = {}, updatedAt = 10): ContextRecord => ({ key: `conversation|${agentId}|${id}`, kind: 'conversation', agentId, sessionId, conversationId: id, startedAt: 1, updatedAt, variables });
const RECORDS: ContextRecord[] = [
  conv('b', 'chat-1', 's-b', {}, 5),
  conv('a', 'chat-1', 's-a1', { topic: v('cats', 'Private'), lang: v('fr', 'Private') }, 20),
  conv('a', 'chat-2', 's-a1', {}, 30),
  { key: 'session|s-a1', kind: 'session', agentId: 'a', sessionId: 's-a1', conversationId: null, startedAt: 1, updatedAt: 1, variables: { draft: v(1, 'SessionOnly') } },
  { key: 'session|s-a2', kind: 'session', agentId: 'a', sessionId: 's-a2', conversationId: null, startedAt: 1, updatedAt: 1, variables: { other: v(2, 'SessionOnly') } },
  { key: 'agent|a', kind: 'agent', agentId: 'a', sessionId: null, conversationId: null, startedAt: 1, updatedAt: 1, variables: { lang: v('en', 'UserScoped') } },
  { key: 'agent|b', kind: 'agent', agentId: 'b', sessionId: null, conversationId: null, startedAt: 1, updatedAt: 1, variables: { secret: v('b-only', 'UserScoped') } },
  { key: 'global', kind: 'global', agentId: null, sessionId: null, conversationId: null, startedAt: 1, updatedAt: 1, variables: { motd: v('hi', 'Global'), topic: v('g', 'Global') } },
];

let seq = 0;
const change = (agentId: string | null, sessionId: string | null, details: Record<string, unknown>, outcome = 'info', error: AuditEntry['error'] = null): AuditEntry =>
  ({ seq: ++seq, ts: 1000 + seq, event: 'context.change', outcome, agentId, sessionId, callId: null, tool: null, details, error }) as unknown as AuditEntry;

describe('the Contexts view model', () => {
  it('groups conversations per agent (agents by id, most recently changed first), leaving scopes out', () => {
    const groups = conversationsByAgent(RECORDS);
    expect([...groups.keys()]).toEqual(['a', 'b']);
    expect(groups.get('a')!.map((r) => r.conversationId)).toEqual(['chat-2', 'chat-1']);
    expect(groups.get('b')!.map((r) => r.conversationId)).toEqual(['chat-1']);
  });

  it('lists the variables that reach a conversation, each with its rule, the shadowed ones marked', () => {
    const rows = reachingVariables(RECORDS, RECORDS[1]!).map((r) => [r.name, r.sharing, r.value, r.shadowed, r.sessionId]);
    expect(rows).toEqual([
      ['lang', 'Private', 'fr', false, null],
      ['topic', 'Private', 'cats', false, null],
      ['draft', 'SessionOnly', 1, false, 's-a1'],
      ['lang', 'UserScoped', 'en', true, null],
      ['motd', 'Global', 'hi', false, null],
      ['topic', 'Global', 'g', true, null],
    ]);
    // Nothing of another agent, nor of another session of the same agent.
    const names = reachingVariables(RECORDS, RECORDS[1]!).map((r) => r.name);
    expect(names).not.toContain('secret');
    expect(names).not.toContain('other');
    // Agent b's conversation: its own UserScoped and the Global ones only.
    expect(reachingVariables(RECORDS, RECORDS[0]!).map((r) => `${r.name}:${r.sharing}`)).toEqual(['secret:UserScoped', 'motd:Global', 'topic:Global']);
    expect(globalVariables(RECORDS).map((r) => r.name)).toEqual(['motd', 'topic']);
  });

  it('reads the history of a conversation and of one variable in its scope from context.change entries', () => {
    const entries = [
      change('a', 's-a1', { conversation: 'chat-1', actor: 'agent', name: 'topic', sharing: 'Private', op: 'set', before: null, after: { value: 'cats', sharing: 'Private', updatedBy: 'agent' } }),
      change('a', 's-a1', { conversation: 'chat-2', actor: 'agent', name: 'topic', sharing: 'Private', op: 'set', before: null, after: { value: 'dogs', sharing: 'Private', updatedBy: 'agent' } }),
      change('a', 's-a1', { conversation: 'chat-2', actor: 'agent', name: 'lang', sharing: 'UserScoped', op: 'set', before: null, after: { value: 'en', sharing: 'UserScoped', updatedBy: 'agent' } }),
      change('a', null, { conversation: 'chat-1', actor: 'admin', op: 'level', before: { level: 'Permissive' }, after: { level: 'Strict' } }),
      change('a', 's-a1', { conversation: 'chat-1', actor: 'agent', op: 'refused', name: 'g', sharing: 'Global' }, 'denied', { code: 'policy-denied', message: 'no', details: { rule: 'context.global-admin-only' } }),
      change('b', 's-b', { conversation: 'chat-1', actor: 'agent', name: 'topic', sharing: 'Private', op: 'set', before: null, after: { value: 'b', sharing: 'Private', updatedBy: 'agent' } }),
      change(null, null, { conversation: null, actor: 'admin', name: 'topic', sharing: 'Global', op: 'set', before: null, after: { value: 'g', sharing: 'Global', updatedBy: 'admin' } }),
      { ...change('a', 's-a1', { alg: 'AES-GCM-256' }), unopened: ['details'] } as AuditEntry,
    ];
    const whole = historyOf(entries, { kind: 'conversation', agentId: 'a', conversation: 'chat-1' });
    expect(whole.map((r) => [r.op, r.name, r.outcome, r.rule])).toEqual([
      ['refused', 'g', 'denied', 'context.global-admin-only'],
      ['level', null, 'info', null],
      ['set', 'topic', 'info', null],
    ]);
    expect(shortValue(whole[1]!.before)).toBe('Permissive');
    expect(shortValue(whole[1]!.after)).toBe('Strict');
    expect(shortValue(whole[2]!.after)).toBe('"cats"');
    // Private: that conversation only; UserScoped: that agent, written in any conversation; Global: the admin's.
    expect(historyOf(entries, { kind: 'variable', agentId: 'a', conversation: 'chat-1', name: 'topic', sharing: 'Private', sessionId: null }).map((r) => r.conversation)).toEqual(['chat-1']);
    expect(historyOf(entries, { kind: 'variable', agentId: 'a', conversation: 'chat-1', name: 'lang', sharing: 'UserScoped', sessionId: null }).map((r) => r.conversation)).toEqual(['chat-2']);
    expect(historyOf(entries, { kind: 'variable', agentId: 'a', conversation: 'chat-1', name: 'topic', sharing: 'Global', sessionId: null }).map((r) => r.actor)).toEqual(['admin']);
    // SessionOnly: that session's changes only.
    const session = [change('a', 's-a1', { conversation: 'x', actor: 'agent', name: 'd', sharing: 'SessionOnly', op: 'set' }), change('a', 's-a2', { conversation: 'x', actor: 'agent', name: 'd', sharing: 'SessionOnly', op: 'set' })];
    expect(historyOf(session, { kind: 'variable', agentId: 'a', conversation: 'x', name: 'd', sharing: 'SessionOnly', sessionId: 's-a2' }).map((r) => r.seq)).toEqual([session[1]!.seq]);
  });

  it('names levels and shortens values', () => {
    expect(levelLabel(undefined)).toBe('Permissive');
    expect(levelLabel({ level: 'Strict' })).toBe('Strict');
    expect(levelLabel({ level: 'Custom', policy: { version: 1, limits: { memoryMb: 64 } } as never })).toBe('Custom (limits)');
    expect(shortValue(null)).toBe('–');
    expect(shortValue({ value: 'x'.repeat(200), sharing: 'Private' }, 10)).toBe(`"${'x'.repeat(8)}…`);
  });
});
