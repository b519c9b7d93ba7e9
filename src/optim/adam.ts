/**
 * Adam: Kingma & Ba, "Adam: A Method for Stochastic Optimization" (2014), Algorithm 1, with the AMSGrad
 * variant (Reddi, Kale & Kumar 2018), and AdamW: Loshchilov & Hutter, "Decoupled Weight Decay
 * Regularization" (ICLR 2019), Algorithm 2 — as torch.optim.Adam and torch.optim.AdamW (1.13).
 *
 *     m_t = β1 m_{t−1} + (1 − β1) g_t
 *     v_t = β2 v_{t−1} + (1 − β2) g_t²
 *     m̂_t = m_t / (1 − β1^t),   v̂_t = v_t / (1 − β2^t)     (AMSGrad: v_t^max = max(v_{t−1}^max, v_t) in place of v_t)
 *     θ_t = θ_{t−1} − α m̂_t / (√v̂_t + ε)
 * torch follows Algorithm 1 (ε added to √v̂_t), not the paper's "more efficient" ordering of §2 that
 * adds ε̂ to √v_t before bias correction; the two differ only through ε.
 *
 * Weight decay λ: Adam adds it to the gradient (L2 regularisation, g_t ← g_t + λ θ_{t−1}), so it is
 * rescaled by the adaptive denominator. AdamW decouples it: θ_{t−1} ← θ_{t−1}(1 − α λ) before the Adam
 * step. The paper multiplies the decay by the schedule factor η_t only (θ_t = θ_{t−1} − η_t(α m̂/(√v̂+ε)
 * + λ θ_{t−1})); torch folds η_t into lr, so its decay is lr·λ: the paper's λ equals torch's lr·λ / η_t.
 * Code names: α = lr, β1, β2 = betas, ε = eps, m = "exp_avg", v = "exp_avg_sq", v^max = "max_exp_avg_sq".
 */
import type { AdamStep } from '../backend/kernels.js';
import { K } from '../backend/registry.js';
import { contiguousData } from '../ops/core.js';
import type { Tensor } from '../tensor/tensor.js';
import { boolProblem, Optimizer, ParamGroup, ParamsArg, ParamState, rangeProblem } from './optimizer.js';

export interface AdamOptions {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
}

/** What Adam and AdamW share; they differ only in how weight decay enters. */
abstract class AdamFamily extends Optimizer<AdamOptions> {
  protected abstract readonly decoupled: boolean;

  protected validate(g: AdamOptions): (string | null)[] {
    const betas = Array.isArray(g.betas) && g.betas.length === 2 ? g.betas : null;
    return [
      rangeProblem('lr', g.lr, 0),
      betas ? rangeProblem('betas[0]', betas[0], 0, 1, true) : `betas must be a pair [β1, β2], got ${JSON.stringify(g.betas)}`,
      betas ? rangeProblem('betas[1]', betas[1], 0, 1, true) : null,
      rangeProblem('eps', g.eps, 0),
      rangeProblem('weightDecay', g.weightDecay, 0),
      boolProblem('amsgrad', g.amsgrad),
    ];
  }

  protected bufferNames(g: AdamOptions): string[] {
    return ['exp_avg', 'exp_avg_sq', ...(g.amsgrad ? ['max_exp_avg_sq'] : [])];
  }

  protected update(p: Tensor, grad: Tensor, g: ParamGroup<AdamOptions>, s: ParamState): void {
    const [beta1, beta2] = g.betas;
    const t = (s.step = s.step! + 1);
    const h: AdamStep = {
      beta1,
      beta2,
      stepSize: g.lr / (1 - beta1 ** t), // α / (1 − β1^t): bias correction of m folded into the step
      bc2Sqrt: Math.sqrt(1 - beta2 ** t), // √(1 − β2^t), so √v̂_t = √v_t / bc2Sqrt
      eps: g.eps,
      l2: this.decoupled ? 0 : g.weightDecay, // Adam: g_t ← g_t + λ θ_{t−1}
      decay: this.decoupled ? 1 - g.lr * g.weightDecay : 1, // AdamW: θ_{t−1} ← θ_{t−1}(1 − α λ)
    };
    const m = this.buffer(s, 'exp_avg', p);
    const v = this.buffer(s, 'exp_avg_sq', p);
    const vmax = g.amsgrad ? this.buffer(s, 'max_exp_avg_sq', p) : null;
    adamStep(p, grad, m, v, vmax, h);
  }
}

/**
 * One Adam step in place on p and its buffers m, v (and vmax, with AMSGrad): the fused kernel when
 * every tensor is contiguous, else adamStepComposed.
 */
export function adamStep(p: Tensor, grad: Tensor, m: Tensor, v: Tensor, vmax: Tensor | null, h: AdamStep): void {
  const own = [p, m, v, ...(vmax ? [vmax] : [])];
  if (!own.every((t) => t.isContiguous() && t.dtype === p.dtype) || grad.dtype !== p.dtype) {
    adamStepComposed(p, grad, m, v, vmax, h);
    return;
  }
  const data = (t: Tensor) => t.storage.data.subarray(t.offset, t.offset + t.numel);
  K.adam(data(p), contiguousData(grad), data(m), data(v), vmax ? data(vmax) : null, p.numel, h);
  for (const t of own) t.storage.version++;
}

/** The same step composed from tensor ops (each rounded to p's dtype): the definition the fused kernel is tested against. */
export function adamStepComposed(p: Tensor, grad: Tensor, m: Tensor, v: Tensor, vmax: Tensor | null, h: AdamStep): void {
  if (h.decay !== 1) p.mul_(h.decay);
  const gt = h.l2 !== 0 ? grad.add(p.mul(h.l2)) : grad;
  m.copy_(m.mul(h.beta1).add(gt.mul(1 - h.beta1))); // m_t
  v.copy_(v.mul(h.beta2).add(gt.mul(1 - h.beta2).mul(gt))); // v_t
  const vUsed = vmax ? vmax.copy_(vmax.maximum(v)) : v; // v_t^max
  const denom = vUsed.sqrt().div(h.bc2Sqrt).add(h.eps); // √v̂_t + ε
  p.add_(m.div(denom), -h.stepSize); // θ_t = θ_{t−1} − α m̂_t / (√v̂_t + ε)
}

export class Adam extends AdamFamily {
  protected readonly decoupled = false;

  constructor(params: ParamsArg<AdamOptions>, options: Partial<AdamOptions> = {}) {
    super('Adam', params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false }, options);
  }
}

/** Adam with decoupled weight decay; note the default weightDecay of 1e-2 (torch's). */
export class AdamW extends AdamFamily {
  protected readonly decoupled = true;

  constructor(params: ParamsArg<AdamOptions>, options: Partial<AdamOptions> = {}) {
    super('AdamW', params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, amsgrad: false }, options);
  }
}
