// Datasets as plain values: a flat Float32Array of normalised samples and their targets, which a
// trainer, a worker pool (the loaders put x on a SharedArrayBuffer) or an app can hold and pass
// around. Free of Node built-ins so browsers and workers share it. The loaders that read files
// live in datasets.ts.
import { InputError } from '../errors.js';
import type { Preprocessor } from './preprocess.js';

export type Targets =
  | { kind: 'labels'; classes: number; data: Uint8Array | Int32Array } // class index per sample
  | { kind: 'tensor'; shape: number[]; data: Float32Array } // per-sample target, n*prod(shape) floats
  | { kind: 'input' }; // unsupervised: the target is the input

/** Per channel (length C, or 1 for all channels). */
export interface Normalization {
  mean: number[];
  std: number[];
}

export interface Dataset {
  /** 'mnist', 'fashion-mnist', 'cifar10', or the app's */
  name: string;
  /** e.g. [1,28,28], [3,32,32], [20] */
  sampleShape: number[];
  n: number;
  /** n*prod(sampleShape) normalised floats; on a SharedArrayBuffer for the loaders */
  x: Float32Array;
  targets: Targets;
  /** how raw [0,1] pixels became x (x = (raw - mean[c]) / std[c]) */
  normalization?: Normalization;
  classNames?: string[];
  /** a transform fitted on the training set and applied to x after the normalisation (saved in checkpoints) */
  preprocess?: Preprocessor;
}

export interface Augment {
  /** random translation by up to ±shift pixels in each direction */
  shift?: number;
  /**
   * σ of Gaussian noise added to each input element after the other augmentations (a denoising
   * autoencoder: a target that is the input keeps the clean one). Applied by the trainer.
   */
  noise?: number;
  /** mirror left-right with probability 1/2 */
  hflip?: boolean;
}

const prod = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Floats per sample: the product of the sample shape. */
export function sampleSize(ds: Pick<Dataset, 'sampleShape'>): number {
  return prod(ds.sampleShape);
}

/** Channels of a sample shape: C of [C,H,W]; 1 for any other rank ([H,W] images, feature vectors). */
export function channelCount(sampleShape: readonly number[]): number {
  return sampleShape.length === 3 ? sampleShape[0] : 1;
}

/**
 * Per channel, the normalised value of a raw 0 pixel, (0 - mean) / std: what pixels shifted in
 * from outside the image get. Without normalisation the background is 0. Always channelCount long.
 */
export function backgroundFill(ds: Pick<Dataset, 'sampleShape' | 'normalization'>): number[] {
  const c = channelCount(ds.sampleShape);
  const norm = ds.normalization;
  return Array.from({ length: c }, (_, ch) => {
    if (!norm) return 0;
    const k = norm.mean.length === 1 ? 0 : ch;
    return (0 - norm.mean[k]) / norm.std[k];
  });
}

/**
 * The first `count` samples of `ds`, as views of its arrays (no copy: x stays on its buffer).
 * Throws an InputError when count is not an integer in 0..n.
 */
export function subset(ds: Dataset, count: number): Dataset {
  if (!Number.isInteger(count) || count < 0 || count > ds.n) {
    throw new InputError(`subset: count must be an integer in 0..${ds.n} (the samples of ${ds.name}), got ${count}`);
  }
  const t = ds.targets;
  const targets: Targets =
    t.kind === 'labels'
      ? { kind: 'labels', classes: t.classes, data: t.data.subarray(0, count) }
      : t.kind === 'tensor'
        ? { kind: 'tensor', shape: t.shape, data: t.data.subarray(0, count * prod(t.shape)) }
        : t;
  return { ...ds, n: count, x: ds.x.subarray(0, count * sampleSize(ds)), targets };
}

const isShared = (a: ArrayBufferView): boolean =>
  typeof SharedArrayBuffer !== 'undefined' && a.buffer instanceof SharedArrayBuffer;

function sharedCopy<T extends Float32Array | Uint8Array | Int32Array>(a: T): T {
  const Ctor = a.constructor as new (buffer: SharedArrayBuffer) => T;
  const out = new Ctor(new SharedArrayBuffer(a.byteLength));
  out.set(a);
  return out;
}

/**
 * `ds` with x and the target arrays on SharedArrayBuffers, copying only those that are not yet
 * (the loaders' datasets come back as they are). A shared dataset posted to a worker is shared,
 * not cloned: the worker's arrays are views of the same memory.
 */
export function toShared(ds: Dataset): Dataset {
  const t = ds.targets;
  let targets: Targets = t;
  if (t.kind === 'labels' && !isShared(t.data)) targets = { ...t, data: sharedCopy(t.data) };
  if (t.kind === 'tensor' && !isShared(t.data)) targets = { ...t, data: sharedCopy(t.data) };
  const x = isShared(ds.x) ? ds.x : sharedCopy(ds.x);
  return x === ds.x && targets === t ? ds : { ...ds, x, targets };
}

export interface FromArraysOptions {
  /** n*prod(sampleShape) samples, already normalised; a Float32Array is used as is, not copied */
  x: Float32Array | ArrayLike<number>;
  sampleShape: number[];
  /** class index per sample (integers in [0, classes)); or give `targets` */
  labels?: Uint8Array | Int32Array | ArrayLike<number>;
  /** number of classes; inferred as max label + 1 when absent */
  classes?: number;
  targets?: Targets;
  name?: string;
  normalization?: Normalization;
  classNames?: string[];
}

function fail(what: string): never {
  throw new InputError(`fromArrays: ${what}`);
}

function checkShape(shape: unknown, what: string): number[] {
  if (!Array.isArray(shape) || shape.length === 0 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    fail(`${what} must be a non-empty list of positive integers, got ${JSON.stringify(shape)}`);
  }
  return shape;
}

function checkFinite(data: ArrayLike<number>, what: string): void {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) fail(`${what}[${i}] is ${data[i]}, not a finite number`);
  }
}

/** Validates class indices and returns them typed, with the class count (inferred when absent). */
function checkLabels(labels: ArrayLike<number>, n: number, classes: number | undefined): { classes: number; data: Uint8Array | Int32Array } {
  if (labels.length !== n) fail(`${labels.length} labels for ${n} samples`);
  if (classes !== undefined && (!Number.isInteger(classes) || classes < 1)) fail(`classes must be an integer >= 1, got ${classes}`);
  let max = -1;
  for (let i = 0; i < n; i++) {
    const v = labels[i];
    if (!Number.isInteger(v) || v < 0 || (classes !== undefined && v >= classes)) {
      fail(`label ${i} is ${v}; labels must be integers in [0, ${classes ?? 'classes'})`);
    }
    if (v > max) max = v;
  }
  const k = classes ?? max + 1;
  if (k < 1) fail('classes cannot be inferred from zero labels; pass classes');
  const data = labels instanceof Uint8Array || labels instanceof Int32Array ? labels : Int32Array.from(labels);
  return { classes: k, data };
}

function checkTargets(t: Targets, n: number, classes: number | undefined): Targets {
  switch (t?.kind) {
    case 'labels':
      if (classes !== undefined && classes !== t.classes) fail(`classes is ${classes} but targets.classes is ${t.classes}`);
      return { kind: 'labels', ...checkLabels(t.data, n, t.classes) };
    case 'tensor': {
      const shape = checkShape(t.shape, 'targets.shape');
      if (!(t.data instanceof Float32Array)) fail('targets.data must be a Float32Array');
      const want = n * prod(shape);
      if (t.data.length !== want) fail(`targets.data holds ${t.data.length} floats; ${n} samples of shape [${shape.join(', ')}] need ${want}`);
      checkFinite(t.data, 'targets.data');
      return { kind: 'tensor', shape, data: t.data };
    }
    case 'input':
      return t;
    default:
      return fail(`targets.kind must be 'labels', 'tensor' or 'input', got ${JSON.stringify((t as { kind?: unknown })?.kind)}`);
  }
}

function checkNormalization(norm: Normalization, sampleShape: number[]): Normalization {
  const c = channelCount(sampleShape);
  const { mean, std } = norm;
  if (!Array.isArray(mean) || !Array.isArray(std)) fail('normalization needs mean and std arrays');
  if (mean.length !== std.length || (mean.length !== 1 && mean.length !== c)) {
    fail(`normalization mean and std must both have length 1 or ${c} (the channels of [${sampleShape.join(', ')}]), got ${mean.length} and ${std.length}`);
  }
  for (let i = 0; i < mean.length; i++) {
    if (!Number.isFinite(mean[i])) fail(`normalization.mean[${i}] is ${mean[i]}, not a finite number`);
    if (!Number.isFinite(std[i]) || std[i] <= 0) fail(`normalization.std[${i}] is ${std[i]}; it must be a finite number > 0`);
  }
  return { mean: [...mean], std: [...std] };
}

/**
 * An in-memory dataset from arrays an app already holds. Give `labels` (class indices) or
 * `targets` (labels, a per-sample tensor, or { kind: 'input' } for unsupervised data).
 * Validates everything and throws an InputError with one line naming the problem.
 */
export function fromArrays(opts: FromArraysOptions): Dataset {
  const sampleShape = checkShape(opts.sampleShape, 'sampleShape');
  const size = prod(sampleShape);
  if (opts.x === undefined || opts.x === null || typeof opts.x.length !== 'number') fail('x must be a Float32Array or an array of numbers');
  if (opts.x.length % size !== 0) {
    fail(`x holds ${opts.x.length} floats, not a multiple of the sample size ${size} (sampleShape [${sampleShape.join(', ')}])`);
  }
  const x = opts.x instanceof Float32Array ? opts.x : Float32Array.from(opts.x);
  checkFinite(x, 'x');
  const n = x.length / size;
  if (opts.labels !== undefined && opts.targets !== undefined) fail('give labels or targets, not both');
  let targets: Targets;
  if (opts.labels !== undefined) targets = { kind: 'labels', ...checkLabels(opts.labels, n, opts.classes) };
  else if (opts.targets !== undefined) targets = checkTargets(opts.targets, n, opts.classes);
  else return fail("give labels or targets (targets: { kind: 'input' } for unsupervised data)");
  const ds: Dataset = { name: opts.name ?? 'arrays', sampleShape: [...sampleShape], n, x, targets };
  if (opts.normalization !== undefined) ds.normalization = checkNormalization(opts.normalization, sampleShape);
  if (opts.classNames !== undefined) {
    if (targets.kind !== 'labels') fail('classNames need labels');
    if (opts.classNames.length !== targets.classes) fail(`${opts.classNames.length} classNames for ${targets.classes} classes`);
    ds.classNames = [...opts.classNames];
  }
  return ds;
}

/** [C, H, W] of an image sample shape ([H, W] is one channel); throws for any other rank. */
function imageDims(sampleShape: readonly number[]): [number, number, number] {
  if (sampleShape.length === 3) return [sampleShape[0], sampleShape[1], sampleShape[2]];
  if (sampleShape.length === 2) return [1, sampleShape[0], sampleShape[1]];
  throw new InputError(`augmentation needs image samples [C,H,W] or [H,W], got [${sampleShape.join(', ')}]`);
}

/**
 * Copies one sample from src[sOff..] to dst[dOff..], augmented. With `aug.shift` > 0 the image is
 * translated by (dy, dx), each drawn as floor(random() * (2*shift+1)) - shift, dy first; pixels
 * with no source get fill[c] (fill has one value per channel, or one for all). Then, with
 * `aug.hflip`, one more draw, random() < 0.5, mirrors the result left-right. Without either
 * it is a plain copy and draws nothing. The draw order is part of the contract: a run's
 * augmentation depends only on its seed.
 */
export function augmentInto(
  dst: Float32Array,
  dOff: number,
  src: Float32Array,
  sOff: number,
  sampleShape: number[],
  aug: Augment,
  fill: number[],
  random: () => number,
): void {
  const shift = aug.shift ?? 0;
  if (!Number.isInteger(shift) || shift < 0) throw new InputError(`augmentation shift must be an integer >= 0, got ${shift}`);
  if (shift === 0 && !aug.hflip) {
    const size = prod(sampleShape);
    dst.set(src.subarray(sOff, sOff + size), dOff);
    return;
  }
  const [c, h, w] = imageDims(sampleShape);
  if (fill.length !== 1 && fill.length !== c) throw new InputError(`augmentation fill has ${fill.length} values for ${c} channels`);
  const dy = shift > 0 ? Math.floor(random() * (2 * shift + 1)) - shift : 0;
  const dx = shift > 0 ? Math.floor(random() * (2 * shift + 1)) - shift : 0;
  const flip = aug.hflip === true && random() < 0.5;
  for (let ch = 0; ch < c; ch++) {
    const f = fill[fill.length === 1 ? 0 : ch];
    for (let y = 0; y < h; y++) {
      const sy = y - dy;
      const row = dOff + (ch * h + y) * w;
      if (sy < 0 || sy >= h) {
        dst.fill(f, row, row + w);
        continue;
      }
      const srow = sOff + (ch * h + sy) * w;
      for (let x = 0; x < w; x++) {
        // mirroring after the shift: output column x shows shifted column w-1-x
        const sx = (flip ? w - 1 - x : x) - dx;
        dst[row + x] = sx < 0 || sx >= w ? f : src[srow + sx];
      }
    }
  }
}
