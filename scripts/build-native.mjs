#!/usr/bin/env node
/**
 * Builds the optional native backend (src/backend/native/binding.gyp → src/backend/native/build/Release/pfs_native.node)
 * with node-gyp. Run by npm's install step, and by hand: `node scripts/build-native.mjs`.
 *
 * The library works without it (the committed wasm backend, else the TypeScript kernels), so a failed build never
 * fails the install: it prints one line saying why the native backend is unavailable, keeps the
 * compiler's output in src/backend/native/build/build.log, and exits 0. Set PFS_SKIP_NATIVE=1 to skip the build.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = join(root, 'src', 'backend', 'native');
const logFile = join(nativeDir, 'build', 'build.log');
const say = (msg) => process.stdout.write(`papers-from-scratch: ${msg}\n`);

/** node-gyp's entry script: npm's own (npm passes it to install scripts), a local one, or the copy bundled with npm. */
function findNodeGyp() {
  const candidates = [process.env.npm_config_node_gyp];
  try {
    candidates.push(createRequire(join(root, 'package.json')).resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // not installed locally
  }
  const prefix = dirname(dirname(process.execPath));
  candidates.push(join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  candidates.push(join(prefix, 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')); // Windows layout
  return candidates.find((c) => c && existsSync(c));
}

/**
 * node-gyp downloads Node's headers unless told where they are. A Node installed by a system
 * package manager ships them under <prefix>/include/node: use those (this also works offline).
 */
function nodedirArgs() {
  if (process.env.npm_config_nodedir) return [];
  const prefix = dirname(dirname(process.execPath));
  return existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${prefix}`] : [];
}

/** The first line of the build output that says what went wrong. */
function firstError(output) {
  const lines = output.split('\n').map((l) => l.trim());
  const pick =
    lines.find((l) => /\berror\b/i.test(l) && !/^gyp ERR! (stack|System|command|cwd|node -v|node-gyp -v|not ok)/.test(l)) ??
    lines.find((l) => l.length > 0) ??
    'no output';
  return pick.length > 200 ? `${pick.slice(0, 200)}…` : pick;
}

function unavailable(reason) {
  say(`native backend unavailable (${reason}); the wasm backend will be used.`);
  process.exit(0);
}

if (process.env.PFS_SKIP_NATIVE === '1') unavailable('PFS_SKIP_NATIVE=1 skips its build');
const gyp = findNodeGyp();
if (!gyp) unavailable('node-gyp was not found: install it with `npm install -g node-gyp` and run `node scripts/build-native.mjs`');

const run = spawnSync(process.execPath, [gyp, 'rebuild', ...nodedirArgs()], { cwd: nativeDir, encoding: 'utf8' });
const output = `${run.stdout ?? ''}${run.stderr ?? ''}${run.error ? String(run.error) : ''}`;
mkdirSync(dirname(logFile), { recursive: true });
writeFileSync(logFile, output);
if (run.status !== 0) unavailable(`build failed: ${firstError(output)}; see ${relative(process.cwd(), logFile)}`);
say(`native backend built (${relative(root, join(nativeDir, 'build', 'Release', 'pfs_native.node'))}).`);
