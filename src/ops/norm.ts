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
import { shapeStr } from '../tensor/shape.js';
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
