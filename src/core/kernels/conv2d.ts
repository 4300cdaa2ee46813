// Typed, validating wrappers over the conv2d family (assembly/conv2d.ts). NCHW layouts:
// x [n, c, h, w], weight [oc, c, kh, kw], bias [oc], y [n, oc, oh, ow]. Forward overwrites y;
// the backward wrappers accumulate (+=) into dx, dw and db.
import type { Core } from '../load.js';
import type { Buf } from '../heap.js';
import * as check from '../check.js';
import { geomOut, type Geom2d } from '../../ops/shapes.js';
import type { KernelOpts } from './elementwise.js';

/** A convolution's geometry: the input window geometry plus the number of output channels. */
export interface Conv2dGeom extends Geom2d {
  oc: number;
}

/** (out, in1, in2, scratch, n, c, h, w, oc, kh, kw, sh, sw, ph, pw): the two backward passes. */
type ConvFn = (out: number, a: number, b: number, scratch: number, ...g: GeomArgs) => void;
/** (y, x, w, b, scratch, n, c, h, w, oc, kh, kw, sh, sw, ph, pw); b = 0: no bias. */
type ConvForwardFn = (y: number, x: number, w: number, b: number, scratch: number, ...g: GeomArgs) => void;
/** (out, in, n, oc, hw) */
type ConvBiasFn = (out: number, a: number, n: number, oc: number, hw: number) => void;
type GeomArgs = [n: number, c: number, h: number, w: number, oc: number, kh: number, kw: number, sh: number, sw: number, ph: number, pw: number];

/** The conv2d family's WASM exports. */
export interface Conv2dExports {
  conv2d_forward: ConvForwardFn;
  conv2d_forward_scalar: ConvForwardFn;
  conv2d_backward_data: ConvFn;
  conv2d_backward_data_scalar: ConvFn;
  conv2d_backward_filter: ConvFn;
  conv2d_backward_filter_scalar: ConvFn;
  conv2d_bias_forward: ConvBiasFn;
  conv2d_bias_forward_scalar: ConvBiasFn;
  conv2d_backward_bias: ConvBiasFn;
  conv2d_backward_bias_scalar: ConvBiasFn;
  conv2d_scratch_floats(...g: GeomArgs): number;
}

/** Output shape [n, oc, oh, ow] of a convolution; throws on a bad geometry. */
export function conv2dOutShape(g: Conv2dGeom): [number, number, number, number] {
  const { oh, ow } = checkGeom('conv2dOutShape', g);
  return [g.n, g.oc, oh, ow];
}

/**
 * y = conv(x, w) + b. Overwrites y [n, oc, oh, ow]; `b` may be null (no bias).
 * x [n, c, h, w], w [oc, c, kh, kw], b [oc].
 */
export function conv2dForward(core: Core, y: Buf, x: Buf, w: Buf, b: Buf | null, g: Conv2dGeom, opts: KernelOpts = {}): void {
  const op = 'conv2dForward';
  const { oh, ow } = checkGeom(op, g);
  check.buf(op, 'x', x, g.n * g.c * g.h * g.w);
  check.buf(op, 'w', w, g.oc * g.c * g.kh * g.kw);
  if (b !== null) check.buf(op, 'b', b, g.oc);
  check.buf(op, 'y', y, g.n * g.oc * oh * ow);
  check.disjoint(op, ['y', y], ['x', x]);
  check.disjoint(op, ['y', y], ['w', w]);
  if (b !== null) check.disjoint(op, ['y', y], ['b', b]);
  const f = core.fns<Conv2dExports>();
  const bp = b === null ? 0 : b.ptr;
  if (opts.scalar) {
    f.conv2d_forward_scalar(y.ptr, x.ptr, w.ptr, bp, 0, ...sizes(g));
  } else {
    const s = scratch(core, g);
    f.conv2d_forward(y.ptr, x.ptr, w.ptr, bp, s, ...sizes(g));
  }
}

/** dx += conv^T(dy, w): the gradient of a convolution's input. dx [n, c, h, w], dy [n, oc, oh, ow]. */
export function conv2dBackwardData(core: Core, dx: Buf, dy: Buf, w: Buf, g: Conv2dGeom, opts: KernelOpts = {}): void {
  const op = 'conv2dBackwardData';
  const { oh, ow } = checkGeom(op, g);
  check.buf(op, 'dy', dy, g.n * g.oc * oh * ow);
  check.buf(op, 'w', w, g.oc * g.c * g.kh * g.kw);
  check.buf(op, 'dx', dx, g.n * g.c * g.h * g.w);
  check.disjoint(op, ['dx', dx], ['dy', dy]);
  check.disjoint(op, ['dx', dx], ['w', w]);
  const f = core.fns<Conv2dExports>();
  if (opts.scalar) f.conv2d_backward_data_scalar(dx.ptr, dy.ptr, w.ptr, 0, ...sizes(g));
  else f.conv2d_backward_data(dx.ptr, dy.ptr, w.ptr, scratch(core, g), ...sizes(g));
}

/** dw += sum over the batch of dy (x) x: the gradient of a convolution's weight [oc, c, kh, kw]. */
export function conv2dBackwardFilter(core: Core, dw: Buf, dy: Buf, x: Buf, g: Conv2dGeom, opts: KernelOpts = {}): void {
  const op = 'conv2dBackwardFilter';
  const { oh, ow } = checkGeom(op, g);
  check.buf(op, 'dy', dy, g.n * g.oc * oh * ow);
  check.buf(op, 'x', x, g.n * g.c * g.h * g.w);
  check.buf(op, 'dw', dw, g.oc * g.c * g.kh * g.kw);
  check.disjoint(op, ['dw', dw], ['dy', dy]);
  check.disjoint(op, ['dw', dw], ['x', x]);
  const f = core.fns<Conv2dExports>();
  if (opts.scalar) f.conv2d_backward_filter_scalar(dw.ptr, dy.ptr, x.ptr, 0, ...sizes(g));
  else f.conv2d_backward_filter(dw.ptr, dy.ptr, x.ptr, scratch(core, g), ...sizes(g));
}

/** y += b per output channel, y [n, oc, oh, ow] (after a forward run without bias). */
export function conv2dBiasForward(core: Core, y: Buf, b: Buf, g: Conv2dGeom, opts: KernelOpts = {}): void {
  const op = 'conv2dBiasForward';
  const { oh, ow } = checkGeom(op, g);
  check.buf(op, 'b', b, g.oc);
  check.buf(op, 'y', y, g.n * g.oc * oh * ow);
  check.disjoint(op, ['y', y], ['b', b]);
  const f = core.fns<Conv2dExports>();
  (opts.scalar ? f.conv2d_bias_forward_scalar : f.conv2d_bias_forward)(y.ptr, b.ptr, g.n, g.oc, oh * ow);
}

/** db += sums of dy [n, oc, oh, ow] over the batch and the pixels: the bias gradient [oc]. */
export function conv2dBackwardBias(core: Core, db: Buf, dy: Buf, g: Conv2dGeom, opts: KernelOpts = {}): void {
  const op = 'conv2dBackwardBias';
  const { oh, ow } = checkGeom(op, g);
  check.buf(op, 'dy', dy, g.n * g.oc * oh * ow);
  check.buf(op, 'db', db, g.oc);
  check.disjoint(op, ['db', db], ['dy', dy]);
  const f = core.fns<Conv2dExports>();
  (opts.scalar ? f.conv2d_backward_bias_scalar : f.conv2d_backward_bias)(db.ptr, dy.ptr, g.n, g.oc, oh * ow);
}

function checkGeom(op: string, g: Conv2dGeom): { oh: number; ow: number } {
  if (g == null || typeof g !== 'object') throw new Error(`${op}: geometry is missing`);
  check.int(op, 'oc', g.oc);
  const out = geomOut(op, g);
  // every index the kernels form is an i32 element offset
  const big = Math.max(g.n * g.c * g.h * g.w, g.n * g.oc * out.oh * out.ow, g.oc * g.c * g.kh * g.kw, g.c * g.kh * g.kw * out.oh * out.ow);
  if (big * 4 > 2 ** 32) throw new Error(`${op}: tensors of ${big} elements do not fit 32-bit WASM memory`);
  return out;
}

function sizes(g: Conv2dGeom): GeomArgs {
  return [g.n, g.c, g.h, g.w, g.oc, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw];
}

/** The shared scratch block, sized by the kernel for this geometry. */
function scratch(core: Core, g: Conv2dGeom): number {
  return core.scratch(core.fns<Conv2dExports>().conv2d_scratch_floats(...sizes(g))).ptr;
}
