// Page code of test/browser/protocol-revisions.test.ts: both SDK generations' clients over
// Streamable HTTP, bundled by the test with Vite (the 1.x SDK as the app bundles it: ajv
// aliased away, the CfWorker validator passed).
export { Client as V2Client, StreamableHTTPClientTransport as V2Http } from '@modelcontextprotocol/client';
export { CfWorkerJsonSchemaValidator as V2CfWorkerJsonSchemaValidator } from '@modelcontextprotocol/client/validators/cf-worker';
export { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
export { StreamableHTTPClientTransport as V1Http } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
export { CfWorkerJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/cfworker';
import { CreateMessageRequestSchema, ElicitRequestSchema, ListRootsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
/** The 1.x client registers handlers by request schema. */
export const V1Schemas = { 'elicitation/create': ElicitRequestSchema, 'sampling/createMessage': CreateMessageRequestSchema, 'roots/list': ListRootsRequestSchema };
