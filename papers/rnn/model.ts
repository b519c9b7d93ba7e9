/**
 * Stacking and bidirectional wrapping of the cells (cells.ts), and the character-level language model
 * of d2l's chapter 8/9 built on them.
 *
 * Deep RNN (stacked): layer l reads the hidden states of layer l − 1 (layer 0 reads the input):
 *     H_t^(l) = cell^(l)(H_t^(l−1), state_{t−1}^(l))
 * Bidirectional RNN (Schuster & Paliwal 1997): in each layer a second cell runs from t = T−1 down to 0,
 * and the layer's output at t is the two directions' hidden states side by side:
 *     →H_t = cell→(X_t, →H_{t−1}),  ←H_t = cell←(X_t, ←H_{t+1}),  H_t = [→H_t, ←H_t]  (B, 2H)
 * Language model (d2l's RNNModel): one-hot tokens → recurrent layers → a dense layer to vocabulary
 * logits at every step:  O_t = H_t W_hq + b_q  (B, V).
 */
import { cat } from '../../src/ops/shape.js';
import { Dropout, Linear } from '../../src/nn/layers.js';
import { normal_, zeros_ } from '../../src/nn/init.js';
import { Module } from '../../src/nn/module.js';
import { oneHot } from '../../src/ops/indexing.js';
import type { Generator } from '../../src/tensor/rng.js';
import { shapeStr } from '../../src/tensor/shape.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { CellKind, CellOptions, makeCell, RecurrentCell, State } from './cells.js';

export interface StackedOptions extends CellOptions {
  numLayers?: number;
  bidirectional?: boolean;
  /** Dropout on each layer's output sequence except the last layer's, in training (as torch.nn.GRU's `dropout`). */
  dropout?: number;
  /** Where the dropout masks are drawn from (default: `generator`). */
  dropoutGenerator?: Generator;
}

/**
 * `numLayers` layers of a cell, optionally bidirectional, as torch.nn.RNN/GRU/LSTM. The state is one
 * cell state per layer and direction, indexed l·D + d (d = 0 forward, 1 backward), as torch's h_n.
 * The cells are registered as `l0`, `l0_reverse`, `l1`, ... (torch's suffixes).
 */
export class StackedRNN extends Module {
  readonly numLayers: number;
  readonly bidirectional: boolean;
  /** cells[l][d]. */
  readonly cells: RecurrentCell[][];
  private readonly dropout: Dropout | null;

  constructor(readonly kind: CellKind, readonly inputSize: number, readonly hiddenSize: number, opts: StackedOptions = {}) {
    super();
    this.numLayers = opts.numLayers ?? 1;
    this.bidirectional = opts.bidirectional ?? false;
    if (!Number.isInteger(this.numLayers) || this.numLayers < 1) throw new RangeError(`StackedRNN: numLayers must be a positive integer, got ${this.numLayers}`);
    const D = this.numDirections;
    this.cells = [];
    for (let l = 0; l < this.numLayers; l++) {
      const inSize = l === 0 ? inputSize : D * hiddenSize;
      const dirs: RecurrentCell[] = [];
      for (let d = 0; d < D; d++) dirs.push(this.registerModule(`l${l}${d === 1 ? '_reverse' : ''}`, makeCell(kind, inSize, hiddenSize, opts)));
      this.cells.push(dirs);
    }
    const p = opts.dropout ?? 0;
    if (!(p >= 0 && p <= 1)) throw new RangeError(`StackedRNN: dropout must be in [0, 1], got ${p}`);
    this.dropout = p > 0 && this.numLayers > 1 ? this.registerModule('dropout', new Dropout(p, opts.dropoutGenerator ?? opts.generator)) : null;
  }

  get numDirections(): number {
    return this.bidirectional ? 2 : 1;
  }

  /** Zero state for B sequences: numLayers·D cell states. */
  beginState(batchSize: number): State[] {
    return this.cells.flat().map((c) => c.beginState(batchSize));
  }

  /** x (T, B, I) → output (T, B, D·H) (the last layer's hidden states) and the new state. */
  forward(x: Tensor, state?: State[]): { output: Tensor; state: State[] } {
    const D = this.numDirections;
    if (state !== undefined && state.length !== this.numLayers * D) {
      throw new RangeError(`StackedRNN: expected a state for each of ${this.numLayers} layer(s) × ${D} direction(s), got ${state.length}`);
    }
    const next: State[] = [];
    let input = x;
    for (let l = 0; l < this.numLayers; l++) {
      const outs: Tensor[] = [];
      for (let d = 0; d < D; d++) {
        const r = this.cells[l][d].forward(input, state?.[l * D + d], d === 1);
        outs.push(r.outputs); // (T, B, H)
        next.push(r.state);
      }
      input = D === 1 ? outs[0] : cat(outs, 2); // (T, B, D·H)
      if (this.dropout && l < this.numLayers - 1) input = this.dropout.forward(input);
    }
    return { output: input, state: next };
  }
}

/** The same state cut from the tape: gradients of a later batch stop here (truncated BPTT). */
export function detachState(state: State[]): State[] {
  return state.map((s) => s.map((t) => t.detach()));
}

export interface LMOptions extends StackedOptions {
  generator?: Generator;
}

/** Character-level language model: tokens (B, T) → logits (T·B, V), time-major as d2l's RNNModel. */
export class RNNLM extends Module {
  readonly rnn: StackedRNN;
  readonly head: Linear;

  constructor(readonly vocabSize: number, kind: CellKind, hiddenSize: number, opts: LMOptions = {}) {
    super();
    this.rnn = this.registerModule('rnn', new StackedRNN(kind, vocabSize, hiddenSize, opts));
    this.head = this.registerModule('head', new Linear(this.rnn.numDirections * hiddenSize, vocabSize, { generator: opts.generator }));
    if ((opts.init ?? 'normal') === 'normal') {
      // d2l's scratch models: W_hq ~ N(0, 0.01²), b_q = 0 (the 'uniform' scheme keeps nn.Linear's default)
      normal_(this.head.weight, 0, 0.01, opts.generator);
      zeros_(this.head.bias!);
    }
  }

  beginState(batchSize: number): State[] {
    return this.rnn.beginState(batchSize);
  }

  /**
   * tokens: int32 (B, T). Returns logits (T·B, V) with row t·B + b for sequence b at step t (so the
   * targets are Y (B, T) transposed and flattened, as d2l's `Y.T.reshape(-1)`), and the new state.
   */
  forward(tokens: Tensor, state?: State[]): { logits: Tensor; state: State[] } {
    if (tokens.ndim !== 2 || tokens.dtype !== 'int32') {
      throw new RangeError(`RNNLM: expected int32 tokens of shape (B, T), got ${tokens.dtype} ${shapeStr(tokens.shape)}`);
    }
    const dtype = this.head.weight.dtype;
    const X = oneHot(tokens.transpose(0, 1), this.vocabSize).to(dtype); // (T, B, V)
    const { output, state: next } = this.rnn.forward(X, state); // (T, B, D·H)
    const [T, B, DH] = output.shape;
    return { logits: this.head.forward(output.reshape([T * B, DH])), state: next };
  }
}

/** The five models of the group: which cell, and whether each layer also runs backward in time. */
export const LM_SPECS = {
  rnn: { cell: 'rnn', bidirectional: false },
  gru: { cell: 'gru', bidirectional: false },
  lstm: { cell: 'lstm', bidirectional: false },
  'deep-lstm': { cell: 'lstm', bidirectional: false },
  'bi-lstm': { cell: 'lstm', bidirectional: true },
} as const satisfies Record<string, { cell: CellKind; bidirectional: boolean }>;

export type LMName = keyof typeof LM_SPECS;
