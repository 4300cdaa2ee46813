// A model bound to one core: the layer list, its flat parameters, a reusable tape and input
// buffers. The trainer's local path and every worker run the same ChunkRunner, which is what
// makes training bit-identical for any worker count.
import type { Core } from '../core/load.js';
import type { Buf } from '../core/heap.js';
import { Tape } from '../autograd.js';
import { Tensor, sizeOf, type Shape } from '../tensor.js';
import { Params, gaussian } from '../nn/params.js';
import type { Sequential, Ctx } from '../nn/layers.js';

export interface ChunkResult {
  /** sum of the per-example losses in the chunk */
  lossSum: number;
  /** examples whose arg-max logit is the label */
  correct: number;
}

export class BoundModel {
  readonly params: Params;
  readonly tape: Tape;
  readonly sampleShape: Shape;
  readonly classes: number;
  private xBuf: Buf | null = null;
  private yBuf: Buf | null = null;

  constructor(
    readonly core: Core,
    readonly net: Sequential,
    sampleShape: Shape,
  ) {
    this.sampleShape = sampleShape;
    this.params = new Params(core, net.paramSpecs([1, ...sampleShape]));
    this.classes = net.outShape([1, ...sampleShape])[1];
    this.tape = new Tape(core);
  }

  get sampleSize(): number {
    return sizeOf(this.sampleShape);
  }

  /** Input and label buffers large enough for `n` examples, reused across calls. */
  private inputs(n: number): { x: Buf; y: Buf } {
    if (!this.xBuf || this.xBuf.length < n * this.sampleSize) {
      this.xBuf?.free();
      this.yBuf?.free();
      this.xBuf = this.core.heap.alloc(n * this.sampleSize);
      this.yBuf = this.core.heap.alloc(n, 'i32');
    }
    return { x: this.xBuf, y: this.yBuf! };
  }

  /**
   * Loads examples `idx` of `images` (normalised, sampleSize floats each) and `labels` into the
   * input tensors; `shift` (if given) translates each image by up to ±shift pixels (zero fill)
   * with offsets drawn from `random`.
   */
  private load(images: Float32Array, labels: Uint8Array, idx: ArrayLike<number>, fillValue: number, shift = 0, random?: () => number) {
    const n = idx.length;
    const { x, y } = this.inputs(n);
    const xs = x.sub(0, n * this.sampleSize);
    const ys = y.sub(0, n);
    const xv = xs.view();
    const yv = ys.viewI32();
    const size = this.sampleSize;
    for (let i = 0; i < n; i++) {
      const src = idx[i] * size;
      if (shift > 0 && random) {
        shiftInto(xv, i * size, images, src, this.sampleShape, Math.floor(random() * (2 * shift + 1)) - shift, Math.floor(random() * (2 * shift + 1)) - shift, fillValue);
      } else {
        xv.set(images.subarray(src, src + size), i * size);
      }
      yv[i] = labels[idx[i]];
    }
    return {
      x: new Tensor(this.core, xs, [n, ...this.sampleShape], { owned: false }),
      y: new Tensor(this.core, ys, [n], { owned: false }),
    };
  }

  private ctx(training: boolean, seed: number): Ctx {
    return { tape: this.tape, params: this.params, training, random: gaussian(seed).uniform };
  }

  /**
   * Forward and backward over one chunk. Gradients of (mean chunk loss × `scale`) ACCUMULATE into
   * params.grad: the caller zeroes it. `seed` drives dropout and augmentation for this chunk.
   */
  gradChunk(
    images: Float32Array,
    labels: Uint8Array,
    idx: ArrayLike<number>,
    scale: number,
    opts: { seed: number; shift?: number; fillValue?: number },
  ): ChunkResult {
    const ctx = this.ctx(true, opts.seed);
    const rand = gaussian(opts.seed ^ 0x5bd1e995).uniform;
    const { x, y } = this.load(images, labels, idx, opts.fillValue ?? 0, opts.shift ?? 0, rand);
    try {
      const logits = this.net.forward(ctx, x);
      const loss = this.tape.apply('softmax_xent', [logits, y], {});
      const lossMean = loss.data[0];
      const correct = countCorrect(logits.data, y.buf.viewI32(), this.classes);
      this.tape.backward(loss, scale);
      return { lossSum: lossMean * idx.length, correct };
    } finally {
      this.tape.dispose();
    }
  }

  /** Inference over `idx` in batches: loss sum, correct count and predictions. */
  evaluate(images: Float32Array, labels: Uint8Array, n: number, batch: number, preds?: Uint8Array): ChunkResult {
    let lossSum = 0;
    let correct = 0;
    const ctx = this.ctx(false, 0);
    const idx = new Uint32Array(batch);
    for (let start = 0; start < n; start += batch) {
      const m = Math.min(batch, n - start);
      for (let i = 0; i < m; i++) idx[i] = start + i;
      const { x, y } = this.load(images, labels, idx.subarray(0, m), 0);
      try {
        this.tape.noGrad(() => {
          const logits = this.net.forward(ctx, x);
          const loss = this.tape.apply('softmax_xent', [logits, y], {});
          lossSum += loss.data[0] * m;
          correct += countCorrect(logits.data, y.buf.viewI32(), this.classes, preds, start);
        });
      } finally {
        this.tape.dispose();
      }
    }
    return { lossSum, correct };
  }

  /** Logits for a batch of already-normalised inputs (inference API). */
  predict(input: Float32Array, n: number): Float32Array {
    const xs = this.core.heap.from(input);
    try {
      const x = new Tensor(this.core, xs, [n, ...this.sampleShape], { owned: false });
      return this.tape.noGrad(() => Float32Array.from(this.net.forward(this.ctx(false, 0), x).data));
    } finally {
      this.tape.dispose();
      xs.free();
    }
  }

  free(): void {
    this.tape.dispose();
    this.xBuf?.free();
    this.yBuf?.free();
    this.xBuf = this.yBuf = null;
    this.params.free();
  }
}

function countCorrect(logits: Float32Array, labels: Int32Array, classes: number, preds?: Uint8Array, offset = 0): number {
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    let best = 0;
    for (let j = 1; j < classes; j++) if (logits[i * classes + j] > logits[i * classes + best]) best = j;
    if (best === labels[i]) correct++;
    if (preds) preds[offset + i] = best;
  }
  return correct;
}

/** Copies a [C,H,W] image translated by (dy, dx), filling uncovered pixels with `fill`. */
function shiftInto(dst: Float32Array, d0: number, src: Float32Array, s0: number, shape: Shape, dy: number, dx: number, fill: number): void {
  const [c, h, w] = shape.length === 3 ? shape : [1, shape[0], shape[1]];
  for (let ch = 0; ch < c; ch++) {
    for (let y = 0; y < h; y++) {
      const sy = y - dy;
      const row = d0 + (ch * h + y) * w;
      if (sy < 0 || sy >= h) {
        dst.fill(fill, row, row + w);
        continue;
      }
      const srow = s0 + (ch * h + sy) * w;
      for (let x = 0; x < w; x++) {
        const sx = x - dx;
        dst[row + x] = sx < 0 || sx >= w ? fill : src[srow + sx];
      }
    }
  }
}
