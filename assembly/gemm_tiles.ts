// Register-tiled GEMM microkernels (MR x NR, f32x4) and their scalar twins, called by gemm.ts.
//
// Inputs are packed panels (pack.ts): `a` is a zero-padded MR-row panel of op(A) laid out
// [kc][MR] (the MR values of one k side by side, one splat-load each), `b` a zero-padded
// NR-column panel of op(B) laid out [kc][NR]. The MR x NR tile of C (row stride ldc) is
// OVERWRITTEN with the product when `accumulate` is 0 (C is never read then: it may hold NaN)
// and ADDED to otherwise. alpha and beta are the caller's (gemm.ts folds alpha into the packed
// A panel and applies a general beta to C beforehand). Edge tiles are the caller's business too:
// it runs the full tile into a small buffer and copies the valid part, so nothing here branches
// per element.
//
// Tile choice (measured on the dev machine, AMD Zen 4 under V8 11 / Node 20, kc = 256, panels
// in L1): TurboFan gives wasm SIMD 15 xmm registers (the 16th is its scratch), and the
// accumulators (one v128 per 4 columns per row), two B vectors, one splat and, in the plain
// build, one product temporary must fit. 5x8 (10 + 2 + 1 + 1) runs at ~108% of the mul+add
// probe; 6x8 spills there (~76%) but is the best tile when madd is one fused instruction: ~117%
// of the relaxed probe against ~112% for 5x8. Unrolling k by 2 or 4 only hurt (spills). Any
// extra vector live through the k loop costs a spill too: an f32 alpha scaling the tile at the
// store was enough to drop 5x8 to ~62% (TurboFan keeps the splat in a register across the loop),
// hence no alpha here.
import { madd } from './common';

/** Tile height: 6 where madd is fused (relaxed build), else 5. */
export const GEMM_MR: i32 = ASC_FEATURE_RELAXED_SIMD ? 6 : 5;
/** Tile width: two f32x4 accumulators per row. */
export const GEMM_NR: i32 = 8;

// @ts-ignore: decorator
@inline function storeRow(c: usize, v0: v128, v1: v128, acc: bool): void {
  if (acc) {
    v128.store(c, f32x4.add(v128.load(c), v0));
    v128.store(c, f32x4.add(v128.load(c, 16), v1), 16);
  } else {
    v128.store(c, v0);
    v128.store(c, v1, 16);
  }
}

/**
 * 5x8 tile, the plain build's microkernel: C[0:5, 0:8] (+)= Apanel * Bpanel over kc.
 * Called by gemm.ts for every full tile (and, into a buffer, for edge tiles).
 */
export function gemm_5x8(kc: i32, a: usize, b: usize, c: usize, ldc: i32, accumulate: i32): void {
  assert(kc > 0);
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  let c30 = c00, c31 = c00, c40 = c00, c41 = c00;
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(b), b1 = v128.load(b, 16);
    let av = v128.load32_splat(a);
    c00 = madd(av, b0, c00); c01 = madd(av, b1, c01);
    av = v128.load32_splat(a, 4);
    c10 = madd(av, b0, c10); c11 = madd(av, b1, c11);
    av = v128.load32_splat(a, 8);
    c20 = madd(av, b0, c20); c21 = madd(av, b1, c21);
    av = v128.load32_splat(a, 12);
    c30 = madd(av, b0, c30); c31 = madd(av, b1, c31);
    av = v128.load32_splat(a, 16);
    c40 = madd(av, b0, c40); c41 = madd(av, b1, c41);
    a += 20;
    b += 32;
  }
  const s = <usize>ldc << 2;
  const acc = accumulate != 0;
  storeRow(c, c00, c01, acc); c += s;
  storeRow(c, c10, c11, acc); c += s;
  storeRow(c, c20, c21, acc); c += s;
  storeRow(c, c30, c31, acc); c += s;
  storeRow(c, c40, c41, acc);
}

/**
 * 4x8 tile: the plain build's short tile, for the rows a block of 5-row tiles would cover with
 * waste (8 rows: two 4-row tiles instead of 5 + a 3-row edge run into a buffer). Same contract
 * as gemm_5x8; each element's sum runs over k in the same order in any tile, so the tile mix
 * never changes a bit of C.
 */
export function gemm_4x8(kc: i32, a: usize, b: usize, c: usize, ldc: i32, accumulate: i32): void {
  assert(kc > 0);
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  let c30 = c00, c31 = c00;
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(b), b1 = v128.load(b, 16);
    let av = v128.load32_splat(a);
    c00 = madd(av, b0, c00); c01 = madd(av, b1, c01);
    av = v128.load32_splat(a, 4);
    c10 = madd(av, b0, c10); c11 = madd(av, b1, c11);
    av = v128.load32_splat(a, 8);
    c20 = madd(av, b0, c20); c21 = madd(av, b1, c21);
    av = v128.load32_splat(a, 12);
    c30 = madd(av, b0, c30); c31 = madd(av, b1, c31);
    a += 16;
    b += 32;
  }
  const s = <usize>ldc << 2;
  const acc = accumulate != 0;
  storeRow(c, c00, c01, acc); c += s;
  storeRow(c, c10, c11, acc); c += s;
  storeRow(c, c20, c21, acc); c += s;
  storeRow(c, c30, c31, acc);
}

/**
 * 6x8 tile, the relaxed build's microkernel (a fused madd frees the register a sixth row needs).
 * Same contract as gemm_5x8.
 */
export function gemm_6x8(kc: i32, a: usize, b: usize, c: usize, ldc: i32, accumulate: i32): void {
  assert(kc > 0);
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  let c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(b), b1 = v128.load(b, 16);
    let av = v128.load32_splat(a);
    c00 = madd(av, b0, c00); c01 = madd(av, b1, c01);
    av = v128.load32_splat(a, 4);
    c10 = madd(av, b0, c10); c11 = madd(av, b1, c11);
    av = v128.load32_splat(a, 8);
    c20 = madd(av, b0, c20); c21 = madd(av, b1, c21);
    av = v128.load32_splat(a, 12);
    c30 = madd(av, b0, c30); c31 = madd(av, b1, c31);
    av = v128.load32_splat(a, 16);
    c40 = madd(av, b0, c40); c41 = madd(av, b1, c41);
    av = v128.load32_splat(a, 20);
    c50 = madd(av, b0, c50); c51 = madd(av, b1, c51);
    a += 24;
    b += 32;
  }
  const s = <usize>ldc << 2;
  const acc = accumulate != 0;
  storeRow(c, c00, c01, acc); c += s;
  storeRow(c, c10, c11, acc); c += s;
  storeRow(c, c20, c21, acc); c += s;
  storeRow(c, c30, c31, acc); c += s;
  storeRow(c, c40, c41, acc); c += s;
  storeRow(c, c50, c51, acc);
}

// @ts-ignore: decorator
@inline function tileScalar(mr: i32, kc: i32, a: usize, b: usize, c: usize, ldc: i32, accumulate: i32): void {
  for (let r = 0; r < mr; r++) {
    const crow = c + ((<usize>r * <usize>ldc) << 2);
    for (let j = 0; j < 8; j++) {
      let s: f32 = 0;
      for (let p = 0; p < kc; p++) {
        s += load<f32>(a + (<usize>(p * mr + r) << 2)) * load<f32>(b + (<usize>(p * 8 + j) << 2));
      }
      const cp = crow + (<usize>j << 2);
      store<f32>(cp, accumulate != 0 ? load<f32>(cp) + s : s);
    }
  }
}

/** Scalar twin of gemm_5x8 (same packed inputs): the scalar GEMM path, the first test oracle. */
export function gemm_5x8_scalar(kc: i32, a: usize, b: usize, c: usize, ldc: i32, accumulate: i32): void {
  tileScalar(5, kc, a, b, c, ldc, accumulate);
}

/** Scalar twin of gemm_4x8. */
export function gemm_4x8_scalar(kc: i32, a: usize, b: usize, c: usize, ldc: i32, accumulate: i32): void {
  tileScalar(4, kc, a, b, c, ldc, accumulate);
}

/** Scalar twin of gemm_6x8. */
export function gemm_6x8_scalar(kc: i32, a: usize, b: usize, c: usize, ldc: i32, accumulate: i32): void {
  tileScalar(6, kc, a, b, c, ldc, accumulate);
}
