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

/**
 * Label smoothing eps (PyTorch `F.cross_entropy(..., label_smoothing=eps)`): the mean over rows
 * of (1 - eps) * (lse - x[label]) + eps * mean_j (lse - x[j]), with the softmax probabilities.
 */
export function softmaxXentSmoothForwardRef(
  logits: ArrayLike<number>,
  labels: ArrayLike<number>,
  d: SoftmaxDims,
  eps: number,
): { probs: Float32Array; loss: number } {
  const { n, c } = d;
  let loss = 0;
  for (let i = 0; i < n; i++) {
    let m = -Infinity;
    for (let j = 0; j < c; j++) m = Math.max(m, logits[i * c + j]);
    let s = 0;
    for (let j = 0; j < c; j++) s += Math.exp(logits[i * c + j] - m);
    const lse = m + Math.log(s);
    let smooth = 0;
    for (let j = 0; j < c; j++) smooth += lse - logits[i * c + j];
    loss += (1 - eps) * (lse - logits[i * c + labels[i]]) + (eps * smooth) / c;
  }
  return { probs: softmaxRef(logits, d), loss: loss / n };
}

/** dlogits += scale * (probs - (1 - eps) * onehot(labels) - eps / c) / n. */
export function softmaxXentSmoothBackwardRef(
  dlogits: Float32Array | Float64Array,
  probs: ArrayLike<number>,
  labels: ArrayLike<number>,
  d: SoftmaxDims,
  eps: number,
  scale = 1,
): void {
  const { n, c } = d;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < c; j++) {
      const target = (j === labels[i] ? 1 - eps : 0) + eps / c;
      dlogits[i * c + j] += (scale * (probs[i * c + j] - target)) / n;
    }
  }
}
