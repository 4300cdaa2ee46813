// Naive GEMM reference (f64 accumulation) for tests and benchmarks: the c_ref of
// assembly/gemm.ts. Same layouts and defaults as src/core/kernels/gemm.ts.
import type { GemmDims } from '../core/kernels/gemm.js';

/**
 * Returns alpha * op(A) op(B) + beta * C as a new array laid out like C (m rows, stride ldc;
 * elements outside the m x n window are copied from `c`). With `c` null (or beta 0) C's old
 * values are not used, so NaN there does not leak; a null `c` gives a dense m x ldc result.
 */
export function gemmRef(a: Float32Array, b: Float32Array, c: Float32Array | null, dims: GemmDims): Float32Array {
  const { m, n, k } = dims;
  const transA = dims.transA ?? false;
  const transB = dims.transB ?? false;
  if (transA && transB) throw new Error('gemmRef: transA and transB together are not supported');
  const alpha = dims.alpha ?? 1;
  const beta = dims.beta ?? 0;
  const lda = dims.lda ?? (transA ? m : k);
  const ldb = dims.ldb ?? (transB ? k : n);
  const ldc = dims.ldc ?? n;
  const out = c ? Float32Array.from(c) : new Float32Array((m - 1) * ldc + n);
  const row = new Float64Array(n);
  for (let i = 0; i < m; i++) {
    row.fill(0);
    for (let p = 0; p < k; p++) {
      const av = transA ? a[p * lda + i] : a[i * lda + p];
      if (transB) for (let j = 0; j < n; j++) row[j] += av * b[j * ldb + p];
      else for (let j = 0, o = p * ldb; j < n; j++) row[j] += av * b[o + j];
    }
    for (let j = 0; j < n; j++) {
      const o = i * ldc + j;
      out[o] = alpha * row[j] + (c && beta !== 0 ? beta * c[o] : 0);
    }
  }
  return out;
}
