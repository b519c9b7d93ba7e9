/**
 * Running a paper (Node only): what every `pfs train` does around a paper's own train(), in one place.
 *
 *   - the run folder: created; temporaries left by a killed atomic write are removed;
 *   - resume: refused when the checkpoint in the folder was made by another paper, preset, seed or config
 *     (only more epochs may be asked for), with every difference listed;
 *   - the run: seeded, timed, and recorded in result.json;
 *   - seeds: `runSeeds` runs one seed after another, each in its own folder (seed-S/), and writes the
 *     summary (per seed, mean, min, max) to seeds.json;
 *   - targets: checked against the paper's metric names before anything runs, judged after;
 *   - inside a paper's train(): `trainEpochs` runs its Training (src/train/loop.ts) with a checkpoint and
 *     curves.svg after every epoch, resuming from the checkpoint when asked.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config, Paper, Preset, RunContext, RunResult, Target } from '../../papers/paper.js';
import { readSafetensorsMetadata, removeStaleTemporaries, writeFileAtomic } from '../io/atomic.js';
import type { Module } from '../nn/module.js';
import { Generator, manualSeed } from '../tensor/rng.js';
import { CHECKPOINT_FILE, checkpointIdentity, loadCheckpoint, saveCheckpoint, Stateful } from './checkpoint.js';
import { EpochRecord, fit, Training } from './loop.js';
import { Progress, TextStream } from './progress.js';
import { RunInfo, runInfo } from './provenance.js';
import { buildResult, Result, writeResult } from './result.js';

/** The largest seed `--seed` and `--seeds` take (seeds are 32-bit generator states). */
export const MAX_SEED = 2 ** 32 - 1;

/** `--seed N`: a plain decimal integer in [0, MAX_SEED]. */
export function parseSeed(v: string, flag = '--seed'): number {
  const n = Number(v);
  if (!/^[0-9]+$/.test(v) || n > MAX_SEED) throw new Error(`${flag}: expected a decimal integer in [0, ${MAX_SEED}], got ${JSON.stringify(v)}`);
  return n;
}

/** `--seeds 0-3` (a range, both ends included) or `--seeds 0,2,5` (a list; ranges may appear in it), no repeats. */
export function parseSeeds(v: string): number[] {
  const seeds: number[] = [];
  for (const part of v.split(',')) {
    const m = /^([0-9]+)-([0-9]+)$/.exec(part);
    if (m) {
      const [a, b] = [parseSeed(m[1], '--seeds'), parseSeed(m[2], '--seeds')];
      if (b < a) throw new Error(`--seeds: the range ${part} runs backwards; write ${b}-${a}`);
      if (b - a >= 1000) throw new Error(`--seeds: the range ${part} holds ${b - a + 1} seeds; at most 1000`);
      for (let s = a; s <= b; s++) seeds.push(s);
    } else seeds.push(parseSeed(part, '--seeds'));
  }
  const dup = seeds.find((s, i) => seeds.indexOf(s) !== i);
  if (dup !== undefined) throw new Error(`--seeds: seed ${dup} is given twice in ${JSON.stringify(v)}`);
  return seeds;
}

/** "0–3" for consecutive seeds, else "0, 2, 5". */
export function formatSeeds(seeds: readonly number[]): string {
  const consecutive = seeds.length > 2 && seeds.every((s, i) => i === 0 || s === seeds[i - 1] + 1);
  return consecutive ? `${seeds[0]}–${seeds[seeds.length - 1]}` : seeds.join(', ');
}

export function meets(v: number, t: Target): boolean {
  return t.direction === 'max' ? v >= t.value : v <= t.value;
}

export function formatTarget(t: Target): string {
  const over = t.seeds ? `mean over seeds ${formatSeeds(t.seeds)} ` : '';
  return `${t.metric} ${over}${t.direction === 'max' ? '≥' : '≤'} ${t.value} (${t.source})`;
}

/** A paper's preset by name (default: the paper's default preset); an unknown name is refused with the list. */
export function presetOf(paper: Paper, name: string | undefined): { presetName: string; preset: Preset } {
  const presetName = name ?? paper.defaultPreset;
  const preset = paper.presets[presetName];
  if (!preset) throw new Error(`unknown preset ${JSON.stringify(presetName)} for ${paper.name}; presets: ${Object.keys(paper.presets).join(', ')}`);
  return { presetName, preset };
}

/** Refuse a target on a metric the paper does not report, before a run starts. */
export function checkTargetMetric(paper: Paper, config: Config, target: Target): void {
  const names = paper.metrics(config);
  if (!names.includes(target.metric)) throw new Error(`--target: ${paper.name} reports no metric ${JSON.stringify(target.metric)}; its metrics: ${names.join(', ')}`);
}

export interface RunRequest {
  paper: Paper;
  preset: string;
  config: Config;
  outDir: string;
  dataDir?: string;
  resume: boolean;
  quiet: boolean;
  log: TextStream;
  /**
   * The commit and machine the run's code came from, taken when the process started (default: now).
   * A checkout can move while a long run goes on; the code that runs is the code loaded at the start.
   */
  info?: RunInfo;
}

/**
 * Refuse to resume from a checkpoint of another run: its paper, preset, seed and config must be this
 * run's, except `epochs`, which may grow. Checkpoints written before they recorded their paper, preset
 * and seed are checked on their config alone.
 */
export async function checkResumable(path: string, want: { paper: string; preset: string; seed: number; config: Config }): Promise<void> {
  const saved = checkpointIdentity(await readSafetensorsMetadata(path), path);
  if (saved.paper !== undefined && saved.paper !== want.paper) throw new Error(`--resume: ${path} is a checkpoint of ${saved.paper}, not ${want.paper}`);
  const diffs: string[] = [];
  if (saved.preset !== undefined && saved.preset !== want.preset) diffs.push(`--preset ${want.preset} (the checkpoint's: ${saved.preset})`);
  if (saved.seed !== undefined && saved.seed !== want.seed) diffs.push(`--seed ${want.seed} (the checkpoint's: ${saved.seed})`);
  for (const [k, v] of Object.entries(want.config)) {
    const was = saved.config[k];
    if (k === 'epochs' && typeof was === 'number' && typeof v === 'number' && v >= was) continue;
    if (was !== v) diffs.push(`--${k} ${v} (the checkpoint's: ${was === undefined ? 'not set' : String(was)}${k === 'epochs' ? '; only more epochs may be asked for' : ''})`);
  }
  if (diffs.length) {
    throw new Error(`--resume: this run differs from the one that wrote ${path}:\n  ${diffs.join('\n  ')}\nresume with the same settings, or start afresh in another --out`);
  }
}

/** Refuse a `--data DIR` that is not an existing directory (rather than look elsewhere for the corpora). */
export function checkDataDir(dir: string | undefined): void {
  if (dir === undefined) return;
  if (!existsSync(dir)) throw new Error(`--data: ${resolve(dir)} does not exist`);
  if (!statSync(dir).isDirectory()) throw new Error(`--data: ${resolve(dir)} is not a directory`);
}

/** Prepare the folder, check a resume, train one seed, and write result.json. */
export async function runOnce(req: RunRequest, seed: number): Promise<{ result: Result; run: RunResult }> {
  const { paper, config } = req;
  const outDir = resolve(req.outDir);
  if (existsSync(outDir) && !statSync(outDir).isDirectory()) throw new Error(`--out: ${outDir} exists and is not a directory`);
  try {
    mkdirSync(outDir, { recursive: true });
  } catch (e) {
    throw new Error(`--out: cannot create ${outDir} (${(e as NodeJS.ErrnoException).code === 'ENOTDIR' ? 'a part of its path is a file, not a directory' : (e as Error).message})`);
  }
  for (const f of await removeStaleTemporaries(outDir)) req.log.write(`removed ${join(outDir, f)}, left by a killed write\n`);
  const ckpt = join(outDir, CHECKPOINT_FILE);
  if (req.resume && existsSync(ckpt)) await checkResumable(ckpt, { paper: paper.name, preset: req.preset, seed, config });
  const info = req.info ?? runInfo();
  manualSeed(seed);
  const ctx: RunContext = {
    paper: paper.name, preset: req.preset, outDir, dataDir: req.dataDir, seed, resume: req.resume, quiet: req.quiet, log: req.log,
  };
  const t0 = performance.now();
  const run = await paper.train(config, ctx);
  const wallSeconds = (performance.now() - t0) / 1000;
  const declared = paper.metrics(config);
  const got = Object.keys(run.metrics);
  if (got.length !== declared.length || got.some((k) => !declared.includes(k))) {
    throw new Error(`internal: ${paper.name} reported the metrics ${got.join(', ')} but declares ${declared.join(', ')}`);
  }
  const result = buildResult({ paper: paper.name, preset: req.preset, config, seed, wallSeconds, samples: run.samples, metrics: run.metrics, files: run.files }, info);
  await writeResult(join(outDir, 'result.json'), result);
  return { result, run };
}

/** One metric over the seeds of a `--seeds` run. */
export interface SeedStats {
  perSeed: (number | null)[];
  mean: number | null;
  min: number | null;
  max: number | null;
}

export interface SeedSummary {
  paper: string;
  preset: string;
  seeds: number[];
  /** Each seed's folder, relative to the summary's. */
  dirs: string[];
  metrics: Record<string, SeedStats>;
  wallSeconds: number;
  commit: string;
  dirty: boolean | null;
  date: string;
}

/** The folder of seed `s` in a `--seeds` run. */
export const seedDir = (s: number): string => `seed-${s}`;

/** Per-seed values, mean, min and max of every metric (NaN and infinities count as missing: null). */
export function summariseSeeds(results: readonly Result[]): SeedSummary {
  if (results.length === 0) throw new Error('summariseSeeds: no results');
  const metrics: Record<string, SeedStats> = {};
  for (const k of Object.keys(results[0].metrics)) {
    const perSeed = results.map((r) => r.metrics[k] ?? null);
    const ok = perSeed.filter((v): v is number => v !== null);
    const whole = ok.length === perSeed.length;
    metrics[k] = {
      perSeed,
      mean: whole ? ok.reduce((a, b) => a + b, 0) / ok.length : null,
      min: whole ? Math.min(...ok) : null,
      max: whole ? Math.max(...ok) : null,
    };
  }
  const first = results[0];
  return {
    paper: first.paper, preset: first.preset, seeds: results.map((r) => r.seed), dirs: results.map((r) => seedDir(r.seed)), metrics,
    wallSeconds: results.reduce((a, r) => a + r.wallSeconds, 0), commit: first.commit, dirty: first.dirty, date: new Date().toISOString(),
  };
}

/** One line: `test_acc over seeds 0–3: 0.7580 0.7950 0.8170 0.8110; mean 0.7953, min 0.7580, max 0.8170`. */
export function seedLine(s: SeedSummary, metric: string): string {
  const m = s.metrics[metric];
  const f = (v: number | null) => (v === null ? 'n/a' : v.toFixed(4));
  return `${metric} over seeds ${formatSeeds(s.seeds)}: ${m.perSeed.map(f).join(' ')}; mean ${f(m.mean)}, min ${f(m.min)}, max ${f(m.max)}`;
}

/** Run `seeds` one after another, each in outDir/seed-S, and write outDir/seeds.json. */
export async function runSeeds(req: RunRequest, seeds: readonly number[], onSeed?: (seed: number, r: Result) => void): Promise<SeedSummary> {
  const results: Result[] = [];
  for (const seed of seeds) {
    if (!req.quiet) req.log.write(`\n— seed ${seed} (${results.length + 1} of ${seeds.length}) —\n`);
    const { result } = await runOnce({ ...req, outDir: join(req.outDir, seedDir(seed)) }, seed);
    results.push(result);
    onSeed?.(seed, result);
  }
  const summary = summariseSeeds(results);
  await writeFileAtomic(join(resolve(req.outDir), 'seeds.json'), JSON.stringify(summary, null, 2) + '\n');
  return summary;
}

/** The curves file every run writes beside its checkpoint. */
export const CURVES_FILE = 'curves.svg';

/** A paper's Training with what its checkpoints hold. */
export interface CheckpointedTraining<B, R extends EpochRecord> {
  training: Training<B, R>;
  model: Module;
  optimizer: Stateful;
  /** Every generator the run draws from after the start (shuffles, dropout masks): saved and restored. */
  generators: Record<string, Generator>;
  /** What the checkpoint records as the run's config (the paper's config, and whatever its loader needs). */
  config: Record<string, unknown>;
  /** curves.svg from the records so far. */
  curves(history: R[]): string;
  /** After a resume: bring whatever counts steps (a schedule) to the epochs done. */
  resumed?(history: R[]): void;
  /** Checkpoint (and draw the curves) after this epoch? Default: after every epoch. */
  checkpointAfter?(epoch: number): boolean;
  /** Where the output is a log file: a progress line every N steps too (default: one per epoch). */
  logEvery?: number;
}

/**
 * Run a paper's Training in ctx.outDir: resume from its checkpoint when ctx.resume (the runner has
 * checked it is this run's), then `fit`, saving the checkpoint and curves.svg after each epoch.
 * Returns every epoch's record and how many of them this call trained.
 */
export async function trainEpochs<B, R extends EpochRecord>(ctx: RunContext, c: CheckpointedTraining<B, R>): Promise<{ history: R[]; epochsRun: number }> {
  const path = join(ctx.outDir, CHECKPOINT_FILE);
  const parts = { model: c.model, optimizer: c.optimizer, generators: c.generators };
  let history: R[] = [];
  if (ctx.resume && existsSync(path)) {
    const state = await loadCheckpoint(path, parts);
    history = state.history as R[];
    ctx.log.write(`resumed from ${path} after epoch ${state.epoch}\n`);
    c.resumed?.(history);
  }
  const before = history.length;
  const progress = new Progress({ epochs: c.training.epochs, quiet: ctx.quiet, stream: ctx.log, logEvery: c.logEvery });
  try {
    history = await fit(c.training, {
      progress, history,
      afterEpoch: async (h) => {
        const epoch = h.length;
        if (!(c.checkpointAfter?.(epoch) ?? true)) return;
        await saveCheckpoint(path, parts, { run: { paper: ctx.paper, preset: ctx.preset, seed: ctx.seed }, epoch, history: h, config: c.config });
        await writeFileAtomic(join(ctx.outDir, CURVES_FILE), c.curves(h));
      },
    });
  } finally {
    progress.close();
  }
  return { history, epochsRun: history.length - before };
}
