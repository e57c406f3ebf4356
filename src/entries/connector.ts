// The connector page, embedded by agent pages on other origins (see src/transport/page/connector.ts),
// and, as `connector.html#relay`, by the app's own windows (src/transport/page/connector-relay.ts).
import '../shared/zod-jitless';
import { registerSandbox } from '../client/register';
import { connectorFailure, crossSiteProblem, startConnector } from '../transport/page/connector';
import { connectWithStorageAccess } from '../transport/page/connector-access';
import { RELAY_HASH, startConnectorRelay } from '../transport/page/connector-relay';

const sameOriginParent = (): boolean => {
  try {
    return window.parent !== window && window.parent.location.origin === location.origin;
  } catch {
    return false;
  }
};

if (location.hash === RELAY_HASH) {
  // The app window's relay for connectors embedded by other sites, once they have storage access.
  if (sameOriginParent()) await startConnectorRelay(await registerSandbox());
} else if (await crossSiteProblem(document)) {
  // Embedded by another site: its storage and service worker are partitioned (an empty sandbox).
  // With the person's consent (Storage Access API) it reaches the real one through an open app
  // window; it says so at once, and fails fast with the cause and the fix when it cannot.
  await connectWithStorageAccess(document);
} else {
  try {
    startConnector(await registerSandbox());
  } catch (error) {
    connectorFailure('no-service-worker', `the sandbox could not start here: ${(error as Error).message}`);
  }
}
