/** Loss functions, composed from ops (their gradients come from the ops'). */
import { shapeStr } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { sequenceMask } from './attention.js';

export type Reduction = 'mean' | 'sum' | 'none';

function reduce(l: Tensor, reduction: Reduction, what: string): Tensor {
  switch (reduction) {
    case 'mean': return l.mean();
    case 'sum': return l.sum();
    case 'none': return l;
    default: throw new RangeError(`${what}: unknown reduction ${JSON.stringify(reduction)}: expected 'mean', 'sum' or 'none'`);
  }
}

export interface CrossEntropyOptions {
  reduction?: Reduction;
  /** Targets equal to this class index contribute nothing (and are left out of the mean). */
  ignoreIndex?: number;
  /** Per-target weights of the same shape as the target (e.g. a padding mask of 0/1); the mean divides by their sum. */
  mask?: Tensor;
  /** Szegedy et al. 2016: the target distribution is (1 − ε)·onehot + ε/C. */
  labelSmoothing?: number;
}

/**
 * Cross-entropy from logits: logits (N, C) or (N, C, d1, ...) and int32 class targets (N) or (N, d1, ...).
 * loss_i = −(1 − ε)·log p_i[y_i] − ε·mean_c log p_i[c], with log p = logSoftmax(logits) over dim 1.
 */
export function crossEntropy(logits: Tensor, target: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  if (logits.ndim < 2) throw new RangeError(`crossEntropy: expected logits of shape (N, C, ...), got ${shapeStr(logits.shape)}`);
  if (target.dtype !== 'int32') throw new TypeError(`crossEntropy: expected int32 class targets, got ${target.dtype}`);
  const want = logits.shape.filter((_, i) => i !== 1);
  if (target.ndim !== want.length || target.shape.some((s, i) => s !== want[i])) {
    throw new RangeError(`crossEntropy: logits ${shapeStr(logits.shape)} need targets of shape ${shapeStr(want)}, got ${shapeStr(target.shape)}`);
  }
  const eps = opts.labelSmoothing ?? 0;
  if (!(eps >= 0 && eps <= 1)) throw new RangeError(`crossEntropy: labelSmoothing must be in [0, 1], got ${eps}`);
  const c = logits.shape[1];
  const logp = logits.logSoftmax(1);
  let weight: Tensor | null = opts.mask ? opts.mask.to(logits.dtype) : null;
  let t = target;
  if (opts.ignoreIndex !== undefined) {
    const keep = target.ne(opts.ignoreIndex);
    t = target.where(keep, 0); // any valid class; its loss is masked out
    const k = keep.to(logits.dtype);
    weight = weight ? weight.mul(k) : k;
  }
  if (weight && (weight.ndim !== t.ndim || weight.shape.some((s, i) => s !== t.shape[i]))) {
    throw new RangeError(`crossEntropy: mask of shape ${shapeStr(weight.shape)} must have the target's shape ${shapeStr(t.shape)}`);
  }
  for (const v of t.toTypedArray()) {
    if (v < 0 || v >= c) throw new RangeError(`crossEntropy: target class ${v} is out of range for ${c} classes`);
  }
  let loss = logp.gather(1, t.unsqueeze(1)).squeeze(1).neg();
  if (eps > 0) loss = loss.mul(1 - eps).add(logp.mean(1).neg().mul(eps));
  const reduction = opts.reduction ?? 'mean';
  if (weight === null) return reduce(loss, reduction, 'crossEntropy');
  loss = loss.mul(weight);
  return reduction === 'mean' ? loss.sum().div(weight.sum()) : reduce(loss, reduction, 'crossEntropy');
}

/**
 * d2l's MaskedSoftmaxCELoss: logits (B, T, V), labels int32 (B, T), validLen int32 (B) → per-sequence loss (B):
 * the mean over the T steps of the token cross-entropies, steps t ≥ validLen[b] counting as 0 (so a sequence's loss is its masked sum / T).
 */
export function sequenceCrossEntropy(logits: Tensor, labels: Tensor, validLen: Tensor): Tensor {
  if (logits.ndim !== 3) throw new RangeError(`sequenceCrossEntropy: expected logits of shape (B, T, V), got ${shapeStr(logits.shape)}`);
  const [B, T] = logits.shape;
  if (labels.ndim !== 2 || labels.shape[0] !== B || labels.shape[1] !== T) {
    throw new RangeError(`sequenceCrossEntropy: expected labels of shape (${B}, ${T}), got ${shapeStr(labels.shape)}`);
  }
  if (validLen.ndim !== 1 || validLen.shape[0] !== B) {
    throw new RangeError(`sequenceCrossEntropy: expected validLen of shape (${B}), got ${shapeStr(validLen.shape)}`);
  }
  for (const [t, what] of [[labels, 'labels'], [validLen, 'validLen']] as const) {
    if (t.dtype !== 'int32') throw new TypeError(`sequenceCrossEntropy: ${what} must be int32, got ${t.dtype}`);
  }
  const mask = sequenceMask(validLen, T, logits.dtype);
  // crossEntropy takes the classes on dim 1: (B, V, T) against (B, T).
  return crossEntropy(logits.transpose(1, 2), labels, { reduction: 'none', mask }).mean(1);
}

/** −[y·log σ(x) + (1 − y)·log(1 − σ(x))], computed stably as max(x, 0) − x·y + log(1 + e^(−|x|)). */
export function binaryCrossEntropyWithLogits(logits: Tensor, target: Tensor, opts: { reduction?: Reduction; weight?: Tensor } = {}): Tensor {
  sameShape(logits, target, 'binaryCrossEntropyWithLogits');
  const y = target.to(logits.dtype);
  let l = logits.relu().sub(logits.mul(y)).add(logits.abs().neg().exp().add(1).log());
  if (opts.weight) l = l.mul(opts.weight);
  return reduce(l, opts.reduction ?? 'mean', 'binaryCrossEntropyWithLogits');
}

export function mseLoss(input: Tensor, target: Tensor, opts: { reduction?: Reduction } = {}): Tensor {
  sameShape(input, target, 'mseLoss');
  const d = input.sub(target);
  return reduce(d.mul(d), opts.reduction ?? 'mean', 'mseLoss');
}

function sameShape(a: Tensor, b: Tensor, op: string): void {
  if (a.ndim !== b.ndim || a.shape.some((s, i) => s !== b.shape[i])) {
    throw new RangeError(`${op}: input ${shapeStr(a.shape)} and target ${shapeStr(b.shape)} must have the same shape`);
  }
}
