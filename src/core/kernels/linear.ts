// Typed, validating wrappers over the linear family (assembly/linear.ts), PyTorch layout:
// x [m, inF], weight [outF, inF], bias [outF], y [m, outF]. linearForward overwrites y; the
// backward wrappers accumulate (+=) into dx, dw and db (linearBackwardWeight overwrites dw
// when asked to: the first write into a gradient that holds garbage).
import type { Core } from '../load.js';
import type { Buf } from '../heap.js';
import * as check from '../check.js';
import type { KernelOpts } from './elementwise.js';
import { gemm } from './gemm.js';


/** Rows (batch), input features, output features. */
export interface LinearDims {
  m: number;
  inF: number;
  outF: number;
}

/** (y, x, w, b, scratch, m, in_f, out_f); b = 0: no bias */
type ForwardFn = (y: number, x: number, w: number, b: number, scratch: number, m: number, inF: number, outF: number) => void;
/** (out, in1, in2, scratch, m, in_f, out_f) */
type BackwardFn = (out: number, a: number, b: number, scratch: number, m: number, inF: number, outF: number) => void;
/** (dw, dy, x, scratch, m, in_f, out_f, accumulate) */
type WeightFn = (dw: number, dy: number, x: number, scratch: number, m: number, inF: number, outF: number, accumulate: number) => void;
/** (db, dy, m, out_f) */
type BiasFn = (db: number, dy: number, m: number, outF: number) => void;
/** (wp, w, in_f, out_f, which) */
type PackFn = (wp: number, w: number, inF: number, outF: number, which: number) => void;

/** The linear family's WASM exports. */
export interface LinearExports {
  linear_forward: ForwardFn;
  linear_forward_scalar: ForwardFn;
  linear_backward_data: BackwardFn;
  linear_backward_data_scalar: BackwardFn;
  linear_backward_weight: WeightFn;
  linear_backward_weight_scalar: WeightFn;
  linear_backward_bias: BiasFn;
  linear_backward_bias_scalar: BiasFn;
  linear_scratch_floats(m: number, inF: number, outF: number): number;
  linear_packed_weight_floats(inF: number, outF: number, which: number): number;
  linear_pack_weight: PackFn;
  linear_pack_weight_scalar: PackFn;
  linear_forward_packed: ForwardFn;
  linear_forward_packed_scalar: ForwardFn;
  linear_backward_data_packed: BackwardFn;
  linear_backward_data_packed_scalar: BackwardFn;
}

/** What a packed weight is for: the forward's GEMM (w^T) or backward-data's (w). */
export type PackedFor = 'forward' | 'backwardData';

const WHICH: Record<PackedFor, number> = { forward: 0, backwardData: 1 };

/** Where the linear op finds a weight already packed (src/nn/weight_packs.ts); null: pack per call. */
export interface PackedWeights {
  packed(w: Buf, d: Pick<LinearDims, 'inF' | 'outF'>, which: PackedFor): Buf | null;
}

function dimsOk(op: string, d: LinearDims): void {
  if (d == null) throw new Error(`${op}: dims {m, inF, outF} are missing`);
  check.int(op, 'm', d.m);
  check.int(op, 'inF', d.inF);
  check.int(op, 'outF', d.outF);
}

function fns(core: Core): LinearExports {
  return core.fns<LinearExports>();
}

function scratch(core: Core, d: LinearDims): Buf {
  return core.scratch(fns(core).linear_scratch_floats(d.m, d.inF, d.outF));
}

/** y [m, outF] = x [m, inF] w^T + b (w [outF, inF], b [outF] or null). Overwrites y. */
export function linearForward(core: Core, y: Buf, x: Buf, w: Buf, b: Buf | null, d: LinearDims, opts: KernelOpts = {}): void {
  const op = 'linearForward';
  dimsOk(op, d);
  check.buf(op, 'x', x, d.m * d.inF);
  check.buf(op, 'w', w, d.outF * d.inF);
  if (b !== null) check.buf(op, 'b', b, d.outF);
  check.buf(op, 'y', y, d.m * d.outF);
  check.disjoint(op, ['y', y], ['x', x]);
  check.disjoint(op, ['y', y], ['w', w]);
  if (b !== null) check.disjoint(op, ['y', y], ['b', b]);
  const s = scratch(core, d);
  const f = fns(core);
  (opts.scalar ? f.linear_forward_scalar : f.linear_forward)(y.ptr, x.ptr, w.ptr, b === null ? 0 : b.ptr, s.ptr, d.m, d.inF, d.outF);
}

/** Floats a weight packed for `which` takes (linearPackWeight's output). */
export function linearPackedWeightFloats(core: Core, d: Pick<LinearDims, 'inF' | 'outF'>, which: PackedFor): number {
  return fns(core).linear_packed_weight_floats(d.inF, d.outF, WHICH[which]);
}

/**
 * Packs w [outF, inF] into wp (linearPackedWeightFloats floats) for linearForwardPacked or
 * linearBackwardDataPacked: the layout their GEMMs would pack on every call.
 */
export function linearPackWeight(core: Core, wp: Buf, w: Buf, d: Pick<LinearDims, 'inF' | 'outF'>, which: PackedFor, opts: KernelOpts = {}): void {
  const op = 'linearPackWeight';
  check.int(op, 'inF', d.inF);
  check.int(op, 'outF', d.outF);
  if (!(which in WHICH)) throw new Error(`${op}: which must be 'forward' or 'backwardData', got ${String(which)}`);
  check.buf(op, 'w', w, d.outF * d.inF);
  check.buf(op, 'wp', wp, linearPackedWeightFloats(core, d, which));
  check.disjoint(op, ['wp', wp], ['w', w]);
  const f = fns(core);
  (opts.scalar ? f.linear_pack_weight_scalar : f.linear_pack_weight)(wp.ptr, w.ptr, d.inF, d.outF, WHICH[which]);
}

/** linearForward with the weight packed for 'forward' by linearPackWeight: the same bits, no packing. */
export function linearForwardPacked(core: Core, y: Buf, x: Buf, wp: Buf, b: Buf | null, d: LinearDims, opts: KernelOpts = {}): void {
  const op = 'linearForwardPacked';
  dimsOk(op, d);
  check.buf(op, 'x', x, d.m * d.inF);
  check.buf(op, 'wp', wp, linearPackedWeightFloats(core, d, 'forward'));
  if (b !== null) check.buf(op, 'b', b, d.outF);
  check.buf(op, 'y', y, d.m * d.outF);
  check.disjoint(op, ['y', y], ['x', x]);
  check.disjoint(op, ['y', y], ['wp', wp]);
  if (b !== null) check.disjoint(op, ['y', y], ['b', b]);
  const s = scratch(core, d);
  const f = fns(core);
  (opts.scalar ? f.linear_forward_packed_scalar : f.linear_forward_packed)(y.ptr, x.ptr, wp.ptr, b === null ? 0 : b.ptr, s.ptr, d.m, d.inF, d.outF);
}

/** linearBackwardData with the weight packed for 'backwardData': dx += dy w, the same bits, no packing. */
export function linearBackwardDataPacked(core: Core, dx: Buf, dy: Buf, wp: Buf, d: LinearDims, opts: KernelOpts = {}): void {
  const op = 'linearBackwardDataPacked';
  dimsOk(op, d);
  check.buf(op, 'dy', dy, d.m * d.outF);
  check.buf(op, 'wp', wp, linearPackedWeightFloats(core, d, 'backwardData'));
  check.buf(op, 'dx', dx, d.m * d.inF);
  check.disjoint(op, ['dx', dx], ['dy', dy]);
  check.disjoint(op, ['dx', dx], ['wp', wp]);
  const s = scratch(core, d);
  const f = fns(core);
  (opts.scalar ? f.linear_backward_data_packed_scalar : f.linear_backward_data_packed)(dx.ptr, dy.ptr, wp.ptr, s.ptr, d.m, d.inF, d.outF);
}

/** dx [m, inF] += dy [m, outF] w [outF, inF]. */
export function linearBackwardData(core: Core, dx: Buf, dy: Buf, w: Buf, d: LinearDims, opts: KernelOpts = {}): void {
  const op = 'linearBackwardData';
  dimsOk(op, d);
  check.buf(op, 'dy', dy, d.m * d.outF);
  check.buf(op, 'w', w, d.outF * d.inF);
  check.buf(op, 'dx', dx, d.m * d.inF);
  check.disjoint(op, ['dx', dx], ['dy', dy]);
  check.disjoint(op, ['dx', dx], ['w', w]);
  const s = scratch(core, d);
  const f = fns(core);
  (opts.scalar ? f.linear_backward_data_scalar : f.linear_backward_data)(dx.ptr, dy.ptr, w.ptr, s.ptr, d.m, d.inF, d.outF);
}

/** dw [outF, inF] += dy [m, outF]^T x [m, inF]; with `overwrite`, dw = dy^T x (dw's old values are never read). */
export function linearBackwardWeight(core: Core, dw: Buf, dy: Buf, x: Buf, d: LinearDims, opts: KernelOpts & { overwrite?: boolean } = {}): void {
  const op = 'linearBackwardWeight';
  dimsOk(op, d);
  check.buf(op, 'dy', dy, d.m * d.outF);
  check.buf(op, 'x', x, d.m * d.inF);
  check.buf(op, 'dw', dw, d.outF * d.inF);
  check.disjoint(op, ['dw', dw], ['dy', dy]);
  check.disjoint(op, ['dw', dw], ['x', x]);
  const s = scratch(core, d);
  const f = fns(core);
  (opts.scalar ? f.linear_backward_weight_scalar : f.linear_backward_weight)(dw.ptr, dy.ptr, x.ptr, s.ptr, d.m, d.inF, d.outF, opts.overwrite ? 0 : 1);
}

/**
 * Rows [r0, r1) of dw [outF, inF] = dy [m, outF]ᵀ x [m, inF], written over `rows` ((r1 - r0) × inF,
 * never read): the GEMM of linearBackwardWeight with overwrite, restricted to those output rows.
 * Each element is one lane's sum over the m rows in order whichever rows share its call, so row
 * blocks computed apart (the pool's reduce tasks, src/train/weight_rows.ts) put together the bits
 * of the whole product.
 */
export function linearBackwardWeightRows(core: Core, rows: Buf, dy: Buf, x: Buf, d: LinearDims, r0: number, r1: number, opts: KernelOpts = {}): void {
  const op = 'linearBackwardWeightRows';
  dimsOk(op, d);
  check.int(op, 'r0', r0, 0);
  check.int(op, 'r1', r1, r0 + 1);
  if (r1 > d.outF) throw new Error(`${op}: rows [${r0}, ${r1}) exceed the ${d.outF} output features`);
  check.buf(op, 'dy', dy, d.m * d.outF);
  check.buf(op, 'x', x, d.m * d.inF);
  check.buf(op, 'rows', rows, (r1 - r0) * d.inF);
  check.disjoint(op, ['rows', rows], ['dy', dy]);
  check.disjoint(op, ['rows', rows], ['x', x]);
  // dy's columns r0..r1 are the rows of Aᵀ: A stored m × outF, read from column r0 with stride outF
  const a = dy.sub(r0, (d.m - 1) * d.outF + (r1 - r0));
  gemm(core, rows, a, x, { m: r1 - r0, n: d.inF, k: d.m, transA: true, lda: d.outF }, opts);
}

/** db [outF] += column sums of dy [m, outF]. (d.inF is not used but must be valid.) */
export function linearBackwardBias(core: Core, db: Buf, dy: Buf, d: LinearDims, opts: KernelOpts = {}): void {
  const op = 'linearBackwardBias';
  dimsOk(op, d);
  check.buf(op, 'dy', dy, d.m * d.outF);
  check.buf(op, 'db', db, d.outF);
  check.disjoint(op, ['db', db], ['dy', dy]);
  const f = fns(core);
  (opts.scalar ? f.linear_backward_bias_scalar : f.linear_backward_bias)(db.ptr, dy.ptr, d.m, d.outF);
}
