// Naive linear-layer references (f64 accumulation) for tests and benchmarks, PyTorch layout:
// x [m, inF], w [outF, inF], b [outF], y [m, outF]. The forward returns a new array; the
// backward references accumulate into the given gradient (or a fresh zero one) and return it.
import type { LinearDims } from '../core/kernels/linear.js';

/** y = x w^T + b. */
export function linearForwardRef(x: Float32Array, w: Float32Array, b: Float32Array | null, d: LinearDims): Float32Array {
  const { m, inF, outF } = d;
  const y = new Float32Array(m * outF);
  for (let i = 0; i < m; i++) {
    for (let o = 0; o < outF; o++) {
      let s = b ? b[o] : 0;
      for (let p = 0; p < inF; p++) s += x[i * inF + p] * w[o * inF + p];
      y[i * outF + o] = s;
    }
  }
  return y;
}

/** dx += dy w. */
export function linearBackwardDataRef(dy: Float32Array, w: Float32Array, d: LinearDims, dx?: Float32Array): Float32Array {
  const { m, inF, outF } = d;
  const out = dx ?? new Float32Array(m * inF);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < inF; p++) {
      let s = 0;
      for (let o = 0; o < outF; o++) s += dy[i * outF + o] * w[o * inF + p];
      out[i * inF + p] += s;
    }
  }
  return out;
}

/** dw += dy^T x. */
export function linearBackwardWeightRef(dy: Float32Array, x: Float32Array, d: LinearDims, dw?: Float32Array): Float32Array {
  const { m, inF, outF } = d;
  const out = dw ?? new Float32Array(outF * inF);
  for (let o = 0; o < outF; o++) {
    for (let p = 0; p < inF; p++) {
      let s = 0;
      for (let i = 0; i < m; i++) s += dy[i * outF + o] * x[i * inF + p];
      out[o * inF + p] += s;
    }
  }
  return out;
}

/** Rows [r0, r1) of dy^T x (a fresh (r1 - r0) x inF array): what linearBackwardWeightRows writes. */
export function linearBackwardWeightRowsRef(dy: Float32Array, x: Float32Array, d: LinearDims, r0: number, r1: number): Float32Array {
  return linearBackwardWeightRef(dy, x, d).slice(r0 * d.inF, r1 * d.inF);
}

/** db += column sums of dy. */
export function linearBackwardBiasRef(dy: Float32Array, d: LinearDims, db?: Float32Array): Float32Array {
  const { m, outF } = d;
  const out = db ?? new Float32Array(outF);
  for (let o = 0; o < outF; o++) {
    let s = 0;
    for (let i = 0; i < m; i++) s += dy[i * outF + o];
    out[o] += s;
  }
  return out;
}
