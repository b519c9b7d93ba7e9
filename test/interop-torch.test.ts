/**
 * Moving weights to and from each paper's PyTorch twin (papers/interop.ts, src/interop/torch.ts, cli/interop.ts).
 * Oracles:
 *   - PyTorch itself: test/fixtures/interop/<paper>.safetensors is a small twin's state dict as torch initialised
 *     it, and <paper>.probe.safetensors a fixed batch with the twin's outputs (scripts/torch_twin.py fixtures);
 *     imported into our net, the batch must give PyTorch's outputs (1e-4 relative, float32);
 *   - exactness: ours → the twin's layout → ours gives back every tensor bit for bit, for every paper;
 *   - the layouts torch documents: an LSTM layer's weight_ih_l0 is (4H, I), its gates in the order i, f, g, o.
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
import { FIXTURE_PAPERS, FIXTURES, randomize, relDiff, smallConfig } from './interop-helpers.js';
import { loadSafetensors, saveSafetensors } from '../src/io/atomic.js';
import { Tensor } from '../src/tensor/tensor.js';
import { loadCheckpoint, saveCheckpoint } from '../src/train/checkpoint.js';
import { findPortable, PORTABLE } from '../papers/interop.js';
import { fromTorchStateDict, torchStateDict } from '../cli/interop.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const PFS = resolve(HERE, '../cli/pfs.js');

function pfs(...args: string[]) {
  const r = spawnSync(process.execPath, [PFS, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('a torch-made fixture exists for every paper with a small config (all but the five large vision nets)', () => {
  for (const p of PORTABLE) {
    if (['alexnet', 'vgg', 'nin', 'googlenet', 'resnet'].includes(p.paper)) continue;
    assert.ok(FIXTURE_PAPERS.includes(p.paper), `test/fixtures/interop has no ${p.paper}; run /usr/bin/python3 scripts/torch_twin.py fixtures`);
  }
});

for (const paper of FIXTURE_PAPERS) {
  test(`${paper}: PyTorch's weights imported give PyTorch's outputs`, async () => {
    const portable = findPortable(paper);
    const file = await loadSafetensors(join(FIXTURES, `${paper}.safetensors`));
    const probe = await loadSafetensors(join(FIXTURES, `${paper}.probe.safetensors`));
    const model = portable.build(JSON.parse(file.metadata.config));
    model.loadStateDict(fromTorchStateDict(portable, model, file.tensors, paper));
    model.eval();
    const inputs = probe.metadata.inputs.split(',').map((k) => probe.tensors[`input.${k}`]);
    const outputs = noGrad(() => portable.outputs(model, inputs));
    assert.deepEqual(outputs.map(([k]) => k), probe.metadata.outputs.split(','));
    for (const [k, t] of outputs) {
      const want = probe.tensors[`output.${k}`];
      assert.equal(t.numel, want.numel, `${paper} ${k}: ${t.shape} against torch's ${want.shape}`);
      const r = relDiff(t, want);
      assert.ok(r <= 1e-4, `${paper} ${k}: relative difference ${r} from PyTorch's outputs`);
    }
  });
}

for (const p of PORTABLE) {
  test(`${p.paper}: ours → the twin's layout → ours is exact`, async () => {
    const model = p.build(await smallConfig(p.paper));
    randomize(model, 7);
    const before = model.stateDict();
    const theirs = p.layout(model).toTorch(before);
    // a fresh net, loaded from the twin's layout
    const other = p.build(await smallConfig(p.paper));
    other.loadStateDict(fromTorchStateDict(p, other, theirs, p.paper));
    const after = other.stateDict();
    assert.deepEqual(Object.keys(after).sort(), Object.keys(before).sort());
    for (const [k, t] of Object.entries(before)) {
      assert.deepEqual(after[k].shape, t.shape, k);
      assert.deepEqual(Array.from(after[k].toTypedArray()), Array.from(t.toTypedArray()), `${p.paper}: ${k} changed in the round trip`);
    }
  });
}

test("the LSTM's gates stack as torch.nn.LSTM keeps them: weight_ih_l0 = [W_xi | W_xf | W_xc | W_xo]ᵀ, biases summed back", async () => {
  const p = findPortable('bi-lstm');
  const model = p.build(await smallConfig('bi-lstm'));
  randomize(model, 3);
  const sd = model.stateDict();
  const t = p.layout(model).toTorch(sd);
  const H = 8;
  const V = 12;
  assert.deepEqual(t['rnn.weight_ih_l0'].shape, [4 * H, V]);
  assert.deepEqual(t['rnn.weight_hh_l1_reverse'].shape, [4 * H, H]);
  assert.deepEqual(t['rnn.weight_ih_l1'].shape, [4 * H, 2 * H]);
  // row H + 2 of weight_ih_l0 is the forget gate's column 2: W_xf[:, 2]
  assert.deepEqual(Array.from(t['rnn.weight_ih_l0'].narrow(0, H + 2, 1).toTypedArray()), Array.from(sd['rnn.l0.W_xf'].narrow(1, 2, 1).contiguous().toTypedArray()));
  assert.deepEqual(Array.from(t['rnn.bias_ih_l1_reverse'].narrow(0, 3 * H, H).toTypedArray()), Array.from(sd['rnn.l1_reverse.b_o'].toTypedArray()));
  assert.ok(Array.from(t['rnn.bias_hh_l0'].toTypedArray()).every((x) => x === 0));
  // two torch biases become their sum
  const theirs = { ...t, 'rnn.bias_hh_l0': Tensor.ones([4 * H]) };
  const back = fromTorchStateDict(p, model, theirs, 'test');
  const want = Array.from(sd['rnn.l0.b_c'].toTypedArray()).map((x) => Math.fround(x + 1));
  assert.deepEqual(Array.from(back['rnn.l0.b_c'].toTypedArray()), want);
});

test('an imported state dict with missing, extra or misshaped tensors is refused, naming each with what was expected', async () => {
  const p = findPortable('lstm');
  const model = p.build(await smallConfig('lstm'));
  const t = p.layout(model).toTorch(model.stateDict());
  const { 'rnn.bias_hh_l0': _gone, ...missing } = t;
  assert.throws(() => fromTorchStateDict(p, model, missing, 'IN.safetensors'), /IN\.safetensors does not match the twin's state dict:\n {2}missing 1 tensor\(s\): rnn\.bias_hh_l0 \[32\]/);
  assert.throws(() => fromTorchStateDict(p, model, { ...t, 'rnn.weight_ih_l1': Tensor.zeros([32, 8]) }, 'IN'), /unexpected 1 tensor\(s\): rnn\.weight_ih_l1 \[32, 8\]/);
  assert.throws(() => fromTorchStateDict(p, model, { ...t, 'head.weight': Tensor.zeros([12, 9]) }, 'IN'), /head\.weight: expected shape \[12, 8\], got \[12, 9\]/);
  assert.throws(() => fromTorchStateDict(p, model, { ...t, 'head.bias': Tensor.zeros([12], { dtype: 'int32' }) }, 'IN'), /head\.bias: expected a floating tensor, got int32/);
  assert.throws(() => findPortable('optimizers'), /"optimizers" has no PyTorch mapping; .*keeps no model checkpoint/);
});

test('pfs export --torch and pfs import: a checkpoint leaves and comes back unchanged; bad input is refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pfs-interop-'));
  const p = findPortable('lstm');
  const config = await smallConfig('lstm');
  const model = p.build(config);
  randomize(model, 11);
  const ckpt = join(dir, 'ckpt.safetensors');
  await saveCheckpoint(ckpt, { model }, { run: { paper: 'lstm', preset: 'cpu', seed: 0 }, epoch: 1, history: [], config });

  const ex = pfs('export', 'lstm', '--checkpoint', ckpt, '--torch', join(dir, 'lstm.torch.safetensors'), '--probe', join(dir, 'probe.safetensors'));
  assert.equal(ex.code, 0, ex.err);
  assert.match(ex.out, /wrote .*lstm\.torch\.safetensors: 6 tensors/);
  const exported = await loadSafetensors(join(dir, 'lstm.torch.safetensors'));
  assert.deepEqual(Object.keys(exported.tensors).sort(), ['head.bias', 'head.weight', 'rnn.bias_hh_l0', 'rnn.bias_ih_l0', 'rnn.weight_hh_l0', 'rnn.weight_ih_l0']);
  assert.equal(exported.metadata.paper, 'lstm');
  const probe = await loadSafetensors(join(dir, 'probe.safetensors'));
  assert.deepEqual(probe.tensors['output.logits'].shape, [40, 12]);

  const im = pfs('import', 'lstm', '--torch', join(dir, 'lstm.torch.safetensors'), '--out', join(dir, 'back.safetensors'));
  assert.equal(im.code, 0, im.err);
  const back = p.build(config);
  await loadCheckpoint(join(dir, 'back.safetensors'), { model: back });
  for (const [k, t] of Object.entries(model.stateDict())) assert.deepEqual(Array.from(back.stateDict()[k].toTypedArray()), Array.from(t.toTypedArray()), k);

  // another paper's file, a wrong paper, a misshaped tensor
  const wrong = pfs('import', 'gru', '--torch', join(dir, 'lstm.torch.safetensors'), '--out', join(dir, 'x.safetensors'));
  assert.equal(wrong.code, 2);
  assert.match(wrong.err, /holds lstm's weights, not gru's/);
  assert.match(pfs('export', 'nosuch', '--checkpoint', ckpt, '--torch', 'x').err, /unknown paper "nosuch"/);
  assert.match(pfs('export', 'gru', '--checkpoint', ckpt, '--torch', join(dir, 'x')).err, /this checkpoint is from lstm, not gru/);
  const bad = { ...exported.tensors, 'head.weight': Tensor.zeros([12, 7]) };
  await saveSafetensors(join(dir, 'bad.safetensors'), bad, exported.metadata);
  const r = pfs('import', 'lstm', '--torch', join(dir, 'bad.safetensors'), '--out', join(dir, 'x.safetensors'));
  assert.equal(r.code, 2);
  assert.match(r.err, /head\.weight: expected shape \[12, 8\], got \[12, 7\]/);
  // a file with no config: the preset's (LeNet needs none)
  const lenet = findPortable('lenet');
  const ln = lenet.build({});
  await saveSafetensors(join(dir, 'lenet.torch.safetensors'), torchStateDict(lenet, ln, {}).tensors);
  assert.equal(pfs('import', 'lenet', '--torch', join(dir, 'lenet.torch.safetensors'), '--out', join(dir, 'lenet.ckpt')).code, 0);
});
