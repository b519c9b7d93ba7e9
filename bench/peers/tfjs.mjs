/**
 * TensorFlow.js 4 peer of bench/workloads.ts, on its pure-JavaScript `cpu` backend or its `wasm`
 * backend (SIMD; threads where the platform gives them):
 *
 *   node bench/peers/tfjs.mjs --backend cpu|wasm [NAME...] [--runs N] [--warmup N] [--threads N]
 *
 * The workloads are tfjs-workloads.mjs's (the same workloads and sizes as bench/workloads.ts, in
 * TensorFlow.js's NHWC layout; browser-safe, so bench/browser.ts runs them in Chromium too). Prints
 * JSON lines (see common.mjs).
 */
import * as tf from '@tensorflow/tfjs';
import { fail, parseArgs, runPeer } from './common.mjs';
import { tfjsWorkloads } from './tfjs-workloads.mjs';

const WORKLOADS = tfjsWorkloads(tf);

try {
  const opts = parseArgs(process.argv.slice(2), WORKLOADS);
  if (opts.backend !== 'cpu' && opts.backend !== 'wasm') throw new Error(`--backend: expected cpu or wasm, got ${JSON.stringify(opts.backend)}`);
  let threads = 1;
  if (opts.backend === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    if (opts.threads) wasm.setThreadsCount(opts.threads);
    if (!(await tf.setBackend('wasm'))) throw new Error('tfjs: the wasm backend failed to initialise');
    threads = wasm.getThreadsCount();
  } else {
    if (opts.threads && opts.threads !== 1) throw new Error('tfjs cpu backend runs on one thread');
    await tf.setBackend('cpu');
  }
  await tf.ready();
  await runPeer(`tfjs-${opts.backend}`, threads, WORKLOADS, opts);
} catch (e) {
  fail(e);
}
