/**
 * Text: tokenisers, the vocabulary, and the corpus preprocessing of "Dive into Deep Learning" (d2l,
 * 2nd edition) for The Time Machine, English–French pairs, PTB and WikiText-2. Every function takes
 * the file's text (load.ts reads the files in Node), so this module runs anywhere.
 */
import { Tensor } from '../tensor/tensor.js';

/** Split text into lines as Python's text-mode readlines does (\n, \r\n and \r end a line). */
export function splitLines(text: string): string[] {
  const lines = text.split(/\r\n|\r|\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop(); // text ending in a newline
  return lines;
}

/**
 * Python's whitespace (str.isspace), which d2l's split() and strip() use. It differs from JS's \s:
 * it includes U+001C–U+001F and U+0085 and excludes U+FEFF (which WikiText-2 has as a word).
 */
const PY_SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_SPACE_RUN = new RegExp(`[${PY_SPACE}]+`);
const PY_STRIP = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, 'g');

/** Trim Python's whitespace from both ends (str.strip()). */
export function pyStrip(s: string): string {
  return s.replace(PY_STRIP, '');
}

/** Words: split on runs of whitespace, no empty tokens (Python's str.split()). */
export function tokenizeWords(line: string): string[] {
  return line.split(PY_SPACE_RUN).filter((t) => t !== '');
}

/** Characters (code points, so a letter outside the BMP stays one token). */
export function tokenizeChars(line: string): string[] {
  return Array.from(line);
}

/** Tokenise every line into words or characters (d2l's `tokenize`). */
export function tokenize(lines: readonly string[], token: 'word' | 'char' = 'word'): string[][] {
  if (token !== 'word' && token !== 'char') throw new RangeError(`tokenize: token must be 'word' or 'char', got ${JSON.stringify(token)}`);
  return lines.map(token === 'word' ? tokenizeWords : tokenizeChars);
}

export interface VocabOptions {
  /** Tokens seen fewer times than this are left out (they map to <unk>). */
  minFreq?: number;
  /** Tokens placed right after <unk>, in this order, whatever their frequency (e.g. '<pad>', '<bos>'). */
  reservedTokens?: readonly string[];
}

/**
 * A vocabulary: token ↔ index. Index 0 is '<unk>', which every unknown token maps to; then the
 * reserved tokens in the order given; then the corpus tokens seen at least `minFreq` times, by
 * frequency, most frequent first. Ties keep the order in which the tokens first appear in the corpus
 * — the order d2l's Vocab gets from a stable sort of a Counter — so indices match d2l's.
 */
export class Vocab {
  static readonly UNK = '<unk>';
  /** [token, count] for every distinct corpus token, sorted as described above (before minFreq). */
  readonly tokenFreqs: readonly (readonly [string, number])[];
  readonly idxToToken: readonly string[];
  private readonly tokenToIdx = new Map<string, number>();

  /** `tokens`: a flat list of tokens, or a list of lines of tokens. */
  constructor(tokens: readonly string[] | readonly (readonly string[])[] = [], opts: VocabOptions = {}) {
    const minFreq = opts.minFreq ?? 0;
    if (!Number.isFinite(minFreq) || minFreq < 0) throw new RangeError(`Vocab: minFreq must be a non-negative number, got ${minFreq}`);
    const counts = countTokens(tokens);
    // Array.prototype.sort is stable: equal counts stay in first-appearance (Map insertion) order.
    this.tokenFreqs = [...counts.entries()].sort((a, b) => b[1] - a[1]);
    const list: string[] = [];
    const add = (t: string): void => {
      if (!this.tokenToIdx.has(t)) {
        this.tokenToIdx.set(t, list.length);
        list.push(t);
      }
    };
    add(Vocab.UNK);
    for (const t of opts.reservedTokens ?? []) add(t);
    for (const [t, n] of this.tokenFreqs) if (n >= minFreq) add(t);
    this.idxToToken = list;
  }

  /** The vocabulary whose index → token list is `tokens` (as a checkpoint saves it): '<unk>' first, no repeats. */
  static fromTokens(tokens: readonly string[]): Vocab {
    if (tokens[0] !== Vocab.UNK) throw new RangeError(`Vocab.fromTokens: the first token must be '${Vocab.UNK}', got ${JSON.stringify(tokens[0])}`);
    const v = new Vocab([], { reservedTokens: tokens.slice(1) });
    if (v.length !== tokens.length) throw new RangeError(`Vocab.fromTokens: the list of ${tokens.length} tokens repeats some (${v.length} distinct)`);
    return v;
  }

  get length(): number {
    return this.idxToToken.length;
  }

  /** The index of '<unk>' (0). */
  get unk(): number {
    return 0;
  }

  has(token: string): boolean {
    return this.tokenToIdx.has(token);
  }

  /** The index of a token; unknown tokens give the index of '<unk>'. */
  toIndex(token: string): number {
    return this.tokenToIdx.get(token) ?? 0;
  }

  toIndices(tokens: readonly string[]): number[] {
    return tokens.map((t) => this.toIndex(t));
  }

  toToken(index: number): string {
    const t = this.idxToToken[index];
    if (t === undefined || !Number.isInteger(index)) throw new RangeError(`Vocab: index ${index} is out of range for a vocabulary of ${this.length} tokens`);
    return t;
  }

  toTokens(indices: ArrayLike<number>): string[] {
    return Array.from(indices, (i) => this.toToken(i));
  }
}

/** Count tokens of a flat list or a list of lines; the Map keeps first-appearance order. */
export function countTokens(tokens: readonly string[] | readonly (readonly string[])[]): Map<string, number> {
  const counts = new Map<string, number>();
  const bump = (t: string): void => {
    counts.set(t, (counts.get(t) ?? 0) + 1);
  };
  for (const item of tokens) {
    if (typeof item === 'string') bump(item);
    else for (const t of item) bump(t);
  }
  return counts;
}

// ---------- The Time Machine (d2l §8.2, "Text Preprocessing") ----------

/**
 * d2l's read_time_machine: per line, every run of non-letters becomes one space, the line is trimmed
 * and lower-cased, so only 'a'–'z' and ' ' remain (empty lines stay, as empty strings).
 */
export function preprocessTimeMachine(text: string): string[] {
  return splitLines(text).map((line) => line.replace(/[^A-Za-z]+/g, ' ').trim().toLowerCase());
}

/**
 * d2l's load_corpus_time_machine: character tokens of the preprocessed lines, a char vocabulary
 * (26 letters + space + '<unk>' = 28), and the corpus as the indices of all characters in order
 * (line breaks dropped). `maxTokens` keeps only the first that many.
 */
export function timeMachineCorpus(lines: readonly string[], maxTokens?: number): { corpus: Int32Array; vocab: Vocab } {
  const tokens = tokenize(lines, 'char');
  const vocab = new Vocab(tokens);
  const flat = tokens.flat();
  const n = maxTokens !== undefined && maxTokens >= 0 ? Math.min(maxTokens, flat.length) : flat.length;
  const corpus = new Int32Array(n);
  for (let i = 0; i < n; i++) corpus[i] = vocab.toIndex(flat[i]);
  return { corpus, vocab };
}

// ---------- English–French (d2l §9.5, "Machine Translation and the Dataset") ----------

/**
 * d2l's preprocess_nmt: non-breaking spaces (U+202F, U+00A0) become spaces, everything is
 * lower-cased, and a space is put before each of , . ! ? that does not follow a space.
 */
export function preprocessNmt(text: string): string {
  const t = text.replace(/[\u202f\u00a0]/g, ' ').toLowerCase();
  // (?<=[^ ]): preceded by a character that is not a space (so never at index 0).
  return t.replace(/(?<=[^ ])[,.!?]/g, ' $&');
}

/**
 * d2l's tokenize_nmt: one pair per line, source and target the first two tab-separated columns
 * (later columns, such as attributions in newer files, are ignored; lines with fewer are skipped),
 * each split on spaces with empty tokens dropped (17 in fra.txt, from double spaces; d2l's 2nd edition
 * keeps them, its 1.0 edition drops them). `maxExamples` keeps the first that many pairs (d2l's check
 * `i > num_examples` keeps one more).
 */
export function tokenizeNmt(text: string, maxExamples?: number): { source: string[][]; target: string[][] } {
  const source: string[][] = [];
  const target: string[][] = [];
  const words = (s: string): string[] => s.split(' ').filter((w) => w !== '');
  for (const line of text.split('\n')) {
    if (maxExamples !== undefined && source.length >= maxExamples) break;
    const parts = line.split('\t');
    if (parts.length < 2) continue;
    source.push(words(parts[0]));
    target.push(words(parts[1]));
  }
  return { source, target };
}

/** Cut a sequence to `numSteps` or pad it with `padding` up to that length (d2l's truncate_pad). */
export function truncatePad<T>(line: readonly T[], numSteps: number, padding: T): T[] {
  if (line.length > numSteps) return line.slice(0, numSteps);
  return [...line, ...new Array<T>(numSteps - line.length).fill(padding)];
}

/**
 * d2l's build_array_nmt: each token line → indices + '<eos>', truncated or padded with '<pad>' to
 * `numSteps`. Returns the int32 array (n, numSteps) and each row's count of non-pad tokens (n).
 */
export function buildArrayNmt(lines: readonly (readonly string[])[], vocab: Vocab, numSteps: number): { array: Tensor; validLen: Tensor } {
  for (const t of ['<eos>', '<pad>']) {
    if (!vocab.has(t)) throw new Error(`buildArrayNmt: the vocabulary has no '${t}'; build it with reservedTokens ['<pad>', '<bos>', '<eos>']`);
  }
  const eos = vocab.toIndex('<eos>');
  const pad = vocab.toIndex('<pad>');
  const array = new Int32Array(lines.length * numSteps);
  const validLen = new Int32Array(lines.length);
  lines.forEach((line, r) => {
    const row = truncatePad([...vocab.toIndices(line), eos], numSteps, pad);
    array.set(row, r * numSteps);
    validLen[r] = row.filter((v) => v !== pad).length;
  });
  return { array: new Tensor(array, [lines.length, numSteps], 'int32'), validLen: new Tensor(validLen, [lines.length], 'int32') };
}

// ---------- PTB (d2l §15.3, "The Dataset for Pretraining Word Embeddings") ----------

/**
 * d2l's read_ptb: one sentence per line, split into words. Rare words are already '<unk>' in the
 * file. Like d2l (which splits the text on '\n'), the empty string after the final newline counts
 * as a last, empty sentence: 42,068 lines of ptb.train.txt give 42,069 sentences.
 */
export function readPtb(text: string): string[][] {
  return text.split('\n').map(tokenizeWords);
}

// ---------- WikiText-2 (d2l §15.9, "The Dataset for Pretraining BERT") ----------

/**
 * d2l's _read_wiki: the paragraphs are the lines with at least two sentences (at least one ' . '),
 * each trimmed, lower-cased and split into sentences on ' . '. d2l then shuffles the paragraphs with
 * Python's random; here that is left to the caller (shuffleInPlace with a seeded Generator).
 */
export function readWikiText(text: string): string[][] {
  return splitLines(text)
    .filter((line) => line.split(' . ').length >= 2)
    .map((line) => pyStrip(line).toLowerCase().split(' . '));
}
