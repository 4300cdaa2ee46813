// Naive reference for the concat family (assembly/concat.ts): concatenation along dim 1 of
// a (n, ca, s) and b (n, cb, s) into (n, ca+cb, s), element by element.
import type { ConcatDims } from '../core/kernels/concat.js';

/** [a, b] along dim 1. */
export function concatForwardRef(a: Float32Array, b: Float32Array, d: ConcatDims): Float32Array {
  const ct = d.ca + d.cb;
  const y = new Float32Array(d.n * ct * d.s);
  for (let j = 0; j < d.n; j++) {
    for (let k = 0; k < ct; k++) {
      for (let i = 0; i < d.s; i++) {
        y[(j * ct + k) * d.s + i] = k < d.ca ? a[(j * d.ca + k) * d.s + i] : b[(j * d.cb + k - d.ca) * d.s + i];
      }
    }
  }
  return y;
}

/** grad += input `which`'s slice of dy; returns grad. */
export function concatBackwardRef(grad: Float32Array, dy: Float32Array, which: 'a' | 'b', d: ConcatDims): Float32Array {
  const ct = d.ca + d.cb;
  const cp = which === 'a' ? d.ca : d.cb;
  const off = which === 'a' ? 0 : d.ca;
  for (let j = 0; j < d.n; j++) {
    for (let k = 0; k < cp; k++) {
      for (let i = 0; i < d.s; i++) grad[(j * cp + k) * d.s + i] += dy[(j * ct + k + off) * d.s + i];
    }
  }
  return grad;
}
