// Gradient engines: how a minibatch's gradient is computed. Every engine splits the minibatch
// into fixed-size chunks (independent of the number of workers), computes each chunk's
// gradient of (chunk mean loss × chunk/batch) into its own slot, and reduces the slots in
// chunk order with the sum_k kernel. Same chunks, same order, same kernels: the same bits for
// any worker count (STYLE 19).
import type { Buf } from '../core/heap.js';
import { copy, sumK } from '../core/kernels/elementwise.js';
import type { BoundModel, ChunkResult } from './model.js';

export interface Dataset {
  /** normalised images, sampleSize floats each */
  images: Float32Array;
  labels: Uint8Array;
  n: number;
}

export interface StepOptions {
  /** pixels of random translation for augmentation (0: none) */
  shift: number;
  /** value of the background after normalisation (what shifted-in pixels get) */
  fillValue: number;
  seed: number;
}

export interface GradEngine {
  /** Computes the minibatch gradient into model.params.grad (overwritten). */
  minibatch(idx: Uint32Array, step: number): Promise<ChunkResult>;
  close(): Promise<void>;
}

/** Splits n examples into chunks of `chunk` (the last may be shorter). */
export function chunkRanges(n: number, chunk: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let s = 0; s < n; s += chunk) out.push([s, Math.min(n, s + chunk)]);
  return out;
}

/** The seed of chunk k of step s: distinct per chunk, independent of which worker runs it. */
export function chunkSeed(seed: number, step: number, k: number): number {
  let h = (seed ^ Math.imul(step + 1, 0x9e3779b1) ^ Math.imul(k + 1, 0x85ebca77)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  return (h ^ (h >>> 15)) >>> 0;
}

/** Reduces chunk gradient slots (k × P floats, chunk order) into the parameters' gradient. */
export function reduceSlots(model: BoundModel, slots: Buf, k: number): void {
  const p = model.params.size;
  sumK(model.core, model.params.grad, slots, k, p);
}

/** All chunks in this thread, one after another. */
export class LocalEngine implements GradEngine {
  private slots: Buf | null = null;

  constructor(
    private readonly model: BoundModel,
    private readonly data: Dataset,
    private readonly chunk: number,
    private readonly opts: StepOptions,
  ) {}

  async minibatch(idx: Uint32Array, step: number): Promise<ChunkResult> {
    const { model } = this;
    const ranges = chunkRanges(idx.length, this.chunk);
    const p = model.params.size;
    if (!this.slots || this.slots.length < ranges.length * p) {
      this.slots?.free();
      this.slots = model.core.heap.alloc(ranges.length * p);
    }
    let lossSum = 0;
    let correct = 0;
    for (let k = 0; k < ranges.length; k++) {
      const [s, e] = ranges[k];
      model.params.zeroGrad();
      const r = model.gradChunk(this.data.images, this.data.labels, idx.subarray(s, e), (e - s) / idx.length, {
        seed: chunkSeed(this.opts.seed, step, k),
        shift: this.opts.shift,
        fillValue: this.opts.fillValue,
      });
      copy(model.core, this.slots.sub(k * p, p), model.params.grad);
      lossSum += r.lossSum;
      correct += r.correct;
    }
    reduceSlots(model, this.slots, ranges.length);
    return { lossSum, correct };
  }

  async close(): Promise<void> {
    this.slots?.free();
    this.slots = null;
  }
}
