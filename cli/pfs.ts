#!/usr/bin/env node
/**
 * `pfs`: train and evaluate the papers of the zoo, and inspect the library.
 *   pfs list | info | train | eval | sample | summary | bench | --version | help
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { backendInfo } from '../src/backend/registry.js';
import { nativeStatus, wasmStatus } from '../src/backend/auto.js';
import { getNumThreads } from '../src/backend/native/index.js';
import { manualSeed } from '../src/tensor/rng.js';
import { applyOverrides, describeSchema } from '../src/train/config.js';
import { runInfo } from '../src/train/provenance.js';
import { buildResult, libraryVersion, writeResult } from '../src/train/result.js';
import { findPaper, PAPERS } from '../papers/index.js';
import type { Paper, RunContext, Target } from '../papers/paper.js';
import { bench } from '../bench/cli.js';
import { sampleCommand } from '../papers/rnn/sample.js';
import { summaryCommand } from '../papers/vision/summary.js';
import { parseArgs } from './args.js';

const USAGE = `pfs — papers-from-scratch

Usage:
  pfs list                          the papers, their presets, targets and status
  pfs train <paper> [options]       train a paper; writes checkpoint, result.json and curves into --out
  pfs eval <paper> --checkpoint F   evaluate a saved model
  pfs sample <paper> --checkpoint F continue a text with a language model (--prefix, --length, --temperature, --seed)
  pfs summary <paper> [--size N]    layer-by-layer output shapes and parameter counts
  pfs bench [NAME...] [options]     time the benchmark workloads (pfs bench --help)
  pfs info                          version, backend in use and why
  pfs --version

Train options:
  --preset NAME        a preset of the paper (default: the paper's default preset)
  --KEY VALUE          override a preset value (pfs list shows the keys)
  --data DIR           data directory (else $PFS_DATA_DIR, else the per-user cache)
  --out DIR            output directory (default out/<paper>-<preset>)
  --seed N             the seed every random choice flows from (default 0)
  --target M=V         exit with status 1 when metric M falls short of V
  --resume             continue from the last checkpoint in --out
  --json               print result.json on stdout
  --quiet              no progress display
`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return 0;
    case '--version':
    case 'version':
      process.stdout.write(`${libraryVersion()}\n`);
      return 0;
    case 'info':
      return info(rest);
    case 'list':
      return list(rest);
    case 'train':
      return train(rest);
    case 'eval':
      return evaluate(rest);
    case 'sample':
      return sampleCommand(rest);
    case 'summary':
      return summaryCommand(rest);
    case 'bench':
      return bench(rest);
    default:
      throw new Error(`unknown command ${JSON.stringify(cmd)}; commands: list, train, eval, sample, summary, bench, info, help, --version`);
  }
}

function info(argv: string[]): number {
  parseArgs(argv, [], [], false);
  const b = backendInfo();
  const lines = [
    `papers-from-scratch ${libraryVersion()} on Node ${process.versions.node} (${process.platform}-${process.arch})`,
    `backend: ${b.name} (${b.reason})`,
    `kernels from ref: ${b.fallbacks.length ? b.fallbacks.join(', ') : 'none'}`,
    `native: ${nativeStatus().available ? `available, C kernels (${nativeStatus().build}), ${getNumThreads()} threads` : `unavailable (${nativeStatus().reason})`}`,
    `wasm: ${wasmStatus().available ? `available, ${wasmStatus().reason}` : `unavailable (${wasmStatus().reason})`}`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}

function list(argv: string[]): number {
  parseArgs(argv, [], [], false);
  for (const p of PAPERS) {
    process.stdout.write(`${p.name} — ${p.title} (${p.cites})\n`);
    process.stdout.write(`  status: ${p.status ?? 'not yet run on this machine'}\n`);
    for (const [name, preset] of Object.entries(p.presets)) {
      const t = preset.target ? `target ${fmtTarget(preset.target)}` : 'no target';
      process.stdout.write(`  --preset ${name}${name === p.defaultPreset ? ' (default)' : ''}: ${preset.description}; ${t}\n`);
    }
    process.stdout.write(`  options:\n${describeSchema(p.schema, p.presets[p.defaultPreset].config).replace(/^/gm, '  ')}\n`);
  }
  return 0;
}

function fmtTarget(t: Target): string {
  return `${t.metric} ${t.direction === 'max' ? '≥' : '≤'} ${t.value} (${t.source})`;
}

const TRAIN_BOOL = ['resume', 'json', 'quiet'];
const TRAIN_VALUE = ['preset', 'data', 'out', 'seed', 'target'];

function pickPreset(paper: Paper, name: string | undefined) {
  const presetName = name ?? paper.defaultPreset;
  const preset = paper.presets[presetName];
  if (!preset) throw new Error(`unknown preset ${JSON.stringify(presetName)} for ${paper.name}; presets: ${Object.keys(paper.presets).join(', ')}`);
  return { presetName, preset };
}

function parseSeed(v: string | true | undefined): number {
  if (v === undefined) return 0;
  const n = Number(v);
  if (typeof v !== 'string' || !Number.isSafeInteger(n) || n < 0) throw new Error(`--seed: expected a non-negative integer, got ${JSON.stringify(v)}`);
  return n;
}

/** `--target acc=0.8`: the direction is the preset target's for the same metric, else ≤ for losses/perplexities, ≥ otherwise. */
function parseTarget(v: string, preset?: Target): Target {
  const m = /^([A-Za-z0-9_.-]+)=(-?[0-9.eE+-]+)$/.exec(v);
  if (!m || !Number.isFinite(Number(m[2]))) throw new Error(`--target: expected METRIC=VALUE (e.g. test_acc=0.78), got ${JSON.stringify(v)}`);
  const metric = m[1];
  const direction = preset?.metric === metric ? preset.direction : /loss|ppl|perplexity|error/.test(metric) ? 'min' : 'max';
  return { metric, direction, value: Number(m[2]), source: '--target' };
}

async function train(argv: string[]): Promise<number> {
  const args = parseArgs(argv, TRAIN_BOOL, TRAIN_VALUE, true);
  if (args.positionals.length !== 1) throw new Error(`train: expected one paper name, got ${args.positionals.length ? args.positionals.join(' ') : 'none'}; see \`pfs list\``);
  const paper = findPaper(args.positionals[0]);
  const { presetName, preset } = pickPreset(paper, args.flags.preset as string | undefined);
  const config = applyOverrides(preset.config, args.overrides, paper.schema);
  const seed = parseSeed(args.flags.seed);
  const target = typeof args.flags.target === 'string' ? parseTarget(args.flags.target, preset.target) : undefined;
  const outDir = resolve((args.flags.out as string | undefined) ?? `out/${paper.name}-${presetName}`);
  mkdirSync(outDir, { recursive: true });
  // the commit and machine as the run starts (a checkout can move while a long run goes on)
  const info = runInfo();
  manualSeed(seed);
  const ctx: RunContext = {
    outDir,
    dataDir: args.flags.data as string | undefined,
    seed,
    resume: args.flags.resume === true,
    quiet: args.flags.quiet === true,
    log: process.stderr,
  };
  const t0 = performance.now();
  const run = await paper.train(config, ctx);
  const wall = (performance.now() - t0) / 1000;
  const result = buildResult({ paper: paper.name, preset: presetName, config, seed, wallSeconds: wall, samples: run.samples, metrics: run.metrics, files: run.files }, info);
  await writeResult(resolve(outDir, 'result.json'), result);
  const shown = target ?? preset.target;
  if (args.flags.json === true) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  else {
    process.stdout.write(`\n${paper.name} (${presetName}), ${wall.toFixed(1)} s, seed ${seed}, backend ${backendInfo().name}\n`);
    for (const [k, v] of Object.entries(run.metrics)) {
      const mark = shown && shown.metric === k ? `   target ${fmtTarget(shown)}: ${meets(v, shown) ? 'met' : 'MISSED'}` : '';
      process.stdout.write(`  ${k.padEnd(12)} ${v.toFixed(4)}${mark}\n`);
    }
    process.stdout.write(`  wrote ${['result.json', ...run.files].map((f) => resolve(outDir, f)).join(', ')}\n`);
  }
  if (target) {
    const v = run.metrics[target.metric];
    if (v === undefined) throw new Error(`--target: metric ${target.metric} is not among the results: ${Object.keys(run.metrics).join(', ')}`);
    if (!meets(v, target)) {
      process.stderr.write(`target missed: ${target.metric} = ${v.toFixed(4)}, wanted ${target.direction === 'max' ? '≥' : '≤'} ${target.value}\n`);
      return 1;
    }
  }
  return 0;
}

function meets(v: number, t: Target): boolean {
  return t.direction === 'max' ? v >= t.value : v <= t.value;
}

async function evaluate(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['json'], ['checkpoint', 'preset', 'data'], true);
  if (args.positionals.length !== 1) throw new Error('eval: expected one paper name; see `pfs list`');
  const paper = findPaper(args.positionals[0]);
  if (!paper.evaluate) throw new Error(`eval: ${paper.name} has no evaluation`);
  const ckpt = args.flags.checkpoint;
  if (typeof ckpt !== 'string') throw new Error('eval: --checkpoint FILE is required');
  const { preset } = pickPreset(paper, args.flags.preset as string | undefined);
  const config = applyOverrides(preset.config, args.overrides, paper.schema);
  const metrics = await paper.evaluate(config, resolve(ckpt), {
    outDir: '.', dataDir: args.flags.data as string | undefined, seed: 0, resume: false, quiet: true, log: process.stderr,
  });
  if (args.flags.json === true) process.stdout.write(JSON.stringify(metrics) + '\n');
  else for (const [k, v] of Object.entries(metrics)) process.stdout.write(`${k} ${v.toFixed(4)}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`pfs: ${err instanceof Error ? err.message : String(err)}\n`);
    if (process.env.PFS_DEBUG) console.error(err);
    process.exit(2);
  },
);
