// The connector page, embedded by agent pages on other origins (see src/transport/page/connector.ts).
import { registerSandbox } from '../client/register';
import { startConnector } from '../transport/page/connector';

startConnector(await registerSandbox());
