// The pool family (assembly/pool.ts) against the naive references (src/ref/pool.ts), on every
// flavour, on the SIMD kernels (2x2 stride 2 fast path, general path otherwise) and their
// `_scalar` twins (the general path for every shape).
// Max and average pooling come from the op table (src/ops/table.ts `pool`): each entry names
// its exports, wrappers, reference, tolerances and geometries, and the first suite runs them
// all. Tolerances (and their reasons) live there: max pooling forward exact (values and
// argmax); max pooling backward 1e-6 relative to the operands (scale 1: dx0 and dy are O(1);
// overlapping windows add in f32); average pooling forward and backward 1e-6 relative to the
// operands (scale 1: the inputs are O(1), and a window mean can cancel to near zero). The
// ties, NaN, bit-agreement and global-pooling cases below are the family's own.
// The fast path must give the same bits as the general path (same order of additions).
import { describe, it, expect } from 'vitest';
import { core, FLAVORS, randn, rng, expectClose, withBufs, expectBits, expectExportsWithTwins } from '../helpers/index.js';
import { OPS, POOL_LIST, type Tolerance } from '../../src/ops/table.js';
import type { Buf } from '../../src/core/heap.js';
import {
  maxpool2dForward,
  maxpool2dBackward,
  avgpool2dForward,
  avgpool2dBackward,
  pool2dOutShape,
  globalAvgpoolForward,
  globalAvgpoolBackward,
} from '../../src/core/kernels/pool.js';
import type { Geom2d } from '../../src/ops/shapes.js';
import { maxpool2dForwardRef } from '../../src/ref/pool.js';

/** x [n,c,h,w], kernel [kh,kw], stride [sh,sw], pad [ph,pw]. */
function geom(x: number[], k: [number, number], s: [number, number], p: [number, number] = [0, 0]): Geom2d {
  return { n: x[0], c: x[1], h: x[2], w: x[3], kh: k[0], kw: k[1], sh: s[0], sw: s[1], ph: p[0], pw: p[1] };
}

function label(g: Geom2d): string {
  const pair = (a: number, b: number) => (a === b ? `${a}` : `${a},${b}`);
  return `x=[${g.n},${g.c},${g.h},${g.w}] k=${pair(g.kh, g.kw)} s=${pair(g.sh, g.sw)} p=${pair(g.ph, g.pw)}`;
}

function expectWithin(actual: Float32Array, expected: Float32Array, tol: Tolerance, what: string): void {
  if (tol === 'exact') expectBits(actual, expected, what);
  else expectClose(actual, expected, tol.rtol, what, tol.scale);
}

const tolText = (t: Tolerance) => (t === 'exact' ? 'exact' : `rtol ${t.rtol}`);

interface Data {
  x: Float32Array;
  dy: Float32Array;
  dx0: Float32Array;
}

const cache = new Map<string, Data>();
/** One geometry's inputs, shared by the poolings (and the bit-agreement test below). */
function data(g: Geom2d, seed: number): Data {
  const key = `${label(g)} ${seed}`;
  let d = cache.get(key);
  if (d) return d;
  const [, , oh, ow] = pool2dOutShape(g);
  const nx = g.n * g.c * g.h * g.w;
  const ny = g.n * g.c * oh * ow;
  d = { x: randn(nx, seed), dy: randn(ny, seed + 1), dx0: randn(nx, seed + 2) };
  cache.set(key, d);
  return d;
}

const outLen = (g: Geom2d) => pool2dOutShape(g).reduce((a, b) => a * b, 1);

describe('pool: every pool entry of the op table names exports (and _scalar twins) that every build has', () => {
  for (const flavor of FLAVORS) {
    it(flavor, () => {
      const names = POOL_LIST.flatMap(([, { pool: k }]) => [k.exports.forward, k.exports.backward]);
      expect(names.length).toBeGreaterThanOrEqual(4);
      expectExportsWithTwins(core(flavor), names);
    });
  }
});

for (const flavor of FLAVORS) {
  for (const scalar of [false, true]) {
    const path = scalar ? 'scalar' : 'simd';
    const opts = { scalar };
    describe(`pool ${flavor} ${path}`, () => {
      for (const [op, { pool: k }] of POOL_LIST) {
        k.test.geoms.forEach((g, ci) => {
          const name = label(g);
          const seed = 3000 + 31 * ci;
          const argmaxText = k.argmax ? ', argmax exact' : '';

          it(`${op} forward ${name} (${tolText(k.tolerance.forward)}${argmaxText})`, () => {
            const c = core(flavor);
            const d = data(g, seed);
            const want = k.ref.forward(d.x, g);
            const ny = outLen(g);
            withBufs(c, [d.x, new Float32Array(ny).fill(9), new Int32Array(ny).fill(-7)], ([x, y, am]) => {
              k.run.forward(c, y, k.argmax ? am : undefined, x, g, opts);
              expectWithin(y.view(), want.y, k.tolerance.forward, `${op} y ${name}`);
              if (k.argmax) expectBits(am.viewI32(), want.argmax!, `${op} argmax ${name}`);
              expectBits(x.view(), d.x, `${op} x unchanged ${name}`);
            });
          });

          it(`${op} backward ${name} accumulates (${tolText(k.tolerance.backward)})`, () => {
            const c = core(flavor);
            const d = data(g, seed);
            const argmax = k.ref.forward(d.x, g).argmax;
            const want = k.ref.backward(Float32Array.from(d.dx0), d.dy, argmax, g);
            withBufs(c, [d.dx0, d.dy, argmax ?? new Int32Array(1)], ([dx, dy, am]) => {
              k.run.backward(c, dx, dy, argmax ? am : undefined, g, opts);
              expectWithin(dx.view(), want, k.tolerance.backward, `${op} backward ${name}`);
            });
          });
        });
      }

      it('max pooling ties: the first max in window order wins', () => {
        const c = core(flavor);
        for (const g of [geom([2, 3, 9, 11], [2, 2], [2, 2]), geom([1, 2, 7, 5], [3, 3], [2, 2], [1, 1]), geom([2, 2, 6, 6], [2, 2], [1, 1])]) {
          // values from {-1, 0, 1}: most windows hold tied maxima
          const r = rng(5);
          const x = Float32Array.from({ length: g.n * g.c * g.h * g.w }, () => Math.floor(r() * 3) - 1);
          const ref = maxpool2dForwardRef(x, g);
          const ny = ref.y.length;
          withBufs(c, [x, new Float32Array(ny), new Int32Array(ny)], ([xb, y, am]) => {
            maxpool2dForward(c, y, am, xb, g, opts);
            expectBits(y.view(), ref.y, `ties y ${label(g)}`);
            expectBits(am.viewI32(), ref.argmax, `ties argmax ${label(g)}`);
          });
        }
        // a constant plane: every argmax is its window's first real position
        const g = geom([1, 1, 4, 4], [2, 2], [2, 2]);
        withBufs(c, [new Float32Array(16).fill(2), new Float32Array(4), new Int32Array(4)], ([xb, y, am]) => {
          maxpool2dForward(c, y, am, xb, g, opts);
          expect(Array.from(am.viewI32())).toEqual([0, 2, 8, 10]);
        });
      });

      it('max pooling: padding never wins, -inf and NaN inputs behave as PyTorch', () => {
        const c = core(flavor);
        // all-negative input with pad 1: zero padding must not win
        const g = geom([1, 2, 7, 5], [3, 3], [2, 2], [1, 1]);
        const x = randn(70, 11, -3, -1);
        const ref = maxpool2dForwardRef(x, g);
        withBufs(c, [x, new Float32Array(ref.y.length), new Int32Array(ref.y.length)], ([xb, y, am]) => {
          maxpool2dForward(c, y, am, xb, g, opts);
          expectBits(y.view(), ref.y, 'negative input y');
          expectBits(am.viewI32(), ref.argmax, 'negative input argmax');
          expect(y.view().every((v) => v < 0)).toBe(true);
        });
        // -inf everywhere: y = -inf, argmax = the window's first real position (never padding)
        const gi = geom([1, 1, 3, 3], [2, 2], [2, 2], [1, 1]);
        withBufs(c, [new Float32Array(9).fill(-Infinity), new Float32Array(4), new Int32Array(4)], ([xb, y, am]) => {
          maxpool2dForward(c, y, am, xb, gi, opts);
          expect(Array.from(y.view())).toEqual([-Infinity, -Infinity, -Infinity, -Infinity]);
          expect(Array.from(am.viewI32())).toEqual([0, 1, 3, 4]);
        });
        // NaN wins its window, on the fast path and the general path
        for (const gn of [geom([1, 1, 4, 8], [2, 2], [2, 2]), geom([1, 1, 4, 8], [3, 3], [1, 1], [1, 1])]) {
          const xn = randn(32, 12);
          xn[9] = NaN; // row 1, column 1
          xn[22] = NaN; // row 2, column 6
          const refn = maxpool2dForwardRef(xn, gn);
          withBufs(c, [xn, new Float32Array(refn.y.length), new Int32Array(refn.y.length)], ([xb, y, am]) => {
            maxpool2dForward(c, y, am, xb, gn, opts);
            expectBits(y.view(), refn.y, `NaN y ${label(gn)}`);
            expectBits(am.viewI32(), refn.argmax, `NaN argmax ${label(gn)}`);
          });
        }
      });
    });
  }
}

describe('pool: maxpool backward with overwrite gives the bits of scattering into zeros, never reading dx', () => {
  for (const flavor of FLAVORS) {
    for (const scalar of [false, true]) {
      // non-overlapping, overlapping (shared maxima add up), padded, and rows/columns no window covers
      for (const g of [geom([2, 3, 9, 11], [2, 2], [2, 2]), geom([2, 3, 9, 9], [3, 3], [2, 2], [1, 1]), geom([1, 2, 7, 7], [3, 3], [1, 1]), geom([3, 1, 5, 6], [2, 3], [3, 2])]) {
        it(`${flavor} ${scalar ? 'scalar' : 'simd'} ${label(g)}`, () => {
          const c = core(flavor);
          const d = data(g, 99);
          const ny = outLen(g);
          const dy = d.dy.map((v, i) => (i % 4 === 0 ? -0 : v));
          const zeros = new Float32Array(d.dx0.length);
          const garbage = new Float32Array(d.dx0.length).fill(NaN);
          withBufs(c, [d.x, dy, new Float32Array(ny), new Int32Array(ny), zeros, garbage], ([x, dyb, y, am, acc, over]) => {
            maxpool2dForward(c, y, am, x, g, { scalar });
            maxpool2dBackward(c, acc, dyb, am, g, { scalar });
            maxpool2dBackward(c, over, dyb, am, g, { scalar, overwrite: true });
            expectBits(over.view(), acc.view(), `maxpool dx ${label(g)}`);
          });
        });
      }
    }
  }
});

describe('pool: the SIMD kernels and the scalar twins agree bit for bit', () => {
  for (const flavor of FLAVORS) {
    for (const g of [geom([2, 3, 9, 11], [2, 2], [2, 2]), geom([4, 5, 28, 28], [2, 2], [2, 2]), geom([2, 3, 9, 9], [3, 3], [2, 2], [1, 1])]) {
      it(`${flavor} ${label(g)}`, () => {
        const c = core(flavor);
        const d = data(g, 4242);
        const ny = outLen(g);
        const z = () => new Float32Array(ny);
        withBufs(
          c,
          [d.x, d.dy, z(), z(), new Int32Array(ny), new Int32Array(ny), d.dx0, d.dx0, z(), z(), d.dx0, d.dx0],
          ([x, dy, y1, y2, a1, a2, mdx1, mdx2, v1, v2, adx1, adx2]) => {
            maxpool2dForward(c, y1, a1, x, g);
            maxpool2dForward(c, y2, a2, x, g, { scalar: true });
            expectBits(y1.view(), y2.view(), 'maxpool y');
            expectBits(a1.viewI32(), a2.viewI32(), 'maxpool argmax');
            maxpool2dBackward(c, mdx1, dy, a1, g);
            maxpool2dBackward(c, mdx2, dy, a1, g, { scalar: true });
            expectBits(mdx1.view(), mdx2.view(), 'maxpool dx');
            avgpool2dForward(c, v1, x, g);
            avgpool2dForward(c, v2, x, g, { scalar: true });
            expectBits(v1.view(), v2.view(), 'avgpool y');
            avgpool2dBackward(c, adx1, dy, g);
            avgpool2dBackward(c, adx2, dy, g, { scalar: true });
            expectBits(adx1.view(), adx2.view(), 'avgpool dx');
          },
        );
      });
    }
  }
});

describe('pool bad input', () => {
  const c = core('simd');
  const g = geom([2, 3, 7, 5], [3, 3], [2, 2], [1, 1]); // -> [2, 3, 4, 3]
  const nx = 2 * 3 * 7 * 5;
  const ny = 2 * 3 * 4 * 3;

  it('computes the output shape', () => {
    expect(pool2dOutShape(g)).toEqual([2, 3, 4, 3]);
    expect(pool2dOutShape(geom([64, 20, 28, 28], [2, 2], [2, 2]))).toEqual([64, 20, 14, 14]);
    expect(pool2dOutShape(geom([1, 1, 9, 11], [2, 2], [2, 2]))).toEqual([1, 1, 4, 5]);
  });

  it('rejects bad geometries', () => {
    const x = c.heap.alloc(nx);
    const y = c.heap.alloc(ny);
    const am = c.heap.alloc(ny, 'i32');
    expect(() => maxpool2dForward(c, y, am, x, { ...g, ph: 2 })).toThrow(
      /maxpool2dForward: padding 2x1 is more than half the kernel 3x3 \(pad must be <= kernel\/2, as PyTorch requires/,
    );
    expect(() => avgpool2dForward(c, y, x, geom([1, 1, 5, 5], [2, 2], [2, 2], [0, 2]))).toThrow(/avgpool2dForward: padding 0x2 is more than half the kernel 2x2/);
    expect(() => pool2dOutShape(geom([1, 1, 4, 4], [1, 1], [1, 1], [1, 1]))).toThrow(/pool2dOutShape: padding 1x1 is more than half the kernel 1x1/);
    expect(() => maxpool2dBackward(c, x, y, am, { ...g, kh: 10 })).toThrow(/maxpool2dBackward: kernel 10x3 is larger than the padded input 9x7/);
    expect(() => avgpool2dBackward(c, x, y, { ...g, sh: 0 })).toThrow(/avgpool2dBackward: sh must be an integer >= 1, got 0/);
    expect(() => avgpool2dForward(c, y, x, { ...g, w: 5.5 })).toThrow(/avgpool2dForward: w must be an integer >= 1, got 5.5/);
    expect(() => avgpool2dForward(c, y, x, { ...g, pw: -1 })).toThrow(/avgpool2dForward: pw must be an integer >= 0, got -1/);
    expect(() => maxpool2dForward(c, y, am, x, null as unknown as Geom2d)).toThrow(/maxpool2dForward: geometry must be an object/);
    x.free();
    y.free();
    am.free();
  });

  it('rejects wrong sizes, dtypes, freed and overlapping buffers', () => {
    const x = c.heap.alloc(nx);
    const y = c.heap.alloc(ny);
    const am = c.heap.alloc(ny, 'i32');
    const amF = c.heap.alloc(ny);
    expect(() => maxpool2dForward(c, y, amF, x, g)).toThrow(/maxpool2dForward: argmax must hold i32, got f32/);
    expect(() => maxpool2dBackward(c, x, y, amF, g)).toThrow(/maxpool2dBackward: argmax must hold i32, got f32/);
    expect(() => maxpool2dForward(c, y.sub(0, ny - 1), am, x, g)).toThrow(/maxpool2dForward: y holds 71 elements, needs 72/);
    expect(() => maxpool2dForward(c, y, am.sub(0, 5), x, g)).toThrow(/maxpool2dForward: argmax holds 5 elements, needs 72/);
    expect(() => avgpool2dForward(c, y, x.sub(0, 100), g)).toThrow(/avgpool2dForward: x holds 100 elements, needs 210/);
    expect(() => avgpool2dBackward(c, x, y.sub(0, 3), g)).toThrow(/avgpool2dBackward: dy holds 3 elements, needs 72/);
    expect(() => maxpool2dBackward(c, x.sub(0, 209), y, am, g)).toThrow(/maxpool2dBackward: dx holds 209 elements, needs 210/);
    expect(() => avgpool2dForward(c, x.sub(100, 72), x.sub(0, 210), g)).toThrow(/avgpool2dForward: y and x overlap/);
    expect(() => maxpool2dForward(c, null as unknown as Buf, am, x, g)).toThrow(/maxpool2dForward: y is null/);
    y.free();
    expect(() => avgpool2dForward(c, y, x, g)).toThrow(/avgpool2dForward: y was freed/);
    x.free();
    am.free();
    amF.free();
  });

  it('the debug build traps an argmax outside the input plane (instead of writing past it)', () => {
    const d = core('debug');
    const x = d.heap.alloc(nx);
    const y = d.heap.alloc(ny);
    const am = d.heap.from(new Int32Array(ny).fill(35), 'i32'); // the plane holds 7*5 = 35
    expect(() => maxpool2dBackward(d, x, y, am, g)).toThrow(/iruka kernel assertion/);
    x.free();
    y.free();
    am.free();
  });
});

describe('global average pooling against the f64 reference (the op table entry: exports, wrappers, references, tolerances, plane sizes)', () => {
  const k = OPS.global_avgpool.globalPool;
  for (const flavor of FLAVORS) {
    it(`${flavor}: the entry's exports and their _scalar twins exist`, () => {
      const f = core(flavor).fns<Record<string, unknown>>();
      for (const e of [k.exports.forward, k.exports.backward]) {
        expect(typeof f[e], e).toBe('function');
        expect(typeof f[`${e}_scalar`], `${e}_scalar`).toBe('function');
      }
    });
    for (const scalar of [false, true]) {
      for (const [planes, s] of k.test.planes) {
        it(`${flavor} ${scalar ? 'scalar' : 'simd'} planes=${planes} s=${s} (forward ${tolText(k.tolerance.forward)}, backward ${tolText(k.tolerance.backward)})`, () => {
          const c = core(flavor);
          const x = randn(planes * s, planes + s, 2, 4); // offset: a mean, not a cancelling sum
          const dy = randn(planes, 7 + s);
          const dx0 = randn(planes * s, 11 + s);
          const d = { n: 1, c: planes, h: 1, w: s };
          withBufs(c, [x, dy, dx0, new Float32Array(planes).fill(-7.25)], ([xb, dyb, dx, y]) => {
            k.run.forward(c, y, xb, d, { scalar });
            expectWithin(y.view(), k.ref.forward(x, planes, s), k.tolerance.forward, 'y');
            k.run.backward(c, dx, dyb, d, { scalar });
            expectWithin(dx.view(), k.ref.backward(Float32Array.from(dx0), dy, planes, s), k.tolerance.backward, 'dx');
          });
        });
      }
    }
  }

  it('rejects bad dims and overlaps', () => {
    const c = core('simd');
    const buf = c.heap.alloc(40);
    expect(() => globalAvgpoolForward(c, buf.sub(0, 4), buf.sub(4, 36), { n: 1, c: 4, h: 0, w: 9 })).toThrow(/globalAvgpoolForward: h must be an integer >= 1, got 0/);
    expect(() => globalAvgpoolForward(c, buf.sub(0, 4), buf.sub(2, 36), { n: 1, c: 4, h: 3, w: 3 })).toThrow(/y and x overlap/);
    expect(() => globalAvgpoolBackward(c, buf.sub(0, 36), buf.sub(30, 4), { n: 2, c: 2, h: 3, w: 3 })).toThrow(/dx and dy overlap/);
    buf.free();
  });
});
