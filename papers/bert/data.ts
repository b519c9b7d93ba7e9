/**
 * The data for pretraining BERT (d2l 2nd ed., §15.9 "The Dataset for Pretraining BERT") on WikiText-2.
 *
 * Paragraphs (readWikiText: the lines with ≥ 2 sentences, lower-cased, split on ' . ') are shuffled with
 * the run's generator and split into words; the vocabulary keeps the words seen ≥ min_freq times, with
 * '<pad>' '<mask>' '<cls>' '<sep>' reserved. Then, once for the whole run (d2l's static masking):
 *
 *   - next-sentence pairs (nspPairs): for every sentence a of a paragraph but its last, b is the next
 *     sentence with probability ½ (is_next = 1), else a sentence of a random paragraph (is_next = 0);
 *     the input is <cls> a <sep> b <sep>, segments 0 over <cls> a <sep> and 1 over b <sep>; pairs
 *     longer than max_len tokens (|a| + |b| + 3 > max_len) are skipped;
 *   - masked language modelling (mlmExample): of the tokens other than <cls> and <sep>, max(1, round(0.15 ·
 *     length)) positions are chosen at random (round as Python's: half to even); each chosen token is
 *     replaced by <mask> with probability 0.8, by a random vocabulary token with 0.1, and left with 0.1;
 *     the labels are the original tokens at the chosen positions, in position order;
 *   - padding (pretrainingData): tokens to max_len with <pad>, segments with 0; the valid length is the
 *     count of real tokens; positions, labels to round(0.15 · max_len) with 0 and weights 1 for real
 *     predictions, 0 for the padding.
 *
 * Every random draw comes from one Generator, so a seed gives the same data on every machine.
 */
import { Vocab, tokenizeWords } from '../../src/data/text.js';
import { shuffleInPlace } from '../../src/data/dataset.js';
import type { Generator } from '../../src/tensor/rng.js';
import { Tensor } from '../../src/tensor/tensor.js';

export const PAD = '<pad>';
export const MASK = '<mask>';
export const CLS = '<cls>';
export const SEP = '<sep>';
/** The tokens reserved after '<unk>', in d2l's order. */
export const RESERVED: readonly string[] = [PAD, MASK, CLS, SEP];

/** Python's round(x) for x ≥ 0: to the nearest integer, a half to the even one (round(2.5) = 2). */
export function pyRound(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** How many positions of a sequence of `length` tokens are predicted: max(1, round(0.15 · length)). */
export function numPredictions(length: number): number {
  return Math.max(1, pyRound(length * 0.15));
}

/** The padded count of predictions per sequence: round(0.15 · maxLen). */
export function maxPredictions(maxLen: number): number {
  return pyRound(maxLen * 0.15);
}

/** <cls> a <sep> (and b <sep>) with their segments: 0 for the first sentence, 1 for the second (d2l's get_tokens_and_segments). */
export function tokensAndSegments(a: readonly string[], b?: readonly string[]): { tokens: string[]; segments: number[] } {
  const tokens = [CLS, ...a, SEP];
  const segments = new Array<number>(a.length + 2).fill(0);
  if (b) {
    tokens.push(...b, SEP);
    for (let i = 0; i <= b.length; i++) segments.push(1);
  }
  return { tokens, segments };
}

export interface NspPair {
  tokens: string[];
  segments: number[];
  /** 1 when b is a's next sentence, 0 when drawn at random. */
  isNext: 0 | 1;
}

/** An element of a non-empty list, uniformly (Python's random.choice). */
function choice<T>(xs: readonly T[], g: Generator): T {
  return xs[g.randint(0, xs.length)];
}

/** The next-sentence pairs of every paragraph (d2l's _get_nsp_data_from_paragraph over all paragraphs). */
export function nspPairs(paragraphs: readonly (readonly (readonly string[])[])[], maxLen: number, g: Generator): NspPair[] {
  const out: NspPair[] = [];
  for (const p of paragraphs) {
    for (let i = 0; i + 1 < p.length; i++) {
      const a = p[i];
      let b = p[i + 1];
      const isNext = g.uniform53() < 0.5;
      if (!isNext) b = choice(choice(paragraphs, g), g);
      if (a.length + b.length + 3 > maxLen) continue;
      out.push({ ...tokensAndSegments(a, b), isNext: isNext ? 1 : 0 });
    }
  }
  return out;
}

export interface MlmExample {
  /** The input token indices: the chosen positions replaced (<mask>, a random token, or unchanged). */
  ids: number[];
  /** The chosen positions, ascending. */
  positions: number[];
  /** The original token indices at those positions. */
  labels: number[];
}

/** d2l's _get_mlm_data_from_tokens: choose, replace and label the positions of one token sequence. */
export function mlmExample(tokens: readonly string[], vocab: Vocab, g: Generator): MlmExample {
  const candidates: number[] = [];
  tokens.forEach((t, i) => {
    if (t !== CLS && t !== SEP) candidates.push(i);
  });
  shuffleInPlace(candidates, g);
  const chosen = candidates.slice(0, numPredictions(tokens.length));
  const input = [...tokens];
  for (const pos of chosen) {
    if (g.uniform53() < 0.8) input[pos] = MASK;
    else if (g.uniform53() < 0.5) input[pos] = tokens[pos];
    else input[pos] = choice(vocab.idxToToken, g);
  }
  chosen.sort((x, y) => x - y);
  return { ids: vocab.toIndices(input), positions: chosen, labels: chosen.map((p) => vocab.toIndex(tokens[p])) };
}

/** The pretraining set, padded, as flat row-major arrays (n rows). */
export interface PretrainingData {
  vocab: Vocab;
  paragraphs: number;
  n: number;
  /** max_len: tokens per row. */
  T: number;
  /** round(0.15 · max_len): predictions per row. */
  P: number;
  tokens: Int32Array; // (n, T)
  segments: Int32Array; // (n, T)
  validLens: Int32Array; // (n)
  positions: Int32Array; // (n, P)
  weights: Float32Array; // (n, P)
  labels: Int32Array; // (n, P)
  nsp: Int32Array; // (n)
}

/**
 * d2l's _WikiTextDataset from paragraphs of sentence strings: shuffle (then keep the first maxParagraphs,
 * when given), vocabulary (built here unless given: a held-out split reads with the training vocabulary),
 * pairs, masks, padding.
 */
export function pretrainingData(
  paragraphs: readonly (readonly string[])[], o: { maxLen: number; minFreq: number; vocab?: Vocab; maxParagraphs?: number }, g: Generator,
): PretrainingData {
  if (!Number.isInteger(o.maxLen) || o.maxLen < 4) throw new RangeError(`pretrainingData: maxLen must be an integer ≥ 4, got ${o.maxLen}`);
  let shuffled = shuffleInPlace([...paragraphs], g);
  if (o.maxParagraphs) shuffled = shuffled.slice(0, o.maxParagraphs);
  const words = shuffled.map((p) => p.map(tokenizeWords));
  const vocab = o.vocab ?? new Vocab(words.flat(), { minFreq: o.minFreq, reservedTokens: RESERVED });
  for (const t of RESERVED) if (!vocab.has(t)) throw new RangeError(`pretrainingData: the vocabulary has no ${t}`);
  const pairs = nspPairs(words, o.maxLen, g);
  const T = o.maxLen;
  const P = maxPredictions(T);
  const n = pairs.length;
  const d: PretrainingData = {
    vocab, paragraphs: words.length, n, T, P,
    tokens: new Int32Array(n * T).fill(vocab.toIndex(PAD)), segments: new Int32Array(n * T), validLens: new Int32Array(n),
    positions: new Int32Array(n * P), weights: new Float32Array(n * P), labels: new Int32Array(n * P), nsp: new Int32Array(n),
  };
  pairs.forEach((pair, r) => {
    const m = mlmExample(pair.tokens, vocab, g);
    d.tokens.set(m.ids, r * T);
    d.segments.set(pair.segments, r * T);
    d.validLens[r] = m.ids.length;
    d.positions.set(m.positions, r * P);
    d.weights.fill(1, r * P, r * P + m.positions.length);
    d.labels.set(m.labels, r * P);
    d.nsp[r] = pair.isNext;
  });
  return d;
}

/** A minibatch: tokens, segments (B, T), valid lengths (B), positions, weights, labels (B, P), NSP labels (B). */
export interface BertBatch {
  tokens: Tensor;
  segments: Tensor;
  validLens: Tensor;
  positions: Tensor;
  weights: Tensor;
  labels: Tensor;
  nsp: Tensor;
}

/** The rows `rows` of the set as tensors. */
export function batchOf(d: PretrainingData, rows: ArrayLike<number>): BertBatch {
  const B = rows.length;
  const pick = <A extends Int32Array | Float32Array>(src: A, width: number, make: (n: number) => A): A => {
    const out = make(B * width);
    for (let i = 0; i < B; i++) out.set(src.subarray(rows[i] * width, (rows[i] + 1) * width), i * width);
    return out;
  };
  const i32 = (n: number) => new Int32Array(n);
  return {
    tokens: new Tensor(pick(d.tokens, d.T, i32), [B, d.T], 'int32'),
    segments: new Tensor(pick(d.segments, d.T, i32), [B, d.T], 'int32'),
    validLens: new Tensor(pick(d.validLens, 1, i32), [B], 'int32'),
    positions: new Tensor(pick(d.positions, d.P, i32), [B, d.P], 'int32'),
    weights: new Tensor(pick(d.weights, d.P, (n) => new Float32Array(n)), [B, d.P], 'float32'),
    labels: new Tensor(pick(d.labels, d.P, i32), [B, d.P], 'int32'),
    nsp: new Tensor(pick(d.nsp, 1, i32), [B], 'int32'),
  };
}
