/// <reference lib="webworker" />
import { startServiceWorker } from '../server/service-worker';

declare const self: ServiceWorkerGlobalScope;
startServiceWorker(self);
