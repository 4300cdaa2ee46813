// The op table (STYLE 9): the one list of differentiable ops. Autograd runs forward/backward
// from it; the gradient checks, the PyTorch comparisons and the benchmarks iterate it. Each
// entry owns its shape inference (with clear errors), forward (overwrites its output),
// backward (accumulates into the inputs that need a gradient, and only those), FLOP count and
// grad-check cases. `satisfies Record<OpName, OpDef>` keeps the table exhaustive.
import type { Core } from '../core/load.js';
import type { Buf } from '../core/heap.js';
import { Tensor, sizeOf, shapeStr, type Shape } from '../tensor.js';
import { geomOut, type Geom2d } from './shapes.js';
import {
  conv2dForward,
  conv2dBackwardData,
  conv2dBackwardFilter,
  conv2dBackwardBias,
  type Conv2dGeom,
} from '../core/kernels/conv2d.js';
import { linearForward, linearBackwardData, linearBackwardWeight, linearBackwardBias } from '../core/kernels/linear.js';
import { maxpool2dForward, maxpool2dBackward, avgpool2dForward, avgpool2dBackward } from '../core/kernels/pool.js';
import {
  reluForward,
  reluBackward,
  sigmoidForward,
  sigmoidBackward,
  tanhForward,
  tanhBackward,
  dropoutForward,
  dropoutBackward,
} from '../core/kernels/activation.js';
import {
  softmaxXentForward,
  softmaxXentBackward,
  softmaxXentSmoothForward,
  softmaxXentSmoothBackward,
  checkLabelSmoothing,
} from '../core/kernels/softmax_xent.js';
import { mseForward, mseBackward, bceLogitsForward, bceLogitsBackward } from '../core/kernels/losses.js';

/** Buffers an op keeps from forward for backward (freed with the tape). */
export type Saved = Record<string, Buf | undefined> | undefined;

export interface OpNode<A> {
  inputs: Tensor[];
  out: Tensor;
  attrs: A;
  saved: Saved;
}

/** A grad-check case: input shapes and attrs; labels inputs get integer data. */
export interface GradCase<A> {
  shapes: Shape[];
  attrs: A;
}

export interface OpDef<A> {
  inputs: readonly string[];
  /** per input: does a gradient flow into it (labels do not) */
  differentiable: readonly boolean[];
  /** output shares the first input's data (reshape) */
  alias?: boolean;
  outShape(shapes: Shape[], attrs: A): Shape;
  forward(core: Core, out: Tensor, ins: Tensor[], attrs: A): Saved;
  backward(core: Core, node: OpNode<A>, needs: boolean[]): void;
  flops(shapes: Shape[], attrs: A): number;
  /** FLOPs of the backward pass for the inputs that need a gradient (default: as forward) */
  backwardFlops?(shapes: Shape[], attrs: A, needs: boolean[]): number;
  /**
   * Bytes the forward kernel must read and write at minimum (f32 and i32 elements are 4 bytes):
   * each input, weight, output and saved buffer once. The benchmarks' GB/s (STYLE 27, 28).
   */
  bytes?(shapes: Shape[], attrs: A): number;
  /**
   * Bytes of the backward kernels for the inputs that need a gradient, summed over those
   * kernels: each reads dy and what else it needs once, and reads and writes the gradient it
   * accumulates into (default: as forward).
   */
  backwardBytes?(shapes: Shape[], attrs: A, needs: boolean[]): number;
  gradcheck: {
    cases: GradCase<A>[];
    /** inputs with integer class labels in [0, classes) (softmax_xent) */
    labels?: { input: number; classes: (shapes: Shape[]) => number };
    /** keep inputs away from kinks (ReLU at 0, tied maxima): min |x| and min gap */
    awayFromKinks?: boolean;
  };
}

export interface Conv2dAttrs {
  stride: [number, number];
  pad: [number, number];
}
export interface Pool2dAttrs {
  kernel: [number, number];
  stride: [number, number];
  pad: [number, number];
}
export interface DropoutAttrs {
  p: number;
  /** the mask, made by the caller's seeded PRNG: 0 or 1/(1-p) per element */
  mask: Float32Array;
}
export type NoAttrs = Record<string, never>;
export interface SoftmaxXentAttrs {
  /** eps in [0, 1): the target is (1 - eps) * onehot + eps / C (PyTorch label_smoothing); absent or 0: none */
  labelSmoothing?: number;
}

function rank(op: string, name: string, s: Shape, r: number): void {
  if (s.length !== r) throw new Error(`${op}: ${name} must have rank ${r}, got shape ${shapeStr(s)}`);
}

function convGeom(x: Shape, w: Shape, a: Conv2dAttrs): Conv2dGeom {
  return { n: x[0], c: x[1], h: x[2], w: x[3], oc: w[0], kh: w[2], kw: w[3], sh: a.stride[0], sw: a.stride[1], ph: a.pad[0], pw: a.pad[1] };
}

function poolGeom(x: Shape, a: Pool2dAttrs): Geom2d {
  return { n: x[0], c: x[1], h: x[2], w: x[3], kh: a.kernel[0], kw: a.kernel[1], sh: a.stride[0], sw: a.stride[1], ph: a.pad[0], pw: a.pad[1] };
}

function poolShape(op: string, [x]: Shape[], a: Pool2dAttrs): Shape {
  rank(op, 'x', x, 4);
  const { oh, ow } = geomOut(op, poolGeom(x, a));
  return [x[0], x[1], oh, ow];
}

/** The one shape of two inputs that must match (losses against a target); names both shapes when they differ. */
function sameShape(op: string, [an, bn]: [string, string], [a, b]: Shape[]): Shape {
  if (a.length !== b.length || a.some((d, i) => d !== b[i])) {
    throw new Error(`${op}: ${bn} ${shapeStr(b)} must have the shape of ${an} ${shapeStr(a)}`);
  }
  return [1];
}

/** Runs a forward kernel that fills a buffer the op saves; frees the buffer if the kernel throws (bad input). */
function freeOnThrow<T>(saved: Buf, run: () => T): T {
  try {
    return run();
  } catch (e) {
    saved.free();
    throw e;
  }
}

/** An elementwise activation whose backward reads the output y. */
function activation(
  fwd: (core: Core, y: Buf, x: Buf) => void,
  bwd: (core: Core, dx: Buf, dy: Buf, y: Buf) => void,
  flopsPerElement: number,
  awayFromKinks = false,
): OpDef<NoAttrs> {
  return {
    inputs: ['x'],
    differentiable: [true],
    outShape: ([x]) => x,
    forward(core, out, [x]) {
      fwd(core, out.buf, x.buf);
      return undefined;
    },
    backward(core, { inputs: [x], out }) {
      bwd(core, x.ensureGrad(), out.grad!, out.buf);
    },
    flops: ([x]) => flopsPerElement * sizeOf(x),
    // forward reads x, writes y; backward reads dy and y, reads and writes dx
    bytes: ([x]) => 4 * 2 * sizeOf(x),
    backwardBytes: ([x]) => 4 * 4 * sizeOf(x),
    gradcheck: { cases: [{ shapes: [[3, 7]], attrs: {} }, { shapes: [[2, 3, 5, 5]], attrs: {} }], awayFromKinks },
  };
}

export const OPS = {
  /** y = conv(x, w) + b; x [n,c,h,w], w [oc,c,kh,kw], b [oc] → y [n,oc,oh,ow] */
  conv2d: {
    inputs: ['x', 'weight', 'bias'],
    differentiable: [true, true, true],
    outShape([x, w, b], a: Conv2dAttrs) {
      rank('conv2d', 'x', x, 4);
      rank('conv2d', 'weight', w, 4);
      rank('conv2d', 'bias', b, 1);
      if (w[1] !== x[1]) throw new Error(`conv2d: weight ${shapeStr(w)} expects ${w[1]} input channels, x ${shapeStr(x)} has ${x[1]}`);
      if (b[0] !== w[0]) throw new Error(`conv2d: bias ${shapeStr(b)} must have ${w[0]} elements (one per output channel)`);
      const { oh, ow } = geomOut('conv2d', convGeom(x, w, a));
      return [x[0], w[0], oh, ow];
    },
    forward(core, out, [x, w, b], a) {
      conv2dForward(core, out.buf, x.buf, w.buf, b.buf, convGeom(x.shape, w.shape, a));
      return undefined;
    },
    backward(core, { inputs: [x, w, b], out, attrs }, needs) {
      const g = convGeom(x.shape, w.shape, attrs);
      const dy = out.grad!;
      if (needs[0]) conv2dBackwardData(core, x.ensureGrad(), dy, w.buf, g);
      if (needs[1]) conv2dBackwardFilter(core, w.ensureGrad(), dy, x.buf, g);
      if (needs[2]) conv2dBackwardBias(core, b.ensureGrad(), dy, g);
    },
    flops([x, w], a) {
      const { oh, ow } = geomOut('conv2d', convGeom(x, w, a));
      return 2 * x[0] * w[0] * oh * ow * w[1] * w[2] * w[3];
    },
    backwardFlops(s, a, needs) {
      const { oh, ow } = geomOut('conv2d', convGeom(s[0], s[1], a));
      const gemm = this.flops(s, a);
      return gemm * (Number(needs[0]) + Number(needs[1])) + (needs[2] ? s[0][0] * s[1][0] * oh * ow : 0);
    },
    bytes([x, w, b], a) {
      const { oh, ow } = geomOut('conv2d', convGeom(x, w, a));
      return 4 * (sizeOf(x) + sizeOf(w) + sizeOf(b) + x[0] * w[0] * oh * ow);
    },
    backwardBytes([x, w, b], a, needs) {
      const { oh, ow } = geomOut('conv2d', convGeom(x, w, a));
      const dy = x[0] * w[0] * oh * ow;
      const data = needs[0] ? dy + sizeOf(w) + 2 * sizeOf(x) : 0;
      const filter = needs[1] ? dy + sizeOf(x) + 2 * sizeOf(w) : 0;
      const bias = needs[2] ? dy + 2 * sizeOf(b) : 0;
      return 4 * (data + filter + bias);
    },
    gradcheck: {
      cases: [
        { shapes: [[2, 3, 7, 6], [4, 3, 3, 3], [4]], attrs: { stride: [1, 1], pad: [1, 1] } },
        { shapes: [[1, 2, 9, 9], [3, 2, 3, 2], [3]], attrs: { stride: [2, 1], pad: [0, 1] } },
        { shapes: [[2, 1, 8, 8], [5, 1, 5, 5], [5]], attrs: { stride: [1, 1], pad: [2, 2] } },
      ],
    },
  } satisfies OpDef<Conv2dAttrs>,

  /** y = x Wᵀ + b; x [m,in], W [out,in] (PyTorch layout), b [out] → y [m,out] */
  linear: {
    inputs: ['x', 'weight', 'bias'],
    differentiable: [true, true, true],
    outShape([x, w, b]) {
      rank('linear', 'x', x, 2);
      rank('linear', 'weight', w, 2);
      rank('linear', 'bias', b, 1);
      if (w[1] !== x[1]) throw new Error(`linear: weight ${shapeStr(w)} expects ${w[1]} input features, x ${shapeStr(x)} has ${x[1]}`);
      if (b[0] !== w[0]) throw new Error(`linear: bias ${shapeStr(b)} must have ${w[0]} elements`);
      return [x[0], w[0]];
    },
    forward(core, out, [x, w, b]) {
      linearForward(core, out.buf, x.buf, w.buf, b.buf, { m: x.shape[0], inF: x.shape[1], outF: w.shape[0] });
      return undefined;
    },
    backward(core, { inputs: [x, w, b], out }, needs) {
      const d = { m: x.shape[0], inF: x.shape[1], outF: w.shape[0] };
      const dy = out.grad!;
      if (needs[0]) linearBackwardData(core, x.ensureGrad(), dy, w.buf, d);
      if (needs[1]) linearBackwardWeight(core, w.ensureGrad(), dy, x.buf, d);
      if (needs[2]) linearBackwardBias(core, b.ensureGrad(), dy, d);
    },
    flops: ([x, w]) => 2 * x[0] * x[1] * w[0],
    backwardFlops: ([x, w], _a, needs) => 2 * x[0] * x[1] * w[0] * (Number(needs[0]) + Number(needs[1])) + (needs[2] ? x[0] * w[0] : 0),
    bytes: ([x, w, b]) => 4 * (sizeOf(x) + sizeOf(w) + sizeOf(b) + x[0] * w[0]),
    backwardBytes([x, w, b], _a, needs) {
      const dy = x[0] * w[0];
      const data = needs[0] ? dy + sizeOf(w) + 2 * sizeOf(x) : 0;
      const weight = needs[1] ? dy + sizeOf(x) + 2 * sizeOf(w) : 0;
      const bias = needs[2] ? dy + 2 * sizeOf(b) : 0;
      return 4 * (data + weight + bias);
    },
    gradcheck: { cases: [{ shapes: [[3, 7], [5, 7], [5]], attrs: {} }, { shapes: [[1, 13], [9, 13], [9]], attrs: {} }] },
  } satisfies OpDef<NoAttrs>,

  /** max over kh x kw windows; records the arg-max for backward */
  maxpool2d: {
    inputs: ['x'],
    differentiable: [true],
    outShape: (s, a: Pool2dAttrs) => poolShape('maxpool2d', s, a),
    forward(core, out, [x], a) {
      const argmax = core.heap.alloc(out.size, 'i32', false);
      freeOnThrow(argmax, () => maxpool2dForward(core, out.buf, argmax, x.buf, poolGeom(x.shape, a)));
      return { argmax };
    },
    backward(core, { inputs: [x], out, attrs, saved }) {
      maxpool2dBackward(core, x.ensureGrad(), out.grad!, saved!.argmax!, poolGeom(x.shape, attrs));
    },
    flops: (s, a) => sizeOf(poolShape('maxpool2d', s, a)) * a.kernel[0] * a.kernel[1],
    // x and y once, plus the i32 arg-max it saves
    bytes(s, a) {
      const out = sizeOf(poolShape('maxpool2d', s, a));
      return 4 * (sizeOf(s[0]) + out) + 4 * out;
    },
    // dy and the arg-max once; dx read and written only where a max was (at most min(out, in) places)
    backwardBytes(s, a) {
      const out = sizeOf(poolShape('maxpool2d', s, a));
      return 4 * 2 * out + 4 * 2 * Math.min(out, sizeOf(s[0]));
    },
    gradcheck: {
      cases: [
        { shapes: [[2, 3, 6, 6]], attrs: { kernel: [2, 2], stride: [2, 2], pad: [0, 0] } },
        { shapes: [[1, 2, 7, 5]], attrs: { kernel: [3, 3], stride: [2, 2], pad: [1, 1] } },
      ],
      awayFromKinks: true,
    },
  } satisfies OpDef<Pool2dAttrs>,

  /** mean over kh x kw windows (padding counted, as PyTorch's default) */
  avgpool2d: {
    inputs: ['x'],
    differentiable: [true],
    outShape: (s, a: Pool2dAttrs) => poolShape('avgpool2d', s, a),
    forward(core, out, [x], a) {
      avgpool2dForward(core, out.buf, x.buf, poolGeom(x.shape, a));
      return undefined;
    },
    backward(core, { inputs: [x], out, attrs }) {
      avgpool2dBackward(core, x.ensureGrad(), out.grad!, poolGeom(x.shape, attrs));
    },
    flops: (s, a) => sizeOf(poolShape('avgpool2d', s, a)) * a.kernel[0] * a.kernel[1],
    bytes: (s, a) => 4 * (sizeOf(s[0]) + sizeOf(poolShape('avgpool2d', s, a))),
    // dy once; dx read and written
    backwardBytes: (s, a) => 4 * (sizeOf(poolShape('avgpool2d', s, a)) + 2 * sizeOf(s[0])),
    gradcheck: {
      cases: [
        { shapes: [[2, 3, 6, 6]], attrs: { kernel: [2, 2], stride: [2, 2], pad: [0, 0] } },
        { shapes: [[1, 2, 7, 5]], attrs: { kernel: [3, 3], stride: [2, 2], pad: [1, 1] } },
      ],
    },
  } satisfies OpDef<Pool2dAttrs>,

  relu: activation(reluForward, reluBackward, 1, true),
  sigmoid: activation(sigmoidForward, sigmoidBackward, 4),
  tanh: activation(tanhForward, tanhBackward, 4),

  /** y = x * mask, mask in {0, 1/(1-p)} made by the caller's seeded PRNG */
  dropout: {
    inputs: ['x'],
    differentiable: [true],
    outShape([x], a: DropoutAttrs) {
      if (a.mask.length !== sizeOf(x)) throw new Error(`dropout: mask has ${a.mask.length} elements, x ${shapeStr(x)} has ${sizeOf(x)}`);
      return x;
    },
    forward(core, out, [x], a) {
      const mask = core.heap.from(a.mask);
      freeOnThrow(mask, () => dropoutForward(core, out.buf, x.buf, mask));
      return { mask };
    },
    backward(core, { inputs: [x], out, saved }) {
      dropoutBackward(core, x.ensureGrad(), out.grad!, saved!.mask!);
    },
    flops: ([x]) => sizeOf(x),
    // forward reads x and the mask, writes y; backward reads dy and the mask, reads and writes dx
    bytes: ([x]) => 4 * 3 * sizeOf(x),
    backwardBytes: ([x]) => 4 * 4 * sizeOf(x),
    gradcheck: {
      cases: [{ shapes: [[4, 9]], attrs: { p: 0.5, mask: Float32Array.from({ length: 36 }, (_, i) => (i % 3 === 0 ? 0 : 2)) } }],
    },
  } satisfies OpDef<DropoutAttrs>,

  /** the same data under another shape (flatten); shares data and gradient with x */
  reshape: {
    inputs: ['x'],
    differentiable: [true],
    alias: true,
    outShape([x], a: { shape: Shape }) {
      if (sizeOf(a.shape) !== sizeOf(x)) throw new Error(`reshape: cannot view ${shapeStr(x)} as ${shapeStr(a.shape)}`);
      return a.shape;
    },
    forward: () => undefined,
    backward(_core, { inputs: [x], out }) {
      // out.grad is x's gradient buffer (Tensor.ensureGrad shares it): it already accumulated there
      if (x.grad !== out.grad) throw new Error('reshape: gradient buffers diverged');
    },
    flops: () => 0,
    bytes: () => 0,
    gradcheck: { cases: [{ shapes: [[2, 3, 4]], attrs: { shape: [6, 4] } }] },
  } satisfies OpDef<{ shape: Shape }>,

  /**
   * mean cross-entropy of softmax(logits) against integer labels; logits [n,c], labels [n] (i32)
   * → [1]. attrs.labelSmoothing eps in [0, 1) mixes eps/C of every class into the target
   * (PyTorch label_smoothing); absent or 0 runs the plain kernels, bit for bit as before.
   */
  softmax_xent: {
    inputs: ['logits', 'labels'],
    differentiable: [true, false],
    outShape([l, y], a: SoftmaxXentAttrs) {
      rank('softmax_xent', 'logits', l, 2);
      rank('softmax_xent', 'labels', y, 1);
      if (y[0] !== l[0]) throw new Error(`softmax_xent: ${y[0]} labels for ${l[0]} rows of logits`);
      if (a.labelSmoothing !== undefined) checkLabelSmoothing('softmax_xent', a.labelSmoothing);
      return [1];
    },
    forward(core, out, [logits, labels], a) {
      const d = { n: logits.shape[0], c: logits.shape[1] };
      const eps = a.labelSmoothing ?? 0;
      const probs = core.heap.alloc(logits.size, 'f32', false);
      const loss = freeOnThrow(probs, () =>
        eps === 0
          ? softmaxXentForward(core, probs, logits.buf, labels.buf, d)
          : softmaxXentSmoothForward(core, probs, logits.buf, labels.buf, d, eps),
      );
      out.buf.view()[0] = loss;
      return { probs };
    },
    backward(core, { inputs: [logits, labels], out, saved, attrs }) {
      const d = { n: logits.shape[0], c: logits.shape[1] };
      const eps = attrs.labelSmoothing ?? 0;
      const scale = out.grad!.view()[0];
      if (eps === 0) softmaxXentBackward(core, logits.ensureGrad(), saved!.probs!, labels.buf, d, scale);
      else softmaxXentSmoothBackward(core, logits.ensureGrad(), saved!.probs!, labels.buf, d, eps, scale);
    },
    // smoothing adds one subtraction and one addition per logit (the row sum of max - x)
    flops: ([l], a) => (a.labelSmoothing ? 7 : 5) * sizeOf(l),
    // forward reads the logits and labels (i32), writes the probs it saves; backward reads the
    // probs and labels, reads and writes dlogits
    bytes: ([l, y]) => 4 * 2 * sizeOf(l) + 4 * sizeOf(y),
    backwardBytes: ([l, y]) => 4 * 3 * sizeOf(l) + 4 * sizeOf(y),
    gradcheck: {
      cases: [
        { shapes: [[5, 7], [5]], attrs: {} },
        { shapes: [[1, 10], [1]], attrs: {} },
        { shapes: [[5, 7], [5]], attrs: { labelSmoothing: 0.1 } },
        { shapes: [[3, 10], [3]], attrs: { labelSmoothing: 0.35 } },
      ],
      labels: { input: 1, classes: (s) => s[0][1] },
    },
  } satisfies OpDef<SoftmaxXentAttrs>,

  // ---- regression and binary losses (means over all elements) ----------------------------

  /** mean over all elements of (pred - target)²; pred and target of one shape, any rank → [1] */
  mse: {
    inputs: ['pred', 'target'],
    differentiable: [true, false],
    outShape: (s) => sameShape('mse', ['pred', 'target'], s),
    forward(core, out, [pred, target]) {
      out.buf.view()[0] = mseForward(core, pred.buf, target.buf);
      return undefined;
    },
    backward(core, { inputs: [pred, target], out }) {
      mseBackward(core, pred.ensureGrad(), pred.buf, target.buf, out.grad!.view()[0]);
    },
    // a subtraction, a multiply and an add per element
    flops: ([p]) => 3 * sizeOf(p),
    backwardFlops: ([p]) => 3 * sizeOf(p),
    // forward reads pred and target; backward reads them and reads and writes dpred
    bytes: ([p]) => 4 * 2 * sizeOf(p),
    backwardBytes: ([p]) => 4 * 4 * sizeOf(p),
    gradcheck: {
      cases: [
        { shapes: [[3, 7], [3, 7]], attrs: {} },
        { shapes: [[2, 3, 5], [2, 3, 5]], attrs: {} },
        { shapes: [[1], [1]], attrs: {} },
      ],
    },
  } satisfies OpDef<NoAttrs>,

  /**
   * binary cross-entropy of sigmoid(logits) against targets in [0, 1], mean over all elements
   * (PyTorch binary_cross_entropy_with_logits); logits and target of one shape → [1]. Saves
   * sigmoid(logits) - target, computed where it keeps its bits for large |logits|.
   */
  bce_logits: {
    inputs: ['logits', 'target'],
    differentiable: [true, false],
    outShape: (s) => sameShape('bce_logits', ['logits', 'target'], s),
    forward(core, out, [logits, target]) {
      const resid = core.heap.alloc(logits.size, 'f32', false);
      out.buf.view()[0] = freeOnThrow(resid, () => bceLogitsForward(core, resid, logits.buf, target.buf));
      return { resid };
    },
    backward(core, { inputs: [logits], out, saved }) {
      bceLogitsBackward(core, logits.ensureGrad(), saved!.resid!, out.grad!.view()[0]);
    },
    // exp (~12), log1p series (~16), the residual (~4) and the sum per element
    flops: ([l]) => 33 * sizeOf(l),
    backwardFlops: ([l]) => 2 * sizeOf(l),
    // forward reads logits and target, writes the residual it saves; backward reads the
    // residual, reads and writes dlogits
    bytes: ([l]) => 4 * 3 * sizeOf(l),
    backwardBytes: ([l]) => 4 * 3 * sizeOf(l),
    gradcheck: {
      // targets are drawn in [-1, 1]: the loss and its gradient sigmoid(x) - t hold for any t
      cases: [
        { shapes: [[4, 9], [4, 9]], attrs: {} },
        { shapes: [[2, 3, 5], [2, 3, 5]], attrs: {} },
      ],
    },
  } satisfies OpDef<NoAttrs>,
};

export type OpName = keyof typeof OPS;
export type AttrsOf<K extends OpName> = (typeof OPS)[K] extends OpDef<infer A> ? A : never;

/** Every entry seen as an OpDef: what generic code (autograd, grad checks, benchmarks) iterates. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const OP_LIST: ReadonlyArray<[OpName, OpDef<any>]> = Object.entries(OPS) as [OpName, OpDef<any>][];

/** The entry for `name` as a plain OpDef. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function opDef(name: OpName): OpDef<any> {
  return OPS[name] as OpDef<any>;
}
