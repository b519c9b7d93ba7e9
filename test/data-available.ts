/**
 * Whether the corpora a test reads are here, found the way the readers find them
 * (src/data/datadir.ts: $PFS_DATA_DIR, the per-user cache, system copies; no network), and the
 * `skip` value for node:test that says how to enable a test whose corpus is missing:
 *
 *   test('reads Fashion-MNIST', { skip: needsData('fashion-mnist') }, () => { ... });
 *
 * With PFS_REQUIRE_DATA=1 (.ci/run sets it) a missing corpus is never a skip: the test runs and fails
 * with the reader's error, which lists where it looked. Run as `node dist/test/data-available.js
 * --check`, it checks every corpus the tests read and exits 1, naming the missing ones, when any is
 * absent (.ci/run does this before the tests). The test runner runs this file too, without --check:
 * then it does nothing.
 */
import { DATASETS, resolveDataFile } from '../src/data/node.js';

type Env = Record<string, string | undefined>;

/** The corpora's names as the skip reasons say them. */
const TITLES: Record<string, string> = {
  'fashion-mnist': 'Fashion-MNIST',
  timemachine: 'Time Machine',
  'fra-eng': 'fra-eng',
  ptb: 'PTB',
  'wikitext-2': 'WikiText-2',
  airfoil: 'airfoil',
};

/** Whether every file of `dataset` is found (a name the readers do not know is an error, not a skip). */
export function dataFound(dataset: string, env: Env = process.env): boolean {
  const known = DATASETS[dataset];
  if (!known) throw new Error(`unknown dataset ${JSON.stringify(dataset)}; known: ${Object.keys(DATASETS).join(', ')}`);
  return Object.keys(known.files).every((file) => {
    try {
      resolveDataFile(dataset, file, { env });
      return true;
    } catch {
      return false;
    }
  });
}

/** Whether PFS_REQUIRE_DATA asks for every corpus (set, and neither empty nor 0). */
export function dataRequired(env: Env = process.env): boolean {
  const v = env.PFS_REQUIRE_DATA;
  return v !== undefined && v !== '' && v !== '0';
}

/**
 * node:test's `skip` option for a test that reads `datasets`: false when they are all found, or when
 * PFS_REQUIRE_DATA is set (the test then fails on the missing file); else one line saying which
 * corpus is missing and how to enable the test.
 */
export function needsData(datasets: string | readonly string[], env: Env = process.env): string | false {
  const missing = (typeof datasets === 'string' ? [datasets] : datasets).filter((d) => !dataFound(d, env));
  if (missing.length === 0 || dataRequired(env)) return false;
  const names = missing.map((d) => TITLES[d] ?? d);
  const list = names.length === 1 ? `the ${names[0]} corpus` : `the ${names.slice(0, -1).join(', ')} and ${names[names.length - 1]} corpora`;
  return `needs ${list}: set PFS_DATA_DIR to a directory holding ${missing.length === 1 ? 'it' : 'them'} (see README, Data)`;
}

/** The path of one file of a corpus, where the readers find it (throws, listing where it looked, when absent). */
export function dataFile(dataset: string, file: string): string {
  return resolveDataFile(dataset, file);
}

/** `--check`: every corpus the tests read must be found; exit status 1, naming the missing ones, otherwise. */
if (process.argv.includes('--check')) {
  const missing = Object.keys(DATASETS).filter((d) => !dataFound(d));
  if (missing.length > 0) {
    const where = process.env.PFS_DATA_DIR ? `PFS_DATA_DIR=${process.env.PFS_DATA_DIR}` : 'PFS_DATA_DIR is not set';
    process.stderr.write(
      `data-available: the corpora the tests read are not found: ${missing.map((d) => TITLES[d] ?? d).join(', ')} (${where}; ` +
        'also looked in the per-user cache and the system copies). Set PFS_DATA_DIR to a directory holding them (see README, Data).\n',
    );
    process.exit(1);
  }
  process.stdout.write(`data-available: every corpus the tests read is found (${Object.keys(DATASETS).join(', ')})\n`);
}
