/**
 * Where a BERT train step's time goes (papers/bert at its d2l preset, the bench's fixed batch): the CPU
 * seconds (user + system, so that a loaded machine's waiting is left out) of the encoder, the MLM head,
 * the losses, backward and the Adam step, each over `runs` steps.
 *
 *   node dist/research/bert/steptime.js [runs=2] [batch=512]
 */
import { tuneMalloc } from '../../src/node.js';
import { bertBatch, SIZES } from '../../bench/workloads.js';
import { bertPaper, bertLosses, buildBert } from '../../papers/bert/train.js';
import { Adam } from '../../src/optim/adam.js';
import { Generator } from '../../src/tensor/rng.js';
import type { Tensor } from '../../src/tensor/tensor.js';

tuneMalloc();
const runs = Number(process.argv[2] ?? 2);
const B = Number(process.argv[3] ?? SIZES.bert.batch);
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
  if (i === 1) for (const k of Object.keys(cpu)) cpu[k] = wall[k] = 0; // the first step warms up
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
