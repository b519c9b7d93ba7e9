/**
 * Tokenisers, Vocab and the corpus readers. The Vocab is checked on a small text whose counts are
 * worked out by hand; the readers on the real files (where the readers find them; skipped, saying how
 * to enable them, without them: test/data-available.ts) against the numbers "Dive into Deep Learning"
 * (2nd edition) prints for the same files (Time Machine: 28 char tokens, a corpus of 170,580; its word
 * vocabulary's first ten tokens; PTB: 42,069 sentences, 6,719 tokens at min_freq 10; WikiText-2:
 * 20,256 tokens for BERT; fra-eng: the first pairs) and the facts each SOURCE.md gives
 * (line, word and <unk> counts, file sizes).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  airfoilData, buildArrayNmt, countTokens, preprocessNmt, preprocessTimeMachine, readWikiText, splitLines, timeMachineCorpus,
  tokenize, tokenizeNmt, tokenizeWords, truncatePad, Vocab,
} from '../src/data/index.js';
import { loadAirfoil, loadFraEng, loadPtb, loadTimeMachine, loadWikiText2, readDataText } from '../src/data/node.js';
import { dataFile, needsData } from './data-available.js';


// ---------- tokenisers and Vocab on a small text ----------

const SMALL = ['the cat sat on the mat', 'the dog sat', 'a cat ran'];
// counts: the 3, cat 2, sat 2, on 1, mat 1, dog 1, a 1, ran 1

test('tokenize: words and characters', () => {
  assert.deepEqual(tokenize(['  two  words\t', ''], 'word'), [['two', 'words'], []]);
  assert.deepEqual(tokenize(['ab c'], 'char'), [['a', 'b', ' ', 'c']]);
  assert.deepEqual(tokenize(['é😀'], 'char'), [['é', '😀']], 'code points, not UTF-16 halves');
  assert.deepEqual(tokenizeWords('a\u00a0b\ufeff c'), ['a', 'b\ufeff', 'c'], "Python's whitespace: NBSP splits, U+FEFF does not");
  assert.deepEqual(splitLines('a\nb\r\nc\rd\n'), ['a', 'b', 'c', 'd']);
  assert.throws(() => tokenize(['x'], 'byte' as 'word'), /token must be 'word' or 'char'/);
});

test('Vocab: <unk> at 0, reserved next, then by count (ties in first-appearance order)', () => {
  const v = new Vocab(tokenize(SMALL));
  assert.deepEqual(v.tokenFreqs, [['the', 3], ['cat', 2], ['sat', 2], ['on', 1], ['mat', 1], ['dog', 1], ['a', 1], ['ran', 1]]);
  assert.deepEqual(v.idxToToken, ['<unk>', 'the', 'cat', 'sat', 'on', 'mat', 'dog', 'a', 'ran']);
  assert.equal(v.length, 9);
  assert.equal(v.unk, 0);
  assert.equal(v.toIndex('cat'), 2);
  assert.equal(v.toIndex('zebra'), 0, 'unknown → <unk>');
  assert.deepEqual(v.toIndices(['the', 'zebra', 'ran']), [1, 0, 8]);
  assert.deepEqual(v.toTokens([1, 2, 0]), ['the', 'cat', '<unk>']);
  assert.throws(() => v.toToken(9), /index 9 is out of range for a vocabulary of 9 tokens/);

  const r = new Vocab(tokenize(SMALL), { minFreq: 2, reservedTokens: ['<pad>', '<bos>', 'the'] });
  assert.deepEqual(r.idxToToken, ['<unk>', '<pad>', '<bos>', 'the', 'cat', 'sat'], 'minFreq 2 keeps the, cat, sat; a reserved token is not repeated');
  assert.equal(r.toIndex('dog'), 0);
  // A flat list counts the same; a corpus <unk> maps to 0 and is not added again.
  assert.deepEqual(new Vocab(['b', '<unk>', 'a', 'b', '<unk>']).idxToToken, ['<unk>', 'b', 'a']);
  assert.deepEqual([...countTokens(['x', 'y', 'x'])], [['x', 2], ['y', 1]]);
  assert.equal(new Vocab().length, 1);
});

// ---------- The Time Machine ----------

test('Time Machine: d2l lines, 28-token char vocab, corpus of 170,580, word vocab order', { skip: needsData('timemachine') }, () => {
  const lines = loadTimeMachine();
  assert.equal(lines.length, 3221, 'one per line of the file (SOURCE.md: 3,221 lines)');
  assert.equal(lines[0], 'the time machine by h g wells');
  assert.equal(lines[10], 'twinkled and his usually pale face was flushed and animated the');
  assert.ok(lines.every((l) => /^[a-z ]*$/.test(l) && !l.startsWith(' ') && !l.endsWith(' ')));
  const { corpus, vocab } = timeMachineCorpus(lines);
  assert.equal(vocab.length, 28);
  assert.deepEqual([...vocab.idxToToken].sort(), ['<unk>', ' ', ...'abcdefghijklmnopqrstuvwxyz'].sort());
  assert.equal(vocab.idxToToken[1], ' ', 'space is the most frequent');
  assert.equal(corpus.length, 170580);
  assert.equal(corpus.length, lines.reduce((n, l) => n + l.length, 0));
  assert.equal(vocab.toTokens(corpus.subarray(0, 16)).join(''), 'the time machine');
  assert.equal(timeMachineCorpus(lines, 1000).corpus.length, 1000);

  const words = new Vocab(tokenize(lines, 'word'));
  assert.deepEqual(words.idxToToken.slice(0, 10), ['<unk>', 'the', 'i', 'and', 'of', 'a', 'to', 'was', 'in', 'that']);
  assert.deepEqual(preprocessTimeMachine("It's 1895--\n"), ['it s']);
});

// ---------- English–French ----------

test('fra-eng: d2l preprocessing, 167,130 pairs, the first pairs', { skip: needsData('fra-eng') }, () => {
  assert.equal(preprocessNmt('Go.\tVa\u202f!\nWow!\tÇa alors\u00a0!'), 'go .\tva !\nwow !\tça alors !');
  assert.equal(preprocessNmt('?Hi, there?!'), '?hi , there ? !', 'no space at index 0; each mark gets one');
  const { source, target } = loadFraEng();
  const text = preprocessNmt(readDataText('fra-eng', 'fra.txt').slice(0, 2000));
  assert.ok(text.startsWith('go .\tva !\nhi .\tsalut !\nrun !\tcours !\nrun !\tcourez !\nwho ?\tqui ?\nwow !\tça alors !'));
  assert.equal(source.length, 167130);
  assert.equal(target.length, 167130);
  assert.deepEqual(source.slice(0, 3), [['go', '.'], ['hi', '.'], ['run', '!']]);
  assert.deepEqual(target.slice(0, 3), [['va', '!'], ['salut', '!'], ['cours', '!']]);
  assert.ok(source.every((s) => s.every((t) => t !== '')));
  assert.deepEqual(tokenizeNmt(text, 2).target, [['va', '!'], ['salut', '!']]);
  assert.deepEqual(tokenizeNmt('a b\tc\tattribution\nno tab\n').source, [['a', 'b']], 'first two columns; lines without a tab skipped');
});

test('truncatePad and buildArrayNmt', () => {
  assert.deepEqual(truncatePad([1, 2, 3], 5, 0), [1, 2, 3, 0, 0]);
  assert.deepEqual(truncatePad([1, 2, 3], 2, 0), [1, 2]);
  const vocab = new Vocab([['go', '.'], ['hi', 'there', '.']], { reservedTokens: ['<pad>', '<bos>', '<eos>'] });
  const { array, validLen } = buildArrayNmt([['go', '.'], ['hi', 'there', 'you', '.']], vocab, 4);
  const [pad, eos] = [vocab.toIndex('<pad>'), vocab.toIndex('<eos>')];
  assert.deepEqual(array.toArray(), [
    [vocab.toIndex('go'), vocab.toIndex('.'), eos, pad],
    [vocab.toIndex('hi'), vocab.toIndex('there'), 0, vocab.toIndex('.')],
  ]);
  assert.deepEqual(validLen.toArray(), [3, 4]);
  assert.throws(() => buildArrayNmt([['a']], new Vocab(['a']), 3), /no '<eos>'/);
});

// ---------- PTB ----------

test('PTB: 42,069 sentences (d2l counts the empty one after the last newline), 887,521 words, vocab 6,719', { skip: needsData('ptb') }, () => {
  const sentences = loadPtb('train');
  assert.equal(sentences.length, 42069);
  assert.deepEqual(sentences[42068], []);
  assert.equal(sentences.reduce((n, s) => n + s.length, 0), 887521);
  assert.deepEqual(sentences[0].slice(0, 6), ['aer', 'banknote', 'berlitz', 'calloway', 'centrust', 'cluett']);
  const vocab = new Vocab(sentences, { minFreq: 10 });
  assert.equal(vocab.length, 6719);
  assert.equal(vocab.toIndex('<unk>'), 0);
  assert.deepEqual(vocab.tokenFreqs.find(([t]) => t === '<unk>'), ['<unk>', 45020]);
  assert.equal(loadPtb('valid').reduce((n, s) => n + s.length, 0), 70390);
  assert.equal(loadPtb('test').reduce((n, s) => n + s.length, 0), 78669);
  assert.throws(() => loadPtb('dev' as 'train'), /split must be one of train, valid, test, got "dev"/);
});

// ---------- WikiText-2 ----------

test('WikiText-2: 36,718 lines and 2,051,910 words; lower-case paragraphs split into sentences; BERT vocab 20,256', { skip: needsData('wikitext-2') }, () => {
  const raw = readDataText('wikitext-2', 'wiki.train.tokens');
  const lines = splitLines(raw);
  assert.equal(lines.length, 36718);
  assert.equal(lines.reduce((n, l) => n + tokenizeWords(l).length, 0), 2051910);
  const paragraphs = loadWikiText2('train');
  assert.ok(paragraphs.length > 10000 && paragraphs.length < lines.length);
  assert.ok(paragraphs.every((p) => p.every((s) => s === s.toLowerCase())));
  assert.equal(paragraphs.length, lines.filter((l) => l.includes(' . ')).length);
  const sentences = paragraphs.flatMap((p) => p.map(tokenizeWords));
  const vocab = new Vocab(sentences, { minFreq: 5, reservedTokens: ['<pad>', '<mask>', '<cls>', '<sep>'] });
  assert.equal(vocab.length, 20256);
  assert.deepEqual(vocab.idxToToken.slice(0, 6), ['<unk>', '<pad>', '<mask>', '<cls>', '<sep>', 'the']);
});

test('readWikiText: d2l keeps lines with a " . ", then trims, lower-cases and splits them', () => {
  const text = ' = Title = \n One . Two . Three \n Only one sentence \n Ends here . \n';
  // The last line passes d2l's filter (its untrimmed text has " . ") but trims to one sentence.
  assert.deepEqual(readWikiText(text), [['one', 'two', 'three'], ['ends here .']]);
});

// ---------- airfoil ----------

test('airfoil: first 1,500 rows, (1500, 5) features and (1500) target, z-scored over the whole file', { skip: needsData('airfoil') }, () => {
  const { features, labels, mean, std } = loadAirfoil();
  assert.deepEqual(features.shape, [1500, 5]);
  assert.deepEqual(labels.shape, [1500]);
  // Independent parse of the raw file: 1,503 rows of 6 tab-separated numbers.
  const rows = readFileSync(dataFile('airfoil', 'airfoil_self_noise.dat'), 'utf8')
    .trim().split('\n').map((l) => l.trim().split('\t').map(Number));
  assert.equal(rows.length, 1503);
  for (let c = 0; c < 6; c++) {
    const m = rows.reduce((s, r) => s + r[c], 0) / rows.length;
    const sd = Math.sqrt(rows.reduce((s, r) => s + (r[c] - m) ** 2, 0) / rows.length);
    assert.ok(Math.abs(mean[c] - m) < 1e-9 * Math.abs(m) + 1e-12 && Math.abs(std[c] - sd) < 1e-9 * sd);
  }
  assert.deepEqual(rows[0], [800, 0, 0.3048, 71.3, 0.00266337, 126.201]);
  const f = features.toTypedArray();
  const y = labels.toTypedArray();
  for (const i of [0, 777, 1499]) {
    for (let c = 0; c < 5; c++) assert.ok(Math.abs(f[i * 5 + c] - (rows[i][c] - mean[c]) / std[c]) < 1e-6);
    assert.ok(Math.abs(y[i] - (rows[i][5] - mean[5]) / std[5]) < 1e-6);
  }
  // Over all 1,503 rows every column has mean 0 and standard deviation 1.
  const all = airfoilData(readDataText('airfoil', 'airfoil_self_noise.dat'), 1503);
  const full = all.features.double();
  assert.ok(full.mean(0).abs().max().item() < 1e-6);
  assert.ok(full.var(0, { correction: 0 }).sub(1).abs().max().item() < 1e-6);
  assert.ok(Math.abs(all.labels.double().mean().item()) < 1e-6);
  assert.throws(() => airfoilData('1 2 3\n'), /line 1 is "1 2 3", expected 6 numbers/);
  assert.throws(() => loadAirfoil({ n: 2000 }), /n must be an integer in 1\.\.1503, got 2000/);
});
