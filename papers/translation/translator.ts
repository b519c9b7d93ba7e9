/**
 * A trained translation model and what decoding needs, browser-safe (no Node APIs): the model, both
 * vocabularies and num_steps, rebuilt from a checkpoint's contents (its tensors and metadata, as
 * decodeSafetensors returns them). train.ts reads the file from disk (`pfs translate`, `pfs eval`);
 * the browser app (web/) hands over the bytes of a file the user picked.
 */
import { buildArrayNmt, preprocessNmt, Vocab } from '../../src/data/text.js';
import { Generator } from '../../src/tensor/rng.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { checkCheckpointPaper, checkpointIdentity, checkpointPart } from '../../src/train/checkpoint-format.js';
import type { Specials } from './decode.js';
import type { EncoderDecoder } from './model.js';

/** A trained model with what decoding needs. */
export interface Translator {
  model: EncoderDecoder;
  srcVocab: Vocab;
  tgtVocab: Vocab;
  numSteps: number;
}

/** How a paper builds its model from its config and the vocabulary sizes. */
export type BuildModel<C> = (config: C, srcVocab: number, tgtVocab: number, generator: Generator) => EncoderDecoder;

export function specials(tgtVocab: Vocab): Specials {
  return { bos: tgtVocab.toIndex('<bos>'), eos: tgtVocab.toIndex('<eos>') };
}

/** Source sentences (token lists) as a batch: indices + <eos>, truncated or padded to numSteps, and valid lengths. */
export function sourceBatch(t: Translator, sentences: readonly (readonly string[])[]): { X: Tensor; XValid: Tensor } {
  const { array, validLen } = buildArrayNmt(sentences, t.srcVocab, t.numSteps);
  return { X: array, XValid: validLen };
}

/** `fn` with the model in eval mode (no dropout), its mode restored afterwards. */
export function inEvalMode<R>(model: EncoderDecoder, fn: () => R): R {
  const wasTraining = model.training;
  model.eval();
  try {
    return fn();
  } finally {
    model.train(wasTraining);
  }
}

/** A sentence as the corpus is tokenised: d2l's preprocess_nmt (lower case, a space before , . ! ?), then words. */
export function tokenizeSentence(sentence: string): string[] {
  return preprocessNmt(sentence).split(' ').filter((w) => w !== '');
}

/**
 * The model a checkpoint of `paper` was saved from, with its weights: the vocabularies come from the
 * checkpoint's config.model, the sizes from the config keys `keys` (each must be a number). `name`
 * names the file in the errors (a path, or the name of a file picked in the browser).
 */
export function translatorFromContents<C extends { num_steps: number }>(
  tensors: Record<string, Tensor>, metadata: Record<string, string>, name: string, paper: string, build: BuildModel<C>, keys: readonly string[],
): Translator & { config: C } {
  const bad = (why: string) => new Error(`checkpoint ${name}: ${why}`);
  checkCheckpointPaper(metadata, name, paper);
  const { config } = checkpointIdentity(metadata, name);
  const m = (config as { model?: { srcVocab?: unknown; tgtVocab?: unknown } } | null)?.model;
  const isVocab = (v: unknown): v is string[] => Array.isArray(v) && v.length > 4 && v.every((x) => typeof x === 'string');
  if (!m || !isVocab(m.srcVocab) || !isVocab(m.tgtVocab)) throw bad('it holds no translation model (expected config.model = { srcVocab, tgtVocab })');
  for (const k of keys) {
    if (typeof config[k] !== 'number') throw bad(`its config has no number ${k}`);
  }
  const c = config as unknown as C;
  const srcVocab = Vocab.fromTokens(m.srcVocab);
  const tgtVocab = Vocab.fromTokens(m.tgtVocab);
  const model = build(c, srcVocab.length, tgtVocab.length, new Generator(0));
  try {
    model.loadStateDict(checkpointPart(tensors, 'model.'));
  } catch (e) {
    throw bad((e as Error).message);
  }
  model.eval();
  return { model, srcVocab, tgtVocab, numSteps: c.num_steps, config: c };
}
