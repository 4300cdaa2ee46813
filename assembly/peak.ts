// The f32x4 multiply-add peak probe for the benchmarks (STYLE 27): the same instruction mix as
// the GEMM microkernels (madd from common.ts: mul+add in the plain build, a fused
// relaxed_madd in the relaxed build), with twelve independent accumulators so the add latency
// (about 4 cycles) is hidden behind throughput.
import { madd } from './common';

/**
 * Runs `iters` rounds of 12 independent f32x4 multiply-adds and returns a value that depends
 * on all of them (so nothing is optimised away). FLOPs = iters * 12 * 4 * 2.
 * Called by bench/kernels.ts.
 */
export function peak_madd(iters: i32, seed: f32): f32 {
  const m = f32x4.splat(0.999999);
  const a = f32x4.splat(seed * 1e-7);
  let c0 = f32x4.splat(seed), c1 = f32x4.splat(seed + 1), c2 = f32x4.splat(seed + 2), c3 = f32x4.splat(seed + 3);
  let c4 = f32x4.splat(seed + 4), c5 = f32x4.splat(seed + 5), c6 = f32x4.splat(seed + 6), c7 = f32x4.splat(seed + 7);
  let c8 = f32x4.splat(seed + 8), c9 = f32x4.splat(seed + 9), c10 = f32x4.splat(seed + 10), c11 = f32x4.splat(seed + 11);
  for (let i = 0; i < iters; i++) {
    c0 = madd(c0, m, a); c1 = madd(c1, m, a); c2 = madd(c2, m, a); c3 = madd(c3, m, a);
    c4 = madd(c4, m, a); c5 = madd(c5, m, a); c6 = madd(c6, m, a); c7 = madd(c7, m, a);
    c8 = madd(c8, m, a); c9 = madd(c9, m, a); c10 = madd(c10, m, a); c11 = madd(c11, m, a);
  }
  const s = f32x4.add(f32x4.add(f32x4.add(c0, c1), f32x4.add(c2, c3)), f32x4.add(f32x4.add(c4, c5), f32x4.add(c6, c7)));
  const t = f32x4.add(f32x4.add(c8, c9), f32x4.add(c10, c11));
  const u = f32x4.add(s, t);
  return f32x4.extract_lane(u, 0) + f32x4.extract_lane(u, 1) + f32x4.extract_lane(u, 2) + f32x4.extract_lane(u, 3);
}
