/**
 * Skip-gram with negative sampling (papers/skip-gram): subsampling's keep proportions, the windows and
 * contexts, the noise words' unigram^0.75 proportions and their exclusion of the contexts, the padded
 * batches, the seed's determinism, d2l's loss normalisation, the nearest words and `pfs similar`'s
 * messages, and a short run on PTB with resume, eval and load.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Generator, Tensor } from '../src/index.js';
import { Vocab } from '../src/data/text.js';
import {
  batchify, centresAndContexts, keepProbability, negatives, NoiseSampler, raggedRow, skipGramData, skipGramLoader, subsample,
} from '../papers/skip-gram/data.js';
import { similarTokens, SkipGram, skipGramLoss } from '../papers/skip-gram/model.js';
import { loadWordVectors, skipGramPaper, similar, SkipGramConfig } from '../papers/skip-gram/train.js';
import { similarCommand } from '../cli/similar.js';
import type { RunContext } from '../papers/paper.js';
import { needsData } from './data-available.js';

/** |observed − expected| within `z` binomial standard deviations of n draws at probability p. */
function withinBinomial(k: number, n: number, p: number, z = 4.5): void {
  const sd = Math.sqrt((p * (1 - p)) / n);
  assert.ok(Math.abs(k / n - p) <= z * sd + 1e-12, `observed ${(k / n).toFixed(4)} of ${n}, expected ${p.toFixed(4)} ± ${(z * sd).toFixed(4)}`);
}

describe('subsampling', () => {
  test('each word is kept with probability min(1, √(t·N/count)), one draw per token', () => {
    // counts 8000, 1500, 490, 10 of ids 1..4 (N = 10000) in sentences of 10 shuffled tokens; t = 0.02
    const counts = [0, 8000, 1500, 490, 10];
    const tokens: number[] = [];
    counts.forEach((c, w) => tokens.push(...Array<number>(c).fill(w)));
    const g = new Generator(3);
    for (let i = tokens.length - 1; i > 0; i--) {
      const j = g.randint(0, i + 1);
      [tokens[i], tokens[j]] = [tokens[j], tokens[i]];
    }
    const corpus = Array.from({ length: 1000 }, (_, s) => Int32Array.from(tokens.slice(10 * s, 10 * s + 10)));
    const kept = subsample(corpus, counts, new Generator(0), 0.02);
    const keptCounts = new Array(5).fill(0);
    for (const line of kept) for (const w of line) keptCounts[w]++;
    assert.equal(keepProbability(8000, 10000, 0.02), Math.sqrt(0.025));
    assert.equal(keepProbability(10, 10000, 0.02), 1, 'min(1, √20)');
    for (const w of [1, 2, 3]) withinBinomial(keptCounts[w], counts[w], keepProbability(counts[w], 10000, 0.02));
    assert.equal(keptCounts[4], 10, 'a word whose probability is ≥ 1 is always kept');
    assert.ok(kept.every((line, s) => line.every((w, i) => i === 0 || corpus[s].indexOf(w, 0) >= 0)), 'kept tokens come from their sentence');
    assert.throws(() => subsample(corpus, counts, new Generator(0), 0), /t must be a positive number/);
  });

  test('the corpus of PTB-like text drops the words that map to <unk> before counting', () => {
    const sentences = [['a', 'b', 'a', 'rare'], ['a', '<unk>', 'b']];
    const data = skipGramData(sentences, { minFreq: 2, t: 1, maxWindow: 1, noiseWords: 1 }, new Generator(0));
    assert.deepEqual(data.vocab.idxToToken, ['<unk>', 'a', 'b']);
    assert.deepEqual([...data.counts], [0, 3, 2]);
    assert.equal(data.tokens, 5, "'rare' and '<unk>' are dropped");
  });
});

describe('centres and contexts', () => {
  test('window 1: the neighbours in the same sentence; a one-word sentence has no centre', () => {
    const { centres, contexts } = centresAndContexts([Int32Array.of(1, 2, 3), Int32Array.of(9), Int32Array.of(4, 5)], 1, new Generator(0));
    assert.deepEqual([...centres], [1, 2, 3, 4, 5]);
    assert.deepEqual([0, 1, 2, 3, 4].map((i) => [...raggedRow(contexts, i)]), [[2], [1, 3], [2], [5], [4]]);
  });

  test('window sizes are drawn uniformly from 1..maxWindow and the contexts are the words within', () => {
    const line = Int32Array.from({ length: 20 }, (_, i) => i + 1);
    const corpus = Array.from({ length: 400 }, () => line);
    const { centres, contexts } = centresAndContexts(corpus, 5, new Generator(1));
    const seen = new Array(6).fill(0);
    let n = 0;
    for (let i = 0; i < centres.length; i++) {
      const c = centres[i];
      const ctx = [...raggedRow(contexts, i)];
      const lo = Math.max(1, c - 5);
      const hi = Math.min(20, c + 5);
      const w = ctx.length === 0 ? 0 : Math.max(c - ctx[0], ctx[ctx.length - 1] - c);
      assert.ok(w >= 1 && w <= 5);
      const want = [];
      for (let j = Math.max(lo, c - w); j <= Math.min(hi, c + w); j++) if (j !== c) want.push(j);
      assert.deepEqual(ctx, want, `centre ${c}: every word within ${w}, itself excluded, in order`);
      if (c > 5 && c <= 15) {
        seen[w]++; // a centre ≥ 5 words from both ends shows its window size
        n++;
      }
    }
    for (let w = 1; w <= 5; w++) withinBinomial(seen[w], n, 1 / 5);
    assert.throws(() => centresAndContexts(corpus, 0, new Generator(0)), /maxWindow must be a positive integer/);
  });
});

describe('negative sampling', () => {
  const counts = [0, 1000, 300, 50, 7];

  test('noise words follow unigram^0.75, never <unk>', () => {
    const s = NoiseSampler.unigram(counts);
    const g = new Generator(2);
    const n = 200000;
    const seen = new Array(5).fill(0);
    for (let i = 0; i < n; i++) seen[s.draw(g)]++;
    const z = counts.reduce((a, c) => a + c ** 0.75, 0);
    assert.equal(seen[0], 0);
    for (let w = 1; w < 5; w++) withinBinomial(seen[w], n, counts[w] ** 0.75 / z);
    assert.throws(() => new NoiseSampler([0, 0]), /sum to 0/);
    assert.throws(() => new NoiseSampler([1, -1]), /weight 1 is -1/);
  });

  test('K noise words per context word, none of them one of the contexts', () => {
    const contexts = { offsets: Int32Array.of(0, 2, 3, 3), data: Int32Array.of(1, 2, 1) };
    const neg = negatives(contexts, 5, NoiseSampler.unigram(counts), new Generator(4));
    assert.deepEqual([...neg.offsets], [0, 10, 15, 15]);
    assert.ok([...raggedRow(neg, 0)].every((w) => w === 3 || w === 4), 'centre 0: contexts 1 and 2 excluded');
    assert.ok([...raggedRow(neg, 1)].every((w) => w >= 2), 'centre 1: context 1 excluded');
    assert.ok([...raggedRow(neg, 1)].includes(2), 'the most frequent word left is drawn');
    assert.throws(() => negatives(contexts, -1, NoiseSampler.unigram(counts), new Generator(0)), /K must be an integer/);
  });
});

describe('batches', () => {
  test('contexts then noise words, padded with 0 to the longest row; mask on real words, labels on contexts', () => {
    const ex = {
      centres: Int32Array.of(7, 8, 9),
      contexts: { offsets: Int32Array.of(0, 1, 3, 4), data: Int32Array.of(1, 2, 3, 4) },
      negatives: { offsets: Int32Array.of(0, 2, 6, 8), data: Int32Array.of(5, 6, 1, 1, 5, 6, 2, 3) },
    };
    const [c, w, mask, labels] = batchify(ex, [0, 1]);
    assert.deepEqual(c.toArray(), [[7], [8]]);
    assert.equal(c.dtype, 'int32');
    assert.deepEqual(w.toArray(), [[1, 5, 6, 0, 0, 0], [2, 3, 1, 1, 5, 6]]);
    assert.deepEqual(mask.toArray(), [[1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 1]]);
    assert.deepEqual(labels.toArray(), [[1, 0, 0, 0, 0, 0], [1, 1, 0, 0, 0, 0]]);
    assert.deepEqual(batchify(ex, [2])[1].toArray(), [[4, 2, 3]]);
    assert.throws(() => batchify(ex, []), /at least one centre/);
  });

  test('the same seed gives the same data and batches; another seed other ones', () => {
    const words = 'the cat sat on the mat and the dog sat on the log while a cat ran'.split(' ');
    const sentences = Array.from({ length: 60 }, (_, i) => words.slice(i % 5, 8 + (i % 9)));
    const opts = { minFreq: 2, t: 0.05, maxWindow: 3, noiseWords: 2 };
    const draw = (seed: number) => {
      const data = skipGramData(sentences, opts, new Generator(seed));
      const batches = [...skipGramLoader(data, 16, new Generator(seed + 100))].map((b) => b.map((t) => [...t.toTypedArray()]));
      return { kept: data.keptTokens, negatives: [...data.negatives.data], batches };
    };
    assert.deepEqual(draw(0), draw(0));
    assert.notDeepEqual(draw(0).negatives, draw(1).negatives);
    assert.notDeepEqual(draw(0).batches, draw(1).batches);
  });
});

describe('model and loss', () => {
  test("d2l's normalisation: each centre's BCE with logits averaged over its real words", () => {
    const scores = Tensor.from([[0, 1, 5], [2, -1, 0.5]]);
    const labels = Tensor.from([[1, 0, 0], [1, 1, 0]]);
    const mask = Tensor.from([[1, 1, 0], [1, 1, 1]]);
    const bce = (x: number, y: number) => -(y * Math.log(1 / (1 + Math.exp(-x))) + (1 - y) * Math.log(1 - 1 / (1 + Math.exp(-x))));
    const want = [(bce(0, 1) + bce(1, 0)) / 2, (bce(2, 1) + bce(-1, 1) + bce(0.5, 0)) / 3];
    const got = [...skipGramLoss(scores, labels, mask).toTypedArray()];
    got.forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-6, `centre ${i}: ${v} vs ${want[i]}`));
  });

  test('scores are u·v of the looked-up rows; init is Xavier-uniform', () => {
    const g = new Generator(0);
    const m = new SkipGram(50, 4, g);
    m.init(g);
    const a = Math.sqrt(6 / 54);
    for (const p of m.parameters()) assert.ok([...p.toTypedArray()].every((x) => Math.abs(x) <= a));
    const s = m.forward(Tensor.from([[3], [7]], { dtype: 'int32' }), Tensor.from([[1, 2], [7, 0]], { dtype: 'int32' }));
    assert.deepEqual(s.shape, [2, 1, 2]);
    const V = m.embedV.weight.toArray() as number[][];
    const U = m.embedU.weight.toArray() as number[][];
    const dot = (x: number[], y: number[]) => x.reduce((t, xi, i) => t + xi * y[i], 0);
    assert.ok(Math.abs((s.toArray() as number[][][])[1][0][0] - dot(V[7], U[7])) < 1e-6);
    assert.deepEqual(Object.keys(m.stateDict()), ['0.weight', '1.weight']);
  });

  test('nearest words by cosine, the word itself left out; unknown words are named', () => {
    const vocab = new Vocab([['chip', 'intel', 'bugs', 'cat']]);
    assert.deepEqual(vocab.idxToToken, ['<unk>', 'chip', 'intel', 'bugs', 'cat']);
    const W2 = Tensor.from([[0, 0], [1, 0], [0.9, 0.1], [0.1, 1], [-1, 0]]); // their rows
    const near = similarTokens(W2, vocab, 'chip', 2);
    assert.deepEqual(near.map((n) => n.token), ['intel', 'bugs']);
    assert.ok(Math.abs(near[0].cosine - 0.9 / Math.sqrt(0.82 + 1e-9)) < 1e-6);
    assert.throws(() => similarTokens(W2, vocab, 'microprocessor', 3), /"microprocessor" is not in the vocabulary \(5 words\)/);
    assert.throws(() => similarTokens(W2, vocab, '<unk>', 3), /<unk> has no vector of its own/);
    assert.throws(() => similarTokens(W2, vocab, 'chip', 0), /k must be a positive integer/);
  });

  test('pfs similar: the paper, the words and the checkpoint are asked for', async () => {
    await assert.rejects(() => similarCommand(['lenet', '--checkpoint', 'x', 'chip']), /expected the paper skip-gram first, got "lenet"/);
    await assert.rejects(() => similarCommand(['skip-gram', '--checkpoint', 'x']), /give one or more words/);
    await assert.rejects(() => similarCommand(['skip-gram', 'chip']), /--checkpoint FILE is required/);
    await assert.rejects(() => similarCommand(['skip-gram', '--checkpoint', 'x', 'chip', '--k', '0']), /--k: 0 is outside/);
  });
});

// ---------- the paper end to end ----------

const quietCtx = (dir: string, resume = false, log: string[] = []): RunContext => ({
  paper: 'skip-gram', preset: 'd2l', outDir: dir, seed: 0, resume, quiet: true, log: { write: (s: string) => (log.push(s), true) } as never,
});

test('skip-gram paper: a short run on PTB writes its files and metrics, resumes, evaluates, loads, and answers pfs similar', { skip: needsData('ptb') }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pfs-skip-gram-'));
  const log: string[] = [];
  try {
    const config: SkipGramConfig = { ...skipGramPaper.presets.d2l.config, max_sentences: 1500, min_freq: 5, embed: 16, epochs: 2 };
    const r = await skipGramPaper.train(config, quietCtx(dir));
    assert.deepEqual(Object.keys(r.metrics).sort(), [...skipGramPaper.metrics(config)].sort());
    assert.ok(r.metrics.train_loss > 0 && r.metrics.train_loss < r.metrics.d2l_loss, 'the second epoch is below the mean of both');
    for (const f of r.files) assert.ok(existsSync(join(dir, f)), `${f} written`);
    const centres = r.samples / 2;

    const again = await skipGramPaper.train({ ...config, epochs: 3 }, quietCtx(dir, true, log));
    assert.match(log.join(''), /resumed from .* after epoch 2/);
    assert.equal(again.samples, centres, 'only the third epoch ran');
    assert.ok(again.metrics.d2l_loss < r.metrics.d2l_loss);

    const ckpt = join(dir, 'checkpoint.safetensors');
    const ev = await skipGramPaper.evaluate!(config, ckpt, quietCtx(dir));
    assert.deepEqual(Object.keys(ev), ['chip_top3_hit']);
    const w = await loadWordVectors(ckpt);
    assert.equal(w.config.embed, 16);
    const near = similar(w, 'the', 4);
    assert.equal(near.length, 4);
    assert.ok(near.every((n, i) => n.token !== 'the' && Math.abs(n.cosine) <= 1 && (i === 0 || n.cosine <= near[i - 1].cosine)));

    const out: string[] = [];
    const err: string[] = [];
    const sink = (a: string[]) => ({ write: (s: string) => a.push(s) });
    const status = await similarCommand(['skip-gram', '--checkpoint', ckpt, 'the', 'zzzz', '--k', '2'], sink(out), sink(err));
    assert.equal(status, 1, 'an unknown word fails the command');
    assert.match(out.join(''), /^nearest to the:\n {2}cosine sim=-?\d\.\d{3}: \S+\n {2}cosine sim=-?\d\.\d{3}: \S+\n$/);
    assert.match(err.join(''), /"zzzz" is not in the vocabulary \(\d+ words\); it holds the words seen at least 5 times in ptb.train.txt/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
