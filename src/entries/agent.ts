// A demo agent page: it connects with the client library like any agent would. It does not
// host tool workers: calls run in an open app window (or fail with `no-sandbox-host`).
// The service worker is registered at once, even before the person picks an agent to connect as.
import '../shared/zod-jitless';
import { registerSandbox } from '../client/register';
import '../ui/demo-agent';

await registerSandbox();
