/**
 * Where the time of a skip-gram training step goes (bench's `skipgram` workload: papers/skip-gram's d2l
 * step on its synthetic batch of 512 centres): the forward pass to the loss, forward + backward, and the
 * Adam step alone, each timed over N runs after 3 untimed ones; min and median in ms. Its PyTorch
 * counterpart is steptime_torch.py.
 *
 *   node dist/research/skip-gram/steptime.js [THREADS=1] [RUNS=40]
 */
import '../../src/node.js';
import { setNumThreads, tuneMalloc } from '../../src/backend/native/index.js';
import { skipGramStepBench } from '../../bench/workloads.js';
import { skipGramLoss } from '../../papers/skip-gram/model.js';

export interface PartTime {
  part: string;
  minMs: number;
  medianMs: number;
}

/** The parts of one step, each timed `runs` times. */
export function stepParts(runs = 40): PartTime[] {
  const { model, optimizer, batch } = skipGramStepBench();
  const [centres, words, mask, labels] = batch;
  const [B, L] = words.shape;
  const forward = () => skipGramLoss(model.forward(centres, words).reshape([B, L]), labels, mask).sum();
  const time = (part: string, f: () => unknown): PartTime => {
    for (let i = 0; i < 3; i++) f();
    const ts: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      f();
      ts.push(performance.now() - t0);
    }
    ts.sort((a, b) => a - b);
    return { part, minMs: ts[0], medianMs: ts[runs >> 1] };
  };
  return [
    time('forward (lookups, scores, loss)', () => forward().item()),
    time('forward + backward', () => {
      optimizer.zeroGrad();
      forward().backward();
    }),
    time('Adam step', () => optimizer.step()),
  ];
}

if (process.argv[1]?.endsWith('steptime.js')) {
  tuneMalloc();
  setNumThreads(Number(process.argv[2] ?? 1));
  for (const r of stepParts(Number(process.argv[3] ?? 40))) console.log(`${r.part}: min ${r.minMs.toFixed(2)} ms, median ${r.medianMs.toFixed(2)} ms`);
}
