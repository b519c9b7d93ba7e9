/**
 * Stochastic gradient descent with momentum, as torch.optim.SGD (1.13): Polyak's heavy ball (1964) and
 * Nesterov's accelerated gradient (1983).
 *
 * Polyak writes the velocity with the learning rate inside it:
 *     v_{t+1} = μ v_t − η ∇f(θ_t),    θ_{t+1} = θ_t + v_{t+1}
 * torch (and this code) keeps the buffer b without the learning rate and applies η afterwards:
 *     b_t = μ b_{t−1} + (1 − τ) g_t     (b_1 = g_1: no dampening on the very first step)
 *     θ_t = θ_{t−1} − η b_t
 * The two agree (v = −η b) while η is constant; when a schedule changes η, torch's form rescales the
 * whole accumulated velocity at once, Polyak's only the new gradient's share.
 * Nesterov evaluates the gradient at the look-ahead point θ + μv; torch instead uses the gradient at θ
 * and puts the look-ahead into the step (the reformulation of Bengio, Boulanger-Lewandowski & Pascanu,
 * 2013, in torch's buffer convention):
 *     θ_t = θ_{t−1} − η (g_t + μ b_t)
 * Code names: μ = momentum, τ = dampening, η = lr, λ = weightDecay (L2: g_t ← g_t + λ θ_{t−1}).
 */
import type { Tensor } from '../tensor/tensor.js';
import { boolProblem, Optimizer, ParamGroup, ParamsArg, ParamState, rangeProblem } from './optimizer.js';

export interface SGDOptions {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
}

export class SGD extends Optimizer<SGDOptions> {
  /** `lr` is required (torch.optim.SGD has no default learning rate). */
  constructor(params: ParamsArg<SGDOptions>, options: Partial<SGDOptions> & { lr: number }) {
    if (options?.lr === undefined) throw new TypeError('SGD: options.lr is required (there is no default learning rate)');
    super('SGD', params, { lr: options.lr, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false }, options);
  }

  protected validate(g: SGDOptions): (string | null)[] {
    return [
      rangeProblem('lr', g.lr, 0),
      rangeProblem('momentum', g.momentum, 0),
      rangeProblem('dampening', g.dampening, -Infinity),
      rangeProblem('weightDecay', g.weightDecay, 0),
      boolProblem('nesterov', g.nesterov),
      g.nesterov && (!(g.momentum > 0) || g.dampening !== 0)
        ? `nesterov needs momentum > 0 and dampening = 0, got momentum ${g.momentum} and dampening ${g.dampening}`
        : null,
    ];
  }

  protected bufferNames(g: SGDOptions): string[] {
    return g.momentum !== 0 ? ['momentum_buffer'] : [];
  }

  protected override get countsSteps(): boolean {
    return false;
  }

  protected update(p: Tensor, grad: Tensor, g: ParamGroup<SGDOptions>, s: ParamState): void {
    let d = g.weightDecay !== 0 ? grad.add(p.mul(g.weightDecay)) : grad; // g_t + λ θ_{t−1}
    if (g.momentum !== 0) {
      const prev = s.buffers.momentum_buffer;
      // b_1 = g_1 (a copy: the caller may zero p.grad in place), then b_t = μ b_{t−1} + (1 − τ) g_t
      const b = prev === undefined ? d.clone() : prev.mul_(g.momentum).add_(d, 1 - g.dampening);
      s.buffers.momentum_buffer = b;
      d = g.nesterov ? d.add(b.mul(g.momentum)) : b;
    }
    p.add_(d, -g.lr); // θ_t = θ_{t−1} − η d
  }
}
