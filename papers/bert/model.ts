/**
 * BERT (Devlin et al. 2018) as d2l's §15.8: an encoder of post-norm Transformer blocks (src/nn/transformer.ts)
 * over the sum of three embeddings, and the two pretraining heads. B batch, T = max_len steps,
 * d = numHiddens, V vocabulary, P predicted positions per sequence.
 *
 *   X⁰ = E_tok[tokens] + E_seg[segments] + E_pos[0 : T]          (B, T, d); E_pos learned, (1, max_len, d)
 *   Xˡ = EncoderBlock(Xˡ⁻¹, validLens),  l = 1 … N               the padding masked in the self-attention
 *   MLM: H = X^N gathered at the P chosen positions               (B, P, d)
 *        ŷ_mlm = W₂ LayerNorm(ReLU(W₁ H + b₁)) + b₂               (B, P, V)
 *   NSP: ŷ_nsp = W_nsp tanh(W_h X^N[:, 0] + b_h) + b_nsp          (B, 2), from the <cls> position
 *
 * The attention projections have biases (d2l's use_bias=True); every layer has PyTorch's default
 * initialisation (Linear U(±1/√fan_in), embeddings and E_pos N(0, 1)), as d2l's BERT in PyTorch.
 */
import { Embedding, LayerNorm, Linear } from '../../src/nn/layers.js';
import { normal_ } from '../../src/nn/init.js';
import { Module } from '../../src/nn/module.js';
import { TransformerEncoderBlock } from '../../src/nn/transformer.js';
import { shapeStr } from '../../src/tensor/shape.js';
import type { Generator } from '../../src/tensor/rng.js';
import { Tensor } from '../../src/tensor/tensor.js';

export interface BertOptions {
  vocab: number;
  /** d. */
  hidden: number;
  ffnHidden: number;
  heads: number;
  layers: number;
  dropout: number;
  /** Rows of the positional embedding: the longest input. */
  maxLen: number;
  /** Initialisation and dropout masks. */
  generator: Generator;
}

/** Token + segment + learned positional embeddings, then the encoder blocks. */
export class BertEncoder extends Module {
  readonly tokenEmbedding: Embedding;
  readonly segmentEmbedding: Embedding;
  /** E_pos (1, maxLen, d). */
  readonly posEmbedding: Tensor;
  readonly blocks: TransformerEncoderBlock[];
  constructor(readonly o: BertOptions) {
    super();
    const generator = o.generator;
    this.tokenEmbedding = this.registerModule('tokenEmbedding', new Embedding(o.vocab, o.hidden, { generator }));
    this.segmentEmbedding = this.registerModule('segmentEmbedding', new Embedding(2, o.hidden, { generator }));
    this.posEmbedding = this.registerParameter('posEmbedding', normal_(Tensor.zeros([1, o.maxLen, o.hidden]), 0, 1, generator))!;
    this.blocks = Array.from({ length: o.layers }, (_, i) =>
      this.registerModule(`block${i}`, new TransformerEncoderBlock(o.hidden, o.ffnHidden, o.heads, { dropout: o.dropout, bias: true, generator })));
  }
  /** tokens, segments int32 (B, T), validLens int32 (B) → (B, T, d). */
  forward(tokens: Tensor, segments: Tensor, validLens: Tensor): Tensor {
    if (tokens.ndim !== 2) throw new RangeError(`BertEncoder: expected tokens of shape (B, T), got ${shapeStr(tokens.shape)}`);
    const [B, T] = tokens.shape;
    if (segments.ndim !== 2 || segments.shape[0] !== B || segments.shape[1] !== T) {
      throw new RangeError(`BertEncoder: expected segments of the tokens' shape (${B}, ${T}), got ${shapeStr(segments.shape)}`);
    }
    if (T > this.o.maxLen) throw new RangeError(`BertEncoder: ${T} tokens exceed max_len ${this.o.maxLen}`);
    let X = this.tokenEmbedding.forward(tokens).add(this.segmentEmbedding.forward(segments)).add(this.posEmbedding.narrow(1, 0, T));
    for (const b of this.blocks) X = b.forward(X, validLens);
    return X;
  }
}

/** The rows of X (B, T, d) at positions (B, P) → (B, P, d): row b takes X[b, positions[b, j]]. */
export function gatherPositions(X: Tensor, positions: Tensor): Tensor {
  const [B, T, d] = X.shape;
  if (positions.dtype !== 'int32' || positions.ndim !== 2 || positions.shape[0] !== B) {
    throw new RangeError(`gatherPositions: expected int32 positions of shape (${B}, P), got ${positions.dtype} ${shapeStr(positions.shape)}`);
  }
  const P = positions.shape[1];
  const pos = positions.toTypedArray();
  for (let i = 0; i < pos.length; i++) {
    if (pos[i] < 0 || pos[i] >= T) throw new RangeError(`gatherPositions: position ${pos[i]} is outside the ${T} steps`);
  }
  // row b·T + positions[b, j] of X (B·T, d), computed with ops (so that a traced forward pass sees it)
  const offsets = new Tensor(Int32Array.from({ length: B }, (_, b) => b * T), [B, 1], 'int32');
  return X.reshape([B * T, d]).indexSelect(0, positions.add(offsets).reshape([B * P])).reshape([B, P, d]);
}

/** The masked-language-model head: dense(d) – ReLU – LayerNorm – dense(V) at the chosen positions. */
export class MaskLM extends Module {
  readonly dense1: Linear;
  readonly ln: LayerNorm;
  readonly dense2: Linear;
  constructor(vocab: number, hidden: number, generator: Generator) {
    super();
    this.dense1 = this.registerModule('dense1', new Linear(hidden, hidden, { generator }));
    this.ln = this.registerModule('ln', new LayerNorm(hidden));
    this.dense2 = this.registerModule('dense2', new Linear(hidden, vocab, { generator }));
  }
  /** X (B, T, d), positions int32 (B, P) → logits (B, P, V). */
  forward(X: Tensor, positions: Tensor): Tensor {
    return this.dense2.forward(this.ln.forward(this.dense1.forward(gatherPositions(X, positions)).relu()));
  }
}

/** The encoder and both heads. */
export class BertModel extends Module {
  readonly encoder: BertEncoder;
  readonly mlm: MaskLM;
  /** The NSP classifier's hidden layer, tanh(W_h x + b_h) on <cls>. */
  readonly hidden: Linear;
  readonly nsp: Linear;
  constructor(readonly o: BertOptions) {
    super();
    this.encoder = this.registerModule('encoder', new BertEncoder(o));
    this.hidden = this.registerModule('hidden', new Linear(o.hidden, o.hidden, { generator: o.generator }));
    this.mlm = this.registerModule('mlm', new MaskLM(o.vocab, o.hidden, o.generator));
    this.nsp = this.registerModule('nsp', new Linear(o.hidden, 2, { generator: o.generator }));
  }
  /**
   * tokens, segments (B, T), validLens (B), positions (B, P) or none → the encoding (B, T, d), the MLM
   * logits (B, P, V) (null without positions) and the NSP logits (B, 2).
   */
  forward(tokens: Tensor, segments: Tensor, validLens: Tensor, positions: Tensor | null): { encoded: Tensor; mlm: Tensor | null; nsp: Tensor } {
    const encoded = this.encoder.forward(tokens, segments, validLens);
    const mlm = positions ? this.mlm.forward(encoded, positions) : null;
    const cls = encoded.narrow(1, 0, 1).squeeze(1); // (B, d)
    return { encoded, mlm, nsp: this.nsp.forward(this.hidden.forward(cls).tanh()) };
  }
}
