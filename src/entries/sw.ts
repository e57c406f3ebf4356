/// <reference lib="webworker" />
import '../shared/zod-jitless';
import { startServiceWorker } from '../server/service-worker';

declare const self: ServiceWorkerGlobalScope;
startServiceWorker(self);
