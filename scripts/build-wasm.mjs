#!/usr/bin/env node
/**
 * Builds the wasm backend's modules from the C kernels (src/backend/csrc) and the WebAssembly
 * platform files (src/backend/wasm/*.c), and records what went in:
 *
 *   src/backend/wasm/pfs.wasm          single-threaded, SIMD128, its own memory
 *   src/backend/wasm/pfs-threads.wasm  SIMD128 + atomics, an imported shared memory, for worker threads
 *   src/backend/wasm/pfs-relaxed.wasm, pfs-threads-relaxed.wasm
 *                                      the same two with relaxed SIMD (-mrelaxed-simd): the matrix
 *                                      product's multiply-adds become f32x4.relaxed_madd
 *   src/backend/wasm/manifest.json     the sha256 of every file the build read (sources, headers, this
 *                                      script), the compiler, the flags, and the sha256 of each module
 *
 * The modules are committed, so users need no compiler; test/wasm.test.ts checks that the manifest
 * still matches the sources (a C change without a rebuild fails CI). Run by hand, never at install:
 *
 *   node scripts/build-wasm.mjs          build, and write the modules and the manifest
 *   node scripts/build-wasm.mjs --check  build into a temporary folder and compare bytes with the
 *                                        committed files (exit status 1 when they differ)
 *
 * Needs clang 16 or newer (the relaxed-SIMD builtins) and wasm-ld with the WebAssembly target; Debian:
 * `apt-get install clang-16 lld-16`. CLANG and WASM_LD name other binaries; an older clang is refused
 * before anything is compiled. No C library is used: src/backend/wasm/include has the few declarations
 * the kernels need. The same compiler version gives the same bytes (no paths or dates end up in the
 * output), so --check runs only with the compiler and linker manifest.json records, and refuses others
 * (exit status 2) rather than report a difference the compiler made.
 *
 * Imported (test/wasm.test.ts), it builds nothing: it exports the toolchain checks.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = 'src/backend/wasm';
const say = (msg) => process.stdout.write(`build-wasm: ${msg}\n`);
const die = (msg) => {
  process.stderr.write(`build-wasm: ${msg}\n`);
  process.exit(2);
};

/** The translation units, relative to the repository root: the kernels' list, which binding.gyp includes too, and the platform. */
const CSRC = 'src/backend/csrc';
const SOURCES = [...JSON.parse(readFileSync(join(root, CSRC, 'sources.gypi'), 'utf8')).sources.map((f) => `${CSRC}/${f}`), 'src/backend/wasm/platform.c'];

const CFLAGS = [
  '--target=wasm32',
  '-std=c11',
  '-O3',
  '-msimd128',
  '-mbulk-memory', // memcpy/memset become memory.copy/memory.fill
  '-ffreestanding',
  '-nostdlib',
  '-isystem', `${outDir}/include`,
  // Keeps constant offsets in the loads of the GEMM micro-kernel (V8 then folds them into the
  // addressing mode) instead of loop-strength-reduced pointer sums: some 20% on SGEMM.
  '-mllvm', '-disable-lsr',
  '-Wall',
  '-Wextra',
];

// The memory sizes here must match SHARED_MEMORY in src/backend/wasm/index.ts (bytes here, 64 KiB pages there).
const LDFLAGS = ['--no-entry', '--stack-first', '-z', 'stack-size=1048576', '--strip-debug'];
const THREADS_LDFLAGS = ['--shared-memory', '--import-memory', '--initial-memory=2097152', '--max-memory=2147483648', '--export=__stack_pointer'];
const BUILDS = [
  { file: 'pfs.wasm', cflags: [], ldflags: [] },
  { file: 'pfs-threads.wasm', cflags: ['-matomics'], ldflags: THREADS_LDFLAGS },
  { file: 'pfs-relaxed.wasm', cflags: ['-mrelaxed-simd'], ldflags: [] },
  { file: 'pfs-threads-relaxed.wasm', cflags: ['-matomics', '-mrelaxed-simd'], ldflags: THREADS_LDFLAGS },
];

const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');

/** The oldest clang that compiles the kernels: its relaxed-SIMD builtins (__builtin_wasm_relaxed_madd_*) came in 16. */
export const MIN_CLANG_MAJOR = 16;
const INSTALL = `Debian: apt-get install clang-${MIN_CLANG_MAJOR} lld-${MIN_CLANG_MAJOR}`;

/** The first of the candidate commands that runs, and its version line; null when none does. */
export function findTool(envName, candidates, env = process.env) {
  const list = env[envName] ? [env[envName]] : candidates;
  for (const cmd of list) {
    const r = spawnSync(cmd, ['--version'], { encoding: 'utf8' });
    if (r.status === 0) return { cmd, version: r.stdout.split('\n').find((l) => l.trim()) ?? cmd };
  }
  return null;
}

/** The clang and wasm-ld the build uses (CLANG and WASM_LD, else the versioned names, else the plain ones), or why there are none. */
export function findToolchain(env = process.env) {
  const clang = findTool('CLANG', [`clang-${MIN_CLANG_MAJOR}`, 'clang'], env);
  const lld = findTool('WASM_LD', [`wasm-ld-${MIN_CLANG_MAJOR}`, 'wasm-ld'], env);
  const missing = [!clang && (env.CLANG ?? `clang-${MIN_CLANG_MAJOR} or clang`), !lld && (env.WASM_LD ?? `wasm-ld-${MIN_CLANG_MAJOR} or wasm-ld`)].filter(Boolean);
  if (missing.length > 0) return { problem: `${missing.join(' and ')} not found; install clang ${MIN_CLANG_MAJOR} and lld (${INSTALL}) or set CLANG and WASM_LD` };
  return { clang, lld };
}

/**
 * Why this toolchain cannot do the job, or null when it can. `clangVersion` and `lldVersion` are the
 * tools' first `--version` lines; `recorded` is manifest.json's { compiler, linker }, given for --check,
 * which compares bytes and so needs exactly the compiler and linker that built the committed modules.
 */
export function toolchainProblem(clangVersion, lldVersion, recorded) {
  const m = /clang version (\d+)\.(\d+)/.exec(clangVersion);
  if (!m) return `cannot tell the version of clang from "${clangVersion}"; clang ${MIN_CLANG_MAJOR} or newer is needed (${INSTALL}, or set CLANG)`;
  if (Number(m[1]) < MIN_CLANG_MAJOR) {
    return `clang ${m[1]}.${m[2]} ("${clangVersion}") lacks the relaxed-SIMD builtins: clang ${MIN_CLANG_MAJOR} or newer is needed (${INSTALL}, or set CLANG and WASM_LD)`;
  }
  if (recorded && (clangVersion !== recorded.compiler || lldVersion !== recorded.linker)) {
    return `--check compares bytes, so it needs the compiler and linker that built the committed modules, "${recorded.compiler}" and "${recorded.linker}" (manifest.json); found "${clangVersion}" and "${lldVersion}"`;
  }
  return null;
}

/** The first `--version` line of the tools in manifest.json: { compiler, linker }. */
export function recordedToolchain() {
  const { compiler, linker } = JSON.parse(readFileSync(join(root, outDir, 'manifest.json'), 'utf8'));
  return { compiler, linker };
}

/** Runs a command in the repository root; resolves to null when it succeeds, else to what went wrong. */
function run(cmd, args) {
  return new Promise((done) => {
    const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', (e) => done(`${cmd} could not start: ${e.message}`));
    child.on('close', (status) => done(status === 0 ? null : `${cmd} ${args.join(' ')} failed (exit status ${status})`));
  });
}

/**
 * Runs the jobs (functions returning run's promise), as many at a time as there are cores. After a
 * failure no new job starts, and the script ends only once the running ones have finished: ending at
 * once removed the temporary folder under the compilers still running, which then failed to write
 * their dependency files ("error opening .../pfs-threads.wasm.3.o.d").
 */
async function inParallel(jobs) {
  const queue = [...jobs];
  let failure = null;
  const worker = async () => {
    while (queue.length > 0 && !failure) {
      const failed = await queue.shift()();
      failure ??= failed;
    }
  };
  await Promise.all(Array.from({ length: Math.min(availableParallelism(), jobs.length) }, worker));
  if (failure) die(failure);
}

/** The files a translation unit read, from clang's dependency file, relative to the root (those inside the repository). */
function dependencies(depFile) {
  const text = readFileSync(depFile, 'utf8').replace(/\\\n/g, ' ');
  const files = text.slice(text.indexOf(':') + 1).trim().split(/\s+/);
  return files
    .map((f) => relative(root, resolve(root, f)).split(sep).join('/'))
    .filter((f) => !f.startsWith('..') && !f.startsWith('/'));
}

/** Builds every module of BUILDS into `dir`; returns the manifest describing them. */
async function build(dir, { clang, lld }) {
  const object = (b, i) => join(dir, `${b.file}.${i}.o`);
  await inParallel(BUILDS.flatMap((b) => SOURCES.map((src, i) => () => run(clang.cmd, [...CFLAGS, ...b.cflags, '-MD', '-MF', `${object(b, i)}.d`, '-c', src, '-o', object(b, i)]))));
  const read = new Set(['scripts/build-wasm.mjs']);
  const outputs = {};
  for (const b of BUILDS) {
    const objects = SOURCES.map((_, i) => object(b, i));
    for (const o of objects) for (const f of dependencies(`${o}.d`)) read.add(f);
    const out = join(dir, b.file);
    const failed = await run(lld.cmd, [...LDFLAGS, ...b.ldflags, ...objects, '-o', out]);
    if (failed) die(failed);
    const bytes = readFileSync(out);
    outputs[b.file] = { sha256: sha256(bytes), bytes: bytes.length, cflags: [...CFLAGS, ...b.cflags], ldflags: [...LDFLAGS, ...b.ldflags] };
  }
  const sources = Object.fromEntries([...read].sort().map((f) => [f, sha256(readFileSync(join(root, f)))]));
  return {
    about: 'Written by scripts/build-wasm.mjs; test/wasm.test.ts checks that every file listed still has this sha256.',
    compiler: clang.version,
    linker: lld.version,
    sources,
    outputs,
  };
}

/** Builds (or checks) as the module comment says. */
async function main() {
  const check = process.argv.includes('--check');
  const unknown = process.argv.slice(2).filter((a) => a !== '--check');
  if (unknown.length > 0) die(`unknown argument ${unknown[0]}; usage: node scripts/build-wasm.mjs [--check]`);

  const tools = findToolchain();
  if (tools.problem) die(tools.problem);
  const problem = toolchainProblem(tools.clang.version, tools.lld.version, check ? recordedToolchain() : undefined);
  if (problem) die(problem);

  const tmp = mkdtempSync(join(tmpdir(), 'pfs-wasm-'));
  process.on('exit', () => rmSync(tmp, { recursive: true, force: true })); // also when a step fails
  const manifest = await build(tmp, tools);
  if (check) {
    const differ = BUILDS.filter((b) => {
      let committed;
      try {
        committed = readFileSync(join(root, outDir, b.file));
      } catch {
        return true;
      }
      return !committed.equals(readFileSync(join(tmp, b.file)));
    }).map((b) => b.file);
    if (differ.length > 0) {
      process.stderr.write(`build-wasm: ${differ.join(', ')} differ from a fresh build: run \`node scripts/build-wasm.mjs\` and commit the result\n`);
      process.exit(1);
    }
    say(`${BUILDS.map((b) => b.file).join(' and ')} match a fresh build (${manifest.compiler})`);
  } else {
    for (const b of BUILDS) writeFileSync(join(root, outDir, b.file), readFileSync(join(tmp, b.file)));
    writeFileSync(join(root, outDir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
    for (const b of BUILDS) say(`wrote ${outDir}/${b.file} (${manifest.outputs[b.file].bytes} bytes)`);
    say(`wrote ${outDir}/manifest.json (${Object.keys(manifest.sources).length} source files)`);
  }
}

// Run as a script (node scripts/build-wasm.mjs), not when imported.
if (process.argv[1] && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))) await main();
