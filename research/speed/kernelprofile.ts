/**
 * Where a benchmark workload's time goes: every method of the kernel table K is wrapped in a wall-clock
 * timer, the workload's step runs `runs` times after `warmup` untimed runs, and the milliseconds a step
 * spends in each kernel are printed beside the step's total; the rest is JavaScript (op dispatch,
 * autograd, allocation, garbage collection).
 *
 *   npx tsc -p . && node dist/research/speed/kernelprofile.js WORKLOAD [runs=10] [warmup=3] [threads=1]
 *
 * Kernels call each other rarely (a composite calls its parts through K only in JavaScript), so the
 * sums do not double count; a step's share is only meaningful on an idle machine.
 */
import '../../src/backend/auto.js'; // registers the backends and picks the fastest (PFS_BACKEND to choose)
import { K, backendInfo } from '../../src/backend/registry.js';
import { setNumThreads, tuneMalloc } from '../../src/backend/native/index.js';
import { findWorkloads } from '../../bench/workloads.js';

tuneMalloc();
const [name, runsArg, warmArg, threadsArg] = process.argv.slice(2);
if (!name) throw new Error('usage: kernelprofile.js WORKLOAD [runs] [warmup] [threads]');
const runs = Number(runsArg ?? 10);
const warmup = Number(warmArg ?? 3);
setNumThreads(Number(threadsArg ?? 1));
const ms: Record<string, number> = {};
const calls: Record<string, number> = {};
let on = false;
const table = K as unknown as Record<string, (...a: unknown[]) => unknown>;
for (const [k, f] of Object.entries(table)) {
  if (typeof f !== 'function') continue;
  table[k] = (...a: unknown[]) => {
    if (!on) return f(...a);
    const t0 = performance.now();
    try {
      return f(...a);
    } finally {
      ms[k] = (ms[k] ?? 0) + performance.now() - t0;
      calls[k] = (calls[k] ?? 0) + 1;
    }
  };
}
const [w] = findWorkloads([name]);
const step = w.setup();
for (let i = 0; i < warmup; i++) step();
on = true;
const t0 = performance.now();
for (let i = 0; i < runs; i++) step();
const total = (performance.now() - t0) / runs;
const rows = Object.entries(ms).sort((a, b) => b[1] - a[1]);
const inK = rows.reduce((s, [, v]) => s + v, 0) / runs;
console.log(`${name} on ${backendInfo().name}: ${total.toFixed(2)} ms a step, ${inK.toFixed(2)} ms in kernels, ${(total - inK).toFixed(2)} ms elsewhere`);
for (const [k, v] of rows) {
  if (v / runs < 0.05) continue;
  console.log(`  ${k.padEnd(18)} ${(v / runs).toFixed(2).padStart(8)} ms  ${String(Math.round(calls[k] / runs)).padStart(6)} calls  ${((1000 * v) / calls[k]).toFixed(1).padStart(8)} µs/call`);
}
