/**
 * Where a BERT train step's time goes (papers/bert at its d2l preset, the bench's fixed batch): the CPU
 * seconds (user + system, so that a loaded machine's waiting is left out) of the encoder, the MLM head,
 * the losses, backward and the Adam step, each over `runs` steps.
 *
 * With --kernels, also the CPU seconds of each backend kernel (every method of the kernel table K
 * wrapped in a timer), summed over the sections: what is left of a section's time beyond its kernels is
 * JavaScript (allocating and zero-filling outputs, the autograd tape, garbage collection).
 *
 *   node dist/research/bert/steptime.js [runs=2] [batch=512] [--kernels]
 */
import { tuneMalloc } from '../../src/node.js';
import { K } from '../../src/backend/registry.js';
import { bertBatch, SIZES } from '../../bench/workloads.js';
import { bertPaper, bertLosses, buildBert } from '../../papers/bert/train.js';
import { Adam } from '../../src/optim/adam.js';
import { Generator } from '../../src/tensor/rng.js';
import type { Tensor } from '../../src/tensor/tensor.js';

tuneMalloc();
const argv = process.argv.slice(2).filter((a) => a !== '--kernels');
const runs = Number(argv[0] ?? 2);
const B = Number(argv[1] ?? SIZES.bert.batch);
const kernelCpu: Record<string, number> = {};
if (process.argv.includes('--kernels')) {
  const table = K as unknown as Record<string, (...a: unknown[]) => unknown>;
  for (const [name, f] of Object.entries(table)) {
    if (typeof f !== 'function') continue;
    table[name] = (...a: unknown[]) => {
      const u0 = process.cpuUsage();
      try {
        return f(...a);
      } finally {
        const u = process.cpuUsage(u0);
        kernelCpu[name] = (kernelCpu[name] ?? 0) + (u.user + u.system) / 1e6;
      }
    };
  }
}
const c = bertPaper.presets.d2l.config;
const { vocab, maxLen, preds } = SIZES.bert;
const model = buildBert(c, vocab, new Generator(7));
model.train();
const opt = new Adam(model.parameters(), { lr: c.lr });
const b = bertBatch(B, maxLen, preds, vocab);
const cpu: Record<string, number> = {};
const wall: Record<string, number> = {};
function time<T>(name: string, f: () => T): T {
  const u0 = process.cpuUsage();
  const t0 = performance.now();
  const r = f();
  const u = process.cpuUsage(u0);
  cpu[name] = (cpu[name] ?? 0) + (u.user + u.system) / 1e6;
  wall[name] = (wall[name] ?? 0) + (performance.now() - t0) / 1000;
  return r;
}
for (let i = 0; i <= runs; i++) {
  if (i === 1) for (const t of [cpu, wall, kernelCpu]) for (const k of Object.keys(t)) t[k] = 0; // the first step warms up
  const X = time('encoder', () => model.encoder.forward(b.tokens, b.segments, b.validLens));
  const mlm = time('mlm head', () => model.mlm.forward(X, b.positions));
  const nsp = time('nsp head', () => model.nsp.forward(model.hidden.forward(X.narrow(1, 0, 1).squeeze(1)).tanh()));
  const l = time('losses', () => bertLosses(mlm, nsp, b));
  const total: Tensor = l.mlm.add(l.nsp);
  time('zero grad', () => opt.zeroGrad());
  time('backward', () => total.backward());
  time('adam', () => opt.step());
  time('read loss', () => total.item());
}
for (const k of Object.keys(cpu)) console.log(`${k.padEnd(10)} ${(cpu[k] / runs).toFixed(3)} s CPU  ${(wall[k] / runs).toFixed(3)} s wall`);
const kernels = Object.entries(kernelCpu).sort((a, b) => b[1] - a[1]);
if (kernels.length) {
  const total = Object.values(cpu).reduce((a, b) => a + b, 0) / runs;
  const inKernels = kernels.reduce((a, [, v]) => a + v, 0) / runs;
  console.log(`kernels: ${inKernels.toFixed(3)} s CPU of ${total.toFixed(3)} s a step; the rest is JavaScript`);
  for (const [k, v] of kernels.filter(([, v]) => v / runs >= 0.01)) console.log(`  ${k.padEnd(14)} ${(v / runs).toFixed(3)} s CPU`);
}
