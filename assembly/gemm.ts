// GEMM: C = alpha * op(A) op(B) + beta * C, row-major, single-threaded, f32.
//   gemm_nn: A is (M,K) row stride lda, B is (K,N) row stride ldb
//   gemm_nt: A is (M,K), B is stored (N,K) (ldb >= K): op(B) = B^T
//   gemm_tn: A is stored (K,M) (lda >= M): op(A) = A^T, B is (K,N)
//   C is (M,N) row stride ldc. C is OVERWRITTEN when beta == 0 and never read then (it may hold
//   NaN garbage); beta == 1 accumulates, which is how the backward kernels use it.
//
// Blocking after Goto/BLIS (and XNNPACK's packing): for each NC-wide column block and KC-deep
// slice of k, op(B) is packed into 8-column zero-padded panels (pack.ts); for each MC-row block
// op(A) is packed (times alpha) into MR-row panels; then every MR x 8 tile of C is one
// microkernel call (gemm_tiles.ts) over the packed panels. The 8-column B panel (kc*32 bytes,
// 8 KiB at KC=256) stays in L1 while the loop runs down the MC rows of the packed A block
// (MC*KC*4 bytes, about 240 KiB, well inside the 1 MiB L2 of the machines we measured). Edge
// tiles run the same microkernel into a small buffer (the panels are zero-padded) and copy the
// valid part, so the inner loops never branch per element. The first k slice overwrites C
// (beta = 0) or adds to it (any other beta, applied to C up front unless it is 1); later
// slices add. Packing costs ~0.1-0.25 ns per element, against 2*M (B) or 2*N (A) FLOPs of use.
// KC = 512 measured the same as 256 on every shape we benchmark, so the smaller scratch wins.
//
// Scratch (gemm_scratch_floats): packed B block, packed A block, one MR x 8 tile.
// The *_scalar twins run the same blocking with plain-scalar packing and microkernels.
import { GEMM_MR, GEMM_NR, gemm_4x8, gemm_5x8, gemm_6x8, gemm_4x8_scalar, gemm_5x8_scalar, gemm_6x8_scalar } from './gemm_tiles';
import { pack_a_n, pack_a_t, pack_b_n, pack_b_t } from './pack';

/** Depth of a k slice: a B panel of KC x 8 floats fills a quarter of a 32 KiB L1. */
const KC: i32 = 256;
/** Rows per packed A block (a multiple of both tile heights). */
const MC: i32 = 240;
/** Columns per packed B block. */
const NC: i32 = 2048;

// @ts-ignore: decorator
@inline function up(x: i32, m: i32): i32 {
  return ((x + m - 1) / m) * m;
}

/** The k-slice depth: k split into equal slices of at most KC. */
// @ts-ignore: decorator
@inline function sliceK(k: i32): i32 {
  const parts = (k + KC - 1) / KC;
  return (k + parts - 1) / parts;
}

/** Floats of scratch the gemm_* calls (and their scalar twins) need for these sizes. */
export function gemm_scratch_floats(m: i32, n: i32, k: i32): i32 {
  if (m <= 0 || n <= 0 || k <= 0) return 0;
  const kc = sliceK(k);
  return up(min(n, NC), GEMM_NR) * kc + up(up(min(m, MC), GEMM_MR) * kc, 4) + GEMM_MR * GEMM_NR;
}

// @ts-ignore: decorator
@inline function tile(scalar: bool, h: i32, kc: i32, a: usize, b: usize, c: usize, ldc: i32, accumulate: i32): void {
  if (scalar) {
    if (h == 6) gemm_6x8_scalar(kc, a, b, c, ldc, accumulate);
    else if (h == 5) gemm_5x8_scalar(kc, a, b, c, ldc, accumulate);
    else gemm_4x8_scalar(kc, a, b, c, ldc, accumulate);
  } else {
    if (GEMM_MR == 6 && h == 6) gemm_6x8(kc, a, b, c, ldc, accumulate);
    else if (GEMM_MR == 6 || h == 5) gemm_5x8(kc, a, b, c, ldc, accumulate);
    else gemm_4x8(kc, a, b, c, ldc, accumulate);
  }
}

/**
 * Rows of an mc-row block that go to MR-row tiles; the rest go to (MR-1)-row tiles. A block
 * that MR-row tiles would cover with waste is covered exactly by a mix of MR- and (MR-1)-row
 * tiles when the same number of tiles allows it: in the relaxed build (6 and 5) 50 rows are
 * 5x6 + 4x5 instead of 9x6 = 54, in the plain build (5 and 4) a chunk of 8 rows is 2x4 instead
 * of 5 + a 3-row edge tile, and 16 rows are 4x4 instead of 3x5 + 1. That is worth more than the
 * few percent the shorter tile gives up per FLOP.
 */
// @ts-ignore: decorator
@inline function tallRows(mc: i32): i32 {
  const t = (mc + GEMM_MR - 1) / GEMM_MR;
  return (GEMM_MR - 1) * t > mc ? mc : GEMM_MR * (mc - (GEMM_MR - 1) * t);
}

/** C = beta * C over m x n (k == 0 or alpha == 0: no product to add); beta == 0 writes zeros. */
function scaleC(c: usize, m: i32, n: i32, ldc: i32, beta: f32): void {
  if (beta == 1) return;
  for (let i = 0; i < m; i++) {
    const row = c + ((<usize>i * <usize>ldc) << 2);
    for (let j = 0; j < n; j++) {
      const p = row + (<usize>j << 2);
      store<f32>(p, beta == 0 ? 0 : beta * load<f32>(p));
    }
  }
}

function gemm(
  transA: bool, transB: bool, scalar: bool,
  c: usize, a: usize, b: usize, scratch: usize,
  m: i32, n: i32, k: i32, lda: i32, ldb: i32, ldc: i32, alpha: f32, beta: f32,
  bpre: usize = 0,
): void {
  assert(m >= 0 && n >= 0 && k >= 0);
  assert(ldc >= n);
  assert(transA ? lda >= m : lda >= k);
  assert(bpre != 0 || (transB ? ldb >= k : ldb >= n));
  if (m <= 0 || n <= 0) return;
  if (k <= 0 || alpha == 0) {
    scaleC(c, m, n, ldc, beta);
    return;
  }
  // beta is applied up front unless it is 0 (the first k slice overwrites) or 1 (it adds)
  const accFirst: i32 = beta == 0 ? 0 : 1;
  if (beta != 0 && beta != 1) scaleC(c, m, n, ldc, beta);
  const MR = GEMM_MR, NR = GEMM_NR;
  const kcMax = sliceK(k);
  const bp = scratch;
  const ap = bp + (<usize>(up(min(n, NC), NR) * kcMax) << 2);
  const tbuf = ap + (<usize>up(up(min(m, MC), MR) * kcMax, 4) << 2);
  for (let jc = 0; jc < n; jc += NC) {
    const nc = min(NC, n - jc);
    for (let pc = 0; pc < k; pc += kcMax) {
      const kc = min(kcMax, k - pc);
      const acc: i32 = pc == 0 ? accFirst : 1;
      // B packed ahead (gemm_pack_b) is read where that laid the block out; otherwise packed here
      const bblock = bpre != 0 ? bpre + (packedBlockAt(jc, pc, nc, k) << 2) : bp;
      if (bpre == 0) packBBlock(bp, b, transB, jc, pc, nc, kc, ldb, scalar);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = min(MC, m - ic);
        const tall = tallRows(mc);
        const ap2 = ap + (<usize>(up(tall, MR) * kc) << 2);
        if (transA) {
          const src = a + ((<usize>pc * <usize>lda + <usize>ic) << 2);
          pack_a_t(ap, src, lda, tall, kc, MR, alpha, scalar);
          pack_a_t(ap2, src + (<usize>tall << 2), lda, mc - tall, kc, MR - 1, alpha, scalar);
        } else {
          const src = a + ((<usize>ic * <usize>lda + <usize>pc) << 2);
          pack_a_n(ap, src, lda, tall, kc, MR, alpha, scalar);
          pack_a_n(ap2, src + ((<usize>tall * <usize>lda) << 2), lda, mc - tall, kc, MR - 1, alpha, scalar);
        }
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = min(NR, nc - jr);
          const bpanel = bblock + (<usize>(jr * kc) << 2);
          let apanel = ap;
          let ctile = c + ((<usize>ic * <usize>ldc + <usize>(jc + jr)) << 2);
          for (let ir = 0; ir < mc; ) {
            const h = ir < tall ? MR : MR - 1;
            const mr = min(h, mc - ir);
            if (mr == h && nr == NR) {
              tile(scalar, h, kc, apanel, bpanel, ctile, ldc, acc);
            } else {
              tile(scalar, h, kc, apanel, bpanel, tbuf, NR, 0);
              for (let r = 0; r < mr; r++) {
                const crow = ctile + ((<usize>r * <usize>ldc) << 2);
                const trow = tbuf + (<usize>(r * NR) << 2);
                for (let j = 0; j < nr; j++) {
                  const cp = crow + (<usize>j << 2);
                  const v = load<f32>(trow + (<usize>j << 2));
                  store<f32>(cp, acc != 0 ? load<f32>(cp) + v : v);
                }
              }
            }
            apanel += <usize>(h * kc) << 2;
            ctile += (<usize>h * <usize>ldc) << 2;
            ir += h;
          }
        }
      }
    }
  }
}

/** Packs the (jc, pc) block of op(B), nc columns by kc k-values, into 8-column panels at dst. */
// @ts-ignore: decorator
@inline function packBBlock(dst: usize, b: usize, transB: bool, jc: i32, pc: i32, nc: i32, kc: i32, ldb: i32, scalar: bool): void {
  if (transB) pack_b_t(dst, b + ((<usize>jc * <usize>ldb + <usize>pc) << 2), ldb, nc, kc, scalar);
  else pack_b_n(dst, b + ((<usize>pc * <usize>ldb + <usize>jc) << 2), ldb, nc, kc, scalar);
}

/**
 * Where gemm_pack_b puts block (jc, pc), in floats: the column blocks one after another, each
 * its k slices in order, a slice up(nc, 8) x kc floats (NC is a multiple of 8, so a full
 * column block takes NC x k).
 */
// @ts-ignore: decorator
@inline function packedBlockAt(jc: i32, pc: i32, nc: i32, k: i32): usize {
  return <usize>jc * <usize>k + <usize>up(nc, GEMM_NR) * <usize>pc;
}

/** Floats gemm_pack_b writes for an op(B) of k x n. */
export function gemm_packed_b_floats(n: i32, k: i32): i32 {
  if (n <= 0 || k <= 0) return 0;
  return (n / NC) * NC * k + up(n % NC, GEMM_NR) * k;
}

// @ts-ignore: decorator
@inline function packB(dst: usize, b: usize, n: i32, k: i32, ldb: i32, transB: bool, scalar: bool): void {
  assert(n > 0 && k > 0);
  assert(transB ? ldb >= k : ldb >= n);
  const kcMax = sliceK(k);
  for (let jc = 0; jc < n; jc += NC) {
    const nc = min(NC, n - jc);
    for (let pc = 0; pc < k; pc += kcMax) {
      packBBlock(dst + (packedBlockAt(jc, pc, nc, k) << 2), b, transB, jc, pc, nc, min(kcMax, k - pc), ldb, scalar);
    }
  }
}

/**
 * Packs all of op(B) (k x n; B stored n x k when trans_b) the way the gemm_* calls pack it block
 * by block, into gemm_packed_b_floats(n, k) floats at dst, for gemm_prepacked: a caller that
 * multiplies by the same B several times (a layer's weight over the chunks of a step) packs once.
 */
export function gemm_pack_b(dst: usize, b: usize, n: i32, k: i32, ldb: i32, trans_b: i32): void {
  packB(dst, b, n, k, ldb, trans_b != 0, false);
}

/** Scalar twin of gemm_pack_b (the same layout). */
export function gemm_pack_b_scalar(dst: usize, b: usize, n: i32, k: i32, ldb: i32, trans_b: i32): void {
  packB(dst, b, n, k, ldb, trans_b != 0, true);
}

/**
 * C = alpha*A*op(B) + beta*C with op(B) packed by gemm_pack_b(bp, ..., n, k, ...): the same
 * blocking, panels and tiles as gemm_nn / gemm_nt, so the same bits, without packing B.
 */
export function gemm_prepacked(c: usize, a: usize, bp: usize, scratch: usize, m: i32, n: i32, k: i32, lda: i32, ldc: i32, alpha: f32, beta: f32): void {
  assert(bp != 0);
  gemm(false, false, false, c, a, 0, scratch, m, n, k, lda, 0, ldc, alpha, beta, bp);
}

/** Scalar twin of gemm_prepacked. */
export function gemm_prepacked_scalar(c: usize, a: usize, bp: usize, scratch: usize, m: i32, n: i32, k: i32, lda: i32, ldc: i32, alpha: f32, beta: f32): void {
  assert(bp != 0);
  gemm(false, false, true, c, a, 0, scratch, m, n, k, lda, 0, ldc, alpha, beta, bp);
}

/**
 * C = alpha*A*B + beta*C; A is m x k (lda), B is k x n (ldb), C is m x n (ldc).
 * Needs gemm_scratch_floats(m, n, k) floats at `scratch`. Called by linear and conv2d kernels.
 */
export function gemm_nn(c: usize, a: usize, b: usize, scratch: usize, m: i32, n: i32, k: i32, lda: i32, ldb: i32, ldc: i32, alpha: f32, beta: f32): void {
  gemm(false, false, false, c, a, b, scratch, m, n, k, lda, ldb, ldc, alpha, beta);
}

/** C = alpha*A*B^T + beta*C; A is m x k (lda), B is stored n x k (ldb >= k). */
export function gemm_nt(c: usize, a: usize, b: usize, scratch: usize, m: i32, n: i32, k: i32, lda: i32, ldb: i32, ldc: i32, alpha: f32, beta: f32): void {
  gemm(false, true, false, c, a, b, scratch, m, n, k, lda, ldb, ldc, alpha, beta);
}

/** C = alpha*A^T*B + beta*C; A is stored k x m (lda >= m), B is k x n (ldb). */
export function gemm_tn(c: usize, a: usize, b: usize, scratch: usize, m: i32, n: i32, k: i32, lda: i32, ldb: i32, ldc: i32, alpha: f32, beta: f32): void {
  gemm(true, false, false, c, a, b, scratch, m, n, k, lda, ldb, ldc, alpha, beta);
}

/** Scalar twin of gemm_nn (same blocking, no SIMD): the oracle the SIMD path is tested against. */
export function gemm_nn_scalar(c: usize, a: usize, b: usize, scratch: usize, m: i32, n: i32, k: i32, lda: i32, ldb: i32, ldc: i32, alpha: f32, beta: f32): void {
  gemm(false, false, true, c, a, b, scratch, m, n, k, lda, ldb, ldc, alpha, beta);
}

/** Scalar twin of gemm_nt. */
export function gemm_nt_scalar(c: usize, a: usize, b: usize, scratch: usize, m: i32, n: i32, k: i32, lda: i32, ldb: i32, ldc: i32, alpha: f32, beta: f32): void {
  gemm(false, true, true, c, a, b, scratch, m, n, k, lda, ldb, ldc, alpha, beta);
}

/** Scalar twin of gemm_tn. */
export function gemm_tn_scalar(c: usize, a: usize, b: usize, scratch: usize, m: i32, n: i32, k: i32, lda: i32, ldb: i32, ldc: i32, alpha: f32, beta: f32): void {
  gemm(true, false, true, c, a, b, scratch, m, n, k, lda, ldb, ldc, alpha, beta);
}
