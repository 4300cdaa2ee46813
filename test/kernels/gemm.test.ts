// The GEMM family (assembly/gemm.ts) against the naive f64 reference (src/ref/gemm.ts), on every
// flavour, through the SIMD microkernels and the `_scalar` twins, for NN, NT and TN.
// The edge sweep surrounds the tiles (MR is 5 in the plain build, 6 in the relaxed one; NR is 8):
// m, n in {1,2,3,4,5,6,7,8,9,17,33}; k below, at and above the k slice (KC = 256) and its
// multiples; strided lda/ldb/ldc; alpha/beta incl. beta = 0 over NaN; one large case.
// Tolerance: relative 1e-5, judged against max(|expected|, scale) where scale is the natural
// size of the f32 error bound: max over C of |alpha| * sum_p |op(A)_ip| |op(B)_pj| + |beta| |C_ij|
// (an indexing or packing mistake is an O(1) error on that scale; rounding is ~1e-7).
import { describe, it, expect } from 'vitest';
import { core, FLAVORS, randn, expectClose } from '../helpers/index.js';
import type { Core } from '../../src/core/load.js';
import { gemm, type GemmDims } from '../../src/core/kernels/gemm.js';
import { gemmRef } from '../../src/ref/gemm.js';

const RTOL = 1e-5;
type Variant = 'nn' | 'nt' | 'tn';
const VARIANTS: Variant[] = ['nn', 'nt', 'tn'];
const EDGE = [1, 2, 3, 4, 5, 6, 7, 8, 9, 17, 33];

interface Case {
  m: number;
  n: number;
  k: number;
  alpha?: number;
  beta?: number;
  /** extra elements of row stride beyond the stored row length */
  padA?: number;
  padB?: number;
  padC?: number;
  /** fill C with NaN before the call (only meaningful with beta = 0) */
  nanC?: boolean;
}

function dimsOf(v: Variant, c: Case): GemmDims & { lda: number; ldb: number; ldc: number } {
  const transA = v === 'tn';
  const transB = v === 'nt';
  return {
    m: c.m, n: c.n, k: c.k, transA, transB, alpha: c.alpha ?? 1, beta: c.beta ?? 0,
    lda: (transA ? c.m : c.k) + (c.padA ?? 0),
    ldb: (transB ? c.k : c.n) + (c.padB ?? 0),
    ldc: c.n + (c.padC ?? 0),
  };
}

function label(v: Variant, c: Case): string {
  const d = dimsOf(v, c);
  return `${v} m=${c.m} n=${c.n} k=${c.k} lda=${d.lda} ldb=${d.ldb} ldc=${d.ldc} alpha=${d.alpha} beta=${d.beta}${c.nanC ? ' C=NaN' : ''}`;
}

const abs = (x: Float32Array): Float32Array => x.map(Math.abs);

function maxAbs(x: Float32Array): number {
  let s = 0;
  for (const v of x) if (Number.isFinite(v)) s = Math.max(s, Math.abs(v));
  return s;
}

/** Runs one case on `cr` and checks all of C's buffer (gaps between rows must be untouched). */
function check(cr: Core, v: Variant, c: Case, scalar: boolean, seed: number): void {
  const d = dimsOf(v, c);
  const [aRows, aCols] = d.transA ? [c.k, c.m] : [c.m, c.k];
  const [bRows, bCols] = d.transB ? [c.n, c.k] : [c.k, c.n];
  const a = randn((aRows - 1) * d.lda + aCols, seed);
  const b = randn((bRows - 1) * d.ldb + bCols, seed + 1);
  const c0 = c.nanC ? new Float32Array((c.m - 1) * d.ldc + c.n).fill(NaN) : randn((c.m - 1) * d.ldc + c.n, seed + 2);
  const expected = gemmRef(a, b, c.nanC ? null : c0, d);
  if (c.nanC) for (let i = 0; i < expected.length; i++) if (i % d.ldc >= c.n) expected[i] = NaN;
  const bound = gemmRef(abs(a), abs(b), null, { ...d, alpha: Math.abs(d.alpha ?? 1), beta: 0 });
  const scale = Math.max(maxAbs(bound) + Math.abs(d.beta ?? 0) * maxAbs(c0), 1e-30);
  const A = cr.heap.from(a);
  const B = cr.heap.from(b);
  const C = cr.heap.from(c0);
  try {
    gemm(cr, C, A, B, d, { scalar });
    const got = C.toArray();
    if (c.nanC) {
      // the gaps keep their NaN; compare the m x n window only
      const win = (x: Float32Array) => Float32Array.from({ length: c.m * c.n }, (_, i) => x[Math.floor(i / c.n) * d.ldc + (i % c.n)]);
      expectClose(win(got), win(expected), RTOL, label(v, c), scale);
    } else {
      expectClose(got, expected, RTOL, label(v, c), scale);
    }
  } finally {
    A.free();
    B.free();
    C.free();
  }
}

/** Runs `body`, then checks the heap is back to where it started (scratch released). */
function clean(cr: Core, body: () => void): void {
  cr.releaseScratch();
  const before = cr.heap.liveBytes;
  body();
  cr.releaseScratch();
  expect(cr.heap.liveBytes).toBe(before);
}

describe.each(FLAVORS)('gemm on %s', (flavor) => {
  for (const scalar of [false, true]) {
    const path = scalar ? 'scalar twin' : 'simd';
    describe(path, () => {
      for (const v of VARIANTS) {
        it(`${v} edge sweep m,n in {${EDGE}} k in {1,4,7}`, () => {
          const cr = core(flavor);
          clean(cr, () => {
            let seed = 1;
            for (const m of EDGE) for (const n of EDGE) for (const k of [1, 4, 7]) check(cr, v, { m, n, k }, scalar, seed++);
          });
        });

        it(`${v} k sweep around KC=256 (m,n) in {(7,9),(12,17)}`, () => {
          const cr = core(flavor);
          clean(cr, () => {
            let seed = 100;
            for (const k of [2, 3, 5, 8, 16, 33, 255, 256, 257, 300, 512, 513, 700]) {
              check(cr, v, { m: 7, n: 9, k }, scalar, seed++);
              check(cr, v, { m: 12, n: 17, k }, scalar, seed++);
            }
          });
        });

        it(`${v} strided lda/ldb/ldc and alpha/beta`, () => {
          const cr = core(flavor);
          clean(cr, () => {
            let seed = 200;
            const ab: Array<[number, number]> = [[1, 0], [2.5, 0], [1, 1], [-0.75, 0.5], [0.5, -1], [0, 0.5], [0, 0]];
            for (const [m, n, k] of [[13, 17, 19], [6, 8, 260], [33, 9, 5], [1, 33, 300]]) {
              for (const [alpha, beta] of ab) {
                check(cr, v, { m, n, k, alpha, beta, padA: 3, padB: 5, padC: 2 }, scalar, seed++);
              }
            }
          });
        });

        it(`${v} beta=0 never reads C (C full of NaN)`, () => {
          const cr = core(flavor);
          clean(cr, () => {
            let seed = 300;
            for (const [m, n, k] of [[1, 1, 1], [5, 8, 3], [6, 8, 257], [7, 9, 300], [17, 33, 4]]) {
              check(cr, v, { m, n, k, alpha: 1, beta: 0, nanC: true }, scalar, seed++);
              check(cr, v, { m, n, k, alpha: -1.5, beta: 0, nanC: true, padC: 3 }, scalar, seed++);
            }
          });
        });

        it(`${v} large m=300 n=257 k=513`, () => {
          const cr = core(flavor);
          clean(cr, () => check(cr, v, { m: 300, n: 257, k: 513, alpha: 1, beta: v === 'tn' ? 1 : 0 }, scalar, 400));
        });
      }
    });
  }
});

describe('gemm bad input', () => {
  const cr = core('simd');
  const d: GemmDims = { m: 4, n: 5, k: 6 };
  it('rejects what it cannot do, with the argument named', () => {
    const A = cr.heap.alloc(24);
    const B = cr.heap.alloc(30);
    const C = cr.heap.alloc(20);
    const small = cr.heap.alloc(10);
    try {
      expect(() => gemm(cr, C, A, B, { ...d, transA: true, transB: true })).toThrow(/gemm: transA and transB together are not supported/);
      expect(() => gemm(cr, C, A, B, { ...d, m: 2.5 })).toThrow(/gemm: m must be an integer >= 1, got 2.5/);
      expect(() => gemm(cr, C, A, B, { ...d, k: 0 })).toThrow(/gemm: k must be an integer >= 1, got 0/);
      expect(() => gemm(cr, C, A, B, { ...d, lda: 5 })).toThrow(/gemm: lda must be an integer >= 6, got 5/);
      expect(() => gemm(cr, C, A, B, { ...d, transB: true, ldb: 5 })).toThrow(/gemm: ldb must be an integer >= 6, got 5/);
      expect(() => gemm(cr, C, A, B, { ...d, ldc: 4 })).toThrow(/gemm: ldc must be an integer >= 5, got 4/);
      expect(() => gemm(cr, C, small, B, d)).toThrow(/gemm: a holds 10 elements, needs 24/);
      expect(() => gemm(cr, C, A, small, d)).toThrow(/gemm: b holds 10 elements, needs 30/);
      expect(() => gemm(cr, small, A, B, d)).toThrow(/gemm: c holds 10 elements, needs 20/);
      expect(() => gemm(cr, C, A, B, { ...d, lda: 7 })).toThrow(/gemm: a holds 24 elements, needs 27/);
      expect(() => gemm(cr, C, A, B, { ...d, alpha: NaN })).toThrow(/gemm: alpha must be a finite number/);
      expect(() => gemm(cr, C, A, B, { ...d, beta: Infinity })).toThrow(/gemm: beta must be a finite number/);
      expect(() => gemm(cr, A, A, B, { m: 2, n: 3, k: 3 })).toThrow(/gemm: c and a overlap/);
      expect(() => gemm(cr, C, null as never, B, d)).toThrow(/gemm: a is null/);
    } finally {
      A.free();
      B.free();
      C.free();
      small.free();
    }
    const A2 = cr.heap.alloc(24);
    const C2 = cr.heap.alloc(20);
    const F = cr.heap.alloc(30);
    F.free();
    try {
      expect(() => gemm(cr, C2, A2, F, d)).toThrow(/gemm: b was freed/);
    } finally {
      A2.free();
      C2.free();
    }
  });
});
