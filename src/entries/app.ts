// The app shell: hosts the sandbox's tool workers for the service worker and shows the UI.
import { registerSandbox } from '../client/register';
import { SandboxHost } from '../sandbox/host/sandbox-host';
import '../ui/sandbox-app';

const registration = await registerSandbox();
const host = new SandboxHost();
await host.announce();
// Exposed for the person at the console and for tests that inspect the pool.
Object.assign(window, { sandboxHost: host, sandboxRegistration: registration });
