/**
 * Training checkpoints: one safetensors file holding the model's state dict (`model.<name>`), the
 * optimiser's state (`optim.<name>`), and in the metadata the epoch reached, the history so far, the
 * generator states, the config, and which run wrote it (paper, preset, seed) — everything a killed run
 * needs to continue exactly where it stopped, and what `--resume` and `pfs eval` check before they use it.
 * Written atomically (see src/io/atomic.ts), so a kill during the write leaves the previous checkpoint.
 */
import { loadSafetensors, saveSafetensors } from '../io/atomic.js';
import type { Module } from '../nn/module.js';
import type { Generator } from '../tensor/rng.js';
import { checkpointContents, checkpointPart, parseCheckpointJson as parseJson, type CheckpointState, type Stateful } from './checkpoint-format.js';

export type { CheckpointState, RunIdentity, Stateful } from './checkpoint-format.js';
export { checkCheckpointPaper, checkpointIdentity } from './checkpoint-format.js';

/** The file name of a run's checkpoint in its folder. */
export const CHECKPOINT_FILE = 'checkpoint.safetensors';

export async function saveCheckpoint(
  path: string,
  parts: { model: Module; optimizer?: Stateful; generators?: Record<string, Generator> },
  state: CheckpointState,
): Promise<void> {
  const { tensors, metadata } = checkpointContents(parts, state);
  await saveSafetensors(path, tensors, metadata);
}

/** Load a checkpoint into the given model (and optimiser and generators, when given); returns its state. */
export async function loadCheckpoint(
  path: string,
  parts: { model: Module; optimizer?: Stateful; generators?: Record<string, Generator> },
): Promise<CheckpointState> {
  const { tensors, metadata } = await loadSafetensors(path);
  const bad = (why: string) => new Error(`checkpoint ${path}: ${why}`);
  const pick = (prefix: string) => checkpointPart(tensors, prefix);
  try {
    parts.model.loadStateDict(pick('model.'));
  } catch (e) {
    throw bad((e as Error).message);
  }
  if (parts.optimizer) {
    if (metadata.optim === undefined) throw bad('it holds no optimiser state');
    parts.optimizer.loadStateDict({ tensors: pick('optim.'), meta: parseJson(metadata.optim, 'optim', bad) as Record<string, number | string> });
  }
  if (parts.generators) {
    const states = parseJson(metadata.generators ?? '{}', 'generators', bad) as Record<string, number[]>;
    for (const [k, g] of Object.entries(parts.generators)) {
      if (!states[k]) throw bad(`it holds no state for the generator "${k}"`);
      g.setState(states[k]);
    }
  }
  const epoch = Number(metadata.epoch);
  if (!Number.isInteger(epoch) || epoch < 0) throw bad(`bad epoch ${JSON.stringify(metadata.epoch)}`);
  return {
    epoch,
    history: parseJson(metadata.history ?? '[]', 'history', bad) as Record<string, number>[],
    config: parseJson(metadata.config ?? '{}', 'config', bad) as Record<string, unknown>,
  };
}
