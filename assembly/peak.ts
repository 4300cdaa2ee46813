// The f32x4 multiply-add peak probe for the benchmarks (STYLE 27). It runs the GEMM
// microkernel's own instruction mix (see gemm_tiles.ts): per iteration two v128 loads of B,
// one splat-load of A per row, and one madd per row and B vector into independent
// accumulators, from a few bytes that stay in L1. The tile is the one each build's GEMM uses:
// 5 rows in the plain build (mul+add; a 6-row tile spills in V8's 15 usable xmm registers),
// 6 rows in the relaxed build (fused relaxed_madd frees a register).
//
// An older probe chained each madd on its own accumulator (c = c*m + a); that measures the
// mul→add latency, not throughput, and the GEMM beat it by ~10%. It stays as
// peak_madd_chained for comparison.
import { madd } from './common';

const AREA = memory.data(64, 64);

/** madds per iteration of peak_madd: 10 (plain, 5x8 tile) or 12 (relaxed, 6x8 tile). */
export function peak_madds_per_iter(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 12 : 10;
}

/**
 * Runs `iters` iterations of the build's GEMM tile on L1-resident data and returns a value
 * that depends on every accumulator. FLOPs = iters * peak_madds_per_iter() * 8.
 * Called by bench/kernels.ts and bench/train.ts.
 */
export function peak_madd(iters: i32, seed: f32): f32 {
  const p = AREA;
  for (let i = 0; i < 16; i++) store<f32>(p + (<usize>i << 2), seed + <f32>i * 1e-3);
  let c0 = f32x4.splat(0), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0;
  let c10 = c0, c11 = c0;
  if (ASC_FEATURE_RELAXED_SIMD) {
    for (let i = 0; i < iters; i++) {
      const b0 = v128.load(p, 16), b1 = v128.load(p, 32);
      let a = v128.load32_splat(p, 0); c0 = madd(a, b0, c0); c1 = madd(a, b1, c1);
      a = v128.load32_splat(p, 4); c2 = madd(a, b0, c2); c3 = madd(a, b1, c3);
      a = v128.load32_splat(p, 8); c4 = madd(a, b0, c4); c5 = madd(a, b1, c5);
      a = v128.load32_splat(p, 12); c6 = madd(a, b0, c6); c7 = madd(a, b1, c7);
      a = v128.load32_splat(p, 48); c8 = madd(a, b0, c8); c9 = madd(a, b1, c9);
      a = v128.load32_splat(p, 52); c10 = madd(a, b0, c10); c11 = madd(a, b1, c11);
    }
  } else {
    for (let i = 0; i < iters; i++) {
      const b0 = v128.load(p, 16), b1 = v128.load(p, 32);
      let a = v128.load32_splat(p, 0); c0 = madd(a, b0, c0); c1 = madd(a, b1, c1);
      a = v128.load32_splat(p, 4); c2 = madd(a, b0, c2); c3 = madd(a, b1, c3);
      a = v128.load32_splat(p, 8); c4 = madd(a, b0, c4); c5 = madd(a, b1, c5);
      a = v128.load32_splat(p, 12); c6 = madd(a, b0, c6); c7 = madd(a, b1, c7);
      a = v128.load32_splat(p, 48); c8 = madd(a, b0, c8); c9 = madd(a, b1, c9);
    }
  }
  const s = f32x4.add(f32x4.add(f32x4.add(c0, c1), f32x4.add(c2, c3)), f32x4.add(f32x4.add(c4, c5), f32x4.add(c6, c7)));
  const u = f32x4.add(s, f32x4.add(f32x4.add(c8, c9), f32x4.add(c10, c11)));
  return f32x4.extract_lane(u, 0) + f32x4.extract_lane(u, 1) + f32x4.extract_lane(u, 2) + f32x4.extract_lane(u, 3);
}

/**
 * The latency-bound variant: 12 chains of c = c*m + a. FLOPs = iters * 12 * 8. Kept so the
 * bench can show both figures.
 */
export function peak_madd_chained(iters: i32, seed: f32): f32 {
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
