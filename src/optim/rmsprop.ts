/**
 * RMSProp: Tieleman & Hinton, Coursera "Neural Networks for Machine Learning", lecture 6e (2012), with
 * the centred variant of Graves, "Generating Sequences With Recurrent Neural Networks" (2013, eq. 38–41),
 * as torch.optim.RMSprop (1.13).
 *
 *     E[g²]_t = α E[g²]_{t−1} + (1 − α) g_t²
 *     centred:  E[g]_t = α E[g]_{t−1} + (1 − α) g_t,   ν_t = E[g²]_t − E[g]_t²   (else ν_t = E[g²]_t)
 *     without momentum:  θ_t = θ_{t−1} − η g_t / (√ν_t + ε)
 *     with momentum μ:   b_t = μ b_{t−1} + g_t / (√ν_t + ε),   θ_t = θ_{t−1} − η b_t
 * ε sits outside the square root in torch (TensorFlow and Graves put it inside: √(ν_t + ε)); the
 * lecture has no ε. Code names: α = alpha, η = lr, μ = momentum, E[g²] = "square_avg",
 * E[g] = "grad_avg", b = "momentum_buffer", λ = weightDecay (L2: g_t ← g_t + λ θ_{t−1}).
 */
import type { Tensor } from '../tensor/tensor.js';
import { boolProblem, Optimizer, ParamGroup, ParamsArg, ParamState, rangeProblem } from './optimizer.js';

export interface RMSpropOptions {
  lr: number;
  alpha: number;
  eps: number;
  weightDecay: number;
  momentum: number;
  centered: boolean;
}

export class RMSprop extends Optimizer<RMSpropOptions> {
  constructor(params: ParamsArg<RMSpropOptions>, options: Partial<RMSpropOptions> = {}) {
    super('RMSprop', params, { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false }, options);
  }

  protected validate(g: RMSpropOptions): (string | null)[] {
    return [
      rangeProblem('lr', g.lr, 0),
      rangeProblem('alpha', g.alpha, 0),
      rangeProblem('eps', g.eps, 0),
      rangeProblem('weightDecay', g.weightDecay, 0),
      rangeProblem('momentum', g.momentum, 0),
      boolProblem('centered', g.centered),
    ];
  }

  protected bufferNames(g: RMSpropOptions): string[] {
    return ['square_avg', ...(g.momentum > 0 ? ['momentum_buffer'] : []), ...(g.centered ? ['grad_avg'] : [])];
  }

  protected update(p: Tensor, grad: Tensor, g: ParamGroup<RMSpropOptions>, s: ParamState): void {
    s.step = s.step! + 1; // kept, as torch does, though the update does not use it
    const gt = g.weightDecay !== 0 ? grad.add(p.mul(g.weightDecay)) : grad; // g_t + λ θ_{t−1}
    // E[g²]_t = α E[g²]_{t−1} + (1 − α) g_t²
    const sq = (s.buffers.square_avg = this.buffer(s, 'square_avg', p).mul(g.alpha).add(gt.mul(1 - g.alpha).mul(gt)));
    let nu = sq;
    if (g.centered) {
      // E[g]_t = α E[g]_{t−1} + (1 − α) g_t;  ν_t = E[g²]_t − E[g]_t²
      const ga = (s.buffers.grad_avg = this.buffer(s, 'grad_avg', p).mul(g.alpha).add(gt.mul(1 - g.alpha)));
      nu = sq.sub(ga.mul(ga));
    }
    const denom = nu.sqrt().add(g.eps); // √ν_t + ε
    if (g.momentum > 0) {
      const b = (s.buffers.momentum_buffer = this.buffer(s, 'momentum_buffer', p).mul(g.momentum).add(gt.div(denom)));
      p.add_(b, -g.lr); // θ_t = θ_{t−1} − η b_t
    } else {
      p.add_(gt.div(denom), -g.lr); // θ_t = θ_{t−1} − η g_t / (√ν_t + ε)
    }
  }
}
