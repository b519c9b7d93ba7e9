/**
 * Node-only: the dataset readers that find a file (datadir.ts), read it (node-fs.ts) and hand its
 * contents to the browser-safe parsers (fashion-mnist.ts, text.ts, airfoil.ts). Every function takes
 * `{ dataDir }` (the `--data DIR` argument); see datadir.ts for where else it looks.
 */
import { airfoilData } from './airfoil.js';
import { DataDirOptions, resolveDataFile } from './datadir.js';
import { fashionMnistFromBytes, FASHION_MNIST_FILES, ImageSet } from './fashion-mnist.js';
import { gunzip, readBytes, readText } from './node-fs.js';
import { preprocessNmt, preprocessTimeMachine, readPtb, readWikiText, tokenizeNmt } from './text.js';

const SPLITS = ['train', 'valid', 'test'] as const;

function checkSplit(reader: string, split: string): void {
  if (!(SPLITS as readonly string[]).includes(split)) throw new RangeError(`${reader}: split must be one of ${SPLITS.join(', ')}, got ${JSON.stringify(split)}`);
}

/** The text of a known data file (UTF-8). */
export function readDataText(dataset: string, file: string, opts: DataDirOptions = {}): string {
  return readText(resolveDataFile(dataset, file, opts));
}

/** A Fashion-MNIST split: images float32 (N, 1, 28, 28) in [0, 1], labels int32 (N). */
export function loadFashionMnist(split: 'train' | 'test' = 'train', opts: DataDirOptions = {}): ImageSet {
  const files = FASHION_MNIST_FILES[split];
  if (!files) throw new RangeError(`loadFashionMnist: split must be 'train' or 'test', got ${JSON.stringify(split)}`);
  const imagesPath = resolveDataFile('fashion-mnist', files.images, opts);
  const labelsPath = resolveDataFile('fashion-mnist', files.labels, opts);
  return fashionMnistFromBytes(gunzip(readBytes(imagesPath), imagesPath), gunzip(readBytes(labelsPath), labelsPath), {
    images: imagesPath,
    labels: labelsPath,
  });
}

/** The Time Machine as d2l preprocesses it: lines of lower-case letters and spaces. */
export function loadTimeMachine(opts: DataDirOptions = {}): string[] {
  return preprocessTimeMachine(readDataText('timemachine', 'timemachine.txt', opts));
}

/** English–French pairs, preprocessed and tokenised as d2l does (source = English, target = French). */
export function loadFraEng(opts: DataDirOptions & { maxExamples?: number } = {}): { source: string[][]; target: string[][] } {
  return tokenizeNmt(preprocessNmt(readDataText('fra-eng', 'fra.txt', opts)), opts.maxExamples);
}

/** PTB sentences (lists of words) of one split. */
export function loadPtb(split: 'train' | 'valid' | 'test' = 'train', opts: DataDirOptions = {}): string[][] {
  checkSplit('loadPtb', split);
  return readPtb(readDataText('ptb', `ptb.${split}.txt`, opts));
}

/** WikiText-2 paragraphs (lists of lower-cased sentences) of one split, in file order. */
export function loadWikiText2(split: 'train' | 'valid' | 'test' = 'train', opts: DataDirOptions = {}): string[][] {
  checkSplit('loadWikiText2', split);
  return readWikiText(readDataText('wikitext-2', `wiki.${split}.tokens`, opts));
}

/** Airfoil self-noise as d2l's optimisation chapter uses it: features (n, 5), target (n), z-scored. */
export function loadAirfoil(opts: DataDirOptions & { n?: number } = {}): ReturnType<typeof airfoilData> {
  return airfoilData(readDataText('airfoil', 'airfoil_self_noise.dat', opts), opts.n);
}
