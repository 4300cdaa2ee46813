// Typed, validating wrappers over the activation family (assembly/activation.ts): pointwise
// over flat f32 vectors. Forward overwrites y and may run in place (y == x); backward reads the
// forward OUTPUT y (or dropout's mask) and accumulates (+=) into dx; the pointwise ones overwrite
// it instead with `overwrite` (dx = 0 + the gradient: the bits of accumulating into zeros, with
// no pass that zeroes dx, which may hold garbage). dropoutSeededForward draws
// the dropout mask in the kernel from (seed, element index) and writes it for the backward.
// `n` defaults to the output's length. Buffers are the same (same start) or disjoint, never
// shifted windows.
import type { Core } from '../load.js';
import type { Buf } from '../heap.js';
import * as check from '../check.js';
import { count, sameOrDisjoint, type BackwardOpts, type KernelOpts } from './elementwise.js';


type Masked = (out: number, a: number, mask: number, n: number) => void;
type SeededDropout = (y: number, mask: number, x: number, n: number, p: number, seed: number) => void;
/** A pointwise forward export: (y, x, n, ...hyper-parameters). */
type PointwiseFwd = (y: number, x: number, n: number, ...params: number[]) => void;
/** A pointwise backward export: (dx, dy, y, n, ...hyper-parameters, acc), acc 0 to overwrite dx. */
type PointwiseBwd = (dx: number, dy: number, y: number, n: number, ...params: number[]) => void;

/**
 * The activation family's WASM exports that are not pointwise ops of the table (dropout). The
 * pointwise ones (relu_forward, sigmoid_backward, ...) are named by their op table entries
 * (src/ops/table.ts `pointwise.exports`, each with its `_scalar` twin) and looked up by name.
 */
export interface ActivationExports {
  dropout_forward: Masked;
  dropout_forward_scalar: Masked;
  dropout_backward: Masked;
  dropout_backward_scalar: Masked;
  dropout_seeded_forward: SeededDropout;
  dropout_seeded_forward_scalar: SeededDropout;
}

function fn<K extends keyof ActivationExports>(core: Core, name: K, opts?: KernelOpts): ActivationExports[K] {
  const f = core.fns<ActivationExports>();
  return (opts?.scalar ? f[`${name}_scalar` as K] : f[name]) as ActivationExports[K];
}

/** The pointwise export `name` (or its `_scalar` twin); a name the core lacks is an error, not a TypeError later. */
function pointwiseExport<F>(op: string, core: Core, name: string, opts?: KernelOpts): F {
  const full = opts?.scalar ? `${name}_scalar` : name;
  const f = core.fns<Record<string, F | undefined>>()[full];
  if (typeof f !== 'function') throw new Error(`${op}: the core has no export ${full}`);
  return f;
}

function checkParams(op: string, params: readonly number[]): void {
  for (const p of params) if (typeof p !== 'number' || Number.isNaN(p)) throw new Error(`${op}: hyper-parameters must be numbers, got ${p}`);
}

function forward(op: string, name: string, core: Core, y: Buf, x: Buf, params: readonly number[], n: number | undefined, opts?: KernelOpts): void {
  const m = count(op, 'y', y, n);
  check.buf(op, 'y', y, m);
  check.buf(op, 'x', x, m);
  sameOrDisjoint(op, m, ['y', y], ['x', x]);
  checkParams(op, params);
  pointwiseExport<PointwiseFwd>(op, core, name, opts)(y.ptr, x.ptr, m, ...params);
}

/** (dx, dy, third): the three buffers of every backward kernel; `third` is y or the mask. */
function checkBackward(op: string, dx: Buf, dy: Buf, third: Buf, thirdName: string, n: number | undefined): number {
  const m = count(op, 'dx', dx, n);
  check.buf(op, 'dx', dx, m);
  check.buf(op, 'dy', dy, m);
  check.buf(op, thirdName, third, m);
  sameOrDisjoint(op, m, ['dx', dx], ['dy', dy]);
  sameOrDisjoint(op, m, ['dx', dx], [thirdName, third]);
  return m;
}

function backward(op: string, name: string, core: Core, dx: Buf, dy: Buf, y: Buf, params: readonly number[], n: number | undefined, opts?: BackwardOpts): void {
  const m = checkBackward(op, dx, dy, y, 'y', n);
  checkParams(op, params);
  pointwiseExport<PointwiseBwd>(op, core, name, opts)(dx.ptr, dy.ptr, y.ptr, m, ...params, opts?.overwrite ? 0 : 1);
}

/**
 * y = f(x) through the pointwise forward export `name` (an op table entry's
 * `pointwise.exports.forward`) with its hyper-parameters after (y, x, n). May run in place.
 * The table's pointwise ops, their kernel tests and benchmarks call this.
 */
export function pointwiseForward(core: Core, name: string, y: Buf, x: Buf, params: readonly number[] = [], n?: number, opts?: KernelOpts): void {
  forward(name, name, core, y, x, params, n, opts);
}

/** dx += dy * f'(.) (opts.overwrite: dx = 0 + dy * f'(.)) through the pointwise backward export `name`, reading the forward output y. */
export function pointwiseBackward(core: Core, name: string, dx: Buf, dy: Buf, y: Buf, params: readonly number[] = [], n?: number, opts?: BackwardOpts): void {
  backward(name, name, core, dx, dy, y, params, n, opts);
}

/** y = max(x, 0). */
export function reluForward(core: Core, y: Buf, x: Buf, n?: number, opts?: KernelOpts): void {
  forward('reluForward', 'relu_forward', core, y, x, [], n, opts);
}

/** dx += dy where y > 0 (y: the forward output). */
export function reluBackward(core: Core, dx: Buf, dy: Buf, y: Buf, n?: number, opts?: BackwardOpts): void {
  backward('reluBackward', 'relu_backward', core, dx, dy, y, [], n, opts);
}

/** y = 1 / (1 + exp(-x)), stable for any x. */
export function sigmoidForward(core: Core, y: Buf, x: Buf, n?: number, opts?: KernelOpts): void {
  forward('sigmoidForward', 'sigmoid_forward', core, y, x, [], n, opts);
}

/** dx += dy * y * (1 - y) (y: the forward output). */
export function sigmoidBackward(core: Core, dx: Buf, dy: Buf, y: Buf, n?: number, opts?: BackwardOpts): void {
  backward('sigmoidBackward', 'sigmoid_backward', core, dx, dy, y, [], n, opts);
}

/** y = tanh(x). */
export function tanhForward(core: Core, y: Buf, x: Buf, n?: number, opts?: KernelOpts): void {
  forward('tanhForward', 'tanh_forward', core, y, x, [], n, opts);
}

/** dx += dy * (1 - y*y) (y: the forward output). */
export function tanhBackward(core: Core, dx: Buf, dy: Buf, y: Buf, n?: number, opts?: BackwardOpts): void {
  backward('tanhBackward', 'tanh_backward', core, dx, dy, y, [], n, opts);
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
  const m = checkBackward('dropoutBackward', dx, dy, mask, 'mask', n);
  fn(core, 'dropout_backward', opts)(dx.ptr, dy.ptr, mask.ptr, m);
}

function checkSlope(op: string, slope: number): void {
  if (typeof slope !== 'number' || !(slope >= 0 && slope < 1)) throw new Error(`${op}: slope must be a number in [0, 1), got ${slope}`);
}

/** y = x > 0 ? x : slope*x, 0 <= slope < 1 (rounded to f32 once, as PyTorch). May run in place. */
export function leakyReluForward(core: Core, y: Buf, x: Buf, slope: number, n?: number, opts?: KernelOpts): void {
  checkSlope('leakyReluForward', slope);
  forward('leakyReluForward', 'leaky_relu_forward', core, y, x, [slope], n, opts);
}

/** dx += y > 0 ? dy : slope*dy (y: the forward output; y > 0 exactly where x > 0). */
export function leakyReluBackward(core: Core, dx: Buf, dy: Buf, y: Buf, slope: number, n?: number, opts?: BackwardOpts): void {
  checkSlope('leakyReluBackward', slope);
  backward('leakyReluBackward', 'leaky_relu_backward', core, dx, dy, y, [slope], n, opts);
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
