/**
 * Where data files live. A file `<dataset>/<file>` is looked for, in order, in
 *   1. the directory given explicitly (`--data DIR`, or `{ dataDir }` here),
 *   2. $PFS_DATA_DIR,
 *   3. the per-user cache: $XDG_CACHE_HOME/papers-from-scratch, else ~/.cache/papers-from-scratch,
 *   4. system copies: /usr/share/datasets/fashion-mnist (Debian's `dataset-fashion-mnist`, files at
 *      the top level of that directory),
 * and the first directory that holds it wins. `resolveDataFile` stops there (synchronous, no network)
 * with an error that lists every place it looked; `ensureDataFile` goes on to the dataset's public
 * download location: it fetches the file (or the zip that holds it), checks its sha256 and writes it
 * atomically into the cache directory (or `downloadDir`).
 *
 * Node-only (through node-fs.ts). The checksums are those of the copies in the project's shared data
 * directory, each listed in that directory's SOURCE.md; the download locations are the ones SOURCE.md
 * names (a repository and commit), else the dataset's own published location.
 */
import { writeFileAtomic } from '../io/atomic.js';
import { homeDir, inflateRaw, isFile, joinPath, makeDir, processEnv, readBytes, resolvePath, sha256Hex } from './node-fs.js';
import { readZipEntry } from './zip.js';

/** One known file: its sha256 and where to download it (directly, or as `member` of a zip at `url`). */
export interface KnownFile {
  sha256: string;
  url: string;
  /** Path inside the zip archive at `url`, when the file is published only inside an archive. */
  member?: string;
}

export interface KnownDataset {
  files: Record<string, KnownFile>;
  /** Directories outside the search path that may hold the files directly (system packages). */
  systemDirs?: string[];
  /** A hint shown when the files are missing (e.g. a system package that provides them). */
  hint?: string;
}

// Fashion-MNIST's own download location, from the README of zalandoresearch/fashion-mnist.
const FASHION = 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/';
// The d2l-zh repository commits that SOURCE.md names for timemachine, ptb and airfoil.
const D2L_ZH = 'https://raw.githubusercontent.com/d2l-ai/d2l-zh/';
const PTB_ZIP = `${D2L_ZH}3e36f4a77b1be16f39b372518af5ad288b1ed6c4/data/ptb.zip`;
// fra-eng: the archive and commit SOURCE.md names (modelexlab/data).
const FRA_ZIP = 'https://raw.githubusercontent.com/modelexlab/data/adddaf33ac35572bcfeb421efec29435e7ea9332/fra-eng.zip';
// WikiText-2 v1, the authors' archive (the URL d2l's DATA_HUB uses). The shared copy's wiki.train.tokens
// was rebuilt from token ids (see its SOURCE.md), so its checksum is that of the rebuilt file.
const WIKI_ZIP = 'https://s3.amazonaws.com/research.metamind.io/wikitext/wikitext-2-v1.zip';

/** The datasets the readers know, with every file's sha256 (from each SOURCE.md). */
export const DATASETS: Readonly<Record<string, KnownDataset>> = {
  'fashion-mnist': {
    files: {
      'train-images-idx3-ubyte.gz': { sha256: 'b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7', url: FASHION + 'train-images-idx3-ubyte.gz' },
      'train-labels-idx1-ubyte.gz': { sha256: '0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056', url: FASHION + 'train-labels-idx1-ubyte.gz' },
      't10k-images-idx3-ubyte.gz': { sha256: 'cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa', url: FASHION + 't10k-images-idx3-ubyte.gz' },
      't10k-labels-idx1-ubyte.gz': { sha256: '8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05', url: FASHION + 't10k-labels-idx1-ubyte.gz' },
    },
    systemDirs: ['/usr/share/datasets/fashion-mnist'],
    hint: 'on Debian or Ubuntu, `apt-get install dataset-fashion-mnist` installs the files in /usr/share/datasets/fashion-mnist',
  },
  timemachine: {
    files: {
      'timemachine.txt': { sha256: '8424dbd9532ac81f7e5f0b6add90e6952baea29158309d7d1bf3884f4e12c516', url: `${D2L_ZH}3e36f4a77b1be16f39b372518af5ad288b1ed6c4/data/timemachine.txt` },
    },
  },
  'fra-eng': {
    files: {
      'fra.txt': { sha256: '0bb85dbaa1c896844649094d7eaf2e34bee34e84fe362b26ce7e8f2e12aae104', url: FRA_ZIP, member: 'fra-eng/fra.txt' },
      '_about.txt': { sha256: '79f39a53dbddaf7ab43c801f231089174a611f23987244056f9e3cb5aa79358b', url: FRA_ZIP, member: 'fra-eng/_about.txt' },
    },
  },
  ptb: {
    files: {
      'ptb.train.txt': { sha256: 'fcea919f6cf83f35d4d00c6cbf08040d13d4155226340912e2fef9c9c4102cbf', url: PTB_ZIP, member: 'ptb/ptb.train.txt' },
      'ptb.valid.txt': { sha256: 'c9fe6985fe0d4ccb578183407d7668fc6066c20700cb4cf87d8ff1cc34df1bf2', url: PTB_ZIP, member: 'ptb/ptb.valid.txt' },
      'ptb.test.txt': { sha256: 'dd65dff31e70846b2a6030a87482edcd5d199130cdcfa1f3dccbb033728deee0', url: PTB_ZIP, member: 'ptb/ptb.test.txt' },
    },
  },
  'wikitext-2': {
    files: {
      'wiki.train.tokens': { sha256: '9e9fa1ad55b1c2c95b08e37dd8e653f638fac2c6de904b79e813611eefbc985f', url: WIKI_ZIP, member: 'wikitext-2/wiki.train.tokens' },
      'wiki.valid.tokens': { sha256: 'f0737ed31fc1329026e95cb8b98e19c2a182c39c240ab909dc31abf2f8af58e8', url: WIKI_ZIP, member: 'wikitext-2/wiki.valid.tokens' },
      'wiki.test.tokens': { sha256: 'd790b833ef8cf03a90db7bf1271b7520b83c45ce07ba3c1a9699df81e239eca0', url: WIKI_ZIP, member: 'wikitext-2/wiki.test.tokens' },
    },
  },
  airfoil: {
    files: {
      'airfoil_self_noise.dat': { sha256: '74c75fd71783f1e6b71f8a622b993dc592897a97cd689c5090a07147a1b097b3', url: `${D2L_ZH}a8a7b0721bcbccf57a366f4b31624913bd81faa9/data/airfoil_self_noise.dat` },
    },
  },
};

export interface DataDirOptions {
  /** An explicit data directory (the `--data DIR` argument): holds `<dataset>/<file>`. */
  dataDir?: string;
  /** Environment to read PFS_DATA_DIR, XDG_CACHE_HOME from (default: process.env). */
  env?: Record<string, string | undefined>;
}

/** One place to look: the directory that would hold the dataset's files, and why it is searched. */
export interface SearchDir {
  dir: string;
  why: string;
}

/** The per-user cache root: $XDG_CACHE_HOME/papers-from-scratch, else ~/.cache/papers-from-scratch. */
export function cacheDir(env: Record<string, string | undefined> = processEnv()): string {
  const xdg = env.XDG_CACHE_HOME;
  return xdg ? joinPath(resolvePath(xdg), 'papers-from-scratch') : joinPath(homeDir(), '.cache', 'papers-from-scratch');
}

function knownFile(dataset: string, file: string): KnownFile {
  const ds = DATASETS[dataset];
  if (!ds) throw new Error(`unknown dataset "${dataset}"; known: ${Object.keys(DATASETS).join(', ')}`);
  const f = ds.files[file];
  if (!f) throw new Error(`unknown file "${file}" of dataset ${dataset}; known: ${Object.keys(ds.files).join(', ')}`);
  return f;
}

/** The directories searched for `dataset`'s files, in order (see the module comment). */
export function searchDirs(dataset: string, opts: DataDirOptions = {}): SearchDir[] {
  const env = opts.env ?? processEnv();
  const dirs: SearchDir[] = [];
  if (opts.dataDir) dirs.push({ dir: joinPath(resolvePath(opts.dataDir), dataset), why: 'the data directory given (--data)' });
  if (env.PFS_DATA_DIR) dirs.push({ dir: joinPath(resolvePath(env.PFS_DATA_DIR), dataset), why: '$PFS_DATA_DIR' });
  dirs.push({ dir: joinPath(cacheDir(env), dataset), why: 'the per-user cache' });
  for (const d of DATASETS[dataset]?.systemDirs ?? []) dirs.push({ dir: d, why: 'system copy' });
  return dirs;
}

/** The error for a file found nowhere: every place looked in, and the ways to fix it. */
function notFoundMessage(dataset: string, file: string, dirs: SearchDir[], env: Record<string, string | undefined>): string {
  const f = knownFile(dataset, file);
  const lines = [`data file ${dataset}/${file} was not found. Looked in:`];
  dirs.forEach((d, i) => lines.push(`  ${i + 1}. ${joinPath(d.dir, file)}  (${d.why})`));
  if (!env.PFS_DATA_DIR) lines.push('  ($PFS_DATA_DIR is not set)');
  lines.push(
    'To fix: pass --data DIR (or { dataDir }) or set PFS_DATA_DIR to a directory that holds ' +
      `${dataset}/${file}; or download it into the cache with ensureDataFile('${dataset}', '${file}') ` +
      `from ${f.url}${f.member ? ` (member ${f.member})` : ''}, sha256 ${f.sha256}`,
  );
  const hint = DATASETS[dataset].hint;
  if (hint) lines.push(`  or: ${hint}`);
  return lines.join('\n');
}

/**
 * The path of `<dataset>/<file>` in the first search directory that holds it; throws an error listing
 * every place looked in when none does. No network access.
 */
export function resolveDataFile(dataset: string, file: string, opts: DataDirOptions = {}): string {
  knownFile(dataset, file);
  const dirs = searchDirs(dataset, opts);
  for (const d of dirs) {
    const p = joinPath(d.dir, file);
    if (isFile(p)) return p;
  }
  throw new Error(notFoundMessage(dataset, file, dirs, opts.env ?? processEnv()));
}

/** Check a file against its known sha256; throws naming both hashes when they differ. */
export function verifyDataFile(dataset: string, file: string, path: string): void {
  const want = knownFile(dataset, file).sha256;
  const got = sha256Hex(readBytes(path));
  if (got !== want) throw new Error(`${path}: sha256 ${got} does not match the known ${want} of ${dataset}/${file}; the file is damaged or a different version`);
}

export interface DownloadOptions extends DataDirOptions {
  /** Where downloads go (default: the per-user cache, `cacheDir()`); files land in `<downloadDir>/<dataset>/`. */
  downloadDir?: string;
  /** The fetch to use (default: the global fetch); tests pass a stand-in. */
  fetch?: (url: string) => Promise<{ ok: boolean; status: number; statusText: string; arrayBuffer(): Promise<ArrayBuffer> }>;
}

/**
 * Download `<dataset>/<file>` from its public location into `<downloadDir>/<dataset>/<file>` and
 * return that path. The bytes must match the known sha256, else nothing is written. When the file
 * comes inside a zip, every file of the dataset from that zip is extracted (each one checked), so
 * one download serves them all.
 */
export async function downloadDataFile(dataset: string, file: string, opts: DownloadOptions = {}): Promise<string> {
  const target = knownFile(dataset, file);
  const dest = joinPath(resolvePath(opts.downloadDir ?? cacheDir(opts.env ?? processEnv())), dataset);
  const fetchFn = opts.fetch ?? ((url: string) => fetch(url));
  let body: Uint8Array;
  try {
    const res = await fetchFn(target.url);
    if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`);
    body = new Uint8Array(await res.arrayBuffer());
  } catch (e) {
    throw new Error(`could not download ${target.url}: ${(e as Error).message}`);
  }
  // The files this download provides: the one asked for, or every member of the same archive.
  const provided = Object.entries(DATASETS[dataset].files).filter(([name, f]) => (target.member ? f.url === target.url : name === file));
  // Check every file before writing any, so a bad download leaves nothing behind.
  const files = provided.map(([name, f]) => {
    const bytes = f.member ? readZipEntry(body, f.member, inflateRaw, target.url) : body;
    const got = sha256Hex(bytes);
    if (got !== f.sha256) {
      throw new Error(`download of ${dataset}/${name} from ${target.url}: sha256 ${got} does not match the expected ${f.sha256}; nothing was saved`);
    }
    return { name, bytes };
  });
  makeDir(dest);
  for (const { name, bytes } of files) await writeFileAtomic(joinPath(dest, name), bytes);
  return joinPath(dest, file);
}

/**
 * `resolveDataFile`, and when the file is found nowhere, a download into the cache (see
 * `downloadDataFile`). When the download fails too, the error lists the places looked in, the
 * download's failure and the ways to fix it.
 */
export async function ensureDataFile(dataset: string, file: string, opts: DownloadOptions = {}): Promise<string> {
  try {
    return resolveDataFile(dataset, file, opts);
  } catch (notFound) {
    if (!DATASETS[dataset]?.files[file]) throw notFound;
    try {
      return await downloadDataFile(dataset, file, opts);
    } catch (e) {
      throw new Error(`${(notFound as Error).message}\nThe download failed: ${(e as Error).message}`);
    }
  }
}

/** `ensureDataFile` for every file of a known dataset (what a training command calls before reading). */
export async function ensureDataset(dataset: string, opts: DownloadOptions = {}): Promise<void> {
  const known = DATASETS[dataset];
  if (!known) throw new Error(`unknown dataset ${JSON.stringify(dataset)}; known: ${Object.keys(DATASETS).join(', ')}`);
  for (const file of Object.keys(known.files)) await ensureDataFile(dataset, file, opts);
}
