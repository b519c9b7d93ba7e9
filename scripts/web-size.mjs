#!/usr/bin/env node
// The browser app's download size: each file of dist/web (after `npm run build:web`) raw and gzipped
// (level 9), and what one visit fetches: the HTML, CSS and JS, and one of the four wasm modules (a
// cross-origin isolated Chromium fetches pfs-threads-relaxed.wasm). The corpora are not counted.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const dir = new URL('../dist/web/', import.meta.url).pathname;
const files = [];
const walk = (d) => {
  for (const f of readdirSync(d)) {
    const p = join(d, f);
    if (statSync(p).isDirectory()) walk(p);
    else files.push(p);
  }
};
walk(dir);
const kb = (n) => `${(n / 1024).toFixed(1)} kB`;
let page = 0, pageGz = 0, wasm = null;
for (const f of files.sort()) {
  const b = readFileSync(f);
  const gz = gzipSync(b, { level: 9 }).length;
  console.log(`${f.slice(dir.length).padEnd(44)} ${kb(b.length).padStart(10)} ${kb(gz).padStart(10)} gzip`);
  if (/\.(html|css|js)$/.test(f)) { page += b.length; pageGz += gz; }
  if (/pfs-threads-relaxed-.*\.wasm$/.test(f)) wasm = { raw: b.length, gz };
}
console.log(`HTML + CSS + JS: ${kb(page)}, ${kb(pageGz)} gzip`);
if (wasm) console.log(`one visit (HTML + CSS + JS + pfs-threads-relaxed.wasm): ${kb(page + wasm.raw)}, ${kb(pageGz + wasm.gz)} gzip`);
