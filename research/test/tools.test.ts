/**
 * The research tools that have tests (research/, not shipped in the npm package): NiN's dead class
 * scores at init (research/nin/deadlogits.ts) and the per-kernel conv timings of a training step
 * (research/vision/convtime.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import '../../src/backend/auto.js';
import { K } from '../../src/backend/registry.js';
import { deadLogits } from '../nin/deadlogits.js';
import { convTimes } from '../vision/convtime.js';
import { needsData } from '../../test/data-available.js';

test('NiN at init (seed 0, 67×67): the logits that are 0 for all of the first 250 test images include the six found over 2,000', { skip: needsData('fashion-mnist') }, () => {
  // research/nin/NOTES.md says why these dead units matter
  const dead = deadLogits(67, 0, 250);
  for (const k of [0, 1, 3, 6, 8, 9]) assert.ok(dead.includes(k), `class ${k} among ${dead}`);
  assert.ok(dead.length < 10, 'some logit is alive');
});

test("convTimes: a step's conv2d kernel calls timed by kernel and geometry, largest first; the kernels put back after", () => {
  const before = [K.conv2d, K.conv2dBackwardInput, K.conv2dBackwardWeight];
  const rows = convTimes('nin', 67, 2, 1);
  assert.deepEqual([K.conv2d, K.conv2dBackwardInput, K.conv2dBackwardWeight], before);
  assert.deepEqual([...new Set(rows.map((r) => r.kernel))].sort(), ['conv2d', 'conv2dBackwardInput', 'conv2dBackwardWeight']);
  // NiN's 12 convolutions at 67×67 have 8 geometries: a block's two 1×1 convs share one, and the last
  // block's 3×3 conv on a 1×1 map reaches the kernel cropped to 1×1
  const fwd = rows.filter((r) => r.kernel === 'conv2d').map((r) => r.geom);
  assert.equal(fwd.length, 8);
  assert.ok(fwd.some((q) => q.c === 384 && q.o === 10 && q.kh === 1 && q.h === 1), 'the cropped 3×3 conv on the 1×1 map');
  for (let i = 0; i < rows.length; i++) {
    assert.ok(rows[i].msPerStep > 0 && Number.isFinite(rows[i].gflops), `row ${i}: ${JSON.stringify(rows[i])}`);
    if (i > 0) assert.ok(rows[i].msPerStep <= rows[i - 1].msPerStep, 'largest first');
  }
});

test('the product imports nothing from research/ (the npm package ships dist/src, dist/cli, dist/papers and dist/bench only)', () => {
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  const shipped = ['src', 'cli', 'papers', 'bench'];
  const offenders: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'node_modules') walk(p);
      } else if (e.name.endsWith('.ts') && /(from |import )'(\.\.\/)+research\//.test(readFileSync(p, 'utf8'))) {
        offenders.push(relative(root, p));
      }
    }
  };
  for (const d of shipped) walk(join(root, d));
  assert.deepEqual(offenders, []);
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { files: string[] };
  assert.ok(!pkg.files.some((f) => f.startsWith('research') || f.startsWith('dist/research')), 'research/ is not in package.json "files"');
});
