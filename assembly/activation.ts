// Pointwise activations and dropout, forward and backward side by side.
//
// Shapes: x, y, dx, dy, mask are flat (N,) vectors (any tensor, read as its elements).
// Forward kernels overwrite y and may run in place (y == x). Backward kernels take the saved
// forward OUTPUT y (not x: ReLU, leaky ReLU, sigmoid and tanh derivatives are functions of y)
// and accumulate: dx += dy * f'(.); their last argument `acc` 0 makes them overwrite instead,
// dx = 0 + dy * f'(.) (dx is never read, so it may hold garbage): the bits of accumulating into
// zeros, signed zeros included, without a pass that zeroes dx first. Dropout's mask holds 0 or 1/(1-p): dropout_seeded_forward
// draws it from (seed, index) and writes it with y = x*mask (the dropout op's forward);
// dropout_forward takes a given mask; dropout_backward is dx += dy*mask for both.
//
// Sigmoid and tanh use one exp approximation, in SIMD and scalar form: Cody-Waite range
// reduction t = n*ln2 + r (|r| <= ln2/2, ln2 split in a short high part and a correction so
// n*ln2_hi is exact) and the Cephes expf minimax polynomial for expm1(r) (about 1 ulp). Both
// only ever evaluate exp of a non-positive argument, the form that cannot overflow:
//   sigmoid(x) = (x >= 0 ? 1 : z) / (1 + z),       z = exp(-|x|)
//   tanh(x)    = sign(x) * -e / (2 + e),           e = expm1(-2|x|)
// expm1 keeps tanh accurate near 0, where (1 - z)/(1 + z) would cancel. Softplus adds the
// shared log1p (assembly/log1p.ts), again of a z = exp(-|x|) in (0, 1]:
//   softplus(x) = max(x, 0) + log1p(z),           z = exp(-|x|)
// and its backward needs sigmoid(x) = 1 - exp(-y), y = softplus(x) >= 0.
import { madd, ldf, stf, ldv, stv } from './common';
import { log1pUnit4, log1pUnit1 } from './log1p';
import { expNeg4, expNeg1, expm1Neg4, expm1Neg1 } from './exp';

// exp(-104) is below half the smallest subnormal: every sigmoid input past it gives 0 or 1.
const SIG_MIN: f32 = -104;
// tanh(9) rounds to 1 in f32; clamping -2|x| at -40 keeps 2^n a normal number.
const TANH_MIN: f32 = -40;

/** What a backward kernel adds to: dx[i] when accumulating, +0 when overwriting. */
// @ts-ignore: decorator
@inline function old(dx: usize, i: i32, acc: bool): f32 {
  return acc ? ldf(dx, i) : <f32>0;
}

// @ts-ignore: decorator
@inline function oldv(dx: usize, i: i32, acc: bool): v128 {
  return acc ? ldv(dx, i) : f32x4.splat(0);
}


// @ts-ignore: decorator
@inline function sigmoid4(x: v128): v128 {
  const t = f32x4.pmax(f32x4.neg(f32x4.abs(x)), f32x4.splat(SIG_MIN));
  const z = expNeg4(t);
  const one = f32x4.splat(1);
  const num = v128.bitselect(one, z, f32x4.ge(x, f32x4.splat(0)));
  return f32x4.div(num, f32x4.add(one, z));
}

// @ts-ignore: decorator
@inline function sigmoid1(x: f32): f32 {
  let t = -Mathf.abs(x);
  if (t < SIG_MIN) t = SIG_MIN;
  const z = expNeg1(t);
  return (x >= 0 ? <f32>1 : z) / (1 + z);
}

// @ts-ignore: decorator
@inline function tanh4(x: v128): v128 {
  const t = f32x4.pmax(f32x4.mul(f32x4.abs(x), f32x4.splat(-2)), f32x4.splat(TANH_MIN));
  const e = expm1Neg4(t);
  // e <= 0, so |e| = -e, and abs keeps tanh(+0) = +0
  const a = f32x4.div(f32x4.abs(e), f32x4.add(f32x4.splat(2), e));
  return v128.or(a, v128.and(x, f32x4.splat(-0.0)));
}

// @ts-ignore: decorator
@inline function tanh1(x: f32): f32 {
  let t = Mathf.abs(x) * -2;
  if (t < TANH_MIN) t = TANH_MIN;
  const e = expm1Neg1(t);
  return copysign<f32>(Mathf.abs(e) / (2 + e), x);
}

// ---- ReLU ---------------------------------------------------------------------------------

/**
 * y = max(x, 0). pmax lowers to one x86 maxps (STYLE 6); NaN and -0 pass through as x.
 * May run in place (y == x). Called by the ReLU layer.
 */
export function relu_forward(y: usize, x: usize, n: i32): void {
  assert(n >= 0);
  const z = f32x4.splat(0);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const a = f32x4.pmax(ldv(x, i), z), b = f32x4.pmax(ldv(x, i + 4), z);
    const c = f32x4.pmax(ldv(x, i + 8), z), d = f32x4.pmax(ldv(x, i + 12), z);
    stv(y, i, a); stv(y, i + 4, b); stv(y, i + 8, c); stv(y, i + 12, d);
  }
  for (; i + 4 <= n; i += 4) stv(y, i, f32x4.pmax(ldv(x, i), z));
  for (; i < n; i++) {
    const v = ldf(x, i);
    stf(y, i, v < 0 ? <f32>0 : v);
  }
}

/** Scalar twin of relu_forward (same pmax semantics: x < 0 ? 0 : x). */
export function relu_forward_scalar(y: usize, x: usize, n: i32): void {
  assert(n >= 0);
  for (let i = 0; i < n; i++) {
    const v = ldf(x, i);
    stf(y, i, v < 0 ? <f32>0 : v);
  }
}

// @ts-ignore: decorator
@inline function reluBack(dx: usize, dy: usize, y: usize, n: i32, acc: bool): void {
  const z = f32x4.splat(0);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const g0 = v128.and(ldv(dy, i), f32x4.gt(ldv(y, i), z));
    const g1 = v128.and(ldv(dy, i + 4), f32x4.gt(ldv(y, i + 4), z));
    stv(dx, i, f32x4.add(acc ? ldv(dx, i) : z, g0));
    stv(dx, i + 4, f32x4.add(acc ? ldv(dx, i + 4) : z, g1));
  }
  for (; i + 4 <= n; i += 4) {
    stv(dx, i, f32x4.add(acc ? ldv(dx, i) : z, v128.and(ldv(dy, i), f32x4.gt(ldv(y, i), z))));
  }
  for (; i < n; i++) stf(dx, i, old(dx, i, acc) + (ldf(y, i) > 0 ? ldf(dy, i) : <f32>0));
}

/** dx += dy where y > 0 (y is the forward output; acc 0: dx = 0 + that). Called by the ReLU layer's backward. */
export function relu_backward(dx: usize, dy: usize, y: usize, n: i32, acc: i32): void {
  assert(n >= 0);
  if (acc) reluBack(dx, dy, y, n, true);
  else reluBack(dx, dy, y, n, false);
}

/** Scalar twin of relu_backward. */
export function relu_backward_scalar(dx: usize, dy: usize, y: usize, n: i32, acc: i32): void {
  assert(n >= 0);
  for (let i = 0; i < n; i++) stf(dx, i, old(dx, i, acc != 0) + (ldf(y, i) > 0 ? ldf(dy, i) : <f32>0));
}

// ---- sigmoid ------------------------------------------------------------------------------

/**
 * y = 1 / (1 + exp(-x)), stable for any x (exp of -|x| only). About 2 ulp; 0 and 1 at the
 * extremes, never NaN for finite x. May run in place. Called by the Sigmoid layer.
 */
export function sigmoid_forward(y: usize, x: usize, n: i32): void {
  assert(n >= 0);
  let i = 0;
  // two independent vectors per round: the polynomial is a dependent chain
  for (; i + 8 <= n; i += 8) {
    const a = sigmoid4(ldv(x, i)), b = sigmoid4(ldv(x, i + 4));
    stv(y, i, a); stv(y, i + 4, b);
  }
  for (; i + 4 <= n; i += 4) stv(y, i, sigmoid4(ldv(x, i)));
  for (; i < n; i++) stf(y, i, sigmoid1(ldf(x, i)));
}

/** Scalar twin of sigmoid_forward (same approximation, lane by lane). */
export function sigmoid_forward_scalar(y: usize, x: usize, n: i32): void {
  assert(n >= 0);
  for (let i = 0; i < n; i++) stf(y, i, sigmoid1(ldf(x, i)));
}

// @ts-ignore: decorator
@inline function sigmoidBack(dx: usize, dy: usize, y: usize, n: i32, acc: bool): void {
  const one = f32x4.splat(1);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = ldv(y, i);
    stv(dx, i, madd(ldv(dy, i), f32x4.mul(v, f32x4.sub(one, v)), oldv(dx, i, acc)));
  }
  for (; i < n; i++) {
    const v = ldf(y, i);
    stf(dx, i, ldf(dy, i) * (v * (1 - v)) + old(dx, i, acc));
  }
}

/** dx += dy * y * (1 - y) (y is the forward output; acc 0: dx = 0 + that). Called by the Sigmoid layer's backward. */
export function sigmoid_backward(dx: usize, dy: usize, y: usize, n: i32, acc: i32): void {
  assert(n >= 0);
  if (acc) sigmoidBack(dx, dy, y, n, true);
  else sigmoidBack(dx, dy, y, n, false);
}

/** Scalar twin of sigmoid_backward. */
export function sigmoid_backward_scalar(dx: usize, dy: usize, y: usize, n: i32, acc: i32): void {
  assert(n >= 0);
  for (let i = 0; i < n; i++) {
    const v = ldf(y, i);
    stf(dx, i, ldf(dy, i) * (v * (1 - v)) + old(dx, i, acc != 0));
  }
}

// ---- tanh ---------------------------------------------------------------------------------

/**
 * y = tanh(x) through expm1 (accurate near 0, stable for any x: exactly +-1 past |x| ~ 9).
 * May run in place. Called by the Tanh layer.
 */
export function tanh_forward(y: usize, x: usize, n: i32): void {
  assert(n >= 0);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const a = tanh4(ldv(x, i)), b = tanh4(ldv(x, i + 4));
    stv(y, i, a); stv(y, i + 4, b);
  }
  for (; i + 4 <= n; i += 4) stv(y, i, tanh4(ldv(x, i)));
  for (; i < n; i++) stf(y, i, tanh1(ldf(x, i)));
}

/** Scalar twin of tanh_forward (same approximation, lane by lane). */
export function tanh_forward_scalar(y: usize, x: usize, n: i32): void {
  assert(n >= 0);
  for (let i = 0; i < n; i++) stf(y, i, tanh1(ldf(x, i)));
}

// @ts-ignore: decorator
@inline function tanhBack(dx: usize, dy: usize, y: usize, n: i32, acc: bool): void {
  const one = f32x4.splat(1);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = ldv(y, i);
    stv(dx, i, madd(ldv(dy, i), f32x4.sub(one, f32x4.mul(v, v)), oldv(dx, i, acc)));
  }
  for (; i < n; i++) {
    const v = ldf(y, i);
    stf(dx, i, ldf(dy, i) * (1 - v * v) + old(dx, i, acc));
  }
}

/** dx += dy * (1 - y*y) (y is the forward output; acc 0: dx = 0 + that). Called by the Tanh layer's backward. */
export function tanh_backward(dx: usize, dy: usize, y: usize, n: i32, acc: i32): void {
  assert(n >= 0);
  if (acc) tanhBack(dx, dy, y, n, true);
  else tanhBack(dx, dy, y, n, false);
}

/** Scalar twin of tanh_backward. */
export function tanh_backward_scalar(dx: usize, dy: usize, y: usize, n: i32, acc: i32): void {
  assert(n >= 0);
  for (let i = 0; i < n; i++) {
    const v = ldf(y, i);
    stf(dx, i, ldf(dy, i) * (1 - v * v) + old(dx, i, acc != 0));
  }
}

// ---- dropout ------------------------------------------------------------------------------

/**
 * y = x * mask, mask holding 0 or 1/(1-p) (inverted dropout: no rescale at eval time).
 * May run in place. Called by the Dropout layer in training mode.
 */
export function dropout_forward(y: usize, x: usize, mask: usize, n: i32): void {
  assert(n >= 0);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const a = f32x4.mul(ldv(x, i), ldv(mask, i));
    const b = f32x4.mul(ldv(x, i + 4), ldv(mask, i + 4));
    stv(y, i, a); stv(y, i + 4, b);
  }
  for (; i + 4 <= n; i += 4) stv(y, i, f32x4.mul(ldv(x, i), ldv(mask, i)));
  for (; i < n; i++) stf(y, i, ldf(x, i) * ldf(mask, i));
}

/** Scalar twin of dropout_forward. */
export function dropout_forward_scalar(y: usize, x: usize, mask: usize, n: i32): void {
  assert(n >= 0);
  for (let i = 0; i < n; i++) stf(y, i, ldf(x, i) * ldf(mask, i));
}

/** dx += dy * mask (the forward's mask). Called by the Dropout layer's backward. */
export function dropout_backward(dx: usize, dy: usize, mask: usize, n: i32): void {
  assert(n >= 0);
  let i = 0;
  for (; i + 4 <= n; i += 4) stv(dx, i, madd(ldv(dy, i), ldv(mask, i), ldv(dx, i)));
  for (; i < n; i++) stf(dx, i, ldf(dy, i) * ldf(mask, i) + ldf(dx, i));
}

/** Scalar twin of dropout_backward. */
export function dropout_backward_scalar(dx: usize, dy: usize, mask: usize, n: i32): void {
  assert(n >= 0);
  for (let i = 0; i < n; i++) stf(dx, i, ldf(dy, i) * ldf(mask, i) + ldf(dx, i));
}

// ---- leaky ReLU ---------------------------------------------------------------------------
// y = x > 0 ? x : slope*x with 0 <= slope < 1, so y > 0 exactly where x > 0 and the backward
// can read y like ReLU's. slope arrives as f64 and is rounded to f32 once (PyTorch's float).

/** y = x > 0 ? x : slope*x. May run in place. Called by the LeakyReLU layer. */
export function leaky_relu_forward(y: usize, x: usize, n: i32, slope: f64): void {
  assert(n >= 0 && slope >= 0 && slope < 1);
  const a = <f32>slope;
  const av = f32x4.splat(a), z = f32x4.splat(0);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const u = ldv(x, i), v = ldv(x, i + 4);
    const p = v128.bitselect(u, f32x4.mul(u, av), f32x4.gt(u, z));
    const q = v128.bitselect(v, f32x4.mul(v, av), f32x4.gt(v, z));
    stv(y, i, p); stv(y, i + 4, q);
  }
  for (; i + 4 <= n; i += 4) {
    const u = ldv(x, i);
    stv(y, i, v128.bitselect(u, f32x4.mul(u, av), f32x4.gt(u, z)));
  }
  for (; i < n; i++) {
    const v = ldf(x, i);
    stf(y, i, v > 0 ? v : v * a);
  }
}

/** Scalar twin of leaky_relu_forward. */
export function leaky_relu_forward_scalar(y: usize, x: usize, n: i32, slope: f64): void {
  assert(n >= 0 && slope >= 0 && slope < 1);
  const a = <f32>slope;
  for (let i = 0; i < n; i++) {
    const v = ldf(x, i);
    stf(y, i, v > 0 ? v : v * a);
  }
}

// @ts-ignore: decorator
@inline function leakyBack(dx: usize, dy: usize, y: usize, n: i32, a: f32, acc: bool): void {
  const av = f32x4.splat(a), z = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const g = ldv(dy, i);
    const d = v128.bitselect(g, f32x4.mul(g, av), f32x4.gt(ldv(y, i), z));
    stv(dx, i, f32x4.add(oldv(dx, i, acc), d));
  }
  for (; i < n; i++) {
    const g = ldf(dy, i);
    stf(dx, i, old(dx, i, acc) + (ldf(y, i) > 0 ? g : g * a));
  }
}

/** dx += y > 0 ? dy : slope*dy (y is the forward output; acc 0: dx = 0 + that). Called by the LeakyReLU backward. */
export function leaky_relu_backward(dx: usize, dy: usize, y: usize, n: i32, slope: f64, acc: i32): void {
  assert(n >= 0 && slope >= 0 && slope < 1);
  if (acc) leakyBack(dx, dy, y, n, <f32>slope, true);
  else leakyBack(dx, dy, y, n, <f32>slope, false);
}

/** Scalar twin of leaky_relu_backward. */
export function leaky_relu_backward_scalar(dx: usize, dy: usize, y: usize, n: i32, slope: f64, acc: i32): void {
  assert(n >= 0 && slope >= 0 && slope < 1);
  const a = <f32>slope;
  for (let i = 0; i < n; i++) {
    const g = ldf(dy, i);
    stf(dx, i, old(dx, i, acc != 0) + (ldf(y, i) > 0 ? g : g * a));
  }
}

// ---- softplus -----------------------------------------------------------------------------

// @ts-ignore: decorator
@inline function softplus4(x: v128): v128 {
  const t = f32x4.pmax(f32x4.neg(f32x4.abs(x)), f32x4.splat(SIG_MIN));
  return f32x4.add(f32x4.pmax(x, f32x4.splat(0)), log1pUnit4(expNeg4(t)));
}

// @ts-ignore: decorator
@inline function softplus1(x: f32): f32 {
  let t = -Mathf.abs(x);
  if (t < SIG_MIN) t = SIG_MIN;
  return (x < 0 ? <f32>0 : x) + log1pUnit1(expNeg1(t));
}

/** sigmoid(x) from y = softplus(x) >= 0: 1 - exp(-y) (exp of a non-positive argument again). */
// @ts-ignore: decorator
@inline function softplusSlope4(y: v128): v128 {
  return f32x4.sub(f32x4.splat(1), expNeg4(f32x4.pmax(f32x4.neg(y), f32x4.splat(SIG_MIN))));
}

// @ts-ignore: decorator
@inline function softplusSlope1(y: f32): f32 {
  let t = -y;
  if (t < SIG_MIN) t = SIG_MIN;
  return 1 - expNeg1(t);
}

/**
 * y = log(1 + exp(x)) as max(x, 0) + log1p(exp(-|x|)): never overflows, keeps exp(x) for very
 * negative x, and rounds to x itself from x = 16 on. May run in place. Called by the softplus op.
 */
export function softplus_forward(y: usize, x: usize, n: i32): void {
  assert(n >= 0);
  let i = 0;
  // two independent vectors per round: exp and log1p are dependent chains
  for (; i + 8 <= n; i += 8) {
    const a = softplus4(ldv(x, i)), b = softplus4(ldv(x, i + 4));
    stv(y, i, a); stv(y, i + 4, b);
  }
  for (; i + 4 <= n; i += 4) stv(y, i, softplus4(ldv(x, i)));
  for (; i < n; i++) stf(y, i, softplus1(ldf(x, i)));
}

/** Scalar twin of softplus_forward (same approximation, lane by lane). */
export function softplus_forward_scalar(y: usize, x: usize, n: i32): void {
  assert(n >= 0);
  for (let i = 0; i < n; i++) stf(y, i, softplus1(ldf(x, i)));
}

// @ts-ignore: decorator
@inline function softplusBack(dx: usize, dy: usize, y: usize, n: i32, acc: bool): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) stv(dx, i, madd(ldv(dy, i), softplusSlope4(ldv(y, i)), oldv(dx, i, acc)));
  for (; i < n; i++) stf(dx, i, ldf(dy, i) * softplusSlope1(ldf(y, i)) + old(dx, i, acc));
}

/** dx += dy * (1 - exp(-y)) = dy * sigmoid(x) (y is the forward output; acc 0: dx = 0 + that). Called by the softplus op's backward. */
export function softplus_backward(dx: usize, dy: usize, y: usize, n: i32, acc: i32): void {
  assert(n >= 0);
  if (acc) softplusBack(dx, dy, y, n, true);
  else softplusBack(dx, dy, y, n, false);
}

/** Scalar twin of softplus_backward. */
export function softplus_backward_scalar(dx: usize, dy: usize, y: usize, n: i32, acc: i32): void {
  assert(n >= 0);
  for (let i = 0; i < n; i++) stf(dx, i, ldf(dy, i) * softplusSlope1(ldf(y, i)) + old(dx, i, acc != 0));
}

// ---- dropout with the mask made here ------------------------------------------------------
// Element i is dropped when the top 24 bits of hash(seed, i) fall below p*2^24: a counter-based
// draw, so the mask depends on (seed, i, p) alone, the same in the SIMD body, the scalar twin,
// any flavour and any worker. The hash is two rounds of a 32-bit integer mixer
// (x ^= x>>16; x *= 0x7feb352d; x ^= x>>15; x *= 0x846ca68b; x ^= x>>16), the first keyed by
// the mixed seed, the second by the seed itself, so nearby seeds give unrelated masks.

// @ts-ignore: decorator
@inline function mix1(x: u32): u32 {
  x ^= x >> 16;
  x *= 0x7feb352d;
  x ^= x >> 15;
  x *= 0x846ca68b;
  x ^= x >> 16;
  return x;
}

// @ts-ignore: decorator
@inline function mix4(x: v128): v128 {
  x = v128.xor(x, i32x4.shr_u(x, 16));
  x = i32x4.mul(x, i32x4.splat(0x7feb352d));
  x = v128.xor(x, i32x4.shr_u(x, 15));
  x = i32x4.mul(x, i32x4.splat(<i32>0x846ca68b));
  x = v128.xor(x, i32x4.shr_u(x, 16));
  return x;
}

// @ts-ignore: decorator
@inline function dropThreshold(p: f64): u32 {
  return <u32>Math.floor(p * 16777216.0);
}

/**
 * Inverted dropout with the mask drawn here: mask[i] = 0 with probability p (exactly when
 * hash(seed, i) >> 8 < floor(p * 2^24)), else 1/(1-p) rounded to f32; y = x * mask. Overwrites
 * y and mask (the backward reuses dropout_backward with it). y may be x; mask must be apart.
 */
export function dropout_seeded_forward(y: usize, mask: usize, x: usize, n: i32, p: f64, seed: u32): void {
  assert(n >= 0 && p >= 0 && p < 1);
  const thr = dropThreshold(p);
  const keep = <f32>(1 / (1 - p));
  const key = mix1(seed);
  const kv = i32x4.splat(key), sv = i32x4.splat(seed), tv = i32x4.splat(thr);
  const keepv = f32x4.splat(keep), zero = f32x4.splat(0);
  let idx = i32x4(0, 1, 2, 3);
  const four = i32x4.splat(4);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const h = mix4(i32x4.add(mix4(v128.xor(idx, kv)), sv));
    const m = v128.bitselect(zero, keepv, i32x4.lt_u(i32x4.shr_u(h, 8), tv));
    stv(mask, i, m);
    stv(y, i, f32x4.mul(ldv(x, i), m));
    idx = i32x4.add(idx, four);
  }
  for (; i < n; i++) {
    const h = mix1(mix1(<u32>i ^ key) + seed);
    const m = (h >> 8) < thr ? <f32>0 : keep;
    stf(mask, i, m);
    stf(y, i, ldf(x, i) * m);
  }
}

/** Scalar twin of dropout_seeded_forward: the same mask bit for bit. */
export function dropout_seeded_forward_scalar(y: usize, mask: usize, x: usize, n: i32, p: f64, seed: u32): void {
  assert(n >= 0 && p >= 0 && p < 1);
  const thr = dropThreshold(p);
  const keep = <f32>(1 / (1 - p));
  const key = mix1(seed);
  for (let i = 0; i < n; i++) {
    const h = mix1(mix1(<u32>i ^ key) + seed);
    const m = (h >> 8) < thr ? <f32>0 : keep;
    stf(mask, i, m);
    stf(y, i, ldf(x, i) * m);
  }
}
