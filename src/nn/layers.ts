/**
 * Layers, each written from the primitives in src/ops. Shapes in comments: N batch, C channels,
 * H×W spatial, D features. Default initialisation is PyTorch's (see each constructor).
 */
import { noGrad } from '../autograd/mode.js';
import { adaptiveAvgPool2d, avgPool2d, conv2d, maxPool2d, Pair } from '../ops/conv.js';
import { batchNorm, layerNorm } from '../ops/norm.js';
import { defaultGenerator, Generator } from '../tensor/rng.js';
import { shapeStr } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { normal_, uniform_ } from './init.js';
import { Module } from './module.js';

function positiveInt(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`${what} must be a positive integer, got ${v}`);
  return v;
}

function requireLastDim(x: Tensor, d: number, layer: string): void {
  if (x.ndim < 1 || x.shape[x.ndim - 1] !== d) {
    throw new RangeError(`${layer}: expected input of shape (..., ${d}), got ${shapeStr(x.shape)}`);
  }
}

/**
 * y = x Wᵀ + b, x (..., in) → y (..., out). Init as PyTorch: W and b ~ U(−1/√in, 1/√in)
 * (kaiming_uniform with a = √5 gives exactly this bound for W).
 */
export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  constructor(readonly inFeatures: number, readonly outFeatures: number, opts: { bias?: boolean; generator?: Generator } = {}) {
    super();
    positiveInt(inFeatures, 'Linear: inFeatures');
    positiveInt(outFeatures, 'Linear: outFeatures');
    const g = opts.generator ?? defaultGenerator;
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = this.registerParameter('weight', uniform_(Tensor.zeros([outFeatures, inFeatures]), -bound, bound, g));
    this.bias = this.registerParameter('bias', opts.bias === false ? null : uniform_(Tensor.zeros([outFeatures]), -bound, bound, g));
  }
  forward(x: Tensor): Tensor {
    requireLastDim(x, this.inFeatures, 'Linear');
    const y = x.matmul(this.weight.transpose(0, 1));
    return this.bias ? y.add(this.bias) : y;
  }
  protected override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}, bias=${this.bias !== null}`;
  }
}

export interface Conv2dOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  groups?: number;
  bias?: boolean;
  generator?: Generator;
}

/** 2-D convolution, x (N, Cin, H, W) → (N, Cout, H', W'). Init as PyTorch: U(−1/√fan_in, 1/√fan_in), fan_in = Cin/groups·KH·KW. */
export class Conv2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly kernelSize: [number, number];
  constructor(readonly inChannels: number, readonly outChannels: number, kernelSize: Pair, readonly opts: Conv2dOptions = {}) {
    super();
    const groups = opts.groups ?? 1;
    positiveInt(inChannels, 'Conv2d: inChannels');
    positiveInt(outChannels, 'Conv2d: outChannels');
    if (inChannels % groups !== 0 || outChannels % groups !== 0) {
      throw new RangeError(`Conv2d: groups ${groups} must divide inChannels ${inChannels} and outChannels ${outChannels}`);
    }
    this.kernelSize = typeof kernelSize === 'number' ? [kernelSize, kernelSize] : [kernelSize[0], kernelSize[1]];
    const g = opts.generator ?? defaultGenerator;
    const fanIn = (inChannels / groups) * this.kernelSize[0] * this.kernelSize[1];
    const bound = 1 / Math.sqrt(fanIn);
    this.weight = this.registerParameter('weight', uniform_(Tensor.zeros([outChannels, inChannels / groups, ...this.kernelSize]), -bound, bound, g));
    this.bias = this.registerParameter('bias', opts.bias === false ? null : uniform_(Tensor.zeros([outChannels]), -bound, bound, g));
  }
  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, this.opts);
  }
  protected override extraRepr(): string {
    const o = this.opts;
    return `${this.inChannels}, ${this.outChannels}, kernelSize=${this.kernelSize.join('×')}` +
      (o.stride ? `, stride=${o.stride}` : '') + (o.padding ? `, padding=${o.padding}` : '') +
      (o.groups && o.groups > 1 ? `, groups=${o.groups}` : '');
  }
}

export class MaxPool2d extends Module {
  constructor(readonly kernelSize: Pair, readonly stride?: Pair, readonly padding: Pair = 0) {
    super();
  }
  forward(x: Tensor): Tensor {
    return maxPool2d(x, this.kernelSize, this.stride, this.padding);
  }
  protected override extraRepr(): string {
    return `kernelSize=${this.kernelSize}, stride=${this.stride ?? this.kernelSize}, padding=${this.padding}`;
  }
}

export class AvgPool2d extends Module {
  constructor(readonly kernelSize: Pair, readonly stride?: Pair, readonly padding: Pair = 0, readonly countIncludePad = true) {
    super();
  }
  forward(x: Tensor): Tensor {
    return avgPool2d(x, this.kernelSize, this.stride, this.padding, this.countIncludePad);
  }
  protected override extraRepr(): string {
    return `kernelSize=${this.kernelSize}, stride=${this.stride ?? this.kernelSize}, padding=${this.padding}`;
  }
}

export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: Pair) {
    super();
  }
  forward(x: Tensor): Tensor {
    return adaptiveAvgPool2d(x, this.outputSize);
  }
  protected override extraRepr(): string {
    return `outputSize=${this.outputSize}`;
  }
}

/**
 * Batch normalisation (Ioffe & Szegedy 2015) over all dims but the channel dim 1 (the batchNorm op):
 *   training: y = γ·(x − μ_B)/√(σ²_B + ε) + β with the batch mean μ_B and biased variance σ²_B;
 *             running_mean ← (1 − m)·running_mean + m·μ_B, running_var ← (1 − m)·running_var + m·σ²_B·n/(n − 1);
 *   eval:     the running statistics replace the batch's.
 */
class BatchNorm extends Module {
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;
  readonly numBatchesTracked: Tensor;
  readonly eps: number;
  readonly momentum: number;
  constructor(readonly numFeatures: number, private readonly rank: number, opts: { eps?: number; momentum?: number; affine?: boolean } = {}) {
    super();
    positiveInt(numFeatures, `${this.constructor.name}: numFeatures`);
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum ?? 0.1;
    const affine = opts.affine ?? true;
    this.weight = this.registerParameter('weight', affine ? Tensor.ones([numFeatures]) : null);
    this.bias = this.registerParameter('bias', affine ? Tensor.zeros([numFeatures]) : null);
    this.runningMean = this.registerBuffer('running_mean', Tensor.zeros([numFeatures]));
    this.runningVar = this.registerBuffer('running_var', Tensor.ones([numFeatures]));
    this.numBatchesTracked = this.registerBuffer('num_batches_tracked', Tensor.zeros([], { dtype: 'int32' }));
  }
  forward(x: Tensor): Tensor {
    const name = this.constructor.name;
    const ranks = this.rank === 4 ? [4] : [2, 3];
    if (!ranks.includes(x.ndim) || x.shape[1] !== this.numFeatures) {
      const want = this.rank === 4 ? `(N, ${this.numFeatures}, H, W)` : `(N, ${this.numFeatures}) or (N, ${this.numFeatures}, L)`;
      throw new RangeError(`${name}: expected input of shape ${want}, got ${shapeStr(x.shape)}`);
    }
    if (this.training) {
      const n = x.numel / this.numFeatures;
      if (n <= 1) throw new RangeError(`${name}: expected more than 1 value per channel when training, got input ${shapeStr(x.shape)}`);
      noGrad(() => this.numBatchesTracked.copy_(this.numBatchesTracked.add(1)));
    }
    // the op updates the running statistics in training mode (src/ops/norm.ts)
    return batchNorm(x, this.runningMean, this.runningVar, this.weight, this.bias, { training: this.training, momentum: this.momentum, eps: this.eps });
  }
  protected override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}`;
  }
}

/** BatchNorm over (N, C) or (N, C, L) inputs. */
export class BatchNorm1d extends BatchNorm {
  constructor(numFeatures: number, opts: { eps?: number; momentum?: number; affine?: boolean } = {}) {
    super(numFeatures, 2, opts);
  }
}

/** BatchNorm over (N, C, H, W) inputs. */
export class BatchNorm2d extends BatchNorm {
  constructor(numFeatures: number, opts: { eps?: number; momentum?: number; affine?: boolean } = {}) {
    super(numFeatures, 4, opts);
  }
}

/** Layer normalisation (Ba et al. 2016) over the last dims: y = γ·(x − μ)/√(σ² + ε) + β, biased σ². */
export class LayerNorm extends Module {
  readonly normalizedShape: number[];
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  constructor(normalizedShape: number | readonly number[], readonly opts: { eps?: number; elementwiseAffine?: boolean } = {}) {
    super();
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    const affine = opts.elementwiseAffine ?? true;
    this.weight = this.registerParameter('weight', affine ? Tensor.ones(this.normalizedShape) : null);
    this.bias = this.registerParameter('bias', affine ? Tensor.zeros(this.normalizedShape) : null);
  }
  forward(x: Tensor): Tensor {
    const k = this.normalizedShape.length;
    if (x.ndim < k || this.normalizedShape.some((s, i) => x.shape[x.ndim - k + i] !== s)) {
      throw new RangeError(`LayerNorm: expected input of shape (..., ${this.normalizedShape.join(', ')}), got ${shapeStr(x.shape)}`);
    }
    return layerNorm(x, this.normalizedShape, this.weight, this.bias, this.opts.eps ?? 1e-5);
  }
  protected override extraRepr(): string {
    return `[${this.normalizedShape.join(', ')}]`;
  }
}

/**
 * Dropout (Srivastava et al. 2014), inverted: in training each element is zeroed with probability p
 * and the rest scaled by 1/(1 − p); identity in eval. The mask is drawn from the given generator.
 */
export class Dropout extends Module {
  constructor(readonly p = 0.5, private readonly generator: Generator = defaultGenerator) {
    super();
    if (!(p >= 0 && p <= 1)) throw new RangeError(`Dropout: p must be in [0, 1], got ${p}`);
  }
  forward(x: Tensor): Tensor {
    if (!this.training || this.p === 0) return x;
    if (this.p === 1) return x.mul(0);
    const keep = Tensor.rand(x.shape, { generator: this.generator, dtype: x.dtype }).ge(this.p);
    return x.mul(keep.to(x.dtype)).div(1 - this.p);
  }
  protected override extraRepr(): string {
    return `p=${this.p}`;
  }
}

/** A lookup table: int32 indices (...) → vectors (..., D). Init N(0, 1), as PyTorch. */
export class Embedding extends Module {
  readonly weight: Tensor;
  constructor(readonly numEmbeddings: number, readonly embeddingDim: number, opts: { generator?: Generator } = {}) {
    super();
    positiveInt(numEmbeddings, 'Embedding: numEmbeddings');
    positiveInt(embeddingDim, 'Embedding: embeddingDim');
    this.weight = this.registerParameter('weight', normal_(Tensor.zeros([numEmbeddings, embeddingDim]), 0, 1, opts.generator));
  }
  forward(idx: Tensor): Tensor {
    return this.weight.indexSelect(0, idx.reshape([-1])).reshape([...idx.shape, this.embeddingDim]);
  }
  protected override extraRepr(): string {
    return `${this.numEmbeddings}, ${this.embeddingDim}`;
  }
}

export class Flatten extends Module {
  constructor(readonly startDim = 1, readonly endDim = -1) {
    super();
  }
  forward(x: Tensor): Tensor {
    return x.flatten(this.startDim, this.endDim);
  }
}

export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return x.relu();
  }
}

export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return x.sigmoid();
  }
}

export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return x.tanh();
  }
}

export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}

/** Modules applied in order; named "0", "1", ... as torch.nn.Sequential. */
export class Sequential extends Module {
  readonly layers: Module[];
  constructor(...layers: Module[]) {
    super();
    this.layers = layers.map((m, i) => this.registerModule(String(i), m));
  }
  forward(x: Tensor): Tensor {
    for (const m of this.layers) x = (m as Module & { forward(x: Tensor): Tensor }).forward(x);
    return x;
  }
  get length(): number {
    return this.layers.length;
  }
}
