/**
 * result.json, the record a training run leaves behind (Node only): what was trained (paper, preset and
 * its values, seed), what it reached (metrics), how fast (wall time, samples/s) and on what (backend,
 * library version, git commit, machine). buildResult() puts it together and checks it; writeResult()
 * writes it atomically, so a reader never sees half a file.
 *
 *   const result = buildResult({ paper: 'lenet', preset: 'cpu', config, seed, wallSeconds, samples, metrics, files });
 *   await writeResult('out/lenet-cpu/result.json', result);
 */
import { backendInfo } from '../backend/registry.js';
import { writeFileAtomic } from '../io/atomic.js';
import { RunInfo, runInfo } from './provenance.js';

export { libraryVersion } from './provenance.js';
export type { RunInfo } from './provenance.js';

export interface ResultInput {
  /** The paper's name, e.g. "lenet". */
  paper: string;
  /** The preset's name, e.g. "cpu". */
  preset: string;
  /** Every value of the preset after the `--key value` overrides. */
  config: Record<string, number | string | boolean>;
  seed: number;
  /** Seconds the run took. */
  wallSeconds: number;
  /** Training samples processed (for samples/s). */
  samples: number;
  /** Final numbers, e.g. { test_acc: 0.87, train_loss: 0.35 }. */
  metrics: Record<string, number>;
  /** Files the run wrote beside result.json (checkpoint, curves), relative names. */
  files?: string[];
}

export interface Result {
  paper: string;
  preset: string;
  config: Record<string, number | string | boolean>;
  seed: number;
  /** NaN and ±Infinity are stored as null: JSON has no such numbers. */
  metrics: Record<string, number | null>;
  wallSeconds: number;
  samples: number;
  samplesPerSec: number | null;
  backend: { name: string; reason: string; fallbacks: string[] };
  version: string;
  commit: string;
  dirty: boolean | null;
  machine: Record<string, string | number>;
  /** ISO 8601 time the result was built. */
  date: string;
  files: string[];
}

/**
 * Put a run's numbers together with the backend in use and `info` (default: this process's version,
 * git commit and machine). Bad input is refused with a message, so that no malformed result.json is written.
 */
export function buildResult(input: ResultInput, info: RunInfo = runInfo(), date: Date = new Date()): Result {
  const fail = (msg: string): never => {
    throw new TypeError(`result: ${msg}`);
  };
  if (typeof input !== 'object' || input === null) fail(`expected an object, got ${String(input)}`);
  for (const key of ['paper', 'preset'] as const) {
    if (typeof input[key] !== 'string' || input[key] === '') fail(`${key} must be a non-empty string, got ${JSON.stringify(input[key])}`);
  }
  if (typeof input.config !== 'object' || input.config === null) fail(`config must be an object, got ${String(input.config)}`);
  for (const [k, v] of Object.entries(input.config)) {
    if (!['number', 'string', 'boolean'].includes(typeof v)) fail(`config[${JSON.stringify(k)}] must be a number, string or boolean, got ${typeof v}`);
  }
  if (!Number.isSafeInteger(input.seed)) fail(`seed must be an integer, got ${input.seed}`);
  if (!(input.wallSeconds >= 0)) fail(`wallSeconds must be a number >= 0, got ${input.wallSeconds}`);
  if (!(input.samples >= 0)) fail(`samples must be a number >= 0, got ${input.samples}`);
  if (typeof input.metrics !== 'object' || input.metrics === null) fail(`metrics must be an object of numbers, got ${String(input.metrics)}`);
  const metrics: Record<string, number | null> = {};
  for (const [k, v] of Object.entries(input.metrics)) {
    if (typeof v !== 'number') fail(`metrics[${JSON.stringify(k)}] must be a number, got ${typeof v}`);
    metrics[k] = Number.isFinite(v) ? v : null;
  }
  const files = input.files ?? [];
  if (!Array.isArray(files) || files.some((f) => typeof f !== 'string')) fail('files must be an array of file names');

  const b = backendInfo();
  return {
    paper: input.paper,
    preset: input.preset,
    config: { ...input.config },
    seed: input.seed,
    metrics,
    wallSeconds: input.wallSeconds,
    samples: input.samples,
    samplesPerSec: input.wallSeconds > 0 ? input.samples / input.wallSeconds : null,
    backend: { name: b.name, reason: b.reason, fallbacks: [...b.fallbacks] },
    version: info.version,
    commit: info.commit,
    dirty: info.dirty,
    machine: { ...info.machine },
    date: date.toISOString(),
    files: [...files],
  };
}

/** result.json text: two-space indented JSON with a final newline. */
export function resultJson(result: Result): string {
  return JSON.stringify(result, null, 2) + '\n';
}

/** Write result.json atomically: readers see the previous file or the whole new one. */
export async function writeResult(path: string, result: Result): Promise<void> {
  await writeFileAtomic(path, resultJson(result));
}
