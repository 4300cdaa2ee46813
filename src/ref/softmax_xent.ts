// Naive f64 references for assembly/softmax_xent.ts, shared by tests and benchmarks.
// logits, probs, dlogits are (N,C) row-major; labels is (N,) integer class indices.

export interface SoftmaxDims {
  n: number;
  c: number;
}

/** Row softmax, max-subtracted, in f64. */
export function softmaxRef(x: ArrayLike<number>, d: SoftmaxDims): Float32Array {
  const { n, c } = d;
  const y = new Float32Array(n * c);
  const e = new Float64Array(c);
  for (let i = 0; i < n; i++) {
    let m = -Infinity;
    for (let j = 0; j < c; j++) m = Math.max(m, x[i * c + j]);
    let s = 0;
    for (let j = 0; j < c; j++) s += e[j] = Math.exp(x[i * c + j] - m);
    for (let j = 0; j < c; j++) y[i * c + j] = e[j] / s;
  }
  return y;
}

/** Softmax probabilities and the mean over rows of logsumexp(row) - row[label]. */
export function softmaxXentForwardRef(logits: ArrayLike<number>, labels: ArrayLike<number>, d: SoftmaxDims): { probs: Float32Array; loss: number } {
  const { n, c } = d;
  let loss = 0;
  for (let i = 0; i < n; i++) {
    let m = -Infinity;
    for (let j = 0; j < c; j++) m = Math.max(m, logits[i * c + j]);
    let s = 0;
    for (let j = 0; j < c; j++) s += Math.exp(logits[i * c + j] - m);
    loss += m + Math.log(s) - logits[i * c + labels[i]];
  }
  return { probs: softmaxRef(logits, d), loss: loss / n };
}

/** dlogits += scale * (probs - onehot(labels)) / n, each element computed in f64. */
export function softmaxXentBackwardRef(
  dlogits: Float32Array | Float64Array,
  probs: ArrayLike<number>,
  labels: ArrayLike<number>,
  d: SoftmaxDims,
  scale = 1,
): void {
  const { n, c } = d;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < c; j++) {
      dlogits[i * c + j] += (scale * (probs[i * c + j] - (j === labels[i] ? 1 : 0))) / n;
    }
  }
}
