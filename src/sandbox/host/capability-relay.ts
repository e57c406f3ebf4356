import type { CallEnd } from '../../transport/host-link';
import { CAPABILITIES, type CallPortMessage, type CapabilityReply, type CapabilityRequest } from '../../shared/wire';

/** Largest capability request (e.g. a file's contents) a tool may send in one message. */
const MAX_REQUEST_BYTES = 16 * 1024 * 1024;

/**
 * A channel for one call's capability requests: the worker gets one end; every request that
 * arrives on the other is checked for shape and size, then answered by `answer`. The host
 * decides nothing itself — the service worker holds the policy and the audit.
 */
export function capabilityChannel(answer: (request: CapabilityRequest) => Promise<CapabilityReply>): { workerPort: MessagePort; close(): void } {
  const channel = new MessageChannel();
  channel.port1.onmessage = (event: MessageEvent) => {
    const request = wellFormed(event.data);
    if (!request) return;
    void answer(request).then((reply) => {
      if (request.id !== 0) channel.port1.postMessage(reply);
    });
  };
  return {
    workerPort: channel.port2,
    close: () => channel.port1.close(),
  };
}

function wellFormed(data: unknown): CapabilityRequest | null {
  const r = data as Partial<CapabilityRequest> | null;
  if (!r || typeof r !== 'object' || typeof r.id !== 'number' || !Number.isInteger(r.id) || r.id < 0) return null;
  if (!CAPABILITIES.includes(r.fn as CapabilityRequest['fn'])) return null;
  if (!r.args || typeof r.args !== 'object' || Array.isArray(r.args)) return null;
  for (const value of Object.values(r.args)) if (typeof value !== 'string' || value.length > MAX_REQUEST_BYTES) return null;
  return { id: r.id, fn: r.fn as CapabilityRequest['fn'], args: r.args };
}

/**
 * Answers capability requests by asking the service worker on the call's port, and hears the
 * service worker cancel the call on the same port (`onCancel`).
 */
export function relayCapabilities(end: CallEnd, onCancel?: (reason: string) => void): (request: CapabilityRequest) => Promise<CapabilityReply> {
  const waiting = new Map<number, (reply: CapabilityReply) => void>();
  let next = 1;
  end.onmessage = (message) => {
    if (message?.kind === 'cancel') {
      onCancel?.(message.reason);
      // Requests still waiting will get no answer from a cancelled call: refuse them now.
      for (const [id, answer] of waiting) answer({ id, ok: false, error: 'refused: the call was cancelled' });
      waiting.clear();
      return;
    }
    if (message?.kind !== 'capability-result') return;
    waiting.get(message.reply.id)?.(message.reply);
    waiting.delete(message.reply.id);
  };
  return (request) =>
    new Promise((resolve) => {
      // The service worker sees its own ids; the tool's ids are restored on the way back.
      const id = next++;
      waiting.set(id, (reply) => resolve({ ...reply, id: request.id }));
      end.post({ kind: 'capability', request: { ...request, id } } satisfies CallPortMessage);
    });
}
