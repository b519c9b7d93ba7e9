/**
 * The contents of a training checkpoint (see checkpoint.ts), browser-safe: the tensors (`model.<name>`,
 * `optim.<name>`) and the metadata a run records, encoded as one safetensors file in memory. The
 * Node side (checkpoint.ts) writes these bytes atomically to disk; the browser app offers them as a
 * download, which `pfs eval` and `pfs sample` then read like any checkpoint of `pfs train`.
 */
import { encodeSafetensors } from '../io/safetensors.js';
import type { Module } from '../nn/module.js';
import type { Generator } from '../tensor/rng.js';
import type { Tensor } from '../tensor/tensor.js';

/** What an optimiser exposes for checkpoints (see src/optim). */
export interface Stateful {
  stateDict(): { tensors: Record<string, Tensor>; meta: Record<string, number | string> };
  loadStateDict(sd: { tensors: Record<string, Tensor>; meta: Record<string, number | string> }): void;
}

/** Which run wrote a checkpoint. */
export interface RunIdentity {
  paper: string;
  preset: string;
  seed: number;
}

export interface CheckpointState {
  /** The run that wrote it (recorded since checkpoints carry it; older ones have none). */
  run?: RunIdentity;
  /** Epochs completed. */
  epoch: number;
  /** Per-epoch metrics so far. */
  history: Record<string, number>[];
  config: Record<string, unknown>;
}

export interface CheckpointParts {
  model: Module;
  optimizer?: Stateful;
  generators?: Record<string, Generator>;
}

/** The tensors and metadata of a checkpoint. */
export function checkpointContents(parts: CheckpointParts, state: CheckpointState): { tensors: Record<string, Tensor>; metadata: Record<string, string> } {
  const tensors: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(parts.model.stateDict())) tensors[`model.${k}`] = t;
  const metadata: Record<string, string> = {
    format: 'papers-from-scratch checkpoint v1',
    epoch: String(state.epoch),
    history: JSON.stringify(state.history),
    config: JSON.stringify(state.config),
  };
  if (state.run) Object.assign(metadata, { paper: state.run.paper, preset: state.run.preset, seed: String(state.run.seed) });
  if (parts.optimizer) {
    const sd = parts.optimizer.stateDict();
    for (const [k, t] of Object.entries(sd.tensors)) tensors[`optim.${k}`] = t;
    metadata.optim = JSON.stringify(sd.meta);
  }
  if (parts.generators) {
    metadata.generators = JSON.stringify(Object.fromEntries(Object.entries(parts.generators).map(([k, g]) => [k, g.getState()])));
  }
  return { tensors, metadata };
}

/** A checkpoint as the bytes of a safetensors file. */
export function encodeCheckpoint(parts: CheckpointParts, state: CheckpointState): Uint8Array {
  const { tensors, metadata } = checkpointContents(parts, state);
  return encodeSafetensors(tensors, metadata);
}

/** The tensors under `prefix` ("model."), with the prefix taken off the names. */
export function checkpointPart(tensors: Record<string, Tensor>, prefix: string): Record<string, Tensor> {
  return Object.fromEntries(Object.entries(tensors).filter(([k]) => k.startsWith(prefix)).map(([k, t]) => [k.slice(prefix.length), t]));
}

/** What a checkpoint's metadata says of the run that wrote it (paper, preset, seed: absent in older checkpoints). */
export function checkpointIdentity(metadata: Record<string, string>, path: string): Partial<RunIdentity> & { config: Record<string, unknown> } {
  const bad = (why: string) => new Error(`checkpoint ${path}: ${why}`);
  if (metadata.format === undefined || !metadata.format.startsWith('papers-from-scratch checkpoint')) {
    throw bad('it is a safetensors file but not a papers-from-scratch checkpoint (its metadata has no checkpoint format)');
  }
  const seed = metadata.seed === undefined ? undefined : Number(metadata.seed);
  if (seed !== undefined && !Number.isSafeInteger(seed)) throw bad(`bad seed ${JSON.stringify(metadata.seed)}`);
  return { paper: metadata.paper, preset: metadata.preset, seed, config: parseCheckpointJson(metadata.config ?? '{}', 'config', bad) as Record<string, unknown> };
}

/** Refuse a checkpoint that another paper wrote: "…: this checkpoint is from lenet, not resnet". */
export function checkCheckpointPaper(metadata: Record<string, string>, path: string, paper: string): void {
  const saved = checkpointIdentity(metadata, path).paper;
  if (saved !== undefined && saved !== paper) throw new Error(`checkpoint ${path}: this checkpoint is from ${saved}, not ${paper}`);
}

/** A JSON field of a checkpoint's metadata, or the error `bad` makes. */
export function parseCheckpointJson(s: string, what: string, bad: (w: string) => Error): unknown {
  try {
    return JSON.parse(s);
  } catch {
    throw bad(`its ${what} metadata is not valid JSON`);
  }
}
