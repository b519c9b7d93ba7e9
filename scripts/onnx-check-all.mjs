#!/usr/bin/env node
/**
 * The ONNX check for every paper (after `npm run build`; needs onnxruntime-node):
 *
 *   node scripts/onnx-check-all.mjs [PAPER ...]
 *
 * Each paper's net at a small config (test/fixtures/interop's, or the cpu preset's input size for the vision
 * nets; weights as the net initialises them), exported by tracing a batch of 2 (seed 0), run by ONNX Runtime on
 * another batch of 2 (seed 1) and compared with ours. Prints the relative difference, the node count and the
 * ONNX operators of each; exit status 1 when one exceeds 1e-4.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => import(join(ROOT, 'dist', p));
await dist('src/backend/auto.js');
const { PORTABLE } = await dist('papers/interop.js');
const { exportOnnx } = await dist('src/interop/onnx/export.js');
const { noGrad } = await dist('src/autograd/mode.js');
const { loadOnnxRuntime } = await dist('cli/onnx.js');
const { smallConfig, relDiff } = await dist('test/interop-helpers.js');
const ort = await loadOnnxRuntime();
const want = process.argv.slice(2);
let failed = 0;
for (const p of PORTABLE) {
  if (want.length && !want.includes(p.paper)) continue;
  const config = await smallConfig(p.paper);
  const model = p.build(config).eval();
  const ex = exportOnnx(model, p.inputs(model, config, 2, 0), (ts) => p.outputs(model, ts), {}, p.paper);
  const session = await ort.InferenceSession.create(ex.bytes);
  const inputs = p.inputs(model, config, 2, 1);
  const ours = noGrad(() => p.outputs(model, inputs.map(([, t]) => t)));
  const feeds = Object.fromEntries(inputs.filter(([k]) => session.inputNames.includes(k)).map(([k, t]) => [k, new ort.Tensor(t.dtype, t.contiguous().toTypedArray(), t.shape)]));
  const res = await session.run(feeds);
  const diffs = ours.map(([k, t]) => [k, relDiff(res[k].data, t)]);
  const bad = diffs.some(([, r]) => !(r <= 1e-4));
  if (bad) failed++;
  const ops = Object.entries(ex.operators).map(([k, v]) => `${k} ${v}`).join(', ');
  console.log(`${p.paper}: ${diffs.map(([k, r]) => `${k} relative ${r.toExponential(2)}`).join(', ')}: ${bad ? 'FAIL' : 'PASS'}; ${ex.nodes} nodes (${ops})`);
}
console.log(failed ? `${failed} FAILED` : 'all PASS');
process.exit(failed ? 1 : 0);
