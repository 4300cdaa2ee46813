// exp of a non-positive argument, shared by kernel families that need it (lane-wise and
// scalar forms with the same arithmetic, so a SIMD body and its scalar twin agree element by
// element). No exports reach the module's export table: index.ts re-exports kernel files only.
//
// Method: Cody-Waite range reduction t = n*ln2 + r (|r| <= ln2/2; ln2 split in a short high
// part and a correction so n*ln2_hi is exact) and the Cephes expf minimax polynomial for
// expm1(r) (about 1 ulp). 2^n is applied in two halves, so results down to the subnormals come
// out right instead of flushing to 0. Sigmoid, tanh and softplus (assembly/activation.ts) and
// the loss kernels all use these.
import { madd } from './common';

// ln2 = LN2_HI + LN2_LO; LN2_HI has 9 significant bits, so n*LN2_HI is exact for |n| < 2^15.
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;
const LOG2E: f32 = 1.44269504088896341;
// Cephes expf: expm1(r) ~= r + r^2 * (P5 + r*(P4 + r*(P3 + r*(P2 + r*(P1 + r*P0)))))
const P0: f32 = 1.9875691500e-4;
const P1: f32 = 1.3981999507e-3;
const P2: f32 = 8.3334519073e-3;
const P3: f32 = 4.1665795894e-2;
const P4: f32 = 1.6666665459e-1;
const P5: f32 = 5.0000001201e-1;

/** exp(-104) is below half the smallest subnormal: clamp arguments here and the result is 0. */
export const EXP_NEG_MIN: f32 = -104;

// @ts-ignore: decorator
@inline function expm1Small4(r: v128): v128 {
  let p = madd(f32x4.splat(P0), r, f32x4.splat(P1));
  p = madd(p, r, f32x4.splat(P2));
  p = madd(p, r, f32x4.splat(P3));
  p = madd(p, r, f32x4.splat(P4));
  p = madd(p, r, f32x4.splat(P5));
  return madd(f32x4.mul(r, r), p, r);
}

// @ts-ignore: decorator
@inline function expm1Small1(r: f32): f32 {
  let p = P0 * r + P1;
  p = p * r + P2;
  p = p * r + P3;
  p = p * r + P4;
  p = p * r + P5;
  return (r * r) * p + r;
}

// @ts-ignore: decorator
@inline function pow2i4(n: v128): v128 {
  return i32x4.shl(i32x4.add(n, i32x4.splat(127)), 23);
}

/** exp(t) lane-wise for t in [EXP_NEG_MIN, 0]. NaN stays NaN. */
// @ts-ignore: decorator
@inline export function expNeg4(t: v128): v128 {
  const nf = f32x4.nearest(f32x4.mul(t, f32x4.splat(LOG2E)));
  let r = madd(nf, f32x4.splat(-LN2_HI), t);
  r = madd(nf, f32x4.splat(-LN2_LO), r);
  const e = f32x4.add(expm1Small4(r), f32x4.splat(1));
  const n = i32x4.trunc_sat_f32x4_s(nf);
  const n1 = i32x4.shr_s(n, 1);
  const n2 = i32x4.sub(n, n1);
  return f32x4.mul(f32x4.mul(e, pow2i4(n1)), pow2i4(n2));
}

/** Scalar form of expNeg4. */
// @ts-ignore: decorator
@inline export function expNeg1(t: f32): f32 {
  const nf = nearest<f32>(t * LOG2E);
  let r = nf * -LN2_HI + t;
  r = nf * -LN2_LO + r;
  const e = expm1Small1(r) + 1;
  const n = <i32>nf;
  const n1 = n >> 1;
  const n2 = n - n1;
  return e * reinterpret<f32>((n1 + 127) << 23) * reinterpret<f32>((n2 + 127) << 23);
}

/** expm1(t) for t in [-40, 0] (callers clamp): (2^n - 1) + 2^n*expm1(r), exact scaling, one rounding. */
// @ts-ignore: decorator
@inline export function expm1Neg4(t: v128): v128 {
  const nf = f32x4.nearest(f32x4.mul(t, f32x4.splat(LOG2E)));
  let r = madd(nf, f32x4.splat(-LN2_HI), t);
  r = madd(nf, f32x4.splat(-LN2_LO), r);
  const q = expm1Small4(r);
  const s = pow2i4(i32x4.trunc_sat_f32x4_s(nf));
  return madd(s, q, f32x4.sub(s, f32x4.splat(1)));
}

// @ts-ignore: decorator
@inline export function expm1Neg1(t: f32): f32 {
  const nf = nearest<f32>(t * LOG2E);
  let r = nf * -LN2_HI + t;
  r = nf * -LN2_LO + r;
  const q = expm1Small1(r);
  const s = reinterpret<f32>((<i32>nf + 127) << 23);
  return s * q + (s - 1);
}
