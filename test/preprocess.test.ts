// Preprocessing: the eigen solver against matrices whose decomposition is known, and the fitted
// transforms' defining property on the data they were fitted on (standardize: unit variance,
// PCA: diagonal covariance, ZCA: identity covariance), and their round trip through tensors.
import { describe, it, expect } from 'vitest';
import {
  symmetricEigen, fitPreprocess, applyPreprocess, covariance, meanOf, preprocessTensors, preprocessFromTensors,
  describePreprocess, checkPreprocessFits,
} from '../src/data/preprocess.js';
import { gaussian } from '../src/nn/params.js';
import { loadCoreSync } from '../src/core/load.js';

/** n samples of correlated data in `dims` dimensions: x = A z + b with a fixed random A. */
function correlated(n: number, dims: number, seed: number): Float32Array {
  const r = gaussian(seed);
  const a = Array.from({ length: dims * dims }, () => r.normal());
  const x = new Float32Array(n * dims);
  const z = new Float64Array(dims);
  for (let s = 0; s < n; s++) {
    for (let k = 0; k < dims; k++) z[k] = r.normal() * (k + 1);
    for (let i = 0; i < dims; i++) {
      let v = 3 * i;
      for (let k = 0; k < dims; k++) v += a[i * dims + k] * z[k];
      x[s * dims + i] = v;
    }
  }
  return x;
}

function maxOffIdentity(c: Float64Array, d: number, diagOnly = false): { off: number; diag: number } {
  let off = 0, diag = 0;
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      const v = c[i * d + j];
      if (i === j) diag = Math.max(diag, Math.abs(v - 1));
      else off = Math.max(off, Math.abs(v));
    }
  }
  return diagOnly ? { off, diag: 0 } : { off, diag };
}

describe('symmetricEigen', () => {
  it('a 3x3 matrix with a known decomposition: eigenvalues 4, 2, 1 (A = [[2,1,0],[1,2,0],[0,0,4]] has 3, 1, 4)', () => {
    const { values, vectors } = symmetricEigen([2, 1, 0, 1, 2, 0, 0, 0, 4], 3);
    expect([...values].map((v) => +v.toFixed(12))).toEqual([4, 3, 1]);
    const h = Math.SQRT1_2;
    const expected = [[0, 0, 1], [h, h, 0], [h, -h, 0]]; // the sign rule: largest component positive (ties: the first)
    for (let i = 0; i < 3; i++) for (let k = 0; k < 3; k++) expect(vectors[i * 3 + k]).toBeCloseTo(expected[i][k], 12);
  });

  it('the tridiagonal [-1, 2, -1] matrix of size 37: eigenvalues 2 - 2cos(kπ/38), A u = λ u and UᵀU = I', () => {
    const n = 37;
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      a[i * n + i] = 2;
      if (i > 0) a[i * n + i - 1] = a[(i - 1) * n + i] = -1;
    }
    const { values, vectors } = symmetricEigen(a, n);
    const want = Array.from({ length: n }, (_, k) => 2 - 2 * Math.cos(((k + 1) * Math.PI) / (n + 1))).sort((x, y) => y - x);
    for (let k = 0; k < n; k++) expect(Math.abs(values[k] - want[k])).toBeLessThan(1e-12);
    for (let k = 0; k < n; k++) {
      for (let i = 0; i < n; i++) {
        let av = 0;
        for (let j = 0; j < n; j++) av += a[i * n + j] * vectors[k * n + j];
        expect(Math.abs(av - values[k] * vectors[k * n + i])).toBeLessThan(1e-12);
      }
      for (let l = 0; l < n; l++) {
        let dot = 0;
        for (let j = 0; j < n; j++) dot += vectors[k * n + j] * vectors[l * n + j];
        expect(Math.abs(dot - (k === l ? 1 : 0))).toBeLessThan(1e-12);
      }
    }
  });

  it('a dense random symmetric 50x50 matrix: U Λ Uᵀ reconstructs it to 1e-10', () => {
    const n = 50;
    const r = gaussian(7);
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = r.normal();
    const { values, vectors } = symmetricEigen(a, n);
    for (let k = 1; k < n; k++) expect(values[k]).toBeLessThanOrEqual(values[k - 1]);
    let worst = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += vectors[k * n + i] * values[k] * vectors[k * n + j];
        worst = Math.max(worst, Math.abs(s - a[i * n + j]));
      }
    }
    expect(worst).toBeLessThan(1e-10);
  });

  it('a repeated eigenvalue and a diagonal matrix work; a non-symmetric one is refused', () => {
    const { values } = symmetricEigen([5, 0, 0, 0, 5, 0, 0, 0, -1], 3);
    expect([...values]).toEqual([5, 5, -1]);
    expect(() => symmetricEigen([1, 2, 3, 4], 2)).toThrow(/not symmetric/);
  });
});

describe('fitPreprocess on correlated data (n = 3000, 12 dimensions)', () => {
  const n = 3000, d = 12;
  const x = correlated(n, d, 3);
  const outCov = (p: ReturnType<typeof fitPreprocess>) => {
    const y = applyPreprocess(p, x, n);
    return { y, c: covariance(y, n, d, meanOf(y, n, d)), m: meanOf(y, n, d) };
  };

  it('the input really is correlated (else the checks below would be empty)', () => {
    const c = covariance(x, n, d, meanOf(x, n, d));
    let off = 0;
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) if (i !== j) off = Math.max(off, Math.abs(c[i * d + j]) / Math.sqrt(c[i * d + i] * c[j * d + j]));
    expect(off).toBeGreaterThan(0.5);
  });

  it('ZCA (ε = 1e-9): covariance of the output is the identity within 1e-4, mean 0 within 1e-4', () => {
    const { c, m } = outCov(fitPreprocess('zca', x, n, d, 1e-9));
    const e = maxOffIdentity(c, d);
    expect(e.off).toBeLessThan(1e-4);
    expect(e.diag).toBeLessThan(1e-4);
    for (const v of m) expect(Math.abs(v)).toBeLessThan(1e-4);
  });

  it('ZCA is symmetric (the rotation is undone) and PCA is not; PCA: diagonal covariance within 1e-4, unit variances', () => {
    const z = fitPreprocess('zca', x, n, d, 1e-9).matrix!;
    const p = fitPreprocess('pca', x, n, d, 1e-9);
    let zAsym = 0, pAsym = 0;
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) {
      zAsym = Math.max(zAsym, Math.abs(z[i * d + j] - z[j * d + i]));
      pAsym = Math.max(pAsym, Math.abs(p.matrix![i * d + j] - p.matrix![j * d + i]));
    }
    expect(zAsym).toBeLessThan(1e-5);
    expect(pAsym).toBeGreaterThan(1e-2);
    const { c } = outCov(p);
    expect(maxOffIdentity(c, d).off).toBeLessThan(1e-4);
  });

  it('PCA with a large ε: still diagonal, variances λ/(λ+ε) in decreasing order (the principal axes first)', () => {
    const eps = 50;
    const { c } = outCov(fitPreprocess('pca', x, n, d, eps));
    const { values } = symmetricEigen(covariance(x, n, d, meanOf(x, n, d)), d);
    expect(maxOffIdentity(c, d, true).off).toBeLessThan(1e-4);
    for (let i = 0; i < d; i++) expect(c[i * d + i]).toBeCloseTo(values[i] / (values[i] + eps), 4);
  });

  it('standardize: each dimension has mean 0 and variance var/(var+ε)', () => {
    const eps = 1e-6;
    const { c, m } = outCov(fitPreprocess('standardize', x, n, d, eps));
    for (let i = 0; i < d; i++) {
      expect(Math.abs(m[i])).toBeLessThan(1e-4);
      expect(c[i * d + i]).toBeCloseTo(1, 4);
    }
  });

  it('round trip through tensors gives the same transform, bytes and all; a size mismatch is named', () => {
    const p = fitPreprocess('zca', x, n, d, 0.1);
    const tensors = new Map(Object.entries(preprocessTensors(p)));
    const q = preprocessFromTensors(describePreprocess(p), tensors, 'ck.safetensors');
    expect(Buffer.from(applyPreprocess(q, x, n).buffer)).toEqual(Buffer.from(applyPreprocess(p, x, n).buffer));
    expect(() => preprocessFromTensors({ kind: 'zca', dims: 13, eps: 0.1 }, tensors, 'ck.safetensors')).toThrow(/ck.safetensors: its preprocessing tensor preprocess.mean is \[12\], expected \[13\]/);
    expect(() => checkPreprocessFits(p, [1, 28, 28], '--resume')).toThrow(/fitted on samples of 12 values, the data's samples are \[1, 28, 28\] \(784 values\)/);
  });

  it("with a core, pca and zca multiply with the core's GEMM: equal to the f64 reference within f32 rounding, and repeatable", () => {
    const core = loadCoreSync();
    for (const kind of ['pca', 'zca'] as const) {
      const p = fitPreprocess(kind, x, n, d, 0.01);
      const ref = applyPreprocess(p, x, n);
      const fast = applyPreprocess(p, x, n, { core });
      let worst = 0;
      for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(ref[i] - fast[i]));
      expect(worst).toBeLessThan(1e-4);
      expect(Buffer.from(applyPreprocess(p, x, n, { core }).buffer)).toEqual(Buffer.from(fast.buffer));
    }
  });

  it('ε <= 0 and unknown kinds are refused', () => {
    expect(() => fitPreprocess('zca', x, n, d, 0)).toThrow(/eps must be a finite number > 0/);
    expect(() => fitPreprocess('zca', x, n, d, -1)).toThrow(/eps/);
    expect(() => fitPreprocess('whiten' as never, x, n, d)).toThrow(/kind must be/);
  });
});
