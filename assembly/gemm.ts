// PLACEHOLDER (naive, correct): the GEMM family's final signatures, so other families can
// call them while the tuned version is written.
// Row-major. C (m x n, row stride ldc) = alpha * op(A) op(B) + beta * C.
// beta == 0 never reads C.
/** C = alpha*A*B + beta*C; A is m x k (lda), B is k x n (ldb). */
export function gemm_nn(c: usize, a: usize, b: usize, scratch: usize, m: i32, n: i32, k: i32, lda: i32, ldb: i32, ldc: i32, alpha: f32, beta: f32): void {
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let s: f32 = 0;
    for (let p = 0; p < k; p++) s += load<f32>(a + ((<usize>(i * lda + p)) << 2)) * load<f32>(b + ((<usize>(p * ldb + j)) << 2));
    const cp = c + ((<usize>(i * ldc + j)) << 2);
    store<f32>(cp, beta == 0 ? alpha * s : alpha * s + beta * load<f32>(cp));
  }
}
/** C = alpha*A*B^T + beta*C; A is m x k (lda), B is stored n x k (ldb). */
export function gemm_nt(c: usize, a: usize, b: usize, scratch: usize, m: i32, n: i32, k: i32, lda: i32, ldb: i32, ldc: i32, alpha: f32, beta: f32): void {
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let s: f32 = 0;
    for (let p = 0; p < k; p++) s += load<f32>(a + ((<usize>(i * lda + p)) << 2)) * load<f32>(b + ((<usize>(j * ldb + p)) << 2));
    const cp = c + ((<usize>(i * ldc + j)) << 2);
    store<f32>(cp, beta == 0 ? alpha * s : alpha * s + beta * load<f32>(cp));
  }
}
/** C = alpha*A^T*B + beta*C; A is stored k x m (lda), B is k x n (ldb). */
export function gemm_tn(c: usize, a: usize, b: usize, scratch: usize, m: i32, n: i32, k: i32, lda: i32, ldb: i32, ldc: i32, alpha: f32, beta: f32): void {
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let s: f32 = 0;
    for (let p = 0; p < k; p++) s += load<f32>(a + ((<usize>(p * lda + i)) << 2)) * load<f32>(b + ((<usize>(p * ldb + j)) << 2));
    const cp = c + ((<usize>(i * ldc + j)) << 2);
    store<f32>(cp, beta == 0 ? alpha * s : alpha * s + beta * load<f32>(cp));
  }
}
/** Floats of scratch the gemm_* calls need for these sizes. */
export function gemm_scratch_floats(m: i32, n: i32, k: i32): i32 {
  return 0;
}
