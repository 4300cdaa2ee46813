// Naive f64 references for assembly/optim.ts, shared by tests and benchmarks: one step of each
// optimizer, written from torch.optim 1.13's formulas, updating w and the state in place. Keep
// w and the state in Float64Arrays to follow a run in f64; g may be any array. Hyper-parameters
// are used as given, as the kernels now take them (f64, with 1 - beta, the bias corrections and
// the step size formed in f64), so tests pass both the same numbers.
import type { SgdHyper, AdagradHyper, RmspropHyper, AdamHyper } from '../core/kernels/optim.js';

type Vec = Float64Array | Float32Array;

export function sgdStepRef(w: Vec, g: ArrayLike<number>, v: Vec | null, h: SgdHyper): void {
  const { lr, momentum = 0, weightDecay: wd = 0, nesterov = false } = h;
  for (let i = 0; i < w.length; i++) {
    let d = g[i] + wd * w[i];
    if (momentum !== 0) {
      v![i] = momentum * v![i] + d; // v starts at 0: the first step stores d, as torch's clone
      d = nesterov ? d + momentum * v![i] : v![i];
    }
    w[i] -= lr * d;
  }
}

export function adagradStepRef(w: Vec, g: ArrayLike<number>, sum: Vec, h: AdagradHyper): void {
  const { lr, eps = 1e-10, weightDecay: wd = 0 } = h;
  for (let i = 0; i < w.length; i++) {
    const d = g[i] + wd * w[i];
    sum[i] += d * d;
    w[i] -= (lr * d) / (Math.sqrt(sum[i]) + eps);
  }
}

export function rmspropStepRef(w: Vec, g: ArrayLike<number>, s: Vec, h: RmspropHyper): void {
  const { lr, alpha = 0.99, eps = 1e-8, weightDecay: wd = 0 } = h;
  for (let i = 0; i < w.length; i++) {
    const d = g[i] + wd * w[i];
    s[i] = alpha * s[i] + (1 - alpha) * d * d;
    w[i] -= (lr * d) / (Math.sqrt(s[i]) + eps);
  }
}

export function adamStepRef(w: Vec, g: ArrayLike<number>, m: Vec, v: Vec, h: AdamHyper): void {
  const { lr, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay: wd = 0, decoupled = false, step } = h;
  const bc1 = 1 - beta1 ** step;
  const bc2 = 1 - beta2 ** step;
  for (let i = 0; i < w.length; i++) {
    let d = g[i];
    if (decoupled) w[i] *= 1 - lr * wd;
    else d += wd * w[i];
    m[i] = beta1 * m[i] + (1 - beta1) * d;
    v[i] = beta2 * v[i] + (1 - beta2) * d * d;
    w[i] -= (lr / bc1) * (m[i] / (Math.sqrt(v[i]) / Math.sqrt(bc2) + eps));
  }
}
