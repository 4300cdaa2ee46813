// npm run bench:kernels — single-thread speed of every kernel family (GEMM, linear, conv2d,
// pooling, activations, softmax-xent, optimizer steps, element-wise helpers) for the
// plain-SIMD and the relaxed-SIMD builds. Compute-bound kernels (GEMM, linear, conv2d) report
// GFLOP/s against the build's f32x4 multiply-add peak (assembly/peak.ts); memory-bound kernels
// report GB/s (and GFLOP/s) against a copy bandwidth reference over 64 MiB, far above L2 and
// L3 (STYLE 27). Both references are measured in the same run. Every kernel is first verified
// against its naive reference, timed once cold, warmed up (V8 runs a wasm function in its
// baseline tier until it is tiered up between calls), then timed in repeats interleaved with
// samples of its reference, so a busy machine slows both sides of the ratio alike. Reports the
// median and spread of the repeats; prints a table and writes the same numbers as JSON.
// FLOPs and bytes come from the op table (src/ops/table.ts: flops, bytes, backwardFlops,
// backwardBytes) for its ops; GEMM is 2*M*N*K (XNNPACK's OPS); the optimizers take theirs from
// their registry (src/optim/registry.ts), the element-wise helpers from the table's
// ELEMENTWISE, and sum_k from PER_ELEMENT below. Every row's kernel, shapes and reference come
// from those registries too, except GEMM's (not an op: conv2d and linear run it).
import '../src/cli/relaxed_simd.js';
import { cpus } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { loadCoreSync, type Core, type Flavor } from '../src/core/load.js';
import type { Buf } from '../src/core/heap.js';
import { sizeOf, type Shape } from '../src/tensor.js';
import type { Geom2d } from '../src/ops/shapes.js';
import type { ConcatDims } from '../src/core/kernels/concat.js';
import {
  opDef,
  POINTWISE_LIST,
  LOSS_LIST,
  ELEMENTWISE,
  ELEMENTWISE_LIST,
  type OpName,
  type PointwiseOpName,
  type PointwiseKernels,
  type LossOpName,
  type LossKernels,
  POOL_LIST,
  type PoolOpName,
  type PoolKernels,
  type ConcatKernels,
  type GlobalPoolKernels,
  type Conv2dKernels,
  type BatchnormKernels,
  type XentKernels,
  type DropoutKernels,
  OPS,
} from '../src/ops/table.js';
import { OPTIM_LIST, type OptimKernel } from '../src/optim/registry.js';
import { gemm, type GemmDims } from '../src/core/kernels/gemm.js';
import type { Conv2dGeom } from '../src/core/kernels/conv2d.js';
import { linearPackedWeightFloats } from '../src/core/kernels/linear.js';
import { pointwiseForward, pointwiseBackward } from '../src/core/kernels/activation.js';
import { copy, sumK } from '../src/core/kernels/elementwise.js';
import { sumKRef } from '../src/ref/elementwise.js';
import { helpText, parseFlags, runCli } from '../src/cli/common.js';
import { peakSample, peakGflops } from './peak.js';

const FLAGS = {
  quick: { type: 'boolean', default: false, help: 'fewer and shorter repeats (a smoke run; numbers are noisier)' },
  flavors: { type: 'string', arg: 'LIST', default: 'simd,relaxed', help: 'kernel builds, comma separated' },
  filter: { type: 'string', arg: 'TEXT', help: 'only kernels whose name or shape contains TEXT' },
  json: { type: 'string', arg: 'FILE', default: 'bench/results/kernels.json', help: 'where to write the results' },
} as const;

const HELP = helpText(
  'npm run bench:kernels -- [options]',
  'GFLOP/s of every kernel family per kernel build: compute-bound kernels (GEMM, linear, conv2d) as a fraction of the ' +
    'measured multiply-add peak; memory-bound kernels (pooling, activations, softmax-xent, optimizers, element-wise) ' +
    'also in GB/s, as a fraction of the measured copy bandwidth over 64 MiB.',
  FLAGS,
);

/** What limits a kernel, and so which reference its %peak is measured against. */
type Bound = 'compute' | 'memory';

/** One benchmark: what it is, its FLOPs and bytes per call, and how to set it up on a core. */
interface Spec {
  kernel: string;
  shape: string;
  flops: number;
  /** minimum bytes read and written per call (null where not counted: GEMM) */
  bytes: number | null;
  bound: Bound;
  /** allocates and fills buffers; returns the call to time, a verifier (run after exactly one call) and a cleanup */
  setup(core: Core): { run(): void; verify(): void; free(): void };
}

interface Result {
  kernel: string;
  shape: string;
  bound: Bound;
  flops: number;
  bytes: number | null;
  gflops: number;
  /** GFLOP/s of the slowest and the fastest repeat */
  min: number;
  max: number;
  /** memory-bound rows only: bytes per call / median time */
  gbps: number | null;
  /** (max - min) / median of the repeats' rates */
  spread: number;
  /** median of the reference samples interleaved with this kernel's repeats, in peakUnit */
  peak: number;
  peakUnit: 'GFLOP/s' | 'GB/s';
  /** gflops / peak (compute-bound) or gbps / peak (memory-bound) */
  fraction: number;
  /** median milliseconds per call */
  msPerCall: number;
  firstMs: number;
  repeats: number;
  callsPerRepeat: number;
}

// ---------------------------------------------------------------------------------------------
// FLOPs and bytes

interface Counts {
  flops: number;
  bytes: number;
}

/**
 * Per-element FLOPs and bytes of the one kernel that is neither an op of the table, nor in its
 * ELEMENTWISE registry, nor an optimizer (those take theirs from src/ops/table.ts and
 * src/optim/registry.ts): sum_k, whose k input rows make it k-to-1 rather than n-to-n.
 */
const PER_ELEMENT = {
  /** y = x0 + ... + x(k-1): k-1 adds; reads k rows, writes y */
  sum_k: (k: number): Counts => ({ flops: k - 1, bytes: 4 * (k + 1) }),
} as const;

/** FLOPs and bytes of one forward (needs undefined) or backward (needs: which input gradients) call, from the op table. */
function tableCounts(op: OpName, shapes: Shape[], attrs: unknown, needs?: boolean[]): Counts {
  const d = opDef(op);
  const flops = needs ? (d.backwardFlops?.(shapes, attrs, needs) ?? d.flops(shapes, attrs)) : d.flops(shapes, attrs);
  const bytes = needs ? (d.backwardBytes?.(shapes, attrs, needs) ?? d.bytes?.(shapes, attrs)) : d.bytes?.(shapes, attrs);
  if (bytes === undefined) throw new Error(`bench: op table entry ${op} has no bytes()`);
  return { flops, bytes };
}

function perElement(c: Counts, n: number): Counts {
  return { flops: c.flops * n, bytes: c.bytes * n };
}

// ---------------------------------------------------------------------------------------------
// data and checks

function rand(n: number, seed: number, scale = 1): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5) * scale;
  }
  return out;
}

/** Throws unless |got - want| <= rtol * max(|want|, scale) everywhere. */
function close(what: string, got: ArrayLike<number>, want: ArrayLike<number>, scale: number, rtol = 1e-4): void {
  if (got.length !== want.length) throw new Error(`${what}: verification failed: ${got.length} values, expected ${want.length}`);
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]) / Math.max(Math.abs(want[i]), scale);
    if (!(err <= rtol)) {
      throw new Error(`${what}: verification failed at ${i}: got ${got[i]}, expected ${want[i]} (relative error ${err.toExponential(2)})`);
    }
  }
}

/** close() with the floor at 1% of the largest |want| (sums that cancel to near zero). */
function closeRel(what: string, got: ArrayLike<number>, want: ArrayLike<number>): void {
  close(what, got, want, 1e-2 * maxAbs(want));
}

function maxAbs(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s = Math.max(s, Math.abs(x[i]));
  return s;
}

function freeAll(...bufs: Buf[]): void {
  for (const b of bufs) b.free();
}

// ---------------------------------------------------------------------------------------------
// compute-bound kernels

function gemmSpec(kernel: 'gemm_nn' | 'gemm_nt' | 'gemm_tn', m: number, n: number, k: number, note = ''): Spec {
  const transA = kernel === 'gemm_tn';
  const transB = kernel === 'gemm_nt';
  const dims: GemmDims = { m, n, k, transA, transB };
  return {
    kernel,
    shape: `M=${m} N=${n} K=${k}${note ? ` (${note})` : ''}`,
    flops: 2 * m * n * k,
    bytes: null,
    bound: 'compute',
    setup(core) {
      const a = rand(m * k, 1), b = rand(k * n, 2);
      const A = core.heap.from(a), B = core.heap.from(b), C = core.heap.alloc(m * n);
      return {
        run: () => gemm(core, C, A, B, dims),
        verify() {
          // 256 sampled elements against f64 dot products (a full reference of the big shapes
          // would take seconds of JS)
          const c = C.view();
          const got: number[] = [], want: number[] = [];
          let scale = 0;
          for (let s = 0; s < 256; s++) {
            const i = (s * 7919) % m, j = (s * 104729) % n;
            let sum = 0, sabs = 0;
            for (let p = 0; p < k; p++) {
              const av = transA ? a[p * m + i] : a[i * k + p];
              const bv = transB ? b[j * k + p] : b[p * n + j];
              sum += av * bv;
              sabs += Math.abs(av * bv);
            }
            got.push(c[i * n + j]);
            want.push(sum);
            scale = Math.max(scale, sabs);
          }
          close(`${kernel} ${m}x${n}x${k}`, got, want, scale * 1e-2);
        },
        free: () => freeAll(A, B, C),
      };
    },
  };
}

function linearSpecs(m: number, inF: number, outF: number, note: string): Spec[] {
  const k = OPS.linear.linear;
  const d = { m, inF, outF };
  const shape = `x=[${m},${inF}] w=[${outF},${inF}] (${note})`;
  const shapes: Shape[] = [[m, inF], [outF, inF], [outF]];
  const data = () => ({ x: rand(m * inF, 3), w: rand(outF * inF, 4), b: rand(outF, 5), dy: rand(m * outF, 6) });
  return [
    {
      kernel: k.exports.forward,
      shape,
      ...tableCounts('linear', shapes, {}),
      bound: 'compute',
      setup(core) {
        const { x, w, b } = data();
        const X = core.heap.from(x), W = core.heap.from(w), B = core.heap.from(b), Y = core.heap.alloc(m * outF);
        return {
          run: () => k.run.forward(core, Y, X, W, B, d),
          verify: () => closeRel(k.exports.forward, Y.view(), k.ref.forward(x, w, b, d)),
          free: () => freeAll(X, W, B, Y),
        };
      },
    },
    {
      kernel: k.exports.backwardData,
      shape,
      ...tableCounts('linear', shapes, {}, [true, false, false]),
      bound: 'compute',
      setup(core) {
        const { w, dy } = data();
        const W = core.heap.from(w), DY = core.heap.from(dy), DX = core.heap.alloc(m * inF);
        return {
          run: () => k.run.backwardData(core, DX, DY, W, d),
          verify: () => closeRel(k.exports.backwardData, DX.view(), k.ref.backwardData(dy, w, d)),
          free: () => freeAll(W, DY, DX),
        };
      },
    },
    {
      kernel: k.exports.backwardWeight,
      shape,
      ...tableCounts('linear', shapes, {}, [false, true, false]),
      bound: 'compute',
      setup(core) {
        const { x, dy } = data();
        const X = core.heap.from(x), DY = core.heap.from(dy), DW = core.heap.alloc(outF * inF);
        return {
          run: () => k.run.backwardWeight(core, DW, DY, X, d),
          verify: () => closeRel(k.exports.backwardWeight, DW.view(), k.ref.backwardWeight(dy, x, d)),
          free: () => freeAll(X, DY, DW),
        };
      },
    },
    // the packed-weight path the engines take while weights are fixed: the weight packed once, outside the timing
    {
      kernel: k.exports.forwardPacked,
      shape,
      ...tableCounts('linear', shapes, {}),
      bound: 'compute',
      setup(core) {
        const { x, w, b } = data();
        const X = core.heap.from(x), W = core.heap.from(w), B = core.heap.from(b), Y = core.heap.alloc(m * outF);
        const WP = core.heap.alloc(linearPackedWeightFloats(core, d, 'forward'));
        k.run.packWeight(core, WP, W, d, 'forward');
        return {
          run: () => k.run.forwardPacked(core, Y, X, WP, B, d),
          verify: () => closeRel(k.exports.forwardPacked, Y.view(), k.ref.forward(x, w, b, d)),
          free: () => freeAll(X, W, B, Y, WP),
        };
      },
    },
    {
      kernel: k.exports.backwardDataPacked,
      shape,
      ...tableCounts('linear', shapes, {}, [true, false, false]),
      bound: 'compute',
      setup(core) {
        const { w, dy } = data();
        const W = core.heap.from(w), DY = core.heap.from(dy), DX = core.heap.alloc(m * inF);
        const WP = core.heap.alloc(linearPackedWeightFloats(core, d, 'backwardData'));
        k.run.packWeight(core, WP, W, d, 'backwardData');
        return {
          run: () => k.run.backwardDataPacked(core, DX, DY, WP, d),
          verify: () => closeRel(k.exports.backwardDataPacked, DX.view(), k.ref.backwardData(dy, w, d)),
          free: () => freeAll(W, DY, DX, WP),
        };
      },
    },
  ];
}

/** conv2d (the table's `conv` entry) over one geometry: forward, backward data and backward filter. */
function convSpecs(k: Conv2dKernels, g: Conv2dGeom, note: string): Spec[] {
  const oh = Math.floor((g.h + 2 * g.ph - g.kh) / g.sh) + 1;
  const ow = Math.floor((g.w + 2 * g.pw - g.kw) / g.sw) + 1;
  const shape = `x=[${g.n},${g.c},${g.h},${g.w}] w=[${g.oc},${g.c},${g.kh},${g.kw}] p=${g.ph} (${note})`;
  const shapes: Shape[] = [[g.n, g.c, g.h, g.w], [g.oc, g.c, g.kh, g.kw], [g.oc]];
  const attrs = { stride: [g.sh, g.sw], pad: [g.ph, g.pw] };
  const xs = g.n * g.c * g.h * g.w, ws = g.oc * g.c * g.kh * g.kw, ys = g.n * g.oc * oh * ow;
  return [
    {
      kernel: k.exports.forward,
      shape,
      ...tableCounts('conv2d', shapes, attrs),
      bound: 'compute',
      setup(core) {
        const x = rand(xs, 7), w = rand(ws, 8), b = rand(g.oc, 9);
        const X = core.heap.from(x), W = core.heap.from(w), B = core.heap.from(b), Y = core.heap.alloc(ys);
        return {
          run: () => k.run.forward(core, Y, X, W, B, g),
          verify: () => closeRel(k.exports.forward, Y.view(), k.ref.forward(x, w, b, g)),
          free: () => freeAll(X, W, B, Y),
        };
      },
    },
    {
      kernel: k.exports.backwardData,
      shape,
      ...tableCounts('conv2d', shapes, attrs, [true, false, false]),
      bound: 'compute',
      setup(core) {
        const dy = rand(ys, 10), w = rand(ws, 11);
        const DY = core.heap.from(dy), W = core.heap.from(w), DX = core.heap.alloc(xs);
        return {
          run: () => k.run.backwardData(core, DX, DY, W, g),
          verify: () => closeRel(k.exports.backwardData, DX.view(), k.ref.backwardData(dy, w, g)),
          free: () => freeAll(DY, W, DX),
        };
      },
    },
    {
      kernel: k.exports.backwardFilter,
      shape,
      ...tableCounts('conv2d', shapes, attrs, [false, true, false]),
      bound: 'compute',
      setup(core) {
        const dy = rand(ys, 12), x = rand(xs, 13);
        const DY = core.heap.from(dy), X = core.heap.from(x), DW = core.heap.alloc(ws);
        return {
          run: () => k.run.backwardFilter(core, DW, DY, X, g),
          verify: () => closeRel(k.exports.backwardFilter, DW.view(), k.ref.backwardFilter(dy, x, g)),
          free: () => freeAll(DY, X, DW),
        };
      },
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// memory-bound kernels: ops of the table (pooling, activations, softmax-xent)

/** A pooling of the table (maxpool2d, avgpool2d) over [n, c, h, w] with the entry's bench attrs, forward and backward (backward accumulates into a non-zero dx). */
function poolSpecs(name: PoolOpName, k: PoolKernels, [n, c, h, w]: Shape, note: string): Spec[] {
  const { attrs } = k.bench;
  const [kh, kw] = attrs.kernel, [sh, sw] = attrs.stride, [ph, pw] = attrs.pad;
  const g: Geom2d = { n, c, h, w, kh, kw, sh, sw, ph, pw };
  const shapes: Shape[] = [[n, c, h, w]];
  const xs = n * c * h * w;
  const ys = sizeOf(opDef(name).outShape(shapes, attrs));
  const pad = ph || pw ? ` p=${ph},${pw}` : '';
  const shape = `x=[${n},${c},${h},${w}] ${kh}x${kw} s=${sh === sw ? sh : `${sh},${sw}`}${pad} (${note})`;
  return [
    {
      kernel: k.exports.forward,
      shape,
      ...tableCounts(name, shapes, attrs),
      bound: 'memory',
      setup(core) {
        const x = rand(xs, 20);
        const X = core.heap.from(x), Y = core.heap.alloc(ys), A = k.argmax ? core.heap.alloc(ys, 'i32') : undefined;
        return {
          run: () => k.run.forward(core, Y, A, X, g),
          verify() {
            const want = k.ref.forward(x, g);
            if (k.tolerance.forward === 'exact') close(`${k.exports.forward} y`, Y.view(), want.y, 1e-30, 0);
            else closeRel(`${k.exports.forward} y`, Y.view(), want.y);
            if (A) close(`${k.exports.forward} argmax`, A.viewI32(), want.argmax!, 1, 0);
          },
          free: () => freeAll(X, Y, ...(A ? [A] : [])),
        };
      },
    },
    {
      kernel: k.exports.backward,
      shape,
      ...tableCounts(name, shapes, attrs, [true]),
      bound: 'memory',
      setup(core) {
        const { argmax } = k.ref.forward(rand(xs, 21), g);
        const dy = rand(ys, 22), dx0 = rand(xs, 23);
        const DY = core.heap.from(dy), A = argmax ? core.heap.from(argmax, 'i32') : undefined, DX = core.heap.from(dx0);
        return {
          run: () => k.run.backward(core, DX, DY, A, g),
          verify: () => closeRel(k.exports.backward, DX.view(), k.ref.backward(dx0.slice(), dy, argmax, g)),
          free: () => freeAll(DY, DX, ...(A ? [A] : [])),
        };
      },
    },
  ];
}

/** Forward and backward of one pointwise op of the table over a tensor of `dims` (backward reads the forward output y). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function activationSpecs(name: OpName, k: PointwiseKernels<any>, dims: Shape, note: string): Spec[] {
  const params = k.params(k.bench.attrs);
  const a = {
    attrs: k.bench.attrs,
    fwd: (c: Core, y: Buf, x: Buf) => pointwiseForward(c, k.exports.forward, y, x, params),
    bwd: (c: Core, dx: Buf, dy: Buf, y: Buf) => pointwiseBackward(c, k.exports.backward, dx, dy, y, params),
    fwdRef: (x: Float32Array) => k.ref.forward(x, k.bench.attrs),
    bwdRef: (dx: Float32Array, dy: Float32Array, y: Float32Array) => k.ref.backward(dx, dy, y, k.bench.attrs),
  };
  const shapes: Shape[] = [dims];
  const n = sizeOf(dims);
  const shape = `x=[${dims.join(',')}] (${note})`;
  // x in [-4, 4): both saturated and linear parts of sigmoid and tanh
  const x = () => rand(n, 30, 8);
  return [
    {
      kernel: `${name}_forward`,
      shape,
      ...tableCounts(name, shapes, a.attrs),
      bound: 'memory',
      setup(core) {
        const xv = x();
        const X = core.heap.from(xv), Y = core.heap.alloc(n);
        return {
          run: () => a.fwd(core, Y, X),
          verify: () => close(`${name}_forward`, Y.view(), a.fwdRef(xv), 1e-30),
          free: () => freeAll(X, Y),
        };
      },
    },
    {
      kernel: `${name}_backward`,
      shape,
      ...tableCounts(name, shapes, a.attrs, [true]),
      bound: 'memory',
      setup(core) {
        const y = a.fwdRef(x()), dy = rand(n, 31), dx0 = rand(n, 32);
        const Y = core.heap.from(y), DY = core.heap.from(dy), DX = core.heap.from(dx0);
        return {
          run: () => a.bwd(core, DX, DY, Y),
          verify: () => closeRel(`${name}_backward`, DX.view(), a.bwdRef(dx0.slice(), dy, y)),
          free: () => freeAll(Y, DY, DX),
        };
      },
    },
  ];
}

/** Dropout (the table's `dropout` entry) over a tensor of `dims` with the entry's bench attrs: the seeded forward (mask drawn in the kernel) and the backward. */
function dropoutSpecs(k: DropoutKernels, dims: Shape, note: string): Spec[] {
  const { p, seed } = k.bench.attrs;
  const shapes: Shape[] = [dims];
  const n = sizeOf(dims);
  const shape = `x=[${dims.join(',')}] p=${p} (${note})`;
  const x = rand(n, 24);
  return [
    {
      kernel: k.exports.forward,
      shape,
      ...tableCounts('dropout', shapes, k.bench.attrs),
      bound: 'memory',
      setup(core) {
        const X = core.heap.from(x), Y = core.heap.alloc(n), M = core.heap.alloc(n);
        return {
          run: () => k.run.forward(core, Y, M, X, p, seed),
          verify() {
            const mask = k.ref.mask(n, p, seed);
            close(`${k.exports.forward} mask`, M.view(), mask, 1e-30, 0);
            close(`${k.exports.forward} y`, Y.view(), k.ref.forward(x, mask), 1e-30, 0);
          },
          free: () => freeAll(X, Y, M),
        };
      },
    },
    {
      kernel: k.exports.backward,
      shape,
      ...tableCounts('dropout', shapes, k.bench.attrs, [true]),
      bound: 'memory',
      setup(core) {
        const mask = k.ref.mask(n, p, seed), dy = rand(n, 25), dx0 = rand(n, 26);
        const M = core.heap.from(mask), DY = core.heap.from(dy), DX = core.heap.from(dx0);
        return {
          run: () => k.run.backward(core, DX, DY, M),
          verify: () => closeRel(k.exports.backward, DX.view(), k.ref.backward(dx0.slice(), dy, mask)),
          free: () => freeAll(M, DY, DX),
        };
      },
    },
  ];
}

/** Global average pooling [n, c, h, w] → [n, c], forward and backward. */
function globalPoolSpecs(k: GlobalPoolKernels, [n, c, h, w]: Shape, note: string): Spec[] {
  const d = { n, c, h, w };
  const shapes: Shape[] = [[n, c, h, w]];
  const xs = n * c * h * w;
  const shape = `x=[${n},${c},${h},${w}] (${note})`;
  return [
    {
      kernel: k.exports.forward,
      shape,
      ...tableCounts('global_avgpool', shapes, {}),
      bound: 'memory',
      setup(core) {
        const x = rand(xs, 27);
        const X = core.heap.from(x), Y = core.heap.alloc(n * c);
        return {
          run: () => k.run.forward(core, Y, X, d),
          verify: () => closeRel(k.exports.forward, Y.view(), k.ref.forward(x, n * c, h * w)),
          free: () => freeAll(X, Y),
        };
      },
    },
    {
      kernel: k.exports.backward,
      shape,
      ...tableCounts('global_avgpool', shapes, {}, [true]),
      bound: 'memory',
      setup(core) {
        const dy = rand(n * c, 28), dx0 = rand(xs, 29);
        const DY = core.heap.from(dy), DX = core.heap.from(dx0);
        return {
          run: () => k.run.backward(core, DX, DY, d),
          verify: () => closeRel(k.exports.backward, DX.view(), k.ref.backward(dx0.slice(), dy, n * c, h * w)),
          free: () => freeAll(DY, DX),
        };
      },
    },
  ];
}

/** Training batch norm (the table's `batchnorm` entry) over [n, c, h, w]: forward (statistics + normalise) and the x, weight, bias backward (reduce + data). */
function batchnormSpecs(k: BatchnormKernels, [n, c, h, w]: readonly [number, number, number, number], note: string): Spec[] {
  const d = { n, c, s: h * w };
  const attrs = { training: true, eps: k.bench.eps };
  const shapes: Shape[] = [[n, c, h, w], [c], [c], [c], [c]];
  const xs = n * c * h * w;
  const shape = `x=[${n},${c},${h},${w}] training (${note})`;
  const x = rand(xs, 33), wt = rand(c, 34), b = rand(c, 35);
  return [
    {
      kernel: k.exports.forwardTrain,
      shape,
      ...tableCounts('batchnorm', shapes, attrs),
      bound: 'memory',
      setup(core) {
        const X = core.heap.from(x), W = core.heap.from(wt), B = core.heap.from(b), Y = core.heap.alloc(xs);
        const M = core.heap.alloc(c), S = core.heap.alloc(c), V = core.heap.alloc(c);
        return {
          run: () => k.run.forwardTrain(core, Y, M, S, V, X, W, B, d, attrs.eps),
          verify: () => closeRel(k.exports.forwardTrain, Y.view(), k.ref.forwardTrain(x, wt, b, d, attrs.eps).y),
          free: () => freeAll(X, W, B, Y, M, S, V),
        };
      },
    },
    {
      // one row for the reduce and the data gradient that a training backward runs together
      kernel: 'batchnorm_backward_train',
      shape,
      ...tableCounts('batchnorm', shapes, attrs, [true, true, true, false, false]),
      bound: 'memory',
      setup(core) {
        const dy = rand(xs, 36), dx0 = rand(xs, 37);
        const X = core.heap.from(x), W = core.heap.from(wt), B = core.heap.from(b), Y = core.heap.alloc(xs);
        const M = core.heap.alloc(c), S = core.heap.alloc(c), V = core.heap.alloc(c);
        k.run.forwardTrain(core, Y, M, S, V, X, W, B, d, attrs.eps);
        const DY = core.heap.from(dy), DX = core.heap.from(dx0), G = core.heap.alloc(c), GX = core.heap.alloc(c);
        return {
          run() {
            k.run.backwardReduce(core, G, GX, DY, X, M, S, d);
            k.run.backwardDataTrain(core, DX, DY, X, W, M, S, G, GX, d);
          },
          verify() {
            // verified after the first run, as the other backward rows
            const want = dx0.slice();
            k.ref.backwardTrain(want, null, null, dy, x, wt, d, attrs.eps);
            closeRel('batchnorm_backward_train dx', DX.view(), want);
          },
          free: () => freeAll(X, W, B, Y, M, S, V, DY, DX, G, GX),
        };
      },
    },
  ];
}

/** One kernel pair of softmax_xent (the table's `xent` variants) over logits [n, c] with i32 labels at label smoothing eps, forward and backward. */
function softmaxXentSpecs(k: XentKernels, n: number, c: number, eps: number, note: string): Spec[] {
  const d = { n, c };
  const shapes: Shape[] = [[n, c], [n]];
  const attrs = eps > 0 ? { labelSmoothing: eps } : {};
  const shape = `logits=[${n},${c}]${eps > 0 ? ` eps=${eps}` : ''} (${note})`;
  const l = rand(n * c, 40, 8);
  const labels = Int32Array.from({ length: n }, (_, i) => (i * 7 + 3) % c);
  return [
    {
      kernel: k.exports.forward,
      shape,
      ...tableCounts('softmax_xent', shapes, attrs),
      bound: 'memory',
      setup(core) {
        const L = core.heap.from(l), LAB = core.heap.from(labels, 'i32'), P = core.heap.alloc(n * c);
        let loss = NaN;
        return {
          run() {
            loss = k.run.forward(core, P, L, LAB, d, eps);
          },
          verify() {
            const want = k.ref.forward(l, labels, d, eps);
            close(`${k.exports.forward} probs`, P.view(), want.probs, 1e-30);
            close(`${k.exports.forward} loss`, [loss], [want.loss], 1e-30);
          },
          free: () => freeAll(L, LAB, P),
        };
      },
    },
    {
      kernel: k.exports.backward,
      shape,
      ...tableCounts('softmax_xent', shapes, attrs, [true, false]),
      bound: 'memory',
      setup(core) {
        const { probs } = k.ref.forward(l, labels, d, eps);
        const dl0 = rand(n * c, 41, 1 / n);
        const P = core.heap.from(probs), LAB = core.heap.from(labels, 'i32'), DL = core.heap.from(dl0);
        return {
          run: () => k.run.backward(core, DL, P, LAB, d, eps, 1),
          verify() {
            const want = Float64Array.from(dl0);
            k.ref.backward(want, probs, labels, d, eps, 1);
            closeRel(k.exports.backward, DL.view(), want);
          },
          free: () => freeAll(P, LAB, DL),
        };
      },
    },
  ];
}

/** Concatenation along dim 1 (the table's `concat` entry): forward, and the backward of both halves. */
function concatSpecs(k: ConcatKernels, d: ConcatDims, note: string): Spec[] {
  const shapes: Shape[] = [[d.n, d.ca, d.s], [d.n, d.cb, d.s]];
  const shape = `a=[${d.n},${d.ca},${d.s}] b=[${d.n},${d.cb},${d.s}] (${note})`;
  const na = d.n * d.ca * d.s, nb = d.n * d.cb * d.s;
  const a = rand(na, 50), b = rand(nb, 51), dy = rand(na + nb, 52), ga0 = rand(na, 53), gb0 = rand(nb, 54);
  return [
    {
      kernel: k.exports.forward,
      shape,
      ...tableCounts('concat', shapes, {}),
      bound: 'memory',
      setup(core) {
        const A = core.heap.from(a), B = core.heap.from(b), Y = core.heap.alloc(na + nb);
        return {
          run: () => k.run.forward(core, Y, A, B, d),
          verify: () => close(`${k.exports.forward} y`, Y.view(), k.ref.forward(a, b, d), 1e-30, 0),
          free: () => freeAll(A, B, Y),
        };
      },
    },
    {
      kernel: k.exports.backward,
      shape,
      ...tableCounts('concat', shapes, {}, [true, true]),
      bound: 'memory',
      setup(core) {
        const DY = core.heap.from(dy), GA = core.heap.from(ga0), GB = core.heap.from(gb0);
        return {
          run() {
            k.run.backward(core, GA, DY, 'a', d);
            k.run.backward(core, GB, DY, 'b', d);
          },
          verify() {
            closeRel(`${k.exports.backward} a`, GA.view(), k.ref.backward(ga0.slice(), dy, 'a', d));
            closeRel(`${k.exports.backward} b`, GB.view(), k.ref.backward(gb0.slice(), dy, 'b', d));
          },
          free: () => freeAll(DY, GA, GB),
        };
      },
    },
  ];
}

/** A mean loss of the table (mse, bce_logits) over all elements of `dims`, forward and backward. */
function lossSpecs(name: LossOpName, k: LossKernels, dims: Shape, note: string): Spec[] {
  const n = sizeOf(dims);
  const shapes: Shape[] = [dims, dims];
  const shape = `x=[${dims.join(',')}] (${note})`;
  const x = rand(n, 44, 8);
  const t = rand(n, 45, 1).map((v) => v + 0.5); // in [0, 1): a bce target, and fine for mse
  const g0 = rand(n, 46, 1 / n);
  return [
    {
      kernel: k.exports.forward,
      shape,
      ...tableCounts(name, shapes, {}),
      bound: 'memory',
      setup(core) {
        const X = core.heap.from(x), T = core.heap.from(t), S = k.saves ? core.heap.alloc(n) : undefined;
        let loss = NaN;
        return {
          run() {
            loss = k.run.forward(core, X, T, S);
          },
          verify() {
            const want = k.ref.forward(x, t);
            close(`${k.exports.forward} loss`, [loss], [want.loss], 1e-30);
            if (S) closeRel(`${k.exports.forward} saved`, S.view(), want.saved!);
          },
          free: () => freeAll(X, T, ...(S ? [S] : [])),
        };
      },
    },
    {
      kernel: k.exports.backward,
      shape,
      ...tableCounts(name, shapes, {}, [true, false]),
      bound: 'memory',
      setup(core) {
        const { saved } = k.ref.forward(x, t);
        const X = core.heap.from(x), T = core.heap.from(t), G = core.heap.from(g0);
        const S = saved ? core.heap.from(saved) : undefined;
        return {
          run: () => k.run.backward(core, G, X, T, S, 1),
          verify() {
            const want = Float64Array.from(g0);
            k.ref.backward(want, x, t, saved, 1);
            closeRel(k.exports.backward, G.view(), want);
          },
          free: () => freeAll(X, T, G, ...(S ? [S] : [])),
        };
      },
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// memory-bound kernels that are not table ops: optimizer steps and element-wise helpers

/**
 * One step (step 1) of an optimizer registry entry over n parameters from a zero state with
 * its bench hyper-parameters; verified after the first step against the f64 reference (w and
 * every state buffer).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function optimSpec(k: OptimKernel<any>, n: number, note: string): Spec {
  const { hyper, label, perElement: counts } = k.bench;
  const states = k.states(hyper).length;
  return {
    kernel: k.export,
    shape: `n=${n} ${label} (${note})`,
    ...perElement(counts, n),
    bound: 'memory',
    setup(core) {
      const w = rand(n, 50), g = rand(n, 51);
      const W = core.heap.from(w), G = core.heap.from(g);
      const S = Array.from({ length: states }, () => core.heap.alloc(n));
      return {
        run: () => k.run(core, W, G, S, hyper, 1),
        verify() {
          const w64 = Float64Array.from(w);
          const s64 = S.map(() => new Float64Array(n));
          k.ref(w64, g, s64, hyper, 1);
          closeRel(`${k.export} w`, W.view(), w64);
          S.forEach((b, i) => closeRel(`${k.export} state ${i}`, b.view(), s64[i]));
        },
        free: () => freeAll(W, G, ...S),
      };
    },
  };
}

function elementwiseSpecs(n: number, note: string): Spec[] {
  const shape = `n=${n} (${note})`;
  const sumKSpec = (k: number): Spec => ({
    kernel: 'sum_k',
    shape: `k=${k} n=${n} (${note}: ${k} chunk gradients)`,
    ...perElement(PER_ELEMENT.sum_k(k), n),
    bound: 'memory',
    setup(core) {
      const x = rand(k * n, 60);
      const X = core.heap.from(x), Y = core.heap.alloc(n);
      return {
        run: () => sumK(core, Y, X, k, n),
        verify: () => closeRel(`sum_k k=${k}`, Y.view(), sumKRef(x, k, n)),
        free: () => freeAll(X, Y),
      };
    },
  });
  const rows = ELEMENTWISE_LIST.filter(([, k]) => k.bench).map(([name, k]): Spec => ({
    kernel: name,
    shape,
    ...perElement(k.perElement, n),
    bound: 'memory',
    setup(core) {
      const y0 = rand(n, 63);
      const ins = Array.from({ length: k.inputs }, (_, i) => rand(n, 64 + i));
      const Y = core.heap.from(y0), INS = ins.map((x) => core.heap.from(x));
      return {
        run: () => k.run(core, Y, INS),
        verify() {
          const want = k.ref(y0, ins);
          if (k.tolerance === 'exact') close(name, Y.view(), want, 1e-30, 0);
          else closeRel(name, Y.view(), want);
        },
        free: () => freeAll(Y, ...INS),
      };
    },
  }));
  return [
    ...rows,
    sumKSpec(2),
    sumKSpec(8),
  ];
}

/** The LeNet's parameter count: conv1 20*1*5*5+20, conv2 50*20*5*5+50, fc1 500*1250+500, fc2 10*500+10. */
const LENET_PARAMS = 520 + 25050 + 625500 + 5010;

/**
 * Each op of the table's benchmark rows, or in words why it has none of its own. `satisfies`
 * makes the map exhaustive: a new op does not compile until it says which. Pointwise ops, the
 * 2-d poolings and the mean losses are not here: their rows come from their entries
 * (`pointwise.bench`, `pool.bench`, `loss.bench`).
 */
const OP_ROWS = {
  linear: () => OPS.linear.linear.bench.dims.flatMap(({ dims: d, note }) => linearSpecs(d.m, d.inF, d.outF, note)),
  conv2d: () => OPS.conv2d.conv.bench.geoms.flatMap(({ geom, note }) => convSpecs(OPS.conv2d.conv, geom, note)),
  // memory-bound from here on
  global_avgpool: () => OPS.global_avgpool.globalPool.bench.shapes.flatMap(({ dims, note }) => globalPoolSpecs(OPS.global_avgpool.globalPool, dims, note)),
  batchnorm: () => OPS.batchnorm.batchnorm.bench.shapes.flatMap(({ dims, note }) => batchnormSpecs(OPS.batchnorm.batchnorm, dims, note)),
  softmax_xent: () => {
    const k = OPS.softmax_xent.xent;
    return k.bench.rows.flatMap(({ variant, n, c, eps, note }) => softmaxXentSpecs(k.variants[variant], n, c, eps, note));
  },
  add: "its forward is the elementwise add row, its backward two axpy rows' worth (ELEMENTWISE)",
  dropout: () => OPS.dropout.dropout.bench.shapes.flatMap(({ dims, note }) => dropoutSpecs(OPS.dropout.dropout, dims, note)),
  concat: () => OPS.concat.concat.bench.dims.flatMap(({ dims, note }) => concatSpecs(OPS.concat.concat, dims, note)),
  reshape: 'no kernel: the output is a view of the input',
} satisfies Record<Exclude<OpName, PointwiseOpName | LossOpName | PoolOpName>, (() => Spec[]) | string>;

function specs(): Spec[] {
  return [
    ...[128, 256, 512, 1024].map((s) => gemmSpec('gemm_nn', s, s, s, 'square')),
    // LeNet at batch 64, as GEMMs over the whole batch
    gemmSpec('gemm_nn', 50, 6400, 500, 'conv2 forward'),
    gemmSpec('gemm_nt', 50, 500, 6400, 'conv2 backward-filter'),
    gemmSpec('gemm_tn', 500, 6400, 50, 'conv2 backward-data'),
    gemmSpec('gemm_nn', 64, 500, 1250, 'dense1 x.W'),
    gemmSpec('gemm_nt', 64, 500, 1250, 'dense1 forward, W [out,in]'),
    gemmSpec('gemm_nn', 64, 1250, 500, 'dense1 backward-data'),
    gemmSpec('gemm_tn', 500, 1250, 64, 'dense1 backward-weight'),
    gemmSpec('gemm_tn', 1250, 500, 64, 'dense1 backward-weight, transposed'),
    // the table's ops (compute-bound first, then memory-bound), then its pointwise ops
    ...Object.values(OP_ROWS).flatMap((rows) => (typeof rows === 'string' ? [] : rows())),
    ...POINTWISE_LIST.flatMap(([name, { pointwise: k }]) => k.bench.shapes.flatMap(({ dims, note }) => activationSpecs(name, k, dims, note))),
    ...POOL_LIST.flatMap(([name, { pool: k }]) => k.bench.shapes.flatMap(({ dims, note }) => poolSpecs(name, k, dims, note))),
    ...LOSS_LIST.flatMap(([name, { loss: k }]) => k.bench.shapes.flatMap(({ dims, note }) => lossSpecs(name, k, dims, note))),
    // not table ops
    ...OPTIM_LIST.map(([, k]) => optimSpec(k, LENET_PARAMS, 'LeNet params')),
    ...elementwiseSpecs(LENET_PARAMS, 'LeNet params'),
  ];
}

// ---------------------------------------------------------------------------------------------
// the memory bandwidth reference

/** Floats per buffer of the bandwidth reference: 64 MiB, far beyond L2 and the L3 of most CPUs. */
const BW_FLOATS = 16 << 20;

/**
 * The copy kernel over two 64 MiB buffers: bytes it reads and writes per second (counted as
 * ELEMENTWISE.copy.perElement, like the rows: the write-allocate read a CPU may add is not counted).
 * Memory-bound rows are compared with it as compute-bound rows are with peak_madd.
 */
class Bandwidth {
  private readonly x: Buf;
  private readonly y: Buf;

  constructor(private readonly core: Core) {
    this.x = core.heap.from(rand(BW_FLOATS, 70));
    this.y = core.heap.alloc(BW_FLOATS);
    copy(core, this.y, this.x); // tier up and touch every page
    copy(core, this.y, this.x);
  }

  /** One sample of at least `ms` milliseconds (and at least one copy): GB/s. */
  sample(ms: number): number {
    let calls = 0;
    const t = now();
    let dt = 0;
    do {
      copy(this.core, this.y, this.x);
      calls++;
      dt = now() - t;
    } while (dt < ms);
    return (calls * ELEMENTWISE.copy.perElement.bytes * BW_FLOATS) / dt / 1e6;
  }

  free(): void {
    this.x.free();
    this.y.free();
  }
}

// ---------------------------------------------------------------------------------------------
// timing

const now = () => performance.now();

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/** A sample of the reference a kernel's %peak is measured against, in GFLOP/s or GB/s. */
type RefSample = (ms: number) => number;

function bench(core: Core, spec: Spec, quick: boolean, reference: RefSample): Result {
  const target = quick ? 15 : 60; // ms per repeat
  const repeats = quick ? 3 : 9;
  const s = spec.setup(core);
  try {
    let t = now();
    s.run();
    const firstMs = now() - t;
    s.verify();
    // warm-up: enough calls for tier-up, at least ~3 repeats' worth of time
    const warmEnd = now() + 3 * target;
    let calls = 1;
    for (let i = 0; i < 5 || now() < warmEnd; i++) {
      t = now();
      s.run();
      calls = Math.max(1, Math.ceil(target / Math.max(now() - t, 1e-3)));
    }
    const perMs: number[] = []; // calls per millisecond, one per repeat
    const refs: number[] = [];
    for (let r = 0; r < repeats; r++) {
      refs.push(reference(target / 2));
      t = now();
      for (let i = 0; i < calls; i++) s.run();
      perMs.push(calls / (now() - t));
    }
    const rate = median(perMs);
    const peak = median(refs);
    const gflops = (spec.flops * rate) / 1e6;
    const gbps = spec.bound === 'memory' && spec.bytes !== null ? (spec.bytes * rate) / 1e6 : null;
    return {
      kernel: spec.kernel,
      shape: spec.shape,
      bound: spec.bound,
      flops: spec.flops,
      bytes: spec.bytes,
      gflops,
      min: (spec.flops * Math.min(...perMs)) / 1e6,
      max: (spec.flops * Math.max(...perMs)) / 1e6,
      gbps,
      spread: (Math.max(...perMs) - Math.min(...perMs)) / rate,
      peak,
      peakUnit: spec.bound === 'memory' ? 'GB/s' : 'GFLOP/s',
      fraction: (gbps ?? gflops) / peak,
      msPerCall: 1 / rate,
      firstMs,
      repeats,
      callsPerRepeat: calls,
    };
  } finally {
    s.free();
    core.releaseScratch();
  }
}

// ---------------------------------------------------------------------------------------------

const W = { kernel: 24, shape: 58, num: 8 };

function row(r: Result): string {
  const gflops = r.flops > 0 ? r.gflops.toFixed(r.gflops < 10 ? 2 : 1) : '-';
  const gbps = r.gbps === null ? '' : r.gbps.toFixed(1);
  return (
    `${r.kernel.padEnd(W.kernel)} ${r.shape.padEnd(W.shape)} ${gflops.padStart(W.num)} ${gbps.padStart(W.num)} ` +
    `${`±${(r.spread * 50).toFixed(0)}%`.padStart(7)} ${r.peak.toFixed(1).padStart(6)} ${`${(r.fraction * 100).toFixed(0)}%`.padStart(6)} ` +
    `${r.firstMs.toFixed(r.firstMs < 1 ? 2 : 1).padStart(9)}`
  );
}

interface PeakSummary {
  median: number;
  min: number;
  max: number;
}

function summary(xs: number[]): PeakSummary {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
}

async function main(argv: string[]) {
  const f = parseFlags(argv, FLAGS);
  const quick = f.quick;
  const flavors = (f.flavors ?? 'simd,relaxed').split(',').map((s) => s.trim()) as Flavor[];
  const notes: string[] = [];
  const all = specs();
  const list = f.filter ? all.filter((s) => `${s.kernel} ${s.shape}`.includes(f.filter as string)) : all;
  const needBandwidth = list.some((s) => s.bound === 'memory');
  const out: Array<{
    flavor: Flavor;
    peak: PeakSummary & { chained: number };
    bandwidth: (PeakSummary & { bytes: number }) | null;
    results: Result[];
  }> = [];
  for (const flavor of flavors) {
    let core: Core;
    try {
      core = loadCoreSync({ flavor });
    } catch (e) {
      notes.push(`${flavor}: not run: ${(e as Error).message}`);
      process.stderr.write(`bench:kernels: ${flavor}: ${(e as Error).message}\n`);
      continue;
    }
    const peakIters = { n: 10_000 };
    for (let i = 0; i < 10; i++) core.exports.peak_madd(1000, 1); // tier up
    const p0 = Array.from({ length: quick ? 3 : 7 }, () => peakSample(core, 30, peakIters));
    const chained = peakGflops(core, 3, 30, true);
    const peak = { ...summary(p0), chained };
    process.stdout.write(
      `\n${flavor} build: madd peak ${peak.median.toFixed(1)} GFLOP/s (min ${peak.min.toFixed(1)}, max ${peak.max.toFixed(1)}; ` +
        `GEMM-tile probe, ${core.exports.peak_madds_per_iter()} madds/iteration; the latency-bound chained probe gives ${chained.toFixed(1)})\n`,
    );
    const bw = needBandwidth ? new Bandwidth(core) : null;
    let bandwidth: (PeakSummary & { bytes: number }) | null = null;
    if (bw) {
      bandwidth = { ...summary(Array.from({ length: quick ? 3 : 7 }, () => bw.sample(30))), bytes: BW_FLOATS * 4 };
      process.stdout.write(
        `${flavor} build: memory bandwidth reference ${bandwidth.median.toFixed(1)} GB/s (min ${bandwidth.min.toFixed(1)}, ` +
          `max ${bandwidth.max.toFixed(1)}; the copy kernel over ${BW_FLOATS * 4 / 2 ** 20} MiB, counting ${ELEMENTWISE.copy.perElement.bytes} bytes read+written per float)\n`,
      );
    }
    process.stdout.write(
      '%peak: GFLOP/s / madd peak for compute-bound rows (GB/s blank); GB/s / copy bandwidth reference for memory-bound rows ' +
        '(GB/s given). peak: the matching reference (GFLOP/s or GB/s), sampled between the repeats.\n',
    );
    const head =
      `${'kernel'.padEnd(W.kernel)} ${'shape'.padEnd(W.shape)} ${'GFLOP/s'.padStart(W.num)} ${'GB/s'.padStart(W.num)} ` +
      `${'spread'.padStart(7)} ${'peak'.padStart(6)} ${'%peak'.padStart(6)} ${'first ms'.padStart(9)}`;
    process.stdout.write(`${head}\n${'-'.repeat(head.length)}\n`);
    const results: Result[] = [];
    try {
      const madd: RefSample = (ms) => peakSample(core, ms, peakIters);
      const copyRef: RefSample = (ms) => bw!.sample(ms);
      for (const spec of list) {
        const r = bench(core, spec, quick, spec.bound === 'memory' ? copyRef : madd);
        results.push(r);
        process.stdout.write(`${row(r)}\n`);
      }
    } finally {
      bw?.free();
    }
    out.push({ flavor, peak, bandwidth, results });
  }
  for (const n of notes) process.stdout.write(`note: ${n}\n`);
  const file = resolve(f.json ?? 'bench/results/kernels.json');
  mkdirSync(dirname(file), { recursive: true });
  const doc = {
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    quick,
    notes,
    columns:
      'gflops = flops / median time per call (min, max: slowest and fastest repeat); gbps = bytes / median time per call ' +
      '(memory-bound rows; null for compute-bound ones); spread = (max-min)/median of the repeats; peak = median of the ' +
      'reference samples interleaved with the repeats, in peakUnit (madd peak GFLOP/s for compute-bound rows, copy ' +
      'bandwidth GB/s for memory-bound rows); fraction = gflops / peak or gbps / peak',
    flavors: out,
  };
  writeFileSync(file, JSON.stringify(doc, null, 2) + '\n');
  process.stdout.write(`wrote ${file}\n`);
}

await runCli('bench:kernels', HELP, process.argv.slice(2), main);
