// Packing of GEMM operands into the zero-padded panels the microkernels read (gemm_tiles.ts),
// after XNNPACK's src/reference/packing.cc. Called by gemm.ts once per cache block.
//
// A panels: op(A) block of mc rows x kc, cut into ceil(mc/MR) panels; panel q holds rows
//   q*MR .. q*MR+MR-1 as [kc][MR] (rows past mc are zeros). Panel q starts at q*MR*kc floats.
// B panels: op(B) block of kc x nc, cut into ceil(nc/8) panels; panel q holds columns
//   q*8 .. q*8+7 as [kc][8] (columns past nc are zeros). Panel q starts at q*8*kc floats.
// Source pointers point at the block's first element; strides are in elements. All packers
// overwrite dst. `scalar` selects plain scalar loops (used by the GEMM's scalar twins).
// The A packers scale by alpha on the way (BLIS does the same), which keeps alpha out of the
// microkernels' registers.

// @ts-ignore: decorator
@inline function at(p: usize, i: i32): usize {
  return p + (<usize>i << 2);
}

// @ts-ignore: decorator
@inline function ld(p: usize, va: v128): v128 {
  return f32x4.mul(v128.load(p), va);
}

// @ts-ignore: decorator
@inline function lo(x: v128, y: v128): v128 {
  return f32x4.shuffle(x, y, 0, 4, 1, 5);
}
// @ts-ignore: decorator
@inline function hi(x: v128, y: v128): v128 {
  return f32x4.shuffle(x, y, 2, 6, 3, 7);
}
// @ts-ignore: decorator
@inline function lo64(x: v128, y: v128): v128 {
  return f32x4.shuffle(x, y, 0, 1, 4, 5);
}
// @ts-ignore: decorator
@inline function hi64(x: v128, y: v128): v128 {
  return f32x4.shuffle(x, y, 2, 3, 6, 7);
}

// Stores the transpose of the 4x4 block whose rows are x0..x3 as 4 vectors, `stride` bytes apart.
// @ts-ignore: decorator
@inline function storeT4(d: usize, stride: usize, x0: v128, x1: v128, x2: v128, x3: v128): void {
  const u0 = lo(x0, x1), u1 = hi(x0, x1), u2 = lo(x2, x3), u3 = hi(x2, x3);
  v128.store(d, lo64(u0, u2));
  v128.store(d + stride, hi64(u0, u2));
  v128.store(d + 2 * stride, lo64(u1, u3));
  v128.store(d + 3 * stride, hi64(u1, u3));
}

/**
 * Packs an A block stored row-major (op(A) = A, m x k, row stride lda) into MR-row panels:
 * dst[q][p][r] = alpha * A[q*MR + r, p]. A transposing gather: 4x4 SIMD transposes for rows 0..3 of a
 * full panel, scalar for the rest.
 */
export function pack_a_n(dst: usize, a: usize, lda: i32, mc: i32, kc: i32, mr: i32, alpha: f32, scalar: bool): void {
  const rowBytes = <usize>lda << 2;
  const va = f32x4.splat(alpha);
  for (let i = 0; i < mc; i += mr) {
    const rows = min(mr, mc - i);
    const src = a + <usize>i * rowBytes;
    let p = 0;
    if (!scalar && rows == mr) {
      const stride = <usize>mr << 2;
      for (; p + 4 <= kc; p += 4) {
        const s = at(src, p);
        const d = at(dst, p * mr);
        storeT4(d, stride, ld(s, va), ld(s + rowBytes, va), ld(s + 2 * rowBytes, va), ld(s + 3 * rowBytes, va));
        for (let r = 4; r < mr; r++) {
          const x = ld(s + <usize>r * rowBytes, va);
          const dr = d + (<usize>r << 2);
          v128.store32_lane(dr, x, 0);
          v128.store32_lane(dr + stride, x, 1);
          v128.store32_lane(dr + 2 * stride, x, 2);
          v128.store32_lane(dr + 3 * stride, x, 3);
        }
      }
    }
    for (; p < kc; p++) {
      const d = at(dst, p * mr);
      for (let r = 0; r < rows; r++) store<f32>(at(d, r), alpha * load<f32>(at(src + <usize>r * rowBytes, p)));
      for (let r = rows; r < mr; r++) store<f32>(at(d, r), 0);
    }
    dst += <usize>(mr * kc) << 2;
  }
}

/**
 * Packs an A block stored transposed (A is k x m, row stride lda; op(A) = A^T) into MR-row
 * panels: dst[q][p][r] = alpha * A[p, q*MR + r]. Each k gives MR contiguous floats: a copy.
 */
export function pack_a_t(dst: usize, a: usize, lda: i32, mc: i32, kc: i32, mr: i32, alpha: f32, scalar: bool): void {
  const rowBytes = <usize>lda << 2;
  const va = f32x4.splat(alpha);
  for (let i = 0; i < mc; i += mr) {
    const rows = min(mr, mc - i);
    let src = at(a, i);
    let d = dst;
    if (!scalar && rows == mr) {
      // mr is 5 or 6: one vector plus the rest; the vector store is overwritten in order
      for (let p = 0; p < kc; p++) {
        v128.store(d, ld(src, va));
        for (let r = 4; r < mr; r++) store<f32>(at(d, r), alpha * load<f32>(at(src, r)));
        src += rowBytes;
        d += <usize>mr << 2;
      }
    } else {
      for (let p = 0; p < kc; p++) {
        for (let r = 0; r < rows; r++) store<f32>(at(d, r), alpha * load<f32>(at(src, r)));
        for (let r = rows; r < mr; r++) store<f32>(at(d, r), 0);
        src += rowBytes;
        d += <usize>mr << 2;
      }
    }
    dst += <usize>(mr * kc) << 2;
  }
}

/**
 * Packs a B block stored row-major (op(B) = B, k x n, row stride ldb) into 8-column panels:
 * dst[q][p][j] = B[p, q*8 + j]. Full panels copy two vectors per k.
 */
export function pack_b_n(dst: usize, b: usize, ldb: i32, nc: i32, kc: i32, scalar: bool): void {
  const rowBytes = <usize>ldb << 2;
  const panelBytes = <usize>(8 * kc) << 2;
  let j = 0;
  if (!scalar) {
    // two panels per pass: each row gives a whole 64-byte line instead of half of one twice
    for (; j + 16 <= nc; j += 16) {
      let src = at(b, j);
      let d = dst;
      for (let p = 0; p < kc; p++) {
        v128.store(d, v128.load(src));
        v128.store(d, v128.load(src, 16), 16);
        v128.store(d + panelBytes, v128.load(src, 32));
        v128.store(d + panelBytes, v128.load(src, 48), 16);
        src += rowBytes;
        d += 32;
      }
      dst += 2 * panelBytes;
    }
  }
  for (; j < nc; j += 8) {
    const cols = min(8, nc - j);
    let src = at(b, j);
    let d = dst;
    if (!scalar && cols == 8) {
      for (let p = 0; p < kc; p++) {
        v128.store(d, v128.load(src));
        v128.store(d, v128.load(src, 16), 16);
        src += rowBytes;
        d += 32;
      }
    } else {
      for (let p = 0; p < kc; p++) {
        for (let c = 0; c < cols; c++) store<f32>(at(d, c), load<f32>(at(src, c)));
        for (let c = cols; c < 8; c++) store<f32>(at(d, c), 0);
        src += rowBytes;
        d += 32;
      }
    }
    dst += <usize>(8 * kc) << 2;
  }
}

/**
 * Packs a B block stored transposed (B is n x k, row stride ldb; op(B) = B^T) into 8-column
 * panels: dst[q][p][j] = B[q*8 + j, p]. A transposing gather: two 4x4 SIMD transposes per
 * 4 values of k in a full panel, scalar otherwise.
 */
export function pack_b_t(dst: usize, b: usize, ldb: i32, nc: i32, kc: i32, scalar: bool): void {
  const rowBytes = <usize>ldb << 2;
  for (let j = 0; j < nc; j += 8) {
    const cols = min(8, nc - j);
    const src = b + <usize>j * rowBytes;
    let p = 0;
    if (!scalar && cols == 8) {
      const r4 = src + 4 * rowBytes;
      for (; p + 4 <= kc; p += 4) {
        const s = at(src, p), t = at(r4, p);
        const d = at(dst, p * 8);
        storeT4(d, 32, v128.load(s), v128.load(s + rowBytes), v128.load(s + 2 * rowBytes), v128.load(s + 3 * rowBytes));
        storeT4(d + 16, 32, v128.load(t), v128.load(t + rowBytes), v128.load(t + 2 * rowBytes), v128.load(t + 3 * rowBytes));
      }
    }
    for (; p < kc; p++) {
      const d = at(dst, p * 8);
      for (let c = 0; c < cols; c++) store<f32>(at(d, c), load<f32>(at(src + <usize>c * rowBytes, p)));
      for (let c = cols; c < 8; c++) store<f32>(at(d, c), 0);
    }
    dst += <usize>(8 * kc) << 2;
  }
}
