/**
 * papers/rnn: the cells, the stacked and bidirectional wrapper and the language model against PyTorch
 * (test/fixtures/rnn.json, written by gen_rnn.py), the partitioning of the corpus into minibatches, the
 * state carried and detached across sequential batches (truncated BPTT), training that lowers the
 * loss, seeded sampling and the `pfs sample` command, and one short run of a paper with resume.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Generator, noGrad, Tensor } from '../src/index.js';
import { crossEntropy } from '../src/nn/losses.js';
import { SGD } from '../src/optim/sgd.js';
import { cat, stack } from '../src/ops/shape.js';
import { saveCheckpoint } from '../src/train/checkpoint.js';
import { CellKind, makeCell, State } from '../papers/rnn/cells.js';
import { seqDataIterRandom, seqDataIterSequential, splitCorpus } from '../papers/rnn/data.js';
import { detachState, RNNLM, StackedRNN } from '../papers/rnn/model.js';
import { predict } from '../papers/rnn/sample.js';
import { sampleCommand } from '../cli/sample.js';
import { evaluatePerplexity, LMConfig, lstmPaper, trainEpoch } from '../papers/rnn/train.js';
import type { RunContext } from '../papers/paper.js';
import { assertClose, FixtureTensor, FLOAT64, toTensor } from './nn-fixtures.js';
import { needsData } from './data-available.js';

interface CellCase {
  name: string;
  kind: CellKind;
  inputSize: number;
  hiddenSize: number;
  params: Record<string, FixtureTensor>;
  input: FixtureTensor;
  state: FixtureTensor[];
  outputs: FixtureTensor;
  finalState: FixtureTensor[];
  upstreamOutputs: FixtureTensor;
  upstreamState: FixtureTensor[];
  inputGrad: FixtureTensor;
  stateGrads: FixtureTensor[];
  paramGrads: Record<string, FixtureTensor>;
}

interface StackedCase {
  name: string;
  kind: 'rnn' | 'lstm';
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  bidirectional: boolean;
  params: Record<string, FixtureTensor>;
  input: FixtureTensor;
  /** torch's h_0 (and c_0): (layers·D, B, H). */
  state: FixtureTensor[];
  output: FixtureTensor;
  finalState: FixtureTensor[];
  upstreamOutput: FixtureTensor;
  upstreamState: FixtureTensor[];
  inputGrad: FixtureTensor;
  stateGrads: FixtureTensor[];
  paramGrads: Record<string, FixtureTensor>;
}

interface LMCase {
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  params: Record<string, FixtureTensor>;
  X: FixtureTensor;
  Y: FixtureTensor;
  logits: FixtureTensor;
  loss: number;
  paramGrads: Record<string, FixtureTensor>;
}

const fx = JSON.parse(
  readFileSync(new URL(import.meta.url.includes('/dist/test/') ? '../../test/fixtures/rnn.json' : './fixtures/rnn.json', import.meta.url), 'utf8'),
) as { cells: CellCase[]; stacked: StackedCase[]; lm: LMCase };

const f64 = (t: FixtureTensor) => toTensor(t, 'float64');
const stateDict = (p: Record<string, FixtureTensor>) => Object.fromEntries(Object.entries(p).map(([k, t]) => [k, f64(t)]));

/** Σ out ⊙ up over pairs: a scalar whose gradient sends `up` into each output. */
function weightedSum(pairs: [Tensor, FixtureTensor][]): Tensor {
  return pairs.map(([t, u]) => t.mul(f64(u)).sum()).reduce((a, b) => a.add(b));
}

describe('cells against PyTorch (float64)', () => {
  for (const c of fx.cells) {
    test(`${c.kind}: outputs, final state and every gradient`, () => {
      const cell = makeCell(c.kind, c.inputSize, c.hiddenSize).to('float64');
      cell.loadStateDict(stateDict(c.params)); // strict: our parameter names are the fixture's
      const x = f64(c.input).requiresGrad_();
      const s0 = c.state.map((s) => f64(s).requiresGrad_());
      const r = cell.forward(x, s0);
      assertClose(r.outputs, c.outputs, FLOAT64, `${c.name} outputs`);
      r.state.forEach((s, i) => assertClose(s, c.finalState[i], FLOAT64, `${c.name} final state ${i}`));
      weightedSum([[r.outputs, c.upstreamOutputs], ...r.state.map((s, i): [Tensor, FixtureTensor] => [s, c.upstreamState[i]])]).backward();
      assertClose(x.grad, c.inputGrad, FLOAT64, `${c.name} input grad`);
      s0.forEach((s, i) => assertClose(s.grad, c.stateGrads[i], FLOAT64, `${c.name} initial state ${i} grad`));
      for (const [name, p] of cell.namedParameters()) assertClose(p.grad, c.paramGrads[name], FLOAT64, `${c.name} grad of ${name}`);
    });
  }

  test('a cell refuses inputs and states of the wrong shape, naming them', () => {
    const cell = makeCell('lstm', 3, 4);
    assert.throws(() => cell.forward(Tensor.zeros([5, 2, 2])), /expected input of shape \(T, B, 3\), got \[5, 2, 2\]/);
    assert.throws(() => cell.forward(Tensor.zeros([5, 2, 3]), [Tensor.zeros([2, 4])]), /expected a state of 2 tensor\(s\)/);
    assert.throws(() => makeCell('lstm', 0, 4), /inputSize must be a positive integer, got 0/);
  });
});

describe('stacked and bidirectional layers against torch.nn.LSTM / RNN (float64)', () => {
  for (const c of fx.stacked) {
    test(c.name, () => {
      const net = new StackedRNN(c.kind, c.inputSize, c.hiddenSize, { numLayers: c.numLayers, bidirectional: c.bidirectional }).to('float64');
      net.loadStateDict(stateDict(c.params));
      const x = f64(c.input).requiresGrad_();
      const s0 = c.state.map((s) => f64(s).requiresGrad_()); // (L·D, B, H) each
      const ours: State[] = Array.from({ length: s0[0].shape[0] }, (_, k) => s0.map((s) => s.narrow(0, k, 1).squeeze(0)));
      const r = net.forward(x, ours);
      assertClose(r.output, c.output, FLOAT64, `${c.name} output`);
      const final = c.finalState.map((_, i) => stack(r.state.map((st) => st[i]), 0));
      final.forEach((s, i) => assertClose(s, c.finalState[i], FLOAT64, `${c.name} final state ${i}`));
      weightedSum([[r.output, c.upstreamOutput], ...final.map((s, i): [Tensor, FixtureTensor] => [s, c.upstreamState[i]])]).backward();
      assertClose(x.grad, c.inputGrad, FLOAT64, `${c.name} input grad`);
      s0.forEach((s, i) => assertClose(s.grad, c.stateGrads[i], FLOAT64, `${c.name} initial state ${i} grad`));
      for (const [name, p] of net.namedParameters()) assertClose(p.grad, c.paramGrads[name], FLOAT64, `${c.name} grad of ${name}`);
    });
  }
});

test('language model: one-hot → 2-layer LSTM → dense, logits time-major, loss and gradients as torch', () => {
  const c = fx.lm;
  const net = new RNNLM(c.vocabSize, 'lstm', c.hiddenSize, { numLayers: c.numLayers }).to('float64');
  net.loadStateDict(stateDict(c.params));
  const X = toTensor(c.X);
  const Y = toTensor(c.Y);
  const { logits } = net.forward(X);
  assertClose(logits, c.logits, FLOAT64, 'logits');
  const loss = crossEntropy(logits, Y.transpose(0, 1).reshape([-1]));
  assert.ok(Math.abs(loss.item() - c.loss) < 1e-12, `loss ${loss.item()} vs torch ${c.loss}`);
  loss.backward();
  for (const [name, p] of net.namedParameters()) assertClose(p.grad, c.paramGrads[name], FLOAT64, `grad of ${name}`);
  assert.throws(() => net.forward(X.to('float32')), /expected int32 tokens of shape \(B, T\), got float32 \[3, 5\]/);
});

// ---------- partitioning ----------

const positions = (n: number) => Int32Array.from({ length: n }, (_, i) => i); // token i is i: a batch shows where it came from
const rows = (t: Tensor) => t.toArray() as number[][];

describe('partitioning into minibatches (d2l seq_data_iter_*)', () => {
  const n = 200;
  const [B, T] = [3, 5];

  test('sequential: Y is X shifted by one, and row b of each batch continues row b of the previous one', () => {
    const offsets = new Set<number>();
    for (let seed = 0; seed < 60; seed++) {
      const batches = seqDataIterSequential(positions(n), B, T, new Generator(seed));
      const off = rows(batches[0][0])[0][0];
      offsets.add(off);
      const rowLen = Math.floor((n - off - 1) / B);
      assert.equal(batches.length, Math.floor(rowLen / T), `seed ${seed}: number of batches`);
      batches.forEach(([X, Y], i) => {
        assert.deepEqual([...X.shape], [B, T]);
        rows(X).forEach((row, b) => {
          row.forEach((v, t) => {
            assert.equal(v, off + b * rowLen + i * T + t, `seed ${seed}, batch ${i}, row ${b}, step ${t}`);
            assert.equal(rows(Y)[b][t], v + 1);
          });
        });
      });
    }
    assert.deepEqual([...offsets].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5], 'offsets 0 … T, both ends included');
  });

  test('random: subsequences of T consecutive tokens at offset + k·T, each used at most once, shuffled', () => {
    const offsets = new Set<number>();
    let orders = 0;
    for (let seed = 0; seed < 60; seed++) {
      const batches = seqDataIterRandom(positions(n), B, T, new Generator(seed));
      const starts = batches.flatMap(([X]) => rows(X).map((r) => r[0]));
      const off = starts[0] % T;
      offsets.add(off);
      assert.equal(batches.length, Math.floor(Math.floor((n - off - 1) / T) / B), `seed ${seed}: number of batches`);
      assert.equal(new Set(starts).size, starts.length, 'no subsequence twice');
      for (const [X, Y] of batches) {
        rows(X).forEach((r, b) => {
          assert.equal((r[0] - off) % T, 0);
          assert.ok(r[0] + T + 1 <= n, 'labels stay inside the corpus');
          r.forEach((v, t) => {
            assert.equal(v, r[0] + t);
            assert.equal(rows(Y)[b][t], v + 1);
          });
        });
      }
      if (starts.some((s, i) => i > 0 && s < starts[i - 1])) orders++;
    }
    assert.deepEqual([...offsets].sort((a, b) => a - b), [0, 1, 2, 3, 4], 'offsets 0 … T − 1');
    assert.ok(orders > 50, 'the subsequences come shuffled');
  });

  test('the held-out tail and the training head do not overlap', () => {
    const c = positions(1000);
    const { train, heldOut } = splitCorpus(c, 0.1, 300);
    assert.deepEqual([train.length, train[0], heldOut.length, heldOut[0]], [300, 0, 100, 900]);
    assert.equal(splitCorpus(c, 0.1).train.length, 900);
    assert.throws(() => seqDataIterSequential(positions(20), 4, 5), /corpus of 20 tokens is too short for batches of 4 × 5/);
  });
});

// ---------- truncated BPTT ----------

/** A small float64 LSTM language model with PyTorch's init (big enough weights that states matter). */
function smallLM(kind: CellKind = 'lstm', seed = 1, V = 6, H = 5, layers = 1): RNNLM {
  return new RNNLM(V, kind, H, { numLayers: layers, init: 'uniform', generator: new Generator(seed) }).to('float64');
}

describe('state across sequential batches', () => {
  const corpus = Int32Array.from({ length: 80 }, (_, i) => (i * 7 + (i >> 2)) % 6);
  const batches = seqDataIterSequential(corpus, 2, 4); // no offset: 2 rows of 39 tokens, 9 batches

  test('carrying the state over two batches computes what one pass over the joined sequence does', () => {
    const net = smallLM('lstm', 1, 6, 5, 2);
    const [[X1], [X2]] = batches;
    const a = net.forward(X1);
    const b = net.forward(X2, detachState(a.state));
    const joined = net.forward(cat([X1, X2], 1)); // (B, 2T): logits rows t·B + b
    const B = X1.shape[0];
    assertClose(b.logits, { dtype: 'float64', shape: [4 * B, 6], values: Array.from(joined.logits.narrow(0, 4 * B, 4 * B).toTypedArray()) }, FLOAT64, 'second batch');
  });

  test('the detached state stops the gradient at the batch boundary', () => {
    const net = new StackedRNN('lstm', 3, 4, { init: 'uniform', generator: new Generator(2) }).to('float64');
    const g = new Generator(3);
    const x1 = Tensor.randn([4, 2, 3], { generator: g, dtype: 'float64' }).requiresGrad_();
    const x2 = Tensor.randn([4, 2, 3], { generator: g, dtype: 'float64' });
    const first = net.forward(x1);
    // truncated: nothing reaches the first batch, and the parameters get exactly the gradient of a
    // second batch started from a constant state with the same values
    const detached = detachState(first.state);
    assert.ok(detached.flat().every((t) => t.gradFn === null && !t.requiresGrad));
    net.forward(x2, detached).output.sum().backward();
    assert.equal(x1.grad, null, 'no gradient flows into the previous batch');
    const truncated = net.parameters().map((p) => p.grad!.clone());
    net.zeroGrad();
    const constant = first.state.map((s) => s.map((t) => Tensor.from(t.toTypedArray(), { shape: t.shape })));
    net.forward(x2, constant).output.sum().backward();
    net.parameters().forEach((p, i) => assertClose(truncated[i], { dtype: 'float64', shape: [...p.shape], values: Array.from(p.grad!.toTypedArray()) }, FLOAT64, `param ${i}`));
    // the control: without detaching, the gradient does flow back into the first batch
    net.zeroGrad();
    net.forward(x2, net.forward(x1).state).output.sum().backward();
    assert.notEqual(x1.grad, null);
  });

  test('trainEpoch carries the state with sequential batches and restarts it with random ones', () => {
    const two = batches.slice(0, 2);
    const joined: [Tensor, Tensor] = [cat([two[0][0], two[1][0]], 1), cat([two[0][1], two[1][1]], 1)];
    const meanLoss = (net: RNNLM, X: Tensor, Y: Tensor) => noGrad(() => crossEntropy(net.forward(X).logits, Y.transpose(0, 1).reshape([-1])).item());
    const net = smallLM();
    const frozen = new SGD(net.parameters(), { lr: 0 }); // lr 0: the weights stay, only the state matters
    const carried = trainEpoch(net, two, frozen, { clip: 1, carryState: true });
    assert.ok(Math.abs(carried.nll - meanLoss(net, ...joined)) < 1e-12, 'carried = one pass over the joined sequence');
    const fresh = trainEpoch(net, two, frozen, { clip: 1, carryState: false });
    const separate = (meanLoss(net, ...two[0]) + meanLoss(net, ...two[1])) / 2;
    assert.ok(Math.abs(fresh.nll - separate) < 1e-12, 'zero state for each batch');
    assert.ok(Math.abs(carried.nll - fresh.nll) > 1e-6, 'the two differ');
    assert.equal(carried.tokens, 16);
  });
});

describe('training', () => {
  const text = 'the time traveller for so it will be convenient to speak of him ';
  const vocab = [...new Set(text)];
  const corpus = Int32Array.from(text.repeat(4), (ch) => vocab.indexOf(ch));
  // The loss of the best model that ignores context (letter frequencies alone): the entropy of the text's letters.
  const counts = vocab.map((v) => [...text].filter((c) => c === v).length / text.length);
  const unigram = -counts.reduce((h, p) => h + p * Math.log(p), 0);

  // The gated cells start slowly at lr 1 on so little text; d2l's own runs take hundreds of epochs.
  for (const [kind, lr] of [['rnn', 1], ['gru', 3], ['lstm', 3]] as const) {
    test(`ten epochs of SGD with clipping take the loss below what letter frequencies give (${kind})`, () => {
      const net = new RNNLM(vocab.length, kind, 16, { init: 'uniform', generator: new Generator(4) });
      const opt = new SGD(net.parameters(), { lr });
      const batches = seqDataIterSequential(corpus, 4, 10);
      const losses = Array.from({ length: 10 }, () => trainEpoch(net, batches, opt, { clip: 1, carryState: true }).nll);
      const [first, last] = [losses[0], losses[losses.length - 1]];
      assert.ok(first > unigram && last < unigram - 0.4, `loss per token ${losses.map((l) => l.toFixed(2)).join(' ')}; letter entropy ${unigram.toFixed(2)}`);
      assert.ok(evaluatePerplexity(net, corpus, 4, 10) < Math.exp(unigram - 0.4));
    });
  }
});

// ---------- sampling ----------

describe('sampling', () => {
  const vocab = { idxToToken: ['<unk>', ...'abcdefghijklmnopqrstuvwxyz '] };
  const net = new RNNLM(vocab.idxToToken.length, 'gru', 8, { init: 'uniform', generator: new Generator(5) });

  test('greedy decoding picks, at each step, the argmax of a fresh pass over the text so far', () => {
    const prefix = 'time traveller';
    const got = predict(net, vocab, prefix, 10);
    let text = prefix;
    for (let k = 0; k < 10; k++) {
      const ids = Int32Array.from(Array.from(text), (c) => vocab.idxToToken.indexOf(c));
      const { logits } = noGrad(() => net.forward(new Tensor(ids, [1, ids.length])));
      const last = logits.narrow(0, ids.length - 1, 1).argmax(1).item();
      text += vocab.idxToToken[last];
    }
    assert.equal(got, text);
    assert.equal(predict(net, vocab, prefix, 10, { temperature: 1e-6, generator: new Generator(1) }), got, 'T → 0 is greedy');
  });

  test('sampling with a temperature is deterministic for a fixed seed', () => {
    const draw = (seed: number) => predict(net, vocab, 'time ', 40, { temperature: 1.5, generator: new Generator(seed) });
    assert.equal(draw(7), draw(7));
    assert.notEqual(draw(7), draw(8));
    assert.ok(draw(7).startsWith('time '));
    assert.throws(() => predict(net, vocab, 'Time', 5), /prefix character "T" is not in the vocabulary/);
    assert.throws(() => predict(net, vocab, 'time', 5, { temperature: -1 }), /temperature must be a finite number ≥ 0, got -1/);
  });

  test('pfs sample: loads the checkpoint, and prints what predict gives for the same seed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pfs-rnn-'));
    try {
      const lm = new RNNLM(vocab.idxToToken.length, 'lstm', 6, { numLayers: 2, generator: new Generator(6), init: 'uniform' });
      const model = { name: 'deep-lstm', cell: 'lstm', bidirectional: false, layers: 2, hidden: 6, init: 'uniform', vocab: vocab.idxToToken };
      const file = join(dir, 'checkpoint.safetensors');
      await saveCheckpoint(file, { model: lm }, { epoch: 1, history: [], config: { model } });
      let printed = '';
      const out = { write: (s: string) => (printed += s) };
      const argv = ['deep-lstm', '--checkpoint', file, '--prefix', 'the ', '--length', '20', '--temperature', '0.8', '--seed', '3'];
      assert.equal(await sampleCommand(argv, out), 0);
      assert.equal(printed, predict(lm, vocab, 'the ', 20, { temperature: 0.8, generator: new Generator(3) }) + '\n');
      await assert.rejects(sampleCommand(['gru', '--checkpoint', file], out), /holds a deep-lstm model, not gru/);
      await assert.rejects(sampleCommand(['lenet', '--checkpoint', file], out), /"lenet" is not a language model/);
      await assert.rejects(sampleCommand(['lstm'], out), /--checkpoint FILE is required/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ---------- a paper end to end ----------

test('lstm paper: a short run on The Time Machine writes its files, and --resume continues it', { skip: needsData('timemachine') }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pfs-lstm-'));
  let log = '';
  const ctx = (resume: boolean): RunContext => ({ paper: 'lstm', preset: 'd2l', outDir: dir, seed: 0, resume, quiet: true, log: { write: (s: string) => ((log += s), true) } as never });
  const config: LMConfig = {
    ...lstmPaper.presets.d2l.config, hidden: 8, batch_size: 4, num_steps: 8, epochs: 2, max_tokens: 1500, val_fraction: 0.01, eval_every: 1, init: 'uniform',
  };
  try {
    const r = await lstmPaper.train(config, ctx(false));
    assert.ok(r.metrics.train_ppl > 1 && r.metrics.train_ppl < 28, `train perplexity ${r.metrics.train_ppl}`);
    assert.ok(Number.isFinite(r.metrics.val_ppl) && Number.isFinite(r.metrics.tokens_per_sec));
    for (const f of r.files) assert.ok(existsSync(join(dir, f)), `${f} written`);
    const perEpoch = Math.floor(Math.floor((1500 - 1) / 4) / 8) * 32; // at most, with no offset
    assert.ok(r.samples % 32 === 0 && r.samples > perEpoch && r.samples <= 2 * perEpoch, `tokens trained on: ${r.samples}`);
    const again = await lstmPaper.train({ ...config, epochs: 3 }, ctx(true));
    assert.match(log, /resumed from .* after epoch 2/);
    assert.equal(again.samples % 32, 0);
    assert.ok(again.samples > 0 && again.samples <= r.samples, 'only the third epoch ran');
    const ev = await lstmPaper.evaluate!(config, join(dir, 'checkpoint.safetensors'), ctx(false));
    assert.ok(ev.val_ppl > 1 && ev.train_ppl > 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
