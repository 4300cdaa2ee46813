// The conv2d family (assembly/conv2d.ts) against the naive f64 references (src/ref/conv2d.ts),
// on every flavour and on both the SIMD (im2col + GEMM) path and the `_scalar` twins. The
// exports, wrappers, references, tolerance and geometries are the op table's (`conv2d.conv`,
// src/ops/table.ts, which says why the tolerance is what it is: 1e-4 relative, to
// max(|expected|, 1% of max|expected|)). The bad-input cases below are the family's own.
import { describe, it, expect } from 'vitest';
import { core, FLAVORS, expectClose, expectExportsWithTwins } from '../helpers/index.js';
import type { Core } from '../../src/core/load.js';
import type { Buf } from '../../src/core/heap.js';
import {
  conv2dForward,
  conv2dBackwardData,
  conv2dBackwardFilter,
  conv2dBackwardBias,
  conv2dOutShape,
  type Conv2dGeom,
  type Conv2dExports,
} from '../../src/core/kernels/conv2d.js';
import { OPS } from '../../src/ops/table.js';
import { convInputs, convLabel, geom } from '../helpers/conv2d.js';

/** The op table's conv2d entry: exports, wrappers, references, tolerance and geometries. */
const k = OPS.conv2d.conv;
const RTOL = k.tolerance.rtol;

function close(actual: Float32Array, expected: Float32Array, what: string): void {
  let max = 0;
  for (const e of expected) max = Math.max(max, Math.abs(e));
  expectClose(actual, expected, RTOL, what, Math.max(max * k.tolerance.floor, 1e-30));
}


const CASES: Conv2dGeom[] = k.test.geoms.map((t) => t.geom);

describe('conv2d: the op table entry names exports (and _scalar twins) that every build has', () => {
  for (const flavor of FLAVORS) {
    it(flavor, () => {
      const f = core(flavor).fns<Record<string, unknown>>();
      const { scratch, ...kernels } = k.exports;
      expect(typeof f[scratch], scratch).toBe('function');
      expectExportsWithTwins(core(flavor), Object.values(kernels));
    });
  }
});

/** Random inputs per case (the same on every flavour and path), and references computed once. */
interface Data {
  x: Float32Array;
  w: Float32Array;
  b: Float32Array;
  dy: Float32Array;
  dx0: Float32Array;
  dw0: Float32Array;
  db0: Float32Array;
  y: Float32Array;
  yNoBias: Float32Array;
  dx: Float32Array;
  dw: Float32Array;
  db: Float32Array;
}

const cache = new Map<string, Data>();
function data(g: Conv2dGeom, seed: number): Data {
  const key = convLabel(g);
  let d = cache.get(key);
  if (d) return d;
  const { x, w, b, dy, dx0, dw0, db0 } = convInputs(g, seed);
  d = {
    x, w, b, dy, dx0, dw0, db0,
    y: k.ref.forward(x, w, b, g),
    yNoBias: k.ref.forward(x, w, null, g),
    dx: k.ref.backwardData(dy, w, g, Float32Array.from(dx0)),
    dw: k.ref.backwardFilter(dy, x, g, Float32Array.from(dw0)),
    db: k.ref.backwardBias(dy, g, Float32Array.from(db0)),
  };
  cache.set(key, d);
  return d;
}

/**
 * Runs `body` with fresh buffers, frees them, and checks the heap is back where it started.
 * With `g`, the core's scratch block is sized by conv2d_scratch_floats first and a guard block
 * placed right after it, so a kernel that writes past the scratch it asked for fails here.
 */
function withBufs(c: Core, arrays: Float32Array[], body: (bufs: Buf[]) => void, g?: Conv2dGeom): void {
  c.releaseScratch();
  const before = c.heap.liveBytes;
  const bufs = arrays.map((a) => c.heap.from(a));
  let guard: Buf | null = null;
  if (g) {
    const floats = c.fns<Record<string, Conv2dExports['conv2d_scratch_floats']>>()[k.exports.scratch](g.n, g.c, g.h, g.w, g.oc, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw);
    const s = c.scratch(floats);
    guard = c.heap.alloc(64).set(new Float32Array(64).fill(-3.5));
    expect(guard.ptr).toBe(s.ptr + Math.ceil(s.bytes / 64) * 64);
  }
  try {
    body(bufs);
    if (guard) expect(guard.toArray().every((v) => v === -3.5), 'the kernel wrote past its scratch').toBe(true);
  } finally {
    for (const b of bufs) b.free();
    if (guard) guard.free();
    c.releaseScratch();
  }
  expect(c.heap.liveBytes).toBe(before);
}

for (const flavor of FLAVORS) {
  for (const scalar of [false, true]) {
    const path = scalar ? 'scalar' : 'simd';
    describe(`conv2d ${flavor} ${path}`, () => {
      const opts = { scalar };
      CASES.forEach((g, ci) => {
        const name = convLabel(g);
        const seed = 1000 + 17 * ci;
        const guarded = scalar ? undefined : g;

        it(`forward ${name} (rtol ${RTOL})`, () => {
          const c = core(flavor);
          const d = data(g, seed);
          withBufs(c, [d.x, d.w, d.b, new Float32Array(d.y.length).fill(7)], ([x, w, b, y]) => {
            k.run.forward(c, y, x, w, b, g, opts);
            close(y.view(), d.y, `forward ${name}`);
            k.run.forward(c, y, x, w, null, g, opts); // overwrites, no bias
            close(y.view(), d.yNoBias, `forward no bias ${name}`);
          }, guarded);
        });

        it(`backward data ${name} accumulates (rtol ${RTOL})`, () => {
          const c = core(flavor);
          const d = data(g, seed);
          withBufs(c, [d.dy, d.w, d.dx0], ([dy, w, dx]) => {
            k.run.backwardData(c, dx, dy, w, g, opts);
            close(dx.view(), d.dx, `backward data ${name}`);
          }, guarded);
        });

        it(`backward filter ${name} accumulates (rtol ${RTOL})`, () => {
          const c = core(flavor);
          const d = data(g, seed);
          withBufs(c, [d.dy, d.x, d.dw0], ([dy, x, dw]) => {
            k.run.backwardFilter(c, dw, dy, x, g, opts);
            close(dw.view(), d.dw, `backward filter ${name}`);
          }, guarded);
        });

        it(`bias pair ${name} (rtol ${RTOL})`, () => {
          const c = core(flavor);
          const d = data(g, seed);
          withBufs(c, [d.dy, d.db0, d.yNoBias, d.b], ([dy, db, y, b]) => {
            k.run.backwardBias(c, db, dy, g, opts);
            close(db.view(), d.db, `backward bias ${name}`);
            k.run.biasForward(c, y, b, g, opts);
            close(y.view(), d.y, `bias forward ${name}`);
          });
        });
      });
    });
  }
}

describe('conv2d bad input', () => {
  const c = core('simd');
  const g = geom([2, 3, 7, 7], [5, 3, 3, 3], [1, 1], [1, 1]);
  const sizes = { x: 2 * 3 * 49, w: 5 * 3 * 9, b: 5, y: 2 * 5 * 49 };
  const make = () => ({
    x: c.heap.alloc(sizes.x),
    w: c.heap.alloc(sizes.w),
    b: c.heap.alloc(sizes.b),
    y: c.heap.alloc(sizes.y),
  });
  const freeAll = (bs: Record<string, Buf>) => {
    for (const b of Object.values(bs)) if (b.alive) b.free();
  };

  it('rejects a kernel larger than the padded input', () => {
    const t = make();
    const big = { ...g, kh: 10 }; // 7 + 2*1 = 9 < 10
    expect(() => conv2dForward(c, t.y, t.x, t.w, null, big)).toThrow(/conv2dForward: kernel 10x3 is larger than the padded input 9x9/);
    expect(() => conv2dBackwardData(c, t.x, t.y, t.w, big)).toThrow(/conv2dBackwardData: kernel 10x3 is larger/);
    expect(() => conv2dBackwardFilter(c, t.w, t.y, t.x, big)).toThrow(/conv2dBackwardFilter: kernel 10x3 is larger/);
    expect(() => conv2dOutShape({ ...g, kw: 12 })).toThrow(/larger than the padded input/);
    freeAll(t);
  });

  it('rejects wrong buffer sizes', () => {
    const t = make();
    const small = c.heap.alloc(sizes.y - 1);
    expect(() => conv2dForward(c, small, t.x, t.w, t.b, g)).toThrow(/conv2dForward: y holds 489 elements, needs 490/);
    expect(() => conv2dForward(c, t.y, t.x, small.sub(0, 20), t.b, g)).toThrow(/conv2dForward: w holds 20 elements, needs 135/);
    expect(() => conv2dForward(c, t.y, t.x, t.w, t.b.sub(0, 4), g)).toThrow(/conv2dForward: b holds 4 elements, needs 5/);
    expect(() => conv2dBackwardData(c, t.x.sub(0, 100), t.y, t.w, g)).toThrow(/conv2dBackwardData: dx holds 100 elements, needs 294/);
    expect(() => conv2dBackwardFilter(c, t.w, small, t.x, g)).toThrow(/conv2dBackwardFilter: dy holds 489 elements, needs 490/);
    expect(() => conv2dBackwardBias(c, t.b.sub(0, 3), t.y, g)).toThrow(/conv2dBackwardBias: db holds 3 elements, needs 5/);
    small.free();
    freeAll(t);
  });

  it('rejects freed, null, overlapping and i32 buffers, and bad geometry', () => {
    const t = make();
    const dead = c.heap.alloc(sizes.x);
    dead.free();
    expect(() => conv2dForward(c, t.y, dead, t.w, t.b, g)).toThrow(/conv2dForward: x was freed/);
    expect(() => conv2dBackwardFilter(c, t.w, t.y, dead, g)).toThrow(/conv2dBackwardFilter: x was freed/);
    expect(() => conv2dForward(c, t.y, null as unknown as Buf, t.w, t.b, g)).toThrow(/conv2dForward: x is null/);
    expect(() => conv2dForward(c, t.y, t.y, t.w, t.b, g)).toThrow(/conv2dForward: y and x overlap/);
    const ints = c.heap.alloc(sizes.x, 'i32');
    expect(() => conv2dForward(c, t.y, ints, t.w, t.b, g)).toThrow(/conv2dForward: x must hold f32, got i32/);
    expect(() => conv2dForward(c, t.y, t.x, t.w, t.b, { ...g, h: 6.5 })).toThrow(/conv2dForward: h must be an integer >= 1, got 6.5/);
    expect(() => conv2dForward(c, t.y, t.x, t.w, t.b, { ...g, oc: 0 })).toThrow(/conv2dForward: oc must be an integer >= 1, got 0/);
    expect(() => conv2dForward(c, t.y, t.x, t.w, t.b, { ...g, sh: 0 })).toThrow(/conv2dForward: sh must be an integer >= 1, got 0/);
    expect(() => conv2dForward(c, t.y, t.x, t.w, t.b, { ...g, pw: -1 })).toThrow(/conv2dForward: pw must be an integer >= 0, got -1/);
    ints.free();
    freeAll(t);
  });

  it('allows a null bias and reports the output shape', () => {
    expect(conv2dOutShape(g)).toEqual([2, 5, 7, 7]);
    expect(conv2dOutShape(geom([1, 5, 9, 9], [3, 5, 3, 3], [2, 2], [1, 1]))).toEqual([1, 3, 5, 5]);
    const t = make();
    expect(() => conv2dForward(c, t.y, t.x, t.w, null, g)).not.toThrow();
    freeAll(t);
  });
});
