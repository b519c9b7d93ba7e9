/**
 * The losses of src/nn/losses.ts against PyTorch (the `losses` of test/fixtures/nn.json, see gen_nn.py):
 * value and gradient of the logits (or predictions), in float64 with a tight tolerance and in float32,
 * then the errors that bad targets get.
 *
 * The masked cross-entropy: `mask` holds per-token weights (a 0/1 padding mask in seq2seq) and the mean is
 * sum(loss·mask)/sum(mask), the mean over the real tokens, as d2l 1.0's Seq2Seq.loss computes it. (d2l
 * 0.17's MaskedSoftmaxCELoss averaged each sequence over all its steps, padding included: not this.)
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../src/index.js';
import { binaryCrossEntropyWithLogits, crossEntropy, mseLoss } from '../src/nn/index.js';
import { assertClose, FLOAT32, FLOAT64, loadNnFixtures, LossCase, Tol, toTensor } from './nn-fixtures.js';

const fx = loadNnFixtures();

/** Our side of each loss case of gen_nn.py; the inputs arrive in the generator's order. */
const losses: Record<string, (xs: Tensor[]) => Tensor> = {
  ce_mean: ([x, y]) => crossEntropy(x, y),
  ce_sum: ([x, y]) => crossEntropy(x, y, { reduction: 'sum' }),
  ce_none: ([x, y]) => crossEntropy(x, y, { reduction: 'none' }),
  ce_large_logits: ([x, y]) => crossEntropy(x, y),
  ce_ignore_index: ([x, y]) => crossEntropy(x, y, { ignoreIndex: -100 }),
  ce_ignore_index_sum: ([x, y]) => crossEntropy(x, y, { ignoreIndex: -100, reduction: 'sum' }),
  ce_ignore_valid_class: ([x, y]) => crossEntropy(x, y, { ignoreIndex: 1 }),
  ce_label_smoothing: ([x, y]) => crossEntropy(x, y, { labelSmoothing: 0.1 }),
  ce_label_smoothing_none: ([x, y]) => crossEntropy(x, y, { labelSmoothing: 0.3, reduction: 'none' }),
  ce_label_smoothing_ignore: ([x, y]) => crossEntropy(x, y, { ignoreIndex: -100, labelSmoothing: 0.2 }),
  ce_spatial: ([x, y]) => crossEntropy(x, y),
  ce_spatial_2d_none: ([x, y]) => crossEntropy(x, y, { reduction: 'none' }),
  ce_masked_flat: ([x, y, m]) => crossEntropy(x, y, { mask: m }),
  ce_masked_seq: ([x, y, m]) => crossEntropy(x, y, { mask: m }),
  ce_weighted_tokens: ([x, y, w]) => crossEntropy(x, y, { mask: w }),
  ce_masked_sum: ([x, y, m]) => crossEntropy(x, y, { mask: m, reduction: 'sum' }),
  ce_masked_none: ([x, y, m]) => crossEntropy(x, y, { mask: m, reduction: 'none' }),
  bce_logits: ([x, y]) => binaryCrossEntropyWithLogits(x, y),
  bce_logits_soft_targets: ([x, y]) => binaryCrossEntropyWithLogits(x, y, { reduction: 'sum' }),
  bce_logits_extreme: ([x, y]) => binaryCrossEntropyWithLogits(x, y),
  bce_logits_extreme_none: ([x, y]) => binaryCrossEntropyWithLogits(x, y, { reduction: 'none' }),
  bce_logits_weight: ([x, y, w]) => binaryCrossEntropyWithLogits(x, y, { weight: w }),
  mse_mean: ([x, y]) => mseLoss(x, y),
  mse_sum: ([x, y]) => mseLoss(x, y, { reduction: 'sum' }),
  mse_none: ([x, y]) => mseLoss(x, y, { reduction: 'none' }),
};

function checkLoss(c: LossCase, dtype: 'float32' | 'float64', tol: Tol): void {
  const xs = c.inputs.map((t, i) => (c.grads[i] ? toTensor(t, dtype).requiresGrad_() : toTensor(t, dtype)));
  const out = losses[c.name](xs);
  assert.equal(out.dtype, dtype, `${c.name}: dtype`);
  assertClose(out, c.output, tol, `${c.name} (${dtype}) loss`);
  out.backward(toTensor(c.upstream, dtype));
  c.grads.forEach((g, i) => {
    if (g) assertClose(xs[i].grad, g, tol, `${c.name} (${dtype}) gradient of input ${i}`);
  });
}

describe('losses against torch', () => {
  test('every fixture case has a loss here, and vice versa', () => {
    const names = fx.losses.map((c) => c.name);
    assert.deepEqual(names.filter((n) => !(n in losses)), [], 'fixture cases without a loss in losses.test.ts');
    assert.deepEqual(Object.keys(losses).filter((n) => !names.includes(n)), [], 'losses without a fixture case (regenerate nn.json?)');
  });
  for (const c of fx.losses) {
    test(`${c.name}, float64`, () => checkLoss(c, 'float64', FLOAT64));
    test(`${c.name}, float32`, () => checkLoss(c, 'float32', FLOAT32));
  }
});

describe('crossEntropy details', () => {
  test('mask of 0/1 equals leaving the masked tokens out', () => {
    const x = Tensor.randn([5, 4], { dtype: 'float64' });
    const y = Tensor.from([0, 3, 1, 2, 1], { dtype: 'int32' });
    const m = Tensor.from([1, 0, 1, 1, 0], { dtype: 'float64' });
    const kept = Tensor.from([0, 2, 3], { dtype: 'int32' });
    const masked = crossEntropy(x, y, { mask: m }).item();
    const subset = crossEntropy(x.indexSelect(0, kept), y.indexSelect(0, kept)).item();
    assert.ok(Math.abs(masked - subset) < 1e-12, `${masked} vs ${subset}`);
  });

  test('every target ignored: the mean is NaN (0/0), as torch', () => {
    const l = crossEntropy(Tensor.randn([3, 4]), Tensor.from([-100, -100, -100], { dtype: 'int32' }), { ignoreIndex: -100 });
    assert.ok(Number.isNaN(l.item()));
  });
});

describe('losses refuse bad input with a clear message', () => {
  const logits = Tensor.randn([4, 5]);

  test('targets that are not int32 class indices', () => {
    assert.throws(() => crossEntropy(logits, Tensor.from([0, 1, 2, 3])), /crossEntropy: expected int32 class targets, got float32/);
    assert.throws(() => crossEntropy(logits, Tensor.from([true, false, true, true])), /expected int32 class targets, got bool/);
  });

  test('a target shape that does not fit the logits: both shapes printed', () => {
    assert.throws(() => crossEntropy(logits, Tensor.from([0, 1, 2], { dtype: 'int32' })),
      /crossEntropy: logits \[4, 5\] need targets of shape \[4\], got \[3\]/);
    assert.throws(() => crossEntropy(logits, Tensor.zeros([4, 1], { dtype: 'int32' })), /logits \[4, 5\] need targets of shape \[4\], got \[4, 1\]/);
    assert.throws(() => crossEntropy(Tensor.randn([2, 4, 3]), Tensor.zeros([2, 4], { dtype: 'int32' })),
      /logits \[2, 4, 3\] need targets of shape \[2, 3\], got \[2, 4\]/);
    assert.throws(() => crossEntropy(Tensor.randn([5]), Tensor.zeros([], { dtype: 'int32' })), /expected logits of shape \(N, C, \.\.\.\), got \[5\]/);
  });

  test('a class index out of range, negative or ≥ C (an ignored index is not checked)', () => {
    assert.throws(() => crossEntropy(logits, Tensor.from([0, 5, 1, 2], { dtype: 'int32' })), /target class 5 is out of range for 5 classes/);
    assert.throws(() => crossEntropy(logits, Tensor.from([0, -1, 1, 2], { dtype: 'int32' })), /target class -1 is out of range for 5 classes/);
    assert.throws(() => crossEntropy(logits, Tensor.from([0, -1, 1, 2], { dtype: 'int32' }), { ignoreIndex: -100 }), /target class -1/);
    assert.doesNotThrow(() => crossEntropy(logits, Tensor.from([0, -100, 1, 2], { dtype: 'int32' }), { ignoreIndex: -100 }));
  });

  test('bad options: mask shape, label smoothing, reduction', () => {
    const y = Tensor.from([0, 1, 2, 3], { dtype: 'int32' });
    assert.throws(() => crossEntropy(logits, y, { mask: Tensor.ones([4, 1]) }), /mask of shape \[4, 1\] must have the target's shape \[4\]/);
    assert.throws(() => crossEntropy(logits, y, { labelSmoothing: 1.5 }), /labelSmoothing must be in \[0, 1\], got 1.5/);
    assert.throws(() => crossEntropy(logits, y, { reduction: 'avg' as 'mean' }), /unknown reduction "avg": expected 'mean', 'sum' or 'none'/);
  });

  test('binary cross-entropy and MSE need input and target of one shape', () => {
    assert.throws(() => binaryCrossEntropyWithLogits(Tensor.zeros([2, 3]), Tensor.zeros([3, 2])),
      /binaryCrossEntropyWithLogits: input \[2, 3\] and target \[3, 2\] must have the same shape/);
    assert.throws(() => mseLoss(Tensor.zeros([4]), Tensor.zeros([4, 1])), /mseLoss: input \[4\] and target \[4, 1\] must have the same shape/);
  });
});
