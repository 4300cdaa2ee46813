// Segments: several chunks of a minibatch run through the network as one batch, with each
// chunk's parameter gradients and loss kept apart. Ops that compute every example on its own
// (convolution, dense, activations, pooling, reshape, add, concat) give each example's output
// and input gradient the bits they have in a batch of its chunk alone (the kernels' per-element
// arithmetic does not depend on the batch size: test/segments.test.ts), so only the reductions
// over examples need splitting: the weight and bias gradients (one kernel call per segment, into
// that segment's buffer) and the loss (one mean per segment). Ops that mix examples (BatchNorm's
// statistics, dropout's mask drawn over the whole tensor) do not run under segments.
import type { Buf } from '../core/heap.js';
import type { Tensor } from '../tensor.js';

export interface Segments {
  /** segment k is examples [bounds[k], bounds[k + 1]) of the batch */
  readonly bounds: readonly number[];
  /**
   * Where segment k's gradient of parameter `t` goes. `whole`: the kernel adds one complete sum
   * per element (a dense weight over at most LINEAR_WEIGHT_WHOLE_ROWS rows), so several segments
   * may accumulate into one buffer in turn; `overwrite`: nothing is there yet, write over it.
   */
  grad(t: Tensor, k: number, whole: boolean): { buf: Buf; overwrite: boolean };
  /**
   * Where the sum of every segment's gradient of `t`, added left to right, goes when the kernel
   * forms that sum itself (a dense weight's segments written whole one after another): one
   * buffer, to overwrite. Null: write segment by segment through `grad`.
   */
  gradAll?(t: Tensor): Buf | null;
}

/** The rows of every segment but the last, when they are all equal and the last is no longer; else null. */
export function uniformRows(bounds: readonly number[]): number | null {
  const rows = bounds[1] - bounds[0];
  for (let k = 1; k + 1 < bounds.length; k++) {
    const n = bounds[k + 1] - bounds[k];
    if (n > rows || (n < rows && k + 2 < bounds.length)) return null;
  }
  return rows;
}

/**
 * The most examples run as segments of one batch: a group of chunks larger than this runs chunk
 * by chunk (memory: a group's activations are all alive at once).
 */
export const SEGMENT_MAX_ROWS = 256;

/** How an op runs under segments: per example as it is, or with its reductions over examples split. */
export type SegmentMode = 'per-example' | 'split';

/** Thrown by the tape when an op that cannot run under segments is applied under them. */
export class SegmentsUnsupported extends Error {
  constructor(readonly op: string) {
    super(`${op} mixes the examples of a batch, so it cannot run chunks as segments of one batch`);
  }
}
