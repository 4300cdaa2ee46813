// Naive reference for the batchnorm family (assembly/batchnorm.ts) in f64, straight from the
// definitions: x, dy (n, c, s) with channel k of sample j at (j*c + k)*s; per-channel values
// [c]. Forward references return new arrays; backward references accumulate (+=) into the
// given gradients and return them.
import type { BatchnormDims } from '../core/kernels/batchnorm.js';

function at(d: BatchnormDims, j: number, k: number, i: number): number {
  return (j * d.c + k) * d.s + i;
}

/** Per channel: mean and biased variance over the n*s values (two passes, f64). */
export function batchnormStatsRef(x: Float32Array, d: BatchnormDims): { mean: Float64Array; variance: Float64Array } {
  const m = d.n * d.s;
  const mean = new Float64Array(d.c);
  const variance = new Float64Array(d.c);
  for (let k = 0; k < d.c; k++) {
    let s = 0;
    for (let j = 0; j < d.n; j++) for (let i = 0; i < d.s; i++) s += x[at(d, j, k, i)];
    mean[k] = s / m;
    let q = 0;
    for (let j = 0; j < d.n; j++) for (let i = 0; i < d.s; i++) q += (x[at(d, j, k, i)] - mean[k]) ** 2;
    variance[k] = q / m;
  }
  return { mean, variance };
}

/** y = (x - mean)/sqrt(var + eps)*weight + bias with the given per-channel mean and var. */
export function batchnormNormalizeRef(
  x: Float32Array, weight: ArrayLike<number>, bias: ArrayLike<number>, mean: ArrayLike<number>, variance: ArrayLike<number>,
  d: BatchnormDims, eps: number,
): Float32Array {
  const y = new Float32Array(x.length);
  for (let k = 0; k < d.c; k++) {
    const invstd = 1 / Math.sqrt(variance[k] + eps);
    for (let j = 0; j < d.n; j++) {
      for (let i = 0; i < d.s; i++) {
        const o = at(d, j, k, i);
        y[o] = (x[o] - mean[k]) * invstd * weight[k] + bias[k];
      }
    }
  }
  return y;
}

/** Training forward: y, the batch mean, the biased and the unbiased variance (divisor n*s - 1; the biased one when n*s = 1). */
export function batchnormForwardTrainRef(
  x: Float32Array, weight: ArrayLike<number>, bias: ArrayLike<number>, d: BatchnormDims, eps: number,
): { y: Float32Array; mean: Float64Array; variance: Float64Array; unbiased: Float64Array } {
  const { mean, variance } = batchnormStatsRef(x, d);
  const m = d.n * d.s;
  const unbiased = variance.map((v) => (m > 1 ? (v * m) / (m - 1) : v));
  return { y: batchnormNormalizeRef(x, weight, bias, mean, variance, d, eps), mean, variance, unbiased };
}

/**
 * Training backward under batch statistics: dx += w*invstd*(dy - mean(dy) - xhat*mean(dy*xhat)),
 * dweight += sum(dy*xhat), dbias += sum(dy); pass null for a gradient not wanted.
 */
export function batchnormBackwardTrainRef(
  dx: Float32Array | null, dweight: Float32Array | null, dbias: Float32Array | null,
  dy: Float32Array, x: Float32Array, weight: ArrayLike<number>, d: BatchnormDims, eps: number,
): void {
  const { mean, variance } = batchnormStatsRef(x, d);
  const m = d.n * d.s;
  for (let k = 0; k < d.c; k++) {
    const invstd = 1 / Math.sqrt(variance[k] + eps);
    let g = 0;
    let gx = 0;
    for (let j = 0; j < d.n; j++) {
      for (let i = 0; i < d.s; i++) {
        const o = at(d, j, k, i);
        g += dy[o];
        gx += dy[o] * (x[o] - mean[k]) * invstd;
      }
    }
    if (dweight) dweight[k] += gx;
    if (dbias) dbias[k] += g;
    if (!dx) continue;
    for (let j = 0; j < d.n; j++) {
      for (let i = 0; i < d.s; i++) {
        const o = at(d, j, k, i);
        const xhat = (x[o] - mean[k]) * invstd;
        dx[o] += weight[k] * invstd * (dy[o] - g / m - (xhat * gx) / m);
      }
    }
  }
}

/** Eval backward under fixed statistics: dx += dy*w*invstd, dweight += sum(dy*xhat), dbias += sum(dy). */
export function batchnormBackwardEvalRef(
  dx: Float32Array | null, dweight: Float32Array | null, dbias: Float32Array | null,
  dy: Float32Array, x: Float32Array, weight: ArrayLike<number>, runningMean: ArrayLike<number>, runningVar: ArrayLike<number>,
  d: BatchnormDims, eps: number,
): void {
  for (let k = 0; k < d.c; k++) {
    const invstd = 1 / Math.sqrt(runningVar[k] + eps);
    let g = 0;
    let gx = 0;
    for (let j = 0; j < d.n; j++) {
      for (let i = 0; i < d.s; i++) {
        const o = at(d, j, k, i);
        g += dy[o];
        gx += dy[o] * (x[o] - runningMean[k]) * invstd;
        if (dx) dx[o] += dy[o] * weight[k] * invstd;
      }
    }
    if (dweight) dweight[k] += gx;
    if (dbias) dbias[k] += g;
  }
}
