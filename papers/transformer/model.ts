/**
 * The Transformer (Vaswani et al. 2017) for translation, as d2l's classic edition (§10.7): post-norm
 * blocks, sinusoidal positions, no weight sharing. B batch, Ts/T source/target steps, d = numHiddens,
 * h heads, V target vocabulary.
 *
 * Encoder: X ↦ Dropout(embed(X)·√d + P) (§3.4–3.5), then N blocks of
 *     Y = AddNorm(X, MultiHead(X, X, X)),  X′ = AddNorm(Y, FFN(Y))            (src/nn/transformer.ts)
 * with the source padding masked. Decoder: the same input layer on the target, then N blocks of
 *     Y = AddNorm(X, MultiHead(X, X, X))   causal: position t attends to positions ≤ t
 *     Z = AddNorm(Y, MultiHead(Y, E, E))   cross-attention over the encoder output E, source padding masked
 *     X′ = AddNorm(Z, FFN(Z))
 * and a dense layer to the logits, X′ W_o + b_o.
 *
 * Decoding is incremental: at step t the decoder runs on the last token only; each block keeps the
 * projected keys and values of its self-attention from the steps before (a cache, (B, h, t, d/h)) and
 * appends the new one, so the step costs O(t) instead of re-running the prefix; the encoder output's
 * projections for the cross-attention are computed once per sentence.
 */
import { MultiHeadAttention, PositionalEncoding } from '../../src/nn/attention.js';
import { Embedding, Linear } from '../../src/nn/layers.js';
import { Module } from '../../src/nn/module.js';
import { AddNorm, PositionWiseFFN, TransformerEncoderBlock } from '../../src/nn/transformer.js';
import { cat } from '../../src/ops/shape.js';
import type { Generator } from '../../src/tensor/rng.js';
import { Tensor } from '../../src/tensor/tensor.js';
import type { DecoderStep, EncoderDecoder } from '../translation/model.js';

export interface TransformerOptions {
  srcVocab: number;
  tgtVocab: number;
  /** d. */
  hidden: number;
  ffnHidden: number;
  heads: number;
  layers: number;
  dropout: number;
  /** Initialisation and dropout masks. */
  generator: Generator;
}

/** Projected keys and values, each (B, h, t, d/h). */
interface KV {
  K: Tensor;
  V: Tensor;
}

/** Token embeddings scaled by √d plus positions, then dropout: the input layer of both stacks. */
class InputLayer extends Module {
  readonly embedding: Embedding;
  readonly posEncoding: PositionalEncoding;
  constructor(vocab: number, private readonly d: number, dropout: number, generator: Generator) {
    super();
    this.embedding = this.registerModule('embedding', new Embedding(vocab, d, { generator }));
    this.posEncoding = this.registerModule('posEncoding', new PositionalEncoding(d, dropout, { generator }));
  }
  /** tokens (B, T) at positions offset … offset + T − 1 → (B, T, d). */
  forward(tokens: Tensor, offset = 0): Tensor {
    return this.posEncoding.forward(this.embedding.forward(tokens).mul(Math.sqrt(this.d)), offset);
  }
}

export class TransformerEncoder extends Module {
  readonly input: InputLayer;
  readonly blocks: TransformerEncoderBlock[];
  constructor(o: TransformerOptions) {
    super();
    this.input = this.registerModule('input', new InputLayer(o.srcVocab, o.hidden, o.dropout, o.generator));
    this.blocks = Array.from({ length: o.layers }, (_, i) =>
      this.registerModule(`block${i}`, new TransformerEncoderBlock(o.hidden, o.ffnHidden, o.heads, { dropout: o.dropout, generator: o.generator })));
  }
  /** X (B, Ts), valid lengths (B) → (B, Ts, d). */
  forward(X: Tensor, XValid: Tensor): Tensor {
    let h = this.input.forward(X);
    for (const b of this.blocks) h = b.forward(h, XValid);
    return h;
  }
}

/** A decoder block: causal self-attention, cross-attention over the encoder output, FFN; each with AddNorm. */
export class TransformerDecoderBlock extends Module {
  readonly selfAttention: MultiHeadAttention;
  readonly addnorm1: AddNorm;
  readonly crossAttention: MultiHeadAttention;
  readonly addnorm2: AddNorm;
  readonly ffn: PositionWiseFFN;
  readonly addnorm3: AddNorm;
  constructor(o: TransformerOptions) {
    super();
    const g = { generator: o.generator };
    const mha = () => new MultiHeadAttention(o.hidden, o.heads, { dropout: o.dropout, generator: o.generator });
    this.selfAttention = this.registerModule('selfAttention', mha());
    this.addnorm1 = this.registerModule('addnorm1', new AddNorm(o.hidden, o.dropout, g));
    this.crossAttention = this.registerModule('crossAttention', mha());
    this.addnorm2 = this.registerModule('addnorm2', new AddNorm(o.hidden, o.dropout, g));
    this.ffn = this.registerModule('ffn', new PositionWiseFFN(o.hidden, o.ffnHidden, o.hidden, g));
    this.addnorm3 = this.registerModule('addnorm3', new AddNorm(o.hidden, o.dropout, g));
  }

  /** The sublayers after the self-attention: cross-attention over the cached encoder projections, then the FFN. */
  private rest(X: Tensor, selfOut: Tensor, enc: KV, encValid: Tensor): Tensor {
    const Y = this.addnorm1.forward(X, selfOut);
    const Z = this.addnorm2.forward(Y, this.crossAttention.attend(Y, enc.K, enc.V, encValid));
    return this.addnorm3.forward(Z, this.ffn.forward(Z));
  }

  /** Training: the whole target X (B, T, d) at once, position t seeing positions ≤ t. */
  forward(X: Tensor, enc: KV, encValid: Tensor): Tensor {
    const [B, T] = X.shape;
    const causal = Tensor.arange(1, T + 1, 1, { dtype: 'int32' }).unsqueeze(0).expand([B, T]).contiguous(); // valid lengths (B, T): t + 1
    return this.rest(X, this.selfAttention.forward(X, X, X, causal), enc, encValid);
  }

  /** Decoding: one position x (B, 1, d) after the cached ones; returns the output and the cache with x's keys and values. */
  step(x: Tensor, cache: KV | null, enc: KV, encValid: Tensor): { y: Tensor; cache: KV } {
    const kv = this.selfAttention.projectKeyValues(x, x);
    const all = cache ? { K: cat([cache.K, kv.K], 2), V: cat([cache.V, kv.V], 2) } : kv;
    return { y: this.rest(x, this.selfAttention.attend(x, all.K, all.V, null), enc, encValid), cache: all };
  }
}

export interface TransformerState {
  /** Each decoder block's projections of the encoder output for its cross-attention. */
  enc: KV[];
  encValid: Tensor;
  /** Each decoder block's self-attention cache (null before the first step). */
  cache: (KV | null)[];
  /** Positions decoded so far (the next token's position). */
  t: number;
}

export class Transformer extends Module implements EncoderDecoder<TransformerState> {
  readonly encoder: TransformerEncoder;
  readonly input: InputLayer;
  readonly blocks: TransformerDecoderBlock[];
  readonly dense: Linear;
  constructor(readonly o: TransformerOptions) {
    super();
    this.encoder = this.registerModule('encoder', new TransformerEncoder(o));
    this.input = this.registerModule('input', new InputLayer(o.tgtVocab, o.hidden, o.dropout, o.generator));
    this.blocks = Array.from({ length: o.layers }, (_, i) => this.registerModule(`block${i}`, new TransformerDecoderBlock(o)));
    this.dense = this.registerModule('dense', new Linear(o.hidden, o.tgtVocab, { generator: o.generator }));
  }

  begin(X: Tensor, XValid: Tensor): TransformerState {
    const E = this.encoder.forward(X, XValid);
    return { enc: this.blocks.map((b) => b.crossAttention.projectKeyValues(E, E)), encValid: XValid, cache: this.blocks.map(() => null), t: 0 };
  }

  forward(X: Tensor, XValid: Tensor, decoderInput: Tensor): Tensor {
    const s = this.begin(X, XValid);
    let h = this.input.forward(decoderInput);
    this.blocks.forEach((b, i) => {
      h = b.forward(h, s.enc[i], XValid);
    });
    return this.dense.forward(h); // (B, T, V)
  }

  step(y: Tensor, s: TransformerState): DecoderStep<TransformerState> {
    let h = this.input.forward(y.unsqueeze(1), s.t); // (B, 1, d)
    const cache: KV[] = [];
    const attention: Record<string, Tensor> = {};
    this.blocks.forEach((b, i) => {
      const r = b.step(h, s.cache[i], s.enc[i], s.encValid);
      h = r.y;
      cache.push(r.cache);
      attention[`decoder block ${i + 1} cross-attention`] = b.crossAttention.attentionWeights!; // (B, h, 1, Ts)
    });
    return { logits: this.dense.forward(h.squeeze(1)), state: { ...s, cache, t: s.t + 1 }, attention };
  }

  selectState(s: TransformerState, rows: Tensor): TransformerState {
    const pick = (kv: KV): KV => ({ K: kv.K.indexSelect(0, rows), V: kv.V.indexSelect(0, rows) });
    return { enc: s.enc.map(pick), encValid: s.encValid.indexSelect(0, rows), cache: s.cache.map((c) => (c ? pick(c) : null)), t: s.t };
  }

  encoderAttention(): Record<string, Tensor> {
    return Object.fromEntries(this.encoder.blocks.map((b, i) => [`encoder block ${i + 1} self-attention`, b.attention.attentionWeights!]));
  }
}
