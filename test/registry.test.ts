/**
 * The papers' registry: every Paper a papers/<name>/train.ts defines is in PAPERS (papers/index.ts),
 * once; what `pfs summary` and the vision tools list comes from it; and papers/ imports nothing from cli/.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PAPERS } from '../papers/index.js';
import type { Paper } from '../papers/paper.js';
import { VISION_NETS } from '../papers/vision/nets.js';
import { VISION_PAPERS } from '../papers/vision/papers.js';
import { SUMMARY_NETS } from '../papers/vision/summary.js';

const here = dirname(fileURLToPath(import.meta.url)); // dist/test
const papersDist = resolve(here, '../papers');
const papersSrc = resolve(here, '../../papers');

const isPaper = (v: unknown): v is Paper =>
  typeof v === 'object' && v !== null && typeof (v as Paper).name === 'string' && typeof (v as Paper).train === 'function' && typeof (v as Paper).presets === 'object';

test('every Paper defined in papers/<name>/train.ts is registered in PAPERS, once', async () => {
  const defined: Paper[] = [];
  for (const dir of readdirSync(papersDist)) {
    const file = join(papersDist, dir, 'train.js');
    if (!existsSync(file)) continue;
    const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    for (const v of Object.values(mod)) {
      if (isPaper(v)) defined.push(v);
      else if (Array.isArray(v)) defined.push(...v.filter(isPaper));
    }
  }
  const unique = [...new Set(defined)];
  assert.ok(unique.length >= 14, `found ${unique.length} papers`);
  for (const p of unique) assert.ok(PAPERS.includes(p), `${p.name} is defined but not in PAPERS`);
  assert.equal(new Set(PAPERS.map((p) => p.name)).size, PAPERS.length, 'names are unique');
  for (const p of PAPERS) {
    assert.ok(p.presets[p.defaultPreset], `${p.name}: its default preset exists`);
    for (const [name, preset] of Object.entries(p.presets)) {
      if (preset.target) assert.ok(p.metrics(preset.config).includes(preset.target.metric), `${p.name} ${name}: the target's metric is reported`);
    }
  }
});

test('the vision nets, their papers and the summary nets derive from PAPERS', () => {
  assert.deepEqual(VISION_PAPERS.map((p) => p.name), ['alexnet', 'vgg', 'nin', 'googlenet', 'resnet', 'regnet']);
  assert.deepEqual(VISION_NETS.map((n) => n.name), VISION_PAPERS.map((p) => p.name));
  assert.deepEqual(SUMMARY_NETS.map((n) => n.name), PAPERS.filter((p) => p.net).map((p) => p.name));
  assert.deepEqual(SUMMARY_NETS.map((n) => n.name), ['lenet', 'lenet-bn', 'alexnet', 'vgg', 'nin', 'googlenet', 'resnet', 'regnet']);
});

test('no file under papers/ imports cli/', () => {
  const offenders: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (e.name.endsWith('.ts') && /from '(\.\.\/)+cli\//.test(readFileSync(path, 'utf8'))) offenders.push(path);
    }
  };
  walk(papersSrc);
  assert.deepEqual(offenders, []);
});
