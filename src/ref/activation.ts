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

/** log(1 + exp(x)), in the form that cannot overflow. */
export function softplusForwardRef(x: Float32Array): Float32Array {
  return map(x, (v) => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v))));
}

/** dx += dy * sigmoid(x), with sigmoid(x) = 1 - exp(-y) = -expm1(-y) from the output y. */
export function softplusBackwardRef(dx: Float32Array, dy: Float32Array, y: Float32Array): Float32Array {
  for (let i = 0; i < dx.length; i++) dx[i] += dy[i] * -Math.expm1(-y[i]);
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
 * An inverted-dropout mask: 0 with probability p, else 1/(1-p), from uniform draws in [0, 1),
 * for dropout_forward's given-mask tests (the dropout op draws its own: dropoutSeededMaskRef).
 */
export function dropoutMaskRef(n: number, p: number, uniform: () => number): Float32Array {
  const keep = 1 / (1 - p);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = uniform() < p ? 0 : keep;
  return out;
}

/** x > 0 ? x : slope*x, slope rounded to f32 as the kernel and PyTorch do. */
export function leakyReluForwardRef(x: Float32Array, slope: number): Float32Array {
  const a = Math.fround(slope);
  return map(x, (v) => (v > 0 ? v : v * a));
}

/** dx += y > 0 ? dy : slope*dy, the product rounded to f32 as the kernel's (so the two agree bit for bit). */
export function leakyReluBackwardRef(dx: Float32Array, dy: Float32Array, y: Float32Array, slope: number): Float32Array {
  const a = Math.fround(slope);
  for (let i = 0; i < dx.length; i++) dx[i] += y[i] > 0 ? dy[i] : Math.fround(dy[i] * a);
  return dx;
}

/** The 32-bit integer mixer of the seeded dropout kernel (two xor-shift-multiply rounds). */
function mix32(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

/**
 * The mask dropout_seeded_forward draws: element i is 0 when hash(seed, i) >>> 8 is below
 * floor(p * 2^24), else 1/(1-p) in f32; hash(seed, i) = mix(mix(i ^ mix(seed)) + seed).
 */
export function dropoutSeededMaskRef(n: number, p: number, seed: number): Float32Array {
  const thr = Math.floor(p * 16777216);
  const keep = Math.fround(1 / (1 - p));
  const key = mix32(seed >>> 0);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const h = mix32(((mix32((i ^ key) >>> 0) + seed) >>> 0));
    out[i] = h >>> 8 < thr ? 0 : keep;
  }
  return out;
}
