// The op table (STYLE 9): the one list of differentiable ops. Autograd runs forward/backward
// from it; the gradient checks, the kernel tests, the PyTorch comparisons and the benchmarks
// iterate it. Each entry owns its shape inference (with clear errors), forward (overwrites its
// output), backward (accumulates into the inputs that need a gradient, and only those), FLOP
// and byte counts and grad-check cases, and its kernel side: WASM export names (the `_scalar`
// twins derived), typed wrappers, naive references, tolerances, test inputs, benchmark shapes
// and PyTorch fixture (`pointwise`, `loss`, `pool`, `globalPool`, `concat`, `linear`, `xent`,
// `conv`, `batchnorm`, `dropout`). So a new activation is its kernel, its reference, one entry
// here and a fixture line. KERNEL_SIDES says which suites read each side and NO_KERNEL_SIDE
// why add and reshape have none; both are checked at compile time. Each entry is checked with
// `satisfies OpDef<...>`; unions such as PlainActivation derive from the table. ELEMENTWISE
// (below) is the registry of the n-to-n helper kernels; the optimizer kernels have theirs in
// src/optim/registry.ts.
import type { Core } from '../core/load.js';
import type { Buf } from '../core/heap.js';
import { Tensor, sizeOf, shapeStr, type Shape } from '../tensor.js';
import { geomOut, type Geom2d } from './shapes.js';
import {
  conv2dForward,
  conv2dBackwardData,
  conv2dBackwardFilter,
  conv2dBackwardBias,
  conv2dBiasForward,
  type Conv2dGeom,
} from '../core/kernels/conv2d.js';
import { conv2dForwardRef, conv2dBackwardDataRef, conv2dBackwardFilterRef, conv2dBackwardBiasRef } from '../ref/conv2d.js';
import { linearForward, linearBackwardData, linearBackwardWeight, linearBackwardWeightRows, linearBackwardBias, linearForwardPacked, linearBackwardDataPacked, linearPackWeight, type LinearDims, type PackedFor, type PackedWeights } from '../core/kernels/linear.js';
import { linearForwardRef, linearBackwardDataRef, linearBackwardWeightRef, linearBackwardWeightRowsRef, linearBackwardBiasRef } from '../ref/linear.js';
import { maxpool2dForward, maxpool2dBackward, avgpool2dForward, avgpool2dBackward } from '../core/kernels/pool.js';
import { dropoutBackward, dropoutForward, dropoutSeededForward, pointwiseForward, pointwiseBackward } from '../core/kernels/activation.js';
import {
  reluForwardRef,
  reluBackwardRef,
  sigmoidForwardRef,
  sigmoidBackwardRef,
  tanhForwardRef,
  tanhBackwardRef,
  leakyReluForwardRef,
  leakyReluBackwardRef,
  softplusForwardRef,
  softplusBackwardRef,
  dropoutForwardRef,
  dropoutBackwardRef,
  dropoutSeededMaskRef,
} from '../ref/activation.js';
import { globalAvgpoolForward, globalAvgpoolBackward, type GlobalPoolDims } from '../core/kernels/pool.js';
import {
  maxpool2dForwardRef,
  maxpool2dBackwardRef,
  avgpool2dForwardRef,
  avgpool2dBackwardRef,
  globalAvgpoolForwardRef,
  globalAvgpoolBackwardRef,
} from '../ref/pool.js';
import {
  batchnormForwardTrain,
  batchnormForwardEval,
  batchnormBackwardReduce,
  batchnormBackwardDataTrain,
  batchnormBackwardDataEval,
  type BatchnormDims,
} from '../core/kernels/batchnorm.js';
import { batchnormForwardTrainRef, batchnormNormalizeRef, batchnormBackwardTrainRef, batchnormBackwardEvalRef } from '../ref/batchnorm.js';
import { concatForward, concatBackward, type ConcatDims } from '../core/kernels/concat.js';
import { concatForwardRef, concatBackwardRef } from '../ref/concat.js';
import { add, axpy, fill, copy, scale, mul, type KernelOpts } from '../core/kernels/elementwise.js';
import { fillRef, copyRef, scaleRef, axpyRef, addRef, mulRef } from '../ref/elementwise.js';
import {
  softmaxXentForward,
  softmaxXentBackward,
  softmaxXentSmoothForward,
  softmaxXentSmoothBackward,
  checkLabelSmoothing,
  type SoftmaxDims,
} from '../core/kernels/softmax_xent.js';
import {
  softmaxXentForwardRef,
  softmaxXentBackwardRef,
  softmaxXentSmoothForwardRef,
  softmaxXentSmoothBackwardRef,
} from '../ref/softmax_xent.js';
import { mseForward, mseBackward, bceLogitsForward, bceLogitsBackward } from '../core/kernels/losses.js';
import type { SegmentMode, Segments } from './segments.js';
import type { WeightRows } from './weight_rows.js';
import { mseForwardRef, mseBackwardRef, bceLogitsForwardRef, bceLogitsBackwardRef } from '../ref/losses.js';

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

/**
 * How a kernel's result is judged against its f64 reference: bit for bit, or elementwise
 * |got - want| <= rtol * max(|want|, scale) (test/helpers expectClose; no scale: 1e-3 of the
 * largest |want|).
 */
export type Tolerance = 'exact' | { rtol: number; scale?: number };

/**
 * The kernel side of a pointwise op y = f(x) whose backward reads the forward output y. The
 * kernel tests run every export and its `_scalar` twin on every build against `ref` on the
 * sizes and edge values of `test`; bench/kernels.ts times `bench.shapes`; test/torch compares
 * with the `torch` fixture cases, on the kernels and through the tape.
 */
export interface PointwiseKernels<A> {
  /** WASM exports (y, x, n, ...params) and (dx, dy, y, n, ...params); each has a `<name>_scalar` twin */
  exports: { forward: string; backward: string };
  /** the exports' hyper-parameters after n, from the op's attrs */
  params(a: A): number[];
  /** naive f64 references (src/ref/): forward returns y, backward accumulates into dx and returns it */
  ref: {
    forward(x: Float32Array, a: A): Float32Array;
    backward(dx: Float32Array, dy: Float32Array, y: Float32Array, a: A): Float32Array;
  };
  /** forward against ref.forward(x); backward (given the reference y) against ref.backward */
  tolerance: { forward: Tolerance; backward: Tolerance };
  /** kernel-test inputs: every size for every attrs, x uniform in range, plus the edge values as one more input */
  test: { sizes: readonly number[]; range: readonly [number, number]; attrs: readonly A[]; edges: readonly number[] };
  /** benchmark rows: forward and backward over each shape with these attrs */
  bench: { attrs: A; shapes: readonly { dims: Shape; note: string }[] };
  /**
   * PyTorch fixture (test/fixtures/torch/<file>): input tensor `x`; per case, `<key>.y`,
   * `<key>.gy` and `<key>.gx`. `listed`: the fixture's metadata entry naming its keys (JSON), so
   * a fixture key the table misses fails the test.
   */
  torch?: { file: string; x: string; listed?: string; cases: readonly { key: string; attrs: A }[] };
}

/**
 * How a loss kernel's tensor outputs are judged when they can cancel to near zero:
 * |got - want| <= rtol * max|want| over the whole tensor.
 */
export interface OfMaxTolerance {
  rtol: number;
  ofMax: true;
}

/** A loss kernel test input: uniform in [lo, hi), or targets in [0, 1] with exact 0s and 1s among them. */
export type LossInput = readonly [number, number] | 'targets01';

/**
 * The kernel side of a mean loss L = mean over n elements of f(pred, target), gradient into
 * pred only. The kernel tests run both exports and their `_scalar` twins on every build against
 * `ref` on `test.sizes`; the backward accumulates into a non-zero start at two scales. Where
 * the forward `saves` a side output of n elements (bce's residual), it is checked too and the
 * backward reads the kernel's own. bench/kernels.ts times `bench.shapes`; test/torch compares
 * with the `torch` fixture cases, on the kernels and through the tape.
 */
export interface LossKernels {
  /** WASM exports: forward (..., n) returns the loss, backward (..., n, scale) accumulates; each has a `<name>_scalar` twin */
  exports: { forward: string; backward: string };
  /** the forward writes a buffer of n elements that the backward reads */
  saves: boolean;
  /** the typed wrappers (src/core/kernels/losses.ts); `saved` is undefined unless `saves` */
  run: {
    forward(core: Core, pred: Buf, target: Buf, saved: Buf | undefined, opts?: KernelOpts): number;
    backward(core: Core, dpred: Buf, pred: Buf, target: Buf, saved: Buf | undefined, scale: number, opts?: KernelOpts): void;
  };
  /** naive f64 references (src/ref/losses.ts): backward accumulates into dpred */
  ref: {
    forward(pred: Float32Array, target: Float32Array): { loss: number; saved?: Float64Array };
    backward(dpred: Float64Array, pred: Float32Array, target: Float32Array, saved: ArrayLike<number> | undefined, scale: number): void;
  };
  /** the loss truly relative; the saved buffer and the gradient against their tensors' max */
  tolerance: { loss: { rtol: number }; saved?: OfMaxTolerance; backward: OfMaxTolerance };
  /** kernel-test inputs at every size: pred and target of the forward test, then of the backward test */
  test: {
    sizes: readonly number[];
    forward: { pred: LossInput; target: LossInput };
    backward: { pred: LossInput; target: LossInput };
  };
  /** benchmark rows: forward and backward over each shape */
  bench: { shapes: readonly { dims: Shape; note: string }[] };
  /**
   * PyTorch fixture (test/fixtures/torch/<file>): per case `<key>.<pred>`, `<key>.target`,
   * `<key>.loss` and `<key>.<grad>` (the gradient of gy * loss, gy in the metadata); with
   * `f64Loss`, the metadata's `<key>.loss` holds the float64 value as well.
   */
  torch: { file: string; pred: string; grad: string; cases: readonly { key: string; f64Loss?: boolean }[] };
}

/**
 * The kernel side of a 2-d pooling (max, average) over NCHW planes. The kernel tests run both
 * exports and their `_scalar` twins on every build against `ref` on every geometry of
 * `test.geoms` (forward into a junk-filled y; backward accumulating into a non-zero dx);
 * bench/kernels.ts times `bench.shapes`; test/torch compares with the `torch` fixture cases.
 */
export interface PoolKernels {
  /** WASM exports; each has a `<name>_scalar` twin */
  exports: { forward: string; backward: string };
  /** the forward writes an i32 arg-max per output that the backward reads (judged exactly) */
  argmax: boolean;
  /** the typed wrappers (src/core/kernels/pool.ts); `argmax` is undefined unless the entry has one */
  run: {
    forward(core: Core, y: Buf, argmax: Buf | undefined, x: Buf, g: Geom2d, opts?: KernelOpts): void;
    backward(core: Core, dx: Buf, dy: Buf, argmax: Buf | undefined, g: Geom2d, opts?: KernelOpts): void;
  };
  /** naive references (src/ref/pool.ts): backward accumulates into dx and returns it */
  ref: {
    forward(x: Float32Array, g: Geom2d): { y: Float32Array; argmax?: Int32Array };
    backward(dx: Float32Array, dy: Float32Array, argmax: Int32Array | undefined, g: Geom2d): Float32Array;
  };
  tolerance: { forward: Tolerance; backward: Tolerance };
  /** kernel-test geometries: x uniform in [-1, 1) */
  test: { geoms: readonly Geom2d[] };
  /** benchmark rows: forward and backward over each input shape with these attrs */
  bench: { attrs: Pool2dAttrs; shapes: readonly { dims: Shape; note: string }[] };
  /**
   * PyTorch fixture (test/fixtures/torch/<file>): the metadata's `cases` lists the case names;
   * per case `<case>.geom` (JSON), `<case>.x`, and `<case>.<key>.y`, `.gy`, `.gx`. Forward
   * within `rtol.forward` elementwise, the gradient within `rtol.backward` of its max.
   */
  torch: { file: string; key: string; note?: string; rtol: { forward: number; backward: number } };
}

/**
 * The kernel side of concatenation along dim 1 of [N,Ca,S] and [N,Cb,S]. The kernel tests run
 * both exports and their `_scalar` twins on every build against `ref` on `test.dims` (forward
 * into a junk-filled y; backward accumulating into non-zero da and db); bench/kernels.ts
 * times `bench.dims`; test/torch runs the `torch` fixture cases on the kernels and through the tape.
 */
export interface ConcatKernels {
  /** WASM exports; each has a `<name>_scalar` twin */
  exports: { forward: string; backward: string };
  /** the typed wrappers (src/core/kernels/concat.ts) */
  run: {
    forward(core: Core, y: Buf, a: Buf, b: Buf, d: ConcatDims, opts?: KernelOpts): void;
    backward(core: Core, grad: Buf, dy: Buf, which: 'a' | 'b', d: ConcatDims, opts?: KernelOpts): void;
  };
  /** naive references (src/ref/concat.ts): backward accumulates into grad and returns it */
  ref: {
    forward(a: Float32Array, b: Float32Array, d: ConcatDims): Float32Array;
    backward(grad: Float32Array, dy: Float32Array, which: 'a' | 'b', d: ConcatDims): Float32Array;
  };
  tolerance: { forward: Tolerance; backward: Tolerance };
  /** kernel-test dims: inputs uniform in [-1, 1) */
  test: { dims: readonly ConcatDims[] };
  /** benchmark rows: forward and backward (both halves) over each dims */
  bench: { dims: readonly { dims: ConcatDims; note: string }[] };
  /**
   * PyTorch fixture (test/fixtures/torch/<file>): the metadata entry `listed` names the cases;
   * per case `<case>.a`, `.b`, `.y`, `.gy`, `.ga`, `.gb` (torch.cat along dim 1)
   */
  torch: { file: string; listed: string };
}

/**
 * One kernel pair of softmax cross-entropy (softmax over each row of logits [n, c], the mean
 * over rows of -log of the label's probability, optionally label-smoothed). The kernel tests
 * run both exports and their `_scalar` twins on every build against `ref` on every shape of
 * the entry's `test.shapes` and every eps of `eps` (forward into a NaN-filled probs; backward
 * accumulating into a non-zero dlogits at scales 1 and 0.37).
 */
export interface XentKernels {
  /** WASM exports; each has a `<name>_scalar` twin */
  exports: { forward: string; backward: string };
  /** the label smoothings the tests pass (the plain kernels: 0 only) */
  eps: readonly number[];
  /** the typed wrappers (src/core/kernels/softmax_xent.ts) */
  run: {
    forward(core: Core, probs: Buf, logits: Buf, labels: Buf, d: SoftmaxDims, eps: number, opts?: KernelOpts): number;
    backward(core: Core, dlogits: Buf, probs: Buf, labels: Buf, d: SoftmaxDims, eps: number, scale: number, opts?: KernelOpts): void;
  };
  /** naive f64 references (src/ref/softmax_xent.ts): backward accumulates into dlogits */
  ref: {
    forward(logits: Float32Array, labels: Int32Array, d: SoftmaxDims, eps: number): { probs: Float32Array; loss: number };
    backward(dlogits: Float64Array, probs: Float32Array, labels: Int32Array, d: SoftmaxDims, eps: number, scale: number): void;
  };
  tolerance: { probs: { rtol: number }; loss: { rtol: number }; backward: Tolerance | OfMaxTolerance };
}

/** The kernel side of softmax_xent: its plain and label-smoothing kernel pairs and the shapes both are tested on. */
export interface SoftmaxXentKernels {
  variants: { plain: XentKernels; smooth: XentKernels };
  /** kernel-test shapes [n, c]; forward logits uniform in [-6, 6), backward in [-3, 3) */
  test: { shapes: readonly (readonly [number, number])[] };
  /**
   * PyTorch fixture of the plain pair (test/fixtures/torch/<file>): `logits`, `labels`, `probs`,
   * `loss`, `dlogits` (metadata n, c); loss and probs within `forward` relative, the gradient
   * within `backward` of its max. The smoothing cases are the mean losses' fixture (test/torch/losses.test.ts).
   */
  torch: { file: string; rtol: { forward: number; backward: number } };
  /** benchmark rows: forward and backward of a variant over logits [n, c] at label smoothing eps (0 for the plain kernels) */
  bench: { rows: readonly { variant: 'plain' | 'smooth'; n: number; c: number; eps: number; note: string }[] };
}

/**
 * The kernel side of linear (y = x Wᵀ + b, x [m,in], W [out,in]): its forward and its three
 * backward kernels. The kernel tests run every export and its `_scalar` twin on every build
 * against `ref` on `test.shapes` (forward with and without bias into a NaN-filled y; backwards
 * accumulating into non-zero gradients); bench/kernels.ts times `bench.dims`.
 */
export interface LinearKernels {
  /** WASM exports; each has a `<name>_scalar` twin */
  /**
   * the packed-weight path (the op's `packs` attribute): packWeight packs w once, and
   * forwardPacked / backwardDataPacked give forward's and backwardData's bits from it;
   * backwardWeightRows
   * (gemm_tn underneath, no export of its own) computes a block of backwardWeight's output rows
   * with the bits the whole call gives them (the engines' whole-batch weight gradients)
   */
  exports: { forward: string; backwardData: string; backwardWeight: string; backwardBias: string; packWeight: string; forwardPacked: string; backwardDataPacked: string };
  /** the typed wrappers (src/core/kernels/linear.ts) */
  run: {
    forward(core: Core, y: Buf, x: Buf, w: Buf, b: Buf | null, d: LinearDims, opts?: KernelOpts): void;
    backwardData(core: Core, dx: Buf, dy: Buf, w: Buf, d: LinearDims, opts?: KernelOpts): void;
    backwardWeight(core: Core, dw: Buf, dy: Buf, x: Buf, d: LinearDims, opts?: KernelOpts & { overwrite?: boolean }): void;
    backwardWeightRows(core: Core, rows: Buf, dy: Buf, x: Buf, d: LinearDims, r0: number, r1: number, opts?: KernelOpts): void;
    backwardBias(core: Core, db: Buf, dy: Buf, d: LinearDims, opts?: KernelOpts): void;
    packWeight(core: Core, wp: Buf, w: Buf, d: Pick<LinearDims, 'inF' | 'outF'>, which: PackedFor, opts?: KernelOpts): void;
    forwardPacked(core: Core, y: Buf, x: Buf, wp: Buf, b: Buf | null, d: LinearDims, opts?: KernelOpts): void;
    backwardDataPacked(core: Core, dx: Buf, dy: Buf, wp: Buf, d: LinearDims, opts?: KernelOpts): void;
  };
  /** naive f64 references (src/ref/linear.ts): a backward given a start accumulates into it */
  ref: {
    forward(x: Float32Array, w: Float32Array, b: Float32Array | null, d: LinearDims): Float32Array;
    backwardData(dy: Float32Array, w: Float32Array, d: LinearDims, dx?: Float32Array): Float32Array;
    backwardWeight(dy: Float32Array, x: Float32Array, d: LinearDims, dw?: Float32Array): Float32Array;
    backwardWeightRows(dy: Float32Array, x: Float32Array, d: LinearDims, r0: number, r1: number): Float32Array;
    backwardBias(dy: Float32Array, d: LinearDims, db?: Float32Array): Float32Array;
  };
  /**
   * relative `rtol` against max(|want|, scale), scale = the largest entry of the same reference
   * over the operands' absolute values (the size of the f32 error bound of its sums)
   */
  tolerance: { rtol: number; scale: 'absolute operands' };
  /** kernel-test dims: operands uniform in [-1, 1) */
  test: { shapes: readonly LinearDims[] };
  /** benchmark rows: forward and the three backwards over each dims */
  bench: { dims: readonly { dims: LinearDims; note: string }[] };
  /**
   * PyTorch fixture (test/fixtures/torch/<file>): the metadata's `cases` lists the case names;
   * per case `<case>.dims` (JSON), `.x`, `.w`, `.b`, `.y`, `.gy`, `.gx`, `.gw`, `.gb`. Forward
   * within `forward` relative, gradients within `backward` of their max.
   */
  torch: { file: string; rtol: { forward: number; backward: number } };
}

/**
 * The kernel side of global average pooling ([N,C,H,W] → [N,C], the mean of each plane). The
 * kernel tests run both exports and their `_scalar` twins on every build against `ref` on
 * `test.planes` (planes × plane size); bench/kernels.ts times `bench.shapes`.
 */
export interface GlobalPoolKernels {
  /** WASM exports; each has a `<name>_scalar` twin */
  exports: { forward: string; backward: string };
  /** the typed wrappers (src/core/kernels/pool.ts) */
  run: {
    forward(core: Core, y: Buf, x: Buf, d: GlobalPoolDims, opts?: KernelOpts): void;
    backward(core: Core, dx: Buf, dy: Buf, d: GlobalPoolDims, opts?: KernelOpts): void;
  };
  /** naive references (src/ref/pool.ts) over `planes` planes of `s` elements: backward accumulates into dx */
  ref: {
    forward(x: Float32Array, planes: number, s: number): Float32Array;
    backward(dx: Float32Array, dy: Float32Array, planes: number, s: number): Float32Array;
  };
  tolerance: { forward: Tolerance; backward: Tolerance };
  /** kernel-test [planes, plane size]: x uniform in [2, 4) (a mean, not a cancelling sum), dy and dx0 in [-1, 1) */
  test: { planes: readonly (readonly [number, number])[] };
  /** benchmark rows: forward and backward over each input shape */
  bench: { shapes: readonly { dims: Shape; note: string }[] };
  /** PyTorch fixture (test/fixtures/torch/<file>): `<key>.x`, `.y`, `.gy`, `.gx` (adaptive_avg_pool2d(1) + flatten), through the tape */
  torch: { file: string; key: string };
}

/**
 * The kernel side of conv2d (y = conv(x, w) + b over NCHW, im2col + GEMM in the SIMD builds):
 * its forward, its two backward kernels and the bias pair. The kernel tests run every export
 * and its `_scalar` twin on every build against `ref` on every geometry of `test.geoms`
 * (forward with and without bias into a junk-filled y; backwards accumulating into non-zero
 * gradients; the SIMD path inside a guard after the scratch block it asks for);
 * bench/kernels.ts times `bench.geoms`; test/torch runs the `torch` fixture cases.
 */
export interface Conv2dKernels {
  /** WASM exports; each but `scratch` has a `<name>_scalar` twin */
  exports: { forward: string; backwardData: string; backwardFilter: string; biasForward: string; backwardBias: string; scratch: string };
  /** the typed wrappers (src/core/kernels/conv2d.ts) */
  run: {
    forward: typeof conv2dForward;
    backwardData: typeof conv2dBackwardData;
    backwardFilter: typeof conv2dBackwardFilter;
    biasForward: typeof conv2dBiasForward;
    backwardBias: typeof conv2dBackwardBias;
  };
  /** naive f64 references (src/ref/conv2d.ts): a backward given a start accumulates into it */
  ref: {
    forward: typeof conv2dForwardRef;
    backwardData: typeof conv2dBackwardDataRef;
    backwardFilter: typeof conv2dBackwardFilterRef;
    backwardBias: typeof conv2dBackwardBiasRef;
  };
  /** every pass: |got - want| <= rtol * max(|want|, floor * max|want|) */
  tolerance: { rtol: number; floor: number };
  /** kernel-test geometries (with what each one exercises): operands uniform in [-1, 1) */
  test: { geoms: readonly { geom: Conv2dGeom; note: string }[] };
  /** benchmark rows: forward, backward data and backward filter over each geometry */
  bench: { geoms: readonly { geom: Conv2dGeom; note: string }[] };
  /**
   * PyTorch fixture (test/fixtures/torch/<file>): the metadata's `cases` lists the case names;
   * per case `<case>.geom` (JSON), `.x`, `.w`, `.b`, `.y`, `.gy`, `.gx`, `.gw`, `.gb`. Forward
   * within `forward` relative with entries below `floor` of the max judged against it;
   * gradients within `backward` of their max.
   */
  torch: { file: string; rtol: { forward: number; floor: number; backward: number } };
}

/**
 * The kernel side of batch normalisation over dim 1 of [N,C,S]: the training forward (batch
 * statistics), the eval forward (running ones), the per-channel reduce both backwards share
 * and the two data gradients. The kernel tests run every export and its `_scalar` twin on
 * every build against `ref` on `test.dims` (channel means ~3, which a one-pass variance would
 * get wrong; forwards into junk-filled outputs; data gradients accumulating into a non-zero
 * dx); bench/kernels.ts times `bench.shapes` in training mode; test/torch runs the `torch`
 * fixtures through the tape.
 */
export interface BatchnormKernels {
  /** WASM exports; each has a `<name>_scalar` twin */
  exports: { forwardTrain: string; forwardEval: string; backwardReduce: string; backwardDataTrain: string; backwardDataEval: string };
  /** the typed wrappers (src/core/kernels/batchnorm.ts) */
  run: {
    forwardTrain: typeof batchnormForwardTrain;
    forwardEval: typeof batchnormForwardEval;
    backwardReduce: typeof batchnormBackwardReduce;
    backwardDataTrain: typeof batchnormBackwardDataTrain;
    backwardDataEval: typeof batchnormBackwardDataEval;
  };
  /** naive f64 references (src/ref/batchnorm.ts): the backwards accumulate into the gradients they are given */
  ref: {
    forwardTrain: typeof batchnormForwardTrainRef;
    forwardEval: typeof batchnormNormalizeRef;
    backwardTrain: typeof batchnormBackwardTrainRef;
    backwardEval: typeof batchnormBackwardEvalRef;
  };
  /** y against the O(1) operands (`scale`), the statistics relative, the gradients against their tensor's max */
  tolerance: { y: { rtol: number; scale: number }; stats: { rtol: number }; grad: OfMaxTolerance };
  /** kernel-test dims and eps */
  test: { dims: readonly { dims: BatchnormDims; note: string }[]; eps: number };
  /** benchmark rows: the training forward and backward over each [N,C,H,W] */
  bench: { eps: number; shapes: readonly { dims: readonly [number, number, number, number]; note: string }[] };
  /**
   * PyTorch fixtures (test/fixtures/torch/): `file` (metadata `cases`, per case `.x`, `.weight`,
   * `.bias`, `.running_mean`, `.running_var`, `.training`, `.y`, `.stats`, `.gy`, `.gx`, `.gw`,
   * `.gb`), `running` (metadata `models`: running statistics after each of three steps) and
   * `residual` (relu(bn(conv(x)) + x)). Forward and statistics within `forward` relative,
   * gradients within `backward` of their max.
   */
  torch: { file: string; running: string; residual: string; rtol: { forward: number; backward: number } };
}

/**
 * The kernel side of dropout (y = x * mask, the mask drawn in the kernel from (seed, element
 * index)). The kernel tests run every export and its `_scalar` twin on every build against
 * `ref`: the seeded forward on `test.seeded` (mask and y bit for bit), the forward from a given
 * mask and the backward on `test.sizes`; bench/kernels.ts times `bench.shapes` with `bench.attrs`.
 */
export interface DropoutKernels {
  /** WASM exports: the seeded forward the op runs, the forward from a given mask, the backward; each has a `<name>_scalar` twin */
  exports: { forward: string; maskedForward: string; backward: string };
  /** the typed wrappers (src/core/kernels/activation.ts) */
  run: { forward: typeof dropoutSeededForward; maskedForward: typeof dropoutForward; backward: typeof dropoutBackward };
  /** naive references (src/ref/activation.ts): the seeded mask, y = x * mask, and dx += dy * mask */
  ref: { mask: typeof dropoutSeededMaskRef; forward: typeof dropoutForwardRef; backward: typeof dropoutBackwardRef };
  tolerance: { forward: 'exact'; backward: Tolerance };
  /** kernel-test inputs: x uniform in [-3, 3); the masked forward and the backward at p = `p` on every size */
  test: { seeded: readonly { n: number; p: number; seed: number }[]; sizes: readonly number[]; p: number };
  /** benchmark rows: the seeded forward and the backward over each shape with these attrs */
  bench: { attrs: DropoutAttrs; shapes: readonly { dims: Shape; note: string }[] };
}

export interface OpDef<A> {
  inputs: readonly string[];
  /** per input: does a gradient flow into it (labels do not) */
  differentiable: readonly boolean[];
  /** output shares the first input's data (reshape) */
  alias?: boolean;
  /** how it runs under segments (src/ops/segments.ts); absent: it cannot */
  segments?: SegmentMode;
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
  /** the kernel side of a pointwise op (activations): what the kernel tests, torch tests and benchmarks iterate */
  pointwise?: PointwiseKernels<A>;
  /** the kernel side of a mean loss (mse, bce_logits): what the loss kernel tests, torch tests and benchmarks iterate */
  loss?: LossKernels;
  /** the kernel side of a 2-d pooling (maxpool2d, avgpool2d): what the pool kernel tests, torch tests and benchmarks iterate */
  pool?: PoolKernels;
  /** the kernel side of concat: what the concat kernel test, torch test and benchmarks read */
  concat?: ConcatKernels;
  /** the kernel side of softmax_xent: what the softmax_xent kernel tests iterate */
  xent?: SoftmaxXentKernels;
  /** the kernel side of linear: what the linear kernel tests read */
  linear?: LinearKernels;
  /** the kernel side of global_avgpool: what its kernel tests and benchmark rows read */
  globalPool?: GlobalPoolKernels;
  /** the kernel side of conv2d: what its kernel tests, torch tests and benchmark rows read */
  conv?: Conv2dKernels;
  /** the kernel side of batchnorm: what its kernel tests, torch tests and benchmark rows read */
  batchnorm?: BatchnormKernels;
  /** the kernel side of dropout: what its kernel tests and benchmark rows read */
  dropout?: DropoutKernels;
  gradcheck: {
    cases: GradCase<A>[];
    /** inputs with integer class labels in [0, classes) (softmax_xent) */
    labels?: { input: number; classes: (shapes: Shape[]) => number };
    /** keep inputs away from kinks (ReLU at 0, tied maxima): min |x| and min gap */
    awayFromKinks?: boolean;
    /** inputs drawn in [0.5, 1.5) instead of [-1, 1) (variances) */
    positive?: number[];
  };
}

export interface Conv2dAttrs {
  stride: [number, number];
  pad: [number, number];
  /** set by the tape under segments: the filter and bias gradients are split by segment */
  segments?: Segments;
}
export interface Pool2dAttrs {
  kernel: [number, number];
  stride: [number, number];
  pad: [number, number];
}
export interface DropoutAttrs {
  /** probability of zeroing an element, in [0, 1) */
  p: number;
  /** u32 seed of the kernel's counter-based mask: the same (seed, p, shape) gives the same mask */
  seed: number;
}
export interface LeakyReluAttrs {
  /** slope for x <= 0, in [0, 1) (PyTorch's default is 0.01) */
  slope: number;
}
export interface BatchnormAttrs {
  /** batch statistics (true) or the running ones (false) */
  training: boolean;
  eps: number;
  /**
   * training only: receives the batch mean (first C) and the unbiased variance (next C; the
   * biased one, 0, when N*S = 1), for the caller's running-statistics update (updateRunningStats)
   */
  stats?: Float32Array;
}
export type NoAttrs = Record<string, never>;

/**
 * linear's attributes: where the layer's weight is found packed for this step's GEMMs (the
 * engines' WeightPacks while weights are fixed); absent, each call packs it. Same bits either way.
 */
export interface LinearAttrs {
  packs?: PackedWeights;
  /** the engine's whole-batch weight gradients (src/ops/weight_rows.ts): when it takes the rows, no weight gradient is written */
  weightRows?: WeightRows;
  /** set by the tape under segments: the weight and bias gradients are split by segment */
  segments?: Segments;
}
export interface SoftmaxXentAttrs {
  /** eps in [0, 1): the target is (1 - eps) * onehot + eps / C (PyTorch label_smoothing); absent or 0: none */
  labelSmoothing?: number;
  /** set by the tape under segments: one mean loss per segment, output [segments] */
  segments?: Segments;
}

function rank(op: string, name: string, s: Shape, r: number): void {
  if (s.length !== r) throw new Error(`${op}: ${name} must have rank ${r}, got shape ${shapeStr(s)}`);
}

function convGeom(x: Shape, w: Shape, a: Conv2dAttrs): Conv2dGeom {
  return { n: x[0], c: x[1], h: x[2], w: x[3], oc: w[0], kh: w[2], kw: w[3], sh: a.stride[0], sw: a.stride[1], ph: a.pad[0], pw: a.pad[1] };
}

/** x [n,c,h,w], w [oc,c,kh,kw], stride [sh,sw], pad [ph,pw] as a conv2d geometry. */
function convCase(x: readonly number[], w: readonly number[], s: readonly [number, number] = [1, 1], p: readonly [number, number] = [0, 0]): Conv2dGeom {
  if (x[1] !== w[1]) throw new Error(`conv2d case: x ${shapeStr(x)} has ${x[1]} channels, w ${shapeStr(w)} expects ${w[1]}`);
  return { n: x[0], c: x[1], h: x[2], w: x[3], oc: w[0], kh: w[2], kw: w[3], sh: s[0], sw: s[1], ph: p[0], pw: p[1] };
}

/** conv2d kernel tests: batch 1, channel counts, 1x1, strides 2 and 3, padding, rectangular kernels, the LeNet layers */
const CONV_GEOMS: Conv2dKernels['test']['geoms'] = [
  { geom: convCase([1, 1, 5, 5], [1, 1, 3, 3]), note: 'batch 1, one channel in and out' },
  { geom: convCase([2, 3, 7, 7], [5, 3, 3, 3], [1, 1], [1, 1]), note: 'c=3, oc=5' },
  { geom: convCase([3, 5, 9, 9], [7, 5, 1, 1]), note: '1x1 stride 1: x is its own column matrix' },
  { geom: convCase([2, 4, 6, 6], [3, 4, 1, 1], [2, 2]), note: '1x1 stride 2 goes through im2col' },
  { geom: convCase([1, 5, 9, 9], [3, 5, 3, 3], [2, 2], [1, 1]), note: '3x3 stride 2 pad 1' },
  { geom: convCase([2, 2, 19, 19], [3, 2, 3, 3], [2, 2], [1, 1]), note: 'stride-2 vector gathers with padding' },
  { geom: convCase([2, 3, 23, 29], [5, 3, 3, 3], [2, 2]), note: 'stride-2 vector gathers, long rows' },
  { geom: convCase([2, 3, 11, 13], [5, 3, 5, 5], [1, 1], [2, 2]), note: "5x5 'same', prime h/w" },
  { geom: convCase([2, 3, 5, 7], [4, 3, 7, 9], [1, 1], [1, 1]), note: 'kernel == padded input: one output pixel' },
  { geom: convCase([2, 3, 13, 11], [7, 3, 3, 2], [1, 2], [1, 0]), note: 'non-square kernel and stride' },
  { geom: convCase([1, 2, 17, 19], [5, 2, 4, 3], [3, 3], [2, 1]), note: 'stride 3: the strided gather' },
  { geom: convCase([1, 2, 5, 5], [3, 2, 2, 2], [1, 1], [3, 3]), note: 'pad > kernel: all-padding output rows' },
  { geom: convCase([2, 1, 28, 28], [20, 1, 5, 5], [1, 1], [2, 2]), note: 'LeNet conv1 (one input channel)' },
  { geom: convCase([8, 20, 14, 14], [50, 20, 5, 5]), note: 'LeNet conv2 (the large case)' },
];

/** conv2d benchmark rows: the LeNet's convolutions at batch 64 */
const CONV_BENCH: Conv2dKernels['bench']['geoms'] = [
  { geom: convCase([64, 20, 14, 14], [50, 20, 5, 5]), note: 'LeNet conv2' },
  { geom: convCase([64, 1, 28, 28], [20, 1, 5, 5], [1, 1], [2, 2]), note: 'LeNet conv1' },
];

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

/** A pointwise activation: its op entry, run through the kernel exports its `pointwise` names. */
function activation<A>(
  kernels: PointwiseKernels<A>,
  flopsPerElement: number | { forward: number; backward: number },
  cases: GradCase<A>[],
  awayFromKinks = false,
  check: (a: A) => void = () => {},
): OpDef<A> & { pointwise: PointwiseKernels<A> } {
  const { forward, backward } = kernels.exports;
  return {
    inputs: ['x'],
    differentiable: [true],
    segments: 'per-example',
    outShape([x], a) {
      check(a);
      return x;
    },
    forward(core, out, [x], a) {
      pointwiseForward(core, forward, out.buf, x.buf, kernels.params(a));
      return undefined;
    },
    backward(core, { inputs: [x], out, attrs }) {
      const dx = x.gradForWrite();
      pointwiseBackward(core, backward, dx.buf, out.grad!, out.buf, kernels.params(attrs), undefined, { overwrite: dx.overwrite });
    },
    flops: ([x]) => (typeof flopsPerElement === 'number' ? flopsPerElement : flopsPerElement.forward) * sizeOf(x),
    backwardFlops: ([x]) => (typeof flopsPerElement === 'number' ? flopsPerElement : flopsPerElement.backward) * sizeOf(x),
    // forward reads x, writes y; backward reads dy and y, reads and writes dx
    bytes: ([x]) => 4 * 2 * sizeOf(x),
    backwardBytes: ([x]) => 4 * 4 * sizeOf(x),
    pointwise: kernels,
    gradcheck: { cases, awayFromKinks },
  };
}

/** Odd sizes around the SIMD bodies' 4-, 8- and 16-wide steps, and one large enough to leave cache. */
const POINTWISE_SIZES = [1, 3, 5, 7, 17, 1023, 100003] as const;
/** Saturation, overflow and underflow of exp, zeros of both signs, subnormals, infinities. */
const EXTREMES = [
  100, -100, 1000, -1000, 88, -88, 89, -89, 104, -104, 110, -110, 9, -9, 10, -10, 20, -20,
  1e-30, -1e-30, 1e-45, -1e-45, 0, -0, 1e-4, -1e-4, 0.3465, -0.3466, 0.5, -0.5, 3.4e38, -3.4e38,
  Infinity, -Infinity,
] as const;
/** EXTREMES less the infinities: -inf * 0 is a NaN whose sign bit the CPU picks, and inf - inf has no relative error */
const FINITE_EXTREMES = EXTREMES.filter(Number.isFinite);
/** The LeNet's activations: conv1's output and fc1's. */
const ACTIVATION_BENCH = [
  { dims: [64, 20, 28, 28], note: 'LeNet conv1 out' },
  { dims: [64, 500], note: 'LeNet fc1 out' },
] as const;
/** the exp approximation is a few ulp: 2e-6 truly relative (each element against itself) */
const EXP_FORWARD: Tolerance = { rtol: 2e-6, scale: 1e-30 };
/** backward errors are judged against the O(1) operands (dx0, dy, y), not the possibly cancelled sum */
const BACKWARD: Tolerance = { rtol: 1e-6, scale: 1 };
const NO_PARAMS = (): number[] => [];

const ACTIVATION_CASES: GradCase<NoAttrs>[] = [{ shapes: [[3, 7]], attrs: {} }, { shapes: [[2, 3, 5, 5]], attrs: {} }];

// loss kernel tests: one element, below a vector, exactly one vector, one vector and a tail of
// 1 and 3, two vectors, odd, the LeNet head (64x10), a large odd one
const LOSS_SIZES = [1, 3, 4, 5, 7, 8, 13, 640, 4099] as const;
/** f64 sums of terms each within a few f32 ulps: the mean is good to a few ulps */
const LOSS_RTOL = 1e-6;
/**
 * gradients: (pred - target) or the residual, one scale, one add into a non-zero start. The add
 * cancels where the start and the increment have opposite signs, so an entry is judged against
 * the tensor's max (an ulp of the max is 6e-8 of it)
 */
const LOSS_GRAD: OfMaxTolerance = { rtol: 1e-6, ofMax: true };
const LOSS_BENCH = [{ dims: [64, 784], note: 'MNIST-sized outputs' }] as const;

/** x [n,c,h,w], kernel [kh,kw], stride [sh,sw], pad [ph,pw]. */
function poolCase(x: readonly number[], k: readonly [number, number], s: readonly [number, number], p: readonly [number, number] = [0, 0]): Geom2d {
  return { n: x[0], c: x[1], h: x[2], w: x[3], kh: k[0], kw: k[1], sh: s[0], sw: s[1], ph: p[0], pw: p[1] };
}

/** pool kernel tests: the SIMD kernels' 2x2 stride 2 fast path and the general path on odd shapes */
const POOL_GEOMS: readonly Geom2d[] = [
  poolCase([1, 1, 1, 1], [1, 1], [1, 1]), // 1x1: identity
  poolCase([1, 1, 4, 4], [2, 2], [2, 2]), // fast path, ow=2: scalar tail only
  poolCase([2, 3, 8, 8], [2, 2], [2, 2]), // fast path, one vector per row
  poolCase([2, 3, 9, 11], [2, 2], [2, 2]), // fast path on odd h/w (floor): ow=5, last row/col dropped
  poolCase([1, 2, 19, 18], [2, 2], [2, 2]), // fast path, ow=9: two vectors + tail
  poolCase([1, 1, 5, 5], [2, 2], [2, 2], [1, 1]), // 2x2 stride 2 with padding: general path
  poolCase([3, 4, 6, 6], [2, 2], [1, 1]), // 2x2 stride 1: overlapping windows
  poolCase([1, 2, 7, 5], [3, 3], [2, 2], [1, 1]), // 3x3 stride 2 pad 1
  poolCase([2, 3, 9, 9], [3, 3], [2, 2], [1, 1]),
  poolCase([2, 2, 6, 6], [3, 3], [1, 1], [1, 1]), // 3x3 'same'
  poolCase([1, 3, 10, 7], [3, 2], [2, 2], [1, 1]), // 3x2 windows
  poolCase([2, 2, 11, 8], [3, 2], [1, 2], [0, 1]), // 3x2 windows, mixed stride
  poolCase([1, 2, 5, 5], [5, 5], [1, 1], [2, 2]), // 5x5 pad 2: pad == kernel/2
  poolCase([1, 1, 3, 3], [3, 3], [1, 1]), // kernel == input: one output
  poolCase([1, 3, 13, 17], [4, 3], [3, 3], [2, 1]), // stride 3
  poolCase([64, 50, 10, 10], [2, 2], [2, 2]), // LeNet pool2
  poolCase([64, 20, 28, 28], [2, 2], [2, 2]), // LeNet pool1 (the large case)
];
/**
 * pool kernel tolerances: max forward copies values (exact, argmax exact); its backward and
 * both average directions add in f32 where windows overlap, and a window mean can cancel to
 * near zero: 1e-6 relative to the O(1) operands
 */
const POOL_SUM: Tolerance = { rtol: 1e-6, scale: 1 };
const POOL_BENCH: PoolKernels['bench'] = {
  attrs: { kernel: [2, 2], stride: [2, 2], pad: [0, 0] },
  shapes: [
    { dims: [64, 20, 28, 28], note: 'LeNet pool1' },
    { dims: [64, 50, 10, 10], note: 'LeNet pool2' },
  ],
};

function checkSlope(a: LeakyReluAttrs): void {
  if (a == null || typeof a.slope !== 'number' || !(a.slope >= 0 && a.slope < 1)) {
    throw new Error(`leaky_relu: attrs.slope must be a number in [0, 1), got ${a?.slope}`);
  }
}

/** x [N,C,...] as batch-norm dims: n = N, c = C, s = the product of the rest (1 for [N,C]). */
function bnDims(x: Shape): BatchnormDims {
  return { n: x[0], c: x[1], s: sizeOf(x.slice(2)) };
}

/** [N,C1,...] and [N,C2,...] as concat dims. */
function concatDims(a: Shape, b: Shape): ConcatDims {
  return { n: a[0], ca: a[1], cb: b[1], s: sizeOf(a.slice(2)) };
}

/** Runs `body` with an f32 scratch block of `n` values that it frees afterwards. */
function withScratch<T>(core: Core, n: number, body: (b: Buf) => T): T {
  const b = core.heap.alloc(n, 'f32', false);
  try {
    return body(b);
  } finally {
    b.free();
  }
}

function bnForwardTrain(core: Core, out: Tensor, [x, w, b]: Tensor[], a: BatchnormAttrs): Saved {
  const d = bnDims(x.shape);
  const mean = core.heap.alloc(d.c, 'f32', false);
  const invstd = core.heap.alloc(d.c, 'f32', false);
  try {
    withScratch(core, d.c, (variance) => {
      batchnormForwardTrain(core, out.buf, mean, invstd, variance, x.buf, w.buf, b.buf, d, a.eps);
      if (a.stats) {
        const m = d.n * d.s;
        const mv = mean.view(), vv = variance.view();
        for (let k = 0; k < d.c; k++) {
          a.stats[k] = mv[k];
          a.stats[d.c + k] = m > 1 ? (vv[k] * m) / (m - 1) : vv[k];
        }
      }
    });
  } catch (e) {
    mean.free();
    invstd.free();
    throw e;
  }
  return { mean, invstd };
}

function bnBackward(core: Core, { inputs: [x, w, b, rm], out, attrs, saved }: OpNode<BatchnormAttrs>, needs: boolean[]): void {
  const d = bnDims(x.shape);
  const dy = out.grad!;
  const invstd = saved!.invstd!;
  const mean = attrs.training ? saved!.mean! : rm.buf;
  if (!attrs.training && needs[0]) batchnormBackwardDataEval(core, x.ensureGrad(), dy, w.buf, invstd, d);
  if (!(needs[1] || needs[2] || (attrs.training && needs[0]))) return;
  withScratch(core, 2 * d.c, (sums) => {
    const sdy = sums.sub(0, d.c), sdyx = sums.sub(d.c, d.c);
    batchnormBackwardReduce(core, sdy, sdyx, dy, x.buf, mean, invstd, d);
    if (attrs.training && needs[0]) batchnormBackwardDataTrain(core, x.ensureGrad(), dy, x.buf, w.buf, mean, invstd, sdy, sdyx, d);
    if (needs[1]) axpy(core, w.ensureGrad(), sdyx, 1);
    if (needs[2]) axpy(core, b.ensureGrad(), sdy, 1);
  });
}

/** Runs fn(k, start, count) for each segment, or once over all `n` examples without segments. */
function eachSegment(segments: Segments | undefined, fn: (k: number, start: number, n: number) => void, n = 0): void {
  if (!segments) {
    fn(0, 0, n);
    return;
  }
  const b = segments.bounds;
  for (let k = 0; k + 1 < b.length; k++) fn(k, b[k], b[k + 1] - b[k]);
}

export const OPS = {
  /** y = conv(x, w) + b; x [n,c,h,w], w [oc,c,kh,kw], b [oc] → y [n,oc,oh,ow] */
  conv2d: {
    inputs: ['x', 'weight', 'bias'],
    differentiable: [true, true, true],
    segments: 'split',
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
      if (attrs.segments) {
        // each segment's filter and bias gradients from its own examples, as in a batch of its own
        const per = { x: sizeOf(x.shape) / g.n, y: out.size / g.n };
        eachSegment(attrs.segments, (k, s, n) => {
          const gk = { ...g, n };
          const dyk = dy.sub(s * per.y, n * per.y);
          if (needs[1]) conv2dBackwardFilter(core, attrs.segments!.grad(w, k).buf, dyk, x.buf.sub(s * per.x, n * per.x), gk);
          if (needs[2]) conv2dBackwardBias(core, attrs.segments!.grad(b, k).buf, dyk, gk);
        });
        return;
      }
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
    conv: {
      exports: {
        forward: 'conv2d_forward',
        backwardData: 'conv2d_backward_data',
        backwardFilter: 'conv2d_backward_filter',
        biasForward: 'conv2d_bias_forward',
        backwardBias: 'conv2d_backward_bias',
        scratch: 'conv2d_scratch_floats',
      },
      run: { forward: conv2dForward, backwardData: conv2dBackwardData, backwardFilter: conv2dBackwardFilter, biasForward: conv2dBiasForward, backwardBias: conv2dBackwardBias },
      ref: { forward: conv2dForwardRef, backwardData: conv2dBackwardDataRef, backwardFilter: conv2dBackwardFilterRef, backwardBias: conv2dBackwardBiasRef },
      // the floor is 1% of the max, not expectClose's 0.1%: an f32 sum of K terms of size ~1
      // (K = 500 for LeNet conv2's forward, 800 for its filter gradient in the large case)
      // carries ~1e-5 absolute rounding error, which is 1e-4 of an entry near 0.1 but says
      // nothing about the kernel
      tolerance: { rtol: 1e-4, floor: 1e-2 },
      test: { geoms: CONV_GEOMS },
      bench: { geoms: CONV_BENCH },
      // forward 1e-4 relative with the 1% floor: an output sums up to 500 products (LeNet conv2)
      // that cancel, and a float32 sum of them in plain sequential order is off by up to ~1e-6
      // of the max, which is 1.5e-4 of an entry at a 0.1% floor but 2e-5 at 1%. Gradients 1e-5
      // of the max: conv1's gw and gb sum N*OH*OW = 2352 products, and even a plain sequential
      // float32 sum of them stays within 1.2e-6 of the max
      torch: { file: 'conv2d.safetensors', rtol: { forward: 1e-4, floor: 1e-2, backward: 1e-5 } },
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
    segments: 'split',
    outShape([x, w, b]) {
      rank('linear', 'x', x, 2);
      rank('linear', 'weight', w, 2);
      rank('linear', 'bias', b, 1);
      if (w[1] !== x[1]) throw new Error(`linear: weight ${shapeStr(w)} expects ${w[1]} input features, x ${shapeStr(x)} has ${x[1]}`);
      if (b[0] !== w[0]) throw new Error(`linear: bias ${shapeStr(b)} must have ${w[0]} elements`);
      return [x[0], w[0]];
    },
    forward(core, out, [x, w, b], attrs) {
      const d = { m: x.shape[0], inF: x.shape[1], outF: w.shape[0] };
      const wp = attrs.packs?.packed(w.buf, d, 'forward');
      if (wp) linearForwardPacked(core, out.buf, x.buf, wp, b.buf, d);
      else linearForward(core, out.buf, x.buf, w.buf, b.buf, d);
      return undefined;
    },
    backward(core, { inputs: [x, w, b], out, attrs }, given) {
      const d = { m: x.shape[0], inF: x.shape[1], outF: w.shape[0] };
      const dy = out.grad!;
      const needs = given[1] && attrs.weightRows?.take(w, x.buf, dy, d) ? [given[0], false, given[2]] : given;
      if (needs[0]) {
        const wp = attrs.packs?.packed(w.buf, d, 'backwardData');
        if (wp) linearBackwardDataPacked(core, x.ensureGrad(), dy, wp, d);
        else linearBackwardData(core, x.ensureGrad(), dy, w.buf, d);
      }
      if (attrs.segments) {
        // each segment's weight and bias gradients from its own rows, where the engine says
        eachSegment(attrs.segments, (k, s, n) => {
          const dk = { ...d, m: n };
          const dyk = dy.sub(s * d.outF, n * d.outF);
          if (needs[1]) {
            const dw = attrs.segments!.grad(w, k);
            linearBackwardWeight(core, dw.buf, dyk, x.buf.sub(s * d.inF, n * d.inF), dk, { overwrite: dw.overwrite });
          }
          if (needs[2]) linearBackwardBias(core, attrs.segments!.grad(b, k).buf, dyk, dk);
        });
        return;
      }
      if (needs[1]) {
        // the engines leave parameter gradients unwritten, so the first write skips zeroing and reading the largest one
        const dw = w.gradForWrite();
        linearBackwardWeight(core, dw.buf, dy, x.buf, d, { overwrite: dw.overwrite });
      }
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
    linear: {
      exports: {
        forward: 'linear_forward',
        backwardData: 'linear_backward_data',
        backwardWeight: 'linear_backward_weight',
        backwardBias: 'linear_backward_bias',
        packWeight: 'linear_pack_weight',
        forwardPacked: 'linear_forward_packed',
        backwardDataPacked: 'linear_backward_data_packed',
      },
      run: {
        forward: linearForward,
        backwardData: linearBackwardData,
        backwardWeight: linearBackwardWeight,
        backwardWeightRows: linearBackwardWeightRows,
        backwardBias: linearBackwardBias,
        packWeight: linearPackWeight,
        forwardPacked: linearForwardPacked,
        backwardDataPacked: linearBackwardDataPacked,
      },
      ref: { forward: linearForwardRef, backwardData: linearBackwardDataRef, backwardWeight: linearBackwardWeightRef, backwardWeightRows: linearBackwardWeightRowsRef, backwardBias: linearBackwardBiasRef },
      tolerance: { rtol: 1e-5, scale: 'absolute operands' },
      // batch 1, 1x1, sizes around the GEMM tiles (5/6 x 8), primes, the LeNet fc layers, one large case
      test: {
        shapes: (
          [
            [1, 1, 1], [1, 5, 3], [2, 7, 9], [3, 17, 6], [5, 8, 8], [6, 9, 7], [7, 13, 17], [11, 31, 10],
            [64, 500, 10], [64, 1250, 50], [37, 300, 129],
          ] as const
        ).map(([m, inF, outF]) => ({ m, inF, outF })),
      },
      bench: {
        dims: [
          { dims: { m: 64, inF: 1250, outF: 500 }, note: 'LeNet fc1' },
          { dims: { m: 64, inF: 500, outF: 10 }, note: 'LeNet fc2' },
        ],
      },
      // forward 1e-4 relative (expectClose's 0.1% floor); gradients sum m or outF products that
      // cancel: 1e-5 of the tensor's max
      torch: { file: 'linear.safetensors', rtol: { forward: 1e-4, backward: 1e-5 } },
    },
    gradcheck: { cases: [{ shapes: [[3, 7], [5, 7], [5]], attrs: {} }, { shapes: [[1, 13], [9, 13], [9]], attrs: {} }] },
  } satisfies OpDef<LinearAttrs>,

  /** max over kh x kw windows; records the arg-max for backward */
  maxpool2d: {
    segments: 'per-example',
    inputs: ['x'],
    differentiable: [true],
    outShape: (s, a: Pool2dAttrs) => poolShape('maxpool2d', s, a),
    forward(core, out, [x], a) {
      const argmax = core.heap.alloc(out.size, 'i32', false);
      freeOnThrow(argmax, () => maxpool2dForward(core, out.buf, argmax, x.buf, poolGeom(x.shape, a)));
      return { argmax };
    },
    backward(core, { inputs: [x], out, attrs, saved }) {
      const dx = x.gradForWrite();
      maxpool2dBackward(core, dx.buf, out.grad!, saved!.argmax!, poolGeom(x.shape, attrs), { overwrite: dx.overwrite });
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
    pool: {
      exports: { forward: 'maxpool2d_forward', backward: 'maxpool2d_backward' },
      argmax: true,
      run: {
        forward: (c, y, argmax, x, g, o) => maxpool2dForward(c, y, argmax!, x, g, o),
        backward: (c, dx, dy, argmax, g, o) => maxpool2dBackward(c, dx, dy, argmax!, g, o),
      },
      ref: { forward: maxpool2dForwardRef, backward: (dx, dy, argmax, g) => maxpool2dBackwardRef(dx, dy, argmax!, g) },
      tolerance: { forward: 'exact', backward: POOL_SUM },
      test: { geoms: POOL_GEOMS },
      bench: POOL_BENCH,
      // forward copies values: exact; the gradient sums at most a few upstream values where
      // windows overlap (1e-6 of the max)
      torch: { file: 'pool.safetensors', key: 'max', rtol: { forward: 0, backward: 1e-6 } },
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
    segments: 'per-example',
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
    pool: {
      exports: { forward: 'avgpool2d_forward', backward: 'avgpool2d_backward' },
      argmax: false,
      run: {
        forward: (c, y, _argmax, x, g, o) => avgpool2dForward(c, y, x, g, o),
        backward: (c, dx, dy, _argmax, g, o) => avgpool2dBackward(c, dx, dy, g, o),
      },
      ref: { forward: (x, g) => ({ y: avgpool2dForwardRef(x, g) }), backward: (dx, dy, _argmax, g) => avgpool2dBackwardRef(dx, dy, g) },
      tolerance: { forward: POOL_SUM, backward: POOL_SUM },
      test: { geoms: POOL_GEOMS },
      bench: POOL_BENCH,
      // averages up to 9 values (1e-5 forward; 1e-6 of the max for its gradient, a sum of at most 6 terms)
      torch: { file: 'pool.safetensors', key: 'avg', note: 'count_include_pad', rtol: { forward: 1e-5, backward: 1e-6 } },
    },
    gradcheck: {
      cases: [
        { shapes: [[2, 3, 6, 6]], attrs: { kernel: [2, 2], stride: [2, 2], pad: [0, 0] } },
        { shapes: [[1, 2, 7, 5]], attrs: { kernel: [3, 3], stride: [2, 2], pad: [1, 1] } },
      ],
    },
  } satisfies OpDef<Pool2dAttrs>,

  /** y = max(x, 0) */
  relu: activation<NoAttrs>(
    {
      exports: { forward: 'relu_forward', backward: 'relu_backward' },
      params: NO_PARAMS,
      ref: { forward: (x) => reluForwardRef(x), backward: (dx, dy, y) => reluBackwardRef(dx, dy, y) },
      // rtol 0 rather than bits: max(-0, 0) is -0 in the kernel (pmax) and +0 in the reference
      tolerance: { forward: { rtol: 0 }, backward: BACKWARD },
      test: { sizes: POINTWISE_SIZES, range: [-1, 1], attrs: [{}], edges: FINITE_EXTREMES },
      bench: { attrs: {}, shapes: ACTIVATION_BENCH },
      torch: { file: 'activation.safetensors', x: 'x', listed: 'ops', cases: [{ key: 'relu', attrs: {} }] },
    },
    1,
    ACTIVATION_CASES,
    true,
  ),

  /** y = 1 / (1 + exp(-x)) */
  sigmoid: activation<NoAttrs>(
    {
      exports: { forward: 'sigmoid_forward', backward: 'sigmoid_backward' },
      params: NO_PARAMS,
      ref: { forward: (x) => sigmoidForwardRef(x), backward: (dx, dy, y) => sigmoidBackwardRef(dx, dy, y) },
      tolerance: { forward: EXP_FORWARD, backward: BACKWARD },
      test: { sizes: POINTWISE_SIZES, range: [-30, 30], attrs: [{}], edges: EXTREMES },
      bench: { attrs: {}, shapes: ACTIVATION_BENCH },
      torch: { file: 'activation.safetensors', x: 'x', listed: 'ops', cases: [{ key: 'sigmoid', attrs: {} }] },
    },
    4,
    ACTIVATION_CASES,
  ),

  /** y = tanh(x) */
  tanh: activation<NoAttrs>(
    {
      exports: { forward: 'tanh_forward', backward: 'tanh_backward' },
      params: NO_PARAMS,
      ref: { forward: (x) => tanhForwardRef(x), backward: (dx, dy, y) => tanhBackwardRef(dx, dy, y) },
      tolerance: { forward: EXP_FORWARD, backward: BACKWARD },
      test: { sizes: POINTWISE_SIZES, range: [-5, 5], attrs: [{}], edges: EXTREMES },
      bench: { attrs: {}, shapes: ACTIVATION_BENCH },
      torch: { file: 'activation.safetensors', x: 'x', listed: 'ops', cases: [{ key: 'tanh', attrs: {} }] },
    },
    4,
    ACTIVATION_CASES,
  ),

  /** y = x > 0 ? x : slope*x */
  leaky_relu: activation<LeakyReluAttrs>(
    {
      exports: { forward: 'leaky_relu_forward', backward: 'leaky_relu_backward' },
      params: (a) => [a.slope],
      // exact: one f32 multiply, which the references round as the kernels do
      ref: { forward: (x, a) => leakyReluForwardRef(x, a.slope), backward: (dx, dy, y, a) => leakyReluBackwardRef(dx, dy, y, a.slope) },
      tolerance: { forward: 'exact', backward: 'exact' },
      test: { sizes: POINTWISE_SIZES, range: [-2, 2], attrs: [{ slope: 0.01 }, { slope: 0.2 }, { slope: 0 }], edges: FINITE_EXTREMES },
      bench: { attrs: { slope: 0.01 }, shapes: ACTIVATION_BENCH },
      torch: {
        file: 'general_ops.safetensors',
        x: 'leaky.x',
        cases: [
          { key: 'leaky0.01', attrs: { slope: 0.01 } },
          { key: 'leaky0.2', attrs: { slope: 0.2 } },
        ],
      },
    },
    1,
    [
      { shapes: [[3, 7]], attrs: { slope: 0.01 } },
      { shapes: [[2, 3, 5, 5]], attrs: { slope: 0.2 } },
    ],
    true,
    checkSlope,
  ),

  /** y = log(1 + exp(x)) (PyTorch's Softplus, beta 1) */
  softplus: activation<NoAttrs>(
    {
      exports: { forward: 'softplus_forward', backward: 'softplus_backward' },
      params: NO_PARAMS,
      ref: { forward: (x) => softplusForwardRef(x), backward: (dx, dy, y) => softplusBackwardRef(dx, dy, y) },
      tolerance: { forward: EXP_FORWARD, backward: BACKWARD },
      test: { sizes: POINTWISE_SIZES, range: [-30, 30], attrs: [{}], edges: FINITE_EXTREMES },
      bench: { attrs: {}, shapes: ACTIVATION_BENCH },
      torch: { file: 'pointwise.safetensors', x: 'x', listed: 'ops', cases: [{ key: 'softplus', attrs: {} }] },
    },
    // exp (~12) and the log1p series (~16), a max and an add; backward: exp and a multiply-add
    { forward: 30, backward: 15 },
    ACTIVATION_CASES,
  ),

  /** y = x * mask, mask in {0, 1/(1-p)} drawn by the kernel from (seed, element index); saved for backward */
  dropout: {
    inputs: ['x'],
    differentiable: [true],
    outShape([x], a: DropoutAttrs) {
      if (a == null || typeof a.p !== 'number' || !(a.p >= 0 && a.p < 1)) throw new Error(`dropout: attrs.p must be a number in [0, 1), got ${a?.p}`);
      if (!Number.isInteger(a.seed) || a.seed < 0 || a.seed > 0xffffffff) throw new Error(`dropout: attrs.seed must be an integer in [0, 2^32), got ${a.seed}`);
      return x;
    },
    forward(core, out, [x], a) {
      const mask = core.heap.alloc(x.size, 'f32', false);
      freeOnThrow(mask, () => dropoutSeededForward(core, out.buf, mask, x.buf, a.p, a.seed));
      return { mask };
    },
    backward(core, { inputs: [x], out, saved }) {
      dropoutBackward(core, x.ensureGrad(), out.grad!, saved!.mask!);
    },
    flops: ([x]) => sizeOf(x),
    // forward reads x, writes y and the mask; backward reads dy and the mask, reads and writes dx
    bytes: ([x]) => 4 * 3 * sizeOf(x),
    backwardBytes: ([x]) => 4 * 4 * sizeOf(x),
    dropout: {
      exports: { forward: 'dropout_seeded_forward', maskedForward: 'dropout_forward', backward: 'dropout_backward' },
      run: { forward: dropoutSeededForward, maskedForward: dropoutForward, backward: dropoutBackward },
      ref: { mask: dropoutSeededMaskRef, forward: dropoutForwardRef, backward: dropoutBackwardRef },
      // forward exact (one f32 multiply, the mask's bits the reference's); backward 1e-6 of the O(1) operands
      tolerance: { forward: 'exact', backward: BACKWARD },
      test: {
        seeded: [
          { n: 1, p: 0.5, seed: 1 },
          { n: 7, p: 0.3, seed: 12345 },
          { n: 1023, p: 0.5, seed: 0xdeadbeef },
          { n: 100003, p: 0.1, seed: 42 },
        ],
        sizes: POINTWISE_SIZES,
        p: 0.3,
      },
      bench: { attrs: { p: 0.5, seed: 7 }, shapes: ACTIVATION_BENCH },
    },
    gradcheck: {
      cases: [
        { shapes: [[4, 9]], attrs: { p: 0.5, seed: 1234 } },
        { shapes: [[2, 3, 5, 5]], attrs: { p: 0.2, seed: 0xfedcba98 } },
      ],
    },
  } satisfies OpDef<DropoutAttrs>,

  /**
   * Batch normalisation over dim 1 (BatchNorm1d [N,C], BatchNorm2d [N,C,H,W]). training: batch
   * mean and biased variance (PyTorch); eval: running_mean and running_var. The op never changes
   * the running statistics: attrs.stats receives the batch ones for updateRunningStats.
   */
  batchnorm: {
    inputs: ['x', 'weight', 'bias', 'running_mean', 'running_var'],
    differentiable: [true, true, true, false, false],
    outShape([x, w, b, rm, rv], a: BatchnormAttrs) {
      if (x.length < 2) throw new Error(`batchnorm: x must be [N,C] or [N,C,...], got shape ${shapeStr(x)}`);
      const c = x[1];
      for (const [name, s] of [['weight', w], ['bias', b], ['running_mean', rm], ['running_var', rv]] as const) {
        if (s.length !== 1 || s[0] !== c) throw new Error(`batchnorm: ${name} must be [${c}] (one per channel of x ${shapeStr(x)}), got ${shapeStr(s)}`);
      }
      if (a == null || typeof a.training !== 'boolean') throw new Error(`batchnorm: attrs.training must be a boolean, got ${a?.training}`);
      if (typeof a.eps !== 'number' || !(a.eps >= 0) || !Number.isFinite(a.eps)) throw new Error(`batchnorm: attrs.eps must be a finite number >= 0, got ${a.eps}`);
      if (a.stats !== undefined) {
        if (!a.training) throw new Error('batchnorm: attrs.stats is only written in training mode');
        if (!(a.stats instanceof Float32Array) || a.stats.length !== 2 * c) {
          throw new Error(`batchnorm: attrs.stats must be a Float32Array of 2*C = ${2 * c} values, got ${a.stats instanceof Float32Array ? a.stats.length : typeof a.stats}`);
        }
      }
      return x;
    },
    forward(core, out, ins, a) {
      if (a.training) return bnForwardTrain(core, out, ins, a);
      const [x, w, b, rm, rv] = ins;
      const d = bnDims(x.shape);
      const invstd = core.heap.alloc(d.c, 'f32', false);
      freeOnThrow(invstd, () => batchnormForwardEval(core, out.buf, invstd, x.buf, w.buf, b.buf, rm.buf, rv.buf, d, a.eps));
      return { invstd };
    },
    backward: bnBackward,
    // training: a sum, a sum of squares, then y = (x - mean)*scale + bias; eval: the last pass
    flops: ([x], a) => (a.training ? 6 : 3) * sizeOf(x),
    // training: reduce (dy, x), then the data gradient; weight and bias need the reduce only
    backwardFlops: ([x], a, needs) => (needs[1] || needs[2] || (a.training && needs[0]) ? 4 * sizeOf(x) : 0) + (needs[0] ? (a.training ? 5 : 2) * sizeOf(x) : 0),
    // training reads x twice for the statistics and once more to normalise; eval once
    bytes: ([x, w], a) => 4 * ((a.training ? 3 : 1) * sizeOf(x) + sizeOf(x) + 4 * sizeOf(w)),
    backwardBytes([x, w], a, needs) {
      const reduce = needs[1] || needs[2] || (a.training && needs[0]) ? 2 * sizeOf(x) : 0;
      const data = needs[0] ? (a.training ? 4 : 3) * sizeOf(x) : 0;
      return 4 * (reduce + data + 6 * sizeOf(w));
    },
    batchnorm: {
      exports: {
        forwardTrain: 'batchnorm_forward_train',
        forwardEval: 'batchnorm_forward_eval',
        backwardReduce: 'batchnorm_backward_reduce',
        backwardDataTrain: 'batchnorm_backward_data_train',
        backwardDataEval: 'batchnorm_backward_data_eval',
      },
      run: {
        forwardTrain: batchnormForwardTrain,
        forwardEval: batchnormForwardEval,
        backwardReduce: batchnormBackwardReduce,
        backwardDataTrain: batchnormBackwardDataTrain,
        backwardDataEval: batchnormBackwardDataEval,
      },
      ref: { forwardTrain: batchnormForwardTrainRef, forwardEval: batchnormNormalizeRef, backwardTrain: batchnormBackwardTrainRef, backwardEval: batchnormBackwardEvalRef },
      // y 1e-6 of the O(1) operands: an output near zero is xhat*weight + bias cancelling, and
      // the f32 product alone rounds at 6e-8 of 1; the statistics 1e-5 relative; gradients 1e-5
      // of the tensor's max (each entry sums up to n*s products that cancel)
      tolerance: { y: { rtol: 1e-6, scale: 1 }, stats: { rtol: 1e-5 }, grad: { rtol: 1e-5, ofMax: true } },
      test: {
        dims: [
          { dims: { n: 3, c: 5, s: 1 }, note: 'BatchNorm1d [3,5]' },
          { dims: { n: 17, c: 7, s: 1 }, note: 'BatchNorm1d, odd batch' },
          { dims: { n: 2, c: 3, s: 35 }, note: '[2,3,5,7]' },
          { dims: { n: 1, c: 2, s: 7 }, note: 'one sample, spatial statistics only' },
          { dims: { n: 4, c: 6, s: 13 }, note: 'odd plane' },
          { dims: { n: 2, c: 4, s: 64 }, note: 's a multiple of 4: no scalar tail' },
          { dims: { n: 1, c: 3, s: 1 }, note: 'n*s = 1: zero variance' },
        ],
        eps: 1e-5,
      },
      bench: { eps: 1e-5, shapes: [{ dims: [64, 20, 28, 28], note: 'after LeNet conv1' }] },
      // float64 references rounded once to float32: forward and statistics 1e-5 relative;
      // gradients 1e-4 of the tensor's max
      torch: { file: 'batchnorm.safetensors', running: 'batchnorm_running.safetensors', residual: 'residual.safetensors', rtol: { forward: 1e-5, backward: 1e-4 } },
    },
    gradcheck: {
      cases: [
        { shapes: [[5, 3], [3], [3], [3], [3]], attrs: { training: true, eps: 1e-5 } },
        { shapes: [[2, 3, 4, 5], [3], [3], [3], [3]], attrs: { training: true, eps: 1e-5 } },
        { shapes: [[4, 3], [3], [3], [3], [3]], attrs: { training: false, eps: 1e-5 } },
        { shapes: [[2, 2, 3, 3], [2], [2], [2], [2]], attrs: { training: false, eps: 1e-3 } },
      ],
      positive: [4],
    },
  } satisfies OpDef<BatchnormAttrs>,

  /** y = a + b (same shape: the residual sum) */
  add: {
    segments: 'per-example',
    inputs: ['a', 'b'],
    differentiable: [true, true],
    outShape([a, b]) {
      if (a.length !== b.length || a.some((v, i) => v !== b[i])) throw new Error(`add: a ${shapeStr(a)} and b ${shapeStr(b)} must have the same shape`);
      return a;
    },
    forward(core, out, [a, b]) {
      add(core, out.buf, a.buf, b.buf);
      return undefined;
    },
    backward(core, { inputs: [a, b], out }, needs) {
      if (needs[0]) axpy(core, a.ensureGrad(), out.grad!, 1);
      if (needs[1]) axpy(core, b.ensureGrad(), out.grad!, 1);
    },
    flops: ([a]) => sizeOf(a),
    backwardFlops: ([a], _a, needs) => sizeOf(a) * (Number(needs[0]) + Number(needs[1])),
    bytes: ([a]) => 4 * 3 * sizeOf(a),
    backwardBytes: ([a], _a, needs) => 4 * 3 * sizeOf(a) * (Number(needs[0]) + Number(needs[1])),
    gradcheck: { cases: [{ shapes: [[3, 7], [3, 7]], attrs: {} }, { shapes: [[2, 3, 4, 5], [2, 3, 4, 5]], attrs: {} }] },
  } satisfies OpDef<NoAttrs>,

  /** y = [a, b] along dim 1: a [N,C1,...], b [N,C2,...] → [N,C1+C2,...] */
  concat: {
    segments: 'per-example',
    inputs: ['a', 'b'],
    differentiable: [true, true],
    outShape([a, b]) {
      const same = a.length >= 2 && a.length === b.length && a[0] === b[0] && a.slice(2).every((v, i) => v === b[i + 2]);
      if (!same) {
        throw new Error(`concat: a ${shapeStr(a)} and b ${shapeStr(b)} must be [N,C1,...] and [N,C2,...] with the same N and trailing dims (concatenated along dim 1)`);
      }
      return [a[0], a[1] + b[1], ...a.slice(2)];
    },
    forward(core, out, [a, b]) {
      concatForward(core, out.buf, a.buf, b.buf, concatDims(a.shape, b.shape));
      return undefined;
    },
    backward(core, { inputs: [a, b], out }, needs) {
      const d = concatDims(a.shape, b.shape);
      if (needs[0]) concatBackward(core, a.ensureGrad(), out.grad!, 'a', d);
      if (needs[1]) concatBackward(core, b.ensureGrad(), out.grad!, 'b', d);
    },
    flops: () => 0,
    backwardFlops: ([a, b], _a, needs) => (needs[0] ? sizeOf(a) : 0) + (needs[1] ? sizeOf(b) : 0),
    bytes: ([a, b]) => 4 * 2 * (sizeOf(a) + sizeOf(b)),
    backwardBytes: ([a, b], _a, needs) => 4 * 3 * ((needs[0] ? sizeOf(a) : 0) + (needs[1] ? sizeOf(b) : 0)),
    concat: {
      exports: { forward: 'concat_forward', backward: 'concat_backward' },
      run: { forward: concatForward, backward: concatBackward },
      ref: { forward: concatForwardRef, backward: concatBackwardRef },
      // forward copies and backward adds one f32 per element
      tolerance: { forward: 'exact', backward: 'exact' },
      // s = 1 for [N,C]; runs that are not multiples of 4
      test: {
        dims: [
          { n: 1, ca: 1, cb: 1, s: 1 },
          { n: 3, ca: 5, cb: 2, s: 1 },
          { n: 2, ca: 3, cb: 4, s: 35 },
          { n: 4, ca: 1, cb: 7, s: 9 },
          { n: 2, ca: 8, cb: 8, s: 16 },
        ],
      },
      bench: { dims: [{ dims: { n: 64, ca: 20, cb: 20, s: 14 * 14 }, note: 'two 14x14 branches' }] },
      torch: { file: 'general_ops.safetensors', listed: 'cat.cases' },
    },
    gradcheck: {
      cases: [
        { shapes: [[2, 3, 4, 5], [2, 2, 4, 5]], attrs: {} },
        { shapes: [[3, 4], [3, 1]], attrs: {} },
      ],
    },
  } satisfies OpDef<NoAttrs>,

  /** [N,C,H,W] → [N,C]: the mean over each H×W plane */
  global_avgpool: {
    segments: 'per-example',
    inputs: ['x'],
    differentiable: [true],
    outShape([x]) {
      rank('global_avgpool', 'x', x, 4);
      return [x[0], x[1]];
    },
    forward(core, out, [x]) {
      globalAvgpoolForward(core, out.buf, x.buf, { n: x.shape[0], c: x.shape[1], h: x.shape[2], w: x.shape[3] });
      return undefined;
    },
    backward(core, { inputs: [x], out }) {
      globalAvgpoolBackward(core, x.ensureGrad(), out.grad!, { n: x.shape[0], c: x.shape[1], h: x.shape[2], w: x.shape[3] });
    },
    flops: ([x]) => sizeOf(x),
    bytes: ([x]) => 4 * (sizeOf(x) + x[0] * x[1]),
    backwardBytes: ([x]) => 4 * (2 * sizeOf(x) + x[0] * x[1]),
    globalPool: {
      exports: { forward: 'global_avgpool_forward', backward: 'global_avgpool_backward' },
      run: { forward: globalAvgpoolForward, backward: globalAvgpoolBackward },
      ref: { forward: globalAvgpoolForwardRef, backward: globalAvgpoolBackwardRef },
      // 1e-6 relative to the O(1) operands
      tolerance: { forward: POOL_SUM, backward: POOL_SUM },
      test: { planes: [[1, 1], [3, 5], [6, 49], [4, 64], [2, 1023]] },
      bench: { shapes: [{ dims: [64, 50, 10, 10], note: 'after LeNet conv2' }] },
      torch: { file: 'general_ops.safetensors', key: 'gap' },
    },
    gradcheck: { cases: [{ shapes: [[2, 3, 5, 7]], attrs: {} }, { shapes: [[1, 4, 1, 1]], attrs: {} }] },
  } satisfies OpDef<NoAttrs>,

  /** the same data under another shape (flatten); shares data and gradient with x */
  reshape: {
    segments: 'per-example',
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
    segments: 'split',
    outShape([l, y], a: SoftmaxXentAttrs) {
      rank('softmax_xent', 'logits', l, 2);
      rank('softmax_xent', 'labels', y, 1);
      if (y[0] !== l[0]) throw new Error(`softmax_xent: ${y[0]} labels for ${l[0]} rows of logits`);
      if (a.labelSmoothing !== undefined) checkLabelSmoothing('softmax_xent', a.labelSmoothing);
      return [a.segments ? a.segments.bounds.length - 1 : 1];
    },
    forward(core, out, [logits, labels], a) {
      const c = logits.shape[1];
      const eps = a.labelSmoothing ?? 0;
      const probs = core.heap.alloc(logits.size, 'f32', false);
      const losses = out.buf.view();
      // under segments one mean per segment, each over its rows as in a batch of its own
      freeOnThrow(probs, () =>
        eachSegment(a.segments, (k, s, n) => {
          const d = { n, c };
          const p = probs.sub(s * c, n * c), l = logits.buf.sub(s * c, n * c), y = labels.buf.sub(s, n);
          losses[k] = eps === 0 ? softmaxXentForward(core, p, l, y, d) : softmaxXentSmoothForward(core, p, l, y, d, eps);
        }, logits.shape[0]),
      );
      return { probs };
    },
    backward(core, { inputs: [logits, labels], out, saved, attrs }) {
      const c = logits.shape[1];
      const eps = attrs.labelSmoothing ?? 0;
      const scales = out.grad!.view();
      const dl = logits.ensureGrad();
      eachSegment(attrs.segments, (k, s, n) => {
        const d = { n, c };
        const g = dl.sub(s * c, n * c), p = saved!.probs!.sub(s * c, n * c), y = labels.buf.sub(s, n);
        if (eps === 0) softmaxXentBackward(core, g, p, y, d, scales[k]);
        else softmaxXentSmoothBackward(core, g, p, y, d, eps, scales[k]);
      }, logits.shape[0]);
    },
    // smoothing adds one subtraction and one addition per logit (the row sum of max - x)
    flops: ([l], a) => (a.labelSmoothing ? 7 : 5) * sizeOf(l),
    // forward reads the logits and labels (i32), writes the probs it saves; backward reads the
    // probs and labels, reads and writes dlogits
    bytes: ([l, y]) => 4 * 2 * sizeOf(l) + 4 * sizeOf(y),
    backwardBytes: ([l, y]) => 4 * 3 * sizeOf(l) + 4 * sizeOf(y),
    xent: {
      variants: {
        // f32 results against f64 references: exp (a few ulp), a row sum of up to 1001 terms, a divide
        plain: {
          exports: { forward: 'softmax_xent_forward', backward: 'softmax_xent_backward' },
          eps: [0],
          run: {
            forward: (c, probs, logits, labels, d, _eps, o) => softmaxXentForward(c, probs, logits, labels, d, o),
            backward: (c, dl, probs, labels, d, _eps, scale, o) => softmaxXentBackward(c, dl, probs, labels, d, scale, o),
          },
          ref: {
            forward: (logits, labels, d) => softmaxXentForwardRef(logits, labels, d),
            backward: (dl, probs, labels, d, _eps, scale) => softmaxXentBackwardRef(dl, probs, labels, d, scale),
          },
          tolerance: { probs: { rtol: 1e-5 }, loss: { rtol: 1e-5 }, backward: { rtol: 1e-5 } },
        },
        // gradients against the tensor's max: probs - eps/C cancels wherever a probability is
        // near eps/C (c = 1001: 1e-4), leaving entries whose own size says nothing about the error
        smooth: {
          exports: { forward: 'softmax_xent_smooth_forward', backward: 'softmax_xent_smooth_backward' },
          eps: [0.1, 0.35],
          run: { forward: softmaxXentSmoothForward, backward: softmaxXentSmoothBackward },
          ref: { forward: softmaxXentSmoothForwardRef, backward: softmaxXentSmoothBackwardRef },
          tolerance: { probs: { rtol: 1e-5 }, loss: { rtol: 1e-5 }, backward: { rtol: 1e-6, ofMax: true } },
        },
      },
      // [n, c]: single element, one row, odd sizes below and above a vector, an exact multiple
      // of 4, the LeNet head (64x10), and a large prime-ish case
      test: { shapes: [[1, 1], [1, 10], [3, 7], [2, 4], [5, 3], [64, 10], [257, 1001]] },
      // with a row of logits at +-30: loss and probs 1e-5 relative; the gradient 1e-6 of its max
      torch: { file: 'softmax_xent.safetensors', rtol: { forward: 1e-5, backward: 1e-6 } },
      bench: {
        rows: [
          { variant: 'plain', n: 64, c: 10, eps: 0, note: 'LeNet' },
          { variant: 'plain', n: 1024, c: 1000, eps: 0, note: 'large' },
          { variant: 'smooth', n: 1024, c: 1000, eps: 0.1, note: 'large' },
        ],
      },
    },
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
    loss: {
      exports: { forward: 'mse_forward', backward: 'mse_backward' },
      saves: false,
      run: {
        forward: (c, pred, target, _saved, o) => mseForward(c, pred, target, undefined, o),
        backward: (c, dpred, pred, target, _saved, scale, o) => mseBackward(c, dpred, pred, target, scale, undefined, o),
      },
      ref: {
        forward: (pred, target) => ({ loss: mseForwardRef(pred, target) }),
        backward: (dpred, pred, target, _saved, scale) => mseBackwardRef(dpred, pred, target, scale),
      },
      tolerance: { loss: { rtol: LOSS_RTOL }, backward: LOSS_GRAD },
      test: { sizes: LOSS_SIZES, forward: { pred: [-5, 5], target: [-5, 5] }, backward: { pred: [-2, 2], target: [-2, 2] } },
      bench: { shapes: LOSS_BENCH },
      torch: { file: 'losses.safetensors', pred: 'pred', grad: 'gpred', cases: [{ key: 'mse' }] },
    },
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
    loss: {
      exports: { forward: 'bce_logits_forward', backward: 'bce_logits_backward' },
      saves: true,
      run: {
        forward: (c, logits, target, resid, o) => bceLogitsForward(c, resid!, logits, target, undefined, o),
        backward: (c, dlogits, _logits, _target, resid, scale, o) => bceLogitsBackward(c, dlogits, resid!, scale, undefined, o),
      },
      ref: {
        forward(logits, target) {
          const { loss, resid } = bceLogitsForwardRef(logits, target);
          return { loss, saved: resid };
        },
        backward: (dlogits, _logits, _target, resid, scale) => bceLogitsBackwardRef(dlogits, resid!, scale),
      },
      // the loss terms are all >= 0, so 2 ulps each give a few ulps of the mean; the residual
      // (1 - t) - q cancels where sigmoid(x) ~ t: judged against the residuals' size
      tolerance: { loss: { rtol: 4 * LOSS_RTOL }, saved: { rtol: 1e-6, ofMax: true }, backward: LOSS_GRAD },
      test: { sizes: LOSS_SIZES, forward: { pred: [-8, 8], target: 'targets01' }, backward: { pred: [-4, 4], target: 'targets01' } },
      bench: { shapes: LOSS_BENCH },
      torch: { file: 'losses.safetensors', pred: 'logits', grad: 'glogits', cases: [{ key: 'bce', f64Loss: true }, { key: 'bce_sat', f64Loss: true }] },
    },
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

/** The pointwise ops (those with a `pointwise` kernel side): what the kernel tests, torch tests and benchmarks iterate. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const POINTWISE_LIST: ReadonlyArray<[OpName, OpDef<any> & { pointwise: PointwiseKernels<any> }]> = OP_LIST.filter(
  ([, d]) => d.pointwise !== undefined,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
) as [OpName, OpDef<any> & { pointwise: PointwiseKernels<any> }][];

/** The 2-d poolings (those with a `pool` kernel side): what the pool kernel tests, torch tests and benchmarks iterate. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const POOL_LIST: ReadonlyArray<[PoolOpName, OpDef<any> & { pool: PoolKernels }]> = OP_LIST.filter(
  ([, d]) => d.pool !== undefined,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
) as [PoolOpName, OpDef<any> & { pool: PoolKernels }][];

/** The ops with a `pool` kernel side. */
export type PoolOpName = { [K in OpName]: (typeof OPS)[K] extends { pool: object } ? K : never }[OpName];

/** The mean losses (those with a `loss` kernel side): what the loss kernel tests, torch tests and benchmarks iterate. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const LOSS_LIST: ReadonlyArray<[LossOpName, OpDef<any> & { loss: LossKernels }]> = OP_LIST.filter(
  ([, d]) => d.loss !== undefined,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
) as [LossOpName, OpDef<any> & { loss: LossKernels }][];

/** The ops with a `loss` kernel side. */
export type LossOpName = { [K in OpName]: (typeof OPS)[K] extends { loss: object } ? K : never }[OpName];

/** The ops with a `pointwise` kernel side (the activations). */
export type PointwiseOpName = { [K in OpName]: (typeof OPS)[K] extends { pointwise: object } ? K : never }[OpName];

/** The pointwise ops without attrs: the activations a layer applies with `{}` (ReLU, Sigmoid, Tanh). */
export type PlainActivation = {
  [K in OpName]: (typeof OPS)[K] extends { pointwise: object } ? (NoAttrs extends AttrsOf<K> ? K : never) : never;
}[OpName];

/** The plain activations at run time (their attrs are empty), for specs and the CLI's --activation. */
export const PLAIN_ACTIVATIONS = POINTWISE_LIST.filter(([, d]) => Object.keys(d.pointwise.bench.attrs).length === 0).map(([n]) => n) as PlainActivation[];

/** The entry for `name` as a plain OpDef. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function opDef(name: OpName): OpDef<any> {
  return OPS[name] as OpDef<any>;
}

// ---- which suites read each kernel side -------------------------------------------------------

/** The fields of an OpDef that are not a kernel side. */
type CoreField = 'inputs' | 'differentiable' | 'alias' | 'outShape' | 'forward' | 'backward' | 'flops' | 'backwardFlops' | 'bytes' | 'backwardBytes' | 'gradcheck' | 'segments';
/** The kernel sides an entry can carry (pointwise, loss, pool, ...): every other field of OpDef. */
export type KernelSide = Exclude<keyof OpDef<unknown>, CoreField>;
/** The ops whose entries carry (one of) the kernel side(s) F. */
export type OpsWith<F extends KernelSide> = { [K in OpName]: F extends unknown ? ((typeof OPS)[K] extends Record<F, object> ? K : never) : never }[OpName];
/** K when it is the only op carrying side F, else never. */
type Only<F extends KernelSide, K extends OpName> = [OpsWith<F>] extends [K] ? ([K] extends [OpsWith<F>] ? K : never) : never;

/** A side its suites read from one entry by name (OPS.conv2d.conv): compiles only while `op` is the one entry carrying it. */
function single<F extends KernelSide, K extends OpName>(_side: F, op: K & Only<F, K>): { entry: K } {
  return { entry: op };
}

/**
 * Which suites read each kernel side: the kernel tests (test/kernels), the PyTorch comparisons
 * (test/torch) and bench/kernels.ts. `satisfies` makes it exhaustive over OpDef's kernel-side
 * fields, so a new kind of side does not compile until it says who reads it. A side read
 * through a list (POINTWISE_LIST, ...) covers every entry that carries it; a side read from one
 * entry by name is `single(...)`, which stops compiling when a second entry gains that side
 * (its suites must then iterate). test/kernels/registry.test.ts checks the named files read it.
 */
export const KERNEL_SIDES = {
  pointwise: { list: 'POINTWISE_LIST', tests: ['test/kernels/activation.test.ts', 'test/torch/kernels.test.ts'], bench: 'activationSpecs' },
  loss: { list: 'LOSS_LIST', tests: ['test/kernels/losses.test.ts', 'test/torch/losses.test.ts', 'test/loss_ops.test.ts'], bench: 'lossSpecs' },
  pool: { list: 'POOL_LIST', tests: ['test/kernels/pool.test.ts', 'test/torch/kernels.test.ts'], bench: 'poolSpecs' },
  concat: { ...single('concat', 'concat'), tests: ['test/kernels/concat.test.ts', 'test/torch/general_ops.test.ts'], bench: 'concatSpecs' },
  xent: { ...single('xent', 'softmax_xent'), tests: ['test/kernels/softmax_xent.test.ts', 'test/torch/kernels.test.ts', 'test/torch/losses.test.ts'], bench: 'softmaxXentSpecs' },
  linear: { ...single('linear', 'linear'), tests: ['test/kernels/linear.test.ts', 'test/torch/kernels.test.ts'], bench: 'linearSpecs' },
  globalPool: { ...single('globalPool', 'global_avgpool'), tests: ['test/kernels/pool.test.ts', 'test/torch/general_ops.test.ts'], bench: 'globalPoolSpecs' },
  conv: { ...single('conv', 'conv2d'), tests: ['test/kernels/conv2d.test.ts', 'test/torch/kernels.test.ts'], bench: 'convSpecs' },
  batchnorm: { ...single('batchnorm', 'batchnorm'), tests: ['test/kernels/batchnorm.test.ts', 'test/torch/batchnorm.test.ts', 'test/torch/general_ops.test.ts'], bench: 'batchnormSpecs' },
  dropout: { ...single('dropout', 'dropout'), tests: ['test/kernels/activation.test.ts'], bench: 'dropoutSpecs' },
} satisfies Record<KernelSide, { list: string; tests: string[]; bench: string } | { entry: OpName; tests: string[]; bench: string }>;

/**
 * The ops without a kernel side, each with the reason. `satisfies` makes it exact: a new entry
 * without a kernel side does not compile until it says why here, and one with a side cannot
 * be listed.
 */
export const NO_KERNEL_SIDE = {
  add: "its forward is ELEMENTWISE's add and its backward two axpys, tested and benchmarked there",
  reshape: 'no kernel: the output is a view of the input',
} satisfies Record<Exclude<OpName, OpsWith<KernelSide>>, string>;

// ---- per-element helper kernels ---------------------------------------------------------------
//
// The elementwise family's kernels that map n elements to n (assembly/elementwise.ts) are not
// differentiable ops, but the same registry rule holds: each entry names its WASM export (its
// `_scalar` twin by name), runs its typed wrapper, and holds its naive reference, tolerance and
// per-element FLOPs and bytes. test/kernels/elementwise.test.ts and bench/kernels.ts iterate
// ELEMENTWISE; sum_k and sum_sq, whose shapes are not n to n, keep their own tests.

/** A per-element helper kernel y = f(y?, inputs) over n elements. */
export interface ElementwiseKernel {
  /** the WASM export; its twin is `<export>_scalar` */
  export: string;
  /** f32 inputs of n elements besides y */
  inputs: 0 | 1 | 2;
  /** y is read as well as written (scale, axpy update it in place) */
  updates: boolean;
  /** the typed wrapper (src/core/kernels/elementwise.ts) with its hyper-parameter fixed */
  run(core: Core, y: Buf, ins: Buf[], n?: number, opts?: KernelOpts): void;
  /** the f64 reference (src/ref/elementwise.ts): y0 is y before the call */
  ref(y0: Float32Array, ins: Float32Array[]): Float32Array;
  tolerance: Tolerance;
  /** an input that may be y itself (the same buffer): the kernel tests run that case too */
  inPlace?: number;
  /**
   * FLOPs (what the SIMD body computes: a madd is 2) and bytes (every buffer read plus every
   * buffer written, 4 per f32) per element: bench/kernels.ts's GFLOP/s and GB/s
   */
  perElement: { flops: number; bytes: number };
  /** a benchmark row over the LeNet's parameters */
  bench: boolean;
}

/** fill's value and the scale/axpy alpha the tests and benchmarks pass */
const FILL_VALUE = -1.5;
const ALPHA = 0.3;
/** one f32 rounding (plus alpha rounded to f32) */
const ONE_ROUNDING: Tolerance = { rtol: 1e-6 };

export const ELEMENTWISE = {
  /** y = value: writes y */
  fill: {
    export: 'fill', inputs: 0, updates: false,
    run: (c, y, _ins, n, o) => fill(c, y, FILL_VALUE, n, o),
    ref: (y0) => fillRef(y0.length, FILL_VALUE),
    tolerance: 'exact', perElement: { flops: 0, bytes: 4 }, bench: true,
  },
  /** y = x: reads x, writes y */
  copy: {
    export: 'copy', inputs: 1, updates: false,
    run: (c, y, [x], n, o) => copy(c, y, x, n, o),
    ref: (_y0, [x]) => copyRef(x),
    tolerance: 'exact', inPlace: 0, perElement: { flops: 0, bytes: 8 }, bench: true,
  },
  /** y *= alpha: reads and writes y */
  scale: {
    export: 'scale', inputs: 0, updates: true,
    run: (c, y, _ins, n, o) => scale(c, y, ALPHA, n, o),
    ref: (y0) => scaleRef(y0, ALPHA),
    tolerance: ONE_ROUNDING, perElement: { flops: 1, bytes: 8 }, bench: false,
  },
  /** y += alpha*x (one madd): reads x and y, writes y */
  axpy: {
    export: 'axpy', inputs: 1, updates: true,
    run: (c, y, [x], n, o) => axpy(c, y, x, -ALPHA, n, o),
    ref: (y0, [x]) => axpyRef(y0, x, -ALPHA),
    // relative to the operands' size (data in [-2, 2]): y + alpha*x can cancel to near zero
    tolerance: { rtol: 1e-6, scale: 1 }, inPlace: 0, perElement: { flops: 2, bytes: 12 }, bench: true,
  },
  /** y = a + b: reads a and b, writes y */
  add: {
    export: 'add', inputs: 2, updates: false,
    run: (c, y, [a, b], n, o) => add(c, y, a, b, n, o),
    ref: (_y0, [a, b]) => addRef(a, b),
    tolerance: ONE_ROUNDING, inPlace: 0, perElement: { flops: 1, bytes: 12 }, bench: true,
  },
  /** y = a * b: reads a and b, writes y */
  mul: {
    export: 'mul', inputs: 2, updates: false,
    run: (c, y, [a, b], n, o) => mul(c, y, a, b, n, o),
    ref: (_y0, [a, b]) => mulRef(a, b),
    tolerance: ONE_ROUNDING, inPlace: 1, perElement: { flops: 1, bytes: 12 }, bench: false,
  },
} satisfies Record<string, ElementwiseKernel>;

export type ElementwiseName = keyof typeof ELEMENTWISE;
export const ELEMENTWISE_LIST: ReadonlyArray<[ElementwiseName, ElementwiseKernel]> = Object.entries(ELEMENTWISE) as [ElementwiseName, ElementwiseKernel][];
