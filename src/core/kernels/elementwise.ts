// Typed, validating wrappers over the elementwise family (assembly/elementwise.ts): flat f32
// vectors. fill, copy, add, mul and sumK overwrite y; scale and axpy update y in place;
// sumSq returns a number. `n` defaults to the output's length. An output may be the very same
// buffer as an input (y == a), never a shifted window of it.
import type { Core } from '../load.js';
import type { Buf } from '../heap.js';
import * as check from '../check.js';

export interface KernelOpts {
  /** call the plain-scalar twin (`<export>_scalar`) instead of the SIMD kernel */
  scalar?: boolean;
}

/** Options of a backward kernel that can overwrite its gradient: dx = 0 + the gradient, never reading dx. */
export interface BackwardOpts extends KernelOpts {
  overwrite?: boolean;
}

type Fill = (y: number, n: number, value: number) => void;
type Unary = (y: number, x: number, n: number) => void;
type Scale = (y: number, n: number, alpha: number) => void;
type Axpy = (y: number, x: number, n: number, alpha: number) => void;
type Binary = (y: number, a: number, b: number, n: number) => void;
type SumK = (y: number, x: number, k: number, n: number) => void;
type SumSq = (x: number, n: number) => number;

/** The elementwise family's WASM exports. */
export interface ElementwiseExports {
  fill: Fill;
  fill_scalar: Fill;
  copy: Unary;
  copy_scalar: Unary;
  scale: Scale;
  scale_scalar: Scale;
  axpy: Axpy;
  axpy_scalar: Axpy;
  add: Binary;
  add_scalar: Binary;
  mul: Binary;
  mul_scalar: Binary;
  sum_k: SumK;
  sum_k_scalar: SumK;
  sum_sq: SumSq;
  sum_sq_scalar: SumSq;
}

/**
 * The element count: `n` when given, else the length of `b` (the output). Checks `b` first
 * (null, empty, freed, dtype) so a bad buffer gets its own message rather than a TypeError.
 */
export function count(op: string, name: string, b: Buf | null | undefined, n: number | undefined): number {
  check.buf(op, name, b, 0);
  const m = n ?? b!.length;
  check.int(op, 'n', m, 1);
  return m;
}

/**
 * Throws unless the first `n` elements of `a` and `b` are the same elements (same start) or do
 * not overlap at all: the SIMD bodies read four lanes before writing four.
 */
export function sameOrDisjoint(op: string, n: number, a: [string, Buf], b: [string, Buf]): void {
  if (a[1].ptr === b[1].ptr) return;
  check.disjoint(op, [a[0], a[1].sub(0, n)], [b[0], b[1].sub(0, n)]);
}

function pick<K extends keyof ElementwiseExports>(core: Core, name: K, opts?: KernelOpts): ElementwiseExports[K] {
  const f = core.fns<ElementwiseExports>();
  return (opts?.scalar ? f[`${name}_scalar` as K] : f[name]) as ElementwiseExports[K];
}

/** y[i] = value for i < n. `value` may be +-Infinity (masks, max initialisers), not NaN. */
export function fill(core: Core, y: Buf, value: number, n?: number, opts?: KernelOpts): void {
  const op = 'fill';
  const m = count(op, 'y', y, n);
  check.buf(op, 'y', y, m);
  if (typeof value !== 'number' || Number.isNaN(value)) throw new Error(`${op}: value must be a number, got ${value}`);
  pick(core, 'fill', opts)(y.ptr, m, value);
}

/** y[i] = x[i]. y and x are the same buffer or disjoint. */
export function copy(core: Core, y: Buf, x: Buf, n?: number, opts?: KernelOpts): void {
  const op = 'copy';
  const m = count(op, 'y', y, n);
  check.buf(op, 'y', y, m);
  check.buf(op, 'x', x, m);
  sameOrDisjoint(op, m, ['y', y], ['x', x]);
  pick(core, 'copy', opts)(y.ptr, x.ptr, m);
}

/** y[i] *= alpha. */
export function scale(core: Core, y: Buf, alpha: number, n?: number, opts?: KernelOpts): void {
  const op = 'scale';
  const m = count(op, 'y', y, n);
  check.buf(op, 'y', y, m);
  check.finite(op, 'alpha', alpha);
  pick(core, 'scale', opts)(y.ptr, m, alpha);
}

/** y[i] += alpha * x[i]. */
export function axpy(core: Core, y: Buf, x: Buf, alpha: number, n?: number, opts?: KernelOpts): void {
  const op = 'axpy';
  const m = count(op, 'y', y, n);
  check.buf(op, 'y', y, m);
  check.buf(op, 'x', x, m);
  check.finite(op, 'alpha', alpha);
  sameOrDisjoint(op, m, ['y', y], ['x', x]);
  pick(core, 'axpy', opts)(y.ptr, x.ptr, m, alpha);
}

function binary(name: 'add' | 'mul', core: Core, y: Buf, a: Buf, b: Buf, n: number | undefined, opts?: KernelOpts): void {
  const m = count(name, 'y', y, n);
  check.buf(name, 'y', y, m);
  check.buf(name, 'a', a, m);
  check.buf(name, 'b', b, m);
  sameOrDisjoint(name, m, ['y', y], ['a', a]);
  sameOrDisjoint(name, m, ['y', y], ['b', b]);
  pick(core, name, opts)(y.ptr, a.ptr, b.ptr, m);
}

/** y[i] = a[i] + b[i]. */
export function add(core: Core, y: Buf, a: Buf, b: Buf, n?: number, opts?: KernelOpts): void {
  binary('add', core, y, a, b, n, opts);
}

/** y[i] = a[i] * b[i]. */
export function mul(core: Core, y: Buf, a: Buf, b: Buf, n?: number, opts?: KernelOpts): void {
  binary('mul', core, y, a, b, n, opts);
}

/**
 * y[i] = sum over j < k of x[j*n + i], added in j order: the same bits on every flavour and
 * path, which the data-parallel trainer relies on. x holds k rows of n; overwrites y, which
 * may be x's first row (same start) but must not overlap it otherwise.
 */
export function sumK(core: Core, y: Buf, x: Buf, k: number, n: number, opts?: KernelOpts): void {
  const op = 'sumK';
  check.int(op, 'k', k, 1);
  check.int(op, 'n', n, 1);
  check.buf(op, 'y', y, n);
  check.buf(op, 'x', x, k * n);
  if (y.ptr !== x.ptr) check.disjoint(op, ['y', y.sub(0, n)], ['x', x.sub(0, k * n)]);
  pick(core, 'sum_k', opts)(y.ptr, x.ptr, k, n);
}

/** Sum of squares of x[0..n) accumulated in f64 (for gradient norms). */
export function sumSq(core: Core, x: Buf, n?: number, opts?: KernelOpts): number {
  const op = 'sumSq';
  const m = count(op, 'x', x, n);
  check.buf(op, 'x', x, m);
  return pick(core, 'sum_sq', opts)(x.ptr, m);
}
