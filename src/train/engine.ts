// Gradient engines: how a minibatch's gradient is computed. Every engine splits the minibatch
// into fixed-size chunks (independent of the number of workers), computes each chunk's
// gradient of (chunk mean loss × chunk/batch), and sums the chunk gradients in chunk order
// (the pool with the sum_k kernel over shared slots, this thread with add: the same f32 sums). Same chunks, same order, same kernels: the same bits for
// any worker count (STYLE 19).
import type { Buf } from '../core/heap.js';
import { add, copy } from '../core/kernels/elementwise.js';
import { combineStats, type BoundModel, type ChunkResult } from './model.js';
import type { Augment, Dataset } from '../data/dataset.js';

export interface StepOptions {
  seed: number;
  augment: Augment;
  /** per channel: the value of the background after normalisation (what shifted-in pixels get) */
  fill: number[];
}

export interface GradEngine {
  /**
   * Computes the minibatch gradient into model.params.grad (overwritten); the result's stats
   * are the chunks' BatchNorm statistics combined in chunk order.
   */
  minibatch(idx: Uint32Array, step: number): Promise<ChunkResult>;
  close(): Promise<void>;
}

/**
 * The default chunk size for a minibatch: a sixteenth of the batch, at least 8 examples. It
 * depends on the batch size only, never on the number of workers (that is what keeps results
 * identical for any worker count): batch 64 gives 8 chunks of 8, batch 256 gives 16 of 16, so
 * the default batch can feed 8 workers and batch 256 16. A chunk carries fixed costs (zeroing
 * and copying a full gradient) and small chunks run smaller GEMMs, so on 2 cores a larger
 * --chunk-size is a little faster (bench/README.md gives the figures); results depend on it.
 */
export function defaultChunkSize(batch: number): number {
  return Math.max(8, Math.ceil(batch / 16));
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
    const parts: Array<ChunkResult & { n: number }> = [];
    for (let k = 0; k < ranges.length; k++) {
      const [s, e] = ranges[k];
      model.params.zeroGrad();
      const r = model.gradChunk(this.data, idx.subarray(s, e), (e - s) / idx.length, {
        seed: chunkSeed(this.opts.seed, step, k),
        augment: this.opts.augment,
        fill: this.opts.fill,
      });
      if (ranges.length > 1) {
        if (k === 0) copy(core, this.acc!, grad);
        else add(core, this.acc!, this.acc!, grad);
      }
      parts.push({ ...r, n: e - s });
    }
    if (ranges.length > 1) copy(core, grad, this.acc!);
    return sumChunks(parts, idx.length);
  }

  async close(): Promise<void> {
    this.acc?.free();
    this.acc = null;
  }
}

/** The minibatch's result from its chunks' (in chunk order). */
export function sumChunks(parts: Array<ChunkResult & { n: number }>, total: number): ChunkResult {
  let lossSum = 0;
  let correct = 0;
  for (const r of parts) {
    lossSum += r.lossSum;
    correct += r.correct;
  }
  const stats = combineStats(parts, total);
  return { lossSum, correct, ...(stats ? { stats } : {}) };
}
