// Input preprocessing fitted on the training set and applied to every split alike: per-dimension
// standardisation, and PCA or ZCA whitening (decorrelating the input components, the study
// note's 白色化). The covariance and its symmetric eigen-decomposition are computed here in f64
// (Householder tridiagonalisation, then implicit QL with Wilkinson-style shifts); no library.
// The fitted transform is rounded to f32 once, right after fitting, and applied from those f32
// values, so a transform reloaded from a checkpoint gives the same bytes as the one just fitted.
// Free of Node built-ins: browsers apply a checkpoint's transform with the same code.
import { InputError } from '../errors.js';
import type { Core } from '../core/load.js';
import { gemm } from '../core/kernels/gemm.js';

export type PreprocessKind = 'none' | 'standardize' | 'pca' | 'zca';
export const PREPROCESS_KINDS: readonly PreprocessKind[] = ['none', 'standardize', 'pca', 'zca'];

/** ε added to every variance (eigenvalue) before the square root: keeps near-constant directions from blowing up. */
export const DEFAULT_WHITEN_EPS = 0.1;

/** A fitted transform y = M (x - mean); M is diagonal (`scale`) for standardize, full (`matrix`) for pca and zca. */
export interface Preprocessor {
  kind: Exclude<PreprocessKind, 'none'>;
  /** values per sample */
  dims: number;
  eps: number;
  mean: Float32Array;
  /** standardize: 1/√(var_i + ε) per dimension */
  scale?: Float32Array;
  /** pca/zca: dims x dims, row-major */
  matrix?: Float32Array;
}

/** What a checkpoint's metadata says of the transform (its arrays are tensors beside the weights). */
export interface PreprocessInfo {
  kind: Preprocessor['kind'];
  dims: number;
  eps: number;
}

export interface SymmetricEigen {
  /** eigenvalues, largest first */
  values: Float64Array;
  /** row i is the unit eigenvector of values[i]; its largest-magnitude component is positive */
  vectors: Float64Array;
}

function fail(msg: string): never {
  throw new InputError(`preprocess: ${msg}`);
}

function checkEps(eps: number): void {
  if (typeof eps !== 'number' || !Number.isFinite(eps) || !(eps > 0)) fail(`eps must be a finite number > 0, got ${eps}`);
}

/** Per-dimension mean of n samples of `dims` values, in f64. */
export function meanOf(x: ArrayLike<number>, n: number, dims: number): Float64Array {
  const m = new Float64Array(dims);
  for (let s = 0; s < n; s++) {
    const o = s * dims;
    for (let j = 0; j < dims; j++) m[j] += x[o + j];
  }
  for (let j = 0; j < dims; j++) m[j] /= n;
  return m;
}

/**
 * The population covariance (1/n) Σ (x - mean)(x - mean)ᵀ, dims x dims, f64. Samples are taken
 * four at a time so that each pass over the upper triangle does four rank-1 updates.
 */
export function covariance(x: ArrayLike<number>, n: number, dims: number, mean: Float64Array): Float64Array {
  const c = new Float64Array(dims * dims);
  const block = 4;
  const xc = new Float64Array(block * dims);
  for (let s0 = 0; s0 < n; s0 += block) {
    const b = Math.min(block, n - s0);
    xc.fill(0);
    for (let k = 0; k < b; k++) {
      const o = (s0 + k) * dims;
      for (let j = 0; j < dims; j++) xc[k * dims + j] = x[o + j] - mean[j];
    }
    const d2 = 2 * dims, d3 = 3 * dims;
    for (let i = 0; i < dims; i++) {
      const a0 = xc[i], a1 = xc[dims + i], a2 = xc[d2 + i], a3 = xc[d3 + i];
      if (a0 === 0 && a1 === 0 && a2 === 0 && a3 === 0) continue; // MNIST's blank border
      const row = i * dims;
      for (let j = i; j < dims; j++) c[row + j] += a0 * xc[j] + a1 * xc[dims + j] + a2 * xc[d2 + j] + a3 * xc[d3 + j];
    }
  }
  for (let i = 0; i < dims; i++) {
    for (let j = i; j < dims; j++) {
      const v = c[i * dims + j] / n;
      c[i * dims + j] = v;
      c[j * dims + i] = v;
    }
  }
  return c;
}

/**
 * Reduces symmetric `a` (n x n, row-major, overwritten) to tridiagonal form T = Qᵀ A Q by n-2
 * Householder reflections; returns T's diagonal, its sub-diagonal (e[i] couples i and i+1) and
 * Qᵀ (row-major), whose rows the QL step rotates into eigenvectors.
 */
function tridiagonalize(a: Float64Array, n: number): { d: Float64Array; e: Float64Array; qt: Float64Array } {
  const qt = new Float64Array(n * n);
  for (let i = 0; i < n; i++) qt[i * n + i] = 1;
  const v = new Float64Array(n);
  const w = new Float64Array(n);
  const t = new Float64Array(n);
  for (let k = 0; k < n - 2; k++) {
    // the reflection maps column k below the diagonal, x = a[k+1.., k], onto alpha e1
    let norm2 = 0;
    for (let i = k + 1; i < n; i++) norm2 += a[i * n + k] * a[i * n + k];
    const x0 = a[(k + 1) * n + k];
    const norm = Math.sqrt(norm2);
    if (norm === 0 || norm2 === x0 * x0) continue; // already tridiagonal in this column
    const alpha = x0 > 0 ? -norm : norm;
    v.fill(0);
    let vn2 = 0;
    for (let i = k + 1; i < n; i++) {
      v[i] = a[i * n + k] - (i === k + 1 ? alpha : 0);
      vn2 += v[i] * v[i];
    }
    const vn = Math.sqrt(vn2);
    for (let i = k + 1; i < n; i++) v[i] /= vn;
    // H A H on the trailing block = A - 2 (v zᵀ + z vᵀ), with w = A v, z = w - (vᵀw) v
    let c = 0;
    for (let i = k + 1; i < n; i++) {
      let s = 0;
      const row = i * n;
      for (let j = k + 1; j < n; j++) s += a[row + j] * v[j];
      w[i] = s;
      c += v[i] * s;
    }
    for (let i = k + 1; i < n; i++) w[i] -= c * v[i];
    for (let i = k + 1; i < n; i++) {
      const row = i * n;
      const vi = 2 * v[i], wi = 2 * w[i];
      for (let j = k + 1; j < n; j++) a[row + j] -= vi * w[j] + wi * v[j];
    }
    a[(k + 1) * n + k] = alpha;
    a[k * n + k + 1] = alpha;
    for (let i = k + 2; i < n; i++) {
      a[i * n + k] = 0;
      a[k * n + i] = 0;
    }
    // Qᵀ ← H Qᵀ: rows k+1.. of Qᵀ lose 2 v (vᵀ Qᵀ)
    t.fill(0);
    for (let i = k + 1; i < n; i++) {
      const vi = v[i];
      const row = i * n;
      for (let j = 0; j < n; j++) t[j] += vi * qt[row + j];
    }
    for (let i = k + 1; i < n; i++) {
      const vi = 2 * v[i];
      const row = i * n;
      for (let j = 0; j < n; j++) qt[row + j] -= vi * t[j];
    }
  }
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = a[i * n + i];
  for (let i = 0; i < n - 1; i++) e[i] = a[(i + 1) * n + i];
  return { d, e, qt };
}

/** Diagonalises the tridiagonal (d, e) by implicit QL sweeps, rotating the rows of zt alongside. */
function tridiagonalQL(d: Float64Array, e: Float64Array, zt: Float64Array, n: number): void {
  const EPS = Number.EPSILON;
  // a coupling below ε‖T‖ is negligible too: a covariance of rank < n (MNIST's blank border) has
  // zero eigenvalues whose neighbours' relative test would never pass
  let norm = 0;
  for (let i = 0; i < n; i++) norm = Math.max(norm, Math.abs(d[i]) + Math.abs(e[i]) + (i > 0 ? Math.abs(e[i - 1]) : 0));
  const floor = EPS * norm;
  for (let l = 0; l < n; l++) {
    for (let iter = 0; ; iter++) {
      let m = l;
      for (; m < n - 1; m++) {
        const em = Math.abs(e[m]);
        if (em <= floor || em <= EPS * (Math.abs(d[m]) + Math.abs(d[m + 1]))) break;
      }
      if (m === l) break;
      if (iter === 60) throw new Error(`symmetricEigen: no convergence at eigenvalue ${l} after 60 QL sweeps`);
      // shift from the trailing 2x2 of the unreduced block
      let g = (d[l + 1] - d[l]) / (2 * e[l]);
      let r = Math.hypot(g, 1);
      g = d[m] - d[l] + e[l] / (g + (g >= 0 ? r : -r));
      let s = 1, c = 1, p = 0;
      let i = m - 1;
      let deflated = false;
      for (; i >= l; i--) {
        const f = s * e[i];
        const b = c * e[i];
        r = Math.hypot(f, g);
        e[i + 1] = r;
        if (r === 0) {
          // an underflowed rotation: the block split; restart on the smaller one
          d[i + 1] -= p;
          e[m] = 0;
          deflated = true;
          break;
        }
        s = f / r;
        c = g / r;
        g = d[i + 1] - p;
        r = (d[i] - g) * s + 2 * c * b;
        p = s * r;
        d[i + 1] = g + p;
        g = c * r - b;
        const ri = i * n, rj = (i + 1) * n;
        for (let k = 0; k < n; k++) {
          const zi = zt[ri + k], zj = zt[rj + k];
          zt[rj + k] = s * zi + c * zj;
          zt[ri + k] = c * zi - s * zj;
        }
      }
      if (deflated) continue;
      d[l] -= p;
      e[l] = g;
      e[m] = 0;
    }
  }
}

/**
 * Eigenvalues and unit eigenvectors of a symmetric n x n matrix (row-major; only read), in f64,
 * sorted largest first, each vector's largest-magnitude component made positive (a fixed sign,
 * so a fitted transform does not depend on rounding noise in the sign).
 */
export function symmetricEigen(matrix: ArrayLike<number>, n: number): SymmetricEigen {
  if (!Number.isInteger(n) || n < 1 || matrix.length !== n * n) fail(`symmetricEigen needs an n x n matrix, got ${matrix.length} values for n = ${n}`);
  const a = Float64Array.from(matrix);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      const x = a[i * n + j], y = a[j * n + i];
      if (!Number.isFinite(x) || Math.abs(x - y) > 1e-9 * Math.max(1, Math.abs(x), Math.abs(y))) fail(`symmetricEigen: the matrix is not symmetric (or not finite) at (${i}, ${j})`);
    }
  }
  const { d, e, qt } = tridiagonalize(a, n);
  tridiagonalQL(d, e, qt, n);
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => d[j] - d[i] || i - j);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((src, dst) => {
    values[dst] = d[src];
    let big = 0;
    for (let k = 0; k < n; k++) if (Math.abs(qt[src * n + k]) > Math.abs(qt[src * n + big])) big = k;
    const sign = qt[src * n + big] < 0 ? -1 : 1;
    for (let k = 0; k < n; k++) vectors[dst * n + k] = sign * qt[src * n + k];
  });
  return { values, vectors };
}

/**
 * Fits `kind` on n samples of `dims` values (the training set only): the mean, and
 *   standardize: scale_i = 1/√(var_i + ε)
 *   pca:  M = Λ_ε^{-1/2} Uᵀ      (rotate onto the principal axes, then scale: diagonal covariance)
 *   zca:  M = U Λ_ε^{-1/2} Uᵀ    (rotate back: identity covariance, closest to the input)
 * with C = U Λ Uᵀ the covariance and Λ_ε = Λ + ε (negative rounding noise in Λ clamped to 0).
 */
export function fitPreprocess(kind: Preprocessor['kind'], x: ArrayLike<number>, n: number, dims: number, eps = DEFAULT_WHITEN_EPS): Preprocessor {
  if (!['standardize', 'pca', 'zca'].includes(kind)) fail(`kind must be standardize, pca or zca, got ${JSON.stringify(kind)}`);
  checkEps(eps);
  if (!Number.isInteger(dims) || dims < 1) fail(`dims must be an integer >= 1, got ${dims}`);
  if (!Number.isInteger(n) || n < 1 || x.length < n * dims) fail(`${n} samples of ${dims} values need ${n * dims} floats, got ${x.length}`);
  const mean = meanOf(x, n, dims);
  if (kind === 'standardize') {
    const v = new Float64Array(dims);
    for (let s = 0; s < n; s++) {
      for (let j = 0; j < dims; j++) {
        const c = x[s * dims + j] - mean[j];
        v[j] += c * c;
      }
    }
    const scale = new Float32Array(dims);
    for (let j = 0; j < dims; j++) scale[j] = 1 / Math.sqrt(v[j] / n + eps);
    return { kind, dims, eps, mean: Float32Array.from(mean), scale };
  }
  const { values, vectors } = symmetricEigen(covariance(x, n, dims, mean), dims);
  const inv = values.map((l) => 1 / Math.sqrt(Math.max(0, l) + eps));
  const matrix = new Float32Array(dims * dims);
  if (kind === 'pca') {
    for (let i = 0; i < dims; i++) for (let j = 0; j < dims; j++) matrix[i * dims + j] = inv[i] * vectors[i * dims + j];
  } else {
    const m = new Float64Array(dims * dims);
    for (let k = 0; k < dims; k++) {
      const s = inv[k];
      const uk = k * dims;
      for (let i = 0; i < dims; i++) {
        const f = s * vectors[uk + i];
        if (f === 0) continue;
        const row = i * dims;
        for (let j = 0; j < dims; j++) m[row + j] += f * vectors[uk + j];
      }
    }
    matrix.set(m);
  }
  return { kind, dims, eps, mean: Float32Array.from(mean), matrix };
}

export interface ApplyOptions {
  /** written with the result (allocated when omitted; may be a view of shared memory) */
  out?: Float32Array;
  /**
   * pca/zca multiply by M with this core's f32 GEMM (what the trainer does, and what an app must
   * do to feed a model exactly the inputs it was trained on); without a core, an f64 reference
   * in plain JavaScript (slower; equal to it within f32 rounding)
   */
  core?: Core;
}

/** Samples per GEMM call: 1024 x 784 floats in and out, a few MiB of WASM memory. */
const GEMM_BLOCK = 1024;

/**
 * y = M (x - mean) for each of n samples. Throws an InputError when x holds fewer than n samples
 * of the transform's size.
 */
export function applyPreprocess(p: Preprocessor, x: ArrayLike<number>, n: number, opts: ApplyOptions = {}): Float32Array {
  const d = p.dims;
  if (x.length < n * d) fail(`${n} samples of ${d} values need ${n * d} floats, got ${x.length}`);
  const y = opts.out ?? new Float32Array(n * d);
  if (y.length < n * d) fail(`out holds ${y.length} floats, needs ${n * d}`);
  if (p.matrix && opts.core) return applyGemm(opts.core, p, x, n, y);
  if (p.scale) {
    for (let s = 0; s < n; s++) for (let j = 0; j < d; j++) y[s * d + j] = (x[s * d + j] - p.mean[j]) * p.scale[j];
    return y;
  }
  const m = Float64Array.from(p.matrix!);
  // four samples per pass over M: each matrix value loaded once feeds four sums (each sum's
  // order is the same as one sample at a time, so the result does not depend on the blocking)
  const xb = new Float64Array(4 * d);
  for (let s0 = 0; s0 < n; s0 += 4) {
    const b = Math.min(4, n - s0);
    xb.fill(0);
    for (let k = 0; k < b; k++) for (let j = 0; j < d; j++) xb[k * d + j] = x[(s0 + k) * d + j] - p.mean[j];
    for (let i = 0; i < d; i++) {
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
      const row = i * d;
      for (let j = 0; j < d; j++) {
        const w = m[row + j];
        a0 += w * xb[j];
        a1 += w * xb[d + j];
        a2 += w * xb[2 * d + j];
        a3 += w * xb[3 * d + j];
      }
      const o = s0 * d + i;
      y[o] = a0;
      if (b > 1) y[o + d] = a1;
      if (b > 2) y[o + 2 * d] = a2;
      if (b > 3) y[o + 3 * d] = a3;
    }
  }
  return y;
}

/** Y (b x d) = Xc (b x d) Mᵀ, block by block: Xc = f32(x - mean). */
function applyGemm(core: Core, p: Preprocessor, x: ArrayLike<number>, n: number, y: Float32Array): Float32Array {
  const d = p.dims;
  const rows = Math.min(GEMM_BLOCK, n);
  const m = core.heap.from(p.matrix!);
  const xb = core.heap.alloc(rows * d);
  const yb = core.heap.alloc(rows * d);
  try {
    for (let s0 = 0; s0 < n; s0 += rows) {
      const b = Math.min(rows, n - s0);
      const xv = xb.view();
      for (let k = 0; k < b; k++) for (let j = 0; j < d; j++) xv[k * d + j] = x[(s0 + k) * d + j] - p.mean[j];
      gemm(core, yb, xb, m, { m: b, n: d, k: d, transB: true });
      y.set(yb.view().subarray(0, b * d), s0 * d);
    }
  } finally {
    m.free();
    xb.free();
    yb.free();
  }
  return y;
}

/** The metadata half of a transform: kind, dims, ε. */
export function describePreprocess(p: Preprocessor): PreprocessInfo {
  return { kind: p.kind, dims: p.dims, eps: p.eps };
}

/** The tensor half: preprocess.mean, and preprocess.scale or preprocess.matrix. */
export function preprocessTensors(p: Preprocessor): Record<string, { shape: number[]; data: Float32Array }> {
  const t: Record<string, { shape: number[]; data: Float32Array }> = { 'preprocess.mean': { shape: [p.dims], data: p.mean } };
  if (p.scale) t['preprocess.scale'] = { shape: [p.dims], data: p.scale };
  if (p.matrix) t['preprocess.matrix'] = { shape: [p.dims, p.dims], data: p.matrix };
  return t;
}

/** Rebuilds a transform from a checkpoint's metadata (`info`) and tensors; every mismatch is an InputError naming `source`. */
export function preprocessFromTensors(info: PreprocessInfo, tensors: Map<string, { shape: number[]; data: ArrayLike<number | bigint> }>, source: string): Preprocessor {
  const bad = (why: string): never => {
    throw new InputError(`${source}: its preprocessing ${why}`);
  };
  if (typeof info !== 'object' || info === null || !['standardize', 'pca', 'zca'].includes(info.kind)) bad(`has an unknown kind ${JSON.stringify(info?.kind)}`);
  if (!Number.isInteger(info.dims) || info.dims < 1) bad(`has dims ${JSON.stringify(info.dims)}`);
  if (!(typeof info.eps === 'number' && info.eps > 0)) bad(`has eps ${JSON.stringify(info.eps)}`);
  const d = info.dims;
  const get = (name: string, shape: number[]): Float32Array => {
    const t = tensors.get(name);
    if (!t) return bad(`(${info.kind}) needs tensor ${name}, which the file lacks`);
    if (t.shape.length !== shape.length || t.shape.some((v, i) => v !== shape[i])) bad(`tensor ${name} is [${t.shape.join(', ')}], expected [${shape.join(', ')}] for ${d} values per sample`);
    return Float32Array.from(t.data as ArrayLike<number>);
  };
  const p: Preprocessor = { kind: info.kind, dims: d, eps: info.eps, mean: get('preprocess.mean', [d]) };
  if (info.kind === 'standardize') p.scale = get('preprocess.scale', [d]);
  else p.matrix = get('preprocess.matrix', [d, d]);
  return p;
}

/** Throws an InputError unless the transform takes samples of this shape. */
export function checkPreprocessFits(p: Pick<Preprocessor, 'kind' | 'dims'>, sampleShape: readonly number[], where: string): void {
  const size = sampleShape.reduce((a, b) => a * b, 1);
  if (size !== p.dims) {
    throw new InputError(`${where}: the preprocessing (${p.kind}) was fitted on samples of ${p.dims} values, the data's samples are [${sampleShape.join(', ')}] (${size} values)`);
  }
}
