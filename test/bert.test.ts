/**
 * BERT pretraining (papers/bert): the data pipeline's proportions and determinism (MLM masking, NSP
 * pairing, padding), the model's shapes and heads, its losses, `pfs encode`, and a short real run on
 * WikiText-2 (train, resume, eval, encode) when the corpus is here.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Generator, Tensor } from '../src/index.js';
import { Vocab } from '../src/data/text.js';
import { gradcheck } from '../src/autograd/gradcheck.js';
import {
  batchOf, CLS, MASK, maxPredictions, mlmExample, nspPairs, numPredictions, pretrainingData, pyRound, RESERVED, SEP, tokensAndSegments,
} from '../papers/bert/data.js';
import { BertModel, gatherPositions } from '../papers/bert/model.js';
import { bertLosses, bertPaper, BertConfig, encodeSentence, loadBert, stepRows } from '../papers/bert/train.js';
import { encodeCommand } from '../cli/encode.js';
import type { RunContext } from '../papers/paper.js';
import { needsData } from './data-available.js';

const words = (n: number) => Array.from({ length: n }, (_, i) => `w${i}`);

describe('data', () => {
  test("pyRound rounds a half to even, as Python's round; the prediction counts follow d2l", () => {
    assert.deepEqual([0.5, 1.5, 2.5, 3.4999, 3.5, 9.6].map(pyRound), [0, 2, 2, 3, 4, 10]);
    assert.equal(maxPredictions(64), 10, 'round(64 · 0.15) = round(9.6)');
    assert.equal(numPredictions(3), 1, 'at least one');
    assert.equal(numPredictions(10), 2, 'round(1.5) = 2');
    assert.equal(numPredictions(30), 4, 'round(4.5) = 4');
  });

  test('tokensAndSegments: <cls> a <sep> b <sep>, segments 0 then 1', () => {
    assert.deepEqual(tokensAndSegments(['a'], ['b', 'c']), { tokens: [CLS, 'a', SEP, 'b', 'c', SEP], segments: [0, 0, 0, 1, 1, 1] });
    assert.deepEqual(tokensAndSegments(['a', 'b']), { tokens: [CLS, 'a', 'b', SEP], segments: [0, 0, 0, 0] });
  });

  test('MLM masking: 15% of the tokens chosen, never <cls> or <sep>; 80% <mask>, 10% random, 10% unchanged (binomial tolerance)', () => {
    const vocab = new Vocab([words(200)], { reservedTokens: RESERVED });
    const g = new Generator(3);
    const mask = vocab.toIndex(MASK);
    let chosen = 0;
    let masked = 0;
    let kept = 0;
    for (let s = 0; s < 3000; s++) {
      const a = words(5 + (s % 20)).map((w, i) => `w${(s * 7 + i * 13) % 200}`);
      const b = words(3 + (s % 11)).map((w, i) => `w${(s * 5 + i * 3) % 200}`);
      const { tokens } = tokensAndSegments(a, b);
      const m = mlmExample(tokens, vocab, g);
      assert.equal(m.positions.length, numPredictions(tokens.length));
      assert.deepEqual(m.positions, [...m.positions].sort((x, y) => x - y), 'positions ascending');
      assert.equal(new Set(m.positions).size, m.positions.length, 'no position twice');
      for (const [j, p] of m.positions.entries()) {
        assert.ok(tokens[p] !== CLS && tokens[p] !== SEP, 'special tokens are never chosen');
        assert.equal(m.labels[j], vocab.toIndex(tokens[p]), 'the label is the original token');
        if (m.ids[p] === mask) masked++;
        else if (m.ids[p] === m.labels[j]) kept++;
      }
      tokens.forEach((t, i) => {
        if (!m.positions.includes(i)) assert.equal(m.ids[i], vocab.toIndex(t), 'tokens not chosen are left');
      });
      chosen += m.positions.length;
    }
    // n ≈ 12,000 chosen: σ(0.8) ≈ 0.0037, σ(0.1) ≈ 0.0027; 5σ windows. Unchanged: 0.1 + 0.1/205 (a random token may be the same).
    assert.ok(Math.abs(masked / chosen - 0.8) < 0.019, `masked ${masked / chosen}`);
    assert.ok(Math.abs(kept / chosen - 0.1005) < 0.014, `unchanged ${kept / chosen}`);
    const random = 1 - masked / chosen - kept / chosen;
    assert.ok(Math.abs(random - 0.0995) < 0.014, `random ${random}`);
  });

  test('NSP pairs: about half true next sentences, labels and segments right, the length cap kept', () => {
    // paragraph p, sentence s: the words "p.s" repeated 1 + s mod 4 times
    const paragraphs = Array.from({ length: 300 }, (_, p) => Array.from({ length: 6 }, (_, s) => new Array<string>(1 + (s % 4)).fill(`${p}.${s}`)));
    const maxLen = 9;
    const pairs = nspPairs(paragraphs, maxLen, new Generator(1));
    let next = 0;
    let candidates = 0;
    for (const pr of pairs) {
      assert.ok(pr.tokens.length <= maxLen, 'no pair longer than max_len');
      const sep = pr.tokens.indexOf(SEP);
      assert.deepEqual(pr.segments, pr.tokens.map((_, i) => (i <= sep ? 0 : 1)));
      const [pa, sa] = pr.tokens[1].split('.').map(Number);
      const b = pr.tokens[sep + 1];
      if (pr.isNext) assert.equal(b, `${pa}.${sa + 1}`, 'is_next: b is the next sentence');
      else if (b === `${pa}.${sa + 1}`) candidates++; // a random draw that happened to be the next sentence
      next += pr.isNext;
    }
    assert.ok(candidates < 10);
    // pairs kept depend on lengths, which the coin does not change for true pairs; 0.5 ± 5σ over ~1000 pairs
    assert.ok(Math.abs(next / pairs.length - 0.5) < 0.08, `true next: ${next / pairs.length} of ${pairs.length}`);
    // without the cap every consecutive pair is kept
    assert.equal(nspPairs(paragraphs, 64, new Generator(1)).length, 300 * 5);
  });

  const paragraphs = Array.from({ length: 60 }, (_, p) => Array.from({ length: 2 + (p % 4) }, (_, s) => words(3 + ((p + s) % 9)).map((w, i) => `w${(p * s + i) % 40}`).join(' ')));

  test('padding: tokens to max_len with <pad>, valid lengths, positions and labels padded with 0 and weights 0', () => {
    const d = pretrainingData(paragraphs, { maxLen: 16, minFreq: 1 }, new Generator(5));
    assert.equal(d.P, maxPredictions(16));
    assert.ok(d.n > 50);
    const pad = d.vocab.toIndex('<pad>');
    for (let r = 0; r < d.n; r++) {
      const v = d.validLens[r];
      assert.equal(d.tokens[r * d.T], d.vocab.toIndex(CLS));
      assert.equal(d.tokens[r * d.T + v - 1], d.vocab.toIndex(SEP));
      for (let t = v; t < d.T; t++) assert.equal(d.tokens[r * d.T + t], pad);
      const k = numPredictions(v);
      for (let j = 0; j < d.P; j++) {
        assert.equal(d.weights[r * d.P + j], j < k ? 1 : 0);
        if (j >= k) assert.equal(d.positions[r * d.P + j] + d.labels[r * d.P + j], 0);
        else assert.ok(d.positions[r * d.P + j] > 0 && d.positions[r * d.P + j] < v - 1);
      }
    }
    const b = batchOf(d, [2, 0]);
    assert.deepEqual(b.tokens.shape, [2, 16]);
    assert.deepEqual(b.positions.shape, [2, d.P]);
    assert.deepEqual(Array.from(b.validLens.toTypedArray()), [d.validLens[2], d.validLens[0]]);
    assert.equal(b.weights.dtype, 'float32');
  });

  test('a seed gives the same data; another seed other data', () => {
    const a = pretrainingData(paragraphs, { maxLen: 16, minFreq: 1 }, new Generator(5));
    const b = pretrainingData(paragraphs, { maxLen: 16, minFreq: 1 }, new Generator(5));
    const c = pretrainingData(paragraphs, { maxLen: 16, minFreq: 1 }, new Generator(6));
    assert.deepEqual([a.tokens, a.positions, a.nsp], [b.tokens, b.positions, b.nsp]);
    assert.notDeepEqual(a.tokens, c.tokens);
    assert.throws(() => pretrainingData(paragraphs, { maxLen: 16, minFreq: 1, vocab: new Vocab([['x']]) }, new Generator(5)), /has no <pad>/);
  });

  test('stepRows: each pass a permutation, the last batch short, a step\'s rows fixed by the step alone', () => {
    const rows = stepRows(10, 4, 99);
    const pass = [rows(0), rows(1), rows(2)].flatMap((r) => Array.from(r));
    assert.deepEqual([...pass].sort((x, y) => x - y), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal(rows(2).length, 2);
    assert.notDeepEqual(Array.from(rows(3)), Array.from(rows(0)), 'the next pass is another order');
    assert.deepEqual(Array.from(stepRows(10, 4, 99)(4)), Array.from(rows(4)), 'a fresh schedule (a resumed run) gives the same rows');
  });
});

describe('model', () => {
  const opts = { vocab: 13, hidden: 8, ffnHidden: 16, heads: 2, layers: 2, dropout: 0.1, maxLen: 7 };
  const batch = () => ({
    tokens: Tensor.randint(0, 13, [3, 7], { generator: new Generator(1) }),
    segments: new Tensor(Int32Array.from({ length: 21 }, (_, i) => Number(i % 7 > 3)), [3, 7], 'int32'),
    validLens: new Tensor(Int32Array.of(7, 4, 5), [3], 'int32'),
    positions: new Tensor(Int32Array.of(1, 2, 3, 0, 4, 4), [3, 2], 'int32'),
  });

  test('forward shapes: encoding (B, T, d), MLM logits (B, P, V), NSP logits (B, 2); parameters as d2l counts them', () => {
    const m = new BertModel({ ...opts, generator: new Generator(0) });
    const b = batch();
    const out = m.forward(b.tokens, b.segments, b.validLens, b.positions);
    assert.deepEqual(out.encoded.shape, [3, 7, 8]);
    assert.deepEqual(out.mlm!.shape, [3, 2, 13]);
    assert.deepEqual(out.nsp.shape, [3, 2]);
    assert.equal(m.forward(b.tokens, b.segments, b.validLens, null).mlm, null);
    const d = 8;
    const block = 4 * (d * d + d) + 2 * 2 * d + (d * 16 + 16) + (16 * d + d);
    const expected = 13 * d + 2 * d + 7 * d + 2 * block + (d * d + d) + (d * d + d + 2 * d + d * 13 + 13) + (d * 2 + 2);
    assert.equal(m.numParameters(), expected);
    assert.throws(() => m.forward(Tensor.zeros([1, 8], { dtype: 'int32' }), Tensor.zeros([1, 8], { dtype: 'int32' }), new Tensor(Int32Array.of(8), [1], 'int32'), null), /exceed max_len 7/);
  });

  test('the MLM head reads the encoding at the chosen positions only', () => {
    const m = new BertModel({ ...opts, dropout: 0, generator: new Generator(0) }).eval();
    const b = batch();
    const out = m.forward(b.tokens, b.segments, b.validLens, b.positions);
    const row = out.encoded.narrow(0, 1, 1).narrow(1, 3, 1).reshape([1, 1, 8]); // batch row 1, position 3
    const direct = m.mlm.dense2.forward(m.mlm.ln.forward(m.mlm.dense1.forward(row).relu()));
    assert.ok(direct.sub(out.mlm!.narrow(0, 1, 1).narrow(1, 0, 1)).abs().max().item() < 1e-6);
    // the gather: row b takes X[b, positions[b, j]]
    const X = Tensor.arange(0, 2 * 3 * 2).reshape([2, 3, 2]);
    assert.deepEqual(Array.from(gatherPositions(X, new Tensor(Int32Array.of(2, 0, 1, 1), [2, 2], 'int32')).toTypedArray()), [4, 5, 0, 1, 8, 9, 8, 9]);
    assert.throws(() => gatherPositions(X, new Tensor(Int32Array.of(3, 0), [2, 1], 'int32')), /position 3 is outside the 3 steps/);
  });

  test('gradcheck of the heads and losses (float64): gather at positions, MLM head, weighted MLM loss, NSP', () => {
    const m = new BertModel({ ...opts, dropout: 0, generator: new Generator(2) }).eval().double();
    const positions = new Tensor(Int32Array.of(1, 2, 3, 0), [2, 2], 'int32');
    const weights = new Tensor(Float64Array.of(1, 1, 1, 0), [2, 2], 'float64');
    const labels = new Tensor(Int32Array.of(3, 4, 5, 0), [2, 2], 'int32');
    const nsp = new Tensor(Int32Array.of(1, 0), [2], 'int32');
    const X = Tensor.randn([2, 4, 8], { generator: new Generator(4), dtype: 'float64' }).requiresGrad_();
    const r = gradcheck((x) => {
      const cls = x.narrow(1, 0, 1).squeeze(1);
      const l = bertLosses(m.mlm.forward(x, positions), m.nsp.forward(m.hidden.forward(cls).tanh()), { weights, labels, nsp });
      return l.mlm.add(l.nsp);
    }, [X]);
    assert.ok(r.ok, JSON.stringify(r));
  });

  test('the MLM loss: weighted over the real predictions, or the mean over all slots (d2l\'s PyTorch code)', () => {
    const logits = Tensor.randn([2, 2, 5], { generator: new Generator(9) });
    const labels = new Tensor(Int32Array.of(1, 2, 3, 0), [2, 2], 'int32');
    const weights = new Tensor(Float32Array.of(1, 1, 1, 0), [2, 2], 'float32');
    const nsp = new Tensor(Int32Array.of(0, 1), [2], 'int32');
    const nspLogits = Tensor.zeros([2, 2]);
    const ce = logits.reshape([4, 5]).logSoftmax(1).toTypedArray();
    const per = [1, 2, 3, 0].map((y, i) => -ce[i * 5 + y]);
    const w = bertLosses(logits, nspLogits, { weights, labels, nsp });
    assert.ok(Math.abs(w.mlm.item() - (per[0] + per[1] + per[2]) / 3) < 1e-5);
    assert.ok(Math.abs(w.nsp.item() - Math.log(2)) < 1e-6);
    const u = bertLosses(logits, nspLogits, { weights, labels, nsp }, 'unweighted');
    assert.ok(Math.abs(u.mlm.item() - per.reduce((a, b) => a + b) / 4) < 1e-5);
  });
});

test('pfs encode: usage errors name what is expected', async () => {
  await assert.rejects(() => encodeCommand(['lenet', 'a crane']), /expected a paper that encodes sentences \(bert\)/);
  await assert.rejects(() => encodeCommand(['bert']), /give one or more sentences/);
  await assert.rejects(() => encodeCommand(['bert', 'a crane']), /--checkpoint FILE is required/);
});

function quietCtx(dir: string, resume = false, log: string[] = []): RunContext {
  return { paper: 'bert', preset: 'd2l', outDir: dir, seed: 0, resume, quiet: false, log: { write: (s: string) => void log.push(s) } };
}

test('bert paper: a short run on WikiText-2 writes its files and metrics, resumes, evaluates, loads and encodes', { skip: needsData('wikitext-2') }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pfs-bert-'));
  try {
    const config: BertConfig = {
      ...bertPaper.presets.d2l.config, hidden: 8, ffn_hidden: 16, heads: 2, layers: 1, max_len: 32, batch_size: 16, epochs: 2, steps_per_epoch: 2, max_paragraphs: 150,
    };
    const r = await bertPaper.train(config, quietCtx(dir));
    assert.deepEqual(Object.keys(r.metrics).sort(), [...bertPaper.metrics(config)].sort());
    assert.ok(r.metrics.mlm_loss > 0 && r.metrics.nsp_loss > 0);
    assert.ok(!('d2l_mlm_within_5pct' in r.metrics), 'the d2l window only where the run has d2l\'s 50 steps');
    assert.deepEqual(bertPaper.metrics({ ...config, epochs: 5, steps_per_epoch: 10 }).filter((k) => k.startsWith('d2l_')), ['d2l_mlm_within_5pct', 'd2l_nsp_within_5pct']);
    assert.equal(r.samples, 2 * 2 * 16);
    for (const f of r.files) assert.ok(existsSync(join(dir, f)), `${f} written`);

    const log: string[] = [];
    const again = await bertPaper.train({ ...config, epochs: 3 }, quietCtx(dir, true, log));
    assert.match(log.join(''), /resumed from .* after epoch 2/);
    assert.equal(again.samples, 2 * 16, 'only the third block ran');

    const ckpt = join(dir, 'checkpoint.safetensors');
    const ev = await bertPaper.evaluate!(config, ckpt, quietCtx(dir));
    assert.ok(ev.mlm_loss > 0 && ev.nsp_acc >= 0 && ev.nsp_acc <= 1);

    const t = await loadBert(ckpt);
    assert.equal(t.config.max_paragraphs, 150);
    const e = encodeSentence(t, 'A crane is flying zzqxv');
    assert.deepEqual(e.tokens, [CLS, 'a', 'crane', 'is', 'flying', 'zzqxv', SEP]);
    assert.ok(e.unknown.includes('zzqxv') && e.unknown.every((w) => !t.vocab.has(w)), 'the words outside the (150 paragraphs\') vocabulary');
    assert.deepEqual(e.encoded.shape, [1, 7, 8]);
    assert.throws(() => encodeSentence(t, 'a '.repeat(31)), /33 tokens with <cls> and <sep>; the model takes at most 32/);
    const out: string[] = [];
    const err: string[] = [];
    const status = await encodeCommand(['bert', '--checkpoint', ckpt, 'a crane is flying', 'a crane driver came zzqxv'], { write: (s: string) => out.push(s) }, { write: (s: string) => err.push(s) });
    assert.equal(status, 0);
    assert.match(out.join(''), /<cls> a crane is flying <sep>: encoding of shape \(1, 6, 8\)/);
    assert.match(out.join(''), /cosine similarity of "crane"[^:]*: -?\d\.\d{4}/);
    assert.match(err.join(''), /not in the vocabulary, read as <unk>: .*zzqxv/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
