/// <reference lib="webworker" />
import { archiveRange, ArchiveError, writeArchive } from '../store/archive';
import type { ServerContext } from './context';
import { jsonLinesDownload } from './audit-export';

/** Where the app downloads an archive of the oldest entries (`?through=<seq>`, relative to the app root). */
export const AUDIT_ARCHIVE_PATH = 'audit/archive.jsonl';

/**
 * The archive file of entries up to `through` (src/store/archive.ts), streamed as it is read: the
 * writer waits for the reader, so memory stays bounded whatever the range. A range that cannot be
 * archived is answered 409 with the reason before anything is streamed; a chain found broken on
 * the way errors the stream, so the file is incomplete and carries no checkpoint.
 */
export async function streamAuditArchive(ctx: ServerContext, url: URL): Promise<Response> {
  const through = Number(url.searchParams.get('through'));
  const range = await archiveRange(ctx.db);
  if (!Number.isSafeInteger(through) || through < range.firstSeq || through > range.maxThrough) {
    const error = new ArchiveError('archive-range', range.maxThrough ? `entries #${range.firstSeq}–#${range.maxThrough} can be archived, not through #${url.searchParams.get('through')}` : 'nothing can be archived yet: the log keeps its newest entry and every open call');
    return new Response(JSON.stringify({ error: { code: error.code, message: error.message } }), { status: 409, headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' } });
  }
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const writer = writable.getWriter();
  const encoder = new TextEncoder();
  writeArchive(
    ctx.db,
    through,
    async (chunk) => {
      await writer.ready;
      await writer.write(encoder.encode(chunk));
    },
    ctx.clock(),
  ).then(
    () => writer.close(),
    (error: unknown) => writer.abort(error),
  );
  return new Response(readable, { headers: jsonLinesDownload(`audit-archive-${range.firstSeq}-${through}.jsonl`) });
}
