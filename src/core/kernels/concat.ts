// Typed, validating wrappers over the concat family (assembly/concat.ts): concatenation along
// dim 1. a is (n, ca, s), b is (n, cb, s), y and dy are (n, ca+cb, s). concatForward
// overwrites y; concatBackward accumulates (+=) one input's slice of dy into its gradient.
import type { Core } from '../load.js';
import type { Buf } from '../heap.js';
import * as check from '../check.js';
import type { KernelOpts } from './elementwise.js';

/** Concat dimensions: n samples, ca and cb channels of the two inputs, s trailing values per channel. */
export interface ConcatDims {
  n: number;
  ca: number;
  cb: number;
  s: number;
}

type Fwd = (y: number, a: number, b: number, n: number, ca: number, cb: number, s: number) => void;
type Bwd = (d: number, dy: number, n: number, cpart: number, ctotal: number, offset: number, s: number) => void;

/** The concat family's WASM exports. */
export interface ConcatExports {
  concat_forward: Fwd;
  concat_forward_scalar: Fwd;
  concat_backward: Bwd;
  concat_backward_scalar: Bwd;
}

function checkDims(op: string, d: ConcatDims): number {
  if (d == null || typeof d !== 'object') throw new Error(`${op}: dims must be an object {n, ca, cb, s}, got ${d}`);
  for (const k of ['n', 'ca', 'cb', 's'] as const) check.int(op, k, d[k], 1);
  const total = d.n * (d.ca + d.cb) * d.s;
  if (total > 0x7fffffff) throw new Error(`${op}: ${total} output elements exceed the kernel's 32-bit index range`);
  return total;
}

/** y = [a, b] along dim 1. y must not overlap a or b. */
export function concatForward(core: Core, y: Buf, a: Buf, b: Buf, d: ConcatDims, opts?: KernelOpts): void {
  const op = 'concatForward';
  const total = checkDims(op, d);
  check.buf(op, 'y', y, total);
  check.buf(op, 'a', a, d.n * d.ca * d.s);
  check.buf(op, 'b', b, d.n * d.cb * d.s);
  check.disjoint(op, ['y', y.sub(0, total)], ['a', a.sub(0, d.n * d.ca * d.s)]);
  check.disjoint(op, ['y', y.sub(0, total)], ['b', b.sub(0, d.n * d.cb * d.s)]);
  const f = core.fns<ConcatExports>();
  (opts?.scalar ? f.concat_forward_scalar : f.concat_forward)(y.ptr, a.ptr, b.ptr, d.n, d.ca, d.cb, d.s);
}

/**
 * Accumulates input `which`'s slice of dy into its gradient: da += dy[:, :ca] or
 * db += dy[:, ca:]. The gradient must not overlap dy.
 */
export function concatBackward(core: Core, grad: Buf, dy: Buf, which: 'a' | 'b', d: ConcatDims, opts?: KernelOpts): void {
  const op = 'concatBackward';
  const total = checkDims(op, d);
  if (which !== 'a' && which !== 'b') throw new Error(`${op}: which must be 'a' or 'b', got ${which}`);
  const cpart = which === 'a' ? d.ca : d.cb;
  const name = `d${which}`;
  check.buf(op, name, grad, d.n * cpart * d.s);
  check.buf(op, 'dy', dy, total);
  check.disjoint(op, [name, grad.sub(0, d.n * cpart * d.s)], ['dy', dy.sub(0, total)]);
  const f = core.fns<ConcatExports>();
  (opts?.scalar ? f.concat_backward_scalar : f.concat_backward)(grad.ptr, dy.ptr, d.n, cpart, d.ca + d.cb, which === 'a' ? 0 : d.ca, d.s);
}
