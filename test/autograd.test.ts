/**
 * The autograd engine: accumulation into .grad, explicit output gradients, noGrad/detach, retainGrad,
 * retainGraph, shared subexpressions, deep graphs and higher-order gradients. Expected gradients are
 * derived by hand in the comments.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, tensor, ones, zeros, noGrad, isGradEnabled, pow } from '../src/index.js';

test('gradients accumulate in .grad across two backward calls', () => {
  const x = tensor([1, 2, 3], { requiresGrad: true });
  // d/dx Σ x² = 2x
  x.mul(x).sum().backward();
  assert.deepEqual(x.grad!.toArray(), [2, 4, 6]);
  // A second, separate graph adds to it: d/dx Σ 3x = 3.
  x.mul(3).sum().backward();
  assert.deepEqual(x.grad!.toArray(), [5, 7, 9]);
  // Clearing .grad starts afresh.
  x.grad = null;
  x.sum().backward();
  assert.deepEqual(x.grad!.toArray(), [1, 1, 1]);
});

test('.grad owns its storage: contiguous, not aliased to other grads or to the given gradient', () => {
  // sum's backward expands a scalar (stride 0); add's backward hands one tensor to both inputs.
  const a = tensor([1, 2, 3], { requiresGrad: true });
  const b = tensor([4, 5, 6], { requiresGrad: true });
  a.add(b).sum().backward();
  assert.equal(a.grad!.isContiguous(), true);
  assert.notEqual(a.grad!.storage, b.grad!.storage);
  // An optimiser-style in-place update of one gradient leaves the other alone.
  noGrad(() => a.grad!.add_(tensor([10, 20, 30])));
  assert.deepEqual(a.grad!.toArray(), [11, 21, 31]);
  assert.deepEqual(b.grad!.toArray(), [1, 1, 1]);
  // A view's backward passes the caller's gradient through: .grad must still be a copy.
  const w = tensor([1, 2], { requiresGrad: true });
  const given = tensor([[1, 1]]);
  w.view([1, 2]).backward(given);
  noGrad(() => w.grad!.mul_(5));
  assert.deepEqual(given.toArray(), [[1, 1]]);
});

test('backward with an explicit gradient computes a vector–Jacobian product', () => {
  const x = tensor([1, 2, 3], { requiresGrad: true });
  const y = x.mul(x); // dy_i/dx_i = 2 x_i
  y.backward(tensor([1, 0.5, -1]));
  assert.deepEqual(x.grad!.toArray(), [2, 2, -6]);
  // On a leaf itself, the gradient is the one given.
  const l = tensor([[1, 2]], { requiresGrad: true });
  l.backward(tensor([[3, 4]]));
  assert.deepEqual(l.grad!.toArray(), [[3, 4]]);
});

test('noGrad records no graph and restores the mode afterwards (even on a throw)', () => {
  const x = tensor([1, 2], { requiresGrad: true });
  const y = noGrad(() => x.mul(2).add(1));
  assert.equal(y.gradFn, null);
  assert.equal(y.requiresGrad, false);
  assert.deepEqual(y.toArray(), [3, 5]);
  assert.equal(isGradEnabled(), true);
  assert.throws(() => noGrad(() => { throw new Error('inside'); }), /inside/);
  assert.equal(isGradEnabled(), true);
  // Nested: the inner call leaves the outer mode alone.
  noGrad(() => {
    noGrad(() => undefined);
    assert.equal(isGradEnabled(), false);
  });
  // Outside noGrad the same expression records.
  assert.notEqual(x.mul(2).gradFn, null);
});

test('detach cuts the graph and shares the data', () => {
  const x = tensor([1, 2, 3], { requiresGrad: true });
  const d = x.mul(2).detach();
  assert.equal(d.requiresGrad, false);
  assert.equal(d.gradFn, null);
  // y = x · detach(2x): the detached factor is a constant, so dy/dx = 2x (not 4x).
  x.mul(d).sum().backward();
  assert.deepEqual(x.grad!.toArray(), [2, 4, 6]);
  const same = x.detach();
  assert.equal(same.storage, x.storage);
});

test('requiresGrad is refused on int32 and bool tensors', () => {
  assert.throws(() => zeros([2], { dtype: 'int32', requiresGrad: true }), /floating-point.*int32/);
  assert.throws(() => tensor([true]).requiresGrad_(), /floating-point.*bool/);
  const i = tensor([1], { dtype: 'int32' });
  assert.throws(() => (i.requiresGrad = true), /int32/);
  assert.equal(i.requiresGrad, false);
  // float64 is fine.
  assert.equal(zeros([2], { dtype: 'float64', requiresGrad: true }).requiresGrad, true);
});

test('retainGrad keeps the gradient of a non-leaf; others keep none', () => {
  const x = tensor([1, 2], { requiresGrad: true });
  const h = x.mul(3).retainGrad();
  const k = h.mul(h); // not retained
  k.sum().backward();
  // dk/dh = 2h = 6x; dk/dx = 18x
  assert.deepEqual(h.grad!.toArray(), [6, 12]);
  assert.equal(k.grad, null);
  assert.deepEqual(x.grad!.toArray(), [18, 36]);
  assert.equal(h.isLeaf, false);
});

test('retainGraph allows a second backward through the same graph', () => {
  const x = tensor([2], { requiresGrad: true });
  const y = x.mul(x).mul(x).sum(); // dy/dx = 3x² = 12
  y.backward(undefined, { retainGraph: true });
  assert.deepEqual(x.grad!.toArray(), [12]);
  y.backward();
  assert.deepEqual(x.grad!.toArray(), [24]);
  // The second backward freed it.
  assert.throws(() => y.backward(), /second time/);
});

test('a diamond graph (x used on two paths) sums the gradients of both paths', () => {
  const x = tensor([1, 2, 3], { requiresGrad: true });
  const a = x.mul(2); // path 1
  const b = x.exp(); // path 2
  const c = a.mul(b); // c = 2x·eˣ, dc/dx = 2eˣ + 2x·eˣ
  c.sum().backward();
  const g = x.grad!.toArray() as number[];
  [1, 2, 3].forEach((v, i) => {
    const expected = Math.fround(2 * Math.exp(v) + 2 * v * Math.exp(v));
    assert.ok(Math.abs(g[i] - expected) <= 1e-5 * expected, `x = ${v}: ${g[i]} vs ${expected}`);
  });
  // The same tensor twice in one op: d(x·x)/dx = 2x.
  const y = tensor([5], { requiresGrad: true });
  y.mul(y).sum().backward();
  assert.deepEqual(y.grad!.toArray(), [10]);
  // A shared intermediate used by three consumers: h = x + 1; out = h + 2h + h·h → 3 + 2h.
  const z = tensor([1, -1], { requiresGrad: true });
  const h = z.add(1);
  h.add(h.mul(2)).add(h.mul(h)).sum().backward();
  assert.deepEqual(z.grad!.toArray(), [7, 3]);
});

test('a chain of 10,000 ops runs backward without overflowing the stack', () => {
  const x = tensor([1, 2], { requiresGrad: true, dtype: 'float64' });
  let y: Tensor = x;
  for (let i = 0; i < 10_000; i++) y = y.add(1);
  // y = x + 10000, dy/dx = 1
  y.sum().backward();
  assert.deepEqual(x.grad!.toArray(), [1, 1]);
  assert.deepEqual(y.toArray(), [10_001, 10_002]);
});

test('createGraph records the backward pass: the second derivative of x³ is 6x', () => {
  const x = tensor([1, 2, -3], { requiresGrad: true, dtype: 'float64' });
  x.mul(x).mul(x).sum().backward(undefined, { createGraph: true });
  const dx = x.grad!;
  assert.deepEqual(dx.toArray(), [3, 12, 27]); // 3x²
  assert.equal(dx.requiresGrad, true, 'with createGraph the gradient is itself differentiable');
  x.grad = null;
  dx.sum().backward();
  assert.deepEqual(x.grad!.toArray(), [6, 12, -18]); // 6x
  // Without createGraph the gradient is a plain tensor.
  const w = tensor([1], { requiresGrad: true });
  w.mul(w).sum().backward();
  assert.equal(w.grad!.requiresGrad, false);
});

test('createGraph: second derivatives of the ops that save their output (exp, sqrt, sigmoid, tanh, pow)', () => {
  const xs = [0.3, 1.7, 2.5];
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  const cases: [string, (x: Tensor) => Tensor, (v: number) => number][] = [
    ['exp', (x) => x.exp(), (v) => Math.exp(v)],
    ['sqrt', (x) => x.sqrt(), (v) => -0.25 * v ** -1.5],
    ['sigmoid', (x) => x.sigmoid(), (v) => sig(v) * (1 - sig(v)) * (1 - 2 * sig(v))],
    ['tanh', (x) => x.tanh(), (v) => -2 * Math.tanh(v) * (1 - Math.tanh(v) ** 2)],
    ['pow (exponent)', (x) => pow(2, x), (v) => 2 ** v * Math.LN2 ** 2],
  ];
  for (const [name, f, second] of cases) {
    const x = tensor(xs, { requiresGrad: true, dtype: 'float64' });
    f(x).sum().backward(undefined, { createGraph: true });
    const dx = x.grad!;
    x.grad = null;
    dx.sum().backward();
    const got = x.grad!.toArray() as number[];
    xs.forEach((v, i) => assert.ok(Math.abs(got[i] - second(v)) < 1e-12 * (1 + Math.abs(second(v))), `${name}'' at ${v}: ${got[i]} vs ${second(v)}`));
  }
});

test('gradients flow only into tensors that require them', () => {
  const x = tensor([1, 2], { requiresGrad: true });
  const c = ones([2]);
  x.mul(c).sum().backward();
  assert.equal(c.grad, null);
  assert.deepEqual(x.grad!.toArray(), [1, 1]);
  // Broadcasting sums back to the input's shape: x (2,) added to a (3, 2) matrix.
  const b = tensor([0, 0], { requiresGrad: true });
  b.add(zeros([3, 2])).sum().backward();
  assert.deepEqual(b.grad!.toArray(), [3, 3]);
});
