/**
 * Central-difference gradient check in float64: compares the analytic vector–Jacobian product of
 * fn at a random upstream gradient with (f(x + εe_i) − f(x − εe_i)) / 2ε, element by element.
 */
import { Generator } from '../tensor/rng.js';
import { Tensor } from '../tensor/tensor.js';
import { noGrad } from './mode.js';

export interface GradcheckOptions {
  eps?: number;
  atol?: number;
  rtol?: number;
  seed?: number;
}

export interface GradcheckResult {
  ok: boolean;
  /** Worst |analytic − numeric| − rtol·|numeric| over all checked elements. */
  worst: number;
  message: string;
}

export function gradcheck(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], opts: GradcheckOptions = {}): GradcheckResult {
  const eps = opts.eps ?? 1e-6;
  const atol = opts.atol ?? 1e-5;
  const rtol = opts.rtol ?? 1e-3;
  for (const x of inputs) {
    if (x.requiresGrad && x.dtype !== 'float64') {
      throw new TypeError(`gradcheck: inputs that require grad must be float64, got ${x.dtype}`);
    }
  }
  const xs = inputs.map((x) => (x.requiresGrad ? x.detach().clone().requiresGrad_() : x));
  const out = fn(...xs);
  const v = Tensor.randn(out.shape, { dtype: 'float64', generator: new Generator(opts.seed ?? 0) });
  if (!out.requiresGrad) return { ok: false, worst: Infinity, message: 'the output does not depend on any input that requires grad' };
  out.backward(v);
  const objective = (): number => noGrad(() => fn(...xs).to('float64').mul(v).sum().item());
  let worst = -Infinity;
  let message = 'ok';
  xs.forEach((x, k) => {
    if (!x.requiresGrad) return;
    const analytic = x.grad ? x.grad.toTypedArray() : new Float64Array(x.numel);
    const d = x.storage.data;
    for (let i = 0; i < x.numel; i++) {
      const orig = d[i];
      d[i] = orig + eps;
      const fp = objective();
      d[i] = orig - eps;
      const fm = objective();
      d[i] = orig;
      const numeric = (fp - fm) / (2 * eps);
      const err = Math.abs(analytic[i] - numeric) - rtol * Math.abs(numeric);
      if (err > worst) worst = err;
      if (err > atol && message === 'ok') {
        message = `input ${k}, element ${i}: analytic ${analytic[i]} vs numeric ${numeric}`;
      }
    }
  });
  return { ok: message === 'ok', worst, message };
}
