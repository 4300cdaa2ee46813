// Gradient engines: how a minibatch's gradient is computed. Every engine splits the minibatch
// into fixed-size chunks (independent of the number of workers), computes each chunk's
// gradient of (chunk mean loss × chunk/batch), and sums the chunk gradients in chunk order
// (the pool with the sum_k kernel over shared slots, this thread with add: the same f32 sums). Same chunks, same order, same kernels: the same bits for
// any worker count (STYLE 19).
import type { Buf } from '../core/heap.js';
import { add, copy } from '../core/kernels/elementwise.js';
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

/**
 * The default chunk size for a minibatch: a quarter of the batch, at least 32 examples. It
 * depends on the batch size only, never on the number of workers (that is what keeps results
 * identical for any worker count): batch 64 gives 2 chunks of 32, batch 256 gives 4 of 64. A
 * chunk carries fixed costs (zeroing and copying a full gradient), so fewer, larger chunks are
 * faster while there are enough of them to keep 2–4 workers busy; set --chunk-size smaller to
 * feed more workers.
 */
export function defaultChunkSize(batch: number): number {
  return Math.max(32, Math.ceil(batch / 4));
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

/**
 * All chunks in this thread, one after another. Chunk gradients are summed into one buffer
 * in chunk order (acc = g0; acc = acc + g1; ...), which is bit for bit what sum_k computes over
 * the pool's K slots, in 2 × P floats instead of K × P.
 */
export class LocalEngine implements GradEngine {
  private acc: Buf | null = null;

  constructor(
    private readonly model: BoundModel,
    private readonly data: Dataset,
    private readonly chunk: number,
    private readonly opts: StepOptions,
  ) {}

  async minibatch(idx: Uint32Array, step: number): Promise<ChunkResult> {
    const { model } = this;
    const { core } = model;
    const grad = model.params.grad;
    const ranges = chunkRanges(idx.length, this.chunk);
    if (ranges.length > 1 && !this.acc) this.acc = core.heap.alloc(model.params.size);
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
      if (ranges.length > 1) {
        if (k === 0) copy(core, this.acc!, grad);
        else add(core, this.acc!, this.acc!, grad);
      }
      lossSum += r.lossSum;
      correct += r.correct;
    }
    if (ranges.length > 1) copy(core, grad, this.acc!);
    return { lossSum, correct };
  }

  async close(): Promise<void> {
    this.acc?.free();
    this.acc = null;
  }
}
