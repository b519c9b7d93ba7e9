/**
 * What the TypeScript side and the C side agree on without a compiler to check it: the numbering
 * of ops, kernels and element types (src/backend/kernels.ts and marshal.ts against csrc/pfs.h),
 * the thread limit and status codes, and the one source list both builds compile. And an invariant
 * of the module graph: no module of src/ops or src/autograd uses Tensor while it loads (each is
 * imported alone in a fresh process, which a load-order cycle would break).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BINARY_OPS, REDUCE_OPS, UNARY_OPS } from '../src/backend/kernels.js';
import { C_KERNELS, DTYPES, MAX_THREADS, STATUS, UNARY_C_OPS } from '../src/backend/marshal.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const CSRC = join(ROOT, 'src/backend/csrc');
const header = readFileSync(join(CSRC, 'pfs.h'), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');

/** The names of pfs.h's `typedef enum { ... } name;`, in order (explicit values dropped). */
function cEnum(name: string): string[] {
  const m = new RegExp(`typedef enum \\{([^}]*)\\}\\s*${name};`).exec(header);
  assert.ok(m, `pfs.h has no enum ${name}`);
  return m[1].split(',').map((s) => s.replace(/=.*/, '').trim()).filter((s) => s.length > 0);
}

/** A #define's value in pfs.h, as a number. */
function cDefine(name: string): number {
  const m = new RegExp(`#define ${name} \\(?(-?\\d+)\\)?`).exec(header);
  assert.ok(m, `pfs.h has no #define ${name}`);
  return Number(m[1]);
}

const upper = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

test('op codes: UNARY_OPS, BINARY_OPS and REDUCE_OPS (kernels.ts) number pfs.h\'s ops', () => {
  assert.deepEqual(cEnum('pfs_unary_op'), [...UNARY_OPS.slice(0, UNARY_C_OPS).map((o) => `PFS_${upper(o)}`), 'PFS_UNARY_OPS']);
  assert.deepEqual(cEnum('pfs_binary_op'), [...BINARY_OPS.map((o) => `PFS_${upper(o)}`), 'PFS_BINARY_OPS']);
  assert.deepEqual(cEnum('pfs_reduce_op'), [...REDUCE_OPS.map((o) => `PFS_${upper(o)}`), 'PFS_REDUCE_OPS']);
});

test('kernel and type codes, the thread limit and the status codes (marshal.ts) are pfs.h\'s', () => {
  assert.deepEqual(cEnum('pfs_kernel'), C_KERNELS.map((k) => `PFS_CALL_${upper(k)}`));
  assert.deepEqual(cEnum('pfs_dtype'), DTYPES.map((t) => `PFS_${upper(t)}`));
  assert.equal(cDefine('PFS_MAX_THREADS'), MAX_THREADS);
  assert.deepEqual(
    { ok: cDefine('PFS_OK'), unsupported: cDefine('PFS_UNSUPPORTED'), enomem: cDefine('PFS_ENOMEM'), badIndex: cDefine('PFS_EBADINDEX') },
    STATUS,
  );
});

test('one source list: csrc/sources.gypi names every C file of csrc, and binding.gyp and build-wasm.mjs read it', () => {
  const list = JSON.parse(readFileSync(join(CSRC, 'sources.gypi'), 'utf8')).sources as string[];
  assert.deepEqual([...list].sort(), readdirSync(CSRC).filter((f) => f.endsWith('.c')).sort());
  assert.match(readFileSync(join(ROOT, 'src/backend/native/binding.gyp'), 'utf8'), /"includes": \["\.\.\/csrc\/sources\.gypi"\]/);
  assert.match(readFileSync(join(ROOT, 'scripts/build-wasm.mjs'), 'utf8'), /sources\.gypi/);
});

test('each module of src/ops and src/autograd loads alone in a fresh process (no load-order cycle through Tensor)', () => {
  const dist = join(ROOT, 'dist/src');
  const modules = ['ops', 'autograd'].flatMap((d) => readdirSync(join(dist, d)).filter((f) => f.endsWith('.js')).map((f) => join(dist, d, f)));
  assert.ok(modules.length >= 10, `found only ${modules.length} modules`);
  for (const file of modules) {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', 'await import(process.argv[1]);', pathToFileURL(file).href], {
      encoding: 'utf8',
      env: { ...process.env, PFS_BACKEND: 'ref' },
    });
    assert.equal(r.status, 0, `importing ${file} alone failed:\n${r.stderr}`);
  }
});
