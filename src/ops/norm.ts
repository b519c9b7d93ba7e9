/**
 * Batch normalisation as one op (Ioffe & Szegedy 2015), over every dim of x but the channel dim 1:
 *
 *   training:  μ = mean(x), σ² = mean((x − μ)²) per channel (the biased variance), n values each;
 *              x̂ = (x − μ)·r with r = 1/√(σ² + ε);   y = γ·x̂ + β
 *              running_mean ← (1 − m)·running_mean + m·μ,  running_var ← (1 − m)·running_var + m·σ²·n/(n − 1)
 *   eval:      the running statistics in place of μ and σ²: y = x·(γ·r) + (β − μ·γ·r), an affine map.
 *
 * Composed from the elementwise ops, training mode costs a dozen passes over the activation forward
 * and backward (the variance's own graph among them). Here three kernels do it (src/backend/kernels.ts):
 * bnStats (μ and σ², two passes), channelAffine (y = x·(γ·r) + (β − μ·γ·r), one pass) and
 * bnBackward (the closed form of the gradient, two passes; with g = ∂L/∂y, sums per channel over its
 * n values):
 *
 *   ∂L/∂β = Σ g,   ∂L/∂γ = Σ g·x̂,   ∂L/∂x = (γ·r/n)·(n·g − Σ g − x̂·Σ g·x̂)
 *
 * x̂ is not kept: the backward recomputes it from x, μ and r. The same formula written with recorded
 * ops from x itself serves a backward that builds a graph (createGraph), so second derivatives stay
 * right. PyTorch's F.batch_norm has the same arguments.
 */
import { isGradEnabled, noGrad } from '../autograd/mode.js';
import { numel, shapeStr } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { K } from '../backend/registry.js';
import { contiguousData, empty, record, requireFloating } from './core.js';
import { div } from './elementwise.js';

export interface BatchNormOptions {
  /** Normalise with the batch's statistics (and update the running ones), else with the running ones. */
  training?: boolean;
  /** Weight of the new batch in the running averages (default 0.1). */
  momentum?: number;
  /** Added to the variance (default 1e-5). */
  eps?: number;
}

/**
 * y = batchNorm(x, runningMean, runningVar, weight, bias, { training, momentum, eps }), x (N, C, ...),
 * the other four (C) or null. Training updates runningMean/runningVar in place when given; eval needs them.
 */
export function batchNorm(
  x: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  weight: Tensor | null = null,
  bias: Tensor | null = null,
  opts: BatchNormOptions = {},
): Tensor {
  requireFloating(x, 'batchNorm');
  const { training = false, momentum = 0.1, eps = 1e-5 } = opts;
  if (x.ndim < 2) throw new RangeError(`batchNorm: expected input of shape (N, C, ...), got ${shapeStr(x.shape)}`);
  const C = x.shape[1];
  const named: [string, Tensor | null][] = [['runningMean', runningMean], ['runningVar', runningVar], ['weight', weight], ['bias', bias]];
  for (const [name, t] of named) {
    if (t && (t.ndim !== 1 || t.shape[0] !== C)) {
      throw new RangeError(`batchNorm: ${name} must have shape (${C}) for input ${shapeStr(x.shape)}, got ${shapeStr(t.shape)}`);
    }
  }
  const dims = x.shape.map((_, i) => i).filter((i) => i !== 1);
  const bshape = x.shape.map((s, i) => (i === 1 ? s : 1)); // (1, C, 1, ...)
  const per = (t: Tensor) => t.reshape(bshape);

  if (!training) {
    if (!runningMean || !runningVar) throw new TypeError('batchNorm: eval mode (training false) needs runningMean and runningVar');
    // an affine map per channel, recorded by the ops it is made of
    let scale = div(1, runningVar.add(eps).sqrt());
    if (weight) scale = scale.mul(weight);
    let shift = runningMean.neg().mul(scale);
    if (bias) shift = shift.add(bias);
    return x.mul(per(scale)).add(per(shift));
  }

  const n = C > 0 ? x.numel / C : 0;
  if (n <= 1) throw new RangeError(`batchNorm: expected more than 1 value per channel when training, got input ${shapeStr(x.shape)}`);
  for (const [name, t] of named) {
    if (t && t.dtype !== x.dtype) throw new TypeError(`batchNorm: input is ${x.dtype} but ${name} is ${t.dtype}`);
  }
  // x as (outer, C, inner): channel c's values sit at o·C·inner + c·inner + i
  const outer = x.shape[0];
  const inner = n / outer;
  const xd = contiguousData(x);
  const { y, mean, r } = noGrad(() => {
    const mean = empty([C], x.dtype);
    const variance = empty([C], x.dtype);
    K.bnStats(xd, outer, C, inner, mean.storage.data, variance.storage.data);
    const r = div(1, variance.add(eps).sqrt());
    const scale = weight ? r.mul(weight) : r;
    const shift = bias ? bias.sub(mean.mul(scale)) : mean.mul(scale).neg();
    const y = empty(x.shape, x.dtype);
    K.channelAffine(xd, outer, C, inner, contiguousData(scale), contiguousData(shift), y.storage.data);
    if (runningMean) runningMean.copy_(runningMean.mul(1 - momentum).add(mean.mul(momentum)));
    if (runningVar) runningVar.copy_(runningVar.mul(1 - momentum).add(variance.mul((momentum * n) / (n - 1))));
    return { y, mean, r };
  });

  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  return record(y, 'batchNorm', inputs, [x], (g, [xs]) => {
    let dx: Tensor;
    let sumG: Tensor;
    let sumGXhat: Tensor;
    if (isGradEnabled()) {
      // building a graph (createGraph): the formula in recorded ops, x̂ and r again from x
      const xc = xs.sub(xs.mean(dims, true));
      const rr = div(1, xc.mul(xc).mean(dims, true).add(eps).sqrt());
      const xh = xc.mul(rr);
      sumG = g.sum(dims, true);
      sumGXhat = g.mul(xh).sum(dims, true);
      const k = weight ? rr.mul(per(weight)) : rr; // γ·r
      dx = g.sub(sumG.div(n)).sub(xh.mul(sumGXhat.div(n))).mul(k);
    } else {
      dx = empty(x.shape, x.dtype);
      sumG = empty([C], x.dtype);
      sumGXhat = empty([C], x.dtype);
      const w = weight ? contiguousData(weight) : null;
      K.bnBackward(contiguousData(g), xd, outer, C, inner, mean.storage.data, r.storage.data, w, dx.storage.data, sumG.storage.data, sumGXhat.storage.data);
    }
    const grads: (Tensor | null)[] = [dx];
    if (weight) grads.push(sumGXhat.reshape([C]));
    if (bias) grads.push(sumG.reshape([C]));
    return grads;
  });
}

/**
 * Layer normalisation (Ba et al. 2016) as one op, over the trailing dims named by `normalizedShape`
 * (PyTorch's F.layer_norm): per row of n = ∏ normalizedShape values,
 *
 *   μ = mean(x), σ² = mean((x − μ)²) (biased), r = 1/√(σ² + ε),  x̂ = (x − μ)·r,  y = γ·x̂ + β
 *
 * with γ (weight) and β (bias) of shape normalizedShape, or null. Composed, that is about eight passes
 * over x forward and twice that backward (layerNormComposed is the definition the kernels are tested
 * against). Here K.layerNorm does it in two reads and one write, keeping μ and r per row, and
 * K.layerNormBackward takes the closed form (ĝ = g·γ, sums along the row, n values each):
 *
 *   ∂L/∂x = r·(ĝ − Σ ĝ/n − x̂·Σ ĝ·x̂/n),   ∂L/∂γ = Σ_rows g·x̂,   ∂L/∂β = Σ_rows g
 *
 * A backward that builds a graph (createGraph) uses the composed ops instead, so second derivatives
 * stay right.
 */
export function layerNorm(
  x: Tensor,
  normalizedShape: number | readonly number[],
  weight: Tensor | null = null,
  bias: Tensor | null = null,
  eps = 1e-5,
): Tensor {
  const shape = checkLayerNorm(x, normalizedShape, weight, bias, eps);
  const n = numel(shape);
  if (x.numel === 0) return layerNormComposed(x, shape, weight, bias, eps);
  const rows = x.numel / n;
  const xc = x.contiguous();
  const xd = contiguousData(xc);
  const y = empty(x.shape, x.dtype);
  const mean = empty([rows], x.dtype);
  const rstd = empty([rows], x.dtype);
  const w = weight ? contiguousData(weight) : null;
  K.layerNorm(xd, rows, n, eps, w, bias ? contiguousData(bias) : null, y.storage.data, mean.storage.data, rstd.storage.data);
  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  return record(y, 'layerNorm', inputs, [xc], (g, [xs]) => {
    const lead = x.ndim - shape.length;
    const rowDims = Array.from({ length: lead }, (_, i) => i);
    let dx: Tensor;
    let dw: Tensor | null = null;
    let db: Tensor | null = null;
    if (isGradEnabled()) {
      // building a graph (createGraph): the formula in recorded ops, x̂ and r again from x
      const dims = shape.map((_, i) => lead + i);
      const xm = xs.sub(xs.mean(dims, true));
      const r = div(1, xm.mul(xm).mean(dims, true).add(eps).sqrt());
      const xh = xm.mul(r);
      const gh = weight ? g.mul(weight) : g;
      dx = gh.sub(gh.mean(dims, true)).sub(xh.mul(gh.mul(xh).mean(dims, true))).mul(r);
      if (weight) dw = g.mul(xh).sum(rowDims).reshape(shape);
      if (bias) db = g.sum(rowDims).reshape(shape);
    } else {
      dx = empty(x.shape, x.dtype);
      if (weight) dw = empty(shape, x.dtype);
      if (bias) db = empty(shape, x.dtype);
      K.layerNormBackward(contiguousData(g), xd, rows, n, mean.storage.data, rstd.storage.data, w, dx.storage.data, dw ? dw.storage.data : null, db ? db.storage.data : null);
    }
    const grads: (Tensor | null)[] = [dx];
    if (weight) grads.push(dw);
    if (bias) grads.push(db);
    return grads;
  }, { normalizedShape: shape, eps, weight: weight !== null, bias: bias !== null });
}

/** layerNorm composed from mean, var, sub, div, mul and add: the definition the fused kernels are tested against. */
export function layerNormComposed(
  x: Tensor,
  normalizedShape: number | readonly number[],
  weight: Tensor | null = null,
  bias: Tensor | null = null,
  eps = 1e-5,
): Tensor {
  const shape = checkLayerNorm(x, normalizedShape, weight, bias, eps);
  const dims = shape.map((_, i) => x.ndim - shape.length + i);
  const mean = x.mean(dims, true);
  const variance = x.var(dims, { correction: 0, keepdim: true });
  let y = x.sub(mean).div(variance.add(eps).sqrt());
  if (weight) y = y.mul(weight);
  if (bias) y = y.add(bias);
  return y;
}

/** The normalized shape as an array, after checking x, weight, bias and eps against it. */
function checkLayerNorm(x: Tensor, normalizedShape: number | readonly number[], weight: Tensor | null, bias: Tensor | null, eps: number): number[] {
  requireFloating(x, 'layerNorm');
  const shape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
  const k = shape.length;
  if (!shape.every((s) => Number.isInteger(s) && s >= 0)) {
    throw new RangeError(`layerNorm: normalizedShape must be whole numbers ≥ 0, got (${shape.join(', ')})`);
  }
  if (x.ndim < k || shape.some((s, i) => x.shape[x.ndim - k + i] !== s)) {
    throw new RangeError(`layerNorm: expected input of shape (..., ${shape.join(', ')}), got ${shapeStr(x.shape)}`);
  }
  for (const [name, t] of [['weight', weight], ['bias', bias]] as const) {
    if (!t) continue;
    if (t.ndim !== k || t.shape.some((s, i) => s !== shape[i])) {
      throw new RangeError(`layerNorm: ${name} must have shape (${shape.join(', ')}), got ${shapeStr(t.shape)}`);
    }
    if (t.dtype !== x.dtype) throw new TypeError(`layerNorm: input is ${x.dtype} but ${name} is ${t.dtype}`);
  }
  if (!(eps >= 0)) throw new RangeError(`layerNorm: eps must be ≥ 0, got ${eps}`);
  return shape;
}
