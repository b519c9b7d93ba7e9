/**
 * Translating typed sentences with a trained model (`pfs translate`, in cli/translate.ts): the sentence
 * is preprocessed as the corpus was (lower case, a space before , . ! ?), split into words, mapped to
 * the source vocabulary (unknown words become <unk>), decoded greedily or with beam search, and its
 * attention maps turned into heatmap panels.
 */
import { bleuD2l } from '../../src/train/bleu.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import type { HeatmapPanel } from '../../src/train/plot.js';
import { attentionFor, beamSearch, greedyDecode } from './decode.js';
import type { Pairs } from './data.js';
import { inEvalMode, sourceBatch, specials, tokenizeSentence, Translator } from './translator.js';

export interface Translation {
  source: string;
  /** The source words as the model reads them (before <eos>). */
  words: string[];
  /** Source words outside the vocabulary (read as <unk>). */
  unknown: string[];
  /** The translation's words. */
  tokens: string[];
  /** The corpus' French for this English sentence (its first pair), when there is one, and d2l's BLEU (k = 2) against it. */
  reference?: string;
  bleu?: number;
  /** Heatmaps of the attention weights (when asked for). */
  attention?: HeatmapPanel[];
}

export interface TranslateOptions {
  /** Beam width (1 or undefined: greedy decoding). */
  beam?: number;
  attention?: boolean;
  /** Sentence pairs to look the reference up in. */
  corpus?: Pairs;
}

export function translateSentence(t: Translator, sentence: string, o: TranslateOptions = {}): Translation {
  const words = tokenizeSentence(sentence);
  if (words.length === 0) throw new RangeError(`translate: the sentence ${JSON.stringify(sentence)} has no words`);
  if (words.length + 1 > t.numSteps) {
    throw new RangeError(`translate: "${sentence}" has ${words.length} words (punctuation included); this model reads at most ${t.numSteps - 1} (num_steps ${t.numSteps}, one of them for <eos>)`);
  }
  const unknown = words.filter((w) => !t.srcVocab.has(w));
  const { X, XValid } = sourceBatch(t, [words]);
  const sp = specials(t.tgtVocab);
  const ids = inEvalMode(t.model, () => (o.beam !== undefined && o.beam > 1
    ? beamSearch(t.model, X, XValid, sp, t.numSteps, { beam: o.beam }).tokens
    : greedyDecode(t.model, X, XValid, sp, t.numSteps)[0]));
  const tokens = t.tgtVocab.toTokens(ids);
  const out: Translation = { source: sentence, words, unknown, tokens };
  const i = o.corpus ? o.corpus.source.findIndex((s) => s.length === words.length && s.every((w, k) => w === words[k])) : -1;
  if (i >= 0) {
    const ref = o.corpus!.target[i];
    out.reference = ref.join(' ');
    out.bleu = bleuD2l(tokens, ref, 2);
  }
  if (o.attention) out.attention = panels(inEvalMode(t.model, () => attentionFor(t.model, X, XValid, sp, ids)), [...words, '<eos>'], [...tokens, '<eos>']);
  return out;
}

/** One panel per map and head: maps (1, Tq, Ts) or (1, h, Tq, Ts), the source's columns cut to its valid length. */
function panels(maps: Record<string, Tensor>, src: string[], out: string[]): HeatmapPanel[] {
  const result: HeatmapPanel[] = [];
  for (const [name, w] of Object.entries(maps)) {
    const [Tq, Tk] = w.shape.slice(-2);
    const heads = w.ndim === 4 ? w.shape[1] : 1;
    const v = w.toTypedArray();
    const self = name.includes('self-attention');
    const rows = self ? src : out;
    for (let h = 0; h < heads; h++) {
      const values = Array.from({ length: Math.min(Tq, rows.length) }, (_, r) => Array.from({ length: src.length }, (_, c) => v[(h * Tq + r) * Tk + c]));
      result.push({ title: heads > 1 ? `${name}, head ${h + 1}` : name, rows: rows.slice(0, values.length), cols: src, values });
    }
  }
  return result;
}
