/**
 * jax-js peer of bench/workloads.ts (`@jax-js/jax`, a from-scratch JavaScript array library that
 * compiles its kernels to WebAssembly), on device `wasm`:
 *
 *   node bench/peers/jaxjs.mjs [sgemm-N...] [--runs N] [--warmup N]
 *
 * Only the SGEMM workloads: its matrix product is the fastest of the JavaScript peers. Arrays follow
 * move semantics (an op consumes its inputs; `.ref` keeps one alive), and results are computed
 * asynchronously: each run waits for its product. Prints JSON lines (see common.mjs).
 */
import { fail, parseArgs, randn, runPeer } from './common.mjs';

// jax-js's start-up looks at navigator (a browser object): Node 20 has none, so give it an empty one.
globalThis.navigator ??= {};
const jax = await import('@jax-js/jax');
const np = jax.numpy;

const sgemm = (n) => async () => {
  const a = np.array(randn(n * n, n)).reshape([n, n]);
  const b = np.array(randn(n * n, n + 1)).reshape([n, n]);
  await jax.blockUntilReady([a, b]);
  return async () => {
    const c = np.matmul(a.ref, b.ref);
    await c.blockUntilReady();
    c.dispose();
  };
};

const WORKLOADS = { 'sgemm-256': sgemm(256), 'sgemm-512': sgemm(512), 'sgemm-1024': sgemm(1024), 'sgemm-2048': sgemm(2048) };

try {
  const opts = parseArgs(process.argv.slice(2), WORKLOADS);
  if (opts.threads && opts.threads !== 1) throw new Error('jax-js wasm runs on one thread');
  const devices = await jax.init('wasm');
  if (!devices.includes('wasm')) throw new Error(`jax-js: device wasm unavailable (got ${devices.join(', ') || 'none'})`);
  jax.defaultDevice('wasm');
  await runPeer('jax-js-wasm', 1, WORKLOADS, opts);
} catch (e) {
  fail(e);
}
