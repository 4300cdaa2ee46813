// Helpers shared by every kernel file. No exports reach the module's export table:
// index.ts re-exports kernel files only.
//
// Pointers are byte addresses (usize) of f32 data in linear memory; sizes are element counts.

/** a*b + c, fused (one rounding) in the relaxed build, mul-then-add in the plain build. */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

// @ts-ignore: decorator
@inline export function ldf(p: usize, i: i32): f32 {
  return load<f32>(p + (<usize>i << 2));
}

// @ts-ignore: decorator
@inline export function stf(p: usize, i: i32, v: f32): void {
  store<f32>(p + (<usize>i << 2), v);
}

// @ts-ignore: decorator
@inline export function ldv(p: usize, i: i32): v128 {
  return v128.load(p + (<usize>i << 2));
}

// @ts-ignore: decorator
@inline export function stv(p: usize, i: i32, v: v128): void {
  v128.store(p + (<usize>i << 2), v);
}

/** Sum of the four lanes. */
// @ts-ignore: decorator
@inline export function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

/** Sum of the run p[0..s) in f64: four lanes promoted into two f64x2 sums, then a scalar tail. */
// @ts-ignore: decorator
@inline export function runSum4(p: usize, s: i32): f64 {
  let a0 = f64x2.splat(0), a1 = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= s; i += 4) {
    const v = ldv(p, i);
    a0 = f64x2.add(a0, f64x2.promote_low_f32x4(v));
    a1 = f64x2.add(a1, f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 2, 3)));
  }
  const a = f64x2.add(a0, a1);
  let t = f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1);
  for (; i < s; i++) t += <f64>ldf(p, i);
  return t;
}

// @ts-ignore: decorator
@inline export function runSum1(p: usize, s: i32): f64 {
  let t: f64 = 0;
  for (let i = 0; i < s; i++) t += <f64>ldf(p, i);
  return t;
}
