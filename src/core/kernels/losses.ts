// Typed, validating wrappers of the loss kernels (assembly/losses.ts): mean squared error and
// binary cross-entropy on logits, each a mean over all n elements of flat f32 vectors.
// Forwards return the mean loss; bceLogitsForward also overwrites `resid` with sigmoid(x) - t,
// which bceLogitsBackward reads. Backwards accumulate (+=). `n` defaults to the length of the
// first input (pred, logits) or, in a backward, of the gradient.
import type { Core } from '../load.js';
import type { Buf } from '../heap.js';
import * as check from '../check.js';
import { count, sameOrDisjoint, type KernelOpts } from './elementwise.js';

/** The losses family's WASM exports (each has a `_scalar` twin). */
export interface LossesExports {
  mse_forward(pred: number, target: number, n: number): number;
  mse_forward_scalar(pred: number, target: number, n: number): number;
  mse_backward(dpred: number, pred: number, target: number, n: number, scale: number): void;
  mse_backward_scalar(dpred: number, pred: number, target: number, n: number, scale: number): void;
  bce_logits_forward(resid: number, logits: number, target: number, n: number): number;
  bce_logits_forward_scalar(resid: number, logits: number, target: number, n: number): number;
  bce_logits_backward(dlogits: number, resid: number, n: number, scale: number): void;
  bce_logits_backward_scalar(dlogits: number, resid: number, n: number, scale: number): void;
}

function fns(core: Core): LossesExports {
  return core.fns<LossesExports>();
}

/** The element count, checked: byte offsets are i32 inside the kernels. */
function elements(op: string, name: string, b: Buf, n: number | undefined): number {
  const m = count(op, name, b, n);
  if (m * 4 > 0x7fffffff) throw new Error(`${op}: n = ${m} is too large for a 32-bit heap`);
  return m;
}

/** Mean over n elements of (pred - target)^2 (PyTorch F.mse_loss, reduction 'mean'). */
export function mseForward(core: Core, pred: Buf, target: Buf, n?: number, opts: KernelOpts = {}): number {
  const op = 'mseForward';
  const m = elements(op, 'pred', pred, n);
  check.buf(op, 'pred', pred, m);
  check.buf(op, 'target', target, m);
  const f = fns(core);
  return (opts.scalar ? f.mse_forward_scalar : f.mse_forward)(pred.ptr, target.ptr, m);
}

/** dpred += scale * 2 * (pred - target) / n. `scale` is the upstream gradient of the loss. */
export function mseBackward(core: Core, dpred: Buf, pred: Buf, target: Buf, scale = 1, n?: number, opts: KernelOpts = {}): void {
  const op = 'mseBackward';
  const m = elements(op, 'dpred', dpred, n);
  check.buf(op, 'dpred', dpred, m);
  check.buf(op, 'pred', pred, m);
  check.buf(op, 'target', target, m);
  check.finite(op, 'scale', scale);
  sameOrDisjoint(op, m, ['dpred', dpred], ['pred', pred]);
  sameOrDisjoint(op, m, ['dpred', dpred], ['target', target]);
  const f = fns(core);
  (opts.scalar ? f.mse_backward_scalar : f.mse_backward)(dpred.ptr, pred.ptr, target.ptr, m, scale);
}

/**
 * Mean over n elements of max(x,0) - x*t + log(1 + exp(-|x|)) (PyTorch
 * F.binary_cross_entropy_with_logits, reduction 'mean'), accurate for any |x|; writes
 * resid = sigmoid(x) - t for the backward. resid must be a buffer of its own.
 */
export function bceLogitsForward(core: Core, resid: Buf, logits: Buf, target: Buf, n?: number, opts: KernelOpts = {}): number {
  const op = 'bceLogitsForward';
  const m = elements(op, 'logits', logits, n);
  check.buf(op, 'logits', logits, m);
  check.buf(op, 'target', target, m);
  check.buf(op, 'resid', resid, m);
  check.disjoint(op, ['resid', resid.sub(0, m)], ['logits', logits.sub(0, m)]);
  check.disjoint(op, ['resid', resid.sub(0, m)], ['target', target.sub(0, m)]);
  const f = fns(core);
  return (opts.scalar ? f.bce_logits_forward_scalar : f.bce_logits_forward)(resid.ptr, logits.ptr, target.ptr, m);
}

/** dlogits += scale * resid / n, from the resid bceLogitsForward wrote. */
export function bceLogitsBackward(core: Core, dlogits: Buf, resid: Buf, scale = 1, n?: number, opts: KernelOpts = {}): void {
  const op = 'bceLogitsBackward';
  const m = elements(op, 'dlogits', dlogits, n);
  check.buf(op, 'dlogits', dlogits, m);
  check.buf(op, 'resid', resid, m);
  check.finite(op, 'scale', scale);
  sameOrDisjoint(op, m, ['dlogits', dlogits], ['resid', resid]);
  const f = fns(core);
  (opts.scalar ? f.bce_logits_backward_scalar : f.bce_logits_backward)(dlogits.ptr, resid.ptr, m, scale);
}
