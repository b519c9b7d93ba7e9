/**
 * Minibatches of subsequences of a token corpus, as d2l's seq_data_iter_random and
 * seq_data_iter_sequential (d2l 2nd ed., §8.3.4), and the split of the book into a training part and a
 * held-out tail. Each batch is X (B, T) int32 and Y = X shifted by one token (the next characters).
 *
 * Random partitioning: drop a random offset of 0 … T−1 tokens, cut the rest into subsequences of T
 * tokens, shuffle them, and group B per batch. Neighbouring batches are unrelated, so each batch
 * starts from a zero state.
 * Sequential partitioning: drop a random offset of 0 … T tokens, lay the rest out as B rows, and cut
 * the rows into consecutive windows of T columns: row b of batch i+1 continues row b of batch i, so
 * the state at the end of one batch is the right start of the next (truncated BPTT carries it).
 */
import { shuffleInPlace } from '../../src/data/dataset.js';
import type { Generator } from '../../src/tensor/rng.js';
import { Tensor } from '../../src/tensor/tensor.js';

export type Batch = [X: Tensor, Y: Tensor];
export type Partitioning = 'random' | 'sequential';

function check(corpus: ArrayLike<number>, batchSize: number, numSteps: number, what: string): void {
  for (const [v, name] of [[batchSize, 'batchSize'], [numSteps, 'numSteps']] as const) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${what}: ${name} must be a positive integer, got ${v}`);
  }
  // The smallest corpus that gives one batch whatever the offset: B·T tokens after an offset of up to T, plus the label.
  if (corpus.length < batchSize * numSteps + numSteps + 1) {
    throw new RangeError(`${what}: a corpus of ${corpus.length} tokens is too short for batches of ${batchSize} × ${numSteps} (it needs at least ${batchSize * numSteps + numSteps + 1})`);
  }
}

/** d2l's seq_data_iter_random: shuffled, non-adjacent subsequences. */
export function seqDataIterRandom(corpus: ArrayLike<number>, batchSize: number, numSteps: number, g: Generator): Batch[] {
  check(corpus, batchSize, numSteps, 'seqDataIterRandom');
  const offset = g.randint(0, numSteps); // 0 … T−1 (Python's random.randint(0, T − 1))
  const n = corpus.length - offset;
  const numSubseqs = Math.floor((n - 1) / numSteps); // −1: every input token needs its label
  const starts = Array.from({ length: numSubseqs }, (_, i) => offset + i * numSteps);
  shuffleInPlace(starts, g);
  const numBatches = Math.floor(numSubseqs / batchSize);
  const batches: Batch[] = [];
  for (let i = 0; i < numBatches; i++) {
    const X = new Int32Array(batchSize * numSteps);
    const Y = new Int32Array(batchSize * numSteps);
    for (let b = 0; b < batchSize; b++) {
      const s = starts[i * batchSize + b];
      for (let t = 0; t < numSteps; t++) {
        X[b * numSteps + t] = corpus[s + t];
        Y[b * numSteps + t] = corpus[s + t + 1];
      }
    }
    batches.push([new Tensor(X, [batchSize, numSteps]), new Tensor(Y, [batchSize, numSteps])]);
  }
  return batches;
}

/** d2l's seq_data_iter_sequential: row b of each batch continues row b of the previous one. */
export function seqDataIterSequential(corpus: ArrayLike<number>, batchSize: number, numSteps: number, g?: Generator): Batch[] {
  check(corpus, batchSize, numSteps, 'seqDataIterSequential');
  const offset = g ? g.randint(0, numSteps + 1) : 0; // 0 … T (Python's random.randint(0, T)); none without a generator
  const rowLen = Math.floor((corpus.length - offset - 1) / batchSize); // tokens per row
  const numBatches = Math.floor(rowLen / numSteps);
  const batches: Batch[] = [];
  for (let i = 0; i < numBatches; i++) {
    const X = new Int32Array(batchSize * numSteps);
    const Y = new Int32Array(batchSize * numSteps);
    for (let b = 0; b < batchSize; b++) {
      const s = offset + b * rowLen + i * numSteps; // row b, columns i·T … i·T + T − 1
      for (let t = 0; t < numSteps; t++) {
        X[b * numSteps + t] = corpus[s + t];
        Y[b * numSteps + t] = corpus[s + t + 1];
      }
    }
    batches.push([new Tensor(X, [batchSize, numSteps]), new Tensor(Y, [batchSize, numSteps])]);
  }
  return batches;
}

export function seqDataIter(kind: Partitioning, corpus: ArrayLike<number>, batchSize: number, numSteps: number, g: Generator): Batch[] {
  if (kind === 'random') return seqDataIterRandom(corpus, batchSize, numSteps, g);
  if (kind === 'sequential') return seqDataIterSequential(corpus, batchSize, numSteps, g);
  throw new RangeError(`unknown partitioning ${JSON.stringify(kind)}: expected 'random' or 'sequential'`);
}

/**
 * The book's tokens split into a training part and a held-out tail: the last ⌊valFraction·n⌋ tokens are
 * held out; training uses the first `maxTokens` tokens of the rest (0: all of it; d2l trains on the
 * first 10,000 characters of the book).
 */
export function splitCorpus(corpus: Int32Array, valFraction: number, maxTokens = 0): { train: Int32Array; heldOut: Int32Array } {
  if (!(valFraction >= 0 && valFraction < 1)) throw new RangeError(`splitCorpus: valFraction must be in [0, 1), got ${valFraction}`);
  if (!Number.isInteger(maxTokens) || maxTokens < 0) throw new RangeError(`splitCorpus: maxTokens must be an integer ≥ 0, got ${maxTokens}`);
  const cut = corpus.length - Math.floor(valFraction * corpus.length);
  const trainEnd = maxTokens > 0 ? Math.min(maxTokens, cut) : cut;
  return { train: corpus.subarray(0, trainEnd), heldOut: corpus.subarray(cut) };
}
