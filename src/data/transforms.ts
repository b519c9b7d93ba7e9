/**
 * Image transforms on batches (N, C, H, W): bilinear resize and per-channel normalisation. They work
 * on whole batches so that a training loop can resize after the DataLoader (resizing all of
 * Fashion-MNIST to 224×224 up front would take 12 GB).
 */
import { allocate, isFloating } from '../tensor/dtype.js';
import { shapeStr } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';

/**
 * For each output index along one axis: the two input indices and their weights. The arithmetic is
 * PyTorch's for align_corners=False (area_pixel_compute_source_index in its UpSample.h), in float32
 * like its CPU kernel for float tensors: scale = in/out, src = scale·(dst + 0.5) − 0.5 clamped at 0,
 * i0 = floor(src), i1 = i0 + 1 except at the last input index, weights (1 − λ, λ) with λ = src − i0.
 * (Checked against PyTorch 1.13's weights: the scale is a float32, src is not rounded, λ and 1 − λ are.)
 */
function axisWeights(inSize: number, outSize: number): { i0: Int32Array; i1: Int32Array; w0: Float64Array; w1: Float64Array } {
  const f = Math.fround;
  const scale = f(inSize / outSize);
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const w0 = new Float64Array(outSize);
  const w1 = new Float64Array(outSize);
  for (let d = 0; d < outSize; d++) {
    // The product and difference are exact in float64 (a float32 times a half-integer), as in the
    // kernel's fused multiply-add; only λ is rounded to float32.
    let src = scale * (d + 0.5) - 0.5;
    if (src < 0) src = 0;
    const lo = Math.floor(src);
    i0[d] = lo;
    i1[d] = lo < inSize - 1 ? lo + 1 : lo;
    w1[d] = f(src - lo);
    w0[d] = f(1 - w1[d]);
  }
  return { i0, i1, w0, w1 };
}

/**
 * Bilinear resize of a batch (N, C, H, W) to (N, C, outH, outW), the same as PyTorch's
 * `F.interpolate(x, size, mode='bilinear', align_corners=False)` (and torchvision's Resize on tensors
 * with antialias off). `size` is [outH, outW] or one number for both. Not recorded for autograd.
 */
export function resizeBilinear(x: Tensor, size: number | readonly [number, number]): Tensor {
  const [outH, outW] = typeof size === 'number' ? [size, size] : size;
  if (x.ndim !== 4) throw new RangeError(`resizeBilinear: expected a batch (N, C, H, W), got shape ${shapeStr(x.shape)}`);
  if (!isFloating(x.dtype)) throw new TypeError(`resizeBilinear: expected a floating tensor, got ${x.dtype}`);
  if (![outH, outW].every((s) => Number.isInteger(s) && s > 0)) {
    throw new RangeError(`resizeBilinear: size must be positive integers, got ${JSON.stringify(size)}`);
  }
  const [N, C, H, W] = x.shape;
  const c = x.contiguous();
  const src = c.storage.data;
  const out = allocate(x.dtype, N * C * outH * outW);
  const ry = axisWeights(H, outH);
  const rx = axisWeights(W, outW);
  for (let p = 0; p < N * C; p++) {
    const inBase = c.offset + p * H * W;
    const outBase = p * outH * outW;
    for (let oy = 0; oy < outH; oy++) {
      const r0 = inBase + ry.i0[oy] * W;
      const r1 = inBase + ry.i1[oy] * W;
      const h0 = ry.w0[oy];
      const h1 = ry.w1[oy];
      const o = outBase + oy * outW;
      for (let ox = 0; ox < outW; ox++) {
        const a = rx.i0[ox];
        const b = rx.i1[ox];
        const v0 = rx.w0[ox];
        const v1 = rx.w1[ox];
        out[o + ox] = h0 * (v0 * src[r0 + a] + v1 * src[r0 + b]) + h1 * (v0 * src[r1 + a] + v1 * src[r1 + b]);
      }
    }
  }
  return new Tensor(out, [N, C, outH, outW], x.dtype);
}

/**
 * (x − mean) / std per channel of a batch (N, C, H, W) (as torchvision's Normalize); `mean` and
 * `std` are one number for all channels or one per channel.
 */
export function normalize(x: Tensor, mean: number | readonly number[], std: number | readonly number[]): Tensor {
  if (x.ndim < 2) throw new RangeError(`normalize: expected (N, C, ...), got shape ${shapeStr(x.shape)}`);
  const C = x.shape[1];
  const perChannel = (v: number | readonly number[], name: string): Tensor => {
    const list = typeof v === 'number' ? [v] : [...v];
    if (list.length !== 1 && list.length !== C) {
      throw new RangeError(`normalize: ${name} has ${list.length} values, expected 1 or one per channel (${C}, shape ${shapeStr(x.shape)})`);
    }
    if (name === 'std' && list.some((s) => s === 0)) throw new RangeError('normalize: std must not be 0');
    return Tensor.from(list, { dtype: x.dtype, shape: [1, list.length, ...x.shape.slice(2).map(() => 1)] });
  };
  return x.sub(perChannel(mean, 'mean')).div(perChannel(std, 'std'));
}
