/**
 * lstmCell, gruGates and gruUpdate (src/ops/rnn.ts) beyond their op fixtures (test/fixtures/ops.json holds
 * them against PyTorch's composed gates): the fused kernels against the composed definitions, values and gradients in float32 and
 * float64, second derivatives through its backward (createGraph), and its errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Generator, gruGates, gruGatesComposed, gruUpdate, gruUpdateComposed, lstmCell, lstmCellComposed, Tensor } from '../src/index.js';
import { close } from './close.js';

const g = new Generator(5);

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

test('gruGates and gruUpdate: the fused kernels against the composed ones, values and gradients', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    const tol = dtype === 'float32' ? 2e-6 : 1e-12;
    for (const [B, h] of [[1, 1], [4, 7], [64, 32], [64, 256]]) {
      const a0 = Tensor.randn([B, 2 * h], { dtype, generator: g }).mul(3);
      const rz0 = Tensor.randn([B, 2 * h], { dtype, generator: g });
      const h0 = Tensor.randn([B, h], { dtype, generator: g });
      const m0 = Tensor.randn([B, h], { dtype, generator: g });
      const r = Tensor.randn([B, 2 * h], { dtype, generator: g });
      const run = (gates: typeof gruGates, update: typeof gruUpdate) => {
        const [a, rz, H, m] = [a0.clone().requiresGrad_(), rz0.clone().requiresGrad_(), h0.clone().requiresGrad_(), m0.clone().requiresGrad_()];
        const zrh = gates(a, rz, H);
        // the update reads Z from the gates, and the state: gradients reach H by three paths
        const Hn = update(a.narrow(1, 0, h), m, zrh.narrow(1, 0, h), H);
        zrh.mul(r).sum().add(Hn.mul(Hn).sum()).backward();
        return [zrh, Hn, a.grad!, rz.grad!, H.grad!, m.grad!];
      };
      const mine = run(gruGates, gruUpdate);
      const want = run(gruGatesComposed, gruUpdateComposed);
      ['[Z | RH]', 'H_t', 'da', 'drz', 'dH', 'dm'].forEach((name, i) => close(mine[i], want[i], tol, `${name} ${dtype} (${B}, ${h})`));
    }
  }
});

test('gruGates and gruUpdate: second derivatives (createGraph) equal those of the composed ones', () => {
  const a0 = Tensor.randn([3, 4], { dtype: 'float64', generator: g });
  const rz0 = Tensor.randn([3, 4], { dtype: 'float64', generator: g });
  const h0 = Tensor.randn([3, 2], { dtype: 'float64', generator: g });
  const m0 = Tensor.randn([3, 2], { dtype: 'float64', generator: g });
  const secondOrder = (gates: typeof gruGates, update: typeof gruUpdate) => {
    const [a, rz, H, m] = [a0.clone().requiresGrad_(), rz0.clone().requiresGrad_(), h0.clone().requiresGrad_(), m0.clone().requiresGrad_()];
    const zrh = gates(a, rz, H);
    update(a.narrow(1, 2, 2), m, zrh.narrow(1, 0, 2), zrh.narrow(1, 2, 2)).sum().backward(undefined, { createGraph: true });
    const ga = a.grad!;
    a.grad = null;
    H.grad = null;
    ga.mul(ga).sum().backward();
    return [a.grad!, H.grad!];
  };
  const mine = secondOrder(gruGates, gruUpdate);
  const want = secondOrder(gruGatesComposed, gruUpdateComposed);
  close(mine[0], want[0], 1e-10, 'd²/da²');
  close(mine[1], want[1], 1e-10, 'd²/da dH');
});

test('gruGates and gruUpdate errors say what was expected and what came', () => {
  assert.throws(() => gruGates(Tensor.zeros([2, 6]), Tensor.zeros([2, 4]), Tensor.zeros([2, 2])), /gruGates: expected a of shape \(2, 4\) for H \[2, 2\], got \[2, 6\]/);
  assert.throws(() => gruUpdate(Tensor.zeros([2, 2]), Tensor.zeros([2, 2]), Tensor.zeros([3, 2]), Tensor.zeros([2, 2])), /gruUpdate: expected Z of shape \(2, 2\) for H \[2, 2\], got \[3, 2\]/);
  assert.throws(() => gruUpdate(Tensor.zeros([2, 2], { dtype: 'float64' }), Tensor.zeros([2, 2]), Tensor.zeros([2, 2]), Tensor.zeros([2, 2])), /H is float32 but xh is float64/);
});
