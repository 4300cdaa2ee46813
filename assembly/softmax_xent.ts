// Fused softmax + cross-entropy (mean over the batch), and plain row softmax for inference.
//
// logits, probs, dlogits are (N,C) row-major f32; labels is (N,) i32 with every label in [0, C).
// softmax_xent_forward and softmax_forward OVERWRITE probs / y; softmax_xent_backward
// ACCUMULATES (+=) into dlogits. probs may be logits itself (y may be x): each row reads what
// it needs before it writes.
//
// Why fused: d(mean CE)/d(logits) = (probs - onehot(labels)) / N, so the backward never forms
// the C x C softmax Jacobian (llm.c crossentropy_softmax_backward does the same).
// Why the loss is logsumexp - logit[label] and not -log(probs[label]): a probability that
// underflows to 0 (a logit gap past about 88) would give +inf; max + log(sum exp(x - max)) - x[label]
// stays finite. Subtracting the row max keeps every exp argument <= 0, so nothing overflows
// and the row sum is in [1, C].
import { madd, ldf, stf, ldv, stv } from './common';

// ln 2 split for Cody-Waite range reduction: LN2_HI has 15 significant bits, so n * LN2_HI is
// exact for the |n| <= 127 we keep, and x - n*LN2_HI loses nothing (Sterbenz).
const LN2_HI: f32 = 0.693145751953125;
const LN2_LO: f32 = 1.42860682030941723e-6;
const LOG2E: f32 = 1.44269504088896341;

/**
 * exp(x) lane-wise for x <= 0: x = n*ln2 + t with n = round(x*log2e) and |t| <= ln2/2; exp(t)
 * by its degree-7 Taylor polynomial (truncation t^8/8! < 6e-9, under half an f32 ulp) and 2^n
 * written straight into the exponent bits. Lanes with n < -126 (exp(x) < 2^-126, nothing next
 * to the row's max term 1) give 0 instead of a wrapped exponent. NaN stays NaN.
 */
// @ts-ignore: decorator
@inline function expv(x: v128): v128 {
  const n = f32x4.nearest(f32x4.mul(x, f32x4.splat(LOG2E)));
  let t = madd(n, f32x4.splat(-LN2_HI), x);
  t = madd(n, f32x4.splat(-LN2_LO), t);
  let p = f32x4.splat(1.0 / 5040.0);
  p = madd(p, t, f32x4.splat(1.0 / 720.0));
  p = madd(p, t, f32x4.splat(1.0 / 120.0));
  p = madd(p, t, f32x4.splat(1.0 / 24.0));
  p = madd(p, t, f32x4.splat(1.0 / 6.0));
  p = madd(p, t, f32x4.splat(0.5));
  p = madd(p, t, f32x4.splat(1.0));
  p = madd(p, t, f32x4.splat(1.0));
  const s = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return v128.andnot(f32x4.mul(p, s), f32x4.lt(n, f32x4.splat(-126.0)));
}

/** Largest entry of a row of c >= 1 floats (NaN propagates, as in the scalar f32.max). */
// @ts-ignore: decorator
@inline function rowMax(x: usize, c: i32, simd: bool): f32 {
  let m = ldf(x, 0);
  let j = 0;
  if (simd && c >= 4) {
    let vm = ldv(x, 0);
    for (j = 4; j <= c - 4; j += 4) vm = f32x4.max(vm, ldv(x, j));
    m = max(max(f32x4.extract_lane(vm, 0), f32x4.extract_lane(vm, 1)), max(f32x4.extract_lane(vm, 2), f32x4.extract_lane(vm, 3)));
  }
  for (; j < c; j++) m = max(m, ldf(x, j));
  return m;
}

/** y = exp(x - m) over a row; returns the row sum. */
// @ts-ignore: decorator
@inline function expRow(y: usize, x: usize, c: i32, m: f32, simd: bool): f32 {
  let j = 0;
  let s: f32 = 0;
  if (simd) {
    const vm = f32x4.splat(m);
    let acc = f32x4.splat(0);
    for (; j <= c - 4; j += 4) {
      const e = expv(f32x4.sub(ldv(x, j), vm));
      stv(y, j, e);
      acc = f32x4.add(acc, e);
    }
    s = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
    // the tail goes through the same exp as the body, so equal logits give equal probabilities
    for (; j < c; j++) {
      const e = f32x4.extract_lane(expv(f32x4.splat(ldf(x, j) - m)), 0);
      stf(y, j, e);
      s += e;
    }
  } else {
    for (; j < c; j++) {
      const e = Mathf.exp(ldf(x, j) - m);
      stf(y, j, e);
      s += e;
    }
  }
  return s;
}

/** y *= k over a row. */
// @ts-ignore: decorator
@inline function scaleRow(y: usize, c: i32, k: f32, simd: bool): void {
  let j = 0;
  if (simd) {
    const vk = f32x4.splat(k);
    for (; j <= c - 4; j += 4) stv(y, j, f32x4.mul(ldv(y, j), vk));
  }
  for (; j < c; j++) stf(y, j, ldf(y, j) * k);
}

// @ts-ignore: decorator
@inline function rowPtr(p: usize, i: i32, c: i32): usize {
  return p + ((<usize>i * <usize>c) << 2);
}

// @ts-ignore: decorator
@inline function xentForward(probs: usize, logits: usize, labels: usize, n: i32, c: i32, simd: bool): f32 {
  assert(n >= 1 && c >= 1, 'softmax_xent_forward: n and c must be >= 1');
  let loss: f64 = 0;
  for (let i = 0; i < n; i++) {
    const x = rowPtr(logits, i, c);
    const y = rowPtr(probs, i, c);
    const l = load<i32>(labels + (<usize>i << 2));
    assert(l >= 0 && l < c, 'softmax_xent_forward: label outside [0, c)');
    const xl = ldf(x, l); // before y overwrites it when probs == logits
    const m = rowMax(x, c, simd);
    const s = expRow(y, x, c, m, simd);
    scaleRow(y, c, 1 / s, simd);
    // f64: the per-row losses of a large batch must not lose each other's low bits
    loss += <f64>m + Math.log(<f64>s) - <f64>xl;
  }
  return <f32>(loss / <f64>n);
}

// @ts-ignore: decorator
@inline function xentBackward(dlogits: usize, probs: usize, labels: usize, n: i32, c: i32, scale: f32, simd: bool): void {
  assert(n >= 1 && c >= 1, 'softmax_xent_backward: n and c must be >= 1');
  const k = scale / <f32>n;
  for (let i = 0; i < n; i++) {
    const p = rowPtr(probs, i, c);
    const d = rowPtr(dlogits, i, c);
    const l = load<i32>(labels + (<usize>i << 2));
    assert(l >= 0 && l < c, 'softmax_xent_backward: label outside [0, c)');
    // the one-hot is a comparison per element, never a store at d[l]: a bad label in the
    // release build drops the -1 instead of writing outside the row
    let j = 0;
    if (simd) {
      const vk = f32x4.splat(k);
      const vl = i32x4.splat(l);
      const one = f32x4.splat(1);
      let idx = i32x4(0, 1, 2, 3);
      for (; j <= c - 4; j += 4) {
        const oh = v128.and(i32x4.eq(idx, vl), one);
        stv(d, j, madd(vk, f32x4.sub(ldv(p, j), oh), ldv(d, j)));
        idx = i32x4.add(idx, i32x4.splat(4));
      }
    }
    for (; j < c; j++) stf(d, j, ldf(d, j) + k * (ldf(p, j) - (j == l ? <f32>1 : <f32>0)));
  }
}

/** Sum over a row of m - x[j] (each >= 0 when m is the row max), added in f64. */
// @ts-ignore: decorator
@inline function rowGapSum(x: usize, c: i32, m: f32, simd: bool): f64 {
  let j = 0;
  let s: f64 = 0;
  if (simd) {
    const vm = f32x4.splat(m);
    let acc = f64x2.splat(0);
    for (; j <= c - 4; j += 4) {
      const g = f32x4.sub(vm, ldv(x, j));
      acc = f64x2.add(acc, f64x2.add(f64x2.promote_low_f32x4(g), f64x2.promote_low_f32x4(i32x4.shuffle(g, g, 2, 3, 2, 3))));
    }
    s = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
  }
  for (; j < c; j++) s += <f64>m - <f64>ldf(x, j);
  return s;
}

// Label smoothing (PyTorch F.cross_entropy(..., label_smoothing=eps)): the target of row i is
// (1 - eps) * onehot(label) + eps / C, so the row's loss is
//   (1 - eps) * (lse - x[l]) + eps * mean_j (lse - x[j])
//     = log(s) + (1 - eps) * (m - x[l]) + eps * mean_j (m - x[j])      (lse = m + log(s))
// and its gradient probs - target. The second form is a sum of non-negative terms: nothing
// cancels, however large the logits. These kernels sit beside the eps = 0 ones, which stay as
// they were (the reference LeNet's training must not change by a bit).

// @ts-ignore: decorator
@inline function smoothForward(probs: usize, logits: usize, labels: usize, n: i32, c: i32, eps: f64, simd: bool): f32 {
  assert(n >= 1 && c >= 1, 'softmax_xent_smooth_forward: n and c must be >= 1');
  assert(eps >= 0 && eps < 1, 'softmax_xent_smooth_forward: eps outside [0, 1)');
  let loss: f64 = 0;
  for (let i = 0; i < n; i++) {
    const x = rowPtr(logits, i, c);
    const y = rowPtr(probs, i, c);
    const l = load<i32>(labels + (<usize>i << 2));
    assert(l >= 0 && l < c, 'softmax_xent_smooth_forward: label outside [0, c)');
    const xl = ldf(x, l);
    const m = rowMax(x, c, simd);
    const gap = rowGapSum(x, c, m, simd); // read before y overwrites x when probs == logits
    const s = expRow(y, x, c, m, simd);
    scaleRow(y, c, 1 / s, simd);
    loss += Math.log(<f64>s) + (1 - eps) * (<f64>m - <f64>xl) + (eps * gap) / <f64>c;
  }
  return <f32>(loss / <f64>n);
}

// @ts-ignore: decorator
@inline function smoothBackward(dlogits: usize, probs: usize, labels: usize, n: i32, c: i32, scale: f32, eps: f64, simd: bool): void {
  assert(n >= 1 && c >= 1, 'softmax_xent_smooth_backward: n and c must be >= 1');
  assert(eps >= 0 && eps < 1, 'softmax_xent_smooth_backward: eps outside [0, 1)');
  const k = scale / <f32>n;
  // the two target values in f64, each rounded once (eps arrives as f64, as PyTorch's float)
  const off = <f32>(eps / <f64>c);
  const on = <f32>(1 - eps + eps / <f64>c);
  for (let i = 0; i < n; i++) {
    const p = rowPtr(probs, i, c);
    const d = rowPtr(dlogits, i, c);
    const l = load<i32>(labels + (<usize>i << 2));
    assert(l >= 0 && l < c, 'softmax_xent_smooth_backward: label outside [0, c)');
    // as in xentBackward, the label's entry is chosen by comparison, never by a store at d[l]
    let j = 0;
    if (simd) {
      const vk = f32x4.splat(k);
      const vl = i32x4.splat(l);
      const von = f32x4.splat(on);
      const voff = f32x4.splat(off);
      let idx = i32x4(0, 1, 2, 3);
      for (; j <= c - 4; j += 4) {
        const t = v128.bitselect(von, voff, i32x4.eq(idx, vl));
        stv(d, j, madd(vk, f32x4.sub(ldv(p, j), t), ldv(d, j)));
        idx = i32x4.add(idx, i32x4.splat(4));
      }
    }
    for (; j < c; j++) stf(d, j, ldf(d, j) + k * (ldf(p, j) - (j == l ? on : off)));
  }
}

// @ts-ignore: decorator
@inline function softmaxRows(y: usize, x: usize, n: i32, c: i32, simd: bool): void {
  assert(n >= 1 && c >= 1, 'softmax_forward: n and c must be >= 1');
  for (let i = 0; i < n; i++) {
    const xr = rowPtr(x, i, c);
    const yr = rowPtr(y, i, c);
    const m = rowMax(xr, c, simd);
    const s = expRow(yr, xr, c, m, simd);
    scaleRow(yr, c, 1 / s, simd);
  }
}

/**
 * probs = softmax(logits) row by row; returns the mean over the N rows of
 * logsumexp(logits[i]) - logits[i, labels[i]]. Called by the softmaxXentForward wrapper
 * (src/core/kernels/softmax_xent.ts), which validates the labels; the debug build asserts them.
 */
export function softmax_xent_forward(probs: usize, logits: usize, labels: usize, n: i32, c: i32): f32 {
  return xentForward(probs, logits, labels, n, c, true);
}

/** Scalar twin of softmax_xent_forward (libm expf, no v128): the first test oracle. */
export function softmax_xent_forward_scalar(probs: usize, logits: usize, labels: usize, n: i32, c: i32): f32 {
  return xentForward(probs, logits, labels, n, c, false);
}

/**
 * dlogits += scale * (probs - onehot(labels)) / N, from the probs softmax_xent_forward wrote.
 * `scale` is the upstream gradient of the mean loss (1 when the loss is the objective).
 * Called by the softmaxXentBackward wrapper.
 */
export function softmax_xent_backward(dlogits: usize, probs: usize, labels: usize, n: i32, c: i32, scale: f32): void {
  xentBackward(dlogits, probs, labels, n, c, scale, true);
}

/** Scalar twin of softmax_xent_backward. */
export function softmax_xent_backward_scalar(dlogits: usize, probs: usize, labels: usize, n: i32, c: i32, scale: f32): void {
  xentBackward(dlogits, probs, labels, n, c, scale, false);
}

/**
 * softmax_xent_forward with label smoothing eps in [0, 1): probs = softmax(logits) row by row;
 * returns the mean over the N rows of (1 - eps) * (lse - logits[label]) + eps * mean_j (lse -
 * logits[j]). Called by the softmaxXentSmoothForward wrapper.
 */
export function softmax_xent_smooth_forward(probs: usize, logits: usize, labels: usize, n: i32, c: i32, eps: f64): f32 {
  return smoothForward(probs, logits, labels, n, c, eps, true);
}

/** Scalar twin of softmax_xent_smooth_forward. */
export function softmax_xent_smooth_forward_scalar(probs: usize, logits: usize, labels: usize, n: i32, c: i32, eps: f64): f32 {
  return smoothForward(probs, logits, labels, n, c, eps, false);
}

/** dlogits += scale * (probs - (1 - eps) * onehot(labels) - eps / C) / N. */
export function softmax_xent_smooth_backward(dlogits: usize, probs: usize, labels: usize, n: i32, c: i32, scale: f32, eps: f64): void {
  smoothBackward(dlogits, probs, labels, n, c, scale, eps, true);
}

/** Scalar twin of softmax_xent_smooth_backward. */
export function softmax_xent_smooth_backward_scalar(dlogits: usize, probs: usize, labels: usize, n: i32, c: i32, scale: f32, eps: f64): void {
  smoothBackward(dlogits, probs, labels, n, c, scale, eps, false);
}

/** y = softmax(x) over each of the N rows of C (inference). Called by the softmaxForward wrapper. */
export function softmax_forward(y: usize, x: usize, n: i32, c: i32): void {
  softmaxRows(y, x, n, c, true);
}

/** Scalar twin of softmax_forward. */
export function softmax_forward_scalar(y: usize, x: usize, n: i32, c: i32): void {
  softmaxRows(y, x, n, c, false);
}
