// The app window's sandbox host: starts the tool workers the service worker runs calls on, and
// hands the UI the host's APIs. Its own chunk, loaded by the app entry once the first view shows.
import type { FolderWatchApi, ToolImporter } from '../api/host';
import { registerSandbox } from '../client/register';
import type { ToolRecord } from '../store/schema';
import { SandboxHost } from '../sandbox/host/sandbox-host';
import { PythonCodeRuntime, PythonRuntime } from '../sandbox/host/python';

export async function startHost(app: HTMLElement | null): Promise<void> {
  const registration = await registerSandbox();
  const host = new SandboxHost();
  // Python for execute_code: Pyodide in an opaque-origin, CSP-locked frame (src/sandbox/host/python/).
  host.registerCodeRuntime('python', new PythonCodeRuntime(new PythonRuntime({ baseUrl: new URL(import.meta.env.BASE_URL, location.origin).href })));
  await host.announce();
  // Exposed for the person at the console and for tests that inspect the pool.
  Object.assign(window, { sandboxHost: host, sandboxRegistration: registration });

  // The UI gets the host's APIs as typed by src/api/host.ts, never the sandbox code itself.
  const importer: ToolImporter = {
    importTool: (bytes, fileName, options) => host.importTool(bytes, fileName, options) as Promise<ToolRecord>,
  };
  // Watched folders, where this host offers them (the UI hides the section otherwise), rescanned
  // on an interval while the app is open.
  const folders = (host as { folders?: FolderWatchApi }).folders ?? null;
  (host as { watchFolders?: () => void }).watchFolders?.();
  if (app) Object.assign(app, { importer, folders });
}
