/**
 * test/data-available.ts, the one place the tests decide whether a corpus is here: found the way the
 * readers find it (here: $PFS_DATA_DIR or the cache, in temp directories holding stand-in files), a
 * skip reason that says how to enable the test, no skip under PFS_REQUIRE_DATA, and `--check`, which
 * .ci/run uses to fail at once when a corpus is missing.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DATASETS } from '../src/data/node.js';
import { dataFound, dataRequired, needsData } from './data-available.js';

const HELPER = join(dirname(fileURLToPath(import.meta.url)), 'data-available.js');

/** A temp directory laid out as a data directory (`<dataset>/<file>`, stand-in contents) for `datasets`. */
function withData(datasets: string[], fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'pfs-data-available-'));
  try {
    for (const d of datasets) {
      mkdirSync(join(dir, d), { recursive: true });
      for (const f of Object.keys(DATASETS[d].files)) writeFileSync(join(dir, d, f), 'stand-in');
    }
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Airfoil, The Time Machine and PTB have no system copy, so only the directories given here are searched.
const EMPTY_CACHE = { XDG_CACHE_HOME: '/nonexistent/pfs-cache' };

test('a corpus is found in $PFS_DATA_DIR or the per-user cache, and only when every file of it is there', () =>
  withData(['airfoil', 'ptb'], (dir) => {
    assert.equal(dataFound('airfoil', { PFS_DATA_DIR: dir, ...EMPTY_CACHE }), true);
    assert.equal(dataFound('timemachine', { PFS_DATA_DIR: dir, ...EMPTY_CACHE }), false);
    assert.equal(dataFound('airfoil', { ...EMPTY_CACHE }), false);
    // the cache: $XDG_CACHE_HOME/papers-from-scratch/<dataset>
    mkdirSync(join(dir, 'xdg'));
    const cacheRoot = join(dir, 'xdg', 'papers-from-scratch');
    mkdirSync(join(cacheRoot, 'airfoil'), { recursive: true });
    writeFileSync(join(cacheRoot, 'airfoil', 'airfoil_self_noise.dat'), 'stand-in');
    assert.equal(dataFound('airfoil', { XDG_CACHE_HOME: join(dir, 'xdg') }), true);
    // one file of three missing: not found
    rmSync(join(dir, 'ptb', 'ptb.test.txt'));
    assert.equal(dataFound('ptb', { PFS_DATA_DIR: dir, ...EMPTY_CACHE }), false);
    assert.throws(() => dataFound('mnist'), /unknown dataset "mnist"; known: fashion-mnist, /);
  }));

test('the skip value: false when found; else one line naming the missing corpora and how to enable the test', () =>
  withData(['airfoil'], (dir) => {
    const env = { PFS_DATA_DIR: dir, ...EMPTY_CACHE };
    assert.equal(needsData('airfoil', env), false);
    assert.equal(needsData(['airfoil'], env), false);
    assert.equal(needsData('timemachine', env), 'needs the Time Machine corpus: set PFS_DATA_DIR to a directory holding it (see README, Data)');
    assert.equal(
      needsData(['airfoil', 'ptb', 'wikitext-2', 'fra-eng'], env),
      'needs the PTB, WikiText-2 and fra-eng corpora: set PFS_DATA_DIR to a directory holding them (see README, Data)',
    );
    assert.equal(needsData('ptb', EMPTY_CACHE), 'needs the PTB corpus: set PFS_DATA_DIR to a directory holding it (see README, Data)');
  }));

test('PFS_REQUIRE_DATA=1: a missing corpus is not skipped (the test runs and fails on it)', () => {
  assert.equal(needsData('ptb', { ...EMPTY_CACHE, PFS_REQUIRE_DATA: '1' }), false);
  assert.equal(dataRequired({ PFS_REQUIRE_DATA: '1' }), true);
  assert.equal(dataRequired({ PFS_REQUIRE_DATA: '0' }), false);
  assert.equal(dataRequired({ PFS_REQUIRE_DATA: '' }), false);
  assert.equal(dataRequired({}), false);
});

test('--check: exit status 0 when every corpus is found, 1 naming the missing ones otherwise; nothing without it', () =>
  withData(Object.keys(DATASETS), (dir) => {
    const run = (args: string[], env: Record<string, string>) => {
      const r = spawnSync(process.execPath, [HELPER, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ...env } });
      return { code: r.status, out: r.stdout, err: r.stderr };
    };
    // HOME as well: the cache is looked for there when XDG_CACHE_HOME is not set.
    const base = { HOME: join(dir, 'home'), ...EMPTY_CACHE };
    const all = run(['--check'], { ...base, PFS_DATA_DIR: dir });
    assert.equal(all.code, 0, all.err);
    assert.match(all.out, /every corpus the tests read is found/);
    rmSync(join(dir, 'ptb'), { recursive: true });
    rmSync(join(dir, 'wikitext-2', 'wiki.valid.tokens'));
    const some = run(['--check'], { ...base, PFS_DATA_DIR: dir });
    assert.equal(some.code, 1);
    assert.match(some.err, new RegExp(`the corpora the tests read are not found: PTB, WikiText-2 \\(PFS_DATA_DIR=${dir}; .*Set PFS_DATA_DIR`));
    const unset = run(['--check'], base);
    assert.equal(unset.code, 1);
    // (Fashion-MNIST may have a system copy, /usr/share/datasets/fashion-mnist)
    assert.match(unset.err, /not found: (Fashion-MNIST, )?Time Machine, fra-eng, PTB, WikiText-2, airfoil \(PFS_DATA_DIR is not set;/);
    const plain = run([], base);
    assert.equal(plain.code, 0, 'as the test runner runs it: no check');
    assert.equal(plain.out + plain.err, '');
  }));
