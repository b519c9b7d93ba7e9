/**
 * The RNN encoder–decoder with additive attention (Bahdanau, Cho & Bengio 2014), as d2l's
 * Seq2SeqAttentionDecoder (classic edition, §10.4). The encoder is seq2seq's (an L-layer GRU over the
 * embedded source); the decoder no longer squeezes the sentence into one vector but, at every step,
 * looks back at all encoder states h_1 … h_T (B, T, H), the keys and values:
 *
 *     q       = s_{t′−1}^(L)                                   the decoder's top state before the step (B, H)
 *     e_t     = w_vᵀ tanh(W_q q + W_k h_t)                     additive score of source position t
 *     α       = masked softmax(e) over t < valid length        (positions past the source's end get none)
 *     c_t′    = Σ_t α_t h_t                                    the step's context (B, H)
 *     s_t′    = GRU([c_t′, embed(y_{t′−1})], s_{t′−1}),   o_t′ = s_t′^(L) W_o + b_o
 *
 * The decoder starts from the encoder's final state, as seq2seq's.
 */
import { AdditiveAttention } from '../../src/nn/attention.js';
import { Embedding, Linear } from '../../src/nn/layers.js';
import { Module } from '../../src/nn/module.js';
import { cat, stack } from '../../src/ops/shape.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { StackedRNN } from '../rnn/model.js';
import { GRUEncoder, LayerStates, selectRows, Seq2SeqOptions } from '../seq2seq/model.js';
import type { DecoderStep, EncoderDecoder } from '../translation/model.js';

/** The decoder's state: the encoder states (keys and values, (B, T, H)), the source's valid lengths, the GRU's layer states. */
export interface BahdanauState {
  keys: Tensor;
  validLen: Tensor;
  layers: LayerStates;
}

export class Bahdanau extends Module implements EncoderDecoder<BahdanauState> {
  readonly encoder: GRUEncoder;
  readonly attention: AdditiveAttention;
  readonly embedding: Embedding;
  readonly rnn: StackedRNN;
  readonly dense: Linear;
  constructor(readonly o: Seq2SeqOptions) {
    super();
    const g = o.generator;
    this.encoder = this.registerModule('encoder', new GRUEncoder(o.srcVocab, o.embed, o.hidden, o.layers, o.dropout, g));
    this.attention = this.registerModule('attention', new AdditiveAttention(o.hidden, o.hidden, o.hidden, o.dropout, { generator: g }));
    this.embedding = this.registerModule('embedding', new Embedding(o.tgtVocab, o.embed, { generator: g }));
    this.rnn = this.registerModule('rnn', new StackedRNN('gru', o.hidden + o.embed, o.hidden, { numLayers: o.layers, dropout: o.dropout, init: 'uniform', generator: g }));
    this.dense = this.registerModule('dense', new Linear(o.hidden, o.tgtVocab, { generator: g }));
  }

  begin(X: Tensor, XValid: Tensor): BahdanauState {
    const { outputs, state } = this.encoder.forward(X);
    return { keys: outputs.transpose(0, 1).contiguous(), validLen: XValid, layers: state }; // keys (B, T, H)
  }

  /** One step from the embedded previous token (B, E): the top layer's new state (B, H), the new state, the attention weights (B, 1, T). */
  private advance(emb: Tensor, s: BahdanauState): { h: Tensor; state: BahdanauState; weights: Tensor } {
    const q = s.layers[s.layers.length - 1][0].unsqueeze(1); // (B, 1, H)
    const context = this.attention.forward(q, s.keys, s.keys, s.validLen); // (B, 1, H)
    const x = cat([context, emb.unsqueeze(1)], 2).transpose(0, 1); // [c, embed(y)]: (1, B, H + E)
    const r = this.rnn.forward(x, s.layers);
    return { h: r.output.squeeze(0), state: { ...s, layers: r.state }, weights: this.attention.attentionWeights! };
  }

  forward(X: Tensor, XValid: Tensor, decoderInput: Tensor): Tensor {
    let s = this.begin(X, XValid);
    const emb = this.embedding.forward(decoderInput); // (B, T, E)
    const hs: Tensor[] = [];
    for (let t = 0; t < emb.shape[1]; t++) {
      const r = this.advance(emb.narrow(1, t, 1).squeeze(1), s);
      hs.push(r.h);
      s = r.state;
    }
    return this.dense.forward(stack(hs, 1)); // (B, T, V)
  }

  step(y: Tensor, s: BahdanauState): DecoderStep<BahdanauState> {
    const r = this.advance(this.embedding.forward(y), s);
    return { logits: this.dense.forward(r.h), state: r.state, attention: { 'additive attention': r.weights } };
  }

  selectState(s: BahdanauState, rows: Tensor): BahdanauState {
    return { keys: s.keys.indexSelect(0, rows), validLen: s.validLen.indexSelect(0, rows), layers: selectRows(s.layers, rows) };
  }
}
