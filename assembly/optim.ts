// Optimizer steps over flat parameter buffers (STYLE 15: one call per step over all parameters).
//
// w (parameters), g (gradients) and the state buffers (v, h, s, m) are (n,) f32, all updated in
// place; the caller owns the state and zeroes it before the first step. g is only read.
// Every formula follows torch.optim 1.13's single-tensor (non-foreach) code, operation by
// operation, so our steps match PyTorch to rounding:
//   g.add(w, alpha=wd)            -> g + wd*w
//   buf.mul_(b).add_(g, alpha=a)  -> b*buf + a*g
//   buf.mul_(b).addcmul_(g, g, value=a) -> b*buf + (a*g)*g
//   w.addcdiv_(t, d, value=-lr)   -> w + ((-lr)*t)/d
// Hyper-parameters come in as f64 (unlike other families' f32), because torch computes its
// scalar coefficients in Python floats: 1 - beta, 1 - alpha, the bias corrections, lr / bc1 and
// 1 - lr*wd are formed here in f64 from the caller's exact values, once per call, and each is
// rounded once to f32 for the loops. Forming 1 - beta from f32(beta) instead would be exact
// (Sterbenz) but of the wrong number: f32(0.999) is 0.999 + 1.3e-8, so 1 - f32(0.999) is 1.3e-5
// too small relative to 0.001. Multiply-adds go through madd (fused in the relaxed build).
import { madd, ldf, stf, ldv, stv } from './common';

// @ts-ignore: decorator
@inline function sgd(w: usize, g: usize, v: usize, n: i32, lr64: f64, momentum64: f64, wd64: f64, nesterov: i32, simd: bool): void {
  assert(n >= 0, 'sgd_step: n must be >= 0');
  const lr = <f32>lr64, momentum = <f32>momentum64, wd = <f32>wd64;
  assert(momentum == 0 || v != 0, 'sgd_step: momentum needs a state buffer');
  let i = 0;
  if (simd) {
    const vlr = f32x4.splat(-lr), vmom = f32x4.splat(momentum), vwd = f32x4.splat(wd);
    for (; i <= n - 4; i += 4) {
      const x = ldv(w, i);
      let d = ldv(g, i);
      if (wd != 0) d = madd(vwd, x, d);
      if (momentum != 0) {
        // v starts at 0, so the first step's momentum*0 + d is torch's buf = clone(d)
        const b = madd(vmom, ldv(v, i), d);
        stv(v, i, b);
        d = nesterov ? madd(vmom, b, d) : b;
      }
      stv(w, i, madd(vlr, d, x));
    }
  }
  for (; i < n; i++) {
    const x = ldf(w, i);
    let d = ldf(g, i);
    if (wd != 0) d = wd * x + d;
    if (momentum != 0) {
      const b = momentum * ldf(v, i) + d;
      stf(v, i, b);
      d = nesterov ? momentum * b + d : b;
    }
    stf(w, i, -lr * d + x);
  }
}

// @ts-ignore: decorator
@inline function adagrad(w: usize, g: usize, h: usize, n: i32, lr64: f64, eps64: f64, wd64: f64, simd: bool): void {
  assert(n >= 0, 'adagrad_step: n must be >= 0');
  const lr = <f32>lr64, eps = <f32>eps64, wd = <f32>wd64;
  let i = 0;
  if (simd) {
    const vlr = f32x4.splat(-lr), veps = f32x4.splat(eps), vwd = f32x4.splat(wd);
    for (; i <= n - 4; i += 4) {
      const x = ldv(w, i);
      let d = ldv(g, i);
      if (wd != 0) d = madd(vwd, x, d);
      const a = madd(d, d, ldv(h, i));
      stv(h, i, a);
      stv(w, i, f32x4.add(x, f32x4.div(f32x4.mul(vlr, d), f32x4.add(f32x4.sqrt(a), veps))));
    }
  }
  for (; i < n; i++) {
    const x = ldf(w, i);
    let d = ldf(g, i);
    if (wd != 0) d = wd * x + d;
    const a = d * d + ldf(h, i);
    stf(h, i, a);
    stf(w, i, x + (-lr * d) / (Mathf.sqrt(a) + eps));
  }
}

// @ts-ignore: decorator
@inline function rmsprop(w: usize, g: usize, s: usize, n: i32, lr64: f64, alpha64: f64, eps64: f64, wd64: f64, simd: bool): void {
  assert(n >= 0, 'rmsprop_step: n must be >= 0');
  const lr = <f32>lr64, alpha = <f32>alpha64, eps = <f32>eps64, wd = <f32>wd64;
  const oma = <f32>(1 - alpha64); // torch: value=1 - alpha, a Python float
  let i = 0;
  if (simd) {
    const vlr = f32x4.splat(-lr), veps = f32x4.splat(eps), vwd = f32x4.splat(wd);
    const va = f32x4.splat(alpha), voma = f32x4.splat(oma);
    for (; i <= n - 4; i += 4) {
      const x = ldv(w, i);
      let d = ldv(g, i);
      if (wd != 0) d = madd(vwd, x, d);
      const a = madd(f32x4.mul(voma, d), d, f32x4.mul(va, ldv(s, i)));
      stv(s, i, a);
      stv(w, i, f32x4.add(x, f32x4.div(f32x4.mul(vlr, d), f32x4.add(f32x4.sqrt(a), veps))));
    }
  }
  for (; i < n; i++) {
    const x = ldf(w, i);
    let d = ldf(g, i);
    if (wd != 0) d = wd * x + d;
    const a = (oma * d) * d + alpha * ldf(s, i);
    stf(s, i, a);
    stf(w, i, x + (-lr * d) / (Mathf.sqrt(a) + eps));
  }
}

// @ts-ignore: decorator
@inline function adam(
  w: usize, g: usize, m: usize, v: usize, n: i32,
  lr64: f64, beta1_64: f64, beta2_64: f64, eps64: f64, wd64: f64, step: i32, decoupled: i32, simd: bool,
): void {
  assert(n >= 0, 'adam_step: n must be >= 0');
  assert(step >= 1, 'adam_step: step must be >= 1 (1-based, after incrementing)');
  const beta1 = <f32>beta1_64, beta2 = <f32>beta2_64, eps = <f32>eps64, wd = <f32>wd64;
  const omb1 = <f32>(1 - beta1_64), omb2 = <f32>(1 - beta2_64);
  // torch: step_size = lr / (1 - b1^t), denom = sqrt(v) / sqrt(1 - b2^t) + eps, in Python floats
  const nstep = <f32>(-lr64 / (1 - Math.pow(beta1_64, <f64>step)));
  const bc2s = <f32>Math.sqrt(1 - Math.pow(beta2_64, <f64>step));
  const shrink = <f32>(1 - lr64 * wd64); // AdamW's decoupled decay factor
  const coupled = decoupled == 0 && wd != 0;
  const decay = decoupled != 0 && wd != 0;
  let i = 0;
  if (simd) {
    const vb1 = f32x4.splat(beta1), vb2 = f32x4.splat(beta2), vomb1 = f32x4.splat(omb1), vomb2 = f32x4.splat(omb2);
    const vstep = f32x4.splat(nstep), vbc2s = f32x4.splat(bc2s), veps = f32x4.splat(eps);
    const vwd = f32x4.splat(wd), vshrink = f32x4.splat(shrink);
    for (; i <= n - 4; i += 4) {
      let x = ldv(w, i);
      let d = ldv(g, i);
      if (decay) x = f32x4.mul(x, vshrink);
      else if (coupled) d = madd(vwd, x, d);
      const a = madd(vomb1, d, f32x4.mul(vb1, ldv(m, i)));
      const b = madd(f32x4.mul(vomb2, d), d, f32x4.mul(vb2, ldv(v, i)));
      stv(m, i, a);
      stv(v, i, b);
      const den = f32x4.add(f32x4.div(f32x4.sqrt(b), vbc2s), veps);
      stv(w, i, f32x4.add(x, f32x4.div(f32x4.mul(vstep, a), den)));
    }
  }
  for (; i < n; i++) {
    let x = ldf(w, i);
    let d = ldf(g, i);
    if (decay) x = x * shrink;
    else if (coupled) d = wd * x + d;
    const a = omb1 * d + beta1 * ldf(m, i);
    const b = (omb2 * d) * d + beta2 * ldf(v, i);
    stf(m, i, a);
    stf(v, i, b);
    const den = Mathf.sqrt(b) / bc2s + eps;
    stf(w, i, x + (nstep * a) / den);
  }
}

/**
 * SGD with weight decay, momentum (dampening 0) and Nesterov, torch.optim.SGD 1.13:
 * g' = g + wd*w; with momentum: v = momentum*v + g', g' = nesterov ? g' + momentum*v : v;
 * w -= lr*g'. With momentum 0, v may be 0 and is not touched. Called by sgdStep.
 */
export function sgd_step(w: usize, g: usize, v: usize, n: i32, lr: f64, momentum: f64, weight_decay: f64, nesterov: i32): void {
  sgd(w, g, v, n, lr, momentum, weight_decay, nesterov, true);
}

/** Scalar twin of sgd_step. */
export function sgd_step_scalar(w: usize, g: usize, v: usize, n: i32, lr: f64, momentum: f64, weight_decay: f64, nesterov: i32): void {
  sgd(w, g, v, n, lr, momentum, weight_decay, nesterov, false);
}

/**
 * Adagrad, torch.optim.Adagrad 1.13 with lr_decay 0 and a zero initial accumulator:
 * g' = g + wd*w; h += g'^2; w -= lr*g' / (sqrt(h) + eps). Called by adagradStep.
 */
export function adagrad_step(w: usize, g: usize, h: usize, n: i32, lr: f64, eps: f64, weight_decay: f64): void {
  adagrad(w, g, h, n, lr, eps, weight_decay, true);
}

/** Scalar twin of adagrad_step. */
export function adagrad_step_scalar(w: usize, g: usize, h: usize, n: i32, lr: f64, eps: f64, weight_decay: f64): void {
  adagrad(w, g, h, n, lr, eps, weight_decay, false);
}

/**
 * RMSprop, torch.optim.RMSprop 1.13 without momentum, not centered:
 * g' = g + wd*w; s = alpha*s + (1-alpha)*g'^2; w -= lr*g' / (sqrt(s) + eps). Called by rmspropStep.
 */
export function rmsprop_step(w: usize, g: usize, s: usize, n: i32, lr: f64, alpha: f64, eps: f64, weight_decay: f64): void {
  rmsprop(w, g, s, n, lr, alpha, eps, weight_decay, true);
}

/** Scalar twin of rmsprop_step. */
export function rmsprop_step_scalar(w: usize, g: usize, s: usize, n: i32, lr: f64, alpha: f64, eps: f64, weight_decay: f64): void {
  rmsprop(w, g, s, n, lr, alpha, eps, weight_decay, false);
}

/**
 * Adam (decoupled = 0: L2 decay folded into g) or AdamW (decoupled = 1: w *= 1 - lr*wd first),
 * torch.optim.Adam/AdamW 1.13 single-tensor: m = b1*m + (1-b1)g'; v = b2*v + (1-b2)g'^2;
 * w -= (lr / (1 - b1^step)) * m / (sqrt(v) / sqrt(1 - b2^step) + eps). `step` is the 1-based
 * count after incrementing. Called by adamStep.
 */
export function adam_step(
  w: usize, g: usize, m: usize, v: usize, n: i32,
  lr: f64, beta1: f64, beta2: f64, eps: f64, weight_decay: f64, step: i32, decoupled: i32,
): void {
  adam(w, g, m, v, n, lr, beta1, beta2, eps, weight_decay, step, decoupled, true);
}

/** Scalar twin of adam_step. */
export function adam_step_scalar(
  w: usize, g: usize, m: usize, v: usize, n: i32,
  lr: f64, beta1: f64, beta2: f64, eps: f64, weight_decay: f64, step: i32, decoupled: i32,
): void {
  adam(w, g, m, v, n, lr, beta1, beta2, eps, weight_decay, step, decoupled, false);
}
