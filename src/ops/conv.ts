/** 2-D convolution and pooling on NCHW tensors, forward and backward through the conv/pool kernels. */
import { K } from '../backend/registry.js';
import type { Conv2dGeom, Pool2dGeom } from '../backend/kernels.js';
import { shapeStr } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { broadcastView, contiguousData, empty, record, requireFloating, viewOf } from './core.js';
import { cat } from './shape.js';

export type Pair = number | readonly [number, number];

function pair(v: Pair, name: string, op: string, min: number): [number, number] {
  const p: [number, number] = typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (p.length !== 2 || p.some((x) => !Number.isInteger(x) || x < min)) {
    throw new RangeError(`${op}: ${name} must be an integer ≥ ${min} or a pair of them, got ${JSON.stringify(v)}`);
  }
  return p;
}


function requireNCHW(x: Tensor, op: string): void {
  requireFloating(x, op);
  if (x.ndim !== 4) throw new RangeError(`${op}: expected input of shape (N, C, H, W), got ${shapeStr(x.shape)}`);
}

/**
 * The kernel taps [lo, hi) along one axis that read the input at some output position: tap i of output
 * position o reads index o·stride − pad + i·dilation, and a tap that reads only padding multiplies
 * zeros. Deep in a net on small images the map is smaller than the kernel (a 3×3 conv on a 1×1 map
 * reads through its centre tap only), and there cropping the kernel to these taps skips that work.
 */
function usedTaps(size: number, k: number, stride: number, pad: number, dilation: number, out: number): [number, number] {
  let lo = k;
  let hi = 0;
  for (let i = 0; i < k; i++) {
    const first = i * dilation - pad; // the index tap i reads at o = 0
    const o = first >= 0 ? 0 : Math.ceil(-first / stride); // the first o at which it is ≥ 0
    if (o < out && o * stride + first < size) {
      lo = Math.min(lo, i);
      hi = i + 1;
    }
  }
  return [lo, hi];
}

export interface Conv2dOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  groups?: number;
}

/** y = conv(x, w) + b with x (N, C, H, W), w (O, C/groups, KH, KW), b (O). */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: Conv2dOptions = {}): Tensor {
  requireNCHW(x, 'conv2d');
  const [strideH, strideW] = pair(opts.stride ?? 1, 'stride', 'conv2d', 1);
  const [padH, padW] = pair(opts.padding ?? 0, 'padding', 'conv2d', 0);
  const [dilationH, dilationW] = pair(opts.dilation ?? 1, 'dilation', 'conv2d', 1);
  const groups = opts.groups ?? 1;
  const [n, c, h, w] = x.shape;
  if (weight.ndim !== 4) throw new RangeError(`conv2d: expected weight of shape (O, C/groups, KH, KW), got ${shapeStr(weight.shape)}`);
  if (weight.dtype !== x.dtype) throw new TypeError(`conv2d: input is ${x.dtype} but weight is ${weight.dtype}`);
  const [o, cg, kh, kw] = weight.shape;
  if (!Number.isInteger(groups) || groups < 1 || c % groups !== 0 || o % groups !== 0) {
    throw new RangeError(`conv2d: groups ${groups} must divide both the input channels ${c} and the output channels ${o}`);
  }
  if (cg * groups !== c) {
    throw new RangeError(
      `conv2d: weight ${shapeStr(weight.shape)} expects ${cg * groups} input channels (${cg} per group × ${groups}), input ${shapeStr(x.shape)} has ${c}`,
    );
  }
  const oh = Math.floor((h + 2 * padH - dilationH * (kh - 1) - 1) / strideH) + 1;
  const ow = Math.floor((w + 2 * padW - dilationW * (kw - 1) - 1) / strideW) + 1;
  if (oh < 1 || ow < 1) {
    throw new RangeError(`conv2d: input ${shapeStr(x.shape)} (padded by ${padH}×${padW}) is smaller than the kernel ${kh}×${kw} (dilation ${dilationH}×${dilationW})`);
  }
  const hasBias = bias !== undefined && bias !== null;
  if (hasBias && (bias.ndim !== 1 || bias.shape[0] !== o)) throw new RangeError(`conv2d: expected bias of shape [${o}], got ${shapeStr(bias.shape)}`);
  if (hasBias && bias.dtype !== x.dtype) throw new TypeError(`conv2d: input is ${x.dtype} but bias is ${bias.dtype}`);
  let g: Conv2dGeom = { n, c, h, w, o, kh, kw, oh, ow, strideH, strideW, padH, padW, dilationH, dilationW, groups };
  // Crop the kernel to the taps that read the input: the same result, and the cropped-off weights get
  // the zero gradient they have (narrow's backward). Skipped where the crop would need negative padding.
  const [i0, i1] = usedTaps(h, kh, strideH, padH, dilationH, oh);
  const [j0, j1] = usedTaps(w, kw, strideW, padW, dilationW, ow);
  if ((i0 > 0 || i1 < kh || j0 > 0 || j1 < kw) && i0 < i1 && j0 < j1 && i0 * dilationH <= padH && j0 * dilationW <= padW) {
    weight = weight.narrow(2, i0, i1 - i0).narrow(3, j0, j1 - j0);
    g = { ...g, kh: i1 - i0, kw: j1 - j0, padH: padH - i0 * dilationH, padW: padW - j0 * dilationW };
  }
  return convKernel(x, weight, bias ?? null, g);
}

/** conv2d's forward and backward through the kernels, on checked arguments. */
function convKernel(x: Tensor, weight: Tensor, bias: Tensor | null, g: Conv2dGeom): Tensor {
  const { n, o, oh, ow } = g;
  const hasBias = bias !== null;
  const out = empty([n, o, oh, ow], x.dtype);
  K.conv2d(contiguousData(x), contiguousData(weight), g, out.storage.data);
  if (hasBias) {
    // the bias is added in place into the fresh output (an elementwise kernel may write over its
    // first operand), which spares a second output-sized tensor; its gradient is dy summed over N, H, W
    K.binary('add', viewOf(out), broadcastView(bias.reshape([1, o, 1, 1]), out.shape), out.storage.data);
  }
  const inputs = hasBias ? [x, weight, bias] : [x, weight];
  return record(out, 'conv2d', inputs, [x, weight], (dy, [x, weight]) => {
    const dyd = contiguousData(dy);
    let dx: Tensor | null = null;
    let dw: Tensor | null = null;
    if (x.requiresGrad) {
      dx = empty(x.shape, x.dtype);
      K.conv2dBackwardInput(dyd, contiguousData(weight), g, dx.storage.data);
    }
    if (weight.requiresGrad) {
      dw = empty(weight.shape, weight.dtype);
      K.conv2dBackwardWeight(dyd, contiguousData(x), g, dw.storage.data);
    }
    // two sums over adjacent dims, which the reduce kernel reads in place (no permuted copy)
    const db = hasBias && bias.requiresGrad ? dy.sum([2, 3]).sum(0) : null;
    return hasBias ? [dx, dw, db] : [dx, dw];
  }, { geom: g });
}

function poolGeom(x: Tensor, kernel: Pair, stride: Pair | undefined, padding: Pair, op: string, countIncludePad = true): Pool2dGeom {
  requireNCHW(x, op);
  const [kh, kw] = pair(kernel, 'kernelSize', op, 1);
  const [strideH, strideW] = pair(stride ?? [kh, kw], 'stride', op, 1);
  const [padH, padW] = pair(padding, 'padding', op, 0);
  if (2 * padH > kh || 2 * padW > kw) throw new RangeError(`${op}: padding ${padH}×${padW} must be at most half the kernel ${kh}×${kw}`);
  const [n, c, h, w] = x.shape;
  const oh = Math.floor((h + 2 * padH - kh) / strideH) + 1;
  const ow = Math.floor((w + 2 * padW - kw) / strideW) + 1;
  if (oh < 1 || ow < 1) throw new RangeError(`${op}: input ${shapeStr(x.shape)} is smaller than the kernel ${kh}×${kw}`);
  return { planes: n * c, h, w, oh, ow, kh, kw, strideH, strideW, padH, padW, countIncludePad };
}

/** Max pooling (stride defaults to the kernel size); the gradient goes to the max of each window. */
export function maxPool2d(x: Tensor, kernelSize: Pair, stride?: Pair, padding: Pair = 0): Tensor {
  const g = poolGeom(x, kernelSize, stride, padding, 'maxPool2d');
  const out = empty([x.shape[0], x.shape[1], g.oh, g.ow], x.dtype);
  const argmax = new Int32Array(out.numel);
  K.maxPool2d(contiguousData(x), g, out.storage.data, argmax);
  return record(out, 'maxPool2d', [x], [], (dy) => {
    const dx = empty(x.shape, x.dtype);
    K.maxPool2dBackward(contiguousData(dy), argmax, g, dx.storage.data);
    return [dx];
  }, { geom: g });
}

/** Average pooling (countIncludePad as PyTorch's default: padded cells count in the divisor). */
export function avgPool2d(x: Tensor, kernelSize: Pair, stride?: Pair, padding: Pair = 0, countIncludePad = true): Tensor {
  const g = poolGeom(x, kernelSize, stride, padding, 'avgPool2d', countIncludePad);
  const out = empty([x.shape[0], x.shape[1], g.oh, g.ow], x.dtype);
  K.avgPool2d(contiguousData(x), g, out.storage.data);
  return record(out, 'avgPool2d', [x], [], (dy) => {
    const dx = empty(x.shape, x.dtype);
    K.avgPool2dBackward(contiguousData(dy), g, dx.storage.data);
    return [dx];
  }, { geom: g });
}

/**
 * Adaptive average pooling to (OH, OW): output cell i averages input rows floor(i·H/OH) ..
 * ceil((i+1)·H/OH) − 1 (PyTorch's bins). When H, W divide evenly this is avgPool2d; otherwise it is
 * composed from slices and means.
 */
export function adaptiveAvgPool2d(x: Tensor, outputSize: Pair): Tensor {
  requireNCHW(x, 'adaptiveAvgPool2d');
  const [oh, ow] = pair(outputSize, 'outputSize', 'adaptiveAvgPool2d', 1);
  const [, , h, w] = x.shape;
  if (h % oh === 0 && w % ow === 0) return avgPool2d(x, [h / oh, w / ow]);
  const rows: Tensor[] = [];
  for (let i = 0; i < oh; i++) {
    const y0 = Math.floor((i * h) / oh);
    const y1 = Math.ceil(((i + 1) * h) / oh);
    const cols: Tensor[] = [];
    for (let j = 0; j < ow; j++) {
      const x0 = Math.floor((j * w) / ow);
      const x1 = Math.ceil(((j + 1) * w) / ow);
      cols.push(x.slice(2, y0, y1).slice(3, x0, x1).mean([2, 3], true));
    }
    rows.push(cat(cols, 3));
  }
  return cat(rows, 2);
}
