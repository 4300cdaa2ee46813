// Segments: several chunks of a minibatch run through the network as one batch, with each
// chunk's parameter gradients and loss kept apart. Ops that compute every example on its own
// (convolution, dense, activations, pooling, reshape, add, concat) give each example's output
// and input gradient the bits they have in a batch of its chunk alone (the kernels' per-element
// arithmetic does not depend on the batch size: test/segments.test.ts), so only the reductions
// over examples need splitting: the weight and bias gradients (one kernel call per segment, into
// that segment's buffer; the engines take dense weights' rows instead, src/ops/weight_rows.ts)
// and the loss (one mean per segment). Ops that mix examples (BatchNorm's
// statistics, dropout's mask drawn over the whole tensor) do not run under segments.
import type { Buf } from '../core/heap.js';
import type { Tensor } from '../tensor.js';

export interface Segments {
  /** segment k is examples [bounds[k], bounds[k + 1]) of the batch */
  readonly bounds: readonly number[];
  /** Where segment k's gradient of parameter `t` goes; `overwrite`: nothing is there yet, write over it. */
  grad(t: Tensor, k: number): { buf: Buf; overwrite: boolean };
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
