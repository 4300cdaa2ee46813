// Elementwise kernels over flat f32 vectors: fill, copy, scale, axpy, add, mul, the K-way
// gradient reduction sum_k, and sum_sq for gradient norms.
//
// Shapes (llm.c notation): every vector is (N,); sum_k reads x as (K,N), row j being the
// j-th chunk's gradient. All kernels here overwrite their output (y) except scale and axpy,
// which update y in place (y *= alpha, y += alpha*x); sum_sq writes nothing.
// Aliasing: an output may be the very same buffer as an input (y == a), never a shifted
// window of it: the SIMD bodies read four lanes before writing four.
import { madd, ldf, stf, ldv, stv } from './common';

/** y[i] = value. Used to zero gradients and to set constants. */
export function fill(y: usize, n: i32, value: f32): void {
  assert(n >= 0);
  const v = f32x4.splat(value);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    stv(y, i, v); stv(y, i + 4, v); stv(y, i + 8, v); stv(y, i + 12, v);
  }
  for (; i + 4 <= n; i += 4) stv(y, i, v);
  for (; i < n; i++) stf(y, i, value);
}

/** Scalar twin of fill (test oracle). */
export function fill_scalar(y: usize, n: i32, value: f32): void {
  assert(n >= 0);
  for (let i = 0; i < n; i++) stf(y, i, value);
}

/** y[i] = x[i]. Buffers are identical or disjoint. Used to snapshot parameters and outputs. */
export function copy(y: usize, x: usize, n: i32): void {
  assert(n >= 0);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const a = ldv(x, i), b = ldv(x, i + 4), c = ldv(x, i + 8), d = ldv(x, i + 12);
    stv(y, i, a); stv(y, i + 4, b); stv(y, i + 8, c); stv(y, i + 12, d);
  }
  for (; i + 4 <= n; i += 4) stv(y, i, ldv(x, i));
  for (; i < n; i++) stf(y, i, ldf(x, i));
}

/** Scalar twin of copy. */
export function copy_scalar(y: usize, x: usize, n: i32): void {
  assert(n >= 0);
  for (let i = 0; i < n; i++) stf(y, i, ldf(x, i));
}

/** y[i] *= alpha. Used to average a summed gradient and to clip it by norm. */
export function scale(y: usize, n: i32, alpha: f32): void {
  assert(n >= 0);
  const a = f32x4.splat(alpha);
  let i = 0;
  for (; i + 4 <= n; i += 4) stv(y, i, f32x4.mul(ldv(y, i), a));
  for (; i < n; i++) stf(y, i, ldf(y, i) * alpha);
}

/** Scalar twin of scale. */
export function scale_scalar(y: usize, n: i32, alpha: f32): void {
  assert(n >= 0);
  for (let i = 0; i < n; i++) stf(y, i, ldf(y, i) * alpha);
}

/**
 * y[i] += alpha * x[i]. Used for plain gradient accumulation and SGD-style updates. The SIMD
 * body uses madd, so the relaxed build rounds once where the scalar twin rounds twice.
 */
export function axpy(y: usize, x: usize, n: i32, alpha: f32): void {
  assert(n >= 0);
  const a = f32x4.splat(alpha);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    stv(y, i, madd(a, ldv(x, i), ldv(y, i)));
    stv(y, i + 4, madd(a, ldv(x, i + 4), ldv(y, i + 4)));
  }
  for (; i + 4 <= n; i += 4) stv(y, i, madd(a, ldv(x, i), ldv(y, i)));
  for (; i < n; i++) stf(y, i, alpha * ldf(x, i) + ldf(y, i));
}

/** Scalar twin of axpy. */
export function axpy_scalar(y: usize, x: usize, n: i32, alpha: f32): void {
  assert(n >= 0);
  for (let i = 0; i < n; i++) stf(y, i, alpha * ldf(x, i) + ldf(y, i));
}

/** y[i] = a[i] + b[i]. Used by residual sums and the op table's add. */
export function add(y: usize, a: usize, b: usize, n: i32): void {
  assert(n >= 0);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const s0 = f32x4.add(ldv(a, i), ldv(b, i));
    const s1 = f32x4.add(ldv(a, i + 4), ldv(b, i + 4));
    stv(y, i, s0); stv(y, i + 4, s1);
  }
  for (; i + 4 <= n; i += 4) stv(y, i, f32x4.add(ldv(a, i), ldv(b, i)));
  for (; i < n; i++) stf(y, i, ldf(a, i) + ldf(b, i));
}

/** Scalar twin of add. */
export function add_scalar(y: usize, a: usize, b: usize, n: i32): void {
  assert(n >= 0);
  for (let i = 0; i < n; i++) stf(y, i, ldf(a, i) + ldf(b, i));
}

/** y[i] = a[i] * b[i]. Used by the op table's mul (and its backward, with dy as one input). */
export function mul(y: usize, a: usize, b: usize, n: i32): void {
  assert(n >= 0);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const p0 = f32x4.mul(ldv(a, i), ldv(b, i));
    const p1 = f32x4.mul(ldv(a, i + 4), ldv(b, i + 4));
    stv(y, i, p0); stv(y, i + 4, p1);
  }
  for (; i + 4 <= n; i += 4) stv(y, i, f32x4.mul(ldv(a, i), ldv(b, i)));
  for (; i < n; i++) stf(y, i, ldf(a, i) * ldf(b, i));
}

/** Scalar twin of mul. */
export function mul_scalar(y: usize, a: usize, b: usize, n: i32): void {
  assert(n >= 0);
  for (let i = 0; i < n; i++) stf(y, i, ldf(a, i) * ldf(b, i));
}

/**
 * y[i] = x[0*n+i] + x[1*n+i] + ... + x[(k-1)*n+i], added left to right in j order, so the result
 * has the same bits as the scalar twin and as any machine that adds the chunks in that order:
 * the data-parallel trainer relies on this to give the same bits for any worker count
 * (STYLE 19). Overwrites y; y may be the first row of x (y == x).
 * Loop order: a block of 16 outputs stays in four registers while j walks the K rows, so y is
 * written once instead of K times.
 */
export function sum_k(y: usize, x: usize, k: i32, n: i32): void {
  assert(k >= 1 && n >= 0);
  const rowBytes = <usize>n << 2;
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    let p = x + (<usize>i << 2);
    let s0 = v128.load(p), s1 = v128.load(p, 16), s2 = v128.load(p, 32), s3 = v128.load(p, 48);
    for (let j = 1; j < k; j++) {
      p += rowBytes;
      s0 = f32x4.add(s0, v128.load(p));
      s1 = f32x4.add(s1, v128.load(p, 16));
      s2 = f32x4.add(s2, v128.load(p, 32));
      s3 = f32x4.add(s3, v128.load(p, 48));
    }
    stv(y, i, s0); stv(y, i + 4, s1); stv(y, i + 8, s2); stv(y, i + 12, s3);
  }
  for (; i + 4 <= n; i += 4) {
    let p = x + (<usize>i << 2);
    let s = v128.load(p);
    for (let j = 1; j < k; j++) {
      p += rowBytes;
      s = f32x4.add(s, v128.load(p));
    }
    stv(y, i, s);
  }
  for (; i < n; i++) {
    let p = x + (<usize>i << 2);
    let s = load<f32>(p);
    for (let j = 1; j < k; j++) {
      p += rowBytes;
      s += load<f32>(p);
    }
    stf(y, i, s);
  }
}

/** Scalar twin of sum_k: same order of additions, hence the same bits. */
export function sum_k_scalar(y: usize, x: usize, k: i32, n: i32): void {
  assert(k >= 1 && n >= 0);
  for (let i = 0; i < n; i++) {
    let s = ldf(x, i);
    for (let j = 1; j < k; j++) s += ldf(x, j * n + i);
    stf(y, i, s);
  }
}

/**
 * Sum of x[i]^2 in f64, for gradient norms (clipping, logging). Each f32 square is exact in
 * f64 (24+24 bits < 53), so only the additions round; four f64 partial sums keep the adds
 * independent. The scalar twin adds in index order, so the two differ in the last f64 bits.
 */
export function sum_sq(x: usize, n: i32): f64 {
  assert(n >= 0);
  let a0 = f64x2.splat(0), a1 = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = ldv(x, i);
    const lo = f64x2.promote_low_f32x4(v);
    const hi = f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 2, 3));
    a0 = f64x2.add(a0, f64x2.mul(lo, lo));
    a1 = f64x2.add(a1, f64x2.mul(hi, hi));
  }
  const a = f64x2.add(a0, a1);
  let s = f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1);
  for (; i < n; i++) {
    const v = <f64>ldf(x, i);
    s += v * v;
  }
  return s;
}

/** Scalar twin of sum_sq. */
export function sum_sq_scalar(x: usize, n: i32): f64 {
  assert(n >= 0);
  let s: f64 = 0;
  for (let i = 0; i < n; i++) {
    const v = <f64>ldf(x, i);
    s += v * v;
  }
  return s;
}
