/** What the interop tests share: a small config of each paper, weights drawn anew, relative differences. */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { noGrad } from '../src/autograd/mode.js';
import { loadSafetensors } from '../src/io/atomic.js';
import type { Module } from '../src/nn/module.js';
import { Generator } from '../src/tensor/rng.js';
import { Tensor } from '../src/tensor/tensor.js';
import { VISION_PAPERS } from '../papers/vision/papers.js';

export const FIXTURES = resolve(dirname(fileURLToPath(import.meta.url)), '../../test/fixtures/interop');

/** The papers with a torch-made fixture (scripts/torch_twin.py fixtures). */
export const FIXTURE_PAPERS = readdirSync(FIXTURES).filter((f) => f.endsWith('.probe.safetensors')).map((f) => f.replace('.probe.safetensors', ''));

/** A small config of each paper: its fixture's, else (the vision nets) the cpu preset's input size. */
export async function smallConfig(paper: string): Promise<Record<string, unknown>> {
  if (FIXTURE_PAPERS.includes(paper)) return JSON.parse((await loadSafetensors(join(FIXTURES, `${paper}.safetensors`))).metadata.config);
  const v = VISION_PAPERS.find((p) => p.name === paper);
  assert.ok(v, `no small config for ${paper}`);
  return { size: v.presets.cpu.config.size };
}

/** max |a − b| / max |b| over all elements. */
export function relDiff(a: Tensor | ArrayLike<number>, b: Tensor | ArrayLike<number>): number {
  const x = a instanceof Tensor ? a.contiguous().toTypedArray() : a;
  const y = b instanceof Tensor ? b.contiguous().toTypedArray() : b;
  assert.equal(x.length, y.length, `sizes ${x.length} and ${y.length}`);
  let d = 0;
  let s = 0;
  for (let i = 0; i < x.length; i++) {
    d = Math.max(d, Math.abs(Number(x[i]) - Number(y[i])));
    s = Math.max(s, Math.abs(Number(y[i])));
  }
  return d / Math.max(s, 1e-30);
}

/**
 * Every floating tensor of a model drawn anew, so that no two are alike: matrices N(0, 1/fan-in) (deep nets'
 * outputs stay finite and varied), vectors N(0, 0.5²), BatchNorm's running variances in [0.5, 1.5).
 */
export function randomize(m: Module, seed: number): void {
  const g = new Generator(seed);
  noGrad(() => {
    for (const [k, t] of Object.entries(m.stateDict())) {
      if (t.dtype !== 'float32') continue;
      const fan = t.ndim >= 2 ? t.numel / t.shape[0] : 0;
      const r = k.endsWith('running_var') ? Tensor.rand(t.shape, { generator: g }).add(0.5) : Tensor.randn(t.shape, { generator: g }).mul(fan ? 1 / Math.sqrt(fan) : 0.5);
      t.copy_(r);
    }
  });
}
