/** Gradient clipping by global norm, as torch.nn.utils.clip_grad_norm_ (1.13). */
import { noGrad } from '../autograd/mode.js';
import { Tensor } from '../tensor/tensor.js';

/**
 * Scale the gradients of `params` together so that their global L2 norm (as if all were concatenated
 * into one vector) is at most maxNorm:  g ← g · min(1, maxNorm / (‖g‖ + 1e-6)), in place. Parameters
 * without a gradient are skipped. Returns the norm before clipping (0 when no parameter has a gradient).
 */
export function clipGradNorm(params: Tensor | Tensor[], maxNorm: number): number {
  const list = params instanceof Tensor ? [params] : params;
  if (!Array.isArray(list) || !list.every((p) => p instanceof Tensor)) throw new TypeError('clipGradNorm: expected a Tensor or an array of Tensors');
  if (typeof maxNorm !== 'number' || !(maxNorm >= 0) || !Number.isFinite(maxNorm)) {
    throw new RangeError(`clipGradNorm: maxNorm must be a finite number ≥ 0, got ${String(maxNorm)}`);
  }
  const grads = list.map((p) => p.grad).filter((g): g is Tensor => g !== null);
  if (grads.length === 0) return 0;
  return noGrad(() => {
    // ‖g‖ = √(Σ_tensors ‖g_k‖²), each tensor's sum of squares from the backend, the total in a JS double
    let sq = 0;
    for (const g of grads) sq += g.mul(g).sum().item();
    const total = Math.sqrt(sq);
    const coef = Math.min(maxNorm / (total + 1e-6), 1); // torch multiplies even when the factor is 1
    for (const g of grads) g.mul_(coef);
    return total;
  });
}
