// MNIST-layout splits as Datasets without Node: the pixels normalised exactly as
// normalizeImages does, onto shared memory where there is SharedArrayBuffer, with the dataset's
// name, normalisation and class names (what a checkpoint records). loadDataset('mnist') in Node
// and a page that fetches the IDX files (mnistFromIdx) build the same Dataset from the same
// bytes, so they train to the same bits.
import type { Dataset, Normalization } from './dataset.js';
import { InputError } from '../errors.js';
import { parseIdxPrefix } from './idx_codec.js';
import { MNIST_MEAN, MNIST_STD, normalizeImages } from './normalize.js';

/** One split's pixels and labels (the first n), as the IDX files hold them. */
export interface IdxSplit {
  images: Uint8Array;
  labels: Uint8Array;
  n: number;
  rows: number;
  cols: number;
}

export const MNIST_CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

/** A dataset in MNIST's layout: its name, normalisation and classes. */
export interface IdxKindInfo {
  name: string;
  normalization: Normalization;
  classNames: string[];
}

export const MNIST_INFO: IdxKindInfo = { name: 'mnist', normalization: { mean: [MNIST_MEAN], std: [MNIST_STD] }, classNames: MNIST_CLASSES };

function buffer(bytes: number): ArrayBuffer | SharedArrayBuffer {
  return typeof SharedArrayBuffer === 'function' ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
}

/** One split as a Dataset: pixels normalised exactly as normalizeImages does, on shared memory (where there is some). */
export function idxDataset(kind: IdxKindInfo, s: IdxSplit): Dataset {
  const { mean, std } = kind.normalization;
  const x = normalizeImages(s.images, new Float32Array(buffer(s.images.length * 4)), mean[0], std[0]);
  const labels = new Uint8Array(buffer(s.n));
  labels.set(s.labels.subarray(0, s.n));
  return {
    name: kind.name,
    sampleShape: [1, s.rows, s.cols],
    n: s.n,
    x,
    targets: { kind: 'labels', classes: 10, data: labels },
    normalization: { mean: [...mean], std: [...std] },
    classNames: [...kind.classNames],
  };
}


/**
 * The first `n` examples of an MNIST-layout split from the bytes of its images and labels files
 * (each the whole file or a prefix of it at least n examples long: a page fetches the first
 * 10,000 images with an HTTP range request). Checks the dims and the labels as loadDataset does.
 */
export function mnistFromIdx(images: Uint8Array, labels: Uint8Array, n: number, source = 'MNIST', kind: IdxKindInfo = MNIST_INFO): Dataset {
  const im = parseIdxPrefix(images, `${source} images`, n);
  const lb = parseIdxPrefix(labels, `${source} labels`, n);
  if (im.dims.length !== 3) throw new InputError(`${source} images: expected 3-D images (n, rows, cols), got dims [${im.dims.join(', ')}]`);
  if (lb.dims.length !== 1) throw new InputError(`${source} labels: expected 1-D labels (n), got dims [${lb.dims.join(', ')}]`);
  for (let i = 0; i < n; i++) if (lb.data[i] >= kind.classNames.length) throw new InputError(`${source} labels: label ${i} is ${lb.data[i]}, expected 0..${kind.classNames.length - 1}`);
  return idxDataset(kind, { images: im.data, labels: lb.data, n, rows: im.dims[1], cols: im.dims[2] });
}
