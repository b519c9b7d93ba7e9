/**
 * The Tensor core: dtypes and promotion, views that share storage, creation functions, data access,
 * printing, casts and size-0 tensors. Expected values are worked out by hand (or follow PyTorch's
 * documented rules, named beside each case).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, tensor, zeros, ones, full, arange, linspace, eye, cat, noGrad } from '../src/index.js';

/** a and b are views of one buffer: same Storage object, and a write through a shows in b. */
function assertSharesStorage(a: Tensor, b: Tensor): void {
  assert.equal(a.storage, b.storage, 'expected the two tensors to share one storage');
}

// ---------- dtypes ----------

test('float32 is the default dtype; float64 and int32 on request; comparisons give bool', () => {
  assert.equal(tensor([1, 2]).dtype, 'float32');
  assert.equal(zeros([2]).dtype, 'float32');
  assert.ok(tensor([1, 2]).storage.data instanceof Float32Array);
  const d = tensor([1, 2], { dtype: 'float64' });
  assert.equal(d.dtype, 'float64');
  assert.ok(d.storage.data instanceof Float64Array);
  const i = tensor([1, 2], { dtype: 'int32' });
  assert.equal(i.dtype, 'int32');
  assert.ok(i.storage.data instanceof Int32Array);
  const c = tensor([1, 2, 3]).gt(2);
  assert.equal(c.dtype, 'bool');
  assert.deepEqual(c.toArray(), [false, false, true]);
  assert.equal(tensor([true, false]).dtype, 'bool');
});

test('bool tensors store only 0 and 1', () => {
  // A cast to bool means "non-zero" (PyTorch): 0.5 is true, -1 is true (not 255), NaN is true.
  const b = tensor([0, 0.5, 2, -1, NaN, -0]).to('bool');
  assert.deepEqual(Array.from(b.storage.data), [0, 1, 1, 1, 1, 0]);
  assert.deepEqual(Array.from(tensor([0, 3], { dtype: 'bool' }).storage.data), [0, 1]);
  assert.deepEqual(Array.from(full([2], 7, { dtype: 'bool' }).storage.data), [1, 1]);
  // So that equality and counting behave: true == true, and a sum counts the trues.
  assert.deepEqual(tensor([0, 2]).to('bool').eq(tensor([true, true])).toArray(), [false, true]);
  assert.equal(tensor([0, 0.5, 2, -1]).to('bool').sum().item(), 3);
  // bool + bool is logical or (PyTorch), still bool.
  const s = tensor([true, true, false]).add(tensor([true, false, false]));
  assert.equal(s.dtype, 'bool');
  assert.deepEqual(Array.from(s.storage.data), [1, 1, 0]);
});

test('type promotion follows PyTorch: bool < int32 < float32 < float64, scalars do not widen floats', () => {
  const i = tensor([1, 2], { dtype: 'int32' });
  const f = tensor([0.5, 0.25]);
  const d = tensor([0.5, 0.25], { dtype: 'float64' });

  const if32 = i.add(f);
  assert.equal(if32.dtype, 'float32');
  assert.deepEqual(if32.toArray(), [1.5, 2.25]);

  const fd = f.add(d);
  assert.equal(fd.dtype, 'float64');
  assert.deepEqual(fd.toArray(), [1, 0.5]);

  // A JS number is a "scalar": float32 * 0.5 stays float32 (not float64).
  assert.equal(f.mul(0.5).dtype, 'float32');
  assert.equal(d.mul(0.5).dtype, 'float64');
  // An integer scalar keeps int32; a fractional one turns int32 into float32.
  assert.equal(i.add(3).dtype, 'int32');
  assert.deepEqual(i.add(3).toArray(), [4, 5]);
  assert.equal(i.mul(0.5).dtype, 'float32');
  assert.deepEqual(i.mul(0.5).toArray(), [0.5, 1]);
  // bool with an integer: int32.
  assert.equal(tensor([true, false]).add(tensor([2, 2], { dtype: 'int32' })).dtype, 'int32');

  // True division: int / int gives float32 (7 / 2 = 3.5, not 3).
  const q = tensor([7, -7], { dtype: 'int32' }).div(tensor([2, 2], { dtype: 'int32' }));
  assert.equal(q.dtype, 'float32');
  assert.deepEqual(q.toArray(), [3.5, -3.5]);
  assert.equal(tensor([7], { dtype: 'int32' }).div(2).dtype, 'float32');
});

test('to(dtype) casts: float → int32 truncates toward zero, int32 → float is exact, same dtype is a no-op', () => {
  const x = tensor([1.7, -1.7, 2.5, -0.2]);
  const i = x.to('int32');
  assert.equal(i.dtype, 'int32');
  assert.deepEqual(i.toArray(), [1, -1, 2, 0]);
  const back = i.to('float64');
  assert.equal(back.dtype, 'float64');
  assert.deepEqual(back.toArray(), [1, -1, 2, 0]);
  assert.equal(x.to('float32'), x, 'a cast to the same dtype returns the tensor itself');
  // float64 → float32 rounds to the nearest float32.
  assert.equal(tensor([0.1], { dtype: 'float64' }).to('float32').item(), Math.fround(0.1));
  assert.equal(tensor([true, false]).to('float32').dtype, 'float32');
  assert.deepEqual(tensor([true, false]).to('float32').toArray(), [1, 0]);
  assert.equal(x.double().dtype, 'float64');
  assert.equal(i.float().dtype, 'float32');
  // A float cast is recorded, so gradients flow from float64 back to float32.
  const p = tensor([1, 2], { requiresGrad: true });
  p.to('float64').mul(tensor([3, 4], { dtype: 'float64' })).sum().backward();
  assert.equal(p.grad!.dtype, 'float32');
  assert.deepEqual(p.grad!.toArray(), [3, 4]);
});

// ---------- views ----------

test('reshape and view of contiguous data are views: shared storage, no copy', () => {
  const x = arange(6, undefined, 1, { dtype: 'float32' });
  const v = x.view([2, 3]);
  const r = x.reshape([3, 2]);
  assertSharesStorage(x, v);
  assertSharesStorage(x, r);
  assert.deepEqual(v.strides, [3, 1]);
  assert.deepEqual(r.strides, [2, 1]);
  noGrad(() => v.slice(0, 1, 2).fill_(-1)); // row 1 of the (2, 3) view = elements 3, 4, 5
  assert.deepEqual(x.toArray(), [0, 1, 2, -1, -1, -1]);
  assert.deepEqual(r.toArray(), [[0, 1], [2, -1], [-1, -1]]);
  // -1 infers a size.
  assert.deepEqual(x.view([-1, 2]).shape, [3, 2]);
});

test('permute and transpose swap strides over the same storage', () => {
  const x = arange(24, undefined, 1, { dtype: 'float32' }).view([2, 3, 4]); // strides (12, 4, 1)
  const p = x.permute([2, 0, 1]);
  assertSharesStorage(x, p);
  assert.deepEqual(p.shape, [4, 2, 3]);
  assert.deepEqual(p.strides, [1, 12, 4]);
  assert.equal(p.isContiguous(), false);
  const t = x.transpose(0, 2);
  assert.deepEqual(t.shape, [4, 3, 2]);
  assert.deepEqual(t.strides, [1, 4, 12]);
  // Element [k][i][j] of p is x[i][j][k] = 12i + 4j + k.
  assert.deepEqual((p.toArray() as number[][][])[3][1][2], 12 * 1 + 4 * 2 + 3);
  // Writing through the transposed view lands at the transposed place.
  noGrad(() => t.narrow(0, 1, 1).narrow(1, 2, 1).narrow(2, 0, 1).fill_(100)); // t[1][2][0] = x[0][2][1]
  assert.equal((x.toArray() as number[][][])[0][2][1], 100);
  // The 2-D .T
  const m = tensor([[1, 2, 3], [4, 5, 6]]);
  assert.deepEqual(m.T.toArray(), [[1, 4], [2, 5], [3, 6]]);
  assert.deepEqual(m.T.strides, [1, 3]);
  assertSharesStorage(m, m.T);
});

test('slice with a step and narrow are views with an offset and scaled strides', () => {
  const x = arange(10, undefined, 1, { dtype: 'float32' });
  const s = x.slice(0, 1, 8, 3); // 1, 4, 7
  assertSharesStorage(x, s);
  assert.deepEqual(s.toArray(), [1, 4, 7]);
  assert.deepEqual(s.strides, [3]);
  assert.equal(s.offset, 1);
  noGrad(() => s.copy_(tensor([-1, -4, -7])));
  assert.deepEqual(x.toArray(), [0, -1, 2, 3, -4, 5, 6, -7, 8, 9]);
  // Negative bounds count from the end, as in Python: x[-3:] = 7, 8, 9 (7 now -7).
  assert.deepEqual(x.slice(0, -3).toArray(), [-7, 8, 9]);

  const m = arange(12, undefined, 1, { dtype: 'float32' }).view([3, 4]);
  const n = m.narrow(1, 1, 2); // columns 1..2
  assertSharesStorage(m, n);
  assert.deepEqual(n.shape, [3, 2]);
  assert.deepEqual(n.strides, [4, 1]);
  assert.equal(n.offset, 1);
  assert.deepEqual(n.toArray(), [[1, 2], [5, 6], [9, 10]]);
  noGrad(() => n.fill_(0));
  assert.deepEqual(m.toArray(), [[0, 0, 0, 3], [4, 0, 0, 7], [8, 0, 0, 11]]);
});

test('expand gives stride 0 on broadcast dims and shares storage', () => {
  const col = tensor([[1], [2], [3]]); // (3, 1)
  const e = col.expand([2, 3, 4]);
  assertSharesStorage(col, e);
  assert.deepEqual(e.shape, [2, 3, 4]);
  assert.deepEqual(e.strides, [0, 1, 0]);
  assert.deepEqual((e.toArray() as number[][][])[1][2], [3, 3, 3, 3]);
  noGrad(() => col.narrow(0, 2, 1).fill_(9)); // change the source: every copy in the view changes
  assert.deepEqual((e.toArray() as number[][][])[0][2], [9, 9, 9, 9]);
  // -1 keeps a size.
  assert.deepEqual(col.expand([-1, 5]).shape, [3, 5]);
});

test('squeeze and unsqueeze are views', () => {
  const x = zeros([1, 3, 1]);
  const s = x.squeeze();
  assertSharesStorage(x, s);
  assert.deepEqual(s.shape, [3]);
  assert.deepEqual(x.squeeze(0).shape, [3, 1]);
  assert.deepEqual(x.squeeze(1).shape, [1, 3, 1], 'squeezing a dim of size 3 changes nothing');
  const u = s.unsqueeze(0).unsqueeze(-1);
  assertSharesStorage(x, u);
  assert.deepEqual(u.shape, [1, 3, 1]);
  noGrad(() => u.copy_(tensor([[[1], [2], [3]]])));
  assert.deepEqual(s.toArray(), [1, 2, 3]);
  // unsqueeze of a transposed (non-contiguous) tensor keeps its element order.
  const m = tensor([[1, 2, 3], [4, 5, 6]]).T; // (3, 2) strides (1, 3)
  const mu = m.unsqueeze(1);
  assert.deepEqual(mu.shape, [3, 1, 2]);
  assert.deepEqual(mu.toArray(), [[[1, 4]], [[2, 5]], [[3, 6]]]);
});

test('contiguous() copies only when needed; reshape of a non-contiguous tensor copies', () => {
  const x = tensor([[1, 2, 3], [4, 5, 6]]);
  assert.equal(x.isContiguous(), true);
  assert.equal(x.contiguous(), x, 'a contiguous tensor is returned as is');
  const t = x.T;
  assert.equal(t.isContiguous(), false);
  const c = t.contiguous();
  assert.notEqual(c.storage, x.storage);
  assert.equal(c.isContiguous(), true);
  assert.deepEqual(c.strides, [2, 1]);
  assert.deepEqual(c.toArray(), [[1, 4], [2, 5], [3, 6]]);
  // A row narrowed out of a matrix is contiguous (only an offset): no copy.
  const row = x.narrow(0, 1, 1);
  assert.equal(row.contiguous(), row);

  const r = t.reshape([6]);
  assert.notEqual(r.storage, x.storage, 'reshape of a transposed tensor must copy');
  assert.deepEqual(r.toArray(), [1, 4, 2, 5, 3, 6]);
  noGrad(() => r.fill_(0));
  assert.deepEqual(x.toArray(), [[1, 2, 3], [4, 5, 6]], 'writing the copy leaves the source alone');
});

test('in-place ops bump the shared version counter', () => {
  const x = zeros([4]);
  const v = x.view([2, 2]);
  assert.equal(x.version, 0);
  noGrad(() => v.fill_(1));
  assert.equal(x.version, 1);
  noGrad(() => x.add_(tensor([1, 2, 3, 4])));
  assert.equal(v.version, 2);
  assert.deepEqual(v.toArray(), [[2, 3], [4, 5]]);
  noGrad(() => x.add_(1, 10)); // x + 10·1
  assert.deepEqual(x.toArray(), [12, 13, 14, 15]);
});

test('in-place arithmetic equals the out-of-place op copied in: broadcasting, views, operands sharing the buffer', () => {
  const base = arange(0, 24, 1, { dtype: 'float32' }).reshape([4, 6]);
  const row = tensor([1, -2, 3, -4, 5, -6]);
  const cases: [string, (x: Tensor) => Tensor, (x: Tensor) => Tensor][] = [
    ['add a row', (x) => x.add_(row), (x) => x.add(row)],
    ['add a scaled row', (x) => x.add_(row, 0.5), (x) => x.add(row.mul(0.5))],
    ['sub a column', (x) => x.sub_(tensor([[1], [2], [3], [4]])), (x) => x.sub(tensor([[1], [2], [3], [4]]))],
    ['mul', (x) => x.mul_(base.add(1)), (x) => x.mul(base.add(1))],
    ['div', (x) => x.div_(base.add(1)), (x) => x.div(base.add(1))],
    ['itself', (x) => x.add_(x), (x) => x.add(x)], // the same buffer: out of place, then copied
    ['its transpose', (x) => x.narrow(1, 0, 4).narrow(0, 0, 4).add_(x.narrow(0, 0, 4).narrow(1, 0, 4).T), (x) => x],
  ];
  for (const [what, inPlace, outOfPlace] of cases) {
    const x = base.clone();
    const want = what === 'its transpose' ? null : outOfPlace(x).toArray();
    const v0 = x.version;
    noGrad(() => inPlace(x));
    assert.equal(x.version, v0 + 1, `${what}: version bumped once`);
    if (want !== null) assert.deepEqual(x.toArray(), want, what);
  }
  // a 4×4 block added to its own transpose, read from a snapshot: symmetric afterwards
  const y = base.clone().narrow(1, 0, 4).contiguous();
  const sym = y.add(y.T).toArray();
  noGrad(() => y.add_(y.T));
  assert.deepEqual(y.toArray(), sym);
  // a contiguous view with an offset (rows 1–2), and a strided one (a column, which goes through
  // copy_), each against the out-of-place op copied in
  for (const [what, view, other] of [
    ['rows 1–2', (x: Tensor) => x.narrow(0, 1, 2), row],
    ['column 2', (x: Tensor) => x.narrow(1, 2, 1), tensor([[2], [-2], [2], [-2]])],
  ] as const) {
    const [got, want] = [base.clone(), base.clone()];
    noGrad(() => view(got).mul_(other));
    noGrad(() => view(want).copy_(view(want).mul(other)));
    assert.deepEqual(got.toArray(), want.toArray(), what);
  }
});

// ---------- creation ----------

test('zeros, ones, full', () => {
  assert.deepEqual(zeros([2, 2]).toArray(), [[0, 0], [0, 0]]);
  assert.deepEqual(ones([3], { dtype: 'int32' }).toArray(), [1, 1, 1]);
  assert.equal(ones([3], { dtype: 'int32' }).dtype, 'int32');
  const f = full([2, 1], 2.5, { dtype: 'float64' });
  assert.deepEqual(f.shape, [2, 1]);
  assert.deepEqual(f.toArray(), [[2.5], [2.5]]);
  assert.equal(zeros([]).ndim, 0);
  assert.equal(zeros([]).numel, 1);
  assert.equal(ones([], { requiresGrad: true }).requiresGrad, true);
});

test('arange: int32 for integer arguments, float32 otherwise, negative steps, empty ranges', () => {
  const a = arange(5);
  assert.equal(a.dtype, 'int32');
  assert.deepEqual(a.toArray(), [0, 1, 2, 3, 4]);
  assert.deepEqual(arange(2, 9, 3).toArray(), [2, 5, 8]);
  const f = arange(0, 1, 0.25);
  assert.equal(f.dtype, 'float32');
  assert.deepEqual(f.toArray(), [0, 0.25, 0.5, 0.75]);
  assert.deepEqual(arange(5, 0, -1).toArray(), [5, 4, 3, 2, 1]);
  assert.deepEqual(arange(10, 0, -3).toArray(), [10, 7, 4, 1]);
  assert.deepEqual(arange(1, -1, -0.5).toArray(), [1, 0.5, 0, -0.5]);
  assert.deepEqual(arange(3, 3).shape, [0]);
  assert.deepEqual(arange(3, 0).shape, [0], 'a positive step from 3 down to 0 is empty');
  assert.equal(arange(3, undefined, 1, { dtype: 'float64' }).dtype, 'float64');
});

test('linspace includes both ends and is symmetric', () => {
  assert.deepEqual(linspace(0, 1, 5).toArray(), [0, 0.25, 0.5, 0.75, 1]);
  assert.deepEqual(linspace(1, -1, 5).toArray(), [1, 0.5, 0, -0.5, -1]);
  assert.deepEqual(linspace(3, 7, 1).toArray(), [3]);
  assert.deepEqual(linspace(3, 7, 0).shape, [0]);
  const l = linspace(-1, 1, 7, { dtype: 'float64' }).toArray() as number[];
  // Symmetric around 0: l[i] = −l[6 − i] exactly.
  for (let i = 0; i < 7; i++) assert.equal(l[i] + l[6 - i], 0, `l[${i}] = ${l[i]}, l[${6 - i}] = ${l[6 - i]}`);
  assert.equal(l[6], 1);
});

test('eye, square and rectangular', () => {
  assert.deepEqual(eye(3).toArray(), [[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
  assert.deepEqual(eye(2, 3).toArray(), [[1, 0, 0], [0, 1, 0]]);
  assert.deepEqual(eye(3, 2, { dtype: 'int32' }).toArray(), [[1, 0], [0, 1], [0, 0]]);
});

test('Tensor.from: nested arrays, flat arrays with a shape, typed arrays, scalars', () => {
  const n = tensor([[1, 2, 3], [4, 5, 6]]);
  assert.deepEqual(n.shape, [2, 3]);
  assert.deepEqual(n.strides, [3, 1]);
  assert.deepEqual(Array.from(n.storage.data), [1, 2, 3, 4, 5, 6]);

  const f = tensor([1, 2, 3, 4, 5, 6], { shape: [3, 2] });
  assert.deepEqual(f.toArray(), [[1, 2], [3, 4], [5, 6]]);

  const f32 = Tensor.from(new Float32Array([1.5, 2.5, 3.5, 4.5]), { shape: [2, 2] });
  assert.equal(f32.dtype, 'float32');
  assert.deepEqual(f32.toArray(), [[1.5, 2.5], [3.5, 4.5]]);
  assert.equal(Tensor.from(new Float64Array([0.1])).dtype, 'float64');
  assert.equal(Tensor.from(new Float64Array([0.1])).item(), 0.1);
  const i32 = Tensor.from(new Int32Array([-3, 7]));
  assert.equal(i32.dtype, 'int32');
  assert.deepEqual(i32.toArray(), [-3, 7]);
  // Bytes (pixels) are numbers, not booleans.
  const u8 = Tensor.from(new Uint8Array([0, 128, 255]));
  assert.equal(u8.dtype, 'float32');
  assert.deepEqual(u8.toArray(), [0, 128, 255]);
  // The source array is copied, not aliased.
  const src = new Float32Array([1, 2]);
  const c = Tensor.from(src);
  src[0] = 99;
  assert.equal((c.toArray() as number[])[0], 1);

  const s = tensor(3.5);
  assert.equal(s.ndim, 0);
  assert.equal(s.item(), 3.5);
  assert.equal(tensor(true).dtype, 'bool');
  // A requested dtype wins over the inferred one.
  assert.equal(tensor([[1, 2]], { dtype: 'float64' }).dtype, 'float64');
});

// ---------- data access ----------

test('toArray, item, toTypedArray read strided views in logical order', () => {
  const x = tensor([[1, 2, 3], [4, 5, 6]]);
  assert.deepEqual(x.T.toArray(), [[1, 4], [2, 5], [3, 6]]);
  const ta = x.T.toTypedArray();
  assert.ok(ta instanceof Float32Array);
  assert.deepEqual(Array.from(ta), [1, 4, 2, 5, 3, 6]);
  // toTypedArray returns a copy: writing it changes nothing in the tensor.
  const own = x.toTypedArray();
  own[0] = 42;
  assert.equal((x.toArray() as number[][])[0][0], 1);
  // A view with an offset reads only its own elements.
  assert.deepEqual(Array.from(x.narrow(1, 1, 1).toTypedArray()), [2, 5]);
  assert.ok(tensor([1], { dtype: 'int32' }).toTypedArray() instanceof Int32Array);
  // item on any one-element tensor, whatever its shape or offset.
  assert.equal(x.narrow(0, 1, 1).narrow(1, 2, 1).item(), 6);
  assert.equal(tensor([[[7]]]).item(), 7);
  assert.equal(tensor(2).toArray(), 2);
  assert.deepEqual(tensor([[true], [false]]).toArray(), [[true], [false]]);
});

test('toString prints like PyTorch', () => {
  assert.equal(tensor([[1, 2], [3, 4]]).toString(), 'tensor([[1.0000, 2.0000],\n        [3.0000, 4.0000]])');
  assert.equal(tensor([1.5, -2], { dtype: 'float64' }).toString(), 'tensor([ 1.5000, -2.0000], dtype=float64)');
  assert.equal(tensor([1, 20, 300], { dtype: 'int32' }).toString(), 'tensor([  1,  20, 300], dtype=int32)');
  assert.equal(tensor([1, 3]).gt(2).toString(), 'tensor([false,  true], dtype=bool)');
  assert.equal(tensor(0.5).toString(), 'tensor(0.5000)');
  assert.equal(tensor([1], { requiresGrad: true }).toString(), 'tensor([1.0000], requiresGrad=true)');
  assert.equal(tensor([1], { requiresGrad: true }).mul(2).toString(), 'tensor([2.0000], gradFn=mul)');
  // Very small or large magnitudes switch to exponent notation.
  assert.equal(tensor([1e-6, -2e5]).toString(), 'tensor([ 1.0000e-6, -2.0000e+5])');
  // A 3-D tensor separates its matrices with a blank line.
  assert.equal(
    arange(4, undefined, 1, { dtype: 'int32' }).view([2, 1, 2]).toString(),
    'tensor([[[0, 1]],\n\n        [[2, 3]]], dtype=int32)',
  );
  // Large tensors are summarised (first and last three along each long dim).
  const big = arange(2000).toString();
  assert.match(big, /^tensor\(\[   0,    1,    2, \.\.\., 1997, 1998, 1999\], dtype=int32\)$/);
});

// ---------- size 0 ----------

test('size-0 tensors flow through ops', () => {
  const e = zeros([0, 3]);
  assert.equal(e.numel, 0);
  assert.deepEqual(e.toArray(), []);
  assert.deepEqual(zeros([2, 0]).toArray(), [[], []]);
  assert.deepEqual(e.add(tensor([1, 2, 3])).shape, [0, 3]);
  assert.deepEqual(e.exp().shape, [0, 3]);
  // Sums over an empty dim are 0; the mean of nothing is NaN (as PyTorch).
  assert.deepEqual(e.sum(0).toArray(), [0, 0, 0]);
  assert.deepEqual(e.sum(1).shape, [0]);
  assert.equal(e.sum().item(), 0);
  assert.ok(Number.isNaN(e.mean().item()));
  // matmul with an empty outer dim, and with an empty inner dim (a sum of nothing: zeros).
  assert.deepEqual(e.matmul(ones([3, 2])).shape, [0, 2]);
  assert.deepEqual(ones([2, 0]).matmul(ones([0, 3])).toArray(), [[0, 0, 0], [0, 0, 0]]);
  assert.deepEqual(cat([e, ones([2, 3])]).toArray(), [[1, 1, 1], [1, 1, 1]]);
  assert.deepEqual(e.reshape([3, 0, 5]).shape, [3, 0, 5]);
  assert.deepEqual(tensor([1, 2, 3]).slice(0, 2, 1).shape, [0]);
  assert.deepEqual(tensor([]).shape, [0]);
  // And through backward: the gradient of an empty leaf is empty.
  const x = zeros([0, 3], { requiresGrad: true });
  x.mul(2).sum().backward();
  assert.deepEqual(x.grad!.shape, [0, 3]);
});
