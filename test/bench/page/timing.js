// One sampling loop for every in-page measure.
export const WARM_UP = 50;

/** Sequential samples (ms) of `fn`, after `warmUp` calls that are not kept. */
export async function sequential(n, fn, warmUp = WARM_UP) {
  for (let i = 0; i < Math.min(warmUp, n); i++) await fn(i);
  const samples = new Array(n);
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn(i);
    samples[i] = performance.now() - t0;
  }
  return samples;
}
