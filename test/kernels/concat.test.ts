// The concat family (assembly/concat.ts) against the reference (src/ref/concat.ts), on every
// flavour, SIMD kernels and `_scalar` twins, on odd shapes (s = 1 for [N,C], runs that are not
// multiples of 4). Forward copies and backward adds one f32 per element, so both are exact.
// The exports, wrappers, references, tolerances and dims are the op table's (`concat`).
import { describe, it, expect } from 'vitest';
import { core, FLAVORS, randn, withBufs, expectBits, expectClose, expectExportsWithTwins } from '../helpers/index.js';
import { concatForward, concatBackward } from '../../src/core/kernels/concat.js';
import { OPS, type Tolerance } from '../../src/ops/table.js';

/** The op table's concat entry: exports, wrappers, references, tolerances and dims. */
const k = OPS.concat.concat;

function expectWithin(actual: Float32Array, expected: Float32Array, tol: Tolerance, what: string): void {
  if (tol === 'exact') expectBits(actual, expected, what);
  else expectClose(actual, expected, tol.rtol, what, tol.scale);
}

const tolText = (t: Tolerance) => (t === 'exact' ? 'exact' : `rtol ${t.rtol}`);

describe('concat: the op table entry names exports (and _scalar twins) that every build has', () => {
  for (const flavor of FLAVORS) {
    it(flavor, () => {
      expectExportsWithTwins(core(flavor), [k.exports.forward, k.exports.backward]);
    });
  }
});

for (const flavor of FLAVORS) {
  for (const scalar of [false, true]) {
    const opts = { scalar };
    describe(`concat ${flavor} ${scalar ? 'scalar' : 'simd'}`, () => {
      k.test.dims.forEach((d, ci) => {
        const a = randn(d.n * d.ca * d.s, 10 + ci);
        const b = randn(d.n * d.cb * d.s, 20 + ci);
        const dy = randn(d.n * (d.ca + d.cb) * d.s, 30 + ci);
        const da0 = randn(a.length, 40 + ci);
        const db0 = randn(b.length, 50 + ci);
        it(`n=${d.n} ca=${d.ca} cb=${d.cb} s=${d.s}: forward ${tolText(k.tolerance.forward)}, backward accumulates (${tolText(k.tolerance.backward)})`, () => {
          const c = core(flavor);
          withBufs(c, [a, b, dy, da0, db0, new Float32Array(dy.length).fill(-7.25)], ([ab, bb, dyb, da, db, y]) => {
            k.run.forward(c, y, ab, bb, d, opts);
            expectWithin(y.view(), k.ref.forward(a, b, d), k.tolerance.forward, 'y');
            k.run.backward(c, da, dyb, 'a', d, opts);
            k.run.backward(c, db, dyb, 'b', d, opts);
            expectWithin(da.view(), k.ref.backward(Float32Array.from(da0), dy, 'a', d), k.tolerance.backward, 'da');
            expectWithin(db.view(), k.ref.backward(Float32Array.from(db0), dy, 'b', d), k.tolerance.backward, 'db');
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
