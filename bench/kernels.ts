/**
 * Kernel timings per backend: median milliseconds of
 *   - gemm n×n×n for n = 256, 512, 1024 (and its GFLOP/s),
 *   - LeNet's two convolutions at batch 256, forward / input gradient / weight gradient,
 *   - the max poolings of one GoogLeNet step at 28×28, batch 128 (its 13 poolings), forward and backward,
 *   - one LeNet training step at batch 256 (forward, backward, SGD update; papers/lenet).
 *
 *   npx tsc -p . && node dist/bench/kernels.js [--backends ref,native] [--quick]
 *
 * Each measurement repeats until 1.5 s have passed (at most 25 times, at least once after a warm-up
 * run) and prints the median and the fastest run (on a busy machine the fastest is the better
 * guide). --quick skips ref's slowest cases (gemm 1024 and the train step).
 * Threads: PFS_THREADS (default: every core). The load average is printed: compare runs made at a low one.
 */
import { loadavg } from 'node:os';
import { K, availableBackends, useBackend } from '../src/backend/registry.js';
import { nativeStatus } from '../src/backend/auto.js';
import { tuneMalloc } from '../src/backend/native/index.js';
import type { Conv2dGeom, Pool2dGeom } from '../src/backend/kernels.js';
import { Generator } from '../src/tensor/rng.js';
import { Tensor } from '../src/tensor/tensor.js';
import { crossEntropy } from '../src/nn/index.js';
import { SGD } from '../src/optim/sgd.js';
import { googlenet } from '../papers/googlenet/model.js';
import { lenet, xavierInit } from '../papers/lenet/model.js';

tuneMalloc(); // time steps as `pfs` runs them: with glibc malloc keeping freed memory (PFS_MALLOC_TUNING=0: not)

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const bi = args.indexOf('--backends');
const backends = bi >= 0 ? args[bi + 1].split(',') : availableBackends();
for (const b of backends) {
  if (!availableBackends().includes(b)) {
    throw new Error(`unknown backend ${JSON.stringify(b)}: available are ${availableBackends().join(', ')} (native: ${nativeStatus().reason})`);
  }
}

/** Wall times of f in ms (median and fastest): one warm-up call, then repeats until 1.5 s or 25 runs. */
function time(f: () => void): { median: number; min: number } {
  f();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < 25 && (times.length === 0 || performance.now() - start < 1500)) {
    const t0 = performance.now();
    f();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)], min: times[0] };
}

const g = new Generator(0);
const randn = (n: number): Float32Array => Float32Array.from({ length: n }, () => g.normal());

const fmt = (ms: number): string => ms.toFixed(ms < 10 ? 3 : 1).padStart(9);

/** One line: backend, what, median and fastest time, and anything derived from the median. */
function row(backend: string, what: string, t: { median: number; min: number }, extra = ''): void {
  process.stdout.write(`${backend.padEnd(7)} ${what.padEnd(44)} ${fmt(t.median)} ms (min ${fmt(t.min)})  ${extra}\n`);
}

function gemmBench(backend: string, n: number): void {
  const a = randn(n * n);
  const b = randn(n * n);
  const out = new Float32Array(n * n);
  const t = time(() =>
    K.gemm({ batch: 1, m: n, n, k: n, a, aOffsets: [0], aRowStride: n, aColStride: 1, b, bOffsets: [0], bRowStride: n, bColStride: 1, out }),
  );
  const gflops = (ms: number): string => ((2 * n ** 3) / ms / 1e6).toFixed(1);
  row(backend, `gemm ${n}×${n}×${n} float32`, t, `${gflops(t.median)} GFLOP/s (best ${gflops(t.min)})`);
}

/** LeNet's convolutions at batch 256 (d2l's setup). */
const LENET_CONVS: [string, Conv2dGeom][] = [
  ['conv1 (256,1,28,28)→(256,6,28,28) 5×5 pad 2', { n: 256, c: 1, h: 28, w: 28, o: 6, kh: 5, kw: 5, oh: 28, ow: 28, strideH: 1, strideW: 1, padH: 2, padW: 2, dilationH: 1, dilationW: 1, groups: 1 }],
  ['conv2 (256,6,14,14)→(256,16,10,10) 5×5', { n: 256, c: 6, h: 14, w: 14, o: 16, kh: 5, kw: 5, oh: 10, ow: 10, strideH: 1, strideW: 1, padH: 0, padW: 0, dilationH: 1, dilationW: 1, groups: 1 }],
];

function convBench(backend: string, name: string, geo: Conv2dGeom): void {
  const x = randn(geo.n * geo.c * geo.h * geo.w);
  const w = randn(geo.o * (geo.c / geo.groups) * geo.kh * geo.kw);
  const y = new Float32Array(geo.n * geo.o * geo.oh * geo.ow);
  const dy = randn(y.length);
  const dx = new Float32Array(x.length);
  const dw = new Float32Array(w.length);
  row(backend, `${name} fwd`, time(() => K.conv2d(x, w, geo, y)));
  row(backend, `${name} dx`, time(() => K.conv2dBackwardInput(dy, w, geo, dx)));
  row(backend, `${name} dw`, time(() => K.conv2dBackwardWeight(dy, x, geo, dw)));
}

/**
 * The max poolings of a GoogLeNet forward pass at 28×28 (papers/googlenet), in the order it meets
 * them, as the kernel is called with them: recorded by running the net once on one image with
 * K.maxPool2d wrapped, then scaled to batch 128. They are the 3×3/2 pools between stages and the
 * 3×3/1 pool of every Inception block; most planes are tiny (4×4, 2×2, 1×1).
 */
function googlenetPoolGeoms(batch: number): Pool2dGeom[] {
  const geoms: Pool2dGeom[] = [];
  const saved = K.maxPool2d;
  K.maxPool2d = (x, geom, out, argmax) => {
    geoms.push({ ...geom, planes: geom.planes * batch });
    saved(x, geom, out, argmax);
  };
  try {
    googlenet({ size: 28, generator: new Generator(0) }).forward(Tensor.zeros([1, 1, 28, 28]));
  } finally {
    K.maxPool2d = saved;
  }
  return geoms;
}

function googlenetPools(backend: string): void {
  const shapes = googlenetPoolGeoms(128).map((geom) => {
    const x = randn(geom.planes * geom.h * geom.w);
    const n = geom.planes * geom.oh * geom.ow;
    return { geom, x, out: new Float32Array(n), argmax: new Int32Array(n), dy: randn(n), dx: new Float32Array(x.length) };
  });
  row(backend, 'GoogLeNet 28×28 max pools, batch 128, fwd', time(() => shapes.forEach((p) => K.maxPool2d(p.x, p.geom, p.out, p.argmax))));
  row(backend, 'GoogLeNet 28×28 max pools, batch 128, bwd', time(() => shapes.forEach((p) => K.maxPool2dBackward(p.dy, p.argmax, p.geom, p.dx))));
}

function lenetStep(backend: string): void {
  const gen = new Generator(1);
  const net = lenet(gen);
  xavierInit(net, gen);
  const opt = new SGD(net.parameters(), { lr: 0.9 });
  const x = Tensor.randn([256, 1, 28, 28], { generator: gen });
  const y = Tensor.from(Array.from({ length: 256 }, (_, i) => i % 10), { dtype: 'int32' });
  const t = time(() => {
    opt.zeroGrad();
    const loss = crossEntropy(net.forward(x), y);
    loss.backward();
    opt.step();
  });
  row(backend, 'LeNet train step, batch 256', t);
}

process.stdout.write(`native: ${nativeStatus().reason}; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
for (const backend of backends) {
  useBackend(backend);
  const slow = backend === 'ref';
  for (const n of [256, 512, 1024]) if (!(slow && quick && n > 512)) gemmBench(backend, n);
  for (const [name, geo] of LENET_CONVS) convBench(backend, name, geo);
  googlenetPools(backend);
  if (!(slow && quick)) lenetStep(backend);
}
