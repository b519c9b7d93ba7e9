/**
 * Attention: the masked softmax over valid key lengths, scaled dot-product attention and multi-head
 * attention (Vaswani et al. 2017), additive attention (Bahdanau et al. 2014) and the sinusoidal
 * positional encoding, as the translation models and BERT use them (the formulation of d2l.ai,
 * chapter "Attention Mechanisms and Transformers").
 *
 * Everything is composed from ops, so the gradients come from theirs. Shapes: B batch, Tq queries,
 * Tk keys (and values), d the query/key size, dv the value size, h heads of size dh = numHiddens/h.
 *
 * Valid lengths: an int32 tensor (B), one valid key length per batch row, or (B, Tq), one per query
 * (a causal decoder uses t + 1 for query t). Keys at or past the valid length get the score −1e6
 * before the softmax: they get (in float32 and float64) zero weight, and a row whose valid length
 * is 0 is uniform over all keys.
 */
import { DType, isFloating } from '../tensor/dtype.js';
import { defaultGenerator, Generator } from '../tensor/rng.js';
import { shapeStr } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { Dropout, Linear } from './layers.js';
import { Module } from './module.js';

/** The score given to masked keys before the softmax (d2l's value). */
const MASKED_SCORE = -1e6;

/** A shape with named dims and known sizes, for error messages: (B, Tq, 32). */
function dims(...parts: (string | number)[]): string {
  return `(${parts.join(', ')})`;
}

function requireShape(x: Tensor, want: readonly (number | null)[], expected: string, who: string, what: string): void {
  if (!(x instanceof Tensor)) throw new TypeError(`${who}: expected ${what} to be a Tensor`);
  if (x.ndim !== want.length || want.some((s, i) => s !== null && x.shape[i] !== s)) {
    throw new RangeError(`${who}: expected ${what} of shape ${expected}, got ${shapeStr(x.shape)}`);
  }
}

function requireInt32(t: Tensor, who: string, what: string): void {
  if (!(t instanceof Tensor)) throw new TypeError(`${who}: expected ${what} to be an int32 Tensor`);
  if (t.dtype !== 'int32') throw new TypeError(`${who}: ${what} must be int32, got ${t.dtype}`);
}

function requireFloating(x: Tensor, who: string, what: string): void {
  if (!isFloating(x.dtype)) throw new TypeError(`${who}: expected a floating ${what}, got ${x.dtype}`);
}

function positiveInt(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`${what} must be a positive integer, got ${v}`);
  return v;
}

/** (B, T) float mask: 1 where t < validLen[b], else 0; validLen int32 (B). dtype default float32. */
export function sequenceMask(validLen: Tensor, T: number, dtype: DType = 'float32'): Tensor {
  requireInt32(validLen, 'sequenceMask', 'validLen');
  if (validLen.ndim !== 1) throw new RangeError(`sequenceMask: expected validLen of shape (B), got ${shapeStr(validLen.shape)}`);
  if (!Number.isInteger(T) || T < 0) throw new RangeError(`sequenceMask: T must be a non-negative integer, got ${T}`);
  return Tensor.arange(0, T).unsqueeze(0).lt(validLen.unsqueeze(1)).to(dtype);
}

/**
 * The bool mask of the keys each query may see, broadcastable to scores (B, ..., Tq, Tk): true where
 * the key index is below the valid length. Checks validLens: int32, (B) or (B, Tq).
 */
function keyMask(scores: Tensor, validLens: Tensor, who: string): Tensor {
  requireInt32(validLens, who, 'validLens');
  const n = scores.ndim;
  const B = scores.shape[0];
  const Tq = scores.shape[n - 2];
  const Tk = scores.shape[n - 1];
  const ones = new Array<number>(n - 2).fill(1);
  let lens: Tensor;
  if (validLens.ndim === 1 && validLens.shape[0] === B) lens = validLens.reshape([B, ...ones, 1]); // (B, 1, ..., 1), as many dims as the scores
  else if (validLens.ndim === 2 && validLens.shape[0] === B && validLens.shape[1] === Tq) {
    lens = validLens.reshape([B, ...ones.slice(1), Tq, 1]); // (B, 1, ..., Tq, 1)
  } else {
    throw new RangeError(`${who}: expected validLens of shape ${dims(B)} or ${dims(B, Tq)}, got ${shapeStr(validLens.shape)}`);
  }
  return Tensor.arange(0, Tk).lt(lens);
}

function maskedSoftmaxOf(scores: Tensor, validLens: Tensor | null | undefined, who: string): Tensor {
  if (validLens === undefined || validLens === null) return scores.softmax(-1);
  return scores.where(keyMask(scores, validLens, who), MASKED_SCORE).softmax(-1);
}

/**
 * d2l's masked_softmax over the last axis of scores (..., Tq, Tk) — in practice (B, Tq, Tk) or (B, h, Tq, Tk)-flattened-to-(B·h, Tq, Tk).
 * validLens: undefined/null = no mask; int32 (B) = the same valid key length for every query of batch row b;
 * int32 (B, Tq) = one valid length per query. scores' leading dims flattened must be B (the first dim of scores is B).
 * Keys k ≥ valid length get the score −1e6 before the softmax (d2l's value, so a row with valid length 0 is uniform, as in d2l).
 * Implemented by composition (where / maskedFill + softmax) so its gradient comes from the ops.
 *
 * Scores of more than 3 dims (B, h, Tq, Tk) take the valid lengths of their batch row in every head.
 */
export function maskedSoftmax(scores: Tensor, validLens?: Tensor | null): Tensor {
  if (!(scores instanceof Tensor)) throw new TypeError('maskedSoftmax: expected scores to be a Tensor');
  requireFloating(scores, 'maskedSoftmax', 'scores tensor');
  if (scores.ndim < 2) throw new RangeError(`maskedSoftmax: expected scores of shape (B, ..., Tq, Tk), got ${shapeStr(scores.shape)}`);
  return maskedSoftmaxOf(scores, validLens, 'maskedSoftmax');
}

/** softmax(q kᵀ/√d) v over the last two dims, masked; the weights (before dropout) and the output. */
function scaledDotProduct(q: Tensor, k: Tensor, v: Tensor, validLens: Tensor | null | undefined, dropout: Dropout, who: string): { out: Tensor; weights: Tensor } {
  const d = q.shape[q.ndim - 1];
  const scores = q.matmul(k.transpose(-2, -1)).div(Math.sqrt(d));
  const weights = maskedSoftmaxOf(scores, validLens, who);
  return { out: dropout.forward(weights).matmul(v), weights };
}

/**
 * Scaled dot-product attention (Vaswani et al. 2017 eq. 1): softmax(Q Kᵀ/√d) V, masked; dropout on the weights (train mode only).
 * attentionWeights holds the weights before the dropout.
 */
export class DotProductAttention extends Module {
  /** The weights of the last forward, (B, Tq, Tk), detached (for heatmaps). null before the first. */
  attentionWeights: Tensor | null = null;
  readonly dropout: Dropout;
  constructor(dropout = 0, opts: { generator?: Generator } = {}) {
    super();
    this.dropout = this.registerModule('dropout', new Dropout(dropout, opts.generator ?? defaultGenerator));
  }
  /** q (B, Tq, d), k (B, Tk, d), v (B, Tk, dv), validLens as maskedSoftmax → (B, Tq, dv). */
  forward(q: Tensor, k: Tensor, v: Tensor, validLens?: Tensor | null): Tensor {
    const who = 'DotProductAttention';
    requireShape(q, [null, null, null], dims('B', 'Tq', 'd'), who, 'q');
    const [B, , d] = q.shape;
    requireShape(k, [B, null, d], dims(B, 'Tk', d), who, 'k');
    const Tk = k.shape[1];
    requireShape(v, [B, Tk, null], dims(B, Tk, 'dv'), who, 'v');
    const { out, weights } = scaledDotProduct(q, k, v, validLens, this.dropout, who);
    this.attentionWeights = weights.detach();
    return out;
  }
  protected override extraRepr(): string {
    return `dropout=${this.dropout.p}`;
  }
}

/**
 * Bahdanau et al. 2014 additive attention: a(q, k) = w_vᵀ tanh(W_q q + W_k k), masked softmax, weighted sum of values.
 * Submodules 'W_k', 'W_q', 'w_v' (Linear without bias, d2l's names and order) and 'dropout' (on the weights).
 */
export class AdditiveAttention extends Module {
  /** The weights of the last forward, (B, Tq, Tk), detached, before dropout. null before the first. */
  attentionWeights: Tensor | null = null;
  readonly W_k: Linear;
  readonly W_q: Linear;
  readonly w_v: Linear;
  readonly dropout: Dropout;
  constructor(readonly keySize: number, readonly querySize: number, readonly numHiddens: number, dropout = 0, opts: { generator?: Generator } = {}) {
    super();
    const generator = opts.generator ?? defaultGenerator;
    this.W_k = this.registerModule('W_k', new Linear(keySize, numHiddens, { bias: false, generator }));
    this.W_q = this.registerModule('W_q', new Linear(querySize, numHiddens, { bias: false, generator }));
    this.w_v = this.registerModule('w_v', new Linear(numHiddens, 1, { bias: false, generator }));
    this.dropout = this.registerModule('dropout', new Dropout(dropout, generator));
  }
  /** q (B, Tq, querySize), k (B, Tk, keySize), v (B, Tk, dv) → (B, Tq, dv). */
  forward(q: Tensor, k: Tensor, v: Tensor, validLens?: Tensor | null): Tensor {
    const who = 'AdditiveAttention';
    requireShape(q, [null, null, this.querySize], dims('B', 'Tq', this.querySize), who, 'q');
    const B = q.shape[0];
    requireShape(k, [B, null, this.keySize], dims(B, 'Tk', this.keySize), who, 'k');
    const Tk = k.shape[1];
    requireShape(v, [B, Tk, null], dims(B, Tk, 'dv'), who, 'v');
    // (B, Tq, 1, H) + (B, 1, Tk, H): every query against every key.
    const features = this.W_q.forward(q).unsqueeze(2).add(this.W_k.forward(k).unsqueeze(1)).tanh();
    const scores = this.w_v.forward(features).squeeze(-1); // (B, Tq, Tk)
    const weights = maskedSoftmaxOf(scores, validLens, who);
    this.attentionWeights = weights.detach();
    return this.dropout.forward(weights).matmul(v);
  }
  protected override extraRepr(): string {
    return `keySize=${this.keySize}, querySize=${this.querySize}, numHiddens=${this.numHiddens}`;
  }
}

export interface MultiHeadAttentionOptions {
  dropout?: number;
  /** Biases in W_q, W_k, W_v, W_o (default false, as d2l's use_bias=False). */
  bias?: boolean;
  /** Feature sizes of q, k, v (default numHiddens each). */
  querySize?: number;
  keySize?: number;
  valueSize?: number;
  generator?: Generator;
}

/**
 * Multi-head attention (Vaswani et al. 2017 §3.2.2): h heads of scaled dot-product attention over learned projections.
 * Submodules 'W_q', 'W_k', 'W_v' (Linear(querySize|keySize|valueSize → numHiddens, bias)), 'W_o' (Linear(numHiddens → numHiddens, bias)), bias default false (d2l's use_bias=False),
 * and 'dropout' (on the attention weights of every head).
 * numHiddens must divide by numHeads (clear error otherwise).
 *
 * Head j is the block of columns j·dh ... (j+1)·dh − 1 of each projection (d2l's transpose_qkv, and
 * torch.nn.MultiheadAttention's layout); the heads' outputs are concatenated back in that order before W_o.
 */
export class MultiHeadAttention extends Module {
  /** The weights of the last forward, (B, h, Tq, Tk), detached, before dropout. null before the first. */
  attentionWeights: Tensor | null = null;
  readonly W_q: Linear;
  readonly W_k: Linear;
  readonly W_v: Linear;
  readonly W_o: Linear;
  readonly dropout: Dropout;
  readonly querySize: number;
  readonly keySize: number;
  readonly valueSize: number;
  /** The size of each head, numHiddens / numHeads. */
  readonly headSize: number;
  constructor(readonly numHiddens: number, readonly numHeads: number, opts: MultiHeadAttentionOptions = {}) {
    super();
    positiveInt(numHiddens, 'MultiHeadAttention: numHiddens');
    positiveInt(numHeads, 'MultiHeadAttention: numHeads');
    if (numHiddens % numHeads !== 0) {
      throw new RangeError(`MultiHeadAttention: numHiddens ${numHiddens} must be divisible by numHeads ${numHeads}`);
    }
    this.headSize = numHiddens / numHeads;
    this.querySize = opts.querySize ?? numHiddens;
    this.keySize = opts.keySize ?? numHiddens;
    this.valueSize = opts.valueSize ?? numHiddens;
    const lin = { bias: opts.bias ?? false, generator: opts.generator ?? defaultGenerator };
    this.W_q = this.registerModule('W_q', new Linear(this.querySize, numHiddens, lin));
    this.W_k = this.registerModule('W_k', new Linear(this.keySize, numHiddens, lin));
    this.W_v = this.registerModule('W_v', new Linear(this.valueSize, numHiddens, lin));
    this.W_o = this.registerModule('W_o', new Linear(numHiddens, numHiddens, lin));
    this.dropout = this.registerModule('dropout', new Dropout(opts.dropout ?? 0, lin.generator));
  }

  /** q (B, Tq, querySize), k (B, Tk, keySize), v (B, Tk, valueSize) → (B, Tq, numHiddens). validLens int32 (B) or (B, Tq), applied to every head. */
  forward(q: Tensor, k: Tensor, v: Tensor, validLens?: Tensor | null): Tensor {
    const who = 'MultiHeadAttention';
    requireShape(q, [null, null, this.querySize], dims('B', 'Tq', this.querySize), who, 'q');
    requireShape(k, [q.shape[0], null, this.keySize], dims(q.shape[0], 'Tk', this.keySize), who, 'k');
    const { K, V } = this.projectKeyValues(k, v);
    return this.attend(q, K, V, validLens);
  }

  /** The projected keys and values split into heads: K, V each (B, h, Tk, numHiddens/h). For incremental decoding: a decoder caches these and concatenates along dim 2. */
  projectKeyValues(k: Tensor, v: Tensor): { K: Tensor; V: Tensor } {
    const who = 'MultiHeadAttention';
    requireShape(k, [null, null, this.keySize], dims('B', 'Tk', this.keySize), who, 'k');
    const [B, Tk] = k.shape;
    requireShape(v, [B, Tk, this.valueSize], dims(B, Tk, this.valueSize), who, 'v');
    return { K: this.splitHeads(this.W_k.forward(k)), V: this.splitHeads(this.W_v.forward(v)) };
  }

  /** Attention of q (B, Tq, querySize) over already projected K, V (B, h, Tk, dh) → (B, Tq, numHiddens) (W_q on q, per-head scaled dot product, masked, concat heads, W_o). forward(q,k,v,m) === attend(q, ...projectKeyValues(k,v), m). */
  attend(q: Tensor, K: Tensor, V: Tensor, validLens?: Tensor | null): Tensor {
    const who = 'MultiHeadAttention';
    const [h, dh] = [this.numHeads, this.headSize];
    requireShape(q, [null, null, this.querySize], dims('B', 'Tq', this.querySize), who, 'q');
    const [B, Tq] = q.shape;
    requireShape(K, [B, h, null, dh], dims(B, h, 'Tk', dh), who, 'K');
    requireShape(V, [B, h, K.shape[2], dh], dims(B, h, K.shape[2], dh), who, 'V');
    const Q = this.splitHeads(this.W_q.forward(q));
    const { out, weights } = scaledDotProduct(Q, K, V, validLens, this.dropout, who); // (B, h, Tq, dh)
    this.attentionWeights = weights.detach();
    return this.W_o.forward(out.permute([0, 2, 1, 3]).reshape([B, Tq, this.numHiddens]));
  }

  /** (B, T, numHiddens) → (B, T, h, dh) → (B, h, T, dh). */
  private splitHeads(x: Tensor): Tensor {
    const [B, T] = x.shape;
    return x.reshape([B, T, this.numHeads, this.headSize]).permute([0, 2, 1, 3]);
  }

  protected override extraRepr(): string {
    return `numHiddens=${this.numHiddens}, numHeads=${this.numHeads}, bias=${this.W_q.bias !== null}`;
  }
}

/**
 * Sinusoidal positional encoding (Vaswani et al. §3.5): P[t, 2j] = sin(t / 10000^(2j/d)), P[t, 2j+1] = cos(t / 10000^(2j/d)); output dropout(X + P[offset : offset + T]). maxLen default 1000. d may be odd (then the last column is the sin one).
 *
 * P is float32; a float64 input gets the table computed in float64 (the values are computed in double
 * precision once, and rounded to the input's dtype).
 */
export class PositionalEncoding extends Module {
  /** (maxLen, d) float32 table, not a parameter (not in stateDict). */
  readonly P: Tensor;
  readonly maxLen: number;
  readonly dropout: Dropout;
  private readonly table: Float64Array;
  private P64: Tensor | null = null;
  constructor(readonly numHiddens: number, dropout = 0, opts: { maxLen?: number; generator?: Generator } = {}) {
    super();
    positiveInt(numHiddens, 'PositionalEncoding: numHiddens');
    this.maxLen = positiveInt(opts.maxLen ?? 1000, 'PositionalEncoding: maxLen');
    this.dropout = this.registerModule('dropout', new Dropout(dropout, opts.generator ?? defaultGenerator));
    const d = numHiddens;
    this.table = new Float64Array(this.maxLen * d);
    for (let i = 0; i < d; i += 2) {
      const freq = Math.pow(10000, i / d); // 10000^(2j/d) for the columns 2j and 2j + 1
      for (let t = 0; t < this.maxLen; t++) {
        const angle = t / freq;
        this.table[t * d + i] = Math.sin(angle);
        if (i + 1 < d) this.table[t * d + i + 1] = Math.cos(angle);
      }
    }
    this.P = new Tensor(Float32Array.from(this.table), [this.maxLen, d], 'float32');
  }

  /** x (B, T, d) → dropout(x + P[offset : offset + T]); offset is the position of x's first step (incremental decoding). */
  forward(x: Tensor, offset = 0): Tensor {
    const who = 'PositionalEncoding';
    requireShape(x, [null, null, this.numHiddens], dims('B', 'T', this.numHiddens), who, 'x');
    requireFloating(x, who, 'input');
    const T = x.shape[1];
    if (!Number.isInteger(offset) || offset < 0) throw new RangeError(`${who}: offset must be a non-negative integer, got ${offset}`);
    if (offset + T > this.maxLen) {
      throw new RangeError(`${who}: positions ${offset} to ${offset + T - 1} exceed maxLen ${this.maxLen}`);
    }
    return this.dropout.forward(x.add(this.tableFor(x.dtype).narrow(0, offset, T)));
  }

  private tableFor(dtype: DType): Tensor {
    if (dtype !== 'float64') return this.P.to(dtype);
    this.P64 ??= new Tensor(this.table, [this.maxLen, this.numHiddens], 'float64');
    return this.P64;
  }

  protected override extraRepr(): string {
    return `numHiddens=${this.numHiddens}, maxLen=${this.maxLen}, dropout=${this.dropout.p}`;
  }
}
