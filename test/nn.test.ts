/**
 * src/nn: every layer against PyTorch (test/fixtures/nn.json, see gen_nn.py), then the Module machinery
 * (names, order, train/eval, state dicts, dtype conversion), Dropout, the initialisers and LeNet's size.
 *
 * A layer case builds our layer, loads torch's state_dict into it with loadStateDict (strict: our names
 * must be torch's keys), runs the fixture's forward passes and compares the output, the gradients of the
 * input and of every parameter, and the state after the passes (BatchNorm's running statistics).
 * It runs in float64 (after Module.to('float64')) with a tight tolerance, and in float32, the default.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Generator, noGrad, Tensor } from '../src/index.js';
import type { DType } from '../src/index.js';
import {
  AdaptiveAvgPool2d, AvgPool2d, BatchNorm1d, BatchNorm2d, Conv2d, Dropout, Embedding, Flatten, Identity, init, LayerNorm,
  Linear, MaxPool2d, Module, ReLU, Sequential, Sigmoid,
} from '../src/nn/index.js';
import { lenet, lenetBN } from '../papers/lenet/model.js';
import { assertClose, FixtureTensor, FLOAT32, FLOAT64, LayerCase, loadNnFixtures, Tol, toTensor } from './nn-fixtures.js';

const fx = loadNnFixtures();

/** A module whose forward takes one tensor (all the layers here). */
type Layer = Module & { forward(x: Tensor): Tensor };

/** Our side of each layer case of gen_nn.py, built with the same arguments as torch's. */
const layers: Record<string, () => Layer> = {
  linear: () => new Linear(4, 3),
  linear_no_bias: () => new Linear(4, 3, { bias: false }),
  conv2d: () => new Conv2d(2, 3, 3),
  conv2d_stride_padding: () => new Conv2d(3, 4, 3, { stride: 2, padding: 1 }),
  conv2d_groups: () => new Conv2d(4, 6, [3, 2], { padding: [1, 0], groups: 2 }),
  conv2d_no_bias: () => new Conv2d(2, 3, 2, { stride: [1, 2], bias: false }),
  max_pool2d: () => new MaxPool2d(2),
  max_pool2d_stride_padding: () => new MaxPool2d(3, 2, 1),
  avg_pool2d: () => new AvgPool2d(2),
  avg_pool2d_stride_padding: () => new AvgPool2d(3, 2, 1),
  adaptive_avg_pool2d: () => new AdaptiveAvgPool2d([2, 3]),
  adaptive_avg_pool2d_to_1: () => new AdaptiveAvgPool2d(1),
  batch_norm1d_2d_train: () => new BatchNorm1d(3),
  batch_norm1d_3d_train: () => new BatchNorm1d(3),
  batch_norm2d_train: () => new BatchNorm2d(2),
  batch_norm2d_momentum_eps: () => new BatchNorm2d(3, { eps: 1e-3, momentum: 0.3 }),
  batch_norm1d_2d_eval: () => new BatchNorm1d(3),
  batch_norm1d_3d_eval: () => new BatchNorm1d(3),
  batch_norm2d_eval: () => new BatchNorm2d(2),
  layer_norm: () => new LayerNorm(5),
  layer_norm_2d: () => new LayerNorm([3, 4]),
  embedding: () => new Embedding(5, 3),
  flatten: () => new Flatten(),
  flatten_middle: () => new Flatten(1, 2),
  sequential_lenet: () =>
    new Sequential(new Conv2d(1, 2, 3, { padding: 1 }), new Sigmoid(), new AvgPool2d(2), new Flatten(), new Linear(2 * 3 * 3, 4)),
};

/** A fixture state dict as tensors; floating ones in `dtype`. */
function stateOf(sd: Record<string, FixtureTensor>, dtype: 'float32' | 'float64'): Record<string, Tensor> {
  return Object.fromEntries(Object.entries(sd).map(([k, t]) => [k, toTensor(t, dtype)]));
}

function checkLayer(c: LayerCase, dtype: 'float32' | 'float64', tol: Tol): void {
  const m = layers[c.name]();
  if (dtype === 'float64') m.to('float64');
  m.loadStateDict(stateOf(c.state, dtype));
  m.train(c.mode === 'train');
  const xs = c.inputs.map((t) => toTensor(t, dtype));
  const x = xs[xs.length - 1];
  if (c.inputGrad) x.requiresGrad_();
  let out: Tensor | undefined;
  for (const xi of xs) out = m.forward(xi);
  assert.equal(out!.dtype, dtype, `${c.name}: output dtype`);
  assertClose(out!, c.output, tol, `${c.name} (${dtype}) output`);

  out!.backward(toTensor(c.upstream, dtype));
  if (c.inputGrad) assertClose(x.grad, c.inputGrad, tol, `${c.name} (${dtype}) input gradient`);
  const params = [...m.namedParameters()];
  assert.deepEqual(params.map(([k]) => k), Object.keys(c.paramGrads), `${c.name}: parameter names and order`);
  for (const [k, p] of params) assertClose(p.grad, c.paramGrads[k], tol, `${c.name} (${dtype}) gradient of ${k}`);

  const after = m.stateDict();
  assert.deepEqual(Object.keys(after), Object.keys(c.stateAfter), `${c.name}: state dict keys`);
  for (const [k, t] of Object.entries(c.stateAfter)) assertClose(after[k], t, tol, `${c.name} (${dtype}) ${k} after the passes`);
}

describe('layers against torch', () => {
  test('every fixture case has a layer here, and vice versa', () => {
    const names = fx.layers.map((c) => c.name);
    assert.deepEqual(names.filter((n) => !(n in layers)), [], 'fixture cases without a layer in nn.test.ts');
    assert.deepEqual(Object.keys(layers).filter((n) => !names.includes(n)), [], 'layers without a fixture case (regenerate nn.json?)');
  });
  for (const c of fx.layers) {
    test(`${c.name}, float64`, () => checkLayer(c, 'float64', FLOAT64));
    // BatchNorm's gradient subtracts nearly equal sums: float32 loses a little more there.
    test(`${c.name}, float32`, () => checkLayer(c, 'float32', c.name.startsWith('batch_norm') ? { rtol: 1e-4, atol: 1e-4 } : FLOAT32));
  }
});

// ---------- Module: names, order, modes ----------

/** The custom torch module `Net` of gen_nn.py, in our API. */
class Net extends Module {
  readonly features: Sequential;
  readonly head: Linear;
  readonly scale: Tensor;
  constructor(g?: Generator) {
    super();
    this.features = this.registerModule('features', new Sequential(
      new Conv2d(1, 4, 3, { generator: g }), new BatchNorm2d(4), new ReLU(),
      new Sequential(new Conv2d(4, 4, 1, { generator: g }), new ReLU()),
    ));
    this.head = this.registerModule('head', new Linear(4, 2, { generator: g }));
    this.scale = this.registerParameter('scale', Tensor.ones([1]));
  }
  forward(x: Tensor): Tensor {
    const h = this.features.forward(x).mean([2, 3]); // (N, 4, H, W) → (N, 4)
    return this.head.forward(h).mul(this.scale);
  }
}

describe('Module', () => {
  test('names, order of parameters, state dict keys and module names are torch\'s', () => {
    const net = new Net();
    assert.deepEqual([...net.namedParameters()].map(([k]) => k), fx.naming.parameters);
    assert.deepEqual(Object.keys(net.stateDict()), fx.naming.stateDict);
    assert.deepEqual([...net.namedModules()].map(([k]) => k), fx.naming.modules);
    // parameters() is namedParameters() without the names: the module's own tensors, in that order.
    const named = [...net.namedParameters()];
    const params = net.parameters();
    assert.equal(params.length, named.length);
    params.forEach((p, i) => assert.equal(p, named[i][1], `parameter ${i} is ${named[i][0]}`));
    assert.equal(params[0], net.scale);
    assert.equal(params[1], (net.features.layers[0] as Conv2d).weight);
    assert.equal(params.at(-1), net.head.bias);
    assert.deepEqual([...net.children()].map(([k]) => k), ['features', 'head']);
    assert.ok(net.parameters().every((p) => p.requiresGrad && p.isLeaf));
  });

  test('train() and eval() reach every submodule; a subtree can be switched alone', () => {
    const net = new Net();
    const modes = () => [...net.namedModules()].map(([, m]) => m.training);
    assert.ok(modes().every((t) => t), 'modules start in training mode');
    assert.equal(net.eval(), net);
    assert.ok(modes().every((t) => !t));
    net.train();
    assert.ok(modes().every((t) => t));
    net.features.eval();
    assert.deepEqual(
      [...net.namedModules()].filter(([, m]) => !m.training).map(([k]) => k),
      ['features', 'features.0', 'features.1', 'features.2', 'features.3', 'features.3.0', 'features.3.1'],
    );
    net.train(false);
    assert.ok(modes().every((t) => !t));
  });

  test('registering a name twice, a dotted name or a non-leaf parameter is refused', () => {
    class Twice extends Module {
      constructor(second: 'parameter' | 'buffer' | 'module') {
        super();
        this.registerParameter('w', Tensor.zeros([2]));
        if (second === 'parameter') this.registerParameter('w', Tensor.zeros([2]));
        if (second === 'buffer') this.registerBuffer('w', Tensor.zeros([2]));
        if (second === 'module') this.registerModule('w', new Identity());
      }
      forward(): void {}
    }
    for (const second of ['parameter', 'buffer', 'module'] as const) {
      assert.throws(() => new Twice(second), /Twice: "w" is already registered/, second);
    }
    class Odd extends Module {
      constructor(name: string, t: Tensor) {
        super();
        this.registerParameter(name, t);
      }
      forward(): void {}
    }
    assert.throws(() => new Odd('a.b', Tensor.zeros([1])), /invalid name "a\.b"/);
    assert.throws(() => new Odd('', Tensor.zeros([1])), /invalid name ""/);
    assert.throws(() => new Odd('w', Tensor.zeros([2]).requiresGrad_().mul(2)), /must be a leaf tensor/);
  });

  test('numParameters counts every scalar of every parameter, buffers excluded', () => {
    // conv 4·1·3·3 + 4, BatchNorm γ, β 4 + 4, conv 4·4·1·1 + 4, head 2·4 + 2, scale 1.
    assert.equal(new Net().numParameters(), 40 + 8 + 20 + 10 + 1);
  });

  test('LeNet has 61,706 parameters, as d2l\'s (and torch\'s count of it); LeNet+BN as torch\'s', () => {
    // By hand, weights + biases of each layer (papers/lenet/model.ts):
    //   conv 1→6, 5×5:     6·1·5·5 + 6    =    156
    //   conv 6→16, 5×5:   16·6·5·5 + 16   =  2,416
    //   dense 400→120:  400·120 + 120     = 48,120   (16 channels × 5 × 5 = 400 after the 2nd pool)
    //   dense 120→84:   120·84 + 84       = 10,164
    //   dense 84→10:     84·10 + 10       =    850
    //   total                             = 61,706
    assert.equal(156 + 2416 + 48120 + 10164 + 850, 61706);
    assert.equal(lenet().numParameters(), 61706);
    assert.equal(fx.numParameters.lenet, 61706);
    assert.equal(lenetBN().numParameters(), fx.numParameters.lenetBN);
    // And LeNet maps Fashion-MNIST images to 10 logits.
    assert.deepEqual([...lenet(new Generator(1)).forward(Tensor.randn([2, 1, 28, 28])).shape], [2, 10]);
  });
});

// ---------- state dicts ----------

/** A deep copy of a state dict (stateDict() shares storage with the module). */
function snapshot(sd: Record<string, Tensor>): Record<string, Tensor> {
  return Object.fromEntries(Object.entries(sd).map(([k, t]) => [k, t.clone()]));
}

function assertSameState(a: Record<string, Tensor>, b: Record<string, Tensor>): void {
  assert.deepEqual(Object.keys(a), Object.keys(b));
  for (const k of Object.keys(a)) assert.deepEqual(a[k].toArray(), b[k].toArray(), k);
}

describe('stateDict and loadStateDict', () => {
  test('round trip: save, perturb, load gives the saved values back, into the same tensors', () => {
    const net = new Net(new Generator(3));
    net.forward(Tensor.randn([2, 1, 5, 5], { generator: new Generator(4) })); // moves BatchNorm's statistics
    const saved = snapshot(net.stateDict());
    const params = net.parameters();
    noGrad(() => {
      for (const t of Object.values(net.stateDict())) t.add_(1);
    });
    assert.notDeepEqual(net.stateDict()['head.weight'].toArray(), saved['head.weight'].toArray());
    assert.equal(net.stateDict()['features.1.num_batches_tracked'].item(), 2);
    net.loadStateDict(saved);
    assertSameState(net.stateDict(), saved);
    // In place: the parameter objects (which an optimiser holds) are the same ones.
    net.parameters().forEach((p, i) => assert.equal(p, params[i]));
  });

  test('a state dict moves a model: a differently seeded copy then computes the same outputs', () => {
    const a = new Net(new Generator(1)).eval();
    const b = new Net(new Generator(2)).eval();
    const x = Tensor.randn([3, 1, 6, 6], { generator: new Generator(5) });
    assert.notDeepEqual(b.forward(x).toArray(), a.forward(x).toArray());
    b.loadStateDict(a.stateDict());
    assert.deepEqual(b.forward(x).toArray(), a.forward(x).toArray());
  });

  test('stateDict shares storage with the module and carries no gradient history', () => {
    const lin = new Linear(2, 2);
    const w = lin.stateDict().weight;
    assert.equal(w.storage, lin.weight.storage);
    assert.equal(w.requiresGrad, false);
  });

  test('errors list missing keys, unexpected keys and shape mismatches (with both shapes); nothing is loaded', () => {
    const net = new Net(new Generator(1));
    const before = snapshot(net.stateDict());
    const sd = snapshot(new Net(new Generator(2)).stateDict());
    delete sd['head.bias'];
    delete sd['features.1.running_var'];
    sd['head.gamma'] = Tensor.zeros([2]);
    sd['features.0.weight'] = Tensor.zeros([4, 1, 5, 5]);
    let message = '';
    assert.throws(() => net.loadStateDict(sd), (e: Error) => ((message = e.message), true));
    assert.match(message, /loadStateDict into Net/);
    assert.match(message, /missing keys: features\.1\.running_var, head\.bias/);
    assert.match(message, /unexpected keys: head\.gamma/);
    assert.match(message, /features\.0\.weight: shape \[4, 1, 5, 5\] in the state dict, \[4, 1, 3, 3\] in the model/);
    assertSameState(net.stateDict(), before);
  });

  test("a whole other model's state dict is named as such, with its keys cut at 8", () => {
    const net = new Net(new Generator(1));
    const other: Record<string, Tensor> = {};
    for (let i = 0; i < 12; i++) other[`layer${i}.weight`] = Tensor.zeros([1]);
    assert.throws(() => net.loadStateDict(other), /loadStateDict into Net: none of its \d+ keys is in the state dict, whose keys \(layer0\.weight, .*, layer7\.weight, … and 4 more\) belong to another model$/);
  });

  test('strict: false tolerates missing and unexpected keys, loads the rest, still refuses a wrong shape', () => {
    const net = new Net(new Generator(1));
    const other = new Net(new Generator(2));
    net.loadStateDict({ 'head.weight': other.head.weight.detach(), extra: Tensor.zeros([1]) }, { strict: false });
    assert.deepEqual(net.head.weight.toArray(), other.head.weight.toArray());
    assert.notDeepEqual(net.head.bias!.toArray(), other.head.bias!.toArray());
    assert.throws(() => net.loadStateDict({ 'head.bias': Tensor.zeros([3]) }, { strict: false }), /head\.bias: shape \[3\] in the state dict, \[2\] in the model/);
  });
});

describe('Module.to(dtype)', () => {
  test('converts floating parameters and buffers, re-points the fields, keeps integer buffers', () => {
    const net = new Net(new Generator(1));
    const before = snapshot(net.stateDict());
    assert.equal(net.to('float64'), net);
    const bn = net.features.layers[1] as BatchNorm2d;
    for (const [k, t] of Object.entries(net.stateDict())) {
      assert.equal(t.dtype, k.endsWith('num_batches_tracked') ? 'int32' : 'float64', k);
      assert.deepEqual(t.toArray(), before[k].toArray(), `${k}: values kept`);
    }
    // The fields a layer's forward reads are the registered (converted) tensors.
    const named = Object.fromEntries(net.namedParameters());
    assert.equal(net.head.weight, named['head.weight']);
    assert.equal(net.scale, named.scale);
    assert.equal(bn.runningMean, Object.fromEntries(net.namedBuffers())['features.1.running_mean']);
    assert.ok(net.parameters().every((p) => p.dtype === 'float64' && p.requiresGrad && p.isLeaf && p.grad === null));
    // A float64 forward and backward.
    const y = net.forward(Tensor.randn([2, 1, 5, 5], { dtype: 'float64' }));
    assert.equal(y.dtype, 'float64');
    y.sum().backward();
    assert.equal(net.head.weight.grad?.dtype, 'float64');
    assert.equal(bn.runningVar.dtype, 'float64');
    net.float();
    assert.ok(net.parameters().every((p) => p.dtype === 'float32'));
    assert.throws(() => net.to('int32' as DType), /expected a floating dtype/);
  });

  test('a tensor shared by two modules (tied weights) is one parameter and stays shared', () => {
    class Tied extends Module {
      readonly emb: Embedding;
      readonly out: Tensor; // the output projection reuses the embedding matrix
      constructor() {
        super();
        this.emb = this.registerModule('emb', new Embedding(5, 3));
        this.out = this.registerParameter('out', this.emb.weight);
      }
      forward(): void {}
    }
    const m = new Tied();
    // As torch: parameters() lists the shared tensor once (so an optimiser steps it once), under its first
    // name; the state dict keeps both names (torch: ['out'] and ['out', 'emb.weight']).
    assert.deepEqual([...m.namedParameters()].map(([k]) => k), ['out']);
    assert.equal(m.numParameters(), 15);
    assert.deepEqual(Object.keys(m.stateDict()), ['out', 'emb.weight']);
    m.double();
    assert.equal(m.out.dtype, 'float64');
    assert.equal(m.out, m.emb.weight);
  });

  test('a float32 module loads float64 values rounded to float32', () => {
    const lin = new Linear(1, 1);
    lin.loadStateDict({ weight: Tensor.from([[0.1]], { dtype: 'float64' }), bias: Tensor.from([1 / 3], { dtype: 'float64' }) });
    assert.equal(lin.weight.dtype, 'float32');
    assert.equal(lin.weight.item(), Math.fround(0.1));
    assert.equal(lin.bias!.item(), Math.fround(1 / 3));
  });
});

// ---------- Dropout ----------

describe('Dropout', () => {
  const ones = Tensor.ones([200, 100]);

  test('the mask comes from the generator: same seed, same mask; another seed, another mask', () => {
    const a = new Dropout(0.5, new Generator(11)).forward(ones).toArray();
    const b = new Dropout(0.5, new Generator(11)).forward(ones).toArray();
    const c = new Dropout(0.5, new Generator(12)).forward(ones).toArray();
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });

  test('keeps a fraction ≈ 1 − p of the elements, scaled by 1/(1 − p); the gradient has the same mask', () => {
    for (const p of [0.1, 0.3, 0.7]) {
      const x = ones.clone().requiresGrad_();
      const y = new Dropout(p, new Generator(5)).forward(x);
      const v = Array.from(y.toTypedArray());
      const kept = v.filter((e) => e !== 0);
      // The kept count is Binomial(n, 1 − p): its fraction has sd √(p(1 − p)/n) ≤ 0.0036 for n = 20,000.
      const frac = kept.length / v.length;
      assert.ok(Math.abs(frac - (1 - p)) < 5 * Math.sqrt((p * (1 - p)) / v.length), `p=${p}: kept ${frac}`);
      const scale = Math.fround(1 / (1 - p));
      assert.ok(kept.every((e) => Math.abs(e - scale) < 1e-6), `p=${p}: kept values are 1/(1 − p) = ${scale}`);
      y.backward(Tensor.ones(y.shape));
      assert.deepEqual(Array.from(x.grad!.toTypedArray()), v, 'dy/dx is the scaled mask');
    }
  });

  test('identity in eval mode and for p = 0; zeros for p = 1; p outside [0, 1] refused', () => {
    const x = Tensor.randn([3, 4]);
    const d = new Dropout(0.5).eval();
    assert.deepEqual(d.forward(x).toArray(), x.toArray());
    assert.deepEqual(new Dropout(0).forward(x).toArray(), x.toArray());
    assert.ok(Array.from(new Dropout(1).forward(x).toTypedArray()).every((e) => e === 0), 'p = 1 drops everything');
    assert.throws(() => new Dropout(1.5), /p must be in \[0, 1\], got 1.5/);
    assert.throws(() => new Dropout(-0.1), /p must be in \[0, 1\]/);
  });

  test('in float64 the mask keeps the dtype', () => {
    const y = new Dropout(0.5, new Generator(1)).forward(Tensor.ones([10], { dtype: 'float64' }));
    assert.equal(y.dtype, 'float64');
    assert.ok(Array.from(y.toTypedArray()).every((e) => e === 0 || e === 2));
  });
});

// ---------- init ----------

/** Sample statistics of a tensor's elements. */
function stats(t: Tensor): { min: number; max: number; mean: number; std: number } {
  const v = Array.from(t.toTypedArray());
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
  return { min: Math.min(...v), max: Math.max(...v), mean, std };
}

/** Draws of U(−b, b): inside the bounds, reaching near them, with sd b/√3 (n ≥ 10⁴: the sd is within 2%). */
function assertUniform(t: Tensor, b: number, what: string): void {
  const s = stats(t);
  assert.ok(s.min >= -b && s.max <= b, `${what}: draws in [${s.min}, ${s.max}], bound ${b}`);
  assert.ok(s.min < -0.98 * b && s.max > 0.98 * b, `${what}: draws in [${s.min}, ${s.max}] should nearly reach ±${b}`);
  assert.ok(Math.abs(s.std / (b / Math.sqrt(3)) - 1) < 0.02, `${what}: sd ${s.std}, expected ${b / Math.sqrt(3)}`);
  assert.ok(Math.abs(s.mean) < 0.02 * b, `${what}: mean ${s.mean}`);
}

function assertNormal(t: Tensor, sd: number, what: string): void {
  const s = stats(t);
  assert.ok(Math.abs(s.std / sd - 1) < 0.02, `${what}: sd ${s.std}, expected ${sd}`);
  assert.ok(Math.abs(s.mean) < 0.02 * sd, `${what}: mean ${s.mean}`);
}

describe('init', () => {
  test('gains and fans are torch\'s (calculate_gain, _calculate_fan_in_and_fan_out)', () => {
    for (const { nonlinearity, param, gain } of fx.init.gains) {
      assert.equal(init.gain(nonlinearity as init.Nonlinearity, param ?? undefined), gain, `${nonlinearity}(${param})`);
    }
    for (const { shape, fanIn, fanOut } of fx.init.fans) assert.deepEqual(init.fans(Tensor.zeros(shape)), { fanIn, fanOut }, `[${shape}]`);
    assert.throws(() => init.fans(Tensor.zeros([5])), /at least 2 dims, got \[5\]/);
  });

  test('xavier: U(±gain·√(6/(fan_in + fan_out))) and N(0, gain²·2/(fan_in + fan_out))', () => {
    const g = new Generator(1);
    // fan_in = 20·3·3 = 180, fan_out = 64·3·3 = 576
    assertUniform(init.xavierUniform_(Tensor.zeros([64, 20, 3, 3]), 1, g), Math.sqrt(6 / 756), 'xavierUniform_');
    assertUniform(init.xavierUniform_(Tensor.zeros([100, 150]), 2, g), 2 * Math.sqrt(6 / 250), 'xavierUniform_ gain 2');
    assertNormal(init.xavierNormal_(Tensor.zeros([100, 150]), 1.5, g), 1.5 * Math.sqrt(2 / 250), 'xavierNormal_');
  });

  test('kaiming: U(±gain·√(3/fan)) and N(0, gain²/fan), gain √(2/(1 + a²)) by default, fan_in or fan_out', () => {
    const g = new Generator(2);
    const w = () => Tensor.zeros([64, 20, 3, 3]); // fan_in 180, fan_out 576
    assertUniform(init.kaimingUniform_(w(), { generator: g }), Math.sqrt(6 / 180), 'kaimingUniform_ (a = 0)');
    assertUniform(init.kaimingUniform_(w(), { mode: 'fan_out', nonlinearity: 'relu', generator: g }), Math.sqrt(6 / 576), 'fan_out relu');
    assertUniform(init.kaimingUniform_(w(), { a: Math.sqrt(5), generator: g }), 1 / Math.sqrt(180), 'a = √5 (torch\'s Linear/Conv)');
    assertNormal(init.kaimingNormal_(w(), { generator: g }), Math.sqrt(2 / 180), 'kaimingNormal_');
    assertNormal(init.kaimingNormal_(w(), { a: 0.2, mode: 'fan_out', generator: g }), Math.sqrt(2 / 1.04) / Math.sqrt(576), 'leaky 0.2, fan_out');
    assertNormal(init.kaimingNormal_(w(), { nonlinearity: 'tanh', generator: g }), 5 / 3 / Math.sqrt(180), 'tanh');
  });

  test('uniform_, normal_, constant_: in place, seeded, outside the tape', () => {
    const t = Tensor.zeros([100, 100]).requiresGrad_();
    assert.equal(init.uniform_(t, -2, 3, new Generator(1)), t);
    const s = stats(t);
    assert.ok(s.min >= -2 && s.max < 3 && Math.abs(s.mean - 0.5) < 0.05, `uniform_(−2, 3): [${s.min}, ${s.max}], mean ${s.mean}`);
    assert.ok(t.isLeaf && t.requiresGrad);
    const a = init.normal_(Tensor.zeros([100, 100]), 1, 2, new Generator(7));
    const b = init.normal_(Tensor.zeros([100, 100]), 1, 2, new Generator(7));
    assert.deepEqual(a.toArray(), b.toArray());
    const sa = stats(a);
    assert.ok(Math.abs(sa.mean - 1) < 0.06 && Math.abs(sa.std / 2 - 1) < 0.02, `normal_(1, 2): mean ${sa.mean}, sd ${sa.std}`);
    assert.deepEqual(init.constant_(Tensor.zeros([2]), 0.5).toArray(), [0.5, 0.5]);
    assert.deepEqual(init.ones_(Tensor.zeros([2])).toArray(), [1, 1]);
    assert.deepEqual(init.zeros_(Tensor.ones([2])).toArray(), [0, 0]);
  });

  test('layers start as torch\'s: Linear/Conv2d U(±1/√fan_in), Embedding N(0, 1), norms γ = 1, β = 0', () => {
    const g = new Generator(3);
    const lin = new Linear(400, 300, { generator: g });
    assertUniform(lin.weight, 1 / Math.sqrt(400), 'Linear weight');
    assert.ok(stats(lin.bias!).max <= 1 / Math.sqrt(400) && stats(lin.bias!).min >= -1 / Math.sqrt(400), 'Linear bias');
    // fan_in of a grouped conv counts the channels of one group: 16/4 · 3·3 = 36.
    const conv = new Conv2d(16, 256, 3, { groups: 4, generator: g });
    assert.deepEqual([...conv.weight.shape], [256, 4, 3, 3]);
    assertUniform(conv.weight, 1 / 6, 'Conv2d weight');
    assert.ok(stats(conv.bias!).max <= 1 / 6 && stats(conv.bias!).min >= -1 / 6, 'Conv2d bias');
    assertNormal(new Embedding(100, 200, { generator: g }).weight, 1, 'Embedding weight');
    const bn = new BatchNorm2d(3);
    assert.deepEqual([bn.weight!.toArray(), bn.bias!.toArray(), bn.runningMean.toArray(), bn.runningVar.toArray()], [[1, 1, 1], [0, 0, 0], [0, 0, 0], [1, 1, 1]]);
    assert.equal(bn.numBatchesTracked.item(), 0);
    const ln = new LayerNorm([2, 2]);
    assert.deepEqual([ln.weight!.toArray(), ln.bias!.toArray()], [[[1, 1], [1, 1]], [[0, 0], [0, 0]]]);
  });

  test('the same generator seed builds the same layer', () => {
    const a = new Conv2d(3, 4, 3, { generator: new Generator(9) });
    const b = new Conv2d(3, 4, 3, { generator: new Generator(9) });
    const c = new Conv2d(3, 4, 3, { generator: new Generator(10) });
    assertSameState(a.stateDict(), b.stateDict());
    assert.notDeepEqual(a.weight.toArray(), c.weight.toArray());
  });
});

// ---------- shapes refused with a clear message ----------

describe('layers refuse bad input', () => {
  test('wrong feature or channel counts name the expected and the actual shape', () => {
    assert.throws(() => new Linear(4, 3).forward(Tensor.zeros([2, 5])), /Linear: expected input of shape \(\.\.\., 4\), got \[2, 5\]/);
    assert.throws(() => new BatchNorm2d(3).forward(Tensor.zeros([2, 4, 5, 5])), /BatchNorm2d: expected input of shape \(N, 3, H, W\), got \[2, 4, 5, 5\]/);
    assert.throws(() => new BatchNorm1d(3).forward(Tensor.zeros([2, 3, 4, 4])), /BatchNorm1d: expected input of shape \(N, 3\) or \(N, 3, L\), got \[2, 3, 4, 4\]/);
    assert.throws(() => new BatchNorm1d(3).forward(Tensor.zeros([1, 3])), /more than 1 value per channel/);
    assert.throws(() => new LayerNorm([3, 4]).forward(Tensor.zeros([2, 4, 3])), /LayerNorm: expected input of shape \(\.\.\., 3, 4\), got \[2, 4, 3\]/);
    assert.throws(() => new Conv2d(3, 4, 3).forward(Tensor.zeros([1, 2, 5, 5])), /input \[1, 2, 5, 5\] has 2/);
    assert.throws(() => new Conv2d(3, 4, 3, { groups: 2 }), /groups 2 must divide inChannels 3/);
  });
});
