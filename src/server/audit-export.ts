import { toJsonLines } from '../store/audit';
import { chainStart } from '../store/archive';
import type { DbHandle } from '../store/db';

/** Where the app downloads the whole audit log (relative to the app root). */
export const AUDIT_EXPORT_PATH = 'audit/export.jsonl';
/**
 * Entries read per step: memory stays bounded whatever the log's size, and each step's work on
 * the service worker's thread (reading, writing the lines: ~5 ms here) is short enough that a
 * call waiting behind it hardly notices; calls run between steps.
 */
const STEP = 200;

/**
 * The whole audit log as JSON Lines, streamed: each pull reads the next `STEP` entries on a
 * read transaction of its own and hands them on, so the file is written as it is read (never
 * one string of the whole log, which at ~700k entries would pass V8's longest string) and no
 * transaction is held while the browser writes. Sealed fields stay sealed. Served by the
 * service worker to the app's own pages (same origin: inside the trust boundary). When older
 * entries were archived (retention), the first line is `{"archive": checkpoint}`: the signed
 * checkpoint the first entry links to, so the file verifies on its own.
 */
export function streamAuditExport(handle: DbHandle): Response {
  let after = 0;
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      const { archived } = await chainStart(handle);
      if (archived) {
        after = archived.through;
        controller.enqueue(encoder.encode(JSON.stringify({ archive: archived }) + '\n'));
      }
    },
    async pull(controller) {
      const tx = (await handle.get()).transaction('audit');
      const records = await tx.store.getAll(IDBKeyRange.lowerBound(after, true), STEP);
      // Written out after the read transaction's end, never holding a call's write behind it.
      await tx.done;
      if (records.length === 0) {
        controller.close();
        return;
      }
      after = records[records.length - 1]!.seq;
      controller.enqueue(encoder.encode(toJsonLines(records)));
    },
  });
  return new Response(body, { headers: jsonLinesDownload(`audit-${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl`) });
}

/** Headers of a JSON Lines file of the audit log, downloaded by the app's own pages (never cached, sniffed or framed by another site). */
export function jsonLinesDownload(fileName: string): HeadersInit {
  return {
    'Content-Type': 'application/jsonl; charset=utf-8',
    'Content-Disposition': `attachment; filename="${fileName}"`,
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
  };
}
