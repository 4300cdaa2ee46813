// Naive references for the elementwise family (assembly/elementwise.ts): plain loops over
// Float32Arrays in f64, returning new arrays. Shared by the kernel tests and the benchmarks.

/** n copies of value. */
export function fillRef(n: number, value: number): Float32Array {
  return new Float32Array(n).fill(value);
}

/** A copy of x[0..n). */
export function copyRef(x: Float32Array, n = x.length): Float32Array {
  return x.slice(0, n);
}

/** alpha * y. */
export function scaleRef(y: Float32Array, alpha: number): Float32Array {
  const out = new Float32Array(y.length);
  for (let i = 0; i < y.length; i++) out[i] = alpha * y[i];
  return out;
}

/** y + alpha * x. */
export function axpyRef(y: Float32Array, x: Float32Array, alpha: number): Float32Array {
  const out = new Float32Array(y.length);
  for (let i = 0; i < y.length; i++) out[i] = y[i] + alpha * x[i];
  return out;
}

/** a + b. */
export function addRef(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] + b[i];
  return out;
}

/** a * b. */
export function mulRef(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] * b[i];
  return out;
}

/** y[i] = sum over j < k of x[j*n + i], in f64 (x holds k rows of n). */
export function sumKRef(x: Float32Array, k: number, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < k; j++) s += x[j * n + i];
    out[i] = s;
  }
  return out;
}

/**
 * sum_k's exact bits: f32 additions in j order (Math.fround after each add), the order the
 * kernel promises. For bit-for-bit tests of determinism.
 */
export function sumKF32Ref(x: Float32Array, k: number, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = x[i];
    for (let j = 1; j < k; j++) s = Math.fround(s + x[j * n + i]);
    out[i] = s;
  }
  return out;
}

/** Sum of squares of x[0..n) in f64. */
export function sumSqRef(x: Float32Array, n = x.length): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += x[i] * x[i];
  return s;
}
