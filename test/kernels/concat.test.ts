// The concat family (assembly/concat.ts) against the reference (src/ref/concat.ts), on every
// flavour, SIMD kernels and `_scalar` twins, on odd shapes (s = 1 for [N,C], runs that are not
// multiples of 4). Forward copies and backward adds one f32 per element, so both are exact.
import { describe, it, expect } from 'vitest';
import { core, FLAVORS, randn, withBufs, expectBits } from '../helpers/index.js';
import { concatForward, concatBackward, type ConcatDims } from '../../src/core/kernels/concat.js';
import { concatForwardRef, concatBackwardRef } from '../../src/ref/concat.js';

const CASES: ConcatDims[] = [
  { n: 1, ca: 1, cb: 1, s: 1 },
  { n: 3, ca: 5, cb: 2, s: 1 },
  { n: 2, ca: 3, cb: 4, s: 35 },
  { n: 4, ca: 1, cb: 7, s: 9 },
  { n: 2, ca: 8, cb: 8, s: 16 },
];

for (const flavor of FLAVORS) {
  for (const scalar of [false, true]) {
    const opts = { scalar };
    describe(`concat ${flavor} ${scalar ? 'scalar' : 'simd'}`, () => {
      CASES.forEach((d, ci) => {
        const a = randn(d.n * d.ca * d.s, 10 + ci);
        const b = randn(d.n * d.cb * d.s, 20 + ci);
        const dy = randn(d.n * (d.ca + d.cb) * d.s, 30 + ci);
        const da0 = randn(a.length, 40 + ci);
        const db0 = randn(b.length, 50 + ci);
        it(`n=${d.n} ca=${d.ca} cb=${d.cb} s=${d.s}: forward exact, backward accumulates exactly`, () => {
          const c = core(flavor);
          withBufs(c, [a, b, dy, da0, db0, new Float32Array(dy.length).fill(-7.25)], ([ab, bb, dyb, da, db, y]) => {
            concatForward(c, y, ab, bb, d, opts);
            expectBits(y.view(), concatForwardRef(a, b, d), 'y');
            concatBackward(c, da, dyb, 'a', d, opts);
            concatBackward(c, db, dyb, 'b', d, opts);
            expectBits(da.view(), concatBackwardRef(Float32Array.from(da0), dy, 'a', d), 'da');
            expectBits(db.view(), concatBackwardRef(Float32Array.from(db0), dy, 'b', d), 'db');
          });
        });
      });
    });
  }
}

describe('concat bad input', () => {
  const c = core('simd');
  it('rejects bad dims, short and overlapping buffers', () => {
    const buf = c.heap.alloc(100);
    const d = { n: 2, ca: 2, cb: 3, s: 4 };
    expect(() => concatForward(c, buf.sub(0, 40), buf.sub(40, 16), buf.sub(56, 24), { ...d, cb: 0 })).toThrow(/concatForward: cb must be an integer >= 1, got 0/);
    expect(() => concatForward(c, buf.sub(0, 40), buf.sub(40, 15), buf.sub(56, 24), d)).toThrow(/concatForward: a holds 15 elements, needs 16/);
    expect(() => concatForward(c, buf.sub(0, 40), buf.sub(30, 16), buf.sub(56, 24), d)).toThrow(/concatForward: y and a overlap/);
    expect(() => concatBackward(c, buf.sub(0, 24), buf.sub(10, 40), 'b', d)).toThrow(/concatBackward: db and dy overlap/);
    buf.free();
  });
});
