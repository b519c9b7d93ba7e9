/**
 * How each translation paper builds its model from a config and the vocabulary sizes, browser-safe
 * (the papers' train.ts files read their data from disk; these don't): `pfs train` builds with these,
 * and the browser app rebuilds a checkpoint's model with them (translator.ts).
 */
import { Bahdanau } from '../bahdanau/model.js';
import { Seq2Seq, type Seq2SeqOptions } from '../seq2seq/model.js';
import { Transformer } from '../transformer/model.js';
import type { EncoderDecoder } from './model.js';
import type { BuildModel } from './translator.js';

/** The config keys a GRU encoder–decoder (seq2seq, bahdanau) is built from. */
export interface RNNTranslationSizes { embed: number; hidden: number; layers: number; dropout: number }
/** The config keys the Transformer is built from. */
export interface TransformerSizes { hidden: number; ffn_hidden: number; heads: number; layers: number; dropout: number }

export function buildRnnTranslation<C extends RNNTranslationSizes>(Model: new (o: Seq2SeqOptions) => EncoderDecoder): BuildModel<C> {
  return (c, src, tgt, generator) => new Model({ srcVocab: src, tgtVocab: tgt, embed: c.embed, hidden: c.hidden, layers: c.layers, dropout: c.dropout, generator });
}

export function buildTransformer<C extends TransformerSizes>(c: C, src: number, tgt: number, generator: Parameters<BuildModel<C>>[3]): EncoderDecoder {
  if (c.hidden % c.heads !== 0) throw new RangeError(`transformer: hidden ${c.hidden} must be a multiple of heads ${c.heads}`);
  return new Transformer({ srcVocab: src, tgtVocab: tgt, hidden: c.hidden, ffnHidden: c.ffn_hidden, heads: c.heads, layers: c.layers, dropout: c.dropout, generator });
}

type AnyConfig = RNNTranslationSizes & TransformerSizes & { num_steps: number };

/** Each translation paper's builder and the config keys (numbers) it needs, num_steps included. */
export const TRANSLATION_MODELS: Record<'seq2seq' | 'bahdanau' | 'transformer', { build: BuildModel<AnyConfig>; keys: readonly string[] }> = {
  seq2seq: { build: buildRnnTranslation(Seq2Seq), keys: ['embed', 'hidden', 'layers', 'dropout', 'num_steps'] },
  bahdanau: { build: buildRnnTranslation(Bahdanau), keys: ['embed', 'hidden', 'layers', 'dropout', 'num_steps'] },
  transformer: { build: buildTransformer, keys: ['hidden', 'ffn_hidden', 'heads', 'layers', 'dropout', 'num_steps'] },
};
