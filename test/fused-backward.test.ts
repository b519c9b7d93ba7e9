/**
 * The shortcuts that training steps take in backward, each checked against the plain composition it
 * replaces: softmax and log-softmax as one kernel each way, sigmoid's and tanh's backward written into one tensor, conv2d's bias folded into the
 * conv, reductions over adjacent dims read in place, matmul's gradient for a transposed operand, and
 * .grad taking a gradient without a copy only when nothing else can see its memory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, tensor, noGrad } from '../src/index.js';
import { activationGrad } from '../src/ops/elementwise.js';
import { conv2d } from '../src/ops/conv.js';
import { logSoftmax, logSoftmaxComposed, softmax, softmaxComposed } from '../src/ops/reduce.js';
import { Generator } from '../src/tensor/rng.js';
import { close } from './close.js';

test('softmax and log-softmax by their fused kernels equal the composed ops: every dim, strided input, values and gradients, and double backward', () => {
  const gen = new Generator(11);
  const pairs = [[softmax, softmaxComposed, 'softmax'], [logSoftmax, logSoftmaxComposed, 'logSoftmax']] as const;
  for (const dtype of ['float32', 'float64'] as const) {
    const tol = dtype === 'float32' ? 2e-6 : 1e-12;
    // (3, 4, 5) along each dim, and a transposed view (the (B, V, T) view of (B, T, V) logits)
    const base = Tensor.randn([3, 4, 5], { generator: gen, dtype }).mul(3);
    const inputs: [Tensor, number][] = [[base, 0], [base, 1], [base, 2], [base, -1], [base.transpose(1, 2), 1]];
    for (const [fused, composed, name] of pairs) {
      for (const [x0, dim] of inputs) {
        const what = `${name} ${dtype} ${JSON.stringify(x0.shape)} dim ${dim}`;
        const dy = Tensor.randn(x0.shape, { generator: gen, dtype });
        const run = (f: (x: Tensor, d: number) => Tensor) => {
          const x = x0.detach().requiresGrad_();
          const y = f(x, dim);
          y.backward(dy);
          return [y, x.grad!];
        };
        const [yf, gf] = run(fused);
        const [yc, gc] = run(composed);
        close(yf, yc, tol, `${what}: value`);
        close(gf, gc, tol, `${what}: gradient`);
      }
    }
  }
  // double backward: the gradient of Σ (∂L/∂x)² goes through the recorded (composed) form of the backward
  for (const [fused, composed, name] of pairs) {
    const x0 = Tensor.randn([2, 6], { generator: gen, dtype: 'float64' });
    const w = Tensor.randn([2, 6], { generator: gen, dtype: 'float64' });
    const second = (f: (x: Tensor, d: number) => Tensor) => {
      const x = x0.detach().requiresGrad_();
      f(x, 1).mul(w).sum().backward(undefined, { createGraph: true });
      const gx = x.grad!;
      x.grad = null;
      gx.mul(gx).sum().backward();
      return x.grad!;
    };
    close(second(fused), second(composed), 1e-12, `${name} double backward`);
  }
  // a 0-d tensor is one row of one value, as in PyTorch: softmax 1, log-softmax 0
  assert.deepEqual([softmax(tensor(2.5), 0).item(), logSoftmax(tensor(2.5), -1).item()], [1, 0]);
  assert.throws(() => softmax(Tensor.zeros([2, 3], { dtype: 'int32' }), 0), /softmax/);
  assert.throws(() => logSoftmax(Tensor.zeros([2, 3]), 2), /logSoftmax: dim 2 is out of range/);
});

test('sigmoid and tanh backward in one tensor equal the composed formulas (float32, float64, strided g)', () => {
  const gen = new Generator(3);
  for (const dtype of ['float32', 'float64'] as const) {
    const out = Tensor.rand([4, 5, 6], { generator: gen, dtype });
    // a transposed gradient exercises strided reads
    const g = Tensor.randn([4, 6, 5], { generator: gen, dtype }).transpose(1, 2);
    const tol = dtype === 'float32' ? 1e-6 : 1e-12;
    noGrad(() => {
      close(activationGrad('sigmoid', g, out), g.mul(out.mul(out.neg().add(1))), tol, `sigmoid ${dtype}`);
      close(activationGrad('tanh', g, out), g.mul(out.mul(out).neg().add(1)), tol, `tanh ${dtype}`);
    });
  }
  // When recording (createGraph) the result is composed, so it has a graph to differentiate.
  const out = tensor([0.25, 0.5], { requiresGrad: true });
  const r = activationGrad('sigmoid', tensor([1, 1]), out);
  assert.notEqual(r.gradFn, null);
  close(r, tensor([0.1875, 0.25]), 1e-7, 'recorded sigmoid');
});

test('conv2d with a bias equals conv2d without one plus the broadcast bias, values and gradients', () => {
  const gen = new Generator(5);
  const mk = (shape: number[]) => Tensor.randn(shape, { generator: gen, dtype: 'float64' });
  const x0 = mk([2, 3, 6, 5]);
  const w0 = mk([4, 3, 3, 2]);
  const b0 = mk([4]);
  const dy = mk([2, 4, 4, 4]);
  const run = (fused: boolean) => {
    const [x, w, b] = [x0, w0, b0].map((t) => t.detach().requiresGrad_());
    const y = fused ? conv2d(x, w, b) : conv2d(x, w).add(b.reshape([1, 4, 1, 1]));
    y.backward(dy);
    return [y, x.grad!, w.grad!, b.grad!];
  };
  const fused = run(true);
  const composed = run(false);
  ['y', 'dx', 'dw', 'db'].forEach((what, i) => close(fused[i], composed[i], 1e-12, what));
  assert.throws(() => conv2d(x0, w0, mk([3])), /expected bias of shape \[4\], got \[3\]/);
});

test('conv2d on a map smaller than its kernel (taps reading only padding cropped off) equals conv2d on the explicitly padded input, values and gradients', () => {
  const gen = new Generator(9);
  const mk = (shape: number[]) => Tensor.randn(shape, { generator: gen, dtype: 'float64' });
  // [x shape, w shape, stride, padding, dilation, groups, the kernel taps left (kh × kw)]
  const cases: [number[], number[], number, [number, number], number, number, [number, number]][] = [
    [[2, 3, 1, 1], [4, 3, 3, 3], 1, [1, 1], 1, 1, [1, 1]], // ResNet's last stage at 28×28: a 3×3 conv on a 1×1 map
    [[2, 4, 2, 2], [6, 4, 5, 5], 1, [2, 2], 1, 1, [3, 3]], // GoogLeNet's 5×5 path on a 2×2 map
    [[2, 3, 2, 2], [4, 3, 3, 3], 2, [1, 1], 1, 1, [2, 2]], // a stride-2 3×3 conv from 2×2 to 1×1
    [[1, 2, 2, 3], [3, 2, 3, 3], 1, [2, 2], 2, 1, [1, 3]], // dilation 2: one row of taps left
    [[2, 4, 1, 2], [4, 2, 3, 5], 1, [1, 2], 1, 2, [1, 3]], // groups, a 3×5 kernel, padding 1×2
  ];
  for (const [xs, ws, stride, padding, dilation, groups, [kh, kw]] of cases) {
    const what = `x [${xs}] w [${ws}] stride ${stride} padding [${padding}] dilation ${dilation} groups ${groups}`;
    const [x0, w0, b0] = [mk(xs), mk(ws), mk([ws[0]])];
    const run = (explicit: boolean) => {
      const [x, w, b] = [x0, w0, b0].map((t) => t.detach().requiresGrad_());
      const y = explicit
        ? conv2d(x.pad([padding[1], padding[1], padding[0], padding[0]]), w, b, { stride, dilation, groups })
        : conv2d(x, w, b, { stride, padding, dilation, groups });
      y.backward(Tensor.randn(y.shape, { generator: new Generator(1), dtype: 'float64' }));
      return { y, grads: [x.grad!, w.grad!, b.grad!] };
    };
    const cropped = run(false);
    const explicit = run(true);
    // the cropped conv reads a (O, C/groups, kh, kw) weight: the narrowed view its graph holds
    const wIn = cropped.y.gradFn!.inputs[1];
    assert.deepEqual(wIn.shape, [ws[0], ws[1], kh, kw], `${what}: cropped weight`);
    close(cropped.y, explicit.y, 1e-12, `${what}: y`);
    ['dx', 'dw', 'db'].forEach((g, i) => close(cropped.grads[i], explicit.grads[i], 1e-12, `${what}: ${g}`));
  }
});

test('sum over adjacent dims (read in place) equals the sum over the same dims of a permuted copy', () => {
  const x = Tensor.randn([3, 4, 5, 2], { generator: new Generator(7), dtype: 'float64' });
  for (const dims of [[0], [1, 2], [2, 3], [0, 1, 2, 3], [1, 3]]) {
    // the oracle: the same sum computed one dim at a time from the highest, keepdim, on a strided view
    let expected = x.transpose(0, 1).transpose(0, 1);
    for (const d of [...dims].sort((a, b) => b - a)) expected = expected.sum(d, true);
    close(x.sum(dims, true), expected, 1e-12, `sum over [${dims}]`);
  }
  // max over one dim (the kernel's inner stride > 1): the elementwise maximum of the slices along it
  for (let d = 0; d < x.ndim; d++) {
    let expected = x.slice(d, 0, 1);
    for (let i = 1; i < x.shape[d]; i++) expected = expected.maximum(x.slice(d, i, i + 1));
    close(x.max(d), expected.squeeze(d), 0, `max over ${d}`);
  }
});

test('matmul with a transposed operand gives the leaf a contiguous gradient equal to the plain one', () => {
  const gen = new Generator(9);
  const x = Tensor.randn([5, 3], { generator: gen, dtype: 'float64', requiresGrad: true });
  const w = Tensor.randn([4, 3], { generator: gen, dtype: 'float64', requiresGrad: true });
  const g = Tensor.randn([5, 4], { generator: gen, dtype: 'float64' });
  x.matmul(w.transpose(0, 1)).backward(g);
  assert.equal(w.grad!.isContiguous(), true);
  close(w.grad!, g.transpose(0, 1).matmul(x.detach()), 1e-12, 'dW = gᵀx');
  close(x.grad!, g.matmul(w.detach()), 1e-12, 'dx = gW');
  // transposed on the left: (Wᵀ)·v
  const v = Tensor.randn([4, 2], { generator: gen, dtype: 'float64' });
  const h = Tensor.randn([3, 2], { generator: gen, dtype: 'float64' });
  w.grad = null;
  w.transpose(0, 1).matmul(v).backward(h);
  close(w.grad!, v.matmul(h.transpose(0, 1)), 1e-12, 'd(Wᵀv)/dW = v hᵀ');
});

test('.grad takes a gradient made in backward without a copy, but never one that another leaf holds', () => {
  // mul's backward makes one fresh tensor g·c, which add's backward hands to both p and q.
  const p = tensor([1, 2, 3], { requiresGrad: true });
  const q = tensor([4, 5, 6], { requiresGrad: true });
  const c = tensor([2, 3, 4]);
  p.add(q).mul(c).sum().backward();
  assert.notEqual(p.grad!.storage, q.grad!.storage);
  assert.equal(p.grad!.storage.data.length, 3);
  noGrad(() => p.grad!.mul_(10));
  assert.deepEqual(q.grad!.toArray(), [2, 3, 4]);
  assert.deepEqual(p.grad!.toArray(), [20, 30, 40]);
  // A leaf used twice gets the sum of both contributions, in memory of its own.
  const a = tensor([1, 2], { requiresGrad: true });
  const b = tensor([3, 4], { requiresGrad: true });
  a.mul(b).add(a.mul(2)).sum().backward();
  assert.deepEqual(a.grad!.toArray(), [5, 6]);
  assert.deepEqual(b.grad!.toArray(), [1, 2]);
  // A gradient the caller passed in is still copied, even when it reaches the leaf untouched.
  const w = tensor([1, 2], { requiresGrad: true });
  const given = tensor([7, 8]);
  w.backward(given);
  noGrad(() => w.grad!.add_(tensor([1, 1])));
  assert.deepEqual(given.toArray(), [7, 8]);
});
