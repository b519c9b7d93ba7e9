/**
 * Every op against PyTorch: each case of test/fixtures/ops.json (see gen_ops.py there) runs through the
 * matching function of op-cases.ts, in float64 with a tight tolerance and in float32 with a loose one;
 * its output and, for differentiable ops, the gradient of each floating input (backward from the
 * fixture's upstream gradient) must match torch's. The coverage tests fail when an op of the registry
 * has no case, or a case has no TypeScript side.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NON_DIFFERENTIABLE, ops, Tensor } from '../src/index.js';
import type { OpName } from '../src/index.js';
import { caseFn, FixtureCase, FixtureTensor, loadOpFixtures, opCases, toTensor } from './op-cases.js';

const cases = loadOpFixtures();

/** Tolerances: |actual − expected| ≤ atol + rtol·|expected|, element by element. */
interface Tol {
  rtol: number;
  atol: number;
}
const FLOAT64: Tol = { rtol: 1e-9, atol: 1e-12 };
// float32 carries ~7 digits; the inputs themselves are rounded to float32 before the op runs.
const FLOAT32: Tol = { rtol: 1e-4, atol: 1e-5 };

const isFloat = (t: FixtureTensor): boolean => t.dtype === 'float64';

/** Asserts that a tensor has the expected shape, dtype and values (within tol). */
function assertMatches(actual: Tensor, expected: FixtureTensor, floatDType: 'float32' | 'float64', tol: Tol, what: string): void {
  assert.deepEqual([...actual.shape], expected.shape, `${what}: shape [${actual.shape}] vs torch's [${expected.shape}]`);
  const dtype = isFloat(expected) ? floatDType : expected.dtype;
  assert.equal(actual.dtype, dtype, `${what}: dtype ${actual.dtype}, expected ${dtype}`);
  const got = actual.toTypedArray();
  let worst = -1;
  let worstErr = 0;
  expected.values.forEach((e, i) => {
    const err = Math.abs(got[i] - e) - tol.rtol * Math.abs(e);
    if (!(err <= tol.atol) && (worst < 0 || err > worstErr || Number.isNaN(err))) {
      worst = i;
      worstErr = err;
    }
  });
  if (worst >= 0) {
    assert.fail(`${what}: element ${worst} is ${got[worst]}, torch says ${expected.values[worst]} (tolerance rtol ${tol.rtol}, atol ${tol.atol})`);
  }
}

/** Runs one case in the given float dtype and compares the output and the input gradients with torch's. */
function checkCase(c: FixtureCase, floatDType: 'float32' | 'float64', tol: Tol): void {
  const fn = caseFn(c.name);
  const withGrad = c.grads !== undefined;
  const xs = c.inputs.map((t) => {
    const x = toTensor(t, floatDType);
    return withGrad && isFloat(t) ? x.requiresGrad_() : x;
  });
  const out = fn(xs);
  assertMatches(out, c.output, floatDType, tol, `${c.name} (${floatDType}) output`);
  if (!withGrad) return;
  out.backward(toTensor(c.upstream!, floatDType));
  c.grads!.forEach((g, i) => {
    if (g === null) return;
    // An input the output does not depend on gets no gradient; torch's is then all zeros.
    const grad = xs[i].grad ?? Tensor.zeros(xs[i].shape, { dtype: floatDType });
    assertMatches(grad, g, floatDType, tol, `${c.name} (${floatDType}) gradient of input ${i}`);
  });
}

describe('op fixtures: coverage', () => {
  test('every op of the registry has at least one fixture case', () => {
    const covered = new Set(cases.map((c) => c.op));
    const missing = Object.keys(ops).filter((op) => !covered.has(op));
    assert.deepEqual(missing, [], `ops without a case in test/fixtures/gen_ops.py: ${missing.join(', ')}`);
  });

  test('every fixture case names a registry op and has a TypeScript side, and vice versa', () => {
    const unknownOps = cases.filter((c) => !(c.op in ops)).map((c) => `${c.name} (op ${c.op})`);
    assert.deepEqual(unknownOps, [], `cases naming an op that is not in the registry: ${unknownOps.join(', ')}`);
    const unmapped = cases.filter((c) => !(c.name in opCases)).map((c) => c.name);
    assert.deepEqual(unmapped, [], `fixture cases without a function in test/op-cases.ts: ${unmapped.join(', ')}`);
    const names = new Set(cases.map((c) => c.name));
    const stale = Object.keys(opCases).filter((n) => !names.has(n));
    assert.deepEqual(stale, [], `functions in test/op-cases.ts without a fixture case (regenerate ops.json?): ${stale.join(', ')}`);
  });

  test('the fixture has gradients exactly for the differentiable ops with a floating input', () => {
    const wrong = cases
      .filter((c) => (c.grads !== undefined) !== (!NON_DIFFERENTIABLE.has(c.op as OpName) && c.inputs.some(isFloat)))
      .map((c) => c.name);
    assert.deepEqual(wrong, [], `NON_DIFFERENTIABLE in gen_ops.py disagrees with src/ops/index.ts for: ${wrong.join(', ')}`);
  });
});

describe('ops against torch, float64', () => {
  for (const c of cases) test(c.name, () => checkCase(c, 'float64', FLOAT64));
});

describe('ops against torch, float32', () => {
  for (const c of cases.filter((c) => c.inputs.some(isFloat))) test(c.name, () => checkCase(c, 'float32', FLOAT32));
});
