/**
 * The LeNet step of bench/workloads.ts (bench/lenet-step.ts, batch 256) on the single-threaded wasm build,
 * loaded with instantiateWasmBackend as a page would without the app: what the issue measured
 * (162 ms in Chromium against 59.5 ms in Node). Loaded as a native ES module from dist/ by
 * why-slower.ts's pages, on the main thread or in a worker (step-worker.ts). Importing it does nothing.
 */
import { instantiateWasmBackend, registerBackend, useBackend } from '../../src/index.js';
import { lenetTrainStep } from '../../bench/lenet-step.js';

export async function timeStep(wasmUrl: string, runs: number, warmup: number): Promise<{ times: number[]; first: number[]; memoryBytes: number[] }> {
  const bytes = await (await fetch(wasmUrl)).arrayBuffer();
  const { backend, runtime } = await instantiateWasmBackend(bytes);
  registerBackend(backend);
  useBackend('wasm');
  const step = lenetTrainStep(256);
  const times: number[] = [];
  const first: number[] = []; // every step before the timed ones: compilation tier-up, memory growth
  const memoryBytes: number[] = [];
  for (let i = 0; i < warmup + runs; i++) {
    const t0 = performance.now();
    step();
    if (i >= warmup) times.push(performance.now() - t0);
    else first.push(performance.now() - t0);
    memoryBytes.push(runtime.memory.buffer.byteLength);
  }
  return { times, first, memoryBytes };
}
