/**
 * ONNX export (src/interop/onnx, cli/onnx.ts) checked by ONNX Runtime (onnxruntime-node, a devDependency):
 * every paper, at a small size, traced on one batch and run by ONNX Runtime on another (so that an input
 * wrongly frozen into a constant shows), outputs within 1e-4 of ours; the encoding read back by protobufjs;
 * an op with no mapping named in the error; `pfs export --onnx` and `pfs eval --onnx` end to end.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import '../src/backend/auto.js';
import { noGrad } from '../src/autograd/mode.js';
import { LayerNorm, Linear } from '../src/nn/layers.js';
import { Module } from '../src/nn/module.js';
import { scatterAdd } from '../src/ops/indexing.js';
import { Tensor } from '../src/tensor/tensor.js';
import { saveCheckpoint } from '../src/train/checkpoint.js';
import { exportOnnx, OPSET } from '../src/interop/onnx/export.js';
import { ATTR, decodeModel } from '../src/interop/onnx/proto.js';
import { findPortable, PORTABLE } from '../papers/interop.js';
import { loadOnnxRuntime } from '../cli/onnx.js';
import { needsData } from './data-available.js';
import { randomize, relDiff, smallConfig } from './interop-helpers.js';

const PFS = resolve(dirname(fileURLToPath(import.meta.url)), '../cli/pfs.js');
function pfs(...args: string[]) {
  const r = spawnSync(process.execPath, [PFS, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

for (const p of PORTABLE) {
  test(`${p.paper}: ONNX Runtime reproduces our outputs (1e-4)`, async () => {
    const ort = await loadOnnxRuntime();
    const config = await smallConfig(p.paper);
    const model = p.build(config);
    randomize(model, 5);
    model.eval();
    const ex = exportOnnx(model, p.inputs(model, config, 2, 0), (ts) => p.outputs(model, ts), { paper: p.paper }, p.paper);
    const session = await ort.InferenceSession.create(ex.bytes);
    // another batch than the traced one
    const inputs = p.inputs(model, config, 2, 1);
    const ours = noGrad(() => p.outputs(model, inputs.map(([, t]) => t)));
    const feeds = Object.fromEntries(inputs.filter(([k]) => session.inputNames.includes(k)).map(([k, t]) => [k, new ort.Tensor(t.dtype as 'float32' | 'int32', t.contiguous().toTypedArray() as Float32Array | Int32Array, t.shape)]));
    assert.deepEqual(Object.keys(feeds).sort(), [...ex.inputs].sort());
    const res = await session.run(feeds);
    for (const [k, t] of ours) {
      assert.deepEqual([...res[k].dims], t.shape, `${p.paper} ${k}: shape`);
      const r = relDiff(res[k].data as Float32Array, t);
      assert.ok(r <= 1e-4, `${p.paper} ${k}: ONNX Runtime differs from ours by ${r} (relative)`);
    }
  });
}

test('the encoding reads back: opset 17, IR 8, the initializers under their state-dict names, the metadata', () => {
  const p = findPortable('lenet');
  const model = p.build({});
  const ex = exportOnnx(model, p.inputs(model, {}, 3, 0), (ts) => p.outputs(model, ts), { paper: 'lenet' }, 'lenet');
  const m = decodeModel(ex.bytes) as {
    irVersion: number; opsetImport: { version: number }[]; metadataProps: { key: string; value: string }[];
    graph: { initializer: { name: string; dims: number[] }[]; input: { name: string }[]; node: { opType: string }[] };
  };
  assert.equal(m.irVersion, 8);
  assert.equal(m.opsetImport[0].version, OPSET);
  assert.deepEqual(m.metadataProps, [{ key: 'paper', value: 'lenet' }]);
  assert.deepEqual(m.graph.input.map((i) => i.name), ['x']);
  const init = Object.fromEntries(m.graph.initializer.map((t) => [t.name, t.dims]));
  assert.deepEqual(init['0.weight'], [6, 1, 5, 5]);
  assert.deepEqual(init['11.bias'], [10]);
  assert.deepEqual(m.graph.node.filter((n) => n.opType === 'Conv').length, 2);
});

test('layer norm exports as LayerNormalization: with and without weight and bias, an epsilon of 0 a FLOAT', async () => {
  const ort = await loadOnnxRuntime();
  for (const [eps, affine] of [[0, false], [1e-5, true], [0.5, true]] as const) {
    const ln = new LayerNorm([3, 4], { eps, elementwiseAffine: affine });
    if (affine) randomize(ln, 3);
    const ex = exportOnnx(ln, [['x', Tensor.randn([2, 3, 4])]], ([x]) => [['y', ln.forward(x)]], {}, 'layer norm');
    const m = decodeModel(ex.bytes) as { graph: { node: { opType: string; attribute: { name: string; type: number; f?: number }[] }[] } };
    const node = m.graph.node.find((n) => n.opType === 'LayerNormalization')!;
    const epsilon = node.attribute.find((a) => a.name === 'epsilon')!;
    assert.equal(epsilon.type, ATTR.FLOAT, `eps ${eps}: the epsilon attribute's type`);
    const x = Tensor.randn([2, 3, 4]).mul(2);
    const res = await (await ort.InferenceSession.create(ex.bytes)).run({ x: new ort.Tensor('float32', x.toTypedArray() as Float32Array, x.shape) });
    const r = relDiff(res.y.data as Float32Array, noGrad(() => ln.forward(x)));
    assert.ok(r <= 1e-4, `eps ${eps}${affine ? ' affine' : ''}: ONNX Runtime differs from ours by ${r} (relative)`);
  }
});

test('an op with no ONNX mapping is an error that names it', () => {
  class Scatter extends Module {
    readonly lin = this.registerModule('lin', new Linear(3, 4));
    forward(x: Tensor): Tensor {
      return scatterAdd(Tensor.zeros([2, 4]), 1, new Tensor(Int32Array.of(0, 1, 2, 3, 3, 2, 1, 0), [2, 4], 'int32'), this.lin.forward(x));
    }
  }
  const m = new Scatter();
  assert.throws(() => exportOnnx(m, [['x', Tensor.ones([2, 3])]], ([x]) => [['y', m.forward(x)]], {}, 'scatter'), /the op scatterAdd \(traced in scatter's forward pass\) has no ONNX mapping/);
});

const skip = needsData('fashion-mnist');

test('pfs export --onnx, then pfs eval --onnx gives the accuracy pfs eval --checkpoint gives', { skip }, async () => {
  await loadOnnxRuntime();
  const dir = mkdtempSync(join(tmpdir(), 'pfs-onnx-'));
  const p = findPortable('lenet-bn');
  const model = p.build({});
  randomize(model, 2);
  const ckpt = join(dir, 'ckpt.safetensors');
  await saveCheckpoint(ckpt, { model }, { run: { paper: 'lenet-bn', preset: 'd2l', seed: 0 }, epoch: 1, history: [], config: {} });
  const ex = pfs('export', 'lenet-bn', '--checkpoint', ckpt, '--onnx', join(dir, 'm.onnx'), '--batch', '64');
  assert.equal(ex.code, 0, ex.err);
  assert.match(ex.out, /opset 17, inputs x float32 \(64, 1, 28, 28\)/);
  // 300 images: 4 batches of 64 and one of 44 padded to 64
  const onnx = pfs('eval', 'lenet-bn', '--onnx', join(dir, 'm.onnx'), '--test_limit', '300', '--json');
  assert.equal(onnx.code, 0, onnx.err);
  const ours = pfs('eval', 'lenet-bn', '--checkpoint', ckpt, '--test_limit', '300', '--json');
  assert.equal(ours.code, 0, ours.err);
  assert.equal(JSON.parse(onnx.out).test_acc, JSON.parse(ours.out).test_acc);
  assert.match(pfs('eval', 'lenet', '--onnx', join(dir, 'm.onnx')).err, /is an export of lenet-bn, not lenet/);
  assert.match(pfs('eval', 'lstm', '--onnx', join(dir, 'm.onnx')).err, /eval --onnx runs the Fashion-MNIST classifiers/);
  assert.match(pfs('export', 'lenet-bn', '--checkpoint', ckpt, '--onnx', join(dir, 'x.onnx'), '--batch', '0').err, /--batch must be a whole number from 1 to 4096, got 0/);
});
