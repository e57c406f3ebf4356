import type { DbHandle } from '../store/db';
import type { ToolRecord } from '../store/schema';

/** The bundled tools' manifest written by `npm run build:tools` (public/tools/manifest.json). */
export interface ToolManifest {
  version: 1;
  tools: ManifestTool[];
}
export interface ManifestTool {
  name: string;
  dir: string;
  glue: string;
  coreModules: string[];
  component: string;
  sha256: string;
  size: number;
  fixture: boolean;
  metadata: ToolMetadata;
}
/** What a tool's `describe` export returns. */
export interface ToolMetadata {
  name: string;
  description: string;
  version: string;
  author?: string;
  tags?: string[];
  categories?: string[];
  inputSchema: Record<string, unknown>;
  permissions?: string[];
  limits?: { memoryMb?: number; cpuMs?: number };
  resource?: { uri: string; mimeType: string };
}

/** Builds the registry record of a bundled tool; code URLs are relative to the app root. */
export function recordFromManifest(tool: ManifestTool, now: number): ToolRecord {
  const m = tool.metadata;
  const record: ToolRecord = {
    name: tool.name,
    description: m.description,
    version: m.version,
    author: m.author ?? 'unknown',
    tags: m.tags ?? [],
    categories: m.categories ?? [],
    inputSchema: m.inputSchema,
    permissions: m.permissions ?? [],
    limits: m.limits ?? {},
    code: {
      hash: tool.sha256,
      size: tool.size,
      glueUrl: tool.dir + tool.glue,
      coreModules: Object.fromEntries(tool.coreModules.map((file) => [file, tool.dir + file])),
    },
    source: 'bundled',
    fixture: tool.fixture,
    enabled: true,
    registeredAt: now,
  };
  if (m.resource) record.resource = m.resource;
  return record;
}

/** The tool registry, read from IndexedDB on every question: the service worker keeps no copy. */
export class ToolRegistry {
  constructor(private readonly handle: DbHandle) {}

  async get(name: string): Promise<ToolRecord | undefined> {
    return (await this.handle.get()).get('tools', name);
  }

  async list(): Promise<ToolRecord[]> {
    return (await this.handle.get()).getAll('tools');
  }

  /** Tools an agent can call: enabled and not resource producers. */
  async callable(): Promise<ToolRecord[]> {
    return (await this.list()).filter((t) => t.enabled && !t.resource);
  }

  async resources(): Promise<ToolRecord[]> {
    return (await this.list()).filter((t) => t.enabled && t.resource);
  }

  /**
   * Registers the bundled tools of a manifest (fixtures only when asked). A tool whose hash is
   * unchanged is left as it is (enabled or not); a changed one is replaced.
   */
  async seed(manifest: ToolManifest, options: { fixtures: boolean; now: number }): Promise<string[]> {
    const db = await this.handle.get();
    const tx = db.transaction('tools', 'readwrite');
    const added: string[] = [];
    const writes: Promise<unknown>[] = [];
    for (const tool of manifest.tools) {
      if (tool.fixture && !options.fixtures) continue;
      const existing = await tx.store.get(tool.name);
      if (existing && existing.code.hash === tool.sha256) continue;
      writes.push(tx.store.put(recordFromManifest(tool, options.now)));
      added.push(tool.name);
    }
    await Promise.all([...writes, tx.done]);
    return added;
  }
}
