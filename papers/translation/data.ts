/**
 * The English–French data of the translation papers, as d2l's load_data_nmt builds it (classic
 * edition, §9.5): the fra-eng pairs preprocessed and split into words (src/data/text.ts), source and
 * target vocabularies with min_freq and the reserved tokens <pad> <bos> <eos>, and every sentence as
 * its indices + <eos>, truncated or padded to num_steps, with its valid length (the tokens before the
 * padding).
 *
 * Beyond d2l, a held-out split: with `heldOutEvery` = N > 0, pair i (0-based, in file order) is held
 * out when i mod N = N − 1. The file is sorted by length, so every N-th pair spreads the held-out set
 * over all lengths; it is never trained on, and the vocabularies come from the training pairs alone.
 */
import { DataLoader, TensorDataset } from '../../src/data/dataset.js';
import { buildArrayNmt, Vocab } from '../../src/data/text.js';
import type { Generator } from '../../src/tensor/rng.js';
import type { Tensor } from '../../src/tensor/tensor.js';

export const RESERVED = ['<pad>', '<bos>', '<eos>'] as const;

/** Sentence pairs as token lists: source (English) and target (French). */
export interface Pairs {
  source: string[][];
  target: string[][];
}

export interface DataOptions {
  /** Keep the first N pairs of the file (0: all). */
  maxExamples: number;
  /** Hold out every N-th pair (0: none). */
  heldOutEvery: number;
  minFreq: number;
  numSteps: number;
}

/** One batch: source X (B, T) and its valid lengths (B), target Y (B, T) and its valid lengths (B); int32. */
export type NmtBatch = [X: Tensor, XValid: Tensor, Y: Tensor, YValid: Tensor];

export interface TranslationData {
  srcVocab: Vocab;
  tgtVocab: Vocab;
  /** The training pairs as arrays (n, numSteps) and valid lengths (n). */
  train: NmtBatch;
  /** The held-out pairs as token lists (the training pairs are kept only as arrays: the full corpus as lists of strings would weigh on every garbage collection). */
  heldOut: Pairs;
}

/** Split the pairs (already cut to maxExamples) into training and held-out pairs. */
export function splitPairs(pairs: Pairs, heldOutEvery: number): { train: Pairs; heldOut: Pairs } {
  const train: Pairs = { source: [], target: [] };
  const heldOut: Pairs = { source: [], target: [] };
  pairs.source.forEach((s, i) => {
    const to = heldOutEvery > 0 && i % heldOutEvery === heldOutEvery - 1 ? heldOut : train;
    to.source.push(s);
    to.target.push(pairs.target[i]);
  });
  return { train, heldOut };
}

/** Vocabularies from the training pairs and their arrays. */
export function translationData(pairs: Pairs, o: DataOptions): TranslationData {
  if (pairs.source.length === 0) throw new RangeError('translation data: no sentence pairs were read');
  const { train, heldOut } = splitPairs(pairs, o.heldOutEvery);
  if (train.source.length === 0) throw new RangeError(`translation data: held_out_every ${o.heldOutEvery} leaves no training pairs of ${pairs.source.length}`);
  const srcVocab = new Vocab(train.source, { minFreq: o.minFreq, reservedTokens: RESERVED });
  const tgtVocab = new Vocab(train.target, { minFreq: o.minFreq, reservedTokens: RESERVED });
  const src = buildArrayNmt(train.source, srcVocab, o.numSteps);
  const tgt = buildArrayNmt(train.target, tgtVocab, o.numSteps);
  return { srcVocab, tgtVocab, train: [src.array, src.validLen, tgt.array, tgt.validLen], heldOut };
}

/** Shuffled minibatches of the training arrays, a new order each epoch from `generator` (d2l's load_array). */
export function trainLoader(data: TranslationData, batchSize: number, generator: Generator): DataLoader<Tensor[], Tensor[]> {
  return new DataLoader(new TensorDataset(...data.train), { batchSize, shuffle: true, generator });
}
