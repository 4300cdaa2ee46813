// Mean losses over all elements: mean squared error and binary cross-entropy on logits,
// forward and backward side by side.
//
// pred, target, logits, resid, dpred, dlogits are flat (N,) f32 vectors (tensors of any shape,
// read as their N elements). Forwards return the mean loss as f32; bce_logits_forward also
// OVERWRITES resid with sigmoid(x) - t, what its backward reads. Backwards ACCUMULATE (+=),
// scaled by `scale`, the upstream gradient of the mean loss (1 when the loss is the objective).
//
// Why f64 sums: N is a whole batch of outputs, and an f32 running sum of that many terms would
// lose the low bits of each; every term is widened and added in f64, as sum_sq does.
import { madd, ldf, stf, ldv, stv } from './common';
import { expNeg4, expNeg1, EXP_NEG_MIN } from './exp';
import { log1pUnit4, log1pUnit1 } from './log1p';

/** (v0 + v2, v1 + v3) in f64: the four lanes of v widened and folded into two. */
// @ts-ignore: decorator
@inline function widenSum(v: v128): v128 {
  return f64x2.add(f64x2.promote_low_f32x4(v), f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 2, 3)));
}

/** Squares of the four lanes of d, widened first (an f32 squared is exact in f64), folded into two. */
// @ts-ignore: decorator
@inline function widenSumSq(d: v128): v128 {
  const lo = f64x2.promote_low_f32x4(d);
  const hi = f64x2.promote_low_f32x4(i32x4.shuffle(d, d, 2, 3, 2, 3));
  return f64x2.add(f64x2.mul(lo, lo), f64x2.mul(hi, hi));
}

// @ts-ignore: decorator
@inline function lanes(acc: v128): f64 {
  return f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
}

// ---- mean squared error -------------------------------------------------------------------

// @ts-ignore: decorator
@inline function mseSum(pred: usize, target: usize, n: i32, simd: bool): f64 {
  assert(n >= 1, 'mse_forward: n must be >= 1');
  let i = 0;
  let s: f64 = 0;
  if (simd) {
    let acc = f64x2.splat(0);
    for (; i + 4 <= n; i += 4) acc = f64x2.add(acc, widenSumSq(f32x4.sub(ldv(pred, i), ldv(target, i))));
    s = lanes(acc);
  }
  for (; i < n; i++) {
    const d = <f64>(ldf(pred, i) - ldf(target, i));
    s += d * d;
  }
  return s;
}

// @ts-ignore: decorator
@inline function mseGrad(dpred: usize, pred: usize, target: usize, n: i32, scale: f32, simd: bool): void {
  assert(n >= 1, 'mse_backward: n must be >= 1');
  const k = <f32>((2.0 * <f64>scale) / <f64>n);
  let i = 0;
  if (simd) {
    const vk = f32x4.splat(k);
    for (; i + 4 <= n; i += 4) stv(dpred, i, madd(vk, f32x4.sub(ldv(pred, i), ldv(target, i)), ldv(dpred, i)));
  }
  for (; i < n; i++) stf(dpred, i, k * (ldf(pred, i) - ldf(target, i)) + ldf(dpred, i));
}

/** Mean over the n elements of (pred - target)^2 (PyTorch F.mse_loss, reduction 'mean'). */
export function mse_forward(pred: usize, target: usize, n: i32): f32 {
  return <f32>(mseSum(pred, target, n, true) / <f64>n);
}

/** Scalar twin of mse_forward (adds in index order). */
export function mse_forward_scalar(pred: usize, target: usize, n: i32): f32 {
  return <f32>(mseSum(pred, target, n, false) / <f64>n);
}

/** dpred += scale * 2 * (pred - target) / n. */
export function mse_backward(dpred: usize, pred: usize, target: usize, n: i32, scale: f32): void {
  mseGrad(dpred, pred, target, n, scale, true);
}

/** Scalar twin of mse_backward. */
export function mse_backward_scalar(dpred: usize, pred: usize, target: usize, n: i32, scale: f32): void {
  mseGrad(dpred, pred, target, n, scale, false);
}

// ---- binary cross-entropy on logits -------------------------------------------------------
//
// Per element, with x the logit, t the target and z = exp(-|x|) (never overflows):
//   loss  = max(x,0) - x*t + log1p(z) = |x| * (x >= 0 ? 1 - t : t) + log1p(z)
//   resid = sigmoid(x) - t            = x >= 0 ? (1 - t) - q : q - t,      q = z / (1 + z)
// Both right-hand forms are the left-hand ones rearranged, for any t. Why these: with t in
// [0, 1] the loss is a sum of two non-negative terms, so nothing cancels (x = 30, t = 1 gives
// log1p(e^-30) = 9.4e-14, not 30 - 30 + a rounding of 1 + 9.4e-14 to 1), and the residual is
// formed from q = sigmoid(-|x|), which keeps its bits where sigmoid(x) itself rounds to 1
// (the same x and t: -9.4e-14, not 0). The forward computes the residual because x and z are
// at hand there; the backward is then one multiply-add.

/** Four elements: stores their residuals at resid[i..i+3], returns their loss terms. */
// @ts-ignore: decorator
@inline function bce4(resid: usize, i: i32, x: v128, t: v128): v128 {
  const one = f32x4.splat(1);
  const a = f32x4.abs(x);
  // pmax keeps a NaN x as NaN (it returns its first operand unless that is below the second)
  const z = expNeg4(f32x4.pmax(f32x4.neg(a), f32x4.splat(EXP_NEG_MIN)));
  const pos = f32x4.ge(x, f32x4.splat(0));
  const u = f32x4.sub(one, t);
  const q = f32x4.div(z, f32x4.add(one, z));
  stv(resid, i, v128.bitselect(f32x4.sub(u, q), f32x4.sub(q, t), pos));
  return madd(a, v128.bitselect(u, t, pos), log1pUnit4(z));
}

// @ts-ignore: decorator
@inline function bce1(resid: usize, i: i32, x: f32, t: f32): f32 {
  const a = Mathf.abs(x);
  let e = -a;
  if (e < EXP_NEG_MIN) e = EXP_NEG_MIN;
  const z = expNeg1(e);
  const pos = x >= 0;
  const u: f32 = 1 - t;
  const q = z / (1 + z);
  stf(resid, i, pos ? u - q : q - t);
  return a * (pos ? u : t) + log1pUnit1(z);
}

// @ts-ignore: decorator
@inline function bceSum(resid: usize, logits: usize, target: usize, n: i32, simd: bool): f64 {
  assert(n >= 1, 'bce_logits_forward: n must be >= 1');
  let i = 0;
  let s: f64 = 0;
  if (simd) {
    let acc = f64x2.splat(0);
    for (; i + 4 <= n; i += 4) acc = f64x2.add(acc, widenSum(bce4(resid, i, ldv(logits, i), ldv(target, i))));
    s = lanes(acc);
  }
  for (; i < n; i++) s += <f64>bce1(resid, i, ldf(logits, i), ldf(target, i));
  return s;
}

// @ts-ignore: decorator
@inline function bceGrad(dlogits: usize, resid: usize, n: i32, scale: f32, simd: bool): void {
  assert(n >= 1, 'bce_logits_backward: n must be >= 1');
  const k = <f32>(<f64>scale / <f64>n);
  let i = 0;
  if (simd) {
    const vk = f32x4.splat(k);
    for (; i + 4 <= n; i += 4) stv(dlogits, i, madd(vk, ldv(resid, i), ldv(dlogits, i)));
  }
  for (; i < n; i++) stf(dlogits, i, k * ldf(resid, i) + ldf(dlogits, i));
}

/**
 * Mean over the n elements of max(x,0) - x*t + log(1 + exp(-|x|)) (PyTorch
 * F.binary_cross_entropy_with_logits, reduction 'mean'); resid = sigmoid(x) - t.
 * resid must not overlap logits or target.
 */
export function bce_logits_forward(resid: usize, logits: usize, target: usize, n: i32): f32 {
  return <f32>(bceSum(resid, logits, target, n, true) / <f64>n);
}

/** Scalar twin of bce_logits_forward (the same approximations lane by lane, added in index order). */
export function bce_logits_forward_scalar(resid: usize, logits: usize, target: usize, n: i32): f32 {
  return <f32>(bceSum(resid, logits, target, n, false) / <f64>n);
}

/** dlogits += scale * resid / n, from the resid bce_logits_forward wrote. */
export function bce_logits_backward(dlogits: usize, resid: usize, n: i32, scale: f32): void {
  bceGrad(dlogits, resid, n, scale, true);
}

/** Scalar twin of bce_logits_backward. */
export function bce_logits_backward_scalar(dlogits: usize, resid: usize, n: i32, scale: f32): void {
  bceGrad(dlogits, resid, n, scale, false);
}
