import { expose } from 'comlink';
import { toolRunner } from '../sandbox/worker/tool-runner';

// The only thing a tool worker offers: run one job. It is served with a CSP that forbids all
// network and wasm compilation (see src/shared/csp.json).
expose(toolRunner);
