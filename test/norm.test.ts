/**
 * batchNorm and layerNorm beyond their op fixtures (test/fixtures/ops.json holds training mode against F.batch_norm):
 * the running statistics it updates, eval mode, second derivatives through its hand-written backward,
 * the training-mode kernels against the composed normalisation and its gradients, and its errors. The
 * oracle here is the same normalisation composed from elementwise ops.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batchNorm, Generator, layerNorm, layerNormComposed, Tensor } from '../src/index.js';
import { close } from './close.js';
import { shapeStr } from '../src/tensor/shape.js';

const g = new Generator(7);

/** The normalisation written with recorded elementwise ops (the definition). */
function composed(x: Tensor, w: Tensor, b: Tensor, eps: number): Tensor {
  const dims = [0, 2, 3];
  const mean = x.mean(dims, true);
  const v = x.sub(mean).mul(x.sub(mean)).mean(dims, true);
  return x.sub(mean).div(v.add(eps).sqrt()).mul(w.reshape([1, -1, 1, 1])).add(b.reshape([1, -1, 1, 1]));
}

test('training updates the running statistics with the unbiased batch variance', () => {
  const x = Tensor.randn([4, 3, 2, 5], { dtype: 'float64', generator: g }).mul(2).add(1);
  const rm = Tensor.from([0.5, -1, 2], { dtype: 'float64' });
  const rv = Tensor.from([1, 2, 0.5], { dtype: 'float64' });
  const [rm0, rv0] = [rm.clone(), rv.clone()];
  batchNorm(x, rm, rv, null, null, { training: true, momentum: 0.3 });
  const n = 4 * 2 * 5;
  const mean = x.mean([0, 2, 3]);
  const unbiased = x.var([0, 2, 3]); // correction 1: n − 1
  close(rm, rm0.mul(0.7).add(mean.mul(0.3)), 1e-12, 'running_mean');
  close(rv, rv0.mul(0.7).add(unbiased.mul(0.3)), 1e-12, 'running_var');
  assert.equal(unbiased.shape[0], 3);
  assert.ok(n > 1);
});

test('eval mode normalises with the running statistics and passes gradients to x, weight and bias', () => {
  const x = Tensor.randn([3, 2, 4], { dtype: 'float64', generator: g }).requiresGrad_();
  const w = Tensor.from([1.5, -0.5], { dtype: 'float64' }).requiresGrad_();
  const b = Tensor.from([0.25, 2], { dtype: 'float64' }).requiresGrad_();
  const rm = Tensor.from([0.1, -0.3], { dtype: 'float64' });
  const rv = Tensor.from([0.8, 1.7], { dtype: 'float64' });
  const y = batchNorm(x, rm, rv, w, b, { eps: 1e-3 });
  const want = x.sub(rm.reshape([1, 2, 1])).div(rv.add(1e-3).sqrt().reshape([1, 2, 1])).mul(w.reshape([1, 2, 1])).add(b.reshape([1, 2, 1]));
  close(y, want, 1e-12, 'eval output');
  // running statistics untouched in eval mode
  close(rm, Tensor.from([0.1, -0.3], { dtype: 'float64' }), 0, 'running_mean');
  y.mul(y).sum().backward();
  const [gx, gw, gb] = [x.grad!, w.grad!, b.grad!];
  for (const t of [x, w, b]) t.grad = null;
  want.mul(want).sum().backward();
  close(gx, x.grad!, 1e-12, 'dx');
  close(gw, w.grad!, 1e-12, 'dweight');
  close(gb, b.grad!, 1e-12, 'dbias');
});

test('training mode: the kernels give the composed normalisation and its gradients (float64 and float32, with and without weight)', () => {
  for (const dtype of ['float64', 'float32'] as const) {
    const tol = dtype === 'float64' ? 1e-10 : 1e-4;
    for (const affine of [true, false]) {
      const x0 = Tensor.randn([5, 3, 4, 7], { dtype, generator: g }).mul(3).add(2);
      const c = Tensor.randn([5, 3, 4, 7], { dtype, generator: g });
      const run = (f: (x: Tensor, w: Tensor, b: Tensor) => Tensor) => {
        const x = x0.clone().requiresGrad_();
        const w = Tensor.from([0.7, -1.2, 2], { dtype }).requiresGrad_();
        const b = Tensor.from([0.1, 0.4, -3], { dtype }).requiresGrad_();
        const y = f(x, w, b);
        y.mul(c).sum().backward();
        return { y, gx: x.grad!, gw: w.grad, gb: b.grad };
      };
      const ones = (t: Tensor) => Tensor.ones(t.shape, { dtype });
      const zeros = (t: Tensor) => Tensor.zeros(t.shape, { dtype });
      const mine = run((x, w, b) => batchNorm(x, null, null, affine ? w : null, affine ? b : null, { training: true }));
      const want = run((x, w, b) => composed(x, affine ? w : ones(w), affine ? b : zeros(b), 1e-5));
      const what = `${dtype}${affine ? '' : ', no weight or bias'}`;
      close(mine.y, want.y, tol, `y (${what})`);
      close(mine.gx, want.gx, tol, `dx (${what})`);
      if (affine) {
        close(mine.gw!, want.gw!, tol, `dweight (${what})`);
        close(mine.gb!, want.gb!, tol, `dbias (${what})`);
      }
    }
  }
  // a non-contiguous input (a permuted view) and a (N, C) one (BatchNorm1d)
  const xt = Tensor.randn([4, 6, 3, 5], { dtype: 'float64', generator: g }).permute([0, 3, 2, 1]); // (4, 5, 3, 6)
  const w5 = Tensor.ones([5], { dtype: 'float64' });
  close(batchNorm(xt, null, null, null, null, { training: true }), composed(xt, w5, Tensor.zeros([5], { dtype: 'float64' }), 1e-5), 1e-10, 'permuted input');
  const x2 = Tensor.randn([6, 4], { dtype: 'float64', generator: g });
  const m2 = x2.mean([0], true);
  const v2 = x2.sub(m2).mul(x2.sub(m2)).mean([0], true);
  close(batchNorm(x2, null, null, null, null, { training: true }), x2.sub(m2).div(v2.add(1e-5).sqrt()), 1e-10, '(N, C) input');
});

test('second derivatives (createGraph) equal those of the composed normalisation', () => {
  const x0 = Tensor.randn([3, 2, 2, 3], { dtype: 'float64', generator: g });
  const w0 = Tensor.from([0.7, -1.2], { dtype: 'float64' });
  const b0 = Tensor.from([0.1, 0.4], { dtype: 'float64' });
  const c = Tensor.randn([3, 2, 2, 3], { dtype: 'float64', generator: g });
  const secondOrder = (f: (x: Tensor, w: Tensor, b: Tensor) => Tensor) => {
    const [x, w, b] = [x0.clone().requiresGrad_(), w0.clone().requiresGrad_(), b0.clone().requiresGrad_()];
    // L = Σ c·y; then the squared norm of ∂L/∂x, differentiated again
    f(x, w, b).mul(c).sum().backward(undefined, { createGraph: true });
    const gx = x.grad!;
    x.grad = null;
    w.grad = null;
    gx.mul(gx).sum().backward();
    return [x.grad!, w.grad!];
  };
  const [fx, fw] = secondOrder((x, w, b) => batchNorm(x, null, null, w, b, { training: true }));
  const [cx, cw] = secondOrder((x, w, b) => composed(x, w, b, 1e-5));
  close(fx, cx, 1e-9, 'd²/dx²');
  close(fw, cw, 1e-9, 'd²/dx dw');
});

test('batchNorm errors say what was expected and what came', () => {
  const x = Tensor.zeros([4, 3, 2, 2]);
  assert.throws(() => batchNorm(x, null, null, Tensor.ones([2]), null, { training: true }), /weight must have shape \(3\) for input \[4, 3, 2, 2\], got \[2\]/);
  assert.throws(() => batchNorm(Tensor.zeros([1, 3]), null, null, null, null, { training: true }), /more than 1 value per channel/);
  assert.throws(() => batchNorm(x, null, null), /eval mode .* needs runningMean and runningVar/);
  assert.throws(() => batchNorm(Tensor.zeros([4]), null, null, null, null, { training: true }), /expected input of shape \(N, C, \.\.\.\), got \[4\]/);
  assert.throws(() => batchNorm(Tensor.zeros([4, 3], { dtype: 'int32' }), null, null, null, null, { training: true }), /float/);
  assert.throws(() => batchNorm(x, null, null, Tensor.ones([3], { dtype: 'float64' }), null, { training: true }), /input is float32 but weight is float64/);
  assert.throws(() => batchNorm(Tensor.zeros([4, 0]), null, null, null, null, { training: true }), /more than 1 value per channel/);
});

// ---------------------------------------------------------------- layerNorm

test('layerNorm: the fused kernels against the composed normalisation, values and gradients, float32 and float64', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    const tol = dtype === 'float32' ? 2e-5 : 1e-11;
    for (const [shape, norm] of [[[4, 7, 33], [33]], [[3, 5, 6], [5, 6]], [[300, 128], [128]]] as [number[], number[]][]) {
      const x0 = Tensor.randn(shape, { dtype, generator: g }).mul(3).add(1);
      const w0 = Tensor.randn(norm, { dtype, generator: g });
      const b0 = Tensor.randn(norm, { dtype, generator: g });
      const c = Tensor.randn(shape, { dtype, generator: g });
      for (const affine of [true, false]) {
        const run = (f: typeof layerNorm) => {
          const [x, w, b] = [x0.clone().requiresGrad_(), w0.clone().requiresGrad_(), b0.clone().requiresGrad_()];
          const y = f(x, norm, affine ? w : null, affine ? b : null, 1e-5);
          y.mul(c).sum().backward();
          return [y, x.grad!, ...(affine ? [w.grad!, b.grad!] : [])];
        };
        const mine = run(layerNorm);
        const want = run(layerNormComposed);
        const what = `${dtype} ${shapeStr(shape)} over ${shapeStr(norm)}${affine ? ' affine' : ''}`;
        ['y', 'dx', 'dw', 'db'].slice(0, mine.length).forEach((name, i) => close(mine[i], want[i], tol, `${name} ${what}`));
      }
    }
  }
  // a non-contiguous input
  const xt = Tensor.randn([6, 5], { dtype: 'float64', generator: g }).T;
  close(layerNorm(xt, [6]), layerNormComposed(xt, [6]), 1e-12, 'transposed input');
});

test('layerNorm: second derivatives (createGraph) equal those of the composed normalisation', () => {
  const x0 = Tensor.randn([3, 4, 5], { dtype: 'float64', generator: g });
  const w0 = Tensor.randn([5], { dtype: 'float64', generator: g });
  const b0 = Tensor.randn([5], { dtype: 'float64', generator: g });
  const c = Tensor.randn([3, 4, 5], { dtype: 'float64', generator: g });
  const secondOrder = (f: typeof layerNorm) => {
    const [x, w, b] = [x0.clone().requiresGrad_(), w0.clone().requiresGrad_(), b0.clone().requiresGrad_()];
    f(x, [5], w, b).mul(c).sum().backward(undefined, { createGraph: true });
    const gx = x.grad!;
    x.grad = null;
    w.grad = null;
    gx.mul(gx).sum().backward();
    return [x.grad!, w.grad!];
  };
  const [fx, fw] = secondOrder(layerNorm);
  const [cx, cw] = secondOrder(layerNormComposed);
  close(fx, cx, 1e-9, 'd²/dx²');
  close(fw, cw, 1e-9, 'd²/dx dw');
});

test('layerNorm errors say what was expected and what came; empty inputs give empty outputs', () => {
  const x = Tensor.zeros([2, 3, 4]);
  assert.throws(() => layerNorm(x, [3, 5]), /layerNorm: expected input of shape \(\.\.\., 3, 5\), got \[2, 3, 4\]/);
  assert.throws(() => layerNorm(x, 4, Tensor.ones([3])), /weight must have shape \(4\), got \[3\]/);
  assert.throws(() => layerNorm(x, 4, null, Tensor.ones([4], { dtype: 'float64' })), /input is float32 but bias is float64/);
  assert.throws(() => layerNorm(Tensor.zeros([2, 4], { dtype: 'int32' }), 4), /float/);
  assert.throws(() => layerNorm(x, 4, null, null, -1), /eps must be ≥ 0, got -1/);
  assert.deepEqual(layerNorm(Tensor.zeros([0, 4]), 4).shape, [0, 4]);
});
