/**
 * A fresh clone stays clean:
 *  - package-lock.json's entry for the project is what `npm install` writes from package.json (name,
 *    version, license, bin, engines, devDependencies, and hasInstallScript exactly when package.json
 *    has an install script), so neither `npm install` nor `npm ci` rewrites the committed lock file.
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
