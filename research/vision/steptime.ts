/**
 * Time of one training step (forward, backward, SGD update) of a vision net on random images, to size
 * the presets: `node dist/research/vision/steptime.js NET SIZE [BATCH=128] [STEPS=3]`. Prints, over STEPS
 * steps after one warm-up step, the median wall time and the median CPU time of this process (user +
 * system, all threads). On a machine shared with other jobs the wall time grows with their load, the
 * CPU time much less: with PFS_THREADS=1 it estimates the wall time of one thread on an idle machine.
 */
import '../../src/backend/auto.js';
import { tuneMalloc } from '../../src/backend/native/index.js';
import { backendInfo } from '../../src/backend/registry.js';
import { crossEntropy } from '../../src/nn/losses.js';
import { SGD } from '../../src/optim/sgd.js';
import { Generator } from '../../src/tensor/rng.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { findVisionNet } from '../../papers/vision/nets.js';

export interface StepTime {
  wallMs: number;
  cpuMs: number;
}

/** One training step of the net (forward, cross-entropy, backward, SGD update) on a fixed batch of random images. */
export function randomTrainStep(name: string, size: number, batch: number): () => void {
  const g = new Generator(0);
  const net = findVisionNet(name).build({ size, generator: g, dropout: g });
  const opt = new SGD(net.parameters(), { lr: 0.01 });
  const x = Tensor.rand([batch, 1, size, size], { generator: g });
  const y = Tensor.from(Array.from({ length: batch }, (_, i) => i % 10), { dtype: 'int32' });
  return () => {
    const loss = crossEntropy(net.forward(x), y);
    opt.zeroGrad();
    loss.backward();
    opt.step();
    loss.item();
  };
}

export function stepTimes(name: string, size: number, batch: number, steps: number): StepTime[] {
  const step = randomTrainStep(name, size, batch);
  const times: StepTime[] = [];
  for (let s = 0; s <= steps; s++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    step();
    const c = process.cpuUsage(c0);
    if (s > 0) times.push({ wallMs: performance.now() - t0, cpuMs: (c.user + c.system) / 1000 }); // step 0 warms up
  }
  return times;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  tuneMalloc(); // time steps as `pfs` runs them: glibc malloc keeping freed memory (PFS_MALLOC_TUNING=0: not)
  const [name, size, batch = '128', steps = '3'] = process.argv.slice(2);
  if (!name || !size) {
    process.stderr.write('usage: node dist/research/vision/steptime.js NET SIZE [BATCH=128] [STEPS=3]\n');
    process.exit(2);
  }
  const t = stepTimes(name, Number(size), Number(batch), Number(steps));
  const median = (v: number[]) => v.sort((a, b) => a - b)[Math.floor(v.length / 2)];
  const wall = median(t.map((s) => s.wallMs));
  const cpu = median(t.map((s) => s.cpuMs));
  const b = backendInfo();
  process.stdout.write(
    `${name} ${size}×${size} batch ${batch} (${b.name}, ${process.env.PFS_THREADS ?? 'default'} threads): ` +
      `wall ${wall.toFixed(0)} ms/step, cpu ${cpu.toFixed(0)} ms/step (medians of ${t.length}), ${((Number(batch) * 1000) / cpu).toFixed(0)} images per cpu-second\n`,
  );
}
