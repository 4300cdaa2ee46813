// CIFAR-10, binary version (the cifar-10-binary.tar.gz of Krizhevsky's page, unpacked). Each
// file is a run of 3073-byte records: 1 label byte (0..9), then the 32x32 image as 1024 R, 1024 G
// and 1024 B bytes, each plane row-major. Training: data_batch_1.bin .. data_batch_5.bin
// (10000 images each); test: test_batch.bin; batches.meta.txt lists the class names, one a line.
// The files sit in the data directory or in its cifar-10-batches-bin/ (the archive's folder).
// Nothing is ever downloaded.
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Dataset, Normalization } from './dataset.js';
import { clampLimit } from './limits.js';

export const CIFAR10_SHAPE = [3, 32, 32];
export const CIFAR10_RECORD = 1 + 3 * 32 * 32;
export const CIFAR10_TRAIN_FILES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'];
export const CIFAR10_TEST_FILE = 'test_batch.bin';
/** Per-channel mean and std of the training pixels scaled to [0, 1] (R, G, B). */
export const CIFAR10_NORMALIZATION: Normalization = { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] };
export const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

const isDir = (p: string): boolean => existsSync(p) && statSync(p).isDirectory();

/** The folder holding the batches: dataDir itself, or its cifar-10-batches-bin/ when dataDir has none. */
function batchesDir(dataDir: string): string {
  if (!existsSync(dataDir)) throw new Error(`CIFAR-10: the data directory ${dataDir} does not exist`);
  if (!isDir(dataDir)) throw new Error(`CIFAR-10: the data directory ${dataDir} is not a directory`);
  const nested = join(dataDir, 'cifar-10-batches-bin');
  const holdsBatches = (d: string) => [...CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE].some((f) => existsSync(join(d, f)));
  return !holdsBatches(dataDir) && isDir(nested) ? nested : dataDir;
}

/** Images in a batch file, from its size; throws naming the file when the size is not whole records. */
function recordCount(path: string): number {
  const size = statSync(path).size;
  if (size === 0 || size % CIFAR10_RECORD !== 0) {
    throw new Error(`CIFAR-10: ${path} is ${size} bytes, not a positive multiple of ${CIFAR10_RECORD} (1 label byte + 3072 pixel bytes per image; truncated?)`);
  }
  return size / CIFAR10_RECORD;
}

function readPrefix(path: string, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  const fd = openSync(path, 'r');
  try {
    let got = 0;
    while (got < bytes) {
      const r = readSync(fd, out, got, bytes - got, got);
      if (r === 0) throw new Error(`CIFAR-10: ${path} ended after ${got} bytes, expected ${bytes}`);
      got += r;
    }
  } finally {
    closeSync(fd);
  }
  return out;
}

/** A per-channel lookup from u8 to (v/255 - mean)/std, computed in f64 so each value rounds once (as normalizeImages). */
function channelTables(norm: Normalization): Float32Array[] {
  return norm.mean.map((mean, c) => {
    const t = new Float32Array(256);
    for (let v = 0; v < 256; v++) t[v] = (v / 255 - mean) / norm.std[c];
    return t;
  });
}

/**
 * Reads the first `n` images of `files` (in order; counts from recordCount) into one split on
 * SharedArrayBuffers, normalised per channel, labels checked to be 0..9.
 */
function readSplit(name: string, files: string[], counts: number[], n: number, classNames: string[]): Dataset {
  const px = CIFAR10_RECORD - 1;
  const plane = px / 3;
  const x = new Float32Array(new SharedArrayBuffer(n * px * 4));
  const labels = new Uint8Array(new SharedArrayBuffer(n));
  const tables = channelTables(CIFAR10_NORMALIZATION);
  let i = 0;
  for (let f = 0; f < files.length && i < n; f++) {
    const take = Math.min(counts[f], n - i);
    const bytes = take === counts[f] ? readFileSync(files[f]) : readPrefix(files[f], take * CIFAR10_RECORD);
    for (let r = 0; r < take; r++, i++) {
      const rec = r * CIFAR10_RECORD;
      const label = bytes[rec];
      if (label > 9) throw new Error(`CIFAR-10: ${files[f]}: record ${r} has label ${label}, expected 0..9`);
      labels[i] = label;
      for (let c = 0; c < 3; c++) {
        const t = tables[c];
        const s = rec + 1 + c * plane;
        const d = i * px + c * plane;
        for (let k = 0; k < plane; k++) x[d + k] = t[bytes[s + k]];
      }
    }
  }
  return {
    name,
    sampleShape: [...CIFAR10_SHAPE],
    n,
    x,
    targets: { kind: 'labels', classes: 10, data: labels },
    normalization: { mean: [...CIFAR10_NORMALIZATION.mean], std: [...CIFAR10_NORMALIZATION.std] },
    classNames: [...classNames],
  };
}

/** Class names from batches.meta.txt when it lists exactly ten, else the standard ones (with a note why). */
function classNames(dir: string, notes: string[]): string[] {
  const path = join(dir, 'batches.meta.txt');
  if (!existsSync(path)) return CIFAR10_CLASSES;
  const names = readFileSync(path, 'utf8').split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
  if (names.length === 10) return names;
  notes.push(`${path} lists ${names.length} class names, not 10; using the standard CIFAR-10 names`);
  return CIFAR10_CLASSES;
}

/**
 * Loads CIFAR-10's training and test splits from `dataDir` (see the file header). Training uses
 * the data_batch files present when data_batch_1.bin is (with a note naming the missing ones);
 * test_batch.bin is required. Limits keep the first N images, reading no more than needed.
 */
export function loadCifar10(dataDir: string, limits: { limitTrain?: number; limitTest?: number } = {}): { train: Dataset; test: Dataset; notes: string[] } {
  const dir = batchesDir(dataDir);
  const notes: string[] = [];
  const present = CIFAR10_TRAIN_FILES.filter((f) => existsSync(join(dir, f)));
  const missing = [...CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE].filter((f) => !existsSync(join(dir, f)));
  if (!present.includes(CIFAR10_TRAIN_FILES[0]) || missing.includes(CIFAR10_TEST_FILE)) {
    throw new Error(`CIFAR-10: missing in ${dir}: ${missing.join(', ')} (data_batch_1.bin and test_batch.bin are required)`);
  }
  if (missing.length > 0) {
    notes.push(`CIFAR-10: ${missing.join(', ')} not found in ${dir}; training on ${present.join(', ')}`);
  }
  const trainFiles = present.map((f) => join(dir, f));
  const testFile = join(dir, CIFAR10_TEST_FILE);
  const trainCounts = trainFiles.map(recordCount);
  const testCount = recordCount(testFile);
  const trainTotal = trainCounts.reduce((a, b) => a + b, 0);
  const nTrain = clampLimit('--limit-train', 'training images', limits.limitTrain, trainTotal, notes);
  const nTest = clampLimit('--limit-test', 'test images', limits.limitTest, testCount, notes);
  const names = classNames(dir, notes);
  return {
    train: readSplit('cifar10', trainFiles, trainCounts, nTrain, names),
    test: readSplit('cifar10', [testFile], [testCount], nTest, names),
    notes,
  };
}
