// Where a dense layer's backward may leave its weight gradient undone: an engine that forms the
// minibatch's weight gradient as one product over the whole batch (src/train/weight_rows.ts)
// takes the layer's input rows x and output-gradient rows dy instead, and the layer then writes
// no gradient of that weight. The rows are the same whatever computes them (each example's are
// computed on their own), which is what lets the engines give the same bits for any worker count.
import type { Buf } from '../core/heap.js';
import type { LinearDims } from '../core/kernels/linear.js';
import type { Tensor } from '../tensor.js';

export interface WeightRows {
  /**
   * Offered by the dense layer's backward for weight `w`: x [d.m, d.inF] and dy [d.m, d.outF] of
   * the examples it ran. True: taken (copied away before the call returns), and the layer must
   * not write w's gradient; false: the layer writes it as usual.
   */
  take(w: Tensor, x: Buf, dy: Buf, d: LinearDims): boolean;
}
