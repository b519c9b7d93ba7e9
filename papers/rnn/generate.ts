/**
 * Text generation from a trained character-level language model (d2l's predict_ch8) and the rebuilding of
 * a saved model from a checkpoint's contents; browser-safe (the app samples with it). sample.ts adds
 * the loading from a file (`pfs sample`, in cli/sample.ts, calls both).
 *
 * The prefix is fed one character at a time (the "warm-up": only the state changes), then each next
 * character is chosen from the model's output and fed back. Without a temperature (or with 0) the
 * choice is the most likely character, as d2l; with T > 0 it is drawn from softmax(logits / T) with a
 * seeded generator, so the same seed gives the same text.
 */
import { noGrad } from '../../src/autograd/mode.js';
import { Generator } from '../../src/tensor/rng.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { checkpointPart } from '../../src/train/checkpoint-format.js';
import type { CellKind, InitScheme } from './cells.js';
import { LM_SPECS, LMName, RNNLM } from './model.js';

/** What generation needs of a vocabulary: the token of each index (a Vocab has it). */
export interface VocabLike {
  readonly idxToToken: readonly string[];
}

export interface PredictOptions {
  /** Sample from softmax(logits / temperature); undefined or 0: take the most likely character. */
  temperature?: number;
  /** Where the draws come from when sampling (default: a generator seeded with 0). */
  generator?: Generator;
}

/** The prefix followed by `numPreds` generated characters. */
export function predict(net: RNNLM, vocab: VocabLike, prefix: string, numPreds: number, opts: PredictOptions = {}): string {
  const chars = Array.from(prefix);
  if (chars.length === 0) throw new RangeError('predict: the prefix is empty; give at least one character');
  if (!Number.isInteger(numPreds) || numPreds < 0) throw new RangeError(`predict: the number of characters to generate must be an integer ≥ 0, got ${numPreds}`);
  const T = opts.temperature ?? 0;
  if (!(T >= 0) || !Number.isFinite(T)) throw new RangeError(`predict: temperature must be a finite number ≥ 0, got ${opts.temperature}`);
  const g = opts.generator ?? new Generator(0);
  const index = new Map(vocab.idxToToken.map((t, i) => [t, i]));
  const out = chars.map((c) => {
    const i = index.get(c);
    if (i === undefined) {
      throw new RangeError(`predict: the prefix character ${JSON.stringify(c)} is not in the vocabulary (${vocab.idxToToken.filter((t) => t.length === 1).join('')}); ` +
        'the models are trained on lower-case letters and spaces');
    }
    return i;
  });
  const token = (i: number) => new Tensor(new Int32Array([i]), [1, 1]);
  return noGrad(() => {
    let state = net.beginState(1);
    for (let k = 0; k < out.length - 1; k++) state = net.forward(token(out[k]), state).state; // warm-up on the prefix
    for (let k = 0; k < numPreds; k++) {
      const r = net.forward(token(out[out.length - 1]), state);
      state = r.state;
      out.push(choose(r.logits.toTypedArray(), T, g));
    }
    return out.map((i) => vocab.idxToToken[i]).join('');
  });
}

/** argmax (first of ties) when T = 0, else a draw from softmax(logits / T). */
function choose(logits: ArrayLike<number>, T: number, g: Generator): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  if (T === 0) return best;
  const p = Array.from(logits, (l) => Math.exp((l - logits[best]) / T)); // shifted by the max: no overflow
  const total = p.reduce((a, b) => a + b, 0);
  let u = g.uniform53() * total;
  for (let i = 0; i < p.length; i++) {
    u -= p[i];
    if (u < 0) return i;
  }
  return best; // only reached through rounding at the very end of the distribution
}

/** What a language-model checkpoint records about its model (under `model` in the config metadata). */
export interface SavedModel {
  name: LMName;
  cell: CellKind;
  bidirectional: boolean;
  layers: number;
  hidden: number;
  init: InitScheme;
  /** The vocabulary, index → token. */
  vocab: string[];
}

/**
 * Rebuild the model a checkpoint was saved from (train.ts writes its description in the config
 * metadata) and load its weights, from the checkpoint's decoded contents; `source` names it in errors.
 */
export function languageModelFromContents(
  tensors: Record<string, Tensor>,
  metadata: Record<string, string>,
  source: string,
): { net: RNNLM; saved: SavedModel; config: Record<string, unknown> } {
  const bad = (why: string) => new Error(`checkpoint ${source}: ${why}`);
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(metadata.config ?? 'null') as Record<string, unknown>;
  } catch {
    throw bad('its config metadata is not valid JSON');
  }
  const m = (config as { model?: Partial<SavedModel> } | null)?.model;
  const ok =
    m !== undefined && typeof m.name === 'string' && m.name in LM_SPECS && ['rnn', 'gru', 'lstm'].includes(m.cell as string) &&
    typeof m.bidirectional === 'boolean' && Number.isInteger(m.layers) && Number.isInteger(m.hidden) &&
    Array.isArray(m.vocab) && m.vocab.length > 0 && m.vocab.every((t) => typeof t === 'string');
  if (!ok) throw bad(`it holds no language model description (expected config.model = { name, cell, bidirectional, layers, hidden, vocab }, got ${JSON.stringify(m)})`);
  const saved = m as SavedModel;
  const net = new RNNLM(saved.vocab.length, saved.cell, saved.hidden, { numLayers: saved.layers, bidirectional: saved.bidirectional });
  try {
    net.loadStateDict(checkpointPart(tensors, 'model.'));
  } catch (e) {
    throw bad((e as Error).message);
  }
  return { net, saved, config: config! };
}
