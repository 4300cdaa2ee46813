// Typed, validating wrappers over the pool family (assembly/pool.ts). NCHW: x [n, c, h, w],
// y and argmax [n, c, oh, ow] (floor mode, symmetric zero padding). Max pooling records, per
// output, the flat index iy*w + ix of its max inside the (n, c) input plane in an i32 buffer;
// average pooling divides by kh*kw (padding counted, PyTorch's count_include_pad=True).
// Forward overwrites y (and argmax); backward accumulates (+=) into dx.
import type { Core } from '../load.js';
import type { Buf } from '../heap.js';
import * as check from '../check.js';
import { geomOut, type Geom2d } from '../../ops/shapes.js';
import type { BackwardOpts, KernelOpts } from './elementwise.js';


type GeomArgs = [n: number, c: number, h: number, w: number, kh: number, kw: number, sh: number, sw: number, ph: number, pw: number];
type MaxForward = (y: number, argmax: number, x: number, ...g: GeomArgs) => void;
type MaxBackward = (dx: number, dy: number, argmax: number, n: number, c: number, h: number, w: number, oh: number, ow: number, acc: number) => void;
type AvgFn = (out: number, a: number, ...g: GeomArgs) => void;
/** (out, in, planes, s) */
type GlobalFn = (out: number, a: number, planes: number, s: number) => void;

/** The pool family's WASM exports. */
export interface PoolExports {
  maxpool2d_forward: MaxForward;
  maxpool2d_forward_scalar: MaxForward;
  maxpool2d_backward: MaxBackward;
  maxpool2d_backward_scalar: MaxBackward;
  avgpool2d_forward: AvgFn;
  avgpool2d_forward_scalar: AvgFn;
  avgpool2d_backward: AvgFn;
  avgpool2d_backward_scalar: AvgFn;
  global_avgpool_forward: GlobalFn;
  global_avgpool_forward_scalar: GlobalFn;
  global_avgpool_backward: GlobalFn;
  global_avgpool_backward_scalar: GlobalFn;
}

/**
 * Checks a pooling geometry (sizes, kernel vs padded input, and PyTorch's pad <= kernel/2,
 * which guarantees every window holds at least one real input) and returns oh, ow.
 */
function checkGeom(op: string, g: Geom2d): { oh: number; ow: number } {
  if (g == null || typeof g !== 'object') throw new Error(`${op}: geometry must be an object {n, c, h, w, kh, kw, sh, sw, ph, pw}, got ${g}`);
  const out = geomOut(op, g);
  if (2 * g.ph > g.kh || 2 * g.pw > g.kw) {
    throw new Error(
      `${op}: padding ${g.ph}x${g.pw} is more than half the kernel ${g.kh}x${g.kw} ` +
        `(pad must be <= kernel/2, as PyTorch requires, so no window is only padding)`,
    );
  }
  const planes = g.n * g.c;
  if (planes * g.h * g.w > 0x7fffffff || planes * out.oh * out.ow > 0x7fffffff) {
    throw new Error(`${op}: ${planes * g.h * g.w} input elements exceed the kernel's 32-bit index range`);
  }
  return out;
}

function sizes(g: Geom2d): GeomArgs {
  return [g.n, g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw];
}

function fns(core: Core): PoolExports {
  return core.fns<PoolExports>();
}

/** Output shape [n, c, oh, ow] of a 2-D pooling; throws on a bad geometry. */
export function pool2dOutShape(g: Geom2d): [number, number, number, number] {
  const { oh, ow } = checkGeom('pool2dOutShape', g);
  return [g.n, g.c, oh, ow];
}

/**
 * y = max over each window, argmax = the flat index (iy*w + ix) of that max in its input
 * plane; first max wins on ties, padding never wins. Overwrites y and argmax (dtype 'i32').
 */
export function maxpool2dForward(core: Core, y: Buf, argmax: Buf, x: Buf, g: Geom2d, opts: KernelOpts = {}): void {
  const op = 'maxpool2dForward';
  const { oh, ow } = checkGeom(op, g);
  const ny = g.n * g.c * oh * ow;
  check.buf(op, 'x', x, g.n * g.c * g.h * g.w);
  check.buf(op, 'y', y, ny);
  check.buf(op, 'argmax', argmax, ny, 'i32');
  check.disjoint(op, ['y', y], ['x', x]);
  check.disjoint(op, ['argmax', argmax], ['x', x]);
  check.disjoint(op, ['argmax', argmax], ['y', y]);
  const f = fns(core);
  (opts.scalar ? f.maxpool2d_forward_scalar : f.maxpool2d_forward)(y.ptr, argmax.ptr, x.ptr, ...sizes(g));
}

/**
 * dx += dy scattered to the argmax positions recorded by maxpool2dForward with the same
 * geometry (opts.overwrite: dx = 0 + that, dx's old contents never read). dx [n, c, h, w], dy
 * and argmax [n, c, oh, ow].
 */
export function maxpool2dBackward(core: Core, dx: Buf, dy: Buf, argmax: Buf, g: Geom2d, opts: BackwardOpts = {}): void {
  const op = 'maxpool2dBackward';
  const { oh, ow } = checkGeom(op, g);
  const ny = g.n * g.c * oh * ow;
  check.buf(op, 'dy', dy, ny);
  check.buf(op, 'argmax', argmax, ny, 'i32');
  check.buf(op, 'dx', dx, g.n * g.c * g.h * g.w);
  check.disjoint(op, ['dx', dx], ['dy', dy]);
  check.disjoint(op, ['dx', dx], ['argmax', argmax]);
  const f = fns(core);
  (opts.scalar ? f.maxpool2d_backward_scalar : f.maxpool2d_backward)(dx.ptr, dy.ptr, argmax.ptr, g.n, g.c, g.h, g.w, oh, ow, opts.overwrite ? 0 : 1);
}

/** y = window sum / (kh*kw), padding counted as zeros. Overwrites y [n, c, oh, ow]. */
export function avgpool2dForward(core: Core, y: Buf, x: Buf, g: Geom2d, opts: KernelOpts = {}): void {
  const op = 'avgpool2dForward';
  const { oh, ow } = checkGeom(op, g);
  check.buf(op, 'x', x, g.n * g.c * g.h * g.w);
  check.buf(op, 'y', y, g.n * g.c * oh * ow);
  check.disjoint(op, ['y', y], ['x', x]);
  const f = fns(core);
  (opts.scalar ? f.avgpool2d_forward_scalar : f.avgpool2d_forward)(y.ptr, x.ptr, ...sizes(g));
}

/** dx += dy / (kh*kw) over each window (padding's share dropped). dx [n, c, h, w]. */
export function avgpool2dBackward(core: Core, dx: Buf, dy: Buf, g: Geom2d, opts: KernelOpts = {}): void {
  const op = 'avgpool2dBackward';
  const { oh, ow } = checkGeom(op, g);
  check.buf(op, 'dy', dy, g.n * g.c * oh * ow);
  check.buf(op, 'dx', dx, g.n * g.c * g.h * g.w);
  check.disjoint(op, ['dx', dx], ['dy', dy]);
  const f = fns(core);
  (opts.scalar ? f.avgpool2d_backward_scalar : f.avgpool2d_backward)(dx.ptr, dy.ptr, ...sizes(g));
}

/** Global average pooling dimensions: x is [n, c, h, w], y is [n, c]. */
export interface GlobalPoolDims {
  n: number;
  c: number;
  h: number;
  w: number;
}

function checkGlobal(op: string, d: GlobalPoolDims): { planes: number; s: number } {
  if (d == null || typeof d !== 'object') throw new Error(`${op}: dims must be an object {n, c, h, w}, got ${d}`);
  for (const k of ['n', 'c', 'h', 'w'] as const) check.int(op, k, d[k], 1);
  const planes = d.n * d.c;
  const s = d.h * d.w;
  if (planes * s > 0x7fffffff) throw new Error(`${op}: ${planes * s} input elements exceed the kernel's 32-bit index range`);
  return { planes, s };
}

/** y[n, c] = mean of x[n, c, :, :] (summed in f64). Overwrites y [n, c]; y must not overlap x. */
export function globalAvgpoolForward(core: Core, y: Buf, x: Buf, d: GlobalPoolDims, opts: KernelOpts = {}): void {
  const op = 'globalAvgpoolForward';
  const { planes, s } = checkGlobal(op, d);
  check.buf(op, 'x', x, planes * s);
  check.buf(op, 'y', y, planes);
  check.disjoint(op, ['y', y.sub(0, planes)], ['x', x.sub(0, planes * s)]);
  const f = fns(core);
  (opts.scalar ? f.global_avgpool_forward_scalar : f.global_avgpool_forward)(y.ptr, x.ptr, planes, s);
}

/** dx[n, c, :, :] += dy[n, c] / (h*w). dx [n, c, h, w] must not overlap dy [n, c]. */
export function globalAvgpoolBackward(core: Core, dx: Buf, dy: Buf, d: GlobalPoolDims, opts: KernelOpts = {}): void {
  const op = 'globalAvgpoolBackward';
  const { planes, s } = checkGlobal(op, d);
  check.buf(op, 'dy', dy, planes);
  check.buf(op, 'dx', dx, planes * s);
  check.disjoint(op, ['dx', dx.sub(0, planes * s)], ['dy', dy.sub(0, planes)]);
  const f = fns(core);
  (opts.scalar ? f.global_avgpool_backward_scalar : f.global_avgpool_backward)(dx.ptr, dy.ptr, planes, s);
}
