/**
 * The Transformer's layers (Vaswani et al. 2017, §3), shared by the translation Transformer and BERT.
 * Post-norm, as the paper: each sublayer's output is LayerNorm(x + Dropout(sublayer(x))).
 * Shapes: B batch, T steps, d = numHiddens.
 */
import type { Generator } from '../tensor/rng.js';
import type { Tensor } from '../tensor/tensor.js';
import { MultiHeadAttention } from './attention.js';
import { Dropout, LayerNorm, Linear } from './layers.js';
import { Module } from './module.js';

/** The position-wise feed-forward network (§3.3): FFN(x) = max(0, x W_1 + b_1) W_2 + b_2, applied at each position. */
export class PositionWiseFFN extends Module {
  readonly dense1: Linear;
  readonly dense2: Linear;
  constructor(numInputs: number, numHiddens: number, numOutputs: number, opts: { generator?: Generator } = {}) {
    super();
    this.dense1 = this.registerModule('dense1', new Linear(numInputs, numHiddens, opts));
    this.dense2 = this.registerModule('dense2', new Linear(numHiddens, numOutputs, opts));
  }
  forward(x: Tensor): Tensor {
    return this.dense2.forward(this.dense1.forward(x).relu());
  }
}

/** Residual connection and layer normalisation (§5.4 and §3.1): AddNorm(x, y) = LayerNorm(x + Dropout(y)). */
export class AddNorm extends Module {
  readonly dropout: Dropout;
  readonly ln: LayerNorm;
  constructor(normalizedShape: number | readonly number[], dropout: number, opts: { generator?: Generator } = {}) {
    super();
    this.dropout = this.registerModule('dropout', new Dropout(dropout, opts.generator));
    this.ln = this.registerModule('ln', new LayerNorm(normalizedShape));
  }
  forward(x: Tensor, y: Tensor): Tensor {
    return this.ln.forward(this.dropout.forward(y).add(x));
  }
}

export interface BlockOptions {
  dropout?: number;
  /** Biases in the attention projections (d2l: none; torch.nn.MultiheadAttention and BERT's: yes). */
  bias?: boolean;
  generator?: Generator;
}

/**
 * An encoder block (§3.1): multi-head self-attention, then the FFN, each with AddNorm.
 *     Y = AddNorm(X, MultiHead(X, X, X)),   Z = AddNorm(Y, FFN(Y))
 * The self-attention sees the positions before each row's valid length (padding masked).
 */
export class TransformerEncoderBlock extends Module {
  readonly attention: MultiHeadAttention;
  readonly addnorm1: AddNorm;
  readonly ffn: PositionWiseFFN;
  readonly addnorm2: AddNorm;
  constructor(numHiddens: number, ffnHiddens: number, numHeads: number, opts: BlockOptions = {}) {
    super();
    const dropout = opts.dropout ?? 0;
    const g = { generator: opts.generator };
    this.attention = this.registerModule('attention', new MultiHeadAttention(numHiddens, numHeads, { dropout, bias: opts.bias ?? false, generator: opts.generator }));
    this.addnorm1 = this.registerModule('addnorm1', new AddNorm(numHiddens, dropout, g));
    this.ffn = this.registerModule('ffn', new PositionWiseFFN(numHiddens, ffnHiddens, numHiddens, g));
    this.addnorm2 = this.registerModule('addnorm2', new AddNorm(numHiddens, dropout, g));
  }
  /** X (B, T, d), validLens int32 (B) or none → (B, T, d). */
  forward(X: Tensor, validLens?: Tensor | null): Tensor {
    const Y = this.addnorm1.forward(X, this.attention.forward(X, X, X, validLens));
    return this.addnorm2.forward(Y, this.ffn.forward(Y));
  }
}
