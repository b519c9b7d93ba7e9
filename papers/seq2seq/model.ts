/**
 * The RNN encoder–decoder (Sutskever, Vinyals & Le 2014, with the GRU of Cho et al. 2014), as d2l's
 * Seq2SeqEncoder / Seq2SeqDecoder (classic edition, §9.7). B batch, T steps, E embedding size, H hidden
 * units, L layers.
 *
 * Encoder: embed the source tokens, run an L-layer GRU over all T positions (the padding too, as d2l):
 *     h_t^(l) = GRU^(l)(h_t^(l−1), h_{t−1}^(l)),   h_t^(0) = embed(x_t)
 * Its final state s = (h_T^(1), …, h_T^(L)) summarises the sentence; the context c = h_T^(L) is its top layer.
 * Decoder: an L-layer GRU that starts from s and reads, at step t′, the previous target token's
 * embedding beside the context; a dense layer gives the logits over the target vocabulary:
 *     s_t′ = GRU([embed(y_{t′−1}), c], s_{t′−1}),   o_t′ = s_t′^(L) W_o + b_o
 * The context stays the encoder's c at every step, in training and in decoding (d2l classic's
 * predict_seq2seq reads the decoder's own latest state as the context at test time instead; its
 * training does not).
 */
import { Embedding, Linear } from '../../src/nn/layers.js';
import { Module } from '../../src/nn/module.js';
import { cat } from '../../src/ops/shape.js';
import type { Generator } from '../../src/tensor/rng.js';
import { shapeStr } from '../../src/tensor/shape.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import type { State } from '../rnn/cells.js';
import { StackedRNN } from '../rnn/model.js';
import type { DecoderStep, EncoderDecoder } from '../translation/model.js';

export interface Seq2SeqOptions {
  srcVocab: number;
  tgtVocab: number;
  embed: number;
  hidden: number;
  layers: number;
  dropout: number;
  /** Initialisation and dropout masks. */
  generator: Generator;
}

/** The recurrent state of every layer: [H] per layer (a GRU's). */
export type LayerStates = State[];

/** Batch rows `rows` of every layer's state. */
export function selectRows(states: LayerStates, rows: Tensor): LayerStates {
  return states.map((s) => s.map((h) => h.indexSelect(0, rows)));
}

/** Embedding → L-layer GRU (d2l's Seq2SeqEncoder); the attention decoder reuses it. */
export class GRUEncoder extends Module {
  readonly embedding: Embedding;
  readonly rnn: StackedRNN;
  constructor(vocab: number, embed: number, hidden: number, layers: number, dropout: number, generator: Generator) {
    super();
    this.embedding = this.registerModule('embedding', new Embedding(vocab, embed, { generator }));
    this.rnn = this.registerModule('rnn', new StackedRNN('gru', embed, hidden, { numLayers: layers, dropout, init: 'uniform', generator }));
  }
  /** X (B, T) → outputs (T, B, H) (the top layer's states) and the final state of every layer. */
  forward(X: Tensor): { outputs: Tensor; state: LayerStates } {
    if (X.ndim !== 2) throw new RangeError(`GRUEncoder: expected source tokens of shape (B, T), got ${shapeStr(X.shape)}`);
    const r = this.rnn.forward(this.embedding.forward(X).transpose(0, 1)); // (T, B, E) in
    return { outputs: r.output, state: r.state };
  }
}

/** The decoder's state: the context c (B, H) and the decoder GRU's layer states. */
export interface Seq2SeqState {
  context: Tensor;
  layers: LayerStates;
}

export class Seq2Seq extends Module implements EncoderDecoder<Seq2SeqState> {
  readonly encoder: GRUEncoder;
  readonly embedding: Embedding;
  readonly rnn: StackedRNN;
  readonly dense: Linear;
  constructor(readonly o: Seq2SeqOptions) {
    super();
    const g = o.generator;
    this.encoder = this.registerModule('encoder', new GRUEncoder(o.srcVocab, o.embed, o.hidden, o.layers, o.dropout, g));
    this.embedding = this.registerModule('embedding', new Embedding(o.tgtVocab, o.embed, { generator: g }));
    this.rnn = this.registerModule('rnn', new StackedRNN('gru', o.embed + o.hidden, o.hidden, { numLayers: o.layers, dropout: o.dropout, init: 'uniform', generator: g }));
    this.dense = this.registerModule('dense', new Linear(o.hidden, o.tgtVocab, { generator: g }));
  }

  begin(X: Tensor, _XValid: Tensor): Seq2SeqState {
    const { state } = this.encoder.forward(X);
    return { context: state[state.length - 1][0], layers: state }; // c = h_T^(L)
  }

  /** Decoder inputs (T, B) of embeddings beside the context → the top layer's states (T, B, H) and the new state. */
  private decode(Y: Tensor, s: Seq2SeqState): { outputs: Tensor; state: Seq2SeqState } {
    const emb = this.embedding.forward(Y).transpose(0, 1); // (T, B, E)
    const [T, B] = emb.shape;
    const context = s.context.unsqueeze(0).expand([T, B, this.o.hidden]); // (T, B, H)
    const r = this.rnn.forward(cat([emb, context], 2), s.layers); // [embed(y), c]: (T, B, E + H)
    return { outputs: r.output, state: { context: s.context, layers: r.state } };
  }

  forward(X: Tensor, XValid: Tensor, decoderInput: Tensor): Tensor {
    const { outputs } = this.decode(decoderInput, this.begin(X, XValid));
    return this.dense.forward(outputs.transpose(0, 1)); // (B, T, V)
  }

  step(y: Tensor, s: Seq2SeqState): DecoderStep<Seq2SeqState> {
    const r = this.decode(y.unsqueeze(1), s);
    return { logits: this.dense.forward(r.outputs.squeeze(0)), state: r.state };
  }

  selectState(s: Seq2SeqState, rows: Tensor): Seq2SeqState {
    return { context: s.context.indexSelect(0, rows), layers: selectRows(s.layers, rows) };
  }
}
