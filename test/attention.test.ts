/**
 * src/nn/attention.ts and sequenceCrossEntropy: against PyTorch (test/fixtures/attention.json, see
 * gen_attention.py) in float64 with a tight tolerance and in float32 — output, attention weights, the
 * gradient of every floating input and of every parameter, the parameters loaded by state-dict name
 * (MultiHeadAttention's from torch.nn.MultiheadAttention's in_proj/out_proj); then float64 gradchecks,
 * cached (incremental) multi-head attention against the causal forward, dropout on the weights, and the
 * errors that bad shapes and valid lengths get.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Generator, gradcheck, noGrad, Tensor } from '../src/index.js';
import { cat } from '../src/ops/shape.js';
import {
  AdditiveAttention, DotProductAttention, maskedSoftmax, Module, MultiHeadAttention, PositionalEncoding, sequenceCrossEntropy, sequenceMask,
} from '../src/nn/index.js';
import { assertClose, FixtureTensor, FLOAT32, FLOAT64, Tol, toTensor } from './nn-fixtures.js';

type Kind = 'maskedSoftmax' | 'dotProduct' | 'additive' | 'multiHead' | 'positional' | 'sequenceCE';

interface AttentionCase {
  name: string;
  kind: Kind;
  /** Constructor arguments (the positional case's offset too). */
  config: {
    keySize?: number; querySize?: number; numHiddens?: number; numHeads?: number; bias?: boolean; valueSize?: number;
    maxLen?: number; offset?: number;
  };
  /** The module's state dict under our names (empty for the functions). */
  state: Record<string, FixtureTensor>;
  /** The forward's arguments in order; the int32 valid lengths last where the case has them. */
  inputs: FixtureTensor[];
  output: FixtureTensor;
  /** Attention weights: (B, Tq, Tk), or (B, h, Tq, Tk) for multi-head attention; null where there are none. */
  weights: FixtureTensor | null;
  upstream: FixtureTensor;
  grads: (FixtureTensor | null)[];
  paramGrads: Record<string, FixtureTensor>;
  /** The positional encoding's table (maxLen, d). */
  P?: FixtureTensor;
}

const fx = JSON.parse(
  readFileSync(new URL(import.meta.url.includes('/dist/test/') ? '../../test/fixtures/attention.json' : './fixtures/attention.json', import.meta.url), 'utf8'),
) as { generator: string; cases: AttentionCase[] };

type Attention = Module & { forward(q: Tensor, k: Tensor, v: Tensor, validLens?: Tensor | null): Tensor; attentionWeights: Tensor | null };

/** Our module of an attention case, built as torch's (dropout 0). */
function buildAttention(c: AttentionCase): Attention {
  const o = c.config;
  switch (c.kind) {
    case 'dotProduct': return new DotProductAttention();
    case 'additive': return new AdditiveAttention(o.keySize!, o.querySize!, o.numHiddens!);
    case 'multiHead': return new MultiHeadAttention(o.numHiddens!, o.numHeads!, { bias: o.bias, keySize: o.keySize, valueSize: o.valueSize });
    default: throw new Error(`${c.name}: not an attention module`);
  }
}

function checkCase(c: AttentionCase, dtype: 'float32' | 'float64', tol: Tol): void {
  const xs = c.inputs.map((t, i) => (c.grads[i] ? toTensor(t, dtype).requiresGrad_() : toTensor(t, dtype)));
  const ints = xs.filter((x) => x.dtype === 'int32');
  const lens = ints.length ? ints[ints.length - 1] : undefined;
  let module: Module | null = null;
  let out: Tensor;
  switch (c.kind) {
    case 'maskedSoftmax':
      out = maskedSoftmax(xs[0], lens);
      break;
    case 'sequenceCE':
      out = sequenceCrossEntropy(xs[0], xs[1], xs[2]);
      break;
    case 'positional': {
      const pe = new PositionalEncoding(c.config.numHiddens!, 0, { maxLen: c.config.maxLen });
      assertClose(pe.P, c.P!, FLOAT32, `${c.name}: P (float32)`);
      module = pe;
      out = pe.forward(xs[0], c.config.offset);
      break;
    }
    default: {
      const m = buildAttention(c);
      if (dtype === 'float64') m.to('float64');
      m.loadStateDict(Object.fromEntries(Object.entries(c.state).map(([k, t]) => [k, toTensor(t, dtype)])));
      module = m;
      out = m.forward(xs[0], xs[1], xs[2], lens);
      assertClose(m.attentionWeights, c.weights!, tol, `${c.name} (${dtype}) attention weights`);
    }
  }
  assert.equal(out.dtype, dtype, `${c.name}: output dtype`);
  assertClose(out, c.output, tol, `${c.name} (${dtype}) output`);
  out.backward(toTensor(c.upstream, dtype));
  c.grads.forEach((g, i) => {
    if (g) assertClose(xs[i].grad, g, tol, `${c.name} (${dtype}) gradient of input ${i}`);
  });
  const params = module ? [...module.namedParameters()] : [];
  assert.deepEqual(params.map(([k]) => k), Object.keys(c.paramGrads), `${c.name}: parameter names and order`);
  for (const [k, p] of params) assertClose(p.grad, c.paramGrads[k], tol, `${c.name} (${dtype}) gradient of ${k}`);
}

describe('attention against torch', () => {
  const kinds: Kind[] = ['maskedSoftmax', 'dotProduct', 'additive', 'multiHead', 'positional', 'sequenceCE'];
  test('every fixture case is of a kind run here, and every kind has cases', () => {
    assert.deepEqual(fx.cases.filter((c) => !kinds.includes(c.kind)).map((c) => c.name), [], 'cases of an unknown kind');
    assert.deepEqual(kinds.filter((k) => !fx.cases.some((c) => c.kind === k)), [], 'kinds without a case (regenerate attention.json?)');
  });
  for (const c of fx.cases) {
    test(`${c.name}, float64`, () => checkCase(c, 'float64', FLOAT64));
    test(`${c.name}, float32`, () => checkCase(c, 'float32', FLOAT32));
  }
});

// ---------- gradcheck ----------

/**
 * fn(...inputs, ...parameters) for gradcheck: the module's forward with the given tensors standing in
 * for its parameters (each field that holds a parameter points at the stand-in during the call).
 */
function asFunctionOfParameters(m: Module, run: (xs: Tensor[]) => Tensor, nInputs: number): (...ts: Tensor[]) => Tensor {
  const params = m.parameters();
  const fields: [Record<string, unknown>, string, number][] = [];
  for (const [, sub] of m.namedModules()) {
    const f = sub as unknown as Record<string, unknown>;
    for (const key of Object.keys(f)) {
      const i = params.indexOf(f[key] as Tensor);
      if (i >= 0) fields.push([f, key, i]);
    }
  }
  assert.equal(new Set(fields.map(([, , i]) => i)).size, params.length, 'every parameter is held by a field');
  return (...ts) => {
    for (const [f, key, i] of fields) f[key] = ts[nInputs + i];
    try {
      return run(ts.slice(0, nInputs));
    } finally {
      for (const [f, key, i] of fields) f[key] = params[i];
    }
  };
}

const f64 = (shape: number[], g: Generator) => Tensor.randn(shape, { dtype: 'float64', generator: g }).requiresGrad_();
const int32 = (values: number[][] | number[]) => Tensor.from(values, { dtype: 'int32' });

function assertGradcheck(fn: (...ts: Tensor[]) => Tensor, inputs: Tensor[], what: string): void {
  const r = gradcheck(fn, inputs);
  assert.ok(r.ok, `${what}: ${r.message}`);
}

describe('gradcheck (float64)', () => {
  test('maskedSoftmax: no mask, lengths (B) with a 0, (B, Tq), and over heads (B, h, Tq, Tk)', () => {
    const g = new Generator(1);
    assertGradcheck((s) => maskedSoftmax(s), [f64([2, 3, 4], g)], 'no mask');
    assertGradcheck((s) => maskedSoftmax(s, int32([0, 3])), [f64([2, 3, 4], g)], 'lengths (B)');
    assertGradcheck((s) => maskedSoftmax(s, int32([[1, 2, 4], [3, 0, 2]])), [f64([2, 3, 4], g)], 'lengths (B, Tq)');
    assertGradcheck((s) => maskedSoftmax(s, int32([[1, 2, 4], [3, 1, 2]])), [f64([2, 2, 3, 4], g)], 'heads');
  });

  test('DotProductAttention, with lengths (B, Tq)', () => {
    const g = new Generator(2);
    const m = new DotProductAttention().eval();
    const lens = int32([[1, 3, 4], [2, 4, 1]]);
    assertGradcheck((q, k, v) => m.forward(q, k, v, lens), [f64([2, 3, 3], g), f64([2, 4, 3], g), f64([2, 4, 2], g)], 'dot product');
  });

  test('AdditiveAttention: inputs and parameters', () => {
    const g = new Generator(3);
    const m = new AdditiveAttention(3, 2, 4, 0, { generator: g }).to('float64').eval();
    const lens = int32([2, 4]);
    const fn = asFunctionOfParameters(m, ([q, k, v]) => m.forward(q, k, v, lens), 3);
    const params = m.parameters().map((p) => p.detach().clone().requiresGrad_());
    assertGradcheck(fn, [f64([2, 3, 2], g), f64([2, 4, 3], g), f64([2, 4, 2], g), ...params], 'additive');
  });

  test('MultiHeadAttention (eval, with biases, key and value sizes of their own): inputs and parameters', () => {
    const g = new Generator(4);
    const m = new MultiHeadAttention(4, 2, { bias: true, keySize: 3, valueSize: 2, dropout: 0.5, generator: g }).to('float64').eval();
    const lens = int32([[1, 3], [2, 2]]);
    const fn = asFunctionOfParameters(m, ([q, k, v]) => m.forward(q, k, v, lens), 3);
    const params = m.parameters().map((p) => p.detach().clone().requiresGrad_());
    assert.equal(params.length, 8);
    assertGradcheck(fn, [f64([2, 2, 4], g), f64([2, 3, 3], g), f64([2, 3, 2], g), ...params], 'multi-head');
  });

  test('sequenceCrossEntropy', () => {
    const g = new Generator(5);
    const labels = int32([[0, 2, 1], [3, 3, 0]]);
    assertGradcheck((x) => sequenceCrossEntropy(x, labels, int32([2, 3])), [f64([2, 3, 4], g)], 'sequence cross-entropy');
  });
});

// ---------- incremental decoding ----------

describe('MultiHeadAttention.projectKeyValues and attend', () => {
  test('forward(q, k, v, m) is attend(q, ...projectKeyValues(k, v), m), exactly', () => {
    const g = new Generator(6);
    const m = new MultiHeadAttention(8, 2, { bias: true, keySize: 6, generator: g });
    const [q, k, v] = [Tensor.randn([2, 3, 8], { generator: g }), Tensor.randn([2, 5, 6], { generator: g }), Tensor.randn([2, 5, 8], { generator: g })];
    const lens = int32([4, 2]);
    const { K, V } = m.projectKeyValues(k, v);
    assert.deepEqual([...K.shape], [2, 2, 5, 4]);
    assert.deepEqual([...V.shape], [2, 2, 5, 4]);
    assert.deepEqual(m.attend(q, K, V, lens).toArray(), m.forward(q, k, v, lens).toArray());
  });

  test('step by step over a cache of K, V concatenated along dim 2 equals the causal forward', () => {
    const g = new Generator(7);
    const m = new MultiHeadAttention(8, 2, { bias: true, generator: g }).eval();
    const [B, T] = [2, 5];
    const x = Tensor.randn([B, T, 8], { generator: g });
    const causal = Tensor.from(Array.from({ length: B }, () => Array.from({ length: T }, (_, t) => t + 1)), { dtype: 'int32' });
    const full = noGrad(() => m.forward(x, x, x, causal));
    let K: Tensor | null = null;
    let V: Tensor | null = null;
    noGrad(() => {
      for (let t = 0; t < T; t++) {
        const xt = x.narrow(1, t, 1);
        const step = m.projectKeyValues(xt, xt);
        K = K ? cat([K, step.K], 2) : step.K;
        V = V ? cat([V, step.V], 2) : step.V;
        const out = m.attend(xt, K, V); // every cached key is valid
        assert.deepEqual([...m.attentionWeights!.shape], [B, 2, 1, t + 1]);
        const want = full.narrow(1, t, 1);
        const [a, b] = [out.toTypedArray(), want.contiguous().toTypedArray()];
        a.forEach((e, i) => assert.ok(Math.abs(e - b[i]) <= 1e-5 + 1e-5 * Math.abs(b[i]), `step ${t}, element ${i}: ${e} vs ${b[i]}`));
      }
    });
  });
});

// ---------- dropout and the weights ----------

/** Asserts each element of y is 0 or x/(1 − p), with both present (x has no zeros). */
function assertDropped(y: Tensor, x: Tensor, p: number, what: string): void {
  const [a, b] = [y.toTypedArray(), x.contiguous().toTypedArray()];
  let dropped = 0;
  a.forEach((e, i) => {
    if (e === 0) dropped++;
    else assert.ok(Math.abs(e - b[i] / (1 - p)) <= 1e-6 * Math.abs(b[i] / (1 - p)), `${what}: element ${i} is ${e}, kept would be ${b[i] / (1 - p)}`);
  });
  assert.ok(dropped > 0 && dropped < a.length, `${what}: ${dropped} of ${a.length} dropped`);
}

describe('dropout on the attention weights', () => {
  // With v the identity (Tk = dv), the output is the weights after dropout.
  const eye = (B: number, n: number) => Tensor.eye(n).unsqueeze(0).expand([B, n, n]);

  test('DotProductAttention: in training the weights are zeroed where dropped and the rest scaled by 1/(1 − p); seeded', () => {
    const run = (seed: number) => {
      const m = new DotProductAttention(0.4, { generator: new Generator(seed) });
      const g = new Generator(8);
      const out = m.forward(Tensor.randn([3, 4, 5], { generator: g }), Tensor.randn([3, 6, 5], { generator: g }), eye(3, 6));
      return { out, w: m.attentionWeights! };
    };
    const a = run(1);
    assertDropped(a.out, a.w, 0.4, 'DotProductAttention');
    // attentionWeights are the weights before dropout: each row sums to 1.
    Array.from(a.w.sum(-1).toTypedArray()).forEach((s) => assert.ok(Math.abs(s - 1) < 1e-6));
    assert.deepEqual(run(1).out.toArray(), a.out.toArray(), 'same seed, same mask');
    assert.notDeepEqual(run(2).out.toArray(), a.out.toArray(), 'another seed, another mask');
  });

  test('MultiHeadAttention: the dropped weights of each head, through the output', () => {
    // With W_v and W_o the identity and one head, the output is the dropped weights times v.
    const m = new MultiHeadAttention(4, 1, { dropout: 0.5, valueSize: 4, generator: new Generator(3) });
    noGrad(() => {
      m.W_v.weight.copy_(Tensor.eye(4));
      m.W_o.weight.copy_(Tensor.eye(4));
    });
    const g = new Generator(9);
    const out = m.forward(Tensor.randn([2, 3, 4], { generator: g }), Tensor.randn([2, 4, 4], { generator: g }), eye(2, 4));
    assertDropped(out, m.attentionWeights!.squeeze(1), 0.5, 'MultiHeadAttention');
  });

  test('eval mode is deterministic and equals the module without dropout', () => {
    const g = new Generator(10);
    const [q, k, v] = [Tensor.randn([2, 3, 8], { generator: g }), Tensor.randn([2, 4, 8], { generator: g }), Tensor.randn([2, 4, 8], { generator: g })];
    const lens = int32([3, 1]);
    const mha = new MultiHeadAttention(8, 2, { dropout: 0.9, generator: new Generator(1) }).eval();
    const plain = new MultiHeadAttention(8, 2);
    plain.loadStateDict(mha.stateDict());
    assert.deepEqual(mha.forward(q, k, v, lens).toArray(), plain.forward(q, k, v, lens).toArray());
    assert.deepEqual(mha.forward(q, k, v, lens).toArray(), mha.forward(q, k, v, lens).toArray());
    const add = new AdditiveAttention(8, 8, 5, 0.9).eval();
    assert.deepEqual(add.forward(q, k, v, lens).toArray(), add.forward(q, k, v, lens).toArray());
    const dot = new DotProductAttention(0.9).eval();
    assert.deepEqual(dot.forward(q, k, v, lens).toArray(), dot.forward(q, k, v, lens).toArray());
    const pe = new PositionalEncoding(8, 0.9, { maxLen: 10 }).eval();
    assert.deepEqual(pe.forward(q, 2).toArray(), q.add(pe.P.narrow(0, 2, 3)).toArray());
  });

  test('PositionalEncoding: dropout on x + P in training', () => {
    const pe = new PositionalEncoding(6, 0.5, { maxLen: 8, generator: new Generator(2) });
    const x = Tensor.randn([2, 4, 6], { generator: new Generator(11) });
    assertDropped(pe.forward(x), x.add(pe.P.narrow(0, 0, 4)), 0.5, 'PositionalEncoding');
  });

  test('attentionWeights: null before the first forward, then detached and of shape (B, Tq, Tk) or (B, h, Tq, Tk)', () => {
    const g = new Generator(12);
    const q = Tensor.randn([2, 3, 4], { generator: g }).requiresGrad_();
    const k = Tensor.randn([2, 5, 4], { generator: g }).requiresGrad_();
    const cases: [Attention, number[]][] = [
      [new DotProductAttention(0.2), [2, 3, 5]],
      [new AdditiveAttention(4, 4, 6, 0.2), [2, 3, 5]],
      [new MultiHeadAttention(4, 2, { dropout: 0.2 }), [2, 2, 3, 5]],
    ];
    for (const [m, shape] of cases) {
      assert.equal(m.attentionWeights, null);
      const out = m.forward(q, k, k, int32([2, 5]));
      assert.ok(out.requiresGrad);
      const w = m.attentionWeights!;
      assert.deepEqual([...w.shape], shape, m.constructor.name);
      assert.equal(w.requiresGrad, false, `${m.constructor.name}: weights require grad`);
      assert.equal(w.gradFn, null);
    }
  });
});

// ---------- the pieces ----------

describe('sequenceMask, PositionalEncoding, state', () => {
  test('sequenceMask: 1 below the valid length, 0 from it on; in the dtype asked for', () => {
    const m = sequenceMask(int32([0, 2, 4, 7]), 4);
    assert.equal(m.dtype, 'float32');
    assert.deepEqual(m.toArray(), [[0, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 1], [1, 1, 1, 1]]);
    assert.equal(sequenceMask(int32([1]), 2, 'float64').dtype, 'float64');
  });

  test('PositionalEncoding: P is not a parameter nor in the state dict; float64 inputs get the float64 table', () => {
    const pe = new PositionalEncoding(5, 0, { maxLen: 7 });
    assert.deepEqual([...pe.P.shape], [7, 5]);
    assert.deepEqual(Object.keys(pe.stateDict()), []);
    assert.equal(pe.numParameters(), 0);
    // d odd: the last column is a sine, of frequency 10000^(−4/5).
    assert.ok(Math.abs((pe.P.toArray() as number[][])[3][4] - Math.sin(3 / 10000 ** (4 / 5))) < 1e-7);
    const y = pe.to('float64').forward(Tensor.zeros([1, 7, 5], { dtype: 'float64' }));
    assert.equal(y.dtype, 'float64');
    assert.equal((y.toArray() as number[][][])[0][6][1], Math.cos(6));
    assert.equal(new PositionalEncoding(4).P.shape[0], 1000, 'maxLen defaults to 1000');
  });

  test('state dict names are d2l\'s', () => {
    assert.deepEqual(Object.keys(new AdditiveAttention(2, 3, 4).stateDict()), ['W_k.weight', 'W_q.weight', 'w_v.weight']);
    assert.deepEqual(Object.keys(new MultiHeadAttention(4, 2).stateDict()), ['W_q.weight', 'W_k.weight', 'W_v.weight', 'W_o.weight']);
    assert.deepEqual(Object.keys(new DotProductAttention(0.1).stateDict()), []);
    assert.deepEqual([...new MultiHeadAttention(4, 2, { bias: true, querySize: 3 }).namedParameters()].map(([k, p]) => `${k} [${p.shape}]`), [
      'W_q.weight [4,3]', 'W_q.bias [4]', 'W_k.weight [4,4]', 'W_k.bias [4]', 'W_v.weight [4,4]', 'W_v.bias [4]', 'W_o.weight [4,4]', 'W_o.bias [4]',
    ]);
  });
});

// ---------- errors ----------

describe('attention refuses bad input with a clear message', () => {
  const g = new Generator(13);
  const q = Tensor.randn([2, 3, 8], { generator: g });
  const kv = Tensor.randn([2, 5, 8], { generator: g });

  test('valid lengths: int32 only, of shape (B) or (B, Tq)', () => {
    const s = Tensor.randn([2, 3, 5]);
    assert.throws(() => maskedSoftmax(s, Tensor.from([1, 2])), /maskedSoftmax: validLens must be int32, got float32/);
    assert.throws(() => maskedSoftmax(s, int32([1, 2, 3])), /maskedSoftmax: expected validLens of shape \(2\) or \(2, 3\), got \[3\]/);
    assert.throws(() => maskedSoftmax(s, int32([[1, 2], [3, 4]])), /expected validLens of shape \(2\) or \(2, 3\), got \[2, 2\]/);
    assert.throws(() => maskedSoftmax(Tensor.randn([4]), int32([1])), /maskedSoftmax: expected scores of shape \(B, \.\.\., Tq, Tk\), got \[4\]/);
    assert.throws(() => maskedSoftmax(int32([[1, 2]])), /maskedSoftmax: expected a floating scores tensor, got int32/);
    const m = new MultiHeadAttention(8, 2);
    assert.throws(() => m.forward(q, kv, kv, Tensor.from([1, 2], { dtype: 'float64' })), /MultiHeadAttention: validLens must be int32, got float64/);
    assert.throws(() => m.forward(q, kv, kv, int32([[1, 2], [3, 4]])), /MultiHeadAttention: expected validLens of shape \(2\) or \(2, 3\), got \[2, 2\]/);
    assert.throws(() => new DotProductAttention().forward(q, kv, kv, Tensor.from([true, false])), /DotProductAttention: validLens must be int32, got bool/);
    assert.throws(() => sequenceMask(Tensor.from([1, 2]), 3), /sequenceMask: validLen must be int32, got float32/);
    assert.throws(() => sequenceMask(int32([[1, 2]]), 3), /sequenceMask: expected validLen of shape \(B\), got \[1, 2\]/);
  });

  test('MultiHeadAttention: numHiddens not divisible by numHeads; q, k, v, K, V of the wrong shape', () => {
    assert.throws(() => new MultiHeadAttention(10, 3), /MultiHeadAttention: numHiddens 10 must be divisible by numHeads 3/);
    assert.throws(() => new MultiHeadAttention(0, 1), /numHiddens must be a positive integer, got 0/);
    const m = new MultiHeadAttention(8, 2);
    assert.throws(() => m.forward(Tensor.randn([2, 3, 16]), kv, kv), /MultiHeadAttention: expected q of shape \(B, Tq, 8\), got \[2, 3, 16\]/);
    assert.throws(() => m.forward(q, Tensor.randn([3, 5, 8]), kv), /MultiHeadAttention: expected k of shape \(2, Tk, 8\), got \[3, 5, 8\]/);
    assert.throws(() => m.forward(q, kv, Tensor.randn([2, 4, 8])), /MultiHeadAttention: expected v of shape \(2, 5, 8\), got \[2, 4, 8\]/);
    assert.throws(() => m.forward(Tensor.randn([3, 8]), kv, kv), /expected q of shape \(B, Tq, 8\), got \[3, 8\]/);
    const { K, V } = m.projectKeyValues(kv, kv);
    assert.throws(() => m.attend(q, K.narrow(1, 0, 1), V), /MultiHeadAttention: expected K of shape \(2, 2, Tk, 4\), got \[2, 1, 5, 4\]/);
    assert.throws(() => m.attend(q, K, V.narrow(2, 0, 3)), /MultiHeadAttention: expected V of shape \(2, 2, 5, 4\), got \[2, 2, 3, 4\]/);
  });

  test('DotProductAttention and AdditiveAttention: shapes', () => {
    const dot = new DotProductAttention();
    assert.throws(() => dot.forward(q, Tensor.randn([2, 5, 7]), kv), /DotProductAttention: expected k of shape \(2, Tk, 8\), got \[2, 5, 7\]/);
    assert.throws(() => dot.forward(q, kv, Tensor.randn([2, 6, 3])), /DotProductAttention: expected v of shape \(2, 5, dv\), got \[2, 6, 3\]/);
    assert.throws(() => dot.forward(Tensor.randn([3, 8]), kv, kv), /DotProductAttention: expected q of shape \(B, Tq, d\), got \[3, 8\]/);
    const add = new AdditiveAttention(4, 8, 6);
    assert.throws(() => add.forward(q, kv, kv), /AdditiveAttention: expected k of shape \(2, Tk, 4\), got \[2, 5, 8\]/);
    assert.throws(() => add.forward(Tensor.randn([2, 3, 4]), kv, kv), /AdditiveAttention: expected q of shape \(B, Tq, 8\), got \[2, 3, 4\]/);
  });

  test('PositionalEncoding: feature size, and positions past maxLen', () => {
    const pe = new PositionalEncoding(8, 0, { maxLen: 6 });
    assert.throws(() => pe.forward(Tensor.randn([2, 3, 4])), /PositionalEncoding: expected x of shape \(B, T, 8\), got \[2, 3, 4\]/);
    assert.throws(() => pe.forward(q, 4), /PositionalEncoding: positions 4 to 6 exceed maxLen 6/);
    assert.throws(() => pe.forward(q, -1), /offset must be a non-negative integer, got -1/);
    assert.doesNotThrow(() => pe.forward(q, 3));
  });

  test('sequenceCrossEntropy: shapes and dtypes', () => {
    const logits = Tensor.randn([2, 3, 4]);
    const labels = int32([[0, 1, 2], [3, 0, 1]]);
    assert.throws(() => sequenceCrossEntropy(logits, labels, Tensor.from([1, 2])), /sequenceCrossEntropy: validLen must be int32, got float32/);
    assert.throws(() => sequenceCrossEntropy(logits, Tensor.from([[0, 1, 2], [3, 0, 1]]), int32([1, 2])), /sequenceCrossEntropy: labels must be int32, got float32/);
    assert.throws(() => sequenceCrossEntropy(logits, int32([0, 1, 2]), int32([1, 2])), /sequenceCrossEntropy: expected labels of shape \(2, 3\), got \[3\]/);
    assert.throws(() => sequenceCrossEntropy(logits, labels, int32([1, 2, 3])), /sequenceCrossEntropy: expected validLen of shape \(2\), got \[3\]/);
    assert.throws(() => sequenceCrossEntropy(Tensor.randn([2, 3]), labels, int32([1, 2])), /expected logits of shape \(B, T, V\), got \[2, 3\]/);
  });
});
