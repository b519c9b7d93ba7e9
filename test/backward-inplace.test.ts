/**
 * Backward sums gradients in place where it owns the running gradient, and keeps slices' gradients
 * partial until they reach one (src/autograd/backward.ts). The oracle is the same backward recorded
 * (createGraph), which takes neither shortcut: every sum is a new tensor and every slice's gradient a
 * zero tensor of the input's size.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Generator, Tensor } from '../src/index.js';

const g = new Generator(11);

/** The leaves' gradients after f().backward(), plain and recorded. */
function both(leaves: () => Tensor[], f: (xs: Tensor[]) => Tensor): [number[][], number[][]] {
  const run = (createGraph: boolean) => {
    const xs = leaves().map((x) => x.clone().requiresGrad_(true));
    f(xs).backward(undefined, { createGraph });
    return xs.map((x) => Array.from(x.grad!.toTypedArray()));
  };
  return [run(false), run(true)];
}

function same(plain: number[][], recorded: number[][], what: string): void {
  plain.forEach((gs, i) => gs.forEach((v, j) => assert.ok(Math.abs(v - recorded[i][j]) <= 1e-12 * (1 + Math.abs(recorded[i][j])), `${what}: leaf ${i}[${j}] ${v} vs ${recorded[i][j]}`)));
}

test('a recurrent loop over slices of a precomputed (T, B, G) tensor and of its gates', () => {
  const [T, B, I, H] = [6, 3, 4, 5];
  const x0 = Tensor.randn([T, B, I], { dtype: 'float64', generator: g });
  const w0 = Tensor.randn([I, 2 * H], { dtype: 'float64', generator: g });
  const u0 = Tensor.randn([H, 2 * H], { dtype: 'float64', generator: g });
  const [plain, recorded] = both(() => [x0, w0, u0], ([x, w, u]) => {
    const xs = x.reshape([T * B, I]).matmul(w).reshape([T, B, 2 * H]);
    let h = Tensor.zeros([B, H], { dtype: 'float64' });
    let loss = Tensor.scalar(0, 'float64');
    for (let t = 0; t < T; t++) {
      const z = xs.narrow(0, t, 1).squeeze(0).add(h.matmul(u));
      h = z.narrow(1, 0, H).sigmoid().mul(z.narrow(1, H, H).tanh());
      loss = loss.add(h.mul(h).sum());
    }
    return loss;
  });
  same(plain, recorded, 'recurrent loop');
});

test('gradients that alias: add(a, a), overlapping and strided slices, a leaf reached both ways', () => {
  const x0 = Tensor.randn([6, 4], { dtype: 'float64', generator: g });
  const [plain, recorded] = both(() => [x0], ([x]) => {
    const a = x.mul(2);
    const b = a.add(a); // the same gradient tensor for both operands
    const s1 = a.narrow(0, 1, 3).mul(a.narrow(0, 2, 3)); // overlapping rows
    const s2 = b.slice(1, 0, 4, 2).exp(); // strided columns
    const s3 = x.narrow(0, 0, 2).sum(); // a slice of the leaf itself
    return s1.sum().add(s2.sum()).add(s3).add(x.sum()).add(b.narrow(1, 3, 1).pow(2).sum());
  });
  same(plain, recorded, 'aliasing');
});

test('retainGrad on a tensor whose gradient arrives in slices, and the caller\'s gradient left as it was', () => {
  const x = Tensor.randn([4, 3], { dtype: 'float64', generator: g }).requiresGrad_(true);
  const y = x.mul(3);
  y.retainGrad();
  const r = Tensor.randn([2, 3], { dtype: 'float64', generator: g });
  const before = Array.from(r.toTypedArray());
  // windows of rows 0..1, 2..3 and 1..2
  y.narrow(0, 0, 2).add(y.narrow(0, 2, 2)).add(y.narrow(0, 1, 2)).backward(r);
  const rv = (i: number, j: number) => before[i * 3 + j];
  const [yg, xg] = [y.grad!.toTypedArray(), x.grad!.toTypedArray()];
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j < 3; j++) {
      const v = (i <= 1 ? rv(i, j) : 0) + (i >= 2 ? rv(i - 2, j) : 0) + (i >= 1 && i <= 2 ? rv(i - 1, j) : 0);
      assert.ok(Math.abs(yg[i * 3 + j] - v) < 1e-12, `y.grad[${i}, ${j}] ${yg[i * 3 + j]} vs ${v}`);
      assert.ok(Math.abs(xg[i * 3 + j] - 3 * v) < 1e-12, `x.grad[${i}, ${j}] ${xg[i * 3 + j]} vs ${3 * v}`);
    }
  }
  assert.deepEqual(Array.from(r.toTypedArray()), before);
});

test('weights used at every step: products accumulated into a leaf\'s .grad and into a transposed view\'s running gradient', () => {
  const [T, B, H] = [5, 3, 4];
  const x0 = Tensor.randn([B, H], { dtype: 'float64', generator: g });
  const u0 = Tensor.randn([H, H], { dtype: 'float64', generator: g });
  const w0 = Tensor.randn([H, H], { dtype: 'float64', generator: g });
  const [plain, recorded] = both(() => [x0, u0, w0], ([x, u, w]) => {
    let h = x;
    let loss = Tensor.scalar(0, 'float64');
    for (let t = 0; t < T; t++) {
      h = h.matmul(u).tanh().matmul(w.transpose(0, 1)); // u a leaf, w through a transposed view (Linear's layout)
      h = h.add(h.matmul(u)); // a product whose output's gradient is also its input's (the sum's operands)
      loss = loss.add(h.mul(h).sum());
    }
    return loss.add(x.matmul(u).sum()); // the leaf x reached by a product and by the loop
  });
  same(plain, recorded, 'shared weights');
});
