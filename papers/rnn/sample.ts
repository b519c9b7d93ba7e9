/**
 * Loading a saved character-level language model from its checkpoint file (`pfs sample`, in
 * cli/sample.ts, and `pfs eval`); the generation itself and the rebuilding of the model are in
 * generate.ts (browser-safe), re-exported here.
 */
import { loadSafetensors } from '../../src/io/atomic.js';
import { languageModelFromContents, type SavedModel } from './generate.js';
import type { RNNLM } from './model.js';

export { languageModelFromContents, predict } from './generate.js';
export type { PredictOptions, SavedModel, VocabLike } from './generate.js';

/** Rebuild the model a checkpoint was saved from (train.ts writes its description) and load its weights. */
export async function loadLanguageModel(path: string): Promise<{ net: RNNLM; saved: SavedModel; config: Record<string, unknown> }> {
  const { tensors, metadata } = await loadSafetensors(path);
  return languageModelFromContents(tensors, metadata, path);
}
