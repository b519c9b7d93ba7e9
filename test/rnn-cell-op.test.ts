/**
 * lstmCell (src/ops/rnn.ts) beyond its op fixtures (test/fixtures/ops.json holds it against PyTorch's
 * composed gates): the fused kernels against lstmCellComposed, values and gradients in float32 and
 * float64, second derivatives through its backward (createGraph), and its errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Generator, lstmCell, lstmCellComposed, Tensor } from '../src/index.js';

const g = new Generator(5);
const close = (a: Tensor, b: Tensor, tol: number, what: string) => {
  const x = Array.from(a.toTypedArray());
  const y = Array.from(b.toTypedArray());
  assert.equal(x.length, y.length, what);
  x.forEach((v, i) => assert.ok(Math.abs(v - y[i]) <= tol * (1 + Math.abs(y[i])), `${what}[${i}]: ${v} vs ${y[i]}`));
};

test('lstmCell: the fused kernels against the composed gates, values and gradients through H and C', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    const tol = dtype === 'float32' ? 2e-6 : 1e-12;
    for (const [B, h] of [[1, 1], [4, 7], [32, 64], [64, 256]]) {
      const z0 = Tensor.randn([B, 4 * h], { dtype, generator: g }).mul(3);
      const c0 = Tensor.randn([B, h], { dtype, generator: g });
      const [rh, rc] = [Tensor.randn([B, h], { dtype, generator: g }), Tensor.randn([B, h], { dtype, generator: g })];
      const run = (f: typeof lstmCell) => {
        const [z, c] = [z0.clone().requiresGrad_(), c0.clone().requiresGrad_()];
        const y = f(z, c);
        // a loss that reaches both halves: H through rh, C through rc
        y.narrow(1, 0, h).mul(rh).sum().add(y.narrow(1, h, h).mul(rc).sum()).backward();
        return [y, z.grad!, c.grad!];
      };
      const mine = run(lstmCell);
      const want = run(lstmCellComposed);
      ['out', 'dz', 'dc'].forEach((name, i) => close(mine[i], want[i], tol, `${name} ${dtype} (${B}, ${h})`));
    }
  }
});

test('lstmCell: second derivatives (createGraph) equal those of the composed gates', () => {
  const z0 = Tensor.randn([3, 8], { dtype: 'float64', generator: g });
  const c0 = Tensor.randn([3, 2], { dtype: 'float64', generator: g });
  const r = Tensor.randn([3, 4], { dtype: 'float64', generator: g });
  const secondOrder = (f: typeof lstmCell) => {
    const [z, c] = [z0.clone().requiresGrad_(), c0.clone().requiresGrad_()];
    f(z, c).mul(r).sum().backward(undefined, { createGraph: true });
    const gz = z.grad!;
    z.grad = null;
    c.grad = null;
    gz.mul(gz).sum().backward();
    return [z.grad!, c.grad!];
  };
  const mine = secondOrder(lstmCell);
  const want = secondOrder(lstmCellComposed);
  close(mine[0], want[0], 1e-10, 'd²/dz²');
  close(mine[1], want[1], 1e-10, 'd²/dz dc');
});

test('lstmCell errors say what was expected and what came', () => {
  assert.throws(() => lstmCell(Tensor.zeros([2, 6]), Tensor.zeros([2, 2])), /expected gate pre-activations of shape \(B, 4h\), got \[2, 6\]/);
  assert.throws(() => lstmCell(Tensor.zeros([2, 8]), Tensor.zeros([3, 2])), /expected a cell of shape \(2, 2\) for gates \[2, 8\], got \[3, 2\]/);
  assert.throws(() => lstmCell(Tensor.zeros([2, 8]), Tensor.zeros([2, 2], { dtype: 'float64' })), /gates are float32 but the cell is float64/);
  assert.throws(() => lstmCell(Tensor.zeros([2, 8], { dtype: 'int32' }), Tensor.zeros([2, 2], { dtype: 'int32' })), /float/);
});
