// The browser app (web/): built into dist/web by `npm run build:web` (and at `npm install`, from the
// `prepare` script); `pfs serve` serves that folder. Relative base: the built files work from any path.
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));

/** The app's modules must be browser-safe: a `node:` import reached from them fails the build, naming the importer. */
const noNodeImports = {
  name: 'pfs-no-node-imports',
  enforce: 'pre',
  resolveId(id, importer) {
    if (id.startsWith('node:')) this.error(`${importer} imports ${id}: the browser app may use browser-safe modules only (see docs/DEVELOPING.md, The browser app)`);
    return null;
  },
};

export default {
  root: here,
  plugins: [noNodeImports],
  base: './',
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    assetsInlineLimit: 0, // the .wasm modules stay files, fetched and compiled by the loader
    chunkSizeWarningLimit: 1000,
  },
  worker: { format: 'es', plugins: () => [noNodeImports] },
};
