/**
 * The data of skip-gram with negative sampling (Mikolov et al. 2013), as d2l prepares PTB for it
 * (2nd ed. §15.3, "The Dataset for Pretraining Word Embeddings"):
 *
 *   1. the vocabulary of the training sentences, words seen fewer than `minFreq` times mapping to
 *      <unk>; the words that map to <unk> are dropped (`corpusIds`);
 *   2. subsampling: each token w is kept with probability min(1, √(t / f(w))), f(w) = count(w) / N,
 *      t = 10⁻⁴ (`subsample`);
 *   3. for each centre word, a window size drawn uniformly from 1..maxWindow and the words within it
 *      in the same sentence as its contexts; sentences shorter than 2 give no centres (`centresAndContexts`);
 *   4. for each centre, K noise words per context word, drawn from P(w) ∝ count(w)^0.75 over the
 *      vocabulary (<unk> excluded), a draw equal to one of the centre's contexts drawn again (`negatives`);
 *   5. minibatches of centres, each row its contexts then its noise words, padded to the batch's
 *      longest row, with a mask (1 on real words) and labels (1 on contexts) (`batchify`).
 *
 * Steps 2–4 are drawn once, from one Generator, as d2l draws them once before training; the epochs
 * then shuffle the centres (`SkipGramDataset` in a DataLoader).
 */
import { DataLoader, Dataset } from '../../src/data/dataset.js';
import { Vocab } from '../../src/data/text.js';
import { Generator } from '../../src/tensor/rng.js';
import { Tensor } from '../../src/tensor/tensor.js';

/** Lists of int32 rows of different lengths: row i is data[offsets[i] … offsets[i + 1]). */
export interface Ragged {
  offsets: Int32Array;
  data: Int32Array;
}

export function raggedRow(r: Ragged, i: number): Int32Array {
  return r.data.subarray(r.offsets[i], r.offsets[i + 1]);
}

export function raggedLength(r: Ragged): number {
  return r.offsets.length - 1;
}

/** The sentences as word ids, the words that map to <unk> dropped; and each id's count in them (counts[0] = 0). */
export function corpusIds(sentences: readonly (readonly string[])[], vocab: Vocab): { corpus: Int32Array[]; counts: Float64Array } {
  const counts = new Float64Array(vocab.length);
  const corpus = sentences.map((line) => {
    const ids: number[] = [];
    for (const w of line) {
      const i = vocab.toIndex(w);
      if (i === vocab.unk) continue;
      ids.push(i);
      counts[i]++;
    }
    return Int32Array.from(ids);
  });
  return { corpus, counts };
}

/** The probability that subsampling keeps a word seen `count` times among `total` tokens: min(1, √(t · total / count)). */
export function keepProbability(count: number, total: number, t = 1e-4): number {
  return Math.min(1, Math.sqrt((t * total) / count));
}

/**
 * Subsampling of frequent words: token w is kept when u < √(t · N / count(w)), u uniform in [0, 1)
 * (one draw per token, as d2l), N the number of tokens of the corpus.
 */
export function subsample(corpus: readonly Int32Array[], counts: ArrayLike<number>, g: Generator, t = 1e-4): Int32Array[] {
  if (!(t > 0)) throw new RangeError(`subsample: t must be a positive number, got ${t}`);
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i];
  const keep = Float64Array.from({ length: counts.length }, (_, i) => (counts[i] > 0 ? Math.sqrt((t * total) / counts[i]) : 0));
  return corpus.map((line) => line.filter((w) => {
    if (!(counts[w] > 0)) throw new RangeError(`subsample: word id ${w} has no count`);
    return g.uniform() < keep[w];
  }));
}

/**
 * Centre words and their contexts: every word of every sentence of at least two words is a centre;
 * its window size is drawn uniformly from 1..maxWindow, and its contexts are the words at most that
 * far from it in the sentence (itself excluded), in sentence order.
 */
export function centresAndContexts(corpus: readonly Int32Array[], maxWindow: number, g: Generator): { centres: Int32Array; contexts: Ragged } {
  if (!Number.isInteger(maxWindow) || maxWindow < 1) throw new RangeError(`centresAndContexts: maxWindow must be a positive integer, got ${maxWindow}`);
  const centres: number[] = [];
  const offsets: number[] = [0];
  const data: number[] = [];
  for (const line of corpus) {
    if (line.length < 2) continue;
    for (let i = 0; i < line.length; i++) {
      const w = g.randint(1, maxWindow + 1);
      centres.push(line[i]);
      for (let j = Math.max(0, i - w); j < Math.min(line.length, i + 1 + w); j++) if (j !== i) data.push(line[j]);
      offsets.push(data.length);
    }
  }
  return { centres: Int32Array.from(centres), contexts: { offsets: Int32Array.from(offsets), data: Int32Array.from(data) } };
}

/**
 * Draws word ids from P(w) ∝ weights[w] (here count(w)^0.75; weights[0], <unk>, is 0): one uniform
 * (53 bits) per draw, looked up by bisection in the cumulative weights.
 */
export class NoiseSampler {
  private readonly cumulative: Float64Array;
  constructor(weights: ArrayLike<number>) {
    this.cumulative = new Float64Array(weights.length);
    let s = 0;
    for (let i = 0; i < weights.length; i++) {
      if (!(weights[i] >= 0) || !Number.isFinite(weights[i])) throw new RangeError(`NoiseSampler: weight ${i} is ${weights[i]}; expected a finite number ≥ 0`);
      s += weights[i];
      this.cumulative[i] = s;
    }
    if (!(s > 0)) throw new RangeError('NoiseSampler: the weights sum to 0');
  }

  /** The unigram^power distribution of word counts (d2l: power 0.75). */
  static unigram(counts: ArrayLike<number>, power = 0.75): NoiseSampler {
    return new NoiseSampler(Float64Array.from({ length: counts.length }, (_, i) => Math.pow(counts[i], power)));
  }

  draw(g: Generator): number {
    const c = this.cumulative;
    const u = g.uniform53() * c[c.length - 1];
    let lo = 0;
    let hi = c.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (c[mid] > u) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

/** K noise words per context word of each centre, none of them equal to one of that centre's contexts. */
export function negatives(contexts: Ragged, K: number, sampler: NoiseSampler, g: Generator): Ragged {
  if (!Number.isInteger(K) || K < 0) throw new RangeError(`negatives: K must be an integer ≥ 0, got ${K}`);
  const n = raggedLength(contexts);
  const offsets = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) offsets[i + 1] = offsets[i] + (contexts.offsets[i + 1] - contexts.offsets[i]) * K;
  const data = new Int32Array(offsets[n]);
  for (let i = 0; i < n; i++) {
    const ctx = raggedRow(contexts, i);
    for (let j = offsets[i]; j < offsets[i + 1]; ) {
      const w = sampler.draw(g);
      if (!ctx.includes(w)) data[j++] = w;
    }
  }
  return { offsets, data };
}

/** One minibatch: centres (B, 1), contexts then noise words (B, L), mask (B, L), labels (B, L). */
export type SkipGramBatch = [centres: Tensor, contextsNegatives: Tensor, mask: Tensor, labels: Tensor];

/** Every centre with its contexts and noise words, prepared once. */
export interface SkipGramExamples {
  centres: Int32Array;
  contexts: Ragged;
  negatives: Ragged;
}

/**
 * d2l's batchify: row b holds centre b's contexts, then its noise words, then 0s up to the longest row
 * L of the batch; mask is 1 on the contexts and noise words, labels 1 on the contexts.
 */
export function batchify(ex: SkipGramExamples, indices: ArrayLike<number>): SkipGramBatch {
  const B = indices.length;
  if (B === 0) throw new RangeError('batchify: expected at least one centre');
  let L = 0;
  for (let b = 0; b < B; b++) {
    const i = indices[b];
    L = Math.max(L, ex.contexts.offsets[i + 1] - ex.contexts.offsets[i] + ex.negatives.offsets[i + 1] - ex.negatives.offsets[i]);
  }
  const centres = new Int32Array(B);
  const words = new Int32Array(B * L);
  const mask = new Float32Array(B * L);
  const labels = new Float32Array(B * L);
  for (let b = 0; b < B; b++) {
    const i = indices[b];
    const c = raggedRow(ex.contexts, i);
    const n = raggedRow(ex.negatives, i);
    centres[b] = ex.centres[i];
    words.set(c, b * L);
    words.set(n, b * L + c.length);
    mask.fill(1, b * L, b * L + c.length + n.length);
    labels.fill(1, b * L, b * L + c.length);
  }
  return [new Tensor(centres, [B, 1]), new Tensor(words, [B, L]), new Tensor(mask, [B, L]), new Tensor(labels, [B, L])];
}

export interface SkipGramDataOptions {
  minFreq: number;
  /** Subsampling threshold t (d2l: 10⁻⁴). */
  t: number;
  maxWindow: number;
  /** Noise words per context word (K). */
  noiseWords: number;
}

export interface SkipGramData extends SkipGramExamples {
  vocab: Vocab;
  /** Each word id's count in the corpus before subsampling (<unk> 0). */
  counts: Float64Array;
  /** Tokens before and after subsampling. */
  tokens: number;
  keptTokens: number;
}

/** Steps 1–4 above on tokenised sentences, every draw from `g` (subsampling, then the windows, then the noise words). */
export function skipGramData(sentences: readonly (readonly string[])[], o: SkipGramDataOptions, g: Generator): SkipGramData {
  const vocab = new Vocab(sentences, { minFreq: o.minFreq });
  const { corpus, counts } = corpusIds(sentences, vocab);
  const kept = subsample(corpus, counts, g, o.t);
  const { centres, contexts } = centresAndContexts(kept, o.maxWindow, g);
  const neg = negatives(contexts, o.noiseWords, NoiseSampler.unigram(counts), g);
  const sum = (c: readonly Int32Array[]) => c.reduce((s, l) => s + l.length, 0);
  return { vocab, counts, tokens: sum(corpus), keptTokens: sum(kept), centres, contexts, negatives: neg };
}

/** The centres as a Dataset whose batches are `batchify`'s. */
export class SkipGramDataset implements Dataset<SkipGramBatch> {
  constructor(readonly examples: SkipGramExamples) {}
  get length(): number {
    return this.examples.centres.length;
  }
  get(i: number): SkipGramBatch {
    return batchify(this.examples, [i]);
  }
  getBatch(indices: Int32Array): SkipGramBatch {
    return batchify(this.examples, indices);
  }
}

/** Batches of `batchSize` centres in a new random order each epoch, drawn from `g`. */
export function skipGramLoader(examples: SkipGramExamples, batchSize: number, g: Generator): DataLoader<SkipGramBatch, SkipGramBatch> {
  return new DataLoader<SkipGramBatch, SkipGramBatch>(new SkipGramDataset(examples), { batchSize, shuffle: true, generator: g });
}
