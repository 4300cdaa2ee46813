// Typed, validating wrappers of the optimizer kernels (assembly/optim.ts). Each step updates w
// and its state buffers in place over n floats; the state buffers belong to the caller and
// start at zero. Semantics are torch.optim 1.13's, hyper-parameters are PyTorch's names in
// camelCase with PyTorch's defaults.
import type { Core } from '../load.js';
import type { Buf } from '../heap.js';
import * as check from '../check.js';
import type { KernelOpts } from './elementwise.js';

/**
 * The optim family's WASM exports (each has a `_scalar` twin). Unlike other families, their
 * hyper-parameters are f64 in WASM, so our doubles arrive unrounded and the kernels form
 * 1 - beta, the bias corrections and the step size in f64, as torch does in Python floats.
 */
export interface OptimExports {
  sgd_step(w: number, g: number, v: number, n: number, lr: number, momentum: number, weightDecay: number, nesterov: number): void;
  sgd_step_scalar(w: number, g: number, v: number, n: number, lr: number, momentum: number, weightDecay: number, nesterov: number): void;
  adagrad_step(w: number, g: number, h: number, n: number, lr: number, eps: number, weightDecay: number): void;
  adagrad_step_scalar(w: number, g: number, h: number, n: number, lr: number, eps: number, weightDecay: number): void;
  rmsprop_step(w: number, g: number, s: number, n: number, lr: number, alpha: number, eps: number, weightDecay: number): void;
  rmsprop_step_scalar(w: number, g: number, s: number, n: number, lr: number, alpha: number, eps: number, weightDecay: number): void;
  adam_step(
    w: number, g: number, m: number, v: number, n: number,
    lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, step: number, decoupled: number,
  ): void;
  adam_step_scalar(
    w: number, g: number, m: number, v: number, n: number,
    lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, step: number, decoupled: number,
  ): void;
}

export interface SgdHyper {
  lr: number;
  /** in [0, 1); 0 (default) keeps no state */
  momentum?: number;
  weightDecay?: number;
  /** needs momentum > 0 */
  nesterov?: boolean;
}

export interface AdagradHyper {
  lr: number;
  /** default 1e-10 (torch) */
  eps?: number;
  weightDecay?: number;
}

export interface RmspropHyper {
  lr: number;
  /** smoothing constant, default 0.99 */
  alpha?: number;
  /** default 1e-8 */
  eps?: number;
  weightDecay?: number;
}

export interface AdamHyper {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /** AdamW: decay the weights directly (w *= 1 - lr*wd) instead of adding wd*w to the gradient */
  decoupled?: boolean;
  /** 1-based step count after incrementing (1 on the first step) */
  step: number;
}


/** One SGD step (weight decay, momentum with dampening 0, Nesterov); v is needed when momentum > 0. */
export function sgdStep(core: Core, w: Buf, g: Buf, v: Buf | null, h: SgdHyper, n = w?.length, opts: KernelOpts = {}): void {
  const op = 'sgdStep';
  const lr = positive(op, 'lr', h?.lr);
  const momentum = unit(op, 'momentum', h.momentum ?? 0);
  const wd = nonNegative(op, 'weightDecay', h.weightDecay ?? 0);
  const nesterov = h.nesterov ?? false;
  if (typeof nesterov !== 'boolean') throw new Error(`${op}: nesterov must be a boolean, got ${nesterov}`);
  if (nesterov && momentum === 0) throw new Error(`${op}: nesterov needs momentum > 0, got momentum 0`);
  buffers(op, n, [['w', w], ['g', g], ...(momentum > 0 ? [['v (momentum buffer)', v] as [string, Buf | null]] : [])]);
  const f = core.fns<OptimExports>();
  (opts.scalar ? f.sgd_step_scalar : f.sgd_step)(w.ptr, g.ptr, momentum > 0 ? v!.ptr : 0, n, lr, momentum, wd, nesterov ? 1 : 0);
}

/** One Adagrad step (lr_decay 0); h is the running sum of squared gradients. */
export function adagradStep(core: Core, w: Buf, g: Buf, h: Buf, hp: AdagradHyper, n = w?.length, opts: KernelOpts = {}): void {
  const op = 'adagradStep';
  const lr = positive(op, 'lr', hp?.lr);
  const eps = positive(op, 'eps', hp.eps ?? 1e-10);
  const wd = nonNegative(op, 'weightDecay', hp.weightDecay ?? 0);
  buffers(op, n, [['w', w], ['g', g], ['h (sum of squares)', h]]);
  const f = core.fns<OptimExports>();
  (opts.scalar ? f.adagrad_step_scalar : f.adagrad_step)(w.ptr, g.ptr, h.ptr, n, lr, eps, wd);
}

/** One RMSprop step (no momentum, not centered); s is the running mean of squared gradients. */
export function rmspropStep(core: Core, w: Buf, g: Buf, s: Buf, h: RmspropHyper, n = w?.length, opts: KernelOpts = {}): void {
  const op = 'rmspropStep';
  const lr = positive(op, 'lr', h?.lr);
  const alpha = unit(op, 'alpha', h.alpha ?? 0.99);
  const eps = positive(op, 'eps', h.eps ?? 1e-8);
  const wd = nonNegative(op, 'weightDecay', h.weightDecay ?? 0);
  buffers(op, n, [['w', w], ['g', g], ['s (mean square)', s]]);
  const f = core.fns<OptimExports>();
  (opts.scalar ? f.rmsprop_step_scalar : f.rmsprop_step)(w.ptr, g.ptr, s.ptr, n, lr, alpha, eps, wd);
}

/** One Adam (or, with decoupled, AdamW) step; m and v are the first and second moments. */
export function adamStep(core: Core, w: Buf, g: Buf, m: Buf, v: Buf, h: AdamHyper, n = w?.length, opts: KernelOpts = {}): void {
  const op = 'adamStep';
  const lr = positive(op, 'lr', h?.lr);
  const beta1 = unit(op, 'beta1', h.beta1 ?? 0.9);
  const beta2 = unit(op, 'beta2', h.beta2 ?? 0.999);
  const eps = positive(op, 'eps', h.eps ?? 1e-8);
  const wd = nonNegative(op, 'weightDecay', h.weightDecay ?? 0);
  const decoupled = h.decoupled ?? false;
  if (typeof decoupled !== 'boolean') throw new Error(`${op}: decoupled must be a boolean, got ${decoupled}`);
  if (!Number.isInteger(h.step) || h.step < 1 || h.step > 0x7fffffff) {
    throw new Error(`${op}: step must be an integer >= 1 (the 1-based step count), got ${h.step}`);
  }
  buffers(op, n, [['w', w], ['g', g], ['m (first moment)', m], ['v (second moment)', v]]);
  const f = core.fns<OptimExports>();
  (opts.scalar ? f.adam_step_scalar : f.adam_step)(w.ptr, g.ptr, m.ptr, v.ptr, n, lr, beta1, beta2, eps, wd, h.step, decoupled ? 1 : 0);
}

function positive(op: string, name: string, v: number | undefined): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || !(v > 0)) {
    throw new Error(`${op}: ${name} must be a finite number > 0, got ${v}`);
  }
  return v;
}

function nonNegative(op: string, name: string, v: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || !(v >= 0)) {
    throw new Error(`${op}: ${name} must be a finite number >= 0, got ${v}`);
  }
  return v;
}

/** A coefficient in [0, 1): momentum, a beta, RMSprop's alpha. */
function unit(op: string, name: string, v: number): number {
  if (typeof v !== 'number' || !(v >= 0 && v < 1)) throw new Error(`${op}: ${name} must be in [0, 1), got ${v}`);
  return v;
}

/** Each buffer is a live f32 buffer of at least n floats (n a positive integer); none overlap. */
function buffers(op: string, n: number, bufs: Array<[string, Buf | null]>): void {
  for (const [name, b] of bufs) check.buf(op, name, b, 0); // a missing buffer first: n defaults to w.length
  check.int(op, 'n', n);
  for (const [name, b] of bufs) check.buf(op, name, b, n);
  const used = bufs.map(([name, b]) => [name, b!.sub(0, n)] as [string, Buf]);
  for (let i = 0; i < used.length; i++) {
    for (let j = i + 1; j < used.length; j++) check.disjoint(op, used[i], used[j]);
  }
}
