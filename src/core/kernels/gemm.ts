// Typed, validating wrapper over the GEMM family (assembly/gemm.ts): row-major
// C (m x n, row stride ldc) = alpha * op(A) op(B) + beta * C, op(X) = X or X^T.
// A is stored m x k (lda >= k), or k x m with transA (lda >= m); B is stored k x n (ldb >= n),
// or n x k with transB (ldb >= k). beta = 0 (the default) overwrites C without reading it.
import type { Core } from '../load.js';
import type { Buf } from '../heap.js';
import * as check from '../check.js';
import type { KernelOpts } from './elementwise.js';


/** (c, a, b, scratch, m, n, k, lda, ldb, ldc, alpha, beta) */
type GemmFn = (
  c: number, a: number, b: number, scratch: number,
  m: number, n: number, k: number, lda: number, ldb: number, ldc: number, alpha: number, beta: number,
) => void;

/** The GEMM family's WASM exports. */
export interface GemmExports {
  gemm_nn: GemmFn;
  gemm_nn_scalar: GemmFn;
  gemm_nt: GemmFn;
  gemm_nt_scalar: GemmFn;
  gemm_tn: GemmFn;
  gemm_tn_scalar: GemmFn;
  gemm_scratch_floats(m: number, n: number, k: number): number;
}

/** Sizes, layouts and scalars of one GEMM call. */
export interface GemmDims {
  m: number;
  n: number;
  k: number;
  /** A is stored k x m (op(A) = A^T) */
  transA?: boolean;
  /** B is stored n x k (op(B) = B^T) */
  transB?: boolean;
  /** default 1 */
  alpha?: number;
  /** default 0: C is overwritten and never read */
  beta?: number;
  /** row strides in elements; default: the stored row length */
  lda?: number;
  ldb?: number;
  ldc?: number;
}

/** Elements a row-major rows x cols matrix with row stride ld spans. */
function span(rows: number, cols: number, ld: number): number {
  return (rows - 1) * ld + cols;
}

/**
 * C = alpha * op(A) op(B) + beta * C. transA and transB together are not supported (no caller
 * needs A^T B^T). C must not overlap A or B; A and B may be the same buffer.
 */
export function gemm(core: Core, c: Buf, a: Buf, b: Buf, dims: GemmDims, opts: KernelOpts = {}): void {
  const op = 'gemm';
  const { m, n, k } = dims;
  const transA = dims.transA ?? false;
  const transB = dims.transB ?? false;
  const alpha = dims.alpha ?? 1;
  const beta = dims.beta ?? 0;
  if (transA && transB) throw new Error(`${op}: transA and transB together are not supported`);
  check.int(op, 'm', m);
  check.int(op, 'n', n);
  check.int(op, 'k', k);
  check.finite(op, 'alpha', alpha);
  check.finite(op, 'beta', beta);
  const [aRows, aCols] = transA ? [k, m] : [m, k];
  const [bRows, bCols] = transB ? [n, k] : [k, n];
  const lda = dims.lda ?? aCols;
  const ldb = dims.ldb ?? bCols;
  const ldc = dims.ldc ?? n;
  check.int(op, 'lda', lda, aCols);
  check.int(op, 'ldb', ldb, bCols);
  check.int(op, 'ldc', ldc, n);
  check.buf(op, 'a', a, span(aRows, aCols, lda));
  check.buf(op, 'b', b, span(bRows, bCols, ldb));
  check.buf(op, 'c', c, span(m, n, ldc));
  check.disjoint(op, ['c', c], ['a', a]);
  check.disjoint(op, ['c', c], ['b', b]);
  const f = core.fns<GemmExports>();
  const scratch = core.scratch(f.gemm_scratch_floats(m, n, k));
  const fn = transA
    ? opts.scalar ? f.gemm_tn_scalar : f.gemm_tn
    : transB
      ? opts.scalar ? f.gemm_nt_scalar : f.gemm_nt
      : opts.scalar ? f.gemm_nn_scalar : f.gemm_nn;
  fn(c.ptr, a.ptr, b.ptr, scratch.ptr, m, n, k, lda, ldb, ldc, alpha, beta);
}
