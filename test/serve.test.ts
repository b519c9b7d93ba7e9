/**
 * `pfs serve`: the app's files and the known data files, with the cross-origin isolation headers;
 * GET and HEAD only; nothing outside the app folder (traversal, encoded traversal, symbolic links)
 * and no data file the readers do not know. Served from temporary folders on an ephemeral port.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { request, Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startServer, serveHandler } from '../cli/serve.js';

const PFS = resolve(dirname(fileURLToPath(import.meta.url)), '../cli/pfs.js');

const root = mkdtempSync(join(tmpdir(), 'pfs-serve-'));
const app = join(root, 'web');
const data = join(root, 'data');
mkdirSync(join(app, 'assets'), { recursive: true });
writeFileSync(join(app, 'index.html'), '<!doctype html><title>app</title>');
writeFileSync(join(app, 'assets', 'main-abc.js'), 'console.log(1)');
writeFileSync(join(root, 'secret.txt'), 'outside the app');
symlinkSync(join(root, 'secret.txt'), join(app, 'link.txt'));
mkdirSync(join(data, 'fashion-mnist'), { recursive: true });
writeFileSync(join(data, 'fashion-mnist', 't10k-labels-idx1-ubyte.gz'), Buffer.from([0x1f, 0x8b, 1, 2, 3]));
writeFileSync(join(data, 'fashion-mnist', 'notes.txt'), 'not a known file');
// no $PFS_DATA_DIR, and a cache folder that holds nothing: only --data is searched (and system copies)
const env = { XDG_CACHE_HOME: join(root, 'cache') };

let server: Server;
let port = 0;
before(async () => {
  ({ server } = await startServer(0, '127.0.0.1', { appDir: app, dataDir: data, env }));
  port = (server.address() as { port: number }).port;
});
after(() => server.close());

/** A raw request (the path is sent as written: no client-side normalisation of `..`). */
function get(path: string, method = 'GET'): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((ok, fail) => {
    const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => ok({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', fail);
    req.end();
  });
}

test('serves the app with the cross-origin isolation headers and its content types', async () => {
  const index = await get('/');
  assert.equal(index.status, 200);
  assert.match(index.body, /<title>app<\/title>/);
  assert.equal(index.headers['cross-origin-opener-policy'], 'same-origin');
  assert.equal(index.headers['cross-origin-embedder-policy'], 'require-corp');
  assert.match(String(index.headers['content-type']), /^text\/html/);
  const js = await get('/assets/main-abc.js?v=1');
  assert.equal(js.status, 200);
  assert.equal(js.body, 'console.log(1)');
  assert.match(String(js.headers['content-type']), /^text\/javascript/);
  assert.equal(js.headers['cross-origin-embedder-policy'], 'require-corp');
  assert.equal((await get('/index.html')).status, 200);
  assert.equal((await get('/missing.js')).status, 404);
});

test('HEAD answers the headers without a body; other methods get 405', async () => {
  const head = await get('/assets/main-abc.js', 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(head.headers['content-length'], '14');
  assert.equal(head.body, '');
  for (const m of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
    const r = await get('/', m);
    assert.equal(r.status, 405, m);
    assert.equal(r.headers.allow, 'GET, HEAD');
  }
});

test('nothing outside the app folder: traversal, encoded traversal, backslashes, NUL, symbolic links', async () => {
  for (const p of ['/../secret.txt', '/assets/../../secret.txt', '/%2e%2e/secret.txt', '/assets/%2E%2E%2F%2E%2E%2Fsecret.txt', '/..%5csecret.txt', '/a%00b', '/%E0%A4%A']) {
    const r = await get(p);
    assert.ok([400, 403].includes(r.status), `${p}: status ${r.status}`);
    assert.doesNotMatch(r.body, /outside the app/, p);
  }
  const link = await get('/link.txt');
  assert.equal(link.status, 404, 'a symbolic link out of the app folder is not followed');
  assert.doesNotMatch(link.body, /outside the app/);
  assert.equal((await get('/assets')).status, 404, 'a folder is not a file');
});

test('data files: the known ones, found as pfs train finds them; nothing else', async () => {
  const labels = await get('/data/fashion-mnist/t10k-labels-idx1-ubyte.gz');
  assert.equal(labels.status, 200);
  assert.equal(labels.headers['content-type'], 'application/gzip');
  assert.equal(labels.headers['content-length'], '5');
  assert.equal(labels.headers['cross-origin-embedder-policy'], 'require-corp');
  const unknown = await get('/data/fashion-mnist/notes.txt');
  assert.equal(unknown.status, 404, 'a file the readers do not know is not served, even in the data folder');
  assert.match(unknown.body, /not a known data file.*known: \/data\/fashion-mnist\/train-images-idx3-ubyte\.gz/s);
  for (const p of ['/data/../secret.txt', '/data/fashion-mnist/../../secret.txt', '/data/nope/file', '/data/fashion-mnist', '/data/fashion-mnist/t10k-labels-idx1-ubyte.gz/x']) {
    const r = await get(p);
    assert.ok(r.status === 404 || r.status === 403, `${p}: ${r.status}`);
  }
  // known but found nowhere: the places looked in, and no download
  const missing = await get('/data/timemachine/timemachine.txt');
  assert.equal(missing.status, 404);
  assert.match(missing.body, /data file timemachine\/timemachine\.txt was not found\. Looked in:/);
  assert.match(missing.body, /never downloads/);
});

test('an app folder without the built app is refused with how to build it', () => {
  assert.throws(() => serveHandler({ appDir: join(root, 'data') }), /the browser app is not built .*npm run build:web/);
});

/** Runs `pfs serve ...` until it prints its URL (or exits); returns what it printed and stops it. */
function runServe(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((ok) => {
    const child = spawn(process.execPath, [PFS, 'serve', ...args], { env: { ...process.env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d;
      if (/Ctrl-C/.test(out)) child.kill('SIGTERM');
    });
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.on('exit', (code) => ok({ code, out, err }));
  });
}

test('pfs serve: prints its URL; bad options are refused with a clear message', async () => {
  const ok = await runServe(['--port', '0', '--data', data]);
  assert.match(ok.out, /^papers-from-scratch app: http:\/\/127\.0\.0\.1:\d+\/$/m, ok.err);
  const help = await runServe(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.out, /pfs serve \[--port N\]/);
  for (const [args, msg] of [
    [['--port', 'abc'], /--port: expected a whole number from 0 to 65535, got "abc"/],
    [['--port', '70000'], /--port: expected a whole number/],
    [['--data', join(root, 'nope')], /--data: .*nope does not exist/],
    [['--bogus', '1'], /unknown option --bogus/],
    [['extra'], /serve: unexpected argument "extra"/],
  ] as const) {
    const r = await runServe([...args]);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.err, msg);
  }
});
