/**
 * Data-directory resolution, downloads and zip entries. The search order is checked with temp
 * directories holding different copies of the same file; downloads with a stand-in fetch that serves
 * the shared copies (there is no network here), so the sha256 check, the atomic write and the
 * extraction from a zip run for real. The sha256 table is checked against the shared files themselves.
 * The tests that read the corpora find them as the readers do, and are skipped, saying how to enable
 * them, when they are absent (test/data-available.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { listZip, readZipEntry } from '../src/data/index.js';
import {
  cacheDir, DATASETS, downloadDataFile, DownloadOptions, ensureDataFile, resolveDataFile, searchDirs, verifyDataFile,
} from '../src/data/node.js';
import { dataFile, needsData } from './data-available.js';


/** Run `fn` with a fresh temp directory, removed afterwards. */
async function withTmp(fn: (dir: string) => void | Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'pfs-datadir-'));
  try {
    await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function put(path: string, text: string): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
}

test('resolution order: --data, then $PFS_DATA_DIR, then the cache; a clear error when none has it', () =>
  withTmp((tmp) => {
    const [a, b, c] = ['a', 'b', 'c'].map((d) => join(tmp, d));
    const env = { PFS_DATA_DIR: b, XDG_CACHE_HOME: c };
    const file = (root: string): string => join(root, 'timemachine', 'timemachine.txt');
    const cached = join(c, 'papers-from-scratch', 'timemachine', 'timemachine.txt');
    put(file(a), 'A');
    put(file(b), 'B');
    put(cached, 'C');
    const resolve = (): string => resolveDataFile('timemachine', 'timemachine.txt', { dataDir: a, env });
    assert.equal(resolve(), file(a));
    rmSync(file(a));
    assert.equal(resolve(), file(b));
    rmSync(file(b));
    assert.equal(resolve(), cached);
    rmSync(cached);
    mkdirSync(cached); // a directory of that name is not the file
    assert.throws(resolve, (e: Error) => {
      const m = e.message;
      assert.match(m, /data file timemachine\/timemachine\.txt was not found\. Looked in:/);
      assert.ok(m.includes(`1. ${file(a)}  (the data directory given (--data))`), m);
      assert.ok(m.includes(`2. ${file(b)}  ($PFS_DATA_DIR)`), m);
      assert.ok(m.includes(`3. ${cached}  (the per-user cache)`), m);
      assert.match(m, /pass --data DIR .* or set PFS_DATA_DIR/);
      assert.match(m, /ensureDataFile\('timemachine', 'timemachine\.txt'\) from https:\/\/\S+\/timemachine\.txt, sha256 8424dbd9/);
      return true;
    });
    // Without --data and $PFS_DATA_DIR: only the cache, and the error says the variable is unset.
    assert.throws(() => resolveDataFile('timemachine', 'timemachine.txt', { env: { XDG_CACHE_HOME: c } }), /1\. \S+  \(the per-user cache\)\n {2}\(\$PFS_DATA_DIR is not set\)/);
    // A relative --data is taken from the working directory.
    put(file(a), 'A');
    assert.equal(resolveDataFile('timemachine', 'timemachine.txt', { dataDir: relative(process.cwd(), a), env: {} }), file(a));
  }));

test('cache directory: $XDG_CACHE_HOME, else ~/.cache; Fashion-MNIST also looks in Debian\'s directory', () => {
  assert.equal(cacheDir({ XDG_CACHE_HOME: '/x/cache' }), '/x/cache/papers-from-scratch');
  assert.equal(cacheDir({}), join(homedir(), '.cache', 'papers-from-scratch'));
  const dirs = searchDirs('fashion-mnist', { dataDir: '/d', env: { PFS_DATA_DIR: '/e' } }).map((d) => d.dir);
  assert.deepEqual(dirs, ['/d/fashion-mnist', '/e/fashion-mnist', join(homedir(), '.cache', 'papers-from-scratch', 'fashion-mnist'), '/usr/share/datasets/fashion-mnist']);
  assert.ok(!searchDirs('ptb', { env: {} }).some((d) => d.dir.startsWith('/usr/share')));
  assert.throws(() => resolveDataFile('fashion-mnist', 'train-images-idx3-ubyte.gz', { dataDir: '/nonexistent', env: {} }),
    /\/usr\/share\/datasets\/fashion-mnist\/train-images-idx3-ubyte\.gz {2}\(system copy\)[\s\S]*apt-get install dataset-fashion-mnist/);
});

test('unknown datasets and files are refused with the known names', () => {
  assert.throws(() => resolveDataFile('mnist', 'x.gz'), /unknown dataset "mnist"; known: fashion-mnist, timemachine, fra-eng, ptb, wikitext-2, airfoil/);
  assert.throws(() => resolveDataFile('ptb', 'ptb.dev.txt'), /unknown file "ptb\.dev\.txt" of dataset ptb; known: ptb\.train\.txt, ptb\.valid\.txt, ptb\.test\.txt/);
});

test('the sha256 table matches every file of the shared data directory', { skip: needsData(Object.keys(DATASETS)) }, () => {
  for (const [dataset, ds] of Object.entries(DATASETS)) {
    for (const file of Object.keys(ds.files)) verifyDataFile(dataset, file, dataFile(dataset, file));
  }
  // The shared directory ($PFS_DATA_DIR): the table lists every corpus, and every file of each folder (all but SOURCE.md).
  const sharedDir = process.env.PFS_DATA_DIR;
  if (sharedDir) {
    assert.deepEqual(Object.keys(DATASETS).sort(), readdirSync(sharedDir).filter((f) => f !== 'README.md').sort());
    for (const [dataset, ds] of Object.entries(DATASETS)) {
      const onDisk: string[] = readdirSync(join(sharedDir, dataset)).filter((f) => f !== 'SOURCE.md');
      assert.deepEqual(Object.keys(ds.files).sort(), onDisk.sort(), dataset);
      for (const file of onDisk) assert.equal(dataFile(dataset, file), join(resolve(sharedDir), dataset, file));
    }
  }
  return withTmp((tmp) => {
    const bad = join(tmp, 'airfoil_self_noise.dat');
    writeFileSync(bad, readFileSync(dataFile('airfoil', 'airfoil_self_noise.dat'), 'utf8').replace('800', '801'));
    assert.throws(() => verifyDataFile('airfoil', 'airfoil_self_noise.dat', bad), /sha256 [0-9a-f]{64} does not match the known 74c75fd7\S+ of airfoil\/airfoil_self_noise\.dat/);
  });
});

// ---------- downloads, with a stand-in fetch ----------

type Fetch = NonNullable<DownloadOptions['fetch']>;

/** A fetch that serves `routes` (url → bytes) and records the urls asked for. */
function fakeFetch(routes: Record<string, Uint8Array>, asked: string[] = []): Fetch {
  return async (url: string) => {
    asked.push(url);
    const body = routes[url];
    return {
      ok: body !== undefined,
      status: body ? 200 : 404,
      statusText: body ? 'OK' : 'Not Found',
      arrayBuffer: async () => (body ? body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) : new ArrayBuffer(0)) as ArrayBuffer,
    };
  };
}

const shared = (dataset: string, file: string): Uint8Array => readFileSync(dataFile(dataset, file));

test('downloadDataFile: sha256-checked, written atomically; a wrong or failed download leaves nothing', { skip: needsData('timemachine') }, () =>
  withTmp(async (tmp) => {
    const { url } = DATASETS.timemachine.files['timemachine.txt'];
    const good = shared('timemachine', 'timemachine.txt');
    const path = await downloadDataFile('timemachine', 'timemachine.txt', { downloadDir: tmp, fetch: fakeFetch({ [url]: good }) });
    assert.equal(path, join(tmp, 'timemachine', 'timemachine.txt'));
    assert.deepEqual(readFileSync(path), Buffer.from(good));
    assert.deepEqual(readdirSync(join(tmp, 'timemachine')), ['timemachine.txt'], 'no temporary file left');

    const altered = Buffer.from(good);
    altered[100] ^= 1;
    const other = join(tmp, 'other');
    await assert.rejects(
      downloadDataFile('timemachine', 'timemachine.txt', { downloadDir: other, fetch: fakeFetch({ [url]: altered }) }),
      /sha256 [0-9a-f]{64} does not match the expected 8424dbd9\S+; nothing was saved/,
    );
    await assert.rejects(downloadDataFile('timemachine', 'timemachine.txt', { downloadDir: other, fetch: fakeFetch({}) }), /could not download https:\S+: HTTP 404 Not Found/);
    assert.ok(!existsSync(join(other, 'timemachine', 'timemachine.txt')));
  }));

/** A zip of stored (uncompressed) entries; the CRC fields are left 0 (the reader does not use them). */
function storedZip(entries: Record<string, Uint8Array>): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const [name, data] of Object.entries(entries)) {
    const nameBytes = Buffer.from(name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const cen = Buffer.alloc(46);
    cen.writeUInt32LE(0x02014b50, 0);
    cen.writeUInt32LE(data.length, 20);
    cen.writeUInt32LE(data.length, 24);
    cen.writeUInt16LE(nameBytes.length, 28);
    cen.writeUInt32LE(offset, 42);
    parts.push(local, nameBytes, data);
    central.push(cen, nameBytes);
    offset += 30 + nameBytes.length + data.length;
  }
  const cenSize = central.reduce((s, p) => s + p.length, 0);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(Object.keys(entries).length, 8);
  eocd.writeUInt16LE(Object.keys(entries).length, 10);
  eocd.writeUInt32LE(cenSize, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, ...central, eocd]);
}

test('ensureDataFile: local copy first; else one download of the zip gives every PTB file', { skip: needsData('ptb') }, () =>
  withTmp(async (tmp) => {
    const env = { XDG_CACHE_HOME: join(tmp, 'cache') };
    const asked: string[] = [];
    const { url } = DATASETS.ptb.files['ptb.train.txt'];
    const zip = storedZip({
      'ptb/': new Uint8Array(0),
      'ptb/ptb.train.txt': shared('ptb', 'ptb.train.txt'),
      'ptb/ptb.valid.txt': shared('ptb', 'ptb.valid.txt'),
      'ptb/ptb.test.txt': shared('ptb', 'ptb.test.txt'),
    });
    const fetch = fakeFetch({ [url]: zip }, asked);
    // Found in --data: no download.
    const local = dataFile('ptb', 'ptb.valid.txt');
    assert.equal(await ensureDataFile('ptb', 'ptb.valid.txt', { dataDir: dirname(dirname(local)), env, fetch }), local);
    assert.equal(asked.length, 0);
    // Missing everywhere: downloaded into the cache, where resolveDataFile then finds all three.
    const path = await ensureDataFile('ptb', 'ptb.valid.txt', { env, fetch });
    assert.equal(path, join(tmp, 'cache', 'papers-from-scratch', 'ptb', 'ptb.valid.txt'));
    assert.deepEqual(asked, [url]);
    for (const f of ['ptb.train.txt', 'ptb.valid.txt', 'ptb.test.txt']) {
      const p = resolveDataFile('ptb', f, { env });
      assert.equal(p, join(tmp, 'cache', 'papers-from-scratch', 'ptb', f));
      verifyDataFile('ptb', f, p);
    }
    assert.equal(await ensureDataFile('ptb', 'ptb.test.txt', { env, fetch }), join(tmp, 'cache', 'papers-from-scratch', 'ptb', 'ptb.test.txt'));
    assert.equal(asked.length, 1, 'already cached');
  }));

test('ensureDataFile without network: the error lists where it looked and why the download failed', () =>
  withTmp(async (tmp) => {
    const offline: Fetch = async () => {
      throw new TypeError('fetch failed');
    };
    await assert.rejects(ensureDataFile('airfoil', 'airfoil_self_noise.dat', { dataDir: join(tmp, 'd'), env: { XDG_CACHE_HOME: tmp }, fetch: offline }), (e: Error) => {
      assert.match(e.message, /data file airfoil\/airfoil_self_noise\.dat was not found\. Looked in:/);
      assert.ok(e.message.includes(join(tmp, 'd', 'airfoil', 'airfoil_self_noise.dat')));
      assert.ok(e.message.includes(join(tmp, 'papers-from-scratch', 'airfoil', 'airfoil_self_noise.dat')));
      assert.match(e.message, /The download failed: could not download https:\/\/raw\.githubusercontent\.com\/\S+airfoil_self_noise\.dat: fetch failed/);
      return true;
    });
    assert.ok(!existsSync(join(tmp, 'papers-from-scratch', 'airfoil', 'airfoil_self_noise.dat')));
  }));

// ---------- zip entries ----------

test('readZipEntry: deflated and stored entries of a zip written by Python; clear errors', () => {
  const zip = readFileSync(new URL('../../test/fixtures/data_sample.zip', import.meta.url));
  assert.deepEqual(listZip(zip).map((e) => e.name), ['sample/', 'sample/deflated.txt', 'sample/stored.txt']);
  const deflated = new TextDecoder().decode(readZipEntry(zip, 'sample/deflated.txt', inflateRawSync));
  assert.equal(deflated, Array.from({ length: 200 }, (_, i) => ` line ${i} of a deflated entry\n`).join(''));
  const stored = new TextDecoder().decode(readZipEntry(zip, 'sample/stored.txt', inflateRawSync));
  assert.equal(stored, 'a stored entry: café à la française\n');
  assert.throws(() => readZipEntry(zip, 'ptb/ptb.train.txt', inflateRawSync, 'x.zip'), /x\.zip: no entry "ptb\/ptb\.train\.txt"; it holds 3 entries: sample\/, sample\/deflated\.txt, sample\/stored\.txt/);
  assert.throws(() => listZip(new Uint8Array(100), 'y.zip'), /y\.zip: not a zip archive \(no end-of-central-directory record in its 100 bytes\)/);
});
