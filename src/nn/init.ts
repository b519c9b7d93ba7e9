/**
 * Parameter initialisation, in place and without recording gradients. Every draw comes from a
 * Generator (the default one unless given), so a seed fixes a model's initial weights.
 *
 * fan_in / fan_out follow PyTorch: for a weight of shape (out, in, k...), fan_in = in·Πk and
 * fan_out = out·Πk.
 */
import { noGrad } from '../autograd/mode.js';
import { defaultGenerator, Generator } from '../tensor/rng.js';
import { shapeStr } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';

export function fans(t: Tensor): { fanIn: number; fanOut: number } {
  if (t.ndim < 2) throw new RangeError(`fan in and fan out need a tensor of at least 2 dims, got ${shapeStr(t.shape)}`);
  const receptive = t.shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: t.shape[1] * receptive, fanOut: t.shape[0] * receptive };
}

/** Fill t with draws from `draw` (in place). */
function fill(t: Tensor, draw: () => number): Tensor {
  return noGrad(() => {
    const v = new Float64Array(t.numel);
    for (let i = 0; i < v.length; i++) v[i] = draw();
    return t.copy_(new Tensor(v, t.shape, 'float64'));
  });
}

export function uniform_(t: Tensor, a = 0, b = 1, g: Generator = defaultGenerator): Tensor {
  return fill(t, () => a + (b - a) * g.uniform());
}

export function normal_(t: Tensor, mean = 0, std = 1, g: Generator = defaultGenerator): Tensor {
  return fill(t, () => mean + std * g.normal());
}

export function constant_(t: Tensor, value: number): Tensor {
  return noGrad(() => t.fill_(value));
}

export const zeros_ = (t: Tensor): Tensor => constant_(t, 0);
export const ones_ = (t: Tensor): Tensor => constant_(t, 1);

/** Glorot & Bengio 2010: U(−a, a) with a = gain·√(6 / (fan_in + fan_out)). */
export function xavierUniform_(t: Tensor, gain = 1, g: Generator = defaultGenerator): Tensor {
  const { fanIn, fanOut } = fans(t);
  const a = gain * Math.sqrt(6 / (fanIn + fanOut));
  return uniform_(t, -a, a, g);
}

/** Glorot & Bengio 2010: N(0, σ²) with σ = gain·√(2 / (fan_in + fan_out)). */
export function xavierNormal_(t: Tensor, gain = 1, g: Generator = defaultGenerator): Tensor {
  const { fanIn, fanOut } = fans(t);
  return normal_(t, 0, gain * Math.sqrt(2 / (fanIn + fanOut)), g);
}

export type Nonlinearity = 'relu' | 'leaky_relu' | 'linear' | 'sigmoid' | 'tanh';

/** PyTorch's calculate_gain. */
export function gain(nonlinearity: Nonlinearity, negativeSlope = 0.01): number {
  switch (nonlinearity) {
    case 'relu': return Math.SQRT2;
    case 'leaky_relu': return Math.sqrt(2 / (1 + negativeSlope * negativeSlope));
    case 'tanh': return 5 / 3;
    default: return 1;
  }
}

export interface KaimingOptions {
  /** Negative slope of the leaky ReLU after this layer (PyTorch's `a`). */
  a?: number;
  mode?: 'fan_in' | 'fan_out';
  nonlinearity?: Nonlinearity;
  generator?: Generator;
}

/** He et al. 2015: U(−b, b) with b = gain·√(3 / fan). */
export function kaimingUniform_(t: Tensor, opts: KaimingOptions = {}): Tensor {
  const std = kaimingStd(t, opts);
  return uniform_(t, -Math.sqrt(3) * std, Math.sqrt(3) * std, opts.generator);
}

/** He et al. 2015: N(0, σ²) with σ = gain / √fan. */
export function kaimingNormal_(t: Tensor, opts: KaimingOptions = {}): Tensor {
  return normal_(t, 0, kaimingStd(t, opts), opts.generator);
}

function kaimingStd(t: Tensor, opts: KaimingOptions): number {
  const { fanIn, fanOut } = fans(t);
  const fan = (opts.mode ?? 'fan_in') === 'fan_in' ? fanIn : fanOut;
  return gain(opts.nonlinearity ?? 'leaky_relu', opts.a ?? 0) / Math.sqrt(fan);
}
