// Typed, validating wrappers of the softmax / cross-entropy kernels (assembly/softmax_xent.ts).
// logits, probs, dlogits are (N,C) row-major f32; labels is (N,) i32. Every label is checked
// here, because a bad one would make the kernel read outside its row (the release build does
// not assert).
import type { Core } from '../load.js';
import type { Buf } from '../heap.js';
import * as check from '../check.js';
import type { KernelOpts } from './elementwise.js';

/** The softmax_xent family's WASM exports (each has a `_scalar` twin). */
export interface SoftmaxXentExports {
  softmax_xent_forward(probs: number, logits: number, labels: number, n: number, c: number): number;
  softmax_xent_forward_scalar(probs: number, logits: number, labels: number, n: number, c: number): number;
  softmax_xent_backward(dlogits: number, probs: number, labels: number, n: number, c: number, scale: number): void;
  softmax_xent_backward_scalar(dlogits: number, probs: number, labels: number, n: number, c: number, scale: number): void;
  softmax_xent_smooth_forward(probs: number, logits: number, labels: number, n: number, c: number, eps: number): number;
  softmax_xent_smooth_forward_scalar(probs: number, logits: number, labels: number, n: number, c: number, eps: number): number;
  softmax_xent_smooth_backward(dlogits: number, probs: number, labels: number, n: number, c: number, scale: number, eps: number): void;
  softmax_xent_smooth_backward_scalar(dlogits: number, probs: number, labels: number, n: number, c: number, scale: number, eps: number): void;
  softmax_forward(y: number, x: number, n: number, c: number): void;
  softmax_forward_scalar(y: number, x: number, n: number, c: number): void;
}

/** Rows and classes: the (N,C) shape of the logits. */
export interface SoftmaxDims {
  n: number;
  c: number;
}


/**
 * probs = softmax(logits) per row; returns the mean cross-entropy over the N rows (computed as
 * logsumexp - logit[label], so it stays finite when a probability underflows). probs may be
 * logits itself.
 */
export function softmaxXentForward(core: Core, probs: Buf, logits: Buf, labels: Buf, d: SoftmaxDims, opts: KernelOpts = {}): number {
  const op = 'softmaxXentForward';
  dims(op, d);
  check.buf(op, 'logits', logits, d.n * d.c);
  check.buf(op, 'probs', probs, d.n * d.c);
  if (probs.ptr !== logits.ptr) check.disjoint(op, ['probs', probs], ['logits', logits]);
  checkLabels(op, labels, d);
  const f = core.fns<SoftmaxXentExports>();
  const run = opts.scalar ? f.softmax_xent_forward_scalar : f.softmax_xent_forward;
  return run(probs.ptr, logits.ptr, labels.ptr, d.n, d.c);
}

/**
 * dlogits += scale * (probs - onehot(labels)) / N: the gradient of the mean loss, from the
 * probs softmaxXentForward wrote. `scale` is the upstream gradient of the loss (1 normally).
 */
export function softmaxXentBackward(
  core: Core,
  dlogits: Buf,
  probs: Buf,
  labels: Buf,
  d: SoftmaxDims,
  scale = 1,
  opts: KernelOpts = {},
): void {
  const op = 'softmaxXentBackward';
  dims(op, d);
  check.buf(op, 'dlogits', dlogits, d.n * d.c);
  check.buf(op, 'probs', probs, d.n * d.c);
  check.disjoint(op, ['dlogits', dlogits], ['probs', probs]);
  check.finite(op, 'scale', scale);
  checkLabels(op, labels, d);
  const f = core.fns<SoftmaxXentExports>();
  const run = opts.scalar ? f.softmax_xent_backward_scalar : f.softmax_xent_backward;
  run(dlogits.ptr, probs.ptr, labels.ptr, d.n, d.c, scale);
}

/**
 * softmaxXentForward with label smoothing (PyTorch `F.cross_entropy(..., label_smoothing)`):
 * returns the mean over rows of (1 - eps) * (lse - logit[label]) + eps * mean_j (lse - logit[j]),
 * eps = labelSmoothing in [0, 1). probs = softmax(logits) as there; probs may be logits itself.
 */
export function softmaxXentSmoothForward(
  core: Core,
  probs: Buf,
  logits: Buf,
  labels: Buf,
  d: SoftmaxDims,
  labelSmoothing: number,
  opts: KernelOpts = {},
): number {
  const op = 'softmaxXentSmoothForward';
  dims(op, d);
  checkLabelSmoothing(op, labelSmoothing);
  check.buf(op, 'logits', logits, d.n * d.c);
  check.buf(op, 'probs', probs, d.n * d.c);
  if (probs.ptr !== logits.ptr) check.disjoint(op, ['probs', probs], ['logits', logits]);
  checkLabels(op, labels, d);
  const f = core.fns<SoftmaxXentExports>();
  const run = opts.scalar ? f.softmax_xent_smooth_forward_scalar : f.softmax_xent_smooth_forward;
  return run(probs.ptr, logits.ptr, labels.ptr, d.n, d.c, labelSmoothing);
}

/** dlogits += scale * (probs - (1 - eps) * onehot(labels) - eps / C) / N, eps = labelSmoothing. */
export function softmaxXentSmoothBackward(
  core: Core,
  dlogits: Buf,
  probs: Buf,
  labels: Buf,
  d: SoftmaxDims,
  labelSmoothing: number,
  scale = 1,
  opts: KernelOpts = {},
): void {
  const op = 'softmaxXentSmoothBackward';
  dims(op, d);
  checkLabelSmoothing(op, labelSmoothing);
  check.buf(op, 'dlogits', dlogits, d.n * d.c);
  check.buf(op, 'probs', probs, d.n * d.c);
  check.disjoint(op, ['dlogits', dlogits], ['probs', probs]);
  check.finite(op, 'scale', scale);
  checkLabels(op, labels, d);
  const f = core.fns<SoftmaxXentExports>();
  const run = opts.scalar ? f.softmax_xent_smooth_backward_scalar : f.softmax_xent_smooth_backward;
  run(dlogits.ptr, probs.ptr, labels.ptr, d.n, d.c, scale, labelSmoothing);
}

/** Throws unless eps is a number in [0, 1) (at 1 the labels would no longer matter). */
export function checkLabelSmoothing(op: string, eps: number): void {
  if (typeof eps !== 'number' || !(eps >= 0 && eps < 1)) throw new Error(`${op}: labelSmoothing must be a number in [0, 1), got ${eps}`);
}

/** y = softmax(x) over each row (inference); y may be x itself. */
export function softmaxForward(core: Core, y: Buf, x: Buf, d: SoftmaxDims, opts: KernelOpts = {}): void {
  const op = 'softmaxForward';
  dims(op, d);
  check.buf(op, 'x', x, d.n * d.c);
  check.buf(op, 'y', y, d.n * d.c);
  if (y.ptr !== x.ptr) check.disjoint(op, ['y', y], ['x', x]);
  const f = core.fns<SoftmaxXentExports>();
  (opts.scalar ? f.softmax_forward_scalar : f.softmax_forward)(y.ptr, x.ptr, d.n, d.c);
}

function dims(op: string, d: SoftmaxDims): void {
  if (d == null) throw new Error(`${op}: dims {n, c} are missing`);
  check.int(op, 'n', d.n);
  check.int(op, 'c', d.c);
  // byte offsets are i32 inside the kernel
  if (d.n * d.c * 4 > 0x7fffffff) throw new Error(`${op}: n*c = ${d.n * d.c} is too large for a 32-bit heap`);
}

function checkLabels(op: string, labels: Buf, d: SoftmaxDims): void {
  check.buf(op, 'labels', labels, d.n, 'i32');
  const l = labels.viewI32();
  for (let i = 0; i < d.n; i++) {
    if (l[i] < 0 || l[i] >= d.c) throw new Error(`${op}: label ${l[i]} at row ${i} is outside [0, ${d.c})`);
  }
}
