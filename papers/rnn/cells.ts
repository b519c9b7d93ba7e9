/**
 * Recurrent cells written from their gate equations, in the notation of d2l (chapter "Recurrent
 * Neural Networks" and "Modern Recurrent Neural Networks"): row-vector inputs X_t (B, I), hidden state
 * H_t (B, H), weights multiplied on the right (X_t W_x·), one bias per gate.
 *
 *   RNN  (Elman; Rumelhart, Hinton & Williams 1985)
 *        H_t = tanh(X_t W_xh + H_{t−1} W_hh + b_h)
 *   GRU  (Cho et al. 2014, eqs. 5–8, the reset gate applied to H_{t−1} before the product with W_hh)
 *        R_t = σ(X_t W_xr + H_{t−1} W_hr + b_r)                 reset gate
 *        Z_t = σ(X_t W_xz + H_{t−1} W_hz + b_z)                 update gate
 *        H̃_t = tanh(X_t W_xh + (R_t ⊙ H_{t−1}) W_hh + b_h)      candidate state
 *        H_t = Z_t ⊙ H_{t−1} + (1 − Z_t) ⊙ H̃_t
 *   LSTM (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al. 2000)
 *        I_t = σ(X_t W_xi + H_{t−1} W_hi + b_i)                 input gate
 *        F_t = σ(X_t W_xf + H_{t−1} W_hf + b_f)                 forget gate
 *        C̃_t = tanh(X_t W_xc + H_{t−1} W_hc + b_c)              candidate memory
 *        O_t = σ(X_t W_xo + H_{t−1} W_ho + b_o)                 output gate
 *        C_t = F_t ⊙ C_{t−1} + I_t ⊙ C̃_t
 *        H_t = O_t ⊙ tanh(C_t)
 *
 * The parameters carry these names (W_xh, W_hr, b_f, ...). Two rearrangements for speed, exact in
 * arithmetic: (1) the input terms X_t W_x· + b_· of all time steps are computed before the loop, in one
 * product (T·B, I) × (I, gates·H); (2) the hidden weights of the gates are placed side by side, so that
 * each step does one product H_{t−1} [W_hi | W_hf | ...] and cuts the result into the gates.
 */
import { noGrad } from '../../src/autograd/mode.js';
import { gruGates, gruUpdate, lstmCell } from '../../src/ops/rnn.js';
import { cat, stack } from '../../src/ops/shape.js';
import { normal_, uniform_, zeros_ } from '../../src/nn/init.js';
import { Module } from '../../src/nn/module.js';
import { defaultGenerator, Generator } from '../../src/tensor/rng.js';
import { shapeStr } from '../../src/tensor/shape.js';
import { Tensor } from '../../src/tensor/tensor.js';

export type CellKind = 'rnn' | 'gru' | 'lstm';

/**
 * How the parameters start:
 * - 'normal': d2l's from-scratch models: weights N(0, 0.01²), biases 0;
 * - 'uniform': PyTorch's nn.RNN/GRU/LSTM (d2l's concise models): everything U(−1/√H, 1/√H).
 */
export type InitScheme = 'normal' | 'uniform';

export interface CellOptions {
  init?: InitScheme;
  generator?: Generator;
}

/** The recurrent state: [H] for RNN and GRU, [H, C] for LSTM, each (B, H). */
export type State = Tensor[];

export interface SequenceOutput {
  /** The hidden state at every step, (T, B, H), in time order (also when run in reverse). */
  outputs: Tensor;
  /** The state after the last step processed. */
  state: State;
}

/** What the three cells share: parameter creation, shape checks and the loop over time. */
export abstract class RecurrentCell extends Module {
  abstract readonly kind: CellKind;
  /** 1 (H) or 2 (H and C). */
  abstract readonly stateCount: number;
  private readonly init: InitScheme;
  private readonly generator: Generator;

  constructor(readonly inputSize: number, readonly hiddenSize: number, opts: CellOptions) {
    super();
    for (const [v, what] of [[inputSize, 'inputSize'], [hiddenSize, 'hiddenSize']] as const) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`${this.constructor.name}: ${what} must be a positive integer, got ${v}`);
    }
    this.init = opts.init ?? 'normal';
    if (this.init !== 'normal' && this.init !== 'uniform') throw new RangeError(`${this.constructor.name}: init must be 'normal' or 'uniform', got ${JSON.stringify(this.init)}`);
    this.generator = opts.generator ?? defaultGenerator;
  }

  /** A weight of shape (rows, H), registered under `name`. */
  protected weight(name: string, rows: number): Tensor {
    const t = Tensor.zeros([rows, this.hiddenSize]);
    if (this.init === 'normal') normal_(t, 0, 0.01, this.generator);
    else this.uniform(t);
    return this.registerParameter(name, t);
  }

  /**
   * A bias of shape (H), registered under `name`. PyTorch has two per gate (b_ih + b_hh, each
   * U(±1/√H)); our one bias is their sum, so the 'uniform' scheme draws it as the sum of two draws.
   */
  protected bias(name: string): Tensor {
    const t = Tensor.zeros([this.hiddenSize]);
    if (this.init === 'normal') zeros_(t);
    else {
      const other = Tensor.zeros([this.hiddenSize]);
      this.uniform(t);
      this.uniform(other);
      noGrad(() => t.add_(other));
    }
    return this.registerParameter(name, t);
  }

  private uniform(t: Tensor): void {
    const k = 1 / Math.sqrt(this.hiddenSize);
    uniform_(t, -k, k, this.generator);
  }

  /** The zero state for a batch of B sequences. */
  beginState(batchSize: number, dtype = this.dtype()): State {
    return Array.from({ length: this.stateCount }, () => Tensor.zeros([batchSize, this.hiddenSize], { dtype }));
  }

  private dtype() {
    return this.parameters()[0].dtype;
  }

  /** The input terms of every gate for all steps: x (T, B, I) → (T, B, gates·H). */
  protected abstract inputTerms(x: Tensor): Tensor;

  /** The hidden weights the steps use, built once per sequence (e.g. [W_hi | W_hf | W_hc | W_ho]). */
  protected abstract hiddenWeights(): Tensor[];

  /** One step: from the input terms of step t (B, gates·H) and the state before it, the state after it. */
  protected abstract step(xt: Tensor, state: State, weights: Tensor[]): State;

  /**
   * Run over a sequence x (T, B, I) from `state` (default zeros). `reverse` processes t = T−1 down to 0
   * (the backward direction of a bidirectional layer); outputs stay in time order either way.
   */
  forward(x: Tensor, state?: State, reverse = false): SequenceOutput {
    const name = this.constructor.name;
    if (x.ndim !== 3 || x.shape[2] !== this.inputSize) {
      throw new RangeError(`${name}: expected input of shape (T, B, ${this.inputSize}), got ${shapeStr(x.shape)}`);
    }
    const [T, B] = x.shape;
    if (T === 0) throw new RangeError(`${name}: the sequence is empty (input shape ${shapeStr(x.shape)})`);
    let s = state ?? this.beginState(B, x.dtype);
    if (s.length !== this.stateCount || s.some((h) => h.ndim !== 2 || h.shape[0] !== B || h.shape[1] !== this.hiddenSize)) {
      const want = Array(this.stateCount).fill(`(${B}, ${this.hiddenSize})`).join(', ');
      throw new RangeError(`${name}: expected a state of ${this.stateCount} tensor(s) ${want}, got ${s.map((h) => shapeStr(h.shape)).join(', ') || 'none'}`);
    }
    const xs = this.inputTerms(x); // (T, B, gates·H)
    const weights = this.hiddenWeights();
    const outs = new Array<Tensor>(T);
    for (let k = 0; k < T; k++) {
      const t = reverse ? T - 1 - k : k;
      s = this.step(xs.narrow(0, t, 1).squeeze(0), s, weights);
      outs[t] = s[0];
    }
    return { outputs: stack(outs, 0), state: s };
  }
}

/** X W + b for every step at once: x (T, B, I), W (I, G), b (G) → (T, B, G). */
function affine(x: Tensor, w: Tensor, b: Tensor): Tensor {
  const [T, B, I] = x.shape;
  return x.reshape([T * B, I]).matmul(w).add(b).reshape([T, B, w.shape[1]]);
}

/** Gate k of width h from a (B, gates·h) tensor. */
function gate(z: Tensor, k: number, h: number): Tensor {
  return z.narrow(1, k * h, h);
}

/** The tanh RNN: H_t = tanh(X_t W_xh + H_{t−1} W_hh + b_h). */
export class RNNCell extends RecurrentCell {
  readonly kind = 'rnn';
  readonly stateCount = 1;
  readonly W_xh: Tensor;
  readonly W_hh: Tensor;
  readonly b_h: Tensor;

  constructor(inputSize: number, hiddenSize: number, opts: CellOptions = {}) {
    super(inputSize, hiddenSize, opts);
    this.W_xh = this.weight('W_xh', inputSize);
    this.W_hh = this.weight('W_hh', hiddenSize);
    this.b_h = this.bias('b_h');
  }

  protected inputTerms(x: Tensor): Tensor {
    return affine(x, this.W_xh, this.b_h); // X_t W_xh + b_h
  }

  protected hiddenWeights(): Tensor[] {
    return [this.W_hh];
  }

  protected step(xt: Tensor, [H]: State, [W_hh]: Tensor[]): State {
    return [xt.add(H.matmul(W_hh)).tanh()];
  }
}

/** The gated recurrent unit of Cho et al. 2014 (reset gate before the product with W_hh). */
export class GRUCell extends RecurrentCell {
  readonly kind = 'gru';
  readonly stateCount = 1;
  readonly W_xr: Tensor;
  readonly W_hr: Tensor;
  readonly b_r: Tensor;
  readonly W_xz: Tensor;
  readonly W_hz: Tensor;
  readonly b_z: Tensor;
  readonly W_xh: Tensor;
  readonly W_hh: Tensor;
  readonly b_h: Tensor;

  constructor(inputSize: number, hiddenSize: number, opts: CellOptions = {}) {
    super(inputSize, hiddenSize, opts);
    this.W_xr = this.weight('W_xr', inputSize);
    this.W_hr = this.weight('W_hr', hiddenSize);
    this.b_r = this.bias('b_r');
    this.W_xz = this.weight('W_xz', inputSize);
    this.W_hz = this.weight('W_hz', hiddenSize);
    this.b_z = this.bias('b_z');
    this.W_xh = this.weight('W_xh', inputSize);
    this.W_hh = this.weight('W_hh', hiddenSize);
    this.b_h = this.bias('b_h');
  }

  /** [X W_xr + b_r | X W_xz + b_z | X W_xh + b_h]. */
  protected inputTerms(x: Tensor): Tensor {
    return affine(x, cat([this.W_xr, this.W_xz, this.W_xh], 1), cat([this.b_r, this.b_z, this.b_h], 0));
  }

  /** [W_hr | W_hz] (used together) and W_hh (used after the reset gate). */
  protected hiddenWeights(): Tensor[] {
    return [cat([this.W_hr, this.W_hz], 1), this.W_hh];
  }

  /**
   * The equations above as two fused ops around the product with W_hh (src/ops/rnn.ts: gruGates gives
   * [Z | R ⊙ H_{t−1}], gruUpdate Z ⊙ H_{t−1} + (1 − Z) ⊙ tanh(X_t W_xh + b_h + (R ⊙ H_{t−1}) W_hh)).
   */
  protected step(xt: Tensor, [H]: State, [W_hrz, W_hh]: Tensor[]): State {
    const h = this.hiddenSize;
    const ZRH = gruGates(xt.narrow(1, 0, 2 * h), H.matmul(W_hrz), H); // (B, 2h): [Z | R ⊙ H]
    return [gruUpdate(gate(xt, 2, h), ZRH.narrow(1, h, h).matmul(W_hh), ZRH.narrow(1, 0, h), H)];
  }
}

/** Long short-term memory (Hochreiter & Schmidhuber 1997) with a forget gate. */
export class LSTMCell extends RecurrentCell {
  readonly kind = 'lstm';
  readonly stateCount = 2;
  readonly W_xi: Tensor;
  readonly W_hi: Tensor;
  readonly b_i: Tensor;
  readonly W_xf: Tensor;
  readonly W_hf: Tensor;
  readonly b_f: Tensor;
  readonly W_xc: Tensor;
  readonly W_hc: Tensor;
  readonly b_c: Tensor;
  readonly W_xo: Tensor;
  readonly W_ho: Tensor;
  readonly b_o: Tensor;

  constructor(inputSize: number, hiddenSize: number, opts: CellOptions = {}) {
    super(inputSize, hiddenSize, opts);
    this.W_xi = this.weight('W_xi', inputSize);
    this.W_hi = this.weight('W_hi', hiddenSize);
    this.b_i = this.bias('b_i');
    this.W_xf = this.weight('W_xf', inputSize);
    this.W_hf = this.weight('W_hf', hiddenSize);
    this.b_f = this.bias('b_f');
    this.W_xc = this.weight('W_xc', inputSize);
    this.W_hc = this.weight('W_hc', hiddenSize);
    this.b_c = this.bias('b_c');
    this.W_xo = this.weight('W_xo', inputSize);
    this.W_ho = this.weight('W_ho', hiddenSize);
    this.b_o = this.bias('b_o');
  }

  /** [X W_xi + b_i | X W_xf + b_f | X W_xc + b_c | X W_xo + b_o]. */
  protected inputTerms(x: Tensor): Tensor {
    return affine(x, cat([this.W_xi, this.W_xf, this.W_xc, this.W_xo], 1), cat([this.b_i, this.b_f, this.b_c, this.b_o], 0));
  }

  /** [W_hi | W_hf | W_hc | W_ho]. */
  protected hiddenWeights(): Tensor[] {
    return [cat([this.W_hi, this.W_hf, this.W_hc, this.W_ho], 1)];
  }

  /** The gates' arithmetic is one fused op (src/ops/rnn.ts: lstmCell, whose definition is the equations above). */
  protected step(xt: Tensor, [H, C]: State, [W_h]: Tensor[]): State {
    const h = this.hiddenSize;
    const z = xt.add(H.matmul(W_h)); // (B, 4h): the pre-activations of I, F, C̃, O
    const HC = lstmCell(z, C); //       (B, 2h): [H_t | C_t]
    return [HC.narrow(1, 0, h), HC.narrow(1, h, h)];
  }
}

/** A cell of the given kind. */
export function makeCell(kind: CellKind, inputSize: number, hiddenSize: number, opts: CellOptions = {}): RecurrentCell {
  switch (kind) {
    case 'rnn': return new RNNCell(inputSize, hiddenSize, opts);
    case 'gru': return new GRUCell(inputSize, hiddenSize, opts);
    case 'lstm': return new LSTMCell(inputSize, hiddenSize, opts);
    default: throw new RangeError(`unknown cell ${JSON.stringify(kind)}: expected 'rnn', 'gru' or 'lstm'`);
  }
}
