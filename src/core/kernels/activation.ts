// Typed, validating wrappers over the activation family (assembly/activation.ts): pointwise
// over flat f32 vectors. Forward overwrites y and may run in place (y == x); backward reads the
// forward OUTPUT y (or dropout's mask) and accumulates (+=) into dx. dropoutSeededForward draws
// the dropout mask in the kernel from (seed, element index) and writes it for the backward.
// `n` defaults to the output's length. Buffers are the same (same start) or disjoint, never
// shifted windows.
import type { Core } from '../load.js';
import type { Buf } from '../heap.js';
import * as check from '../check.js';
import { count, sameOrDisjoint, type KernelOpts } from './elementwise.js';


type Forward = (y: number, x: number, n: number) => void;
type Backward = (dx: number, dy: number, y: number, n: number) => void;
type Masked = (out: number, a: number, mask: number, n: number) => void;
type SlopeForward = (y: number, x: number, n: number, slope: number) => void;
type SlopeBackward = (dx: number, dy: number, y: number, n: number, slope: number) => void;
type SeededDropout = (y: number, mask: number, x: number, n: number, p: number, seed: number) => void;

/** The activation family's WASM exports. */
export interface ActivationExports {
  relu_forward: Forward;
  relu_forward_scalar: Forward;
  relu_backward: Backward;
  relu_backward_scalar: Backward;
  sigmoid_forward: Forward;
  sigmoid_forward_scalar: Forward;
  sigmoid_backward: Backward;
  sigmoid_backward_scalar: Backward;
  tanh_forward: Forward;
  tanh_forward_scalar: Forward;
  tanh_backward: Backward;
  tanh_backward_scalar: Backward;
  dropout_forward: Masked;
  dropout_forward_scalar: Masked;
  dropout_backward: Masked;
  dropout_backward_scalar: Masked;
  leaky_relu_forward: SlopeForward;
  leaky_relu_forward_scalar: SlopeForward;
  leaky_relu_backward: SlopeBackward;
  leaky_relu_backward_scalar: SlopeBackward;
  dropout_seeded_forward: SeededDropout;
  dropout_seeded_forward_scalar: SeededDropout;
}

type Name = 'relu_forward' | 'relu_backward' | 'sigmoid_forward' | 'sigmoid_backward' | 'tanh_forward' | 'tanh_backward';

function fn<K extends keyof ActivationExports>(core: Core, name: K, opts?: KernelOpts): ActivationExports[K] {
  const f = core.fns<ActivationExports>();
  return (opts?.scalar ? f[`${name}_scalar` as K] : f[name]) as ActivationExports[K];
}

function forward(op: string, name: Name, core: Core, y: Buf, x: Buf, n: number | undefined, opts?: KernelOpts): void {
  const m = count(op, 'y', y, n);
  check.buf(op, 'y', y, m);
  check.buf(op, 'x', x, m);
  sameOrDisjoint(op, m, ['y', y], ['x', x]);
  (fn(core, name, opts) as Forward)(y.ptr, x.ptr, m);
}

/** (dx, dy, third): the three buffers of every backward kernel; `third` is y or the mask. */
function backward(
  op: string, name: Name | 'dropout_backward', core: Core,
  dx: Buf, dy: Buf, third: Buf, thirdName: string, n: number | undefined, opts?: KernelOpts,
): void {
  const m = count(op, 'dx', dx, n);
  check.buf(op, 'dx', dx, m);
  check.buf(op, 'dy', dy, m);
  check.buf(op, thirdName, third, m);
  sameOrDisjoint(op, m, ['dx', dx], ['dy', dy]);
  sameOrDisjoint(op, m, ['dx', dx], [thirdName, third]);
  (fn(core, name, opts) as Backward)(dx.ptr, dy.ptr, third.ptr, m);
}

/** y = max(x, 0). */
export function reluForward(core: Core, y: Buf, x: Buf, n?: number, opts?: KernelOpts): void {
  forward('reluForward', 'relu_forward', core, y, x, n, opts);
}

/** dx += dy where y > 0 (y: the forward output). */
export function reluBackward(core: Core, dx: Buf, dy: Buf, y: Buf, n?: number, opts?: KernelOpts): void {
  backward('reluBackward', 'relu_backward', core, dx, dy, y, 'y', n, opts);
}

/** y = 1 / (1 + exp(-x)), stable for any x. */
export function sigmoidForward(core: Core, y: Buf, x: Buf, n?: number, opts?: KernelOpts): void {
  forward('sigmoidForward', 'sigmoid_forward', core, y, x, n, opts);
}

/** dx += dy * y * (1 - y) (y: the forward output). */
export function sigmoidBackward(core: Core, dx: Buf, dy: Buf, y: Buf, n?: number, opts?: KernelOpts): void {
  backward('sigmoidBackward', 'sigmoid_backward', core, dx, dy, y, 'y', n, opts);
}

/** y = tanh(x). */
export function tanhForward(core: Core, y: Buf, x: Buf, n?: number, opts?: KernelOpts): void {
  forward('tanhForward', 'tanh_forward', core, y, x, n, opts);
}

/** dx += dy * (1 - y*y) (y: the forward output). */
export function tanhBackward(core: Core, dx: Buf, dy: Buf, y: Buf, n?: number, opts?: KernelOpts): void {
  backward('tanhBackward', 'tanh_backward', core, dx, dy, y, 'y', n, opts);
}

/** y = x * mask; the mask holds 0 or 1/(1-p) (made by the Dropout layer). */
export function dropoutForward(core: Core, y: Buf, x: Buf, mask: Buf, n?: number, opts?: KernelOpts): void {
  const op = 'dropoutForward';
  const m = count(op, 'y', y, n);
  check.buf(op, 'y', y, m);
  check.buf(op, 'x', x, m);
  check.buf(op, 'mask', mask, m);
  sameOrDisjoint(op, m, ['y', y], ['x', x]);
  sameOrDisjoint(op, m, ['y', y], ['mask', mask]);
  fn(core, 'dropout_forward', opts)(y.ptr, x.ptr, mask.ptr, m);
}

/** dx += dy * mask (the forward's mask). */
export function dropoutBackward(core: Core, dx: Buf, dy: Buf, mask: Buf, n?: number, opts?: KernelOpts): void {
  backward('dropoutBackward', 'dropout_backward', core, dx, dy, mask, 'mask', n, opts);
}

function checkSlope(op: string, slope: number): void {
  if (typeof slope !== 'number' || !(slope >= 0 && slope < 1)) throw new Error(`${op}: slope must be a number in [0, 1), got ${slope}`);
}

/** y = x > 0 ? x : slope*x, 0 <= slope < 1 (rounded to f32 once, as PyTorch). May run in place. */
export function leakyReluForward(core: Core, y: Buf, x: Buf, slope: number, n?: number, opts?: KernelOpts): void {
  const op = 'leakyReluForward';
  checkSlope(op, slope);
  const m = count(op, 'y', y, n);
  check.buf(op, 'y', y, m);
  check.buf(op, 'x', x, m);
  sameOrDisjoint(op, m, ['y', y], ['x', x]);
  fn(core, 'leaky_relu_forward', opts)(y.ptr, x.ptr, m, slope);
}

/** dx += y > 0 ? dy : slope*dy (y: the forward output; y > 0 exactly where x > 0). */
export function leakyReluBackward(core: Core, dx: Buf, dy: Buf, y: Buf, slope: number, n?: number, opts?: KernelOpts): void {
  const op = 'leakyReluBackward';
  checkSlope(op, slope);
  const m = count(op, 'dx', dx, n);
  check.buf(op, 'dx', dx, m);
  check.buf(op, 'dy', dy, m);
  check.buf(op, 'y', y, m);
  sameOrDisjoint(op, m, ['dx', dx], ['dy', dy]);
  sameOrDisjoint(op, m, ['dx', dx], ['y', y]);
  fn(core, 'leaky_relu_backward', opts)(dx.ptr, dy.ptr, y.ptr, m, slope);
}

/**
 * Inverted dropout with the mask drawn in the kernel from (seed, element index): mask[i] = 0
 * with probability p, else 1/(1-p) (f32); y = x*mask. Overwrites y and mask; the same seed,
 * p and n give the same mask on every flavour and path. Backward: dropoutBackward with mask.
 * y may be x; mask must be apart from both. seed is a u32 (an integer in [0, 2^32)).
 */
export function dropoutSeededForward(core: Core, y: Buf, mask: Buf, x: Buf, p: number, seed: number, n?: number, opts?: KernelOpts): void {
  const op = 'dropoutSeededForward';
  if (typeof p !== 'number' || !(p >= 0 && p < 1)) throw new Error(`${op}: p must be a number in [0, 1), got ${p}`);
  check.int(op, 'seed', seed, 0);
  if (seed > 0xffffffff) throw new Error(`${op}: seed must be an integer in [0, 2^32), got ${seed}`);
  const m = count(op, 'y', y, n);
  check.buf(op, 'y', y, m);
  check.buf(op, 'mask', mask, m);
  check.buf(op, 'x', x, m);
  sameOrDisjoint(op, m, ['y', y], ['x', x]);
  check.disjoint(op, ['mask', mask.sub(0, m)], ['y', y.sub(0, m)]);
  check.disjoint(op, ['mask', mask.sub(0, m)], ['x', x.sub(0, m)]);
  fn(core, 'dropout_seeded_forward', opts)(y.ptr, mask.ptr, x.ptr, m, p, seed);
}
