// The app: shows the UI, then hosts the sandbox's tool workers for the service worker.
import '../shared/zod-jitless';
import { openView, parseHash } from '../ui/views';

// The entry imports next to nothing, so it runs as soon as it arrives and asks for the code of
// the view the URL opens on, its first read, and the shell's code at once (each chunk's
// dependencies are preloaded in parallel): a cold open waits for one round of module loads and
// the read beside it, not for the shell's modules, then the view's, then the read. The shell
// shows the view, or why it could not be loaded, when it gets to it.
openView(parseHash(location.hash).view);
await import('../ui/sandbox-app');

const app = document.querySelector('sandbox-app');
// Hosting waits until the first view has drawn its content (sandbox-app.ts `shown`): the host's
// code (the policy engine, zod, the worker pool and its workers' start) then costs the cold open
// nothing. No call is lost meanwhile: the service worker hands calls only to a window that has
// announced itself (src/server/sandbox-dispatch.ts), which this one does in startHost.
await app?.shown;
const { startHost } = await import('./app-host');
await startHost(app);
