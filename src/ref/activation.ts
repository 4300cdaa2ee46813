// Naive references for the activation family (assembly/activation.ts) in f64 (Math.exp,
// Math.tanh). Forward references return new arrays; backward references accumulate (+=) into
// the given dx and return it, as the kernels do.

function map(x: Float32Array, f: (v: number) => number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = f(x[i]);
  return out;
}

/** max(x, 0). */
export function reluForwardRef(x: Float32Array): Float32Array {
  return map(x, (v) => (v > 0 ? v : 0));
}

/** dx += dy where y > 0. */
export function reluBackwardRef(dx: Float32Array, dy: Float32Array, y: Float32Array): Float32Array {
  for (let i = 0; i < dx.length; i++) if (y[i] > 0) dx[i] += dy[i];
  return dx;
}

/** 1 / (1 + exp(-x)), in the form that cannot overflow. */
export function sigmoidForwardRef(x: Float32Array): Float32Array {
  return map(x, (v) => {
    const z = Math.exp(-Math.abs(v));
    return v >= 0 ? 1 / (1 + z) : z / (1 + z);
  });
}

/** dx += dy * y * (1 - y). */
export function sigmoidBackwardRef(dx: Float32Array, dy: Float32Array, y: Float32Array): Float32Array {
  for (let i = 0; i < dx.length; i++) dx[i] += dy[i] * y[i] * (1 - y[i]);
  return dx;
}

/** tanh(x). */
export function tanhForwardRef(x: Float32Array): Float32Array {
  return map(x, Math.tanh);
}

/** dx += dy * (1 - y^2). */
export function tanhBackwardRef(dx: Float32Array, dy: Float32Array, y: Float32Array): Float32Array {
  for (let i = 0; i < dx.length; i++) dx[i] += dy[i] * (1 - y[i] * y[i]);
  return dx;
}

/** x * mask. */
export function dropoutForwardRef(x: Float32Array, mask: Float32Array): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i] * mask[i];
  return out;
}

/** dx += dy * mask. */
export function dropoutBackwardRef(dx: Float32Array, dy: Float32Array, mask: Float32Array): Float32Array {
  for (let i = 0; i < dx.length; i++) dx[i] += dy[i] * mask[i];
  return dx;
}

/**
 * An inverted-dropout mask: 0 with probability p, else 1/(1-p), from uniform draws in [0, 1).
 * (The Dropout layer makes its own; this one is for tests and benchmarks.)
 */
export function dropoutMaskRef(n: number, p: number, uniform: () => number): Float32Array {
  const keep = 1 / (1 - p);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = uniform() < p ? 0 : keep;
  return out;
}
