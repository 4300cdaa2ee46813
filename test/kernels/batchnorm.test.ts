// The batchnorm family (assembly/batchnorm.ts) against the f64 reference (src/ref/batchnorm.ts),
// on every flavour, on the SIMD kernels and their `_scalar` twins, for [N,C] (s = 1) and
// [N,C,S] inputs of odd sizes, with a channel offset (mean ~3) that a one-pass variance would
// get wrong, and the n*s = 1 corner (zero variance). The exports, wrappers, references,
// tolerances (and their reasons), dims and eps are the op table's (`batchnorm.batchnorm`); the
// zero-variance, repeat and bad-input cases below are the family's own.
import { describe, it, expect } from 'vitest';
import { core, FLAVORS, randn, expectClose, withBufs, expectExportsWithTwins } from '../helpers/index.js';
import type { Core } from '../../src/core/load.js';
import type { Buf } from '../../src/core/heap.js';
import {
  batchnormForwardTrain,
  batchnormBackwardReduce,
  batchnormBackwardDataTrain,
  batchnormBackwardDataEval,
  type BatchnormDims,
} from '../../src/core/kernels/batchnorm.js';
import { OPS } from '../../src/ops/table.js';

/** The op table's batchnorm entry: exports, wrappers, references, tolerances, dims and eps. */
const k = OPS.batchnorm.batchnorm;
const RTOL = k.tolerance.stats.rtol;
const RTOL_Y = k.tolerance.y.rtol;
const EPS = k.test.eps;
const CASES: BatchnormDims[] = k.test.dims.map((t) => t.dims);

describe('batchnorm: the op table entry names exports (and _scalar twins) that every build has', () => {
  for (const flavor of FLAVORS) {
    it(flavor, () => {
      expectExportsWithTwins(core(flavor), Object.values(k.exports));
    });
  }
});

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

function expectGrad(a: Float32Array, e: Float32Array, what: string): void {
  expectClose(a, e, k.tolerance.grad.rtol, what, Math.max(maxAbs(e), 1e-30));
}

function label(d: BatchnormDims): string {
  return `n=${d.n} c=${d.c} s=${d.s}`;
}

function data(d: BatchnormDims, seed: number) {
  const total = d.n * d.c * d.s;
  const x = randn(total, seed, 2, 4); // mean ~3, spread ~0.6 per channel
  return {
    x,
    w: randn(d.c, seed + 1, 0.5, 1.5),
    b: randn(d.c, seed + 2),
    dy: randn(total, seed + 3),
    dx0: randn(total, seed + 4),
    rm: randn(d.c, seed + 5, 2, 4),
    rv: randn(d.c, seed + 6, 0.1, 2),
  };
}

function alloc(c: Core, n: number): Buf {
  return c.heap.from(new Float32Array(n).fill(-7.25));
}

for (const flavor of FLAVORS) {
  for (const scalar of [false, true]) {
    const opts = { scalar };
    describe(`batchnorm ${flavor} ${scalar ? 'scalar' : 'simd'}`, () => {
      CASES.forEach((d, ci) => {
        const v = data(d, 10 * ci + 1);
        const total = d.n * d.c * d.s;

        it(`training forward and backward ${label(d)}`, () => {
          const c = core(flavor);
          const ref = k.ref.forwardTrain(v.x, v.w, v.b, d, EPS);
          withBufs(c, [v.x, v.w, v.b, v.dy, v.dx0], ([x, w, b, dy, dx]) => {
            const y = alloc(c, total), mean = alloc(c, d.c), invstd = alloc(c, d.c), vr = alloc(c, d.c);
            const sdy = alloc(c, d.c), sdyx = alloc(c, d.c);
            try {
              k.run.forwardTrain(c, y, mean, invstd, vr, x, w, b, d, EPS, opts);
              expectClose(y.view(), ref.y, RTOL_Y, 'y', k.tolerance.y.scale);
              expectClose(mean.view(), ref.mean, RTOL, 'mean');
              expectClose(vr.view(), ref.variance, RTOL, 'var', 1e-30);
              expectClose(invstd.view(), ref.variance.map((q) => 1 / Math.sqrt(q + EPS)), RTOL, 'invstd');
              k.run.backwardReduce(c, sdy, sdyx, dy, x, mean, invstd, d, opts);
              k.run.backwardDataTrain(c, dx, dy, x, w, mean, invstd, sdy, sdyx, d, opts);
              const gx = Float32Array.from(v.dx0), gw = new Float32Array(d.c), gb = new Float32Array(d.c);
              k.ref.backwardTrain(gx, gw, gb, v.dy, v.x, v.w, d, EPS);
              expectGrad(dx.view(), gx, 'dx (accumulated onto dx0)');
              expectGrad(sdyx.view(), gw, 'sum dy*xhat (dweight)');
              expectGrad(sdy.view(), gb, 'sum dy (dbias)');
            } finally {
              for (const bf of [y, mean, invstd, vr, sdy, sdyx]) bf.free();
            }
          });
        });

        it(`eval forward and backward ${label(d)}`, () => {
          const c = core(flavor);
          const yRef = k.ref.forwardEval(v.x, v.w, v.b, v.rm, v.rv, d, EPS);
          withBufs(c, [v.x, v.w, v.b, v.rm, v.rv, v.dy, v.dx0], ([x, w, b, rm, rv, dy, dx]) => {
            const y = alloc(c, total), invstd = alloc(c, d.c), sdy = alloc(c, d.c), sdyx = alloc(c, d.c);
            try {
              k.run.forwardEval(c, y, invstd, x, w, b, rm, rv, d, EPS, opts);
              expectClose(y.view(), yRef, RTOL_Y, 'y', k.tolerance.y.scale);
              k.run.backwardReduce(c, sdy, sdyx, dy, x, rm, invstd, d, opts);
              k.run.backwardDataEval(c, dx, dy, w, invstd, d, opts);
              const gx = Float32Array.from(v.dx0), gw = new Float32Array(d.c), gb = new Float32Array(d.c);
              k.ref.backwardEval(gx, gw, gb, v.dy, v.x, v.w, v.rm, v.rv, d, EPS);
              expectGrad(dx.view(), gx, 'dx');
              expectGrad(sdyx.view(), gw, 'dweight');
              expectGrad(sdy.view(), gb, 'dbias');
              k.run.forwardEval(c, x, invstd, x, w, b, rm, rv, d, EPS, opts); // in place
              expectClose(x.view(), yRef, RTOL_Y, 'y in place', k.tolerance.y.scale);
            } finally {
              for (const bf of [y, invstd, sdy, sdyx]) bf.free();
            }
          });
        });
      });

      it('n*s = 1: zero variance, y = bias, dx from the batch formula is 0', () => {
        const c = core(flavor);
        const d = { n: 1, c: 3, s: 1 };
        withBufs(c, [Float32Array.from([5, -2, 0.5]), Float32Array.from([2, 3, 4]), Float32Array.from([0.1, 0.2, 0.3]), new Float32Array(3).fill(1), new Float32Array(3)], ([x, w, b, dy, dx]) => {
          const y = alloc(c, 3), mean = alloc(c, 3), invstd = alloc(c, 3), vr = alloc(c, 3), sdy = alloc(c, 3), sdyx = alloc(c, 3);
          batchnormForwardTrain(c, y, mean, invstd, vr, x, w, b, d, EPS, opts);
          expect(Array.from(vr.view())).toEqual([0, 0, 0]);
          expectClose(y.view(), [0.1, 0.2, 0.3], 1e-7, 'y = bias');
          batchnormBackwardReduce(c, sdy, sdyx, dy, x, mean, invstd, d, opts);
          batchnormBackwardDataTrain(c, dx, dy, x, w, mean, invstd, sdy, sdyx, d, opts);
          expect(Array.from(dx.view())).toEqual([0, 0, 0]);
          for (const bf of [y, mean, invstd, vr, sdy, sdyx]) bf.free();
        });
      });
    });
  }
}

describe('batchnorm: results depend on the shape alone (same bits on repeat)', () => {
  it('training forward twice gives the same bits', () => {
    const c = core('simd');
    const d = { n: 5, c: 3, s: 29 };
    const v = data(d, 99);
    withBufs(c, [v.x, v.w, v.b], ([x, w, b]) => {
      const outs = [0, 1].map(() => {
        const y = alloc(c, 5 * 3 * 29), m = alloc(c, 3), is = alloc(c, 3), vr = alloc(c, 3);
        batchnormForwardTrain(c, y, m, is, vr, x, w, b, d, EPS);
        const r = [Float32Array.from(y.view()), Float32Array.from(m.view()), Float32Array.from(vr.view())];
        for (const bf of [y, m, is, vr]) bf.free();
        return r;
      });
      for (let i = 0; i < 3; i++) expect(outs[1][i]).toEqual(outs[0][i]);
    });
  });
});

describe('batchnorm bad input', () => {
  const c = core('simd');
  it('rejects bad dims, eps, short buffers and overlaps', () => {
    const big = c.heap.alloc(60);
    const s = c.heap.alloc(3);
    const s2 = c.heap.alloc(3);
    const s3 = c.heap.alloc(3);
    const d = { n: 2, c: 3, s: 5 };
    expect(() => batchnormForwardTrain(c, big.sub(0, 30), s, s2, s3, big.sub(30, 30), s, s, { n: 0, c: 3, s: 5 }, EPS)).toThrow(/batchnormForwardTrain: n must be an integer >= 1, got 0/);
    expect(() => batchnormForwardTrain(c, big.sub(0, 30), s, s2, s3, big.sub(30, 30), s, s, d, -1)).toThrow(/eps must be >= 0/);
    expect(() => batchnormForwardTrain(c, big.sub(0, 30), s, s2, s3, big.sub(30, 29), s, s, d, EPS)).toThrow(/x holds 29 elements, needs 30/);
    expect(() => batchnormForwardTrain(c, big.sub(0, 30), s, s2, s3, big.sub(20, 30), s, s, d, EPS)).toThrow(/y and x overlap/);
    expect(() => batchnormBackwardDataEval(c, big.sub(0, 30), big.sub(2, 30), s, s2, d)).toThrow(/dx and dy overlap/);
    for (const b of [big, s, s2, s3]) b.free();
  });
});
