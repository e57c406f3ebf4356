// Imported first by every page entry: zod would otherwise probe `new Function('')` when the
// first object schema is built (to compile fast parsers), which the app's CSP refuses and
// reports as a violation. Jitless parsing needs no eval and is what runs under our CSP anyway.
import { config } from 'zod/v4/core';

config({ jitless: true });
