#!/usr/bin/env node
/**
 * `pfs`: train and evaluate the papers of the zoo, and inspect the library.
 *   pfs list | info | train | eval | sample | translate | similar | summary | bench | serve | --version | help
 *
 * With the native addon on glibc, pfs raises malloc's thresholds for its process (tuneMalloc());
 * PFS_MALLOC_TUNING=0 keeps glibc's defaults.
 */
import { join, resolve } from 'node:path';
import { backendInfo } from '../src/backend/registry.js';
import { nativeStatus, wasmStatus } from '../src/backend/auto.js';
import { getNumThreads, tuneMalloc } from '../src/backend/native/index.js';
import { poolStats } from '../src/tensor/dtype.js';
import { readSafetensorsMetadata } from '../src/io/atomic.js';
import { checkCheckpointPaper } from '../src/train/checkpoint.js';
import { applyOverrides, describeSchema } from '../src/train/config.js';
import { runInfo } from '../src/train/provenance.js';
import { libraryVersion, resultJson } from '../src/train/result.js';
import {
  checkDataDir, checkTargetMetric, formatSeeds, formatTarget, meets, parseSeed, parseSeeds, presetOf, RunRequest, runOnce, runSeeds, seedDir, seedLine,
} from '../src/train/runner.js';
import { findPaper, PAPERS } from '../papers/index.js';
import type { Target } from '../papers/paper.js';
import { bench } from '../bench/cli.js';
import { parseArgs } from './args.js';
import { encodeCommand } from './encode.js';
import { exportCommand, importCommand } from './interop.js';
import { evalOnnxCommand } from './onnx.js';
import { sampleCommand } from './sample.js';
import { similarCommand } from './similar.js';
import { serveCommand } from './serve.js';
import { summaryCommand } from './summary.js';
import { translateCommand } from './translate.js';

const USAGE = `pfs — papers-from-scratch

Usage:
  pfs list                          the papers, their presets, targets and status
  pfs train <paper> [options]       train a paper; writes checkpoint, result.json and curves into --out
  pfs eval <paper> --checkpoint F   evaluate a saved model
  pfs eval <paper> --onnx F.onnx    the test set through ONNX Runtime (the Fashion-MNIST classifiers; --test_limit N)
  pfs sample <paper> --checkpoint F continue a text with a language model (--prefix, --length, --temperature, --seed)
  pfs translate <paper> --checkpoint F "go ." ...  translate English sentences (--beam K, --attention OUT.svg)
  pfs similar skip-gram --checkpoint F chip ...    the nearest words by cosine similarity (--k 5)
  pfs encode bert --checkpoint F "a crane is flying" ...  BERT encodings' shapes, cosine of the shared words
  pfs export <paper> --checkpoint F --torch OUT.safetensors [--probe P.safetensors]
                                    the weights as the paper's PyTorch twin's state dict (load_state_dict(strict=True)),
                                    and with --probe a fixed batch and our outputs (scripts/torch_twin.py check)
  pfs export <paper> --checkpoint F --onnx OUT.onnx [--batch N]
                                    one eval-mode forward pass on a fixed batch of N (32) as an ONNX graph (opset 17)
  pfs import <paper> --torch IN.safetensors --out F   a twin's state dict as our checkpoint (--preset, --KEY VALUE
                                    give the config where the file records none)
  pfs summary <paper> [--preset P | --size N]  layer-by-layer output shapes and parameter counts
  pfs bench [NAME...] [options]     time the benchmark workloads (pfs bench --help)
  pfs serve [--port N] [--data DIR] the browser app and the corpora on http://127.0.0.1 (pfs serve --help)
  pfs info                          version, backend in use and why
  pfs --version

Train options:
  --preset NAME        a preset of the paper (default: the paper's default preset)
  --KEY VALUE          override a preset value (pfs list shows the keys)
  --data DIR           data directory (else $PFS_DATA_DIR, else the per-user cache)
  --out DIR            output directory (default out/<paper>-<preset>)
  --seed N             the seed every random choice flows from (default 0)
  --seeds 0-3|0,2,5    run these seeds one after another, each in --out/seed-S, and summarise them
                       (per seed, mean, min, max) in --out/seeds.json; --target is then judged on the mean
  --target M=V         exit with status 1 when metric M falls short of V (checked before the run starts)
  --resume             continue from the last checkpoint in --out (same settings; only more --epochs)
  --json               print result.json on stdout
  --quiet              no progress display
`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  // `pfs train --help` and the like: the usage (bench has a help of its own)
  if (cmd !== 'bench' && cmd !== 'serve' && (rest.includes('--help') || rest.includes('-h'))) {
    process.stdout.write(USAGE);
    return 0;
  }
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
    case 'translate':
      return translateCommand(rest);
    case 'similar':
      return similarCommand(rest);
    case 'encode':
      return encodeCommand(rest);
    case 'bench':
      return bench(rest);
    case 'export':
      return exportCommand(rest);
    case 'import':
      return importCommand(rest);
    case 'serve':
      return serveCommand(rest);
    default:
      throw new Error(`unknown command ${JSON.stringify(cmd)}; commands: list, train, eval, sample, translate, similar, encode, summary, export, import, bench, serve, info, help, --version`);
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
    `buffer pool: keeps up to ${poolStats().limitBytes / 2 ** 20} MiB of the gradients backward has finished with, for reuse (pfs bench reports its peak)`,
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
      const t = preset.target ? `target ${formatTarget(preset.target)}` : 'no target';
      process.stdout.write(`  --preset ${name}${name === p.defaultPreset ? ' (default)' : ''}: ${preset.description}; ${t}\n`);
    }
    process.stdout.write(`  options:\n${describeSchema(p.schema, p.presets[p.defaultPreset].config).replace(/^/gm, '  ')}\n`);
  }
  return 0;
}

const TRAIN_BOOL = ['resume', 'json', 'quiet'];
const TRAIN_VALUE = ['preset', 'data', 'out', 'seed', 'seeds', 'target'];

/** `--target acc=0.8`: the direction is the preset target's for the same metric, else ≤ for losses/perplexities, ≥ otherwise. */
function parseTarget(v: string, preset?: Target): Target {
  const m = /^([A-Za-z0-9_.-]+)=(-?[0-9.eE+-]+)$/.exec(v);
  if (!m || !Number.isFinite(Number(m[2]))) throw new Error(`--target: expected METRIC=VALUE (e.g. test_acc=0.78), got ${JSON.stringify(v)}`);
  const metric = m[1];
  const direction = preset?.metric === metric ? preset.direction : /loss|ppl|perplexity|error/.test(metric) ? 'min' : 'max';
  return { metric, direction, value: Number(m[2]), source: '--target' };
}

async function train(argv: string[]): Promise<number> {
  // the commit and machine of the code this process loaded: every seed's result.json records it, even
  // when the checkout moves while a long --seeds run goes on
  const provenance = runInfo();
  const args = parseArgs(argv, TRAIN_BOOL, TRAIN_VALUE, true);
  if (args.positionals.length !== 1) throw new Error(`train: expected one paper name, got ${args.positionals.length ? args.positionals.join(' ') : 'none'}; see \`pfs list\``);
  const paper = findPaper(args.positionals[0]);
  const { presetName, preset } = presetOf(paper, args.flags.preset as string | undefined);
  const config = applyOverrides(preset.config, args.overrides, paper.schema);
  if (args.flags.seed !== undefined && args.flags.seeds !== undefined) throw new Error('--seed and --seeds: give one of them (--seeds runs several seeds, each in its own folder)');
  const seeds = typeof args.flags.seeds === 'string' ? parseSeeds(args.flags.seeds) : undefined;
  const seed = typeof args.flags.seed === 'string' ? parseSeed(args.flags.seed) : 0;
  const target = typeof args.flags.target === 'string' ? parseTarget(args.flags.target, preset.target) : undefined;
  if (target) checkTargetMetric(paper, config, target); // before a run that may take an hour
  checkDataDir(args.flags.data as string | undefined);
  const req: RunRequest = {
    paper, preset: presetName, config, outDir: resolve((args.flags.out as string | undefined) ?? `out/${paper.name}-${presetName}`),
    dataDir: args.flags.data as string | undefined, resume: args.flags.resume === true, quiet: args.flags.quiet === true, log: process.stderr, info: provenance,
  };
  const json = args.flags.json === true;
  const say = (s: string) => void (json ? process.stderr : process.stdout).write(s + '\n');
  const shown = target ?? preset.target;

  if (seeds) {
    const summary = await runSeeds(req, seeds, (s, r) => {
      const v = shown ? r.metrics[shown.metric] : undefined;
      say(`seed ${s}: ${shown ? `${shown.metric} ${v === null || v === undefined ? 'n/a' : v.toFixed(4)}, ` : ''}${r.wallSeconds.toFixed(1)} s, in ${join(req.outDir, seedDir(s))}`);
    });
    if (json) process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
    say(`\n${paper.name} (${presetName}), seeds ${formatSeeds(seeds)}, ${summary.wallSeconds.toFixed(1)} s, backend ${backendInfo().name}`);
    for (const k of Object.keys(summary.metrics)) say(`  ${seedLine(summary, k)}`);
    // `shown` is the --target when one is given: the same mean decides the exit status
    const mean = shown ? summary.metrics[shown.metric]?.mean ?? null : null;
    const met = shown !== undefined && mean !== null && meets(mean, shown);
    if (shown) {
      const other = shown.seeds && formatSeeds(shown.seeds) !== formatSeeds(seeds) ? ` (the target names seeds ${formatSeeds(shown.seeds)}; this run used ${formatSeeds(seeds)})` : '';
      say(`  target ${formatTarget(shown)}: ${met ? 'met' : 'MISSED'} (mean ${mean === null ? 'n/a' : mean.toFixed(4)})${other}`);
    }
    say(`  wrote ${join(req.outDir, 'seeds.json')}`);
    return target && !met ? missed(target, mean) : 0;
  }

  const { result, run } = await runOnce(req, seed);
  if (json) process.stdout.write(resultJson(result));
  say(`\n${paper.name} (${presetName}), ${result.wallSeconds.toFixed(1)} s, seed ${seed}, backend ${result.backend.name}`);
  for (const [k, v] of Object.entries(run.metrics)) {
    let mark = '';
    if (shown && shown.metric === k) {
      // a target judged over seeds says so, rather than a bare "MISSED" for one seed's value
      mark = shown.seeds ? `   target ${formatTarget(shown)}: judged over seeds, see --seeds ${formatSeeds(shown.seeds).replace('–', '-')}` : `   target ${formatTarget(shown)}: ${meets(v, shown) ? 'met' : 'MISSED'}`;
    }
    say(`  ${k.padEnd(12)} ${v.toFixed(4)}${mark}`);
  }
  say(`  wrote ${['result.json', ...run.files].map((f) => join(req.outDir, f)).join(', ')}`);
  return target && !meets(run.metrics[target.metric], target) ? missed(target, run.metrics[target.metric]) : 0;
}

function missed(t: Target, v: number | null): number {
  process.stderr.write(`target missed: ${t.metric} = ${v === null ? 'n/a' : v.toFixed(4)}, wanted ${t.direction === 'max' ? '≥' : '≤'} ${t.value}\n`);
  return 1;
}

async function evaluate(argv: string[]): Promise<number> {
  if (argv.some((a) => a === '--onnx' || a.startsWith('--onnx='))) return evalOnnxCommand(argv);
  const args = parseArgs(argv, ['json'], ['checkpoint', 'preset', 'data'], true);
  if (args.positionals.length !== 1) throw new Error('eval: expected one paper name; see `pfs list`');
  const paper = findPaper(args.positionals[0]);
  if (!paper.evaluate) throw new Error(`eval: ${paper.name} has no evaluation`);
  const ckpt = args.flags.checkpoint;
  if (typeof ckpt !== 'string') throw new Error('eval: --checkpoint FILE is required');
  const { presetName, preset } = presetOf(paper, args.flags.preset as string | undefined);
  const config = applyOverrides(preset.config, args.overrides, paper.schema);
  checkDataDir(args.flags.data as string | undefined);
  const path = resolve(ckpt);
  checkCheckpointPaper(await readSafetensorsMetadata(path), path, paper.name);
  const metrics = await paper.evaluate(config, path, {
    paper: paper.name, preset: presetName, outDir: '.', dataDir: args.flags.data as string | undefined, seed: 0, resume: false, quiet: true, log: process.stderr,
  });
  if (args.flags.json === true) process.stdout.write(JSON.stringify(metrics) + '\n');
  else for (const [k, v] of Object.entries(metrics)) process.stdout.write(`${k} ${v.toFixed(4)}\n`);
  return 0;
}

// The CLI is a program, not a library: it may change malloc for its process (src/backend/native/addon.c explains
// why that speeds training up; PFS_MALLOC_TUNING=0 keeps glibc's defaults).
tuneMalloc();

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`pfs: ${err instanceof Error ? err.message : String(err)}\n`);
    if (process.env.PFS_DEBUG) console.error(err);
    process.exit(2);
  },
);
