/**
 * Adadelta: Zeiler, "ADADELTA: An Adaptive Learning Rate Method" (2012), Algorithm 1, as
 * torch.optim.Adadelta (1.13).
 *
 *     E[g²]_t  = ρ E[g²]_{t−1} + (1 − ρ) g_t²
 *     Δx_t     = − (RMS[Δx]_{t−1} / RMS[g]_t) g_t,      RMS[y]_t = √(E[y²]_t + ε)
 *     E[Δx²]_t = ρ E[Δx²]_{t−1} + (1 − ρ) Δx_t²
 *     x_{t+1}  = x_t + Δx_t
 * torch adds a learning rate η that scales the applied step only (x_{t+1} = x_t + η Δx_t; the
 * accumulator E[Δx²] still sees the unscaled Δx_t); η = 1, the default, is the paper's method.
 * Code names: ρ = rho, ε = eps, E[g²] = "square_avg", E[Δx²] = "acc_delta", η = lr,
 * λ = weightDecay (L2: g_t ← g_t + λ x_t).
 */
import type { Tensor } from '../tensor/tensor.js';
import { Optimizer, ParamGroup, ParamsArg, ParamState, rangeProblem } from './optimizer.js';

export interface AdadeltaOptions {
  lr: number;
  rho: number;
  eps: number;
  weightDecay: number;
}

export class Adadelta extends Optimizer<AdadeltaOptions> {
  constructor(params: ParamsArg<AdadeltaOptions>, options: Partial<AdadeltaOptions> = {}) {
    super('Adadelta', params, { lr: 1.0, rho: 0.9, eps: 1e-6, weightDecay: 0 }, options);
  }

  protected validate(g: AdadeltaOptions): (string | null)[] {
    return [
      rangeProblem('lr', g.lr, 0),
      rangeProblem('rho', g.rho, 0, 1),
      rangeProblem('eps', g.eps, 0),
      rangeProblem('weightDecay', g.weightDecay, 0),
    ];
  }

  protected bufferNames(): string[] {
    return ['square_avg', 'acc_delta'];
  }

  protected update(p: Tensor, grad: Tensor, g: ParamGroup<AdadeltaOptions>, s: ParamState): void {
    s.step = s.step! + 1; // kept, as torch does, though the update does not use it
    const gt = g.weightDecay !== 0 ? grad.add(p.mul(g.weightDecay)) : grad; // g_t + λ x_t
    const { rho, eps } = g;
    // E[g²]_t = ρ E[g²]_{t−1} + (1 − ρ) g_t²
    const sq = (s.buffers.square_avg = this.buffer(s, 'square_avg', p).mul(rho).add(gt.mul(1 - rho).mul(gt)));
    const accPrev = this.buffer(s, 'acc_delta', p);
    // −Δx_t = RMS[Δx]_{t−1} / RMS[g]_t · g_t
    const delta = accPrev.add(eps).sqrt().div(sq.add(eps).sqrt()).mul(gt);
    // E[Δx²]_t = ρ E[Δx²]_{t−1} + (1 − ρ) Δx_t²
    s.buffers.acc_delta = accPrev.mul(rho).add(delta.mul(1 - rho).mul(delta));
    p.add_(delta, -g.lr); // x_{t+1} = x_t + η Δx_t
  }
}
