/**
 * What the three translation models share: the encoder–decoder interface that training and decoding
 * use, and d2l's initialisation (train_seq2seq's xavier_init_weights).
 *
 * An encoder–decoder maps a source batch X (B, Ts) with valid lengths (B) to the decoder's state, and the
 * decoder turns the previous target token and its state into logits over the target vocabulary and the
 * next state. In training the whole target is fed at once (teacher forcing: the decoder reads
 * <bos> y_1 … y_{T−1} and predicts y_1 … y_T); in decoding, one token at a time.
 */
import { noGrad } from '../../src/autograd/mode.js';
import { uniform_, xavierUniform_ } from '../../src/nn/init.js';
import { Linear } from '../../src/nn/layers.js';
import type { Module } from '../../src/nn/module.js';
import type { Generator } from '../../src/tensor/rng.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { GRUCell } from '../rnn/cells.js';

/** One decoding step's output. */
export interface DecoderStep<S> {
  /** Logits over the target vocabulary, (B, V). */
  logits: Tensor;
  state: S;
  /** Attention weights of this step by name, each (B, ..., 1, Ts) (the query axis second to last), for heatmaps. */
  attention?: Record<string, Tensor>;
}

export interface EncoderDecoder<S = unknown> extends Module {
  /** Teacher forcing: source X (B, Ts), its valid lengths (B), decoder inputs (B, T) → logits (B, T, V). */
  forward(X: Tensor, XValid: Tensor, decoderInput: Tensor): Tensor;
  /** Encode a source batch into the decoder's first state. */
  begin(X: Tensor, XValid: Tensor): S;
  /** One decoder step from the previous tokens y (B), int32. */
  step(y: Tensor, state: S): DecoderStep<S>;
  /** The state of batch rows `rows` (int32, any order, repeats allowed): beam search reorders its hypotheses with it. */
  selectState(state: S, rows: Tensor): S;
  /** The encoder's self-attention weights of the last `begin`, by name, each (B, ..., Ts, Ts) (where the encoder has any). */
  encoderAttention?(): Record<string, Tensor>;
}

/**
 * d2l's xavier_init_weights: every Linear weight and every GRU weight Glorot-uniform. torch's GRU keeps
 * a layer's three gates in one (3H, I) matrix, so its fans are (I, 3H); our cells keep one (I, H) matrix
 * per gate, drawn with the bound of the stacked matrix, √(6 / (I + 3H)), to start from the same
 * distribution. Biases keep their initialisation (the cells' 'uniform' scheme: torch's b_ih + b_hh).
 */
export function xavierInit(net: Module, g: Generator): void {
  noGrad(() => {
    for (const [, m] of net.namedModules()) {
      if (m instanceof Linear) xavierUniform_(m.weight, 1, g);
      else if (m instanceof GRUCell) {
        const H = m.hiddenSize;
        for (const w of [m.W_xr, m.W_xz, m.W_xh, m.W_hr, m.W_hz, m.W_hh]) {
          const a = Math.sqrt(6 / (w.shape[0] + 3 * H));
          uniform_(w, -a, a, g);
        }
      }
    }
  });
}
