/**
 * The translation papers (papers/seq2seq, papers/bahdanau, papers/transformer, papers/translation):
 * BLEU on hand-computed cases, the held-out split and the arrays, each model's incremental decoding
 * against its teacher-forced forward (the Transformer's key/value cache included), beam search against
 * greedy decoding and on a model where greedy is wrong, padding that changes nothing, the heatmaps,
 * `pfs translate`'s messages, and a short run of each paper with resume and eval.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Generator, noGrad, Tensor } from '../src/index.js';
import { Vocab } from '../src/data/text.js';
import { Module } from '../src/nn/module.js';
import { bleuD2l, corpusBleu } from '../src/train/bleu.js';
import { heatmapSvg } from '../src/train/plot.js';
import { Bahdanau } from '../papers/bahdanau/model.js';
import { bahdanauPaper } from '../papers/bahdanau/train.js';
import { Seq2Seq } from '../papers/seq2seq/model.js';
import { seq2seqPaper } from '../papers/seq2seq/train.js';
import { Transformer } from '../papers/transformer/model.js';
import { transformerPaper } from '../papers/transformer/train.js';
import { splitPairs, translationData } from '../papers/translation/data.js';
import { attentionFor, beamSearch, greedyDecode } from '../papers/translation/decode.js';
import { DecoderStep, EncoderDecoder, xavierInit } from '../papers/translation/model.js';
import { BaseConfig, TranslationPaper, Translator } from '../papers/translation/train.js';
import { translateSentence } from '../papers/translation/translate.js';
import { translateCommand } from '../cli/translate.js';
import type { RunContext } from '../papers/paper.js';
import { needsData } from './data-available.js';

const tokens = (s: string) => s.split(' ');

describe('BLEU', () => {
  test("d2l's sentence BLEU (k = 2) on hand-computed cases", () => {
    assert.equal(bleuD2l(tokens('il est calme .'), tokens('il est calme .')), 1);
    // len 4 vs 5: BP e^(1 − 5/4); p1 = 3/4 (je suis .), p2 = 1/3 (je suis): e^−0.25 · (3/4)^½ · (1/3)^¼
    assert.ok(Math.abs(bleuD2l(tokens('je suis <unk> .'), tokens('je suis chez moi .')) - Math.exp(-0.25) * Math.sqrt(0.75) * Math.pow(1 / 3, 0.25)) < 1e-12);
    // a longer prediction has no brevity penalty; a repeated word is matched as often as the label has it
    assert.ok(Math.abs(bleuD2l(tokens('le le le'), tokens('le chat'), 1) - (1 / 3) ** 0.5) < 1e-12);
    assert.equal(bleuD2l(tokens('va !'), tokens('je suis chez moi .')), 0, 'no shared word');
    assert.equal(bleuD2l(['va'], tokens('va !')), 0, 'fewer tokens than k: no bigram to match');
    assert.equal(bleuD2l([], tokens('va !')), 0);
    assert.throws(() => bleuD2l(['a'], ['a'], 0), /k must be a positive integer/);
  });

  test('corpus BLEU-4 sums the clipped counts over the corpus before the geometric mean', () => {
    // p1 = (4 + 1)/(4 + 2), p2 = (3 + 0)/(3 + 1), p3 = 2/2, p4 = 1/1; c = r = 6 so BP = 1
    const r = corpusBleu([tokens('a b c d'), tokens('a b')], [tokens('a b c d'), tokens('a c')]);
    assert.deepEqual(r.precisions, [5 / 6, 3 / 4, 1, 1]);
    assert.equal(r.brevityPenalty, 1);
    assert.ok(Math.abs(r.bleu - Math.pow((5 / 6) * (3 / 4), 0.25)) < 1e-12);
    // shorter than the references: BP = e^(1 − r/c)
    const short = corpusBleu([tokens('a b c d')], [tokens('a b c d e f')]);
    assert.ok(Math.abs(short.brevityPenalty - Math.exp(1 - 6 / 4)) < 1e-12);
    assert.ok(Math.abs(short.bleu - short.brevityPenalty) < 1e-12, 'every n-gram matches');
    assert.equal(corpusBleu([tokens('a b c')], [tokens('a b c')]).bleu, 0, 'no 4-gram: p4 = 0, no smoothing');
    assert.equal(corpusBleu([], []).bleu, 0);
    assert.throws(() => corpusBleu([['a']], []), /1 hypotheses but 0 references/);
  });
});

describe('data', () => {
  const pairs = { source: ['a .', 'b .', 'a b .', 'c .', 'a .', 'd .'].map(tokens), target: ['x .', 'y .', 'x y .', 'z .', 'x .', 'w .'].map(tokens) };

  test('every N-th pair is held out, and the vocabularies come from the training pairs only', () => {
    const { train, heldOut } = splitPairs(pairs, 3);
    assert.deepEqual(heldOut.source, [tokens('a b .'), tokens('d .')]);
    assert.equal(train.source.length, 4);
    assert.deepEqual(splitPairs(pairs, 0).heldOut.source, []);
    const data = translationData(pairs, { maxExamples: 0, heldOutEvery: 3, minFreq: 1, numSteps: 4 });
    assert.deepEqual(data.srcVocab.idxToToken.slice(0, 4), ['<unk>', '<pad>', '<bos>', '<eos>']);
    assert.ok(!data.srcVocab.has('d') && data.srcVocab.has('c'), "the held-out 'd' is unknown");
    const [X, XValid, Y, YValid] = data.train;
    assert.deepEqual(X.shape, [4, 4]);
    assert.deepEqual([...XValid.toTypedArray()], [3, 3, 3, 3]);
    assert.deepEqual(data.tgtVocab.toTokens(Y.toTypedArray().slice(0, 4)), ['x', '.', '<eos>', '<pad>']);
    assert.equal(YValid.shape[0], 4);
    assert.throws(() => translationData(pairs, { maxExamples: 0, heldOutEvery: 1, minFreq: 1, numSteps: 4 }), /leaves no training pairs/);
  });
});

// ---------- the models ----------

const SRC_V = 11;
const TGT_V = 13;

function models(g: Generator): [string, EncoderDecoder][] {
  const rnn = { srcVocab: SRC_V, tgtVocab: TGT_V, embed: 6, hidden: 8, layers: 2, dropout: 0.1, generator: g };
  const list: [string, EncoderDecoder][] = [
    ['seq2seq', new Seq2Seq(rnn)],
    ['bahdanau', new Bahdanau(rnn)],
    ['transformer', new Transformer({ srcVocab: SRC_V, tgtVocab: TGT_V, hidden: 8, ffnHidden: 12, heads: 2, layers: 2, dropout: 0.1, generator: g })],
  ];
  for (const [, m] of list) xavierInit(m, g);
  return list;
}

/** Random tokens in [4, V) (no specials), (B, T). */
function randomTokens(B: number, T: number, V: number, g: Generator): Tensor {
  return new Tensor(Int32Array.from({ length: B * T }, () => 4 + (g.nextUint32() % (V - 4))), [B, T], 'int32');
}

const maxDiff = (a: Tensor, b: Tensor) => a.sub(b).abs().max().item();

for (const [name] of models(new Generator(0))) {
  describe(name, () => {
    const g = new Generator(1);
    const model = models(new Generator(7)).find(([n]) => n === name)![1];
    model.eval();
    const X = randomTokens(3, 6, SRC_V, g);
    const XValid = new Tensor(new Int32Array([6, 4, 2]), [3], 'int32');
    const Y = randomTokens(3, 5, TGT_V, g);

    test('decoding one step at a time gives the teacher-forced logits', () => {
      noGrad(() => {
        const full = model.forward(X, XValid, Y); // (B, T, V)
        let state = model.begin(X, XValid);
        for (let t = 0; t < 5; t++) {
          const r = model.step(Y.narrow(1, t, 1).squeeze(1), state);
          state = r.state;
          assert.ok(maxDiff(r.logits, full.narrow(1, t, 1).squeeze(1)) < 1e-5, `step ${t}`);
        }
      });
    });

    test('selectState picks batch rows: decoding from selected rows equals decoding those sentences alone', () => {
      noGrad(() => {
        const rows = new Tensor(new Int32Array([2, 0, 2]), [3], 'int32');
        let picked = model.selectState(model.begin(X, XValid), rows);
        let alone = model.begin(X.indexSelect(0, rows), XValid.indexSelect(0, rows));
        for (let t = 0; t < 3; t++) {
          const y = Y.narrow(1, t, 1).squeeze(1);
          const a = model.step(y, picked);
          const b = model.step(y, alone);
          assert.ok(maxDiff(a.logits, b.logits) < 1e-5);
          picked = a.state;
          alone = b.state;
        }
      });
    });

    if (name !== 'seq2seq') {
      test('source padding past the valid length changes nothing the decoder sees', () => {
        noGrad(() => {
          const X2 = X.clone();
          const d = X2.toTypedArray() as Int32Array;
          d.fill(5, 2 * 6 + 2, 3 * 6); // row 2 is valid for 2 steps: rewrite its padding
          const a = model.forward(X, XValid, Y).narrow(0, 2, 1);
          const b = model.forward(new Tensor(d, [3, 6], 'int32'), XValid, Y).narrow(0, 2, 1);
          if (name === 'transformer') assert.ok(maxDiff(a, b) < 1e-5);
          else assert.ok(maxDiff(a, b) > 0, "the GRU encoder reads the padding (as d2l's), so only attention masks it");
        });
      });
    }

    test('beam search of width 1 is greedy decoding', () => {
      const sp = { bos: 2, eos: 3 };
      for (let b = 0; b < 3; b++) {
        const x = X.narrow(0, b, 1);
        const v = XValid.narrow(0, b, 1);
        assert.deepEqual(beamSearch(model, x, v, sp, 7, { beam: 1 }).tokens, greedyDecode(model, x, v, sp, 7)[0]);
      }
      const wide = beamSearch(model, X.narrow(0, 0, 1), XValid.narrow(0, 0, 1), sp, 7, { beam: 4 });
      assert.ok(Number.isFinite(wide.score) && wide.tokens.length <= 7);
    });

    test('a training step lowers the loss on a fixed batch', () => {
      model.train();
      const params = model.parameters();
      const before = noGrad(() => model.forward(X, XValid, Y).logSoftmax(2).neg().mean().item());
      for (let i = 0; i < 5; i++) {
        const loss = model.forward(X, XValid, Y).logSoftmax(2).neg().mean();
        for (const p of params) p.grad = null;
        loss.backward();
        noGrad(() => params.forEach((p) => p.sub_(p.grad!.mul(0.1))));
      }
      model.eval();
      const after = noGrad(() => model.forward(X, XValid, Y).logSoftmax(2).neg().mean().item());
      assert.ok(after < before, `${before} → ${after}`);
    });
  });
}

test('the Transformer attention maps: encoder self-attention per block and decoder cross-attention per step, rows summing to 1', () => {
  const model = models(new Generator(3))[2][1];
  model.eval();
  const X = randomTokens(1, 5, SRC_V, new Generator(4));
  const XValid = new Tensor(new Int32Array([4]), [1], 'int32');
  const maps = attentionFor(model, X, XValid, { bos: 2, eos: 3 }, [5, 6]);
  assert.deepEqual(Object.keys(maps).sort(), [
    'decoder block 1 cross-attention', 'decoder block 2 cross-attention', 'encoder block 1 self-attention', 'encoder block 2 self-attention',
  ]);
  assert.deepEqual(maps['decoder block 1 cross-attention'].shape, [1, 2, 3, 5], '3 steps: bos and the two tokens');
  assert.deepEqual(maps['encoder block 2 self-attention'].shape, [1, 2, 5, 5]);
  const w = maps['decoder block 2 cross-attention'];
  assert.ok(maxDiff(w.sum(-1), Tensor.ones([1, 2, 3])) < 1e-5);
  assert.ok(w.narrow(3, 4, 1).abs().max().item() < 1e-6, 'the padding gets no weight');
});

/** A decoder with a fixed table of next-token probabilities, where the most probable sequence does not start with the most probable token. */
class TableModel extends Module implements EncoderDecoder<Tensor> {
  // tokens: 0 <unk>, 1 <pad>, 2 <bos>, 3 <eos>, 4 A, 5 B
  private static readonly P: Record<number, number[]> = {
    2: [0, 0, 0, 0.0, 0.6, 0.4], // after <bos>: A 0.6, B 0.4
    4: [0.2, 0, 0, 0.35, 0.25, 0.2], // after A: <eos> 0.35 at best
    5: [0.02, 0, 0, 0.95, 0.02, 0.01], // after B: <eos> 0.95
  };
  forward(): Tensor {
    throw new Error('not used');
  }
  begin(X: Tensor): Tensor {
    return Tensor.full([X.shape[0]], 2, { dtype: 'int32' });
  }
  step(y: Tensor): DecoderStep<Tensor> {
    const rows = Array.from(y.toTypedArray(), (v) => (TableModel.P[v] ?? TableModel.P[4]).map((p) => Math.log(Math.max(p, 1e-9))));
    return { logits: new Tensor(Float32Array.from(rows.flat()), [rows.length, 6]), state: y };
  }
  selectState(s: Tensor, rows: Tensor): Tensor {
    return s.indexSelect(0, rows);
  }
}

test('beam search finds the more probable translation that greedy decoding misses', () => {
  const m = new TableModel();
  const X = Tensor.zeros([1, 2], { dtype: 'int32' });
  const v = new Tensor(new Int32Array([2]), [1], 'int32');
  const sp = { bos: 2, eos: 3 };
  assert.deepEqual(greedyDecode(m, X, v, sp, 5)[0], [4], 'greedy: A (0.6), then <eos> (0.35): P = 0.21');
  const b = beamSearch(m, X, v, sp, 5, { beam: 2 });
  assert.deepEqual(b.tokens, [5], 'beam: B (0.4), then <eos> (0.95): P = 0.38');
  assert.ok(Math.abs(b.score - Math.log(0.4 * 0.95) / Math.pow(2, 0.75)) < 1e-5, 'length-normalised: log P / 2^0.75');
  assert.throws(() => beamSearch(m, X, v, sp, 5, { beam: 0 }), /beam width must be a positive integer/);
});

test('heatmapSvg draws one panel per map, with a cell per weight, and refuses mismatched labels', () => {
  const svg = heatmapSvg([
    { title: 'a', rows: ['x', 'y'], cols: ['p', 'q', 'r'], values: [[0.1, 0.2, 0.7], [1, 0, 0]] },
    { title: 'b <&>', rows: ['x'], cols: ['p'], values: [[0.5]] },
  ]);
  assert.equal((svg.match(/<g class="panel"/g) ?? []).length, 2);
  assert.equal((svg.match(/<rect x=/g) ?? []).length, 7);
  assert.match(svg, /b &lt;&amp;&gt;/);
  assert.throws(() => heatmapSvg([{ title: 'c', rows: ['x'], cols: ['p', 'q'], values: [[1]] }]), /1 row and 2 column labels but a 1 × 1 matrix/);
  assert.throws(() => heatmapSvg([]), /no panels/);
});

// ---------- the papers end to end ----------

const quietCtx = (paper: string, dir: string, resume = false, log: string[] = []): RunContext => ({
  paper, preset: 'd2l', outDir: dir, seed: 0, resume, quiet: true, log: { write: (s: string) => (log.push(s), true) } as never,
});

function small<C extends BaseConfig>(p: TranslationPaper<C>, extra: Partial<C> = {}): C {
  return { ...p.presets.d2l.config, max_examples: 120, held_out_every: 6, batch_size: 16, epochs: 2, eval_every: 1, hidden: 8, ...extra };
}

for (const [paper, extra] of [
  [seq2seqPaper, { embed: 8 }],
  [bahdanauPaper, { embed: 8 }],
  [transformerPaper, { ffn_hidden: 16, heads: 2 }],
] as unknown as [TranslationPaper, Partial<BaseConfig>][]) {
  test(`${paper.name} paper: a short run writes its files and metrics, resumes, evaluates, and translates`, { skip: needsData('fra-eng') }, async () => {
    const dir = mkdtempSync(join(tmpdir(), `pfs-${paper.name}-`));
    const log: string[] = [];
    try {
      const config = small(paper, extra);
      const r = await paper.train(config, quietCtx(paper.name, dir));
      assert.deepEqual(Object.keys(r.metrics).sort(), [...paper.metrics(config)].sort());
      assert.ok(r.metrics.train_loss > 0 && Math.abs(r.metrics.d2l_loss * 10 - r.metrics.train_loss) < 1e-9, 'train_loss = d2l_loss · num_steps');
      assert.ok(r.metrics.heldout_bleu >= 0 && r.metrics.heldout_bleu <= 1);
      assert.equal(r.samples, 100 * 2, '100 training pairs (20 held out), 2 epochs');
      for (const f of r.files) assert.ok(existsSync(join(dir, f)), `${f} written`);
      assert.match(readFileSync(join(dir, 'translations.txt'), 'utf8'), /^go \. => .*, bleu \d\.\d{3}$/m);

      const again = await paper.train({ ...config, epochs: 3 }, quietCtx(paper.name, dir, true, log));
      assert.match(log.join(''), /resumed from .* after epoch 2/);
      assert.equal(again.samples, 100, 'only the third epoch ran');

      const ckpt = join(dir, 'checkpoint.safetensors');
      const ev = await paper.evaluate!(config, ckpt, quietCtx(paper.name, dir));
      assert.ok(ev.heldout_bleu >= 0 && 'bleu_go' in ev);

      const t = await paper.load(ckpt);
      const tr = translateSentence(t, "He's calm.", { beam: 2, attention: paper.name !== 'seq2seq' });
      assert.deepEqual(tr.words, ['he\'s', 'calm', '.']);
      assert.ok(tr.tokens.length <= 10);
      if (paper.name !== 'seq2seq') assert.ok(tr.attention!.length > 0 && tr.attention!.every((p) => p.cols.length === 4));
      await assert.rejects(() => (paper.name === 'seq2seq' ? transformerPaper : seq2seqPaper).load(ckpt), new RegExp(`from ${paper.name}, not`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('translateSentence: unknown words, empty and too long sentences', () => {
  const g = new Generator(0);
  const srcVocab = new Vocab(['go', '.', 'i', 'lost'].map((w) => [w]), { reservedTokens: ['<pad>', '<bos>', '<eos>'] });
  const tgtVocab = new Vocab(['va', '!'].map((w) => [w]), { reservedTokens: ['<pad>', '<bos>', '<eos>'] });
  const model = new Seq2Seq({ srcVocab: srcVocab.length, tgtVocab: tgtVocab.length, embed: 4, hidden: 4, layers: 1, dropout: 0, generator: g });
  const t: Translator = { model, srcVocab, tgtVocab, numSteps: 4 };
  const corpus = { source: [tokens('go .')], target: [tokens('va !')] };
  const r = translateSentence(t, 'Go zorglub.', { corpus });
  assert.deepEqual(r.unknown, ['zorglub']);
  assert.equal(r.reference, undefined, 'not in the corpus');
  const known = translateSentence(t, 'GO.', { corpus });
  assert.equal(known.reference, 'va !');
  assert.ok(known.bleu! >= 0 && known.bleu! <= 1);
  assert.throws(() => translateSentence(t, '  ', {}), /has no words/);
  assert.throws(() => translateSentence(t, 'i lost it .', {}), /has 4 words .* reads at most 3 \(num_steps 4/);
});

test('pfs translate: usage errors name what is expected', async () => {
  await assert.rejects(() => translateCommand(['lenet', 'go .']), /expected a translation paper \(seq2seq, bahdanau, transformer\)/);
  await assert.rejects(() => translateCommand(['seq2seq']), /give one or more sentences/);
  await assert.rejects(() => translateCommand(['seq2seq', 'go .']), /--checkpoint FILE is required/);
  await assert.rejects(() => translateCommand(['seq2seq', '--checkpoint', 'x', '--beam', '0', 'go .']), /beam/);
});
