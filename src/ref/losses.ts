// Naive f64 references for assembly/losses.ts, shared by tests and benchmarks. Inputs are flat
// vectors of n elements; losses are means over all of them. Backward references accumulate
// (+=) into the given gradient, as the kernels do.

/** Mean of (pred - target)^2. */
export function mseForwardRef(pred: ArrayLike<number>, target: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < pred.length; i++) s += (pred[i] - target[i]) ** 2;
  return s / pred.length;
}

/** dpred += scale * 2 * (pred - target) / n. */
export function mseBackwardRef(dpred: Float32Array | Float64Array, pred: ArrayLike<number>, target: ArrayLike<number>, scale = 1): void {
  const n = pred.length;
  for (let i = 0; i < n; i++) dpred[i] += (scale * 2 * (pred[i] - target[i])) / n;
}

/**
 * Mean of max(x,0) - x*t + log1p(exp(-|x|)), and resid = sigmoid(x) - t per element, written as
 * t subtracted from 1 - sigmoid(-x) or sigmoid(x) directly so it keeps its size where sigmoid(x)
 * is within an f64 ulp of 1.
 */
export function bceLogitsForwardRef(logits: ArrayLike<number>, target: ArrayLike<number>): { loss: number; resid: Float64Array } {
  const n = logits.length;
  const resid = new Float64Array(n);
  let s = 0;
  for (let i = 0; i < n; i++) {
    const x = logits[i];
    const t = target[i];
    s += Math.max(x, 0) - x * t + Math.log1p(Math.exp(-Math.abs(x)));
    resid[i] = x >= 0 ? 1 - t - 1 / (1 + Math.exp(x)) : 1 / (1 + Math.exp(-x)) - t;
  }
  return { loss: s / n, resid };
}

/** dlogits += scale * resid / n. */
export function bceLogitsBackwardRef(dlogits: Float32Array | Float64Array, resid: ArrayLike<number>, scale = 1): void {
  const n = resid.length;
  for (let i = 0; i < n; i++) dlogits[i] += (scale * resid[i]) / n;
}
