/**
 * A fresh clone stays clean and its commands run at once:
 *  - package-lock.json's entry for the project is what `npm install` writes from package.json (name,
 *    version, license, bin, engines, devDependencies, and hasInstallScript exactly when package.json
 *    has an install script), so neither `npm install` nor `npm ci` rewrites the committed lock file;
 *  - the `pfs` script runs the built command, and the README's Quick start and `pfs` command sections
 *    use it, not `npx pfs` (which, in the checkout, installs and rebuilds the project first).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const read = (file: string) => readFileSync(resolve(ROOT, file), 'utf8');
const pkg = JSON.parse(read('package.json'));

test("package-lock.json's root entry is the one npm writes from package.json (hasInstallScript included)", () => {
  const lock = JSON.parse(read('package-lock.json'));
  assert.equal(lock.name, pkg.name);
  assert.equal(lock.version, pkg.version);
  const root = lock.packages[''];
  const installScript = ['preinstall', 'install', 'postinstall'].some((s) => pkg.scripts?.[s] !== undefined);
  assert.equal(root.hasInstallScript === true, installScript, `package.json ${installScript ? 'has' : 'has no'} install script, so npm install writes hasInstallScript ${installScript ? 'true' : 'nowhere'}: commit the lock file npm writes`);
  assert.deepEqual(
    { name: root.name, version: root.version, license: root.license, bin: root.bin, engines: root.engines, devDependencies: root.devDependencies },
    { name: pkg.name, version: pkg.version, license: pkg.license, bin: pkg.bin, engines: pkg.engines, devDependencies: pkg.devDependencies },
  );
  for (const dep of Object.keys(pkg.devDependencies)) assert.ok(lock.packages[`node_modules/${dep}`], `${dep} is in the lock file`);
});

test('`npm run pfs -- …` runs the built command, and the README uses it', () => {
  assert.equal(pkg.scripts.pfs, `node ${pkg.bin.pfs}`);
  const readme = read('README.md');
  const section = (title: string) => readme.slice(readme.indexOf(`## ${title}`), readme.indexOf('\n## ', readme.indexOf(`## ${title}`) + 3));
  // the quick start's block is its two commands; its text says how to run pfs
  assert.match(section('Quick start'), /`npm run pfs -- ARGS` runs `node dist\/cli\/pfs\.js ARGS`/);
  const commands = readme.split('\n').filter((l) => /^(npx |npm run pfs|pfs )/.test(l));
  assert.ok(section('The `pfs` command').includes('\nnpm run pfs -- train lenet'), 'the pfs section shows its commands');
  for (const c of commands) assert.match(c, /^npm run pfs -- /, c);
});
