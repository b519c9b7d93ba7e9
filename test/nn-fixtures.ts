/**
 * test/fixtures/nn.json (written by test/fixtures/gen_nn.py): its format, a loader, and the element-wise
 * comparison that nn.test.ts and losses.test.ts use. Tensors are encoded as in ops.json (op-cases.ts).
 */
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { Tensor } from '../src/index.js';
import type { FixtureTensor } from './op-cases.js';

export { toTensor } from './op-cases.js';
export type { FixtureTensor } from './op-cases.js';

export interface LayerCase {
  name: string;
  mode: 'train' | 'eval';
  /** torch's state_dict before the forward passes. */
  state: Record<string, FixtureTensor>;
  /** One input per forward pass; the last pass is the one differentiated. */
  inputs: FixtureTensor[];
  output: FixtureTensor;
  upstream: FixtureTensor;
  /** null for integer inputs (Embedding's indices). */
  inputGrad: FixtureTensor | null;
  /** By parameter name, in torch's named_parameters order. */
  paramGrads: Record<string, FixtureTensor>;
  stateAfter: Record<string, FixtureTensor>;
}

export interface LossCase {
  name: string;
  inputs: FixtureTensor[];
  output: FixtureTensor;
  upstream: FixtureTensor;
  /** torch's gradient of each differentiable input; null for targets and masks. */
  grads: (FixtureTensor | null)[];
}

export interface NnFixtures {
  generator: string;
  layers: LayerCase[];
  losses: LossCase[];
  naming: { parameters: string[]; stateDict: string[]; modules: string[] };
  init: {
    gains: { nonlinearity: string; param: number | null; gain: number }[];
    fans: { shape: number[]; fanIn: number; fanOut: number }[];
  };
  numParameters: { lenet: number; lenetBN: number };
}

/** Reads test/fixtures/nn.json (found from the compiled test in dist/test/ or from the source in test/). */
export function loadNnFixtures(): NnFixtures {
  const url = new URL(import.meta.url.includes('/dist/test/') ? '../../test/fixtures/nn.json' : './fixtures/nn.json', import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as NnFixtures;
}

/** |actual − expected| ≤ atol + rtol·|expected|, element by element. */
export interface Tol {
  rtol: number;
  atol: number;
}
export const FLOAT64: Tol = { rtol: 1e-9, atol: 1e-12 };
// float32 keeps ~7 digits, and the inputs are rounded to float32 before the layer runs.
export const FLOAT32: Tol = { rtol: 1e-4, atol: 1e-5 };

/** Asserts that a tensor has the expected shape and values (within tol); the first bad element is reported. */
export function assertClose(actual: Tensor | null, expected: FixtureTensor, tol: Tol, what: string): void {
  assert.ok(actual !== null, `${what}: missing (null), torch has a tensor of shape [${expected.shape}]`);
  assert.deepEqual([...actual.shape], expected.shape, `${what}: shape [${actual.shape}] vs torch's [${expected.shape}]`);
  const got = actual.toTypedArray();
  expected.values.forEach((e, i) => {
    const err = Math.abs(got[i] - e);
    if (!(err <= tol.atol + tol.rtol * Math.abs(e))) {
      assert.fail(`${what}: element ${i} is ${got[i]}, torch says ${e} (rtol ${tol.rtol}, atol ${tol.atol})`);
    }
  });
}
