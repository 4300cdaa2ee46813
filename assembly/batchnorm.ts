// Batch normalisation over channels (BatchNorm1d and BatchNorm2d), forward and backward side by side.
//
// Layout: x, y, dx, dy are (N,C,S): channel k of sample n is the contiguous run of S floats at
// (n*C + k)*S (S = 1 for BatchNorm1d's [N,C], H*W for NCHW). weight, bias, mean, invstd, var,
// running_mean, running_var, sum_dy and sum_dyx are (C,). M = N*S values per channel.
//
// Training mode normalises with the batch mean and the biased variance (PyTorch), eval mode with
// the running statistics; both end in y = (x - mean)*scale + bias, scale = invstd*weight per
// channel (see runAffine4 for how the mean is subtracted).
// Reductions per channel sum in f64 in a fixed order (runs in n order, each run in index order,
// the SIMD bodies in two f64x2 lanes pairs per run), so a result depends on the shape alone;
// the SIMD kernels and their scalar twins may differ in the last f64 bits, rarely in f32 ones.
// Forward kernels overwrite y (and mean, invstd, var); batchnorm_backward_reduce overwrites its
// two sums (scratch for the data gradient); the backward data kernels accumulate (+=) into dx.
import { madd, ldf, stf, ldv, stv, runSum4, runSum1 } from './common';

// ---- per-run sums in f64 ------------------------------------------------------------------

/** Sum of (p[i] - m)^2 over the run, in f64. */
// @ts-ignore: decorator
@inline function runSqDev4(p: usize, s: i32, m: f64): f64 {
  const mv = f64x2.splat(m);
  let a0 = f64x2.splat(0), a1 = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= s; i += 4) {
    const v = ldv(p, i);
    const lo = f64x2.sub(f64x2.promote_low_f32x4(v), mv);
    const hi = f64x2.sub(f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 2, 3)), mv);
    a0 = f64x2.add(a0, f64x2.mul(lo, lo));
    a1 = f64x2.add(a1, f64x2.mul(hi, hi));
  }
  const a = f64x2.add(a0, a1);
  let t = f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1);
  for (; i < s; i++) {
    const d = <f64>ldf(p, i) - m;
    t += d * d;
  }
  return t;
}

// @ts-ignore: decorator
@inline function runSqDev1(p: usize, s: i32, m: f64): f64 {
  let t: f64 = 0;
  for (let i = 0; i < s; i++) {
    const d = <f64>ldf(p, i) - m;
    t += d * d;
  }
  return t;
}

/** Sum of g[i] * (p[i] - m) over the run, in f64. */
// @ts-ignore: decorator
@inline function runDot4(g: usize, p: usize, s: i32, m: f64): f64 {
  const mv = f64x2.splat(m);
  let a0 = f64x2.splat(0), a1 = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= s; i += 4) {
    const v = ldv(p, i), w = ldv(g, i);
    const lo = f64x2.sub(f64x2.promote_low_f32x4(v), mv);
    const hi = f64x2.sub(f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 2, 3)), mv);
    a0 = f64x2.add(a0, f64x2.mul(f64x2.promote_low_f32x4(w), lo));
    a1 = f64x2.add(a1, f64x2.mul(f64x2.promote_low_f32x4(i32x4.shuffle(w, w, 2, 3, 2, 3)), hi));
  }
  const a = f64x2.add(a0, a1);
  let t = f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1);
  for (; i < s; i++) t += <f64>ldf(g, i) * (<f64>ldf(p, i) - m);
  return t;
}

// @ts-ignore: decorator
@inline function runDot1(g: usize, p: usize, s: i32, m: f64): f64 {
  let t: f64 = 0;
  for (let i = 0; i < s; i++) t += <f64>ldf(g, i) * (<f64>ldf(p, i) - m);
  return t;
}

// ---- per-run elementwise passes in f32 ----------------------------------------------------

/**
 * y = ((x - mh) - ml)*a + b over the run. The mean is split in an f32 head mh and the f32 rest
 * ml of the f64 mean, so x - mean keeps nearly f64 accuracy (x - mh is exact when x is near the
 * mean, where it matters); subtracting first avoids x*a + (b - mean*a), which cancels badly.
 */
// @ts-ignore: decorator
@inline function runAffine4(y: usize, x: usize, s: i32, mh: f32, ml: f32, a: f32, b: f32): void {
  const mhv = f32x4.splat(mh), mlv = f32x4.splat(ml), av = f32x4.splat(a), bv = f32x4.splat(b);
  let i = 0;
  for (; i + 4 <= s; i += 4) stv(y, i, madd(f32x4.sub(f32x4.sub(ldv(x, i), mhv), mlv), av, bv));
  for (; i < s; i++) stf(y, i, ((ldf(x, i) - mh) - ml) * a + b);
}

// @ts-ignore: decorator
@inline function runAffine1(y: usize, x: usize, s: i32, mh: f32, ml: f32, a: f32, b: f32): void {
  for (let i = 0; i < s; i++) stf(y, i, ((ldf(x, i) - mh) - ml) * a + b);
}

/** dx += a * (dy - mdy - (x - m)*q) over the run. */
// @ts-ignore: decorator
@inline function runDataTrain4(dx: usize, dy: usize, x: usize, s: i32, a: f32, mdy: f32, m: f32, q: f32): void {
  const av = f32x4.splat(a), mdyv = f32x4.splat(mdy), mv = f32x4.splat(m), qv = f32x4.splat(q);
  let i = 0;
  for (; i + 4 <= s; i += 4) {
    const t = f32x4.sub(f32x4.sub(ldv(dy, i), mdyv), f32x4.mul(f32x4.sub(ldv(x, i), mv), qv));
    stv(dx, i, madd(av, t, ldv(dx, i)));
  }
  for (; i < s; i++) stf(dx, i, a * (ldf(dy, i) - mdy - (ldf(x, i) - m) * q) + ldf(dx, i));
}

// @ts-ignore: decorator
@inline function runDataTrain1(dx: usize, dy: usize, x: usize, s: i32, a: f32, mdy: f32, m: f32, q: f32): void {
  for (let i = 0; i < s; i++) stf(dx, i, a * (ldf(dy, i) - mdy - (ldf(x, i) - m) * q) + ldf(dx, i));
}

/** dx += a * dy over the run. */
// @ts-ignore: decorator
@inline function runScaleAdd4(dx: usize, dy: usize, s: i32, a: f32): void {
  const av = f32x4.splat(a);
  let i = 0;
  for (; i + 4 <= s; i += 4) stv(dx, i, madd(av, ldv(dy, i), ldv(dx, i)));
  for (; i < s; i++) stf(dx, i, a * ldf(dy, i) + ldf(dx, i));
}

// @ts-ignore: decorator
@inline function runScaleAdd1(dx: usize, dy: usize, s: i32, a: f32): void {
  for (let i = 0; i < s; i++) stf(dx, i, a * ldf(dy, i) + ldf(dx, i));
}

// @ts-ignore: decorator
@inline function runAt(base: usize, n: i32, c: i32, k: i32, s: i32): usize {
  return base + (<usize>((n * c + k) * s) << 2);
}

// ---- forward ------------------------------------------------------------------------------

// @ts-ignore: decorator
@inline function forwardTrain(
  y: usize, mean: usize, invstd: usize, vr: usize, x: usize, w: usize, b: usize,
  n: i32, c: i32, s: i32, eps: f64, simd: bool,
): void {
  const cnt = <f64>n * <f64>s;
  for (let k = 0; k < c; k++) {
    let sum: f64 = 0;
    for (let j = 0; j < n; j++) sum += simd ? runSum4(runAt(x, j, c, k, s), s) : runSum1(runAt(x, j, c, k, s), s);
    const m = sum / cnt;
    let sq: f64 = 0;
    for (let j = 0; j < n; j++) sq += simd ? runSqDev4(runAt(x, j, c, k, s), s, m) : runSqDev1(runAt(x, j, c, k, s), s, m);
    const v = sq / cnt;
    const is = 1 / Math.sqrt(v + eps);
    const a = <f32>(is * <f64>ldf(w, k));
    const mf = <f32>m;
    const ml = <f32>(m - <f64>mf);
    stf(mean, k, mf);
    stf(invstd, k, <f32>is);
    stf(vr, k, <f32>v);
    for (let j = 0; j < n; j++) {
      if (simd) runAffine4(runAt(y, j, c, k, s), runAt(x, j, c, k, s), s, mf, ml, a, ldf(b, k));
      else runAffine1(runAt(y, j, c, k, s), runAt(x, j, c, k, s), s, mf, ml, a, ldf(b, k));
    }
  }
}

/**
 * Training-mode forward: per channel, the batch mean and biased variance over N*S values;
 * y = (x - mean)*invstd*weight + bias. Overwrites y and writes mean, invstd = 1/sqrt(var + eps)
 * (what the backward needs) and the biased var (the caller derives the unbiased one for running
 * statistics). y must not overlap x. Called by the batchnorm op in training mode.
 */
export function batchnorm_forward_train(
  y: usize, mean: usize, invstd: usize, vr: usize, x: usize, w: usize, b: usize,
  n: i32, c: i32, s: i32, eps: f64,
): void {
  assert(n >= 1 && c >= 1 && s >= 1 && eps >= 0);
  forwardTrain(y, mean, invstd, vr, x, w, b, n, c, s, eps, true);
}

/** Scalar twin of batchnorm_forward_train. */
export function batchnorm_forward_train_scalar(
  y: usize, mean: usize, invstd: usize, vr: usize, x: usize, w: usize, b: usize,
  n: i32, c: i32, s: i32, eps: f64,
): void {
  assert(n >= 1 && c >= 1 && s >= 1 && eps >= 0);
  forwardTrain(y, mean, invstd, vr, x, w, b, n, c, s, eps, false);
}

// @ts-ignore: decorator
@inline function forwardEval(
  y: usize, invstd: usize, x: usize, w: usize, b: usize, rm: usize, rv: usize,
  n: i32, c: i32, s: i32, eps: f64, simd: bool,
): void {
  for (let k = 0; k < c; k++) {
    const is = 1 / Math.sqrt(<f64>ldf(rv, k) + eps);
    const a = <f32>(is * <f64>ldf(w, k));
    const m = ldf(rm, k), bk = ldf(b, k);
    stf(invstd, k, <f32>is);
    for (let j = 0; j < n; j++) {
      if (simd) runAffine4(runAt(y, j, c, k, s), runAt(x, j, c, k, s), s, m, 0, a, bk);
      else runAffine1(runAt(y, j, c, k, s), runAt(x, j, c, k, s), s, m, 0, a, bk);
    }
  }
}

/**
 * Eval-mode forward: y = (x - running_mean)/sqrt(running_var + eps)*weight + bias. Overwrites
 * y and writes invstd = 1/sqrt(running_var + eps) for the backward. May run in place (y == x).
 * Called by the batchnorm op in eval mode.
 */
export function batchnorm_forward_eval(
  y: usize, invstd: usize, x: usize, w: usize, b: usize, rm: usize, rv: usize,
  n: i32, c: i32, s: i32, eps: f64,
): void {
  assert(n >= 1 && c >= 1 && s >= 1 && eps >= 0);
  forwardEval(y, invstd, x, w, b, rm, rv, n, c, s, eps, true);
}

/** Scalar twin of batchnorm_forward_eval. */
export function batchnorm_forward_eval_scalar(
  y: usize, invstd: usize, x: usize, w: usize, b: usize, rm: usize, rv: usize,
  n: i32, c: i32, s: i32, eps: f64,
): void {
  assert(n >= 1 && c >= 1 && s >= 1 && eps >= 0);
  forwardEval(y, invstd, x, w, b, rm, rv, n, c, s, eps, false);
}

// ---- backward -----------------------------------------------------------------------------

// @ts-ignore: decorator
@inline function backwardReduce(
  sdy: usize, sdyx: usize, dy: usize, x: usize, mean: usize, invstd: usize,
  n: i32, c: i32, s: i32, simd: bool,
): void {
  for (let k = 0; k < c; k++) {
    const m = <f64>ldf(mean, k);
    let g: f64 = 0, gx: f64 = 0;
    for (let j = 0; j < n; j++) {
      const dp = runAt(dy, j, c, k, s), xp = runAt(x, j, c, k, s);
      g += simd ? runSum4(dp, s) : runSum1(dp, s);
      gx += simd ? runDot4(dp, xp, s, m) : runDot1(dp, xp, s, m);
    }
    stf(sdy, k, <f32>g);
    stf(sdyx, k, <f32>(gx * <f64>ldf(invstd, k)));
  }
}

/**
 * Per channel: sum_dy = sum of dy, sum_dyx = sum of dy * xhat with xhat = (x - mean)*invstd,
 * i.e. the bias and weight gradients. Overwrites both (the op adds them into dbias and dweight,
 * and the training data gradient reads them). Used in both modes (eval passes the running mean
 * and its invstd).
 */
export function batchnorm_backward_reduce(
  sdy: usize, sdyx: usize, dy: usize, x: usize, mean: usize, invstd: usize,
  n: i32, c: i32, s: i32,
): void {
  assert(n >= 1 && c >= 1 && s >= 1);
  backwardReduce(sdy, sdyx, dy, x, mean, invstd, n, c, s, true);
}

/** Scalar twin of batchnorm_backward_reduce. */
export function batchnorm_backward_reduce_scalar(
  sdy: usize, sdyx: usize, dy: usize, x: usize, mean: usize, invstd: usize,
  n: i32, c: i32, s: i32,
): void {
  assert(n >= 1 && c >= 1 && s >= 1);
  backwardReduce(sdy, sdyx, dy, x, mean, invstd, n, c, s, false);
}

// @ts-ignore: decorator
@inline function backwardDataTrain(
  dx: usize, dy: usize, x: usize, w: usize, mean: usize, invstd: usize, sdy: usize, sdyx: usize,
  n: i32, c: i32, s: i32, simd: bool,
): void {
  const cnt = <f64>n * <f64>s;
  for (let k = 0; k < c; k++) {
    const is = <f64>ldf(invstd, k);
    const a = <f32>(is * <f64>ldf(w, k));
    const mdy = <f32>(<f64>ldf(sdy, k) / cnt);
    const q = <f32>(is * <f64>ldf(sdyx, k) / cnt);
    const m = ldf(mean, k);
    for (let j = 0; j < n; j++) {
      const dxp = runAt(dx, j, c, k, s), dyp = runAt(dy, j, c, k, s), xp = runAt(x, j, c, k, s);
      if (simd) runDataTrain4(dxp, dyp, xp, s, a, mdy, m, q);
      else runDataTrain1(dxp, dyp, xp, s, a, mdy, m, q);
    }
  }
}

/**
 * Training-mode data gradient: dx += weight*invstd * (dy - mean(dy) - xhat*mean(dy*xhat)), the
 * means over the channel's N*S values taken from batchnorm_backward_reduce's sums. dx must not
 * overlap dy or x.
 */
export function batchnorm_backward_data_train(
  dx: usize, dy: usize, x: usize, w: usize, mean: usize, invstd: usize, sdy: usize, sdyx: usize,
  n: i32, c: i32, s: i32,
): void {
  assert(n >= 1 && c >= 1 && s >= 1);
  backwardDataTrain(dx, dy, x, w, mean, invstd, sdy, sdyx, n, c, s, true);
}

/** Scalar twin of batchnorm_backward_data_train. */
export function batchnorm_backward_data_train_scalar(
  dx: usize, dy: usize, x: usize, w: usize, mean: usize, invstd: usize, sdy: usize, sdyx: usize,
  n: i32, c: i32, s: i32,
): void {
  assert(n >= 1 && c >= 1 && s >= 1);
  backwardDataTrain(dx, dy, x, w, mean, invstd, sdy, sdyx, n, c, s, false);
}

// @ts-ignore: decorator
@inline function backwardDataEval(dx: usize, dy: usize, w: usize, invstd: usize, n: i32, c: i32, s: i32, simd: bool): void {
  for (let k = 0; k < c; k++) {
    const a = <f32>(<f64>ldf(invstd, k) * <f64>ldf(w, k));
    for (let j = 0; j < n; j++) {
      if (simd) runScaleAdd4(runAt(dx, j, c, k, s), runAt(dy, j, c, k, s), s, a);
      else runScaleAdd1(runAt(dx, j, c, k, s), runAt(dy, j, c, k, s), s, a);
    }
  }
}

/** Eval-mode data gradient: dx += dy * weight*invstd (the statistics are constants). */
export function batchnorm_backward_data_eval(dx: usize, dy: usize, w: usize, invstd: usize, n: i32, c: i32, s: i32): void {
  assert(n >= 1 && c >= 1 && s >= 1);
  backwardDataEval(dx, dy, w, invstd, n, c, s, true);
}

/** Scalar twin of batchnorm_backward_data_eval. */
export function batchnorm_backward_data_eval_scalar(dx: usize, dy: usize, w: usize, invstd: usize, n: i32, c: i32, s: i32): void {
  assert(n >= 1 && c >= 1 && s >= 1);
  backwardDataEval(dx, dy, w, invstd, n, c, s, false);
}
