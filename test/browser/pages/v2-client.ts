// Page code of test/browser/client-v2-postmessage.test.ts: the v2 SDK's client package as a
// page would import it (nothing of ours), bundled by the test with Vite.
export { Client as V2Client, ProtocolError } from '@modelcontextprotocol/client';
