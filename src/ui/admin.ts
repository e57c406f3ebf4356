/**
 * The UI's one admin client, shared by every view (the service worker registration is awaited
 * once), and how its failures read to a person.
 */
import { AdminError, createAdminClient, type AdminClient } from '../client/admin';
import { takeEarly } from './early-reads';

let direct: Promise<AdminClient> | null = null;
let client: Promise<AdminClient> | null = null;

/** The admin client itself, with no early reads: what early reads are asked with. */
export function directAdminClient(): Promise<AdminClient> {
  direct ??= createAdminClient().catch((error: unknown) => {
    direct = null;
    throw error;
  });
  return direct;
}

/** The client once `adminClient()` has it, else null. */
let ready: AdminClient | null = null;

export function adminClient(): Promise<AdminClient> {
  client ??= directAdminClient().then(
    // A request a view's first read was started early for gets that read's answer (early-reads.ts).
    (admin): AdminClient => (ready = { request: (method, ...params) => (takeEarly(method, params[0]) ?? admin.request(method, ...params)) as never }),
    (error: unknown) => {
      client = null;
      throw error;
    },
  );
  return client;
}

/**
 * The client at once, when it is there (null before): a request made with it inside a Lit update
 * is sent before that update renders, where one after `await adminClient()` waits for the render.
 */
export function adminClientNow(): AdminClient | null {
  return ready;
}

/** A sentence for a failed admin request; says plainly when the server lacks the method. */
export function describeError(error: unknown): string {
  if (error instanceof AdminError && error.code === 'unknown-method') return `This sandbox's server does not support that yet (${error.message}).`;
  if (error instanceof AdminError) return `${error.message} (${error.code})`;
  return (error as Error)?.message ?? String(error);
}

/** Saves text as a file the person downloads. */
export function download(name: string, text: string, type: string): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([text], { type }));
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}
