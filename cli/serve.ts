/**
 * `pfs serve [--port N] [--host H] [--data DIR]`: the browser app (built by Vite into dist/web at
 * `npm install`) and the corpora of the data directory, over HTTP on 127.0.0.1 by default.
 *
 * What it serves, and nothing else:
 *   /                      dist/web/index.html
 *   /<path>                a file under dist/web (the app's JS, CSS and wasm)
 *   /data/<dataset>/<file> a file the data readers know (src/data/datadir.ts's DATASETS), found by the
 *                          same rules as `pfs train`: --data DIR, $PFS_DATA_DIR, the per-user cache,
 *                          system copies. Nothing is downloaded: a file found nowhere is a 404 whose
 *                          body lists where it was looked for.
 * Only GET and HEAD (405 otherwise). A path with a `..` or `.` segment, a backslash, a NUL, bad
 * percent-encoding, or one that leads outside dist/web (a symbolic link included) is refused.
 *
 * Every response carries Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy:
 * require-corp, so the page is cross-origin isolated: SharedArrayBuffer exists there, and the wasm
 * backend runs its threaded build.
 */
import { createReadStream, existsSync, realpathSync, statSync } from 'node:fs';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DATASETS, resolveDataFile } from '../src/data/datadir.js';
import { checkDataDir } from '../src/train/runner.js';
import { parseArgs } from './args.js';

export const SERVE_USAGE = `pfs serve [--port N] [--host H] [--data DIR]

Serves the browser app (LeNet on Fashion-MNIST, the char-level language models, the optimisers) and
the corpora, with the headers that make the page cross-origin isolated (threaded WebAssembly).
  --port N     the port (default ${8000}; 0: any free port)
  --host H     the address to listen on (default 127.0.0.1: this machine only)
  --data DIR   data directory (else $PFS_DATA_DIR, else the per-user cache), as for pfs train
`;

const DEFAULT_PORT = 8000;

/** Content types of the files the app and the data directory hold. */
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.tokens': 'text/plain; charset=utf-8',
  '.dat': 'text/plain; charset=utf-8',
  '.gz': 'application/gzip',
};

/** The headers every response carries: cross-origin isolation, and no guessing of types. */
export const ISOLATION_HEADERS: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
};

/** The built app: dist/web beside this module's dist/cli. */
export function defaultAppDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', 'web');
}

export interface ServeOptions {
  /** The built app's folder (default: dist/web). */
  appDir?: string;
  /** `--data DIR`. */
  dataDir?: string;
  /** Where PFS_DATA_DIR and XDG_CACHE_HOME are read from (default: process.env). */
  env?: Record<string, string | undefined>;
}

/** Why a request path is refused, or its segments (decoded). */
function pathSegments(pathname: string): string[] | { status: number; why: string } {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return { status: 400, why: 'bad percent-encoding in the path' };
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return { status: 400, why: 'a NUL or backslash in the path' };
  const segs = decoded.split('/').filter((s) => s !== '');
  if (segs.some((s) => s === '..' || s === '.')) return { status: 403, why: 'a path with . or .. segments' };
  return segs;
}

/** The request handler of `pfs serve` (exported for the tests, which serve on an ephemeral port). */
export function serveHandler(opts: ServeOptions = {}): (req: IncomingMessage, res: ServerResponse) => void {
  const appDir = resolve(opts.appDir ?? defaultAppDir());
  if (!existsSync(join(appDir, 'index.html'))) {
    throw new Error(`serve: the browser app is not built (${join(appDir, 'index.html')} is missing); \`npm install\` builds it, or \`npm run build:web\``);
  }
  const appReal = realpathSync(appDir);
  const dataOpts = { dataDir: opts.dataDir, env: opts.env };

  const send = (res: ServerResponse, status: number, body: string, head: boolean, extra: Record<string, string> = {}) => {
    res.writeHead(status, { ...ISOLATION_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(Buffer.byteLength(body)), ...extra });
    res.end(head ? undefined : body);
  };
  const sendFile = (res: ServerResponse, path: string, head: boolean, cache: string) => {
    const size = statSync(path).size;
    res.writeHead(200, {
      ...ISOLATION_HEADERS, 'Content-Type': TYPES[extname(path)] ?? 'application/octet-stream', 'Content-Length': String(size), 'Cache-Control': cache,
    });
    if (head) {
      res.end();
      return;
    }
    const stream = createReadStream(path);
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  };

  return (req, res) => {
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) {
      send(res, 405, `${req.method} is not allowed: this server answers GET and HEAD only\n`, false, { Allow: 'GET, HEAD' });
      return;
    }
    // the path as sent, before any normalisation (new URL() would silently resolve `..` segments)
    const raw = req.url ?? '/';
    const url = { pathname: raw.split(/[?#]/)[0] };
    if (!url.pathname.startsWith('/')) {
      send(res, 400, 'refused: the path must start with /\n', head);
      return;
    }
    const segs = pathSegments(url.pathname);
    if (!Array.isArray(segs)) {
      send(res, segs.status, `refused: ${segs.why}\n`, head);
      return;
    }
    if (segs[0] === 'data') {
      const [, dataset, file, ...more] = segs;
      if (more.length > 0 || !dataset || !file || !Object.hasOwn(DATASETS, dataset) || !Object.hasOwn(DATASETS[dataset].files, file)) {
        const known = Object.entries(DATASETS).flatMap(([d, k]) => Object.keys(k.files).map((f) => `/data/${d}/${f}`));
        send(res, 404, `not a known data file: ${url.pathname}\nknown: ${known.join(', ')}\n`, head);
        return;
      }
      let path: string;
      try {
        path = resolveDataFile(dataset, file, dataOpts);
      } catch (e) {
        send(res, 404, `${(e as Error).message}\n(pfs serve never downloads; start it with --data DIR)\n`, head);
        return;
      }
      sendFile(res, path, head, 'max-age=3600');
      return;
    }
    const rel = segs.length === 0 ? ['index.html'] : segs;
    const path = join(appDir, ...rel);
    let real: string;
    try {
      real = realpathSync(path);
    } catch {
      send(res, 404, `not found: ${url.pathname}\n`, head);
      return;
    }
    if (!real.startsWith(appReal + sep) || !statSync(real).isFile()) {
      send(res, 404, `not found: ${url.pathname}\n`, head);
      return;
    }
    // index.html names the hashed assets: always revalidated; the assets themselves never change
    sendFile(res, real, head, rel[0] === 'assets' ? 'max-age=31536000, immutable' : 'no-cache');
  };
}

/** Listens; resolves with the server and its URL once it accepts connections. */
export function startServer(port: number, host: string, opts: ServeOptions = {}): Promise<{ server: Server; url: string }> {
  const handler = serveHandler(opts);
  const server = createServer(handler);
  return new Promise((ok, fail) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE') fail(new Error(`serve: port ${port} on ${host} is in use; choose another with --port N (0: any free port)`));
      else fail(new Error(`serve: cannot listen on ${host}:${port}: ${e.message}`));
    });
    server.listen(port, host, () => {
      const addr = server.address();
      const p = typeof addr === 'object' && addr ? addr.port : port;
      const shown = host.includes(':') ? `[${host}]` : host;
      ok({ server, url: `http://${shown}:${p}/` });
    });
  });
}

/** `pfs serve ...`: runs until interrupted. */
export async function serveCommand(argv: readonly string[], out: { write(s: string): unknown } = process.stdout): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    out.write(SERVE_USAGE);
    return 0;
  }
  const args = parseArgs(argv, [], ['port', 'host', 'data'], false);
  if (args.positionals.length > 0) throw new Error(`serve: unexpected argument ${JSON.stringify(args.positionals[0])}; usage: ${SERVE_USAGE.split('\n')[0]}`);
  let port = DEFAULT_PORT;
  if (args.flags.port !== undefined) {
    const v = String(args.flags.port);
    port = Number(v);
    if (!/^[0-9]+$/.test(v) || port > 65535) throw new Error(`--port: expected a whole number from 0 to 65535, got ${JSON.stringify(v)}`);
  }
  const host = typeof args.flags.host === 'string' ? args.flags.host : '127.0.0.1';
  if (host === '') throw new Error('--host: expected an address, got ""');
  const dataDir = args.flags.data as string | undefined;
  checkDataDir(dataDir);
  const { url } = await startServer(port, host, { dataDir });
  const found = Object.keys(DATASETS).filter((d) => Object.keys(DATASETS[d].files).every((f) => {
    try {
      resolveDataFile(d, f, { dataDir });
      return true;
    } catch {
      return false;
    }
  }));
  out.write(`papers-from-scratch app: ${url}\n`);
  out.write(`  corpora found: ${found.length ? found.join(', ') : 'none'}${found.length < Object.keys(DATASETS).length ? ' (pass --data DIR or set PFS_DATA_DIR for the others)' : ''}\n`);
  out.write('  Ctrl-C stops it\n');
  return new Promise<number>(() => {}); // serves until the process is stopped
}
