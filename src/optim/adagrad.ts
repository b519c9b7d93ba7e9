/**
 * AdaGrad: Duchi, Hazan & Singer, "Adaptive Subgradient Methods for Online Learning and Stochastic
 * Optimization" (JMLR 2011), the diagonal version, as torch.optim.Adagrad (1.13).
 *
 * Paper (diagonal, their eq. for diag(G_t)):  G_t = G_{t−1} + g_t²,   θ_t = θ_{t−1} − η g_t / (δ + √G_t)
 * torch adds a learning-rate decay and a starting value for the accumulator:
 *     η_t = η / (1 + (t − 1) · lrDecay),   G_0 = initialAccumulatorValue
 * and, like the paper, puts ε (the paper's δ) outside the square root.
 * Code names: G = buffer "sum", η = lr, δ = eps, λ = weightDecay (L2: g_t ← g_t + λ θ_{t−1}).
 */
import type { Tensor } from '../tensor/tensor.js';
import { Optimizer, ParamGroup, ParamsArg, ParamState, rangeProblem } from './optimizer.js';

export interface AdagradOptions {
  lr: number;
  lrDecay: number;
  weightDecay: number;
  initialAccumulatorValue: number;
  eps: number;
}

export class Adagrad extends Optimizer<AdagradOptions> {
  constructor(params: ParamsArg<AdagradOptions>, options: Partial<AdagradOptions> = {}) {
    super('Adagrad', params, { lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10 }, options);
    // torch creates Adagrad's state when the optimiser is built (not on the first step), so that a
    // state dict taken before any step already holds G_0 for every parameter.
    for (const g of this.paramGroups) for (const p of g.params) this.buffer(this.stateOf(p), 'sum', p, g.initialAccumulatorValue);
  }

  protected validate(g: AdagradOptions): (string | null)[] {
    return [
      rangeProblem('lr', g.lr, 0),
      rangeProblem('lrDecay', g.lrDecay, 0),
      rangeProblem('weightDecay', g.weightDecay, 0),
      rangeProblem('initialAccumulatorValue', g.initialAccumulatorValue, 0),
      rangeProblem('eps', g.eps, 0),
    ];
  }

  protected bufferNames(): string[] {
    return ['sum'];
  }

  protected update(p: Tensor, grad: Tensor, g: ParamGroup<AdagradOptions>, s: ParamState): void {
    const t = (s.step = s.step! + 1);
    const gt = g.weightDecay !== 0 ? grad.add(p.mul(g.weightDecay)) : grad; // g_t + λ θ_{t−1}
    const clr = g.lr / (1 + (t - 1) * g.lrDecay); // η_t
    const G = this.buffer(s, 'sum', p, g.initialAccumulatorValue).add(gt.mul(gt)); // G_t = G_{t−1} + g_t²
    s.buffers.sum = G;
    p.add_(gt.div(G.sqrt().add(g.eps)), -clr); // θ_t = θ_{t−1} − η_t g_t / (√G_t + δ)
  }
}
