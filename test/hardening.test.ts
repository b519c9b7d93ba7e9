/**
 * Hardening: inputs that used to give an engine's raw error, a crash or a silently wrong answer now
 * get a clear error naming the function called, what it expected and what came (or, where PyTorch
 * gives a result, the right one):
 *  - tensor sizes are checked at allocation against MAX_NUMEL (2**31 − 1 elements);
 *  - int32 creation refuses values outside int32's range and non-integers; integer sums are exact
 *    or refused;
 *  - copy_ between overlapping views of one buffer copies through a temporary;
 *  - the wasm backend hands a call too large for its memory to ref;
 *  - composites (softmax, logsumexp, ...) name themselves in their dim errors;
 *  - bad PFS_* environment variables give one line and exit status 2 from `pfs`.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkBackendEnv } from '../src/backend/auto.js';
import { arange, eye, full, linspace, ones, randint, scalar, tensor, Tensor, zeros } from '../src/index.js';
import { MAX_NUMEL } from '../src/tensor/dtype.js';
import type { View } from '../src/backend/kernels.js';
import { refKernels } from '../src/backend/ref/index.js';
import { wasmKernels, type Part } from '../src/backend/wasm/index.js';
import { loadWasmBackend } from '../src/backend/wasm/node.js';

// ------------------------------------------------------------------ sizes

test('a tensor over MAX_NUMEL elements is refused with its shape and the bytes it would need', () => {
  assert.equal(MAX_NUMEL, 2 ** 31 - 1);
  assert.throws(() => zeros([1e6, 1e6]), {
    name: 'RangeError',
    message: /^zeros: shape \[1000000, 1000000\] has 1000000000000 elements, which would need 4000000000000 bytes \(4\.0 TB\) as float32; a tensor holds at most 2147483647/,
  });
  // just over the limit: refused before any memory is asked for (it used to take 8 GB)
  assert.throws(() => zeros([2 ** 31]), { name: 'RangeError', message: /^zeros: shape \[2147483648\] has 2147483648 elements, which would need 8589934592 bytes/ });
  assert.throws(() => ones([2 ** 16, 2 ** 16], { dtype: 'float64' }), { message: /^ones: .*34359738368 bytes \(34\.4 GB\) as float64/ });
  assert.throws(() => full([2 ** 20, 2 ** 12], 1, { dtype: 'bool' }), { message: /^full: shape \[1048576, 4096\] .* as bool/ });
  assert.throws(() => Tensor.randn([2 ** 31]), { message: /^randn: shape \[2147483648\]/ });
  assert.throws(() => Tensor.rand([2 ** 31]), { message: /^rand: shape \[2147483648\]/ });
  assert.throws(() => randint(0, 2, [2 ** 31]), { message: /^randint: shape \[2147483648\]/ });
  assert.throws(() => eye(2 ** 16), { message: /^eye: shape \[65536, 65536\]/ });
  assert.throws(() => arange(0, 2 ** 31), { message: /^arange: shape \[2147483648\]/ });
  assert.throws(() => linspace(0, 1, 2 ** 31), { message: /^linspace: shape \[2147483648\]/ });
  // an op's output is checked too
  assert.throws(() => zeros([2 ** 16, 1]).mul(zeros([1, 2 ** 16])), { name: 'RangeError', message: /shape \[65536, 65536\] has 4294967296 elements/ });
});

test('non-integer, negative and non-finite dims are refused, naming the function called', () => {
  for (const shape of [[2.5], [-1], [2, NaN], [Infinity]]) {
    assert.throws(() => zeros(shape), { name: 'RangeError', message: /^zeros: shape must hold non-negative integers/ });
    assert.throws(() => ones(shape), { name: 'RangeError', message: /^ones: shape must hold non-negative integers/ });
    assert.throws(() => full(shape, 1), { name: 'RangeError', message: /^full: shape must hold non-negative integers/ });
  }
  assert.throws(() => eye(-2), { message: /^eye: shape must hold non-negative integers, got \[-2, -2\]/ });
  assert.equal(zeros([0, 3]).numel, 0);
});

// ------------------------------------------------------------------ int32

test('int32 creation refuses values outside int32 and non-integers instead of wrapping them', () => {
  const overflow = /cannot be converted to int32 without overflow \(int32 holds -2147483648\.\.2147483647\)/;
  assert.throws(() => tensor([3e9], { dtype: 'int32' }), { name: 'RangeError', message: /^Tensor\.from: value 3000000000 cannot be converted to int32 without overflow/ });
  assert.throws(() => tensor([1, -(2 ** 31) - 1], { dtype: 'int32' }), { message: overflow });
  assert.throws(() => tensor([1.5], { dtype: 'int32' }), { message: /^Tensor\.from: value 1\.5 cannot be converted to int32: expected a whole number/ });
  assert.throws(() => tensor(new Float64Array([NaN]), { dtype: 'int32' }), { message: /^Tensor\.from: value NaN cannot be converted to int32/ });
  assert.throws(() => full([3], 2 ** 31, { dtype: 'int32' }), { message: /^full: value 2147483648 cannot be converted/ });
  assert.throws(() => full([3], Infinity, { dtype: 'int32' }), { message: /^full: value Infinity cannot be converted/ });
  assert.throws(() => scalar(2 ** 40, 'int32'), { message: /^scalar: value 1099511627776/ });
  assert.throws(() => arange(2 ** 31 - 2, 2 ** 31 + 1), { message: /^arange: value 2147483648 cannot be converted/ });
  assert.throws(() => arange(0, 1, 0.5, { dtype: 'int32' }), { message: /^arange: value 0\.5 cannot be converted/ });
  assert.throws(() => linspace(0, 1, 3, { dtype: 'int32' }), { message: /^linspace: value 0\.5 cannot be converted/ });
  assert.throws(() => randint(0, 2 ** 32, [2]), { message: /^randint: expected whole numbers -2147483648 ≤ low < high ≤ 2147483648 .*got \[0, 4294967296\)/ });
  assert.throws(() => zeros([2], { dtype: 'int32' }).fill_(3e9), { message: /^fill_: value 3000000000 cannot be converted/ });
  assert.throws(() => zeros([2], { dtype: 'int32' }).pad([1, 1], 0.5), { message: /^pad: value 0\.5 cannot be converted/ });
  assert.throws(() => zeros([2], { dtype: 'int32' }).maskedFill(tensor([true, false]), 2 ** 31), { message: /^maskedFill: value 2147483648/ });
  assert.throws(() => arange(3).add(3e9), { message: /^add: value 3000000000 cannot be converted to int32 without overflow/ });
  // the edges of the range are fine
  assert.deepEqual(tensor([2 ** 31 - 1, -(2 ** 31)], { dtype: 'int32' }).toArray(), [2147483647, -2147483648]);
  assert.deepEqual(full([2], -(2 ** 31), { dtype: 'int32' }).toArray(), [-2147483648, -2147483648]);
  assert.deepEqual(randint(2 ** 31 - 1, 2 ** 31, [2]).toArray(), [2147483647, 2147483647]);
  // bool and float creation are unchanged
  assert.deepEqual(tensor([3e9, 0.5], { dtype: 'bool' }).toArray(), [true, true]);
  assert.deepEqual(tensor([3e9], { dtype: 'float64' }).toArray(), [3e9]);
});

test('integer sums are exact, and a sum that does not fit in int32 is refused', () => {
  assert.throws(() => full([3], 2 ** 31 - 1, { dtype: 'int32' }).sum(), {
    name: 'RangeError',
    message: /^sum: the sum 6442450941 of this int32 tensor does not fit in int32 \(-2147483648\.\.2147483647\).*x\.double\(\)\.sum\(\)/,
  });
  assert.throws(() => full([2, 2], -(2 ** 30), { dtype: 'int32' }).sum(1).sum(), { message: /^sum: the sum -4294967296 / });
  assert.throws(() => full([2, 3], 2 ** 30, { dtype: 'int32' }).sum(1), { message: /^sum: the sum 3221225472 / });
  assert.deepEqual(full([2, 2], 2 ** 30 - 1, { dtype: 'int32' }).sum(1).toArray(), [2 ** 31 - 2, 2 ** 31 - 2]);
  assert.equal(full([3], 2 ** 31 - 1, { dtype: 'int32' }).double().sum().item(), 3 * (2 ** 31 - 1));
  // dims that are not adjacent, and bool sums
  const s = ones([2, 3, 4], { dtype: 'int32' }).sum([0, 2]);
  assert.equal(s.dtype, 'int32');
  assert.deepEqual(s.toArray(), [8, 8, 8]);
  assert.deepEqual(tensor([[true, false], [true, true]]).sum(0).toArray(), [2, 1]);
  // exact even where the running sum passes 2**53 (a float64 running sum would round there)
  const n = 2 ** 22 + 8;
  const big = new Int32Array(2 * n + 1);
  big.fill(2 ** 31 - 1, 0, n);
  big.fill(-(2 ** 31 - 1), n, 2 * n);
  big[2 * n] = 5;
  assert.equal(tensor(big).sum().item(), 5);
});

// ------------------------------------------------------------------ composites name themselves

test("composites report a bad dim under their own name, not the op they delegate to", () => {
  const x = zeros([2, 3]);
  const range = 'is out of range for a tensor of 2 dims \\(expected -2\\.\\.1\\)';
  const cases: [string, () => unknown][] = [
    ['softmax', () => x.softmax(3)],
    ['logSoftmax', () => x.logSoftmax(-3)],
    ['logsumexp', () => x.logsumexp(2)],
    ['mean', () => x.mean(3)],
    ['var', () => x.var([0, 3])],
  ];
  for (const [op, f] of cases) {
    assert.throws(f, { name: 'RangeError', message: new RegExp(`^${op}: dim -?\\d ${range}`) }, op);
  }
  assert.throws(() => x.softmax(1.5), { message: /^softmax: dim 1\.5 is out of range/ });
  // valid dims still work, negative ones included
  assert.deepEqual(ones([2, 2]).softmax(-1).toArray(), [[0.5, 0.5], [0.5, 0.5]]);
});

// ------------------------------------------------------------------ overlapping copies

test('copy_ between overlapping views of one buffer gives what a copy from a snapshot gives', () => {
  const a = arange(9).reshape([3, 3]).float();
  a.T.copy_(a);
  assert.deepEqual(a.toArray(), [[0, 3, 6], [1, 4, 7], [2, 5, 8]]);
  // strided destination over an overlapping, shifted source (with a dtype the same and a broadcast)
  const check = (dest: (x: Tensor) => Tensor, src: (x: Tensor) => Tensor) => {
    const x = arange(12).float();
    const y = x.clone();
    dest(y).copy_(src(y).clone()); // the expected result: the source copied out first
    dest(x).copy_(src(x));
    assert.deepEqual(x.toArray(), y.toArray());
  };
  check((x) => x.slice(0, 0, 12, 2), (x) => x.slice(0, 1, 7));
  check((x) => x.slice(0, 1, 12, 2), (x) => x.slice(0, 0, 6));
  check((x) => x.reshape([3, 4]).T, (x) => x.reshape([4, 3]));
  check((x) => x.reshape([3, 4]).slice(1, 0, 4, 2), (x) => x.slice(0, 2, 4));
  check((x) => x.slice(0, 0, 10), (x) => x.slice(0, 2, 12)); // contiguous both: TypedArray.set's case
  // the exact same view is a no-op, as in PyTorch
  const b = arange(6).reshape([2, 3]).float();
  b.copy_(b);
  b.T.copy_(b.T);
  assert.deepEqual(b.toArray(), [[0, 1, 2], [3, 4, 5]]);
  const v = b.version;
  b.copy_(b.detach());
  assert.equal(b.version, v + 1);
});

// ------------------------------------------------------------------ wasm: calls too large for the module

test('the wasm backend runs a call larger than its memory can take in ref, without a RangeError', () => {
  const l = loadWasmBackend({ threaded: false, threads: 1 });
  assert.ok(l.backend, l.reason);
  const rt = l.runtime;
  assert.equal(rt.maxBlockBytes, 2 ** 31);
  // A 2**30 + 16 float32 operand is 4 GiB + 64 bytes: the allocator's size would wrap to 64 bytes
  // (the RangeError of a big mul); now the block is declined before anything is allocated or copied.
  let called = false;
  const huge: Part = { data: new Float32Array(16), start: 0, end: 2 ** 30 + 16, role: 'in' };
  assert.equal(rt.run([huge], () => ((called = true), 0), 'test'), false);
  assert.equal(called, false);
  // Over a lowered limit, an op's call falls back to ref for that call and gives ref's result.
  const n = 2048;
  const a = Float32Array.from({ length: n }, (_, i) => i * 0.5 - 3);
  const b = Float32Array.from({ length: n }, (_, i) => 1 / (i + 1));
  const view = (data: Float32Array): View => ({ data, offset: 0, shape: [n], strides: [1] });
  const want = new Float32Array(n);
  refKernels.binary('mul', view(a), view(b), want);
  const K = wasmKernels(rt);
  const ran: boolean[] = [];
  const run = rt.run.bind(rt);
  rt.run = (parts, fn, what) => {
    const r = run(parts, fn, what);
    ran.push(r);
    return r;
  };
  const got = new Float32Array(n);
  K.binary!('mul', view(a), view(b), got);
  assert.deepEqual(ran, [true]); // in the module: 3 × 8 KiB
  rt.maxBlockBytes = 16 * 1024;
  got.fill(0);
  K.binary!('mul', view(a), view(b), got);
  assert.deepEqual(ran, [true, false]); // declined: the reference kernel ran
  assert.deepEqual(got, want);
});

// ------------------------------------------------------------------ the environment

const PFS = resolve(dirname(fileURLToPath(import.meta.url)), '../cli/pfs.js');
/** The PFS_* variables the backends read, removed from this process's environment. */
const BACKEND_VARS = ['PFS_BACKEND', 'PFS_THREADS', 'PFS_WASM_RELAXED', 'PFS_MALLOC_TUNING', 'PFS_DEBUG'];
const cleanEnv = (): NodeJS.ProcessEnv => {
  const env = { ...process.env };
  for (const k of BACKEND_VARS) delete env[k];
  return env;
};

test('checkBackendEnv accepts what the variables document and names the first bad one', () => {
  const ok = [
    {}, { PFS_BACKEND: 'ref' }, { PFS_BACKEND: 'wasm' }, { PFS_BACKEND: 'native' }, { PFS_BACKEND: '' },
    { PFS_THREADS: '1' }, { PFS_THREADS: '64' }, { PFS_WASM_RELAXED: '0' }, { PFS_WASM_RELAXED: '1' },
    { PFS_MALLOC_TUNING: '0' }, { PFS_MALLOC_TUNING: '1' }, { PFS_MALLOC_TUNING: '' },
  ];
  for (const env of ok) assert.doesNotThrow(() => checkBackendEnv(env), JSON.stringify(env));
  assert.throws(() => checkBackendEnv({ PFS_BACKEND: 'Native' }), { name: 'RangeError', message: /^PFS_BACKEND must be native, wasm or ref .*got "Native"$/ });
  assert.throws(() => checkBackendEnv({ PFS_THREADS: '65' }), { message: /^PFS_THREADS must be a whole number from 1 to 64 .*got "65"$/ });
  assert.throws(() => checkBackendEnv({ PFS_MALLOC_TUNING: 'yes' }), { message: /^PFS_MALLOC_TUNING must be 1 .* or 0 .*got "yes"$/ });
});

test('a bad PFS_* variable makes pfs print one line naming it and exit 2, with no stack trace', () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ PFS_BACKEND: 'bogus' }, /^pfs: PFS_BACKEND must be native, wasm or ref \(or unset: the fastest available\), got "bogus"\n$/],
    [{ PFS_THREADS: 'abc' }, /^pfs: PFS_THREADS must be a whole number from 1 to 64 \(or unset: one per core\), got "abc"\n$/],
    [{ PFS_THREADS: '0' }, /^pfs: PFS_THREADS must be a whole number from 1 to 64 .*, got "0"\n$/],
    [{ PFS_WASM_RELAXED: 'abc' }, /^pfs: PFS_WASM_RELAXED must be 1 \(.*\) or 0 \(never\), or unset .*, got "abc"\n$/],
    [{ PFS_MALLOC_TUNING: 'abc' }, /^pfs: PFS_MALLOC_TUNING must be 1 \(.*\) or 0 \(keep glibc's defaults\), got "abc"\n$/],
  ];
  for (const [bad, message] of cases) {
    const r = spawnSync(process.execPath, [PFS, 'info'], { encoding: 'utf8', env: { ...cleanEnv(), ...bad } });
    assert.equal(r.status, 2, `${JSON.stringify(bad)}: exit ${r.status}, stderr ${r.stderr}`);
    assert.match(r.stderr, message, JSON.stringify(bad));
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    assert.equal(r.stdout, '');
  }
  // the documented values still run
  for (const good of [{ PFS_MALLOC_TUNING: '1' }, { PFS_BACKEND: 'ref', PFS_THREADS: '1', PFS_WASM_RELAXED: '0' }]) {
    const r = spawnSync(process.execPath, [PFS, 'info'], { encoding: 'utf8', env: { ...cleanEnv(), ...good } });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^backend: /m);
  }
});
