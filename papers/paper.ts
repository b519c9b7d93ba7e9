/**
 * What a paper in the zoo provides to the `pfs` command. A paper is plain code (model.ts, config.ts,
 * train.ts in papers/<name>/); this interface is only how the CLI finds and runs it.
 */
import type { Classifier } from '../src/train/loop.js';
import type { TextStream } from '../src/train/progress.js';
import type { NetOptions } from './vision/common.js';

/** A preset: typed defaults, every value a number, string or boolean, overridable by `--key value`. */
export type Config = Record<string, number | string | boolean>;

/** How each config key is parsed and checked when given on the command line. */
export type Field =
  | { type: 'int'; min?: number; max?: number; help: string }
  | { type: 'float'; min?: number; max?: number; help: string }
  | { type: 'bool'; help: string }
  | { type: 'choice'; choices: readonly string[]; help: string };

export type Schema<C extends Config = Config> = { [K in keyof C]: Field };

export interface Target {
  /** Name of the metric in the result's metrics (e.g. "test_acc", "train_ppl"). */
  metric: string;
  /** Where the target points: at least (accuracy) or at most (loss, perplexity). */
  direction: 'min' | 'max';
  value: number;
  /** Where the number comes from (e.g. "d2l 2nd ed., printed test acc 0.776"). */
  source: string;
  /**
   * When set, the target is judged on the mean over these seeds (`pfs train --seeds`), not on one run:
   * for papers whose single-run result depends on the seed more than the gap between a pass and a miss.
   */
  seeds?: readonly number[];
}

export interface Preset<C extends Config = Config> {
  description: string;
  config: C;
  target?: Target;
}

export interface RunContext {
  /** The paper and preset being run (checkpoints record them). */
  paper: string;
  preset: string;
  /** Output directory (created): checkpoint, result.json, curves. */
  outDir: string;
  /** Explicit data directory (`--data`), if given. */
  dataDir?: string;
  seed: number;
  /** Resume from the last checkpoint in outDir. */
  resume: boolean;
  quiet: boolean;
  /** Progress and log stream (process.stderr in `pfs`; a terminal gets a live progress line). */
  log: TextStream;
}

export interface RunResult {
  /** Final metrics, e.g. { train_loss, train_acc, test_acc }. */
  metrics: Record<string, number>;
  /** Number of training samples processed (for samples/s). */
  samples: number;
  /** Files written into outDir, relative names. */
  files: string[];
}

/** The network a paper trains: how to build it (`pfs summary` and the tools build it from here). */
export interface NetSpec {
  /** What the net is, in a few words. */
  title: string;
  build(opts: NetOptions): Classifier;
  /** Input height = width in d2l's Fashion-MNIST setup. */
  d2lSize: number;
}

export interface Paper<C extends Config = Config> {
  name: string;
  title: string;
  /** The papers it reproduces (authors, year). */
  cites: string;
  /** The image classifier it trains, where it trains one. */
  net?: NetSpec;
  /** Where the reproduction stands, in one line (what ran, what met its target); see the paper's README. */
  status?: string;
  defaultPreset: string;
  presets: Record<string, Preset<C>>;
  /** Every config key: its type, bounds and a line of help. */
  schema: Schema<C>;
  /** The names of the metrics train() returns for `config` (so that `--target` is checked before a run starts). */
  metrics(config: C): readonly string[];
  train(config: C, ctx: RunContext): Promise<RunResult>;
  /** Evaluate a saved checkpoint; returns metrics. */
  evaluate?(config: C, checkpoint: string, ctx: RunContext): Promise<Record<string, number>>;
}
