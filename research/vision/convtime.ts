/**
 * Where a vision net's training step spends its convolution time:
 * `node dist/research/vision/convtime.js NET SIZE [BATCH=128] [STEPS=5] [TOP=30]`. Runs STEPS training
 * steps (after one warm-up step) on random images, timing every call of the backend's three conv2d
 * kernels, and prints per kernel and geometry the milliseconds a step, the rate in GFLOP/s (2 flops a
 * multiply-add of the geometry as given, so a kernel that skips padding reads looks slower than it
 * is), the TOP largest first, then the total. Threads: PFS_THREADS.
 */
import '../../src/backend/auto.js';
import { tuneMalloc } from '../../src/backend/native/index.js';
import { K } from '../../src/backend/registry.js';
import type { Conv2dGeom } from '../../src/backend/kernels.js';
import { randomTrainStep } from './steptime.js';

export interface ConvTime {
  kernel: string;
  geom: Conv2dGeom;
  msPerStep: number;
  gflops: number;
}

export function convTimes(name: string, size: number, batch: number, steps: number): ConvTime[] {
  const timed = new Map<string, { kernel: string; geom: Conv2dGeom; ms: number; calls: number }>();
  let on = false;
  const kernels = ['conv2d', 'conv2dBackwardInput', 'conv2dBackwardWeight'] as const;
  const saved = kernels.map((k) => K[k]);
  kernels.forEach((kernel, i) => {
    const f = saved[i];
    K[kernel] = (a, b, geom, out) => {
      const t0 = performance.now();
      f(a, b, geom, out);
      if (!on) return;
      const key = `${kernel} ${JSON.stringify(geom)}`;
      const e = timed.get(key) ?? { kernel, geom: { ...geom }, ms: 0, calls: 0 };
      e.ms += performance.now() - t0;
      e.calls++;
      timed.set(key, e);
    };
  });
  try {
    const step = randomTrainStep(name, size, batch);
    for (let s = 0; s <= steps; s++) {
      on = s > 0; // step 0 warms up
      step();
    }
  } finally {
    kernels.forEach((kernel, i) => (K[kernel] = saved[i]));
  }
  return [...timed.values()]
    .map(({ kernel, geom: q, ms, calls }) => {
      const flops = 2 * q.n * q.o * q.oh * q.ow * (q.c / q.groups) * q.kh * q.kw;
      return { kernel, geom: q, msPerStep: ms / steps, gflops: flops / (ms / calls) / 1e6 };
    })
    .sort((a, b) => b.msPerStep - a.msPerStep);
}

if (process.argv[1]?.endsWith('convtime.js')) {
  tuneMalloc(); // time steps as `pfs` runs them: glibc malloc keeping freed memory (PFS_MALLOC_TUNING=0: not)
  const [name, size, batch = '128', steps = '5', top = '30'] = process.argv.slice(2);
  if (!name || !size) throw new Error('usage: node dist/research/vision/convtime.js NET SIZE [BATCH=128] [STEPS=5] [TOP=30]');
  const rows = convTimes(name, Number(size), Number(batch), Number(steps));
  for (const { kernel, geom: q, msPerStep, gflops } of rows.slice(0, Number(top))) {
    const shape = `n${q.n} c${q.c} ${q.h}×${q.w} → o${q.o} ${q.oh}×${q.ow}, kernel ${q.kh}×${q.kw} stride ${q.strideH} pad ${q.padH} groups ${q.groups}`;
    console.log(`${msPerStep.toFixed(2).padStart(8)} ms ${gflops.toFixed(0).padStart(5)} GFLOP/s  ${kernel.padEnd(20)} ${shape}`);
  }
  console.log(`conv kernels: ${rows.reduce((t, r) => t + r.msPerStep, 0).toFixed(1)} ms a step (${rows.length} kernel geometries)`);
}
