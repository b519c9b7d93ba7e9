/**
 * The wasm backend beyond the kernel-by-kernel conformance suite (test/conformance.test.ts):
 *  - the committed modules match their sources: every file in src/backend/wasm/manifest.json still
 *    has its recorded sha256, and so do the modules; where the compiler and linker it records are
 *    installed, a fresh build gives the same bytes (skipped, saying so, with any other toolchain);
 *    scripts/build-wasm.mjs refuses a clang older than 16 and, for --check, any other toolchain;
 *  - threads: with 2 threads a worker takes part of a product and of a convolution, and the results
 *    equal those of the single-threaded build;
 *  - the allocator reuses its blocks (a repeated call does not grow the memory);
 *  - selection: PFS_BACKEND=wasm picks it, and `pfs info` says so; `pfs bench --backend wasm
 *    --threads 2` runs on two threads;
 *  - relaxed SIMD: PFS_WASM_RELAXED is parsed; by default the relaxed builds load exactly where the
 *    engine has relaxed SIMD; asked for ('on'), V8's flag goes on and they load, and their products
 *    and convolutions agree with ref, on one thread and on two;
 *  - the browser path (instantiateWasmBackend from the module's bytes) gives a working backend;
 *  - the module's TypeScript face (src/backend/wasm/index.ts) imports nothing from Node.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setWasmThreads } from '../src/backend/auto.js';
import type { Conv2dGeom, GemmArgs, Kernels } from '../src/backend/kernels.js';
import { refKernels } from '../src/backend/ref/index.js';
import { instantiateWasmBackend, relaxedSimdSupported, WasmRuntime } from '../src/backend/wasm/index.js';
import { loadWasmBackend, relaxedFromEnv, type RelaxedChoice, waitForWasmWorkers } from '../src/backend/wasm/node.js';
import { Generator } from '../src/tensor/rng.js';

const here = dirname(fileURLToPath(import.meta.url)); // dist/test
const ROOT = resolve(here, '../..');
const WASM_DIR = join(ROOT, 'src/backend/wasm');
const REBUILD = 'run `node scripts/build-wasm.mjs` (needs clang-16 and lld-16) and commit src/backend/wasm/*.wasm and manifest.json';

/** `pfs info` in a process of its own, with the given environment. */
const pfsInfo = (env: NodeJS.ProcessEnv) => spawnSync(process.execPath, [join(ROOT, 'dist/cli/pfs.js'), 'info'], { encoding: 'utf8', env });

const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

interface Manifest {
  compiler: string;
  sources: Record<string, string>;
  outputs: Record<string, { sha256: string; bytes: number; cflags: string[]; ldflags: string[] }>;
}

test('the committed wasm modules match their sources (manifest.json)', () => {
  const manifest = JSON.parse(readFileSync(join(WASM_DIR, 'manifest.json'), 'utf8')) as Manifest;
  const files = Object.keys(manifest.sources);
  // what the build must have read: the kernels it compiles, the platform files, and the script itself
  for (const f of ['scripts/build-wasm.mjs', 'src/backend/csrc/gemm.c', 'src/backend/csrc/pfs.h', 'src/backend/csrc/call.c', 'src/backend/wasm/platform.c']) {
    assert.ok(files.includes(f), `manifest.json does not list ${f}: ${REBUILD}`);
  }
  const changed = files.filter((f) => !existsSync(join(ROOT, f)) || sha256(join(ROOT, f)) !== manifest.sources[f]);
  assert.deepEqual(changed, [], `changed since the wasm modules were built: ${changed.join(', ')}; ${REBUILD}`);
  for (const [file, out] of Object.entries(manifest.outputs)) {
    assert.equal(sha256(join(WASM_DIR, file)), out.sha256, `src/backend/wasm/${file} is not the module manifest.json describes: ${REBUILD}`);
  }
  assert.deepEqual(Object.keys(manifest.outputs).sort(), ['pfs-relaxed.wasm', 'pfs-threads-relaxed.wasm', 'pfs-threads.wasm', 'pfs.wasm']);
  for (const file of ['pfs-relaxed.wasm', 'pfs-threads-relaxed.wasm']) assert.ok(manifest.outputs[file].cflags.includes('-mrelaxed-simd'), file);
  for (const file of ['pfs.wasm', 'pfs-threads.wasm']) assert.ok(!manifest.outputs[file].cflags.includes('-mrelaxed-simd'), file);
});

/** The toolchain checks of scripts/build-wasm.mjs (imported, it builds nothing). */
interface BuildWasm {
  MIN_CLANG_MAJOR: number;
  findToolchain(env?: NodeJS.ProcessEnv): { problem: string } | { problem?: undefined; clang: { version: string }; lld: { version: string } };
  toolchainProblem(clangVersion: string, lldVersion: string, recorded?: { compiler: string; linker: string }): string | null;
  recordedToolchain(): { compiler: string; linker: string };
}
const buildWasm = (await import(pathToFileURL(join(ROOT, 'scripts/build-wasm.mjs')).href)) as BuildWasm;

/** Why the byte-for-byte check cannot run here (build-wasm --check would refuse), or false when it can. */
function freshBuildSkip(): string | false {
  const tools = buildWasm.findToolchain();
  const recorded = buildWasm.recordedToolchain();
  const why = tools.problem ?? buildWasm.toolchainProblem(tools.clang.version, tools.lld.version, recorded);
  return why ? `needs "${recorded.compiler}" and "${recorded.linker}", the toolchain manifest.json records: ${why}` : false;
}

test('build-wasm refuses a clang without the relaxed-SIMD builtins, and --check any other than the recorded one', () => {
  const { toolchainProblem, MIN_CLANG_MAJOR } = buildWasm;
  assert.equal(MIN_CLANG_MAJOR, 16);
  const recorded = buildWasm.recordedToolchain();
  assert.match(recorded.compiler, /clang version 16\./);
  assert.equal(toolchainProblem(recorded.compiler, recorded.linker), null);
  assert.equal(toolchainProblem(recorded.compiler, recorded.linker, recorded), null);
  assert.equal(toolchainProblem('Ubuntu clang version 18.1.3 (1ubuntu1)', 'Ubuntu LLD 18.1.3'), null, 'a newer clang may build');
  // Debian 12's default clang: refused, naming the version needed and how to get it.
  assert.match(toolchainProblem('Debian clang version 14.0.6', 'Debian LLD 14.0.6')!, /clang 14\.0 .*lacks the relaxed-SIMD builtins: clang 16 or newer is needed \(Debian: apt-get install clang-16 lld-16/);
  assert.match(toolchainProblem('Apple LLVM 9', 'LLD 16')!, /cannot tell the version of clang from "Apple LLVM 9"; clang 16 or newer is needed/);
  // --check compares bytes: another clang 16 build or another linker is refused, naming the recorded ones.
  const other = toolchainProblem('Debian clang version 16.0.6 (16)', recorded.linker, recorded)!;
  assert.ok(other.includes(`needs the compiler and linker that built the committed modules, "${recorded.compiler}" and "${recorded.linker}"`), other);
  assert.match(toolchainProblem(recorded.compiler, 'LLD 17.0.1', recorded)!, /found .*"LLD 17\.0\.1"/);
  // Absent tools are named.
  const none = buildWasm.findToolchain({ CLANG: 'pfs-no-such-clang', WASM_LD: 'pfs-no-such-wasm-ld' });
  assert.match(none.problem!, /pfs-no-such-clang and pfs-no-such-wasm-ld not found; install clang 16 and lld/);
});

test('build-wasm refuses an unsuitable clang before compiling anything', () => {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts/build-wasm.mjs'), '--check'], { encoding: 'utf8', env: { ...process.env, CLANG: 'pfs-no-such-clang' } });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^build-wasm: pfs-no-such-clang not found; install clang 16 and lld \(Debian: apt-get install clang-16 lld-16\)/);
});

// Only with the compiler and linker manifest.json records: another version gives other bytes.
test('a fresh build gives the committed bytes', { skip: freshBuildSkip() }, () => {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts/build-wasm.mjs'), '--check'], { encoding: 'utf8' });
  assert.equal(r.status, 0, `build-wasm --check failed:\n${r.stdout}${r.stderr}`);
  assert.match(r.stdout, /match a fresh build/);
});

// ------------------------------------------------------------------ threads

const g = new Generator(99);
const rand = (n: number) => Float32Array.from({ length: n }, () => 4 * g.uniform() - 2);

/** Loads a build (the plain SIMD128 one unless asked); the test fails (not skips) when the committed module cannot load. */
function load(threaded: boolean, threads: number, relaxed: RelaxedChoice = 'off'): { kernels: Partial<Kernels>; runtime: WasmRuntime } {
  const l = loadWasmBackend({ threaded, threads, relaxed });
  assert.ok(l.backend, `the wasm backend did not load: ${l.reason}`);
  return { kernels: l.backend.kernels, runtime: l.runtime };
}

test('two threads share a product and a convolution, with the single-threaded results', () => {
  const one = load(false, 1);
  const two = load(true, 2);
  assert.equal(two.runtime.getThreads(), 2);
  assert.ok(waitForWasmWorkers(two.runtime, 20_000), 'the worker thread did not start within 20 s');
  assert.equal(two.runtime.workersOnline(), 1);
  const tasks = () => two.runtime.exports.pfs_wasm_worker_tasks!();

  // a product large enough to be split (2·m·n·k ≥ 2^17): rows of C go to whichever thread is free,
  // so on a busy machine the caller may take them all; more tries give the worker its turn
  const [m, n, k] = [200, 190, 180];
  const a = rand(m * k);
  const b = rand(k * n);
  const args = (out: Float32Array): GemmArgs => ({ batch: 1, m, n, k, a, aOffsets: [0], aRowStride: k, aColStride: 1, b, bOffsets: [0], bRowStride: 1, bColStride: k, out });
  const [c1, c2] = [new Float32Array(m * n), new Float32Array(m * n)];
  one.kernels.gemm!(args(c1));
  const before = tasks();
  for (let i = 0; i < 50 && tasks() === before; i++) {
    two.kernels.gemm!(args(c2));
    assert.deepEqual(c2, c1); // each element is summed in the same order whichever thread computes it
  }
  assert.ok(tasks() > before, 'the worker ran no task of 50 products');

  // a convolution over 4 images: images go to whichever thread is free
  const geom: Conv2dGeom = { n: 4, c: 16, h: 20, w: 20, o: 32, kh: 3, kw: 3, oh: 20, ow: 20, strideH: 1, strideW: 1, padH: 1, padW: 1, dilationH: 1, dilationW: 1, groups: 1 };
  const x = rand(4 * 16 * 20 * 20);
  const w = rand(32 * 16 * 3 * 3);
  const [y1, y2] = [new Float32Array(4 * 32 * 400), new Float32Array(4 * 32 * 400)];
  one.kernels.conv2d!(x, w, geom, y1);
  const mid = tasks();
  for (let i = 0; i < 50 && tasks() === mid; i++) {
    two.kernels.conv2d!(x, w, geom, y2);
    assert.deepEqual(y2, y1);
  }
  assert.ok(tasks() > mid, 'the worker ran no task of 50 convolutions');
  const yr = new Float32Array(y1.length);
  refKernels.conv2d(x, w, geom, yr);
  for (let i = 0; i < yr.length; i++) assert.ok(Math.abs(y1[i] - yr[i]) <= 1e-4, `conv2d element ${i}: ${y1[i]} vs ref ${yr[i]}`);
});

test('thread counts are checked', () => {
  assert.throws(() => setWasmThreads(0), /setWasmThreads: expected a whole number from 1 to 64, got 0/);
  assert.throws(() => load(false, 1).runtime.setThreads(65), /wasm threads: expected a whole number from 1 to 64, got 65/);
  const single = load(false, 1).runtime;
  single.setThreads(4);
  assert.equal(single.getThreads(), 1, 'the single-threaded build runs on one thread whatever is asked');
});

test('repeated calls reuse the module memory, and int32 operands go to ref', () => {
  const { kernels, runtime } = load(false, 1);
  const n = 96;
  const a = rand(n * n);
  const out = new Float32Array(n * n);
  const args: GemmArgs = { batch: 1, m: n, n, k: n, a, aOffsets: [0], aRowStride: n, aColStride: 1, b: a, bOffsets: [0], bRowStride: n, bColStride: 1, out };
  kernels.gemm!(args);
  const size = runtime.memory.buffer.byteLength;
  for (let i = 0; i < 20; i++) kernels.gemm!(args);
  assert.equal(runtime.memory.buffer.byteLength, size);

  const ai = Int32Array.from({ length: 12 }, (_, i) => i - 5);
  const [got, want] = [new Int32Array(9), new Int32Array(9)];
  const iargs = (o: Int32Array): GemmArgs => ({ batch: 1, m: 3, n: 3, k: 4, a: ai, aOffsets: [0], aRowStride: 4, aColStride: 1, b: ai, bOffsets: [0], bRowStride: 3, bColStride: 1, out: o });
  kernels.gemm!(iargs(got));
  refKernels.gemm(iargs(want));
  assert.deepEqual(got, want);
});

// ------------------------------------------------------------------ relaxed SIMD

test('PFS_WASM_RELAXED: unset, 1 or 0; anything else is refused', () => {
  assert.equal(relaxedFromEnv(undefined), 'auto');
  assert.equal(relaxedFromEnv(''), 'auto');
  assert.equal(relaxedFromEnv('1'), 'on');
  assert.equal(relaxedFromEnv('0'), 'off');
  assert.throws(() => relaxedFromEnv('yes'), /PFS_WASM_RELAXED must be 1 .* or 0 .*, got "yes"/);
  const r = pfsInfo({ ...process.env, PFS_WASM_RELAXED: 'yes' });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /PFS_WASM_RELAXED must be 1/);
});

test('by default the relaxed builds load where the engine has relaxed SIMD, and pfs info says which', () => {
  // a fresh process: this one may have turned V8's flag on already
  const code = `import('${join(ROOT, 'dist/src/backend/wasm/node.js')}').then(async (m) => { const i = await import('${join(ROOT, 'dist/src/backend/wasm/index.js')}'); const l = m.loadWasmBackend({ threads: 1 }); console.log(JSON.stringify({ engine: i.relaxedSimdSupported(), loaded: l.relaxed, file: l.file })); })`;
  const env = { ...process.env };
  delete env.PFS_WASM_RELAXED;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', env });
  assert.equal(r.status, 0, r.stderr);
  const got = JSON.parse(r.stdout) as { engine: boolean; loaded: boolean; file: string };
  assert.equal(got.loaded, got.engine);
  assert.equal(got.file.endsWith('-relaxed.wasm'), got.engine, got.file);

  const on = pfsInfo({ ...env, PFS_WASM_RELAXED: '1' });
  assert.equal(on.status, 0, on.stderr);
  assert.match(on.stdout, /^wasm: available, WebAssembly SIMD128 \(threaded build, relaxed SIMD[,)]/m);
  const off = pfsInfo({ ...env, PFS_WASM_RELAXED: '0' });
  assert.equal(off.status, 0, off.stderr);
  assert.match(off.stdout, /^wasm: available, WebAssembly SIMD128 \(threaded build, relaxed SIMD off \(PFS_WASM_RELAXED=0\)\)/m);
});

test("asked for, the relaxed builds load (V8's flag on) and their products and convolutions agree with ref, on one thread and two", () => {
  const l = loadWasmBackend({ threaded: false, relaxed: 'on' });
  assert.ok(l.backend && l.relaxed, `the relaxed build did not load: ${l.reason}`);
  assert.ok(relaxedSimdSupported());
  assert.match(l.file, /pfs-relaxed\.wasm$/);
  const one = { kernels: l.backend.kernels };
  const two = load(true, 2, 'on');
  assert.ok(waitForWasmWorkers(two.runtime, 20_000), 'the worker thread did not start within 20 s');
  // odd sizes (edge tiles), a transposed B read in place, float32 and float64
  const [m, n, k] = [131, 77, 259];
  for (const f64 of [false, true]) {
    const arr = (len: number) => (f64 ? Float64Array.from(rand(len)) : rand(len));
    const a = arr(m * k);
    const b = arr(k * n);
    const args = (out: Float32Array | Float64Array): GemmArgs => ({ batch: 1, m, n, k, a, aOffsets: [0], aRowStride: k, aColStride: 1, b, bOffsets: [0], bRowStride: 1, bColStride: k, out });
    const mk = () => (f64 ? new Float64Array(m * n) : new Float32Array(m * n));
    const [c1, c2, want] = [mk(), mk(), mk()];
    one.kernels.gemm!(args(c1));
    two.kernels.gemm!(args(c2));
    refKernels.gemm(args(want));
    assert.deepEqual(c2, c1, 'two threads give the one-thread result');
    // |error| ≤ rtol · Σ|a||b| ≤ rtol · k · 4 for entries in [−2, 2)
    const tol = (f64 ? 1e-12 : 1e-5) * k * 4;
    for (let i = 0; i < want.length; i++) assert.ok(Math.abs(c1[i] - want[i]) <= tol, `${f64 ? 'f64' : 'f32'} element ${i}: ${c1[i]} vs ref ${want[i]}`);
  }
  const geom: Conv2dGeom = { n: 3, c: 6, h: 13, w: 11, o: 10, kh: 3, kw: 3, oh: 13, ow: 11, strideH: 1, strideW: 1, padH: 1, padW: 1, dilationH: 1, dilationW: 1, groups: 2 };
  const x = rand(3 * 6 * 13 * 11);
  const w = rand(10 * 3 * 9);
  const [y, yr] = [new Float32Array(3 * 10 * 13 * 11), new Float32Array(3 * 10 * 13 * 11)];
  one.kernels.conv2d!(x, w, geom, y);
  refKernels.conv2d(x, w, geom, yr);
  for (let i = 0; i < yr.length; i++) assert.ok(Math.abs(y[i] - yr[i]) <= 1e-4, `conv2d element ${i}: ${y[i]} vs ref ${yr[i]}`);
});

// ------------------------------------------------------------------ selection

test('PFS_BACKEND=wasm selects it, and pfs info says so', () => {
  const r = pfsInfo({ ...process.env, PFS_BACKEND: 'wasm' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^backend: wasm \(PFS_BACKEND\)$/m);
  assert.equal(r.stderr, '');
});

test('pfs bench --backend wasm --threads 2 runs the workload on two threads', () => {
  const args = [join(ROOT, 'dist/cli/pfs.js'), 'bench', 'sgemm-256', '--backend', 'wasm', '--threads', '2', '--runs', '1', '--warmup', '0', '--json'];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const line = JSON.parse(r.stdout.trim().split('\n').pop()!) as { name: string; backend: string; threads: number; gflops: number };
  assert.equal(line.name, 'sgemm-256');
  assert.equal(line.backend, 'wasm');
  assert.equal(line.threads, 2);
  assert.ok(line.gflops > 0);
});

test('the browser path: instantiateWasmBackend on the bytes of pfs.wasm', async () => {
  const { backend, runtime } = await instantiateWasmBackend(readFileSync(join(WASM_DIR, 'pfs.wasm')));
  assert.equal(backend.name, 'wasm');
  assert.equal(runtime.threaded, false);
  const [m, n, k] = [40, 50, 60];
  const a = rand(m * k);
  const b = rand(k * n);
  const args = (out: Float32Array): GemmArgs => ({ batch: 1, m, n, k, a, aOffsets: [0], aRowStride: k, aColStride: 1, b, bOffsets: [0], bRowStride: n, bColStride: 1, out });
  const [got, want] = [new Float32Array(m * n), new Float32Array(m * n)];
  backend.kernels.gemm!(args(got));
  refKernels.gemm(args(want));
  for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i] - want[i]) <= 1e-4, `element ${i}: ${got[i]} vs ref ${want[i]}`);
  await assert.rejects(instantiateWasmBackend(readFileSync(join(WASM_DIR, 'pfs-threads.wasm'))), /imports its memory/);
});

test('src/backend/wasm/index.ts and what it imports are browser-safe (no Node modules)', () => {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const code = readFileSync(file, 'utf8');
    for (const [, spec] of code.matchAll(/^(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm)) {
      assert.ok(spec.startsWith('.'), `${file} imports ${spec}, which a browser does not have`);
      visit(resolve(dirname(file), spec));
    }
  };
  visit(join(ROOT, 'dist/src/backend/wasm/index.js'));
  assert.ok(seen.has(join(ROOT, 'dist/src/backend/ref/index.js')), 'the import of the reference kernels was not followed');
});
