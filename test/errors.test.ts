/**
 * Bad input gets a clear error: each case checks the error class and that the message names the op
 * and the values at fault (both shapes, both dtypes, the index and the size, the valid range).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, tensor, zeros, ones, noGrad, cat, conv2d, where, oneHot } from '../src/index.js';

const int32 = (values: number[]) => tensor(values, { dtype: 'int32' });

test('shape mismatches name the op and both shapes', () => {
  assert.throws(() => zeros([2, 3]).add(zeros([4, 3])), {
    name: 'RangeError',
    message: /^add: shapes \[2, 3\] and \[4, 3\] cannot be broadcast.*size 2 vs 4 at dim -2/,
  });
  assert.throws(() => zeros([2, 3]).mul(zeros([2])), { name: 'RangeError', message: /^mul: shapes \[2, 3\] and \[2\]/ });
  assert.throws(() => zeros([2, 3]).matmul(zeros([4, 5])), {
    name: 'RangeError',
    message: /^matmul: shapes \[2, 3\] and \[4, 5\] cannot be multiplied \(3 columns vs 4 rows\)/,
  });
  // 1-D operands are reported as given, not as the internal row/column matrices.
  assert.throws(() => zeros([3]).matmul(zeros([4])), { name: 'RangeError', message: /^matmul: shapes \[3\] and \[4\]/ });
  assert.throws(() => cat([zeros([2, 3]), zeros([2, 4])], 0), {
    name: 'RangeError',
    message: /^cat: tensor 1 has shape \[2, 4\].*tensor 0's \[2, 3\] except at dim 0/,
  });
  assert.throws(() => conv2d(zeros([1, 3, 8, 8]), zeros([4, 2, 3, 3])), {
    name: 'RangeError',
    message: /^conv2d: weight \[4, 2, 3, 3\] expects 2 input channels.*input \[1, 3, 8, 8\] has 3/,
  });
});

test('a dim out of range says the valid range', () => {
  assert.throws(() => zeros([2, 3]).sum(5), {
    name: 'RangeError',
    message: /^sum: dim 5 is out of range for a tensor of 2 dims \(expected -2\.\.1\)/,
  });
  assert.throws(() => zeros([2, 3]).softmax(-3), { name: 'RangeError', message: /dim -3 is out of range.*expected -2\.\.1/ });
  assert.throws(() => zeros([2, 3]).transpose(0, 2), { name: 'RangeError', message: /^transpose: dim 2 .*expected -2\.\.1/ });
});

test('refused dtype mixes name both dtypes', () => {
  assert.throws(() => zeros([2, 3]).matmul(zeros([3, 2], { dtype: 'float64' })), {
    name: 'TypeError',
    message: /^matmul: .*same dtype, got float32 and float64/,
  });
  assert.throws(() => conv2d(zeros([1, 3, 8, 8]), zeros([4, 3, 3, 3], { dtype: 'float64' })), {
    name: 'TypeError',
    message: /^conv2d: input is float32 but weight is float64/,
  });
  assert.throws(() => where(ones([3], { dtype: 'int32' }), zeros([3]), 1), {
    name: 'TypeError',
    message: /^where: the condition must be a bool tensor.*got int32/,
  });
  assert.throws(() => zeros([3]).gather(0, zeros([3])), {
    name: 'TypeError',
    message: /^gather: index must have dtype int32, got float32/,
  });
  assert.throws(() => cat([zeros([2]), zeros([2], { dtype: 'float64' })]), {
    name: 'TypeError',
    message: /^cat: tensor 1 has dtype float64, tensor 0 has float32/,
  });
});

test('an out-of-range index names the index and the size', () => {
  assert.throws(() => zeros([3, 2]).indexSelect(0, int32([0, 5])), {
    name: 'RangeError',
    message: /^indexSelect: index 5 is out of range for a dim of size 3/,
  });
  assert.throws(() => zeros([3, 2]).indexSelect(1, int32([-1])), {
    name: 'RangeError',
    message: /^indexSelect: index -1 is out of range for a dim of size 2/,
  });
  assert.throws(() => zeros([3, 2]).gather(0, tensor([[0, 7]], { dtype: 'int32' })), {
    name: 'RangeError',
    message: /^gather: index 7 is out of range for a dim of size 3/,
  });
  assert.throws(() => oneHot(int32([1, 4]), 3), {
    name: 'RangeError',
    message: /^oneHot: class index 4 is out of range for a dim of size 3/,
  });
});

test('backward on a non-scalar without a gradient asks for one, with the shape', () => {
  const y = zeros([3], { requiresGrad: true }).mul(2);
  assert.throws(() => y.backward(), { message: /^backward: grad can be implicitly created only for scalar outputs; got shape \[3\]/ });
  assert.throws(() => y.backward(zeros([2])), { message: /^backward: gradient shape \[2\] does not match the output shape \[3\]/ });
  assert.throws(() => zeros([1]).sum().backward(), { message: /^backward: the tensor does not require grad/ });
});

test('a second backward through a freed graph says so and names retainGraph', () => {
  const x = ones([3], { requiresGrad: true });
  const y = x.mul(x).sum();
  y.backward();
  assert.throws(() => y.backward(), { message: /^backward through sum a second time.*retainGraph: true/ });
});

test('an in-place change of a tensor saved for backward is detected at backward time', () => {
  const x = ones([3], { requiresGrad: true });
  const w = tensor([1, 2, 3]);
  const y = x.mul(w).sum(); // mul saves w for x's gradient
  noGrad(() => w.copy_(zeros([3]))); // allowed now...
  assert.throws(() => y.backward(), {
    message: /^a tensor of shape \[3\] saved by mul for backward was modified in place \(version 1, expected 0\)/,
  }); // ...refused here
  // The same through a view of the saved tensor (views share the version counter).
  const a = ones([2, 2], { requiresGrad: true });
  const b = tensor([[1, 2], [3, 4]]);
  const z = a.matmul(b).sum();
  noGrad(() => b.view([4]).fill_(0));
  assert.throws(() => z.backward(), { message: /saved by matmul for backward was modified in place/ });
});

test('an in-place change of a leaf that requires grad is refused outside noGrad', () => {
  const x = ones([3], { requiresGrad: true });
  assert.throws(() => x.copy_(zeros([3])), { message: /^copy_: in-place change of a tensor that requires grad \(a leaf\).*noGrad/ });
  assert.throws(() => x.fill_(2), { message: /^fill_: in-place change .*\(a leaf\)/ });
  assert.throws(() => x.add_(1), { message: /in-place change of a tensor that requires grad/ });
  assert.deepEqual(x.toArray(), [1, 1, 1], 'a refused change leaves the data alone');
  // Under noGrad (as an optimiser step) it is allowed.
  noGrad(() => x.fill_(2));
  assert.deepEqual(x.toArray(), [2, 2, 2]);
});

test('view() of a non-contiguous tensor and reshape to a wrong size are refused', () => {
  assert.throws(() => zeros([2, 3]).transpose(0, 1).view([6]), {
    message: /^view: the tensor of shape \[3, 2\] is not contiguous; use reshape/,
  });
  assert.throws(() => zeros([2, 3]).reshape([4, 2]), {
    name: 'RangeError',
    message: /^reshape: shape \[4, 2\] is invalid for a tensor of shape \[2, 3\] \(6 elements\)/,
  });
  assert.throws(() => zeros([2, 3]).reshape([-1, -1]), { name: 'RangeError', message: /^reshape: only one dim can be -1/ });
  assert.throws(() => zeros([2, 3]).reshape([-1, 4]), { name: 'RangeError', message: /^reshape: shape \[-1, 4\] is invalid/ });
  assert.throws(() => zeros([2, 3]).view([2, -3]), { name: 'RangeError', message: /^view: shape must hold non-negative integers.*got \[2, -3\]/ });
});

test('copy_ from a source that requires grad is refused outside noGrad (the gradient would be lost)', () => {
  const src = tensor([1, 2], { requiresGrad: true }).mul(3);
  assert.throws(() => zeros([2]).copy_(src), { name: 'Error', message: /^copy_: the source requires grad.*noGrad/ });
  assert.throws(() => zeros([2]).add_(src), { message: /^copy_: the source requires grad/ });
  const dst = zeros([2]);
  noGrad(() => dst.copy_(src));
  assert.deepEqual(dst.toArray(), [3, 6]);
});

test('reshape cannot infer a -1 beside a 0, and empty tensors print their shape', () => {
  assert.throws(() => zeros([0, 3]).reshape([0, -1]), { name: 'RangeError', message: /^reshape: cannot infer the -1 in \[0, -1\] for a tensor of shape \[0, 3\]/ });
  assert.deepEqual(zeros([0, 3]).reshape([-1]).shape, [0]);
  assert.equal(String(zeros([0, 3])), 'tensor([], size=[0, 3])');
  assert.equal(String(zeros([0])), 'tensor([])');
});

test('an unknown dtype string lists the known ones', () => {
  const known = /expected one of float32, float64, int32, bool/;
  // Cast through `never`: the type system already refuses these; plain JS callers are not checked by it.
  assert.throws(() => zeros([2], { dtype: 'float16' as never }), { name: 'TypeError', message: /^unknown dtype "float16"/ });
  assert.throws(() => zeros([2]).to('int64' as never), { name: 'TypeError', message: known });
  assert.throws(() => tensor([1], { dtype: 'double' as never }), { name: 'TypeError', message: /unknown dtype "double"/ });
});

test('creation errors say what was expected and what came', () => {
  assert.throws(() => tensor([1, 2, 3], { shape: [2, 2] }), {
    name: 'RangeError',
    message: /^Tensor\.from: 3 values do not fill shape \[2, 2\] \(4 elements\)/,
  });
  assert.throws(() => tensor([[1, 2], [3]]), { message: /ragged/ });
  assert.throws(() => zeros([2, -1]), { name: 'RangeError', message: /shape must hold non-negative integers, got \[2, -1\]/ });
  assert.throws(() => Tensor.arange(0, 5, 0), { message: /^arange: step must be a finite non-zero number, got 0/ });
  assert.throws(() => zeros([2, 2]).item(), { message: /^item: the tensor has 4 elements, expected 1 \(shape \[2, 2\]\)/ });
});
