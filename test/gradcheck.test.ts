/**
 * Central-difference gradcheck (float64) of every differentiable op, enumerated from the registry: an
 * op of `ops` outside NON_DIFFERENTIABLE without a gradcheck case fails. The cases are the op fixtures'
 * (inputs drawn off kinks and ties by gen_ops.py) run through op-cases.ts. The ops listed as
 * non-differentiable must return tensors that are not on the tape.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { gradcheck, NON_DIFFERENTIABLE, ops } from '../src/index.js';
import type { OpName } from '../src/index.js';
import { caseFn, FixtureCase, loadOpFixtures, toTensor } from './op-cases.js';

const cases = loadOpFixtures();
const opNames = Object.keys(ops) as OpName[];
const casesOf = (op: OpName): FixtureCase[] => cases.filter((c) => c.op === op);
const floatInputs = (c: FixtureCase): boolean => c.inputs.some((t) => t.dtype === 'float64');

describe('gradcheck of every differentiable op', () => {
  for (const op of opNames.filter((o) => !NON_DIFFERENTIABLE.has(o))) {
    test(op, () => {
      const mine = casesOf(op).filter(floatInputs);
      assert.ok(mine.length > 0, `differentiable op ${op} has no gradcheck case (add one to test/fixtures/gen_ops.py)`);
      for (const c of mine) {
        const xs = c.inputs.map((t) => (t.dtype === 'float64' ? toTensor(t).requiresGrad_() : toTensor(t)));
        const r = gradcheck((...ys) => caseFn(c.name)(ys), xs);
        assert.ok(r.ok, `${c.name}: ${r.message}`);
      }
    });
  }
});

describe('non-differentiable ops stay off the tape', () => {
  for (const op of NON_DIFFERENTIABLE) {
    test(op, () => {
      const mine = casesOf(op);
      assert.ok(mine.length > 0, `op ${op} has no fixture case`);
      for (const c of mine) {
        // Floating inputs require grad, so a recorded node would show.
        const xs = c.inputs.map((t) => (t.dtype === 'float64' ? toTensor(t).requiresGrad_() : toTensor(t)));
        const out = caseFn(c.name)(xs);
        assert.equal(out.gradFn, null, `${c.name}: output has gradFn ${out.gradFn?.name}`);
        assert.equal(out.requiresGrad, false, `${c.name}: output requires grad`);
      }
    });
  }
});
