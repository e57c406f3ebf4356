/// <reference lib="webworker" />
import { CHANGES_CHANNEL, CHANNEL, WIRE_VERSION, type ChangeNotice } from '../shared/wire';
import type { AuditLog } from '../store/audit';

/** At most one notice per this many ms: a busy sandbox appends hundreds of entries a second. */
export const CHANGE_NOTICE_MS = 250;

/**
 * Tells the app's open pages (on a BroadcastChannel) that the audit log grew, at most once per
 * CHANGE_NOTICE_MS, with the newest seq and the events since the last notice; and at once when an
 * entry could not be written because the storage quota is reached. Admin views load
 * again when told, rather than polling; a page with nothing open costs the service worker
 * nothing. Returns the unsubscribe.
 */
export function announceChanges(audit: AuditLog, channel: Pick<BroadcastChannel, 'postMessage'> = new BroadcastChannel(CHANGES_CHANNEL)): () => void {
  let events = new Set<string>();
  let newestSeq = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const send = () => {
    timer = null;
    const notice: ChangeNotice = { channel: CHANNEL, v: WIRE_VERSION, kind: 'audit-appended', newestSeq, events: [...events] };
    events = new Set();
    channel.postMessage(notice);
  };
  const stopCommitted = audit.onCommitted((entries) => {
    for (const entry of entries) events.add(entry.event);
    newestSeq = Math.max(newestSeq, entries[entries.length - 1]?.seq ?? 0);
    timer ??= setTimeout(send, CHANGE_NOTICE_MS);
  });
  // A full quota is said at once (at most once a second): calls are being refused until space is made.
  let fullSaidAt = -Infinity;
  const stopFailed = audit.onCommitFailed((error) => {
    if ((error as { name?: string } | null)?.name !== 'QuotaExceededError' || Date.now() - fullSaidAt < 1_000) return;
    fullSaidAt = Date.now();
    channel.postMessage({ channel: CHANNEL, v: WIRE_VERSION, kind: 'storage-full', at: fullSaidAt } satisfies ChangeNotice);
  });
  return () => {
    stopCommitted();
    stopFailed();
  };
}
