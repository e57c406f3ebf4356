// The connector page, embedded by agent pages on other origins (see src/transport/page/connector.ts).
import '../shared/zod-jitless';
import { registerSandbox } from '../client/register';
import { connectorFailure, crossSiteProblem, startConnector } from '../transport/page/connector';

// Fail fast and say why: an embedder on another site gets a partitioned, empty sandbox (no
// agents, no tools), and a browser without service workers gets none at all.
const crossSite = await crossSiteProblem(document);
if (crossSite) connectorFailure('cross-site', crossSite);
else {
  try {
    startConnector(await registerSandbox());
  } catch (error) {
    connectorFailure('no-service-worker', `the sandbox could not start here: ${(error as Error).message}`);
  }
}
