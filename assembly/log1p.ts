// log1p on [0, 1], shared by kernel families that need it (lane-wise and scalar forms with the
// same arithmetic, so a SIMD body and its scalar twin agree element by element): the binary
// cross-entropy's log1p(exp(-|x|)) (losses.ts) and softplus (activation.ts). No exports reach
// the module's export table: index.ts re-exports kernel files only.
import { madd } from './common';

// 2*atanh(s) series coefficients 1/(2k+1): log1p(z) = 2s * (1 + s^2/3 + s^4/5 + ...)
const A13: f32 = 1.0 / 13.0;
const A11: f32 = 1.0 / 11.0;
const A9: f32 = 1.0 / 9.0;
const A7: f32 = 1.0 / 7.0;
const A5: f32 = 1.0 / 5.0;
const A3: f32 = 1.0 / 3.0;

/**
 * log1p(z) for z in [0, 1] as 2*atanh(s), s = z / (2 + z) in [0, 1/3]. No 1 + z is rounded, so
 * a tiny z keeps all its bits. The series stops at s^12/13: the rest is below s^14/15 * 9/8
 * <= 1.6e-8 relative (s^2 <= 1/9), a quarter of an f32 ulp.
 */
// @ts-ignore: decorator
@inline export function log1pUnit4(z: v128): v128 {
  const s = f32x4.div(z, f32x4.add(f32x4.splat(2), z));
  const w = f32x4.mul(s, s);
  let p = madd(f32x4.splat(A13), w, f32x4.splat(A11));
  p = madd(p, w, f32x4.splat(A9));
  p = madd(p, w, f32x4.splat(A7));
  p = madd(p, w, f32x4.splat(A5));
  p = madd(p, w, f32x4.splat(A3));
  p = madd(p, w, f32x4.splat(1));
  return f32x4.mul(f32x4.add(s, s), p);
}

// @ts-ignore: decorator
@inline export function log1pUnit1(z: f32): f32 {
  const s = z / (2 + z);
  const w = s * s;
  let p = A13 * w + A11;
  p = p * w + A9;
  p = p * w + A7;
  p = p * w + A5;
  p = p * w + A3;
  p = p * w + 1;
  return (s + s) * p;
}

