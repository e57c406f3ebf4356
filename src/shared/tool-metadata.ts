/**
 * What an uploaded tool must be, checked the same way in the app window (before anything is
 * stored) and again in the service worker (which decides). Pure: no DOM, no storage.
 */

import { describeBound, measureJson, type JsonBounds } from './json-bounds';

/** Largest component accepted for upload. */
export const MAX_COMPONENT_BYTES = 8 * 1024 * 1024;
export const TOOL_NAME_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;
/** Permissions a tool may declare (tools/wit/tool.wit); log, clock and random need none. */
export const TOOL_PERMISSIONS = ['files:read', 'files:write', 'network', 'client'] as const;

/** Typed reasons an upload is refused. */
export type ToolUploadErrorCode = 'not-wasm' | 'not-a-component' | 'too-large' | 'transpile-failed' | 'describe-failed' | 'invalid-metadata' | 'name-clash' | 'pinned';

export interface FieldError {
  field: string;
  reason: string;
}

/** What `describe` returns, once validated (defaults filled in). */
export interface ValidToolMetadata {
  name: string;
  description: string;
  version: string;
  author: string;
  tags: string[];
  categories: string[];
  inputSchema: Record<string, unknown>;
  permissions: string[];
  limits: { memoryMb?: number; cpuMs?: number };
  resource?: { uri: string; mimeType: string };
  /**
   * True: the tool receives the calling conversation's context (conversation and agent ids,
   * visible variables, session start) through its `get-context` host import (docs/context.md,
   * "Into tools"). A tool that does not declare it gets nothing.
   */
  context?: boolean;
}

const KEYS = new Set(['name', 'description', 'version', 'author', 'tags', 'categories', 'inputSchema', 'permissions', 'limits', 'resource', 'context']);
const SEMVER = /^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]+)?$/;
const MAX_TEXT = 4096;

/** The kind of bytes: WebAssembly core module, component, or neither. */
export function wasmKind(bytes: Uint8Array): 'not-wasm' | 'core' | 'component' {
  if (bytes.length < 8 || bytes[0] !== 0x00 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) return 'not-wasm';
  // version (u16) + layer (u16): core modules 01 00 00 00, components 0d 00 01 00.
  if (bytes[6] === 0x01 && bytes[7] === 0x00) return 'component';
  if (bytes[4] === 0x01 && bytes[5] === 0x00 && bytes[6] === 0x00 && bytes[7] === 0x00) return 'core';
  return 'not-wasm';
}

/** Checks the shape of an upload's bytes; null when they may go on to transpiling. */
export function checkComponentBytes(bytes: Uint8Array): { code: 'not-wasm' | 'not-a-component' | 'too-large'; message: string } | null {
  if (bytes.byteLength > MAX_COMPONENT_BYTES) return { code: 'too-large', message: `the file is ${bytes.byteLength} bytes; at most ${MAX_COMPONENT_BYTES} (8 MiB) are accepted` };
  const kind = wasmKind(bytes);
  if (kind === 'not-wasm') return { code: 'not-wasm', message: 'the file is not WebAssembly (it does not start with \\0asm and a known version)' };
  if (kind === 'core') return { code: 'not-a-component', message: 'the file is a WebAssembly core module, not a component: build it with `jco new` (see tools/README.md)' };
  return null;
}

/**
 * Validates `describe` metadata (parsed JSON). Every problem is reported with its field, so an
 * uploader can fix them all at once.
 */
/** What a tool's metadata may be: generous for real schemas, far below any stack limit. */
const METADATA_BOUNDS: JsonBounds = { maxDepth: 24, maxNodes: 5_000, maxChars: 256 * 1024 };

export function validateToolMetadata(meta: unknown): { ok: true; metadata: ValidToolMetadata } | { ok: false; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const err = (field: string, reason: string) => errors.push({ field, reason });
  if (!isObject(meta)) return { ok: false, errors: [{ field: '', reason: 'metadata must be a JSON object' }] };
  // A tool's own description is untrusted input too: bounded before anything (the schema
  // compiler, tools/list, the UI) walks it recursively.
  const measured = measureJson(meta, METADATA_BOUNDS);
  if (!measured.ok) return { ok: false, errors: [{ field: measured.exceeded.at.replace(/^\//, '').replace(/\//g, '.'), reason: `metadata ${describeBound(measured.exceeded)}` }] };
  for (const key of Object.keys(meta)) if (!KEYS.has(key)) err(key, 'unknown field');
  if (typeof meta.name !== 'string' || !TOOL_NAME_PATTERN.test(meta.name)) err('name', 'must match ^[a-z][a-z0-9_]{0,63}$');
  if (typeof meta.description !== 'string' || meta.description.trim() === '') err('description', 'must be a non-empty string');
  else if (meta.description.length > MAX_TEXT) err('description', `must be at most ${MAX_TEXT} characters`);
  if (typeof meta.version !== 'string' || !SEMVER.test(meta.version)) err('version', 'must be a semantic version (1.2.3)');
  if (meta.author !== undefined && typeof meta.author !== 'string') err('author', 'must be a string');
  for (const key of ['tags', 'categories'] as const) if (meta[key] !== undefined && !isStringArray(meta[key])) err(key, 'must be an array of strings');
  if (!isObject(meta.inputSchema)) err('inputSchema', 'must be a JSON Schema object');
  else if (meta.inputSchema.type !== 'object') err('inputSchema.type', 'must be "object"');
  if (meta.permissions !== undefined) {
    if (!isStringArray(meta.permissions)) err('permissions', 'must be an array of strings');
    else
      for (const p of meta.permissions) if (!(TOOL_PERMISSIONS as readonly string[]).includes(p)) err('permissions', `unknown permission "${p}"; allowed: ${TOOL_PERMISSIONS.join(', ')}`);
  }
  if (meta.limits !== undefined) {
    if (!isObject(meta.limits)) err('limits', 'must be an object');
    else
      for (const [key, value] of Object.entries(meta.limits)) {
        if (key !== 'memoryMb' && key !== 'cpuMs') err(`limits.${key}`, 'unknown field');
        else if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) err(`limits.${key}`, 'must be a positive number');
      }
  }
  if (meta.context !== undefined && typeof meta.context !== 'boolean') err('context', 'must be true or false');
  const categories = isStringArray(meta.categories) ? meta.categories : [];
  if (meta.resource !== undefined || categories.includes('resource')) {
    const r = meta.resource;
    if (!isObject(r) || typeof r.uri !== 'string' || !/^[a-z][a-z0-9+.-]*:\/\/\S+$/.test(r.uri) || typeof r.mimeType !== 'string') {
      err('resource', 'must be {"uri": "<scheme>://...", "mimeType": string} (required for category "resource")');
    }
  }
  if (errors.length) return { ok: false, errors };
  const metadata: ValidToolMetadata = {
    name: meta.name as string,
    description: meta.description as string,
    version: meta.version as string,
    author: (meta.author as string | undefined) ?? 'unknown',
    tags: (meta.tags as string[] | undefined) ?? [],
    categories,
    inputSchema: meta.inputSchema as Record<string, unknown>,
    permissions: (meta.permissions as string[] | undefined) ?? [],
    limits: (meta.limits as ValidToolMetadata['limits'] | undefined) ?? {},
  };
  if (meta.resource !== undefined) metadata.resource = meta.resource as { uri: string; mimeType: string };
  if (meta.context === true) metadata.context = true;
  return { ok: true, metadata };
}

/** Parses `describe`'s text and validates it. */
export function parseToolMetadata(text: string): { ok: true; metadata: ValidToolMetadata } | { ok: false; code: 'describe-failed' | 'invalid-metadata'; message: string; errors?: FieldError[] } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { ok: false, code: 'describe-failed', message: `describe() did not return JSON: ${(error as Error).message}` };
  }
  const checked = validateToolMetadata(parsed);
  if (checked.ok) return checked;
  return { ok: false, code: 'invalid-metadata', message: `invalid describe() metadata: ${checked.errors.map((e) => (e.field ? `${e.field}: ${e.reason}` : e.reason)).join('; ')}`, errors: checked.errors };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((s) => typeof s === 'string');
}
