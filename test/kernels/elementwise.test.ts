// The elementwise family (assembly/elementwise.ts) against the naive references
// (src/ref/elementwise.ts), on every flavour, on the SIMD kernels and their `_scalar` twins.
// The n-to-n kernels (fill, copy, scale, axpy, add, mul) come from the op table's ELEMENTWISE
// registry (src/ops/table.ts), which holds their exports, references and tolerances: fill and
// copy exact; scale, add, mul 1e-6 relative (one f32 rounding, plus alpha rounded to f32);
// axpy 1e-6 relative to the operands' size (scale 1: the data lie in [-2, 2], and a sum that
// cancels to near zero keeps the operands' absolute error). Here: sum_k exact (bit for bit
// against f32 additions in j order) and against f64 1e-6 relative to k; sum_sq 1e-12
// relative (f64 sums in another order).
import { describe, it, expect } from 'vitest';
import { core, FLAVORS, randn, expectClose, withBufs, expectBits } from '../helpers/index.js';
import type { Buf } from '../../src/core/heap.js';
import { fill, copy, scale, axpy, add, mul, sumK, sumSq } from '../../src/core/kernels/elementwise.js';
import { fillRef, scaleRef, axpyRef, sumKRef, sumKF32Ref, sumSqRef } from '../../src/ref/elementwise.js';
import { ELEMENTWISE_LIST, type Tolerance } from '../../src/ops/table.js';

const SIZES = [1, 3, 5, 7, 17, 1023, 100003];

function expectWithin(actual: Float32Array, expected: Float32Array, tol: Tolerance, what: string): void {
  if (tol === 'exact') expectBits(actual, expected, what);
  else expectClose(actual, expected, tol.rtol, what, tol.scale);
}

const tolText = (t: Tolerance) => (t === 'exact' ? 'exact' : `rtol ${t.rtol}`);

describe('elementwise registry: every export has its _scalar twin on every build', () => {
  for (const flavor of FLAVORS) {
    it(flavor, () => {
      const f = core(flavor).fns<Record<string, unknown>>();
      for (const [, k] of ELEMENTWISE_LIST) expect([typeof f[k.export], typeof f[`${k.export}_scalar`]], k.export).toEqual(['function', 'function']);
    });
  }
});

for (const flavor of FLAVORS) {
  for (const scalar of [false, true]) {
    const path = scalar ? 'scalar' : 'simd';
    const opts = { scalar };
    describe(`elementwise ${flavor} ${path}`, () => {
      for (const n of SIZES) {
        const a = randn(n, 10 + n);
        const b = randn(n, 20 + n, -2, 2);

        for (const [name, k] of ELEMENTWISE_LIST) {
          // y before the call: a when the kernel updates y, junk otherwise; the inputs follow
          const pool = [a, b];
          const y0 = k.updates ? a : new Float32Array(n).fill(9);
          const ins = k.updates ? pool.slice(1, 1 + k.inputs) : pool.slice(0, k.inputs);
          const want = k.ref(y0, ins);

          it(`${name} n=${n} (${tolText(k.tolerance)})`, () => {
            const c = core(flavor);
            withBufs(c, [y0, ...ins], ([y, ...inb]) => {
              k.run(c, y, inb, undefined, opts);
              expectWithin(y.view(), want, k.tolerance, `${name} n=${n}`);
            });
          });

          if (k.inPlace !== undefined) {
            const at = k.inPlace;
            it(`${name} n=${n} in place: y is input ${at} (${tolText(k.tolerance)})`, () => {
              const c = core(flavor);
              const v = k.updates ? y0 : ins[at];
              const same = ins.map((x, i) => (i === at ? v : x));
              withBufs(c, same, (inb) => {
                k.run(c, inb[at], inb, undefined, opts);
                expectWithin(inb[at].view(), k.ref(v, same), k.tolerance, `${name} in place n=${n}`);
              });
            });
          }
        }

        it(`fill n=${n} leaves the rest; n defaults to y's length (exact)`, () => {
          const c = core(flavor);
          withBufs(c, [new Float32Array(n + 3).fill(9)], ([y]) => {
            fill(c, y, -1.5, n, opts);
            expectBits(y.view().subarray(0, n), fillRef(n, -1.5), `fill n=${n}`);
            expectBits(y.view().subarray(n), fillRef(3, 9), `fill n=${n} leaves the rest`);
            fill(c, y, -Infinity, undefined, opts); // n defaults to y.length
            expectBits(y.view(), fillRef(n + 3, -Infinity), `fill -inf n=${n + 3}`);
          });
        });

        it(`axpy n=${n} y += y (rtol 1e-6 of the operands)`, () => {
          const c = core(flavor);
          withBufs(c, [a, b], ([y, x]) => {
            axpy(c, y, x, -0.3, undefined, opts);
            axpy(c, y, y, 1, undefined, opts); // y == x: y += y
            expectClose(y.view(), scaleRef(axpyRef(a, b, -0.3), 2), 1e-6, `axpy in place n=${n}`, 2);
          });
        });

        it(`sum_sq n=${n} (rtol 1e-12)`, () => {
          const c = core(flavor);
          withBufs(c, [b], ([x]) => {
            const s = sumSq(c, x, undefined, opts);
            const e = sumSqRef(b);
            expect(Math.abs(s - e) / e, `sum_sq n=${n}: ${s} vs ${e}`).toBeLessThanOrEqual(1e-12);
          });
        });
      }

      for (const [k, n] of [
        [1, 1],
        [1, 17],
        [2, 3],
        [3, 5],
        [4, 7],
        [7, 1023],
        [5, 100003],
      ] as const) {
        it(`sum_k k=${k} n=${n} (exact f32 adds in j order)`, () => {
          const c = core(flavor);
          const x = randn(k * n, 7 * k + n);
          const want = sumKF32Ref(x, k, n);
          withBufs(c, [x, new Float32Array(n).fill(5)], ([xb, y]) => {
            sumK(c, y, xb, k, n, opts);
            expectBits(y.view(), want, `sum_k k=${k} n=${n}`);
            expectClose(y.view(), sumKRef(x, k, n), 1e-6, `sum_k vs f64 k=${k} n=${n}`, k);
            sumK(c, y, xb, k, n, opts); // overwrites, same bits again
            expectBits(y.view(), want, `sum_k rerun k=${k} n=${n}`);
            sumK(c, xb, xb, k, n, opts); // into x's first row
            expectBits(xb.view().subarray(0, n), want, `sum_k into row 0 k=${k} n=${n}`);
          });
        });
      }

      it('sum_k adds in j order (1e8 + 1 - 1e8 = 0 in f32, not 1)', () => {
        const c = core(flavor);
        const n = 9;
        const rows = [1e8, 1, -1e8, 0.25];
        const x = new Float32Array(rows.length * n);
        rows.forEach((v, j) => x.fill(v, j * n, (j + 1) * n));
        withBufs(c, [x, new Float32Array(n)], ([xb, y]) => {
          sumK(c, y, xb, rows.length, n, opts);
          expectBits(y.view(), new Float32Array(n).fill(0.25), 'sum_k order');
        });
      });
    });
  }
}

describe('elementwise: SIMD and scalar agree bit for bit', () => {
  for (const flavor of FLAVORS) {
    it(`sum_k ${flavor} k=6 n=1031`, () => {
      const c = core(flavor);
      const x = randn(6 * 1031, 99, -1e3, 1e3);
      withBufs(c, [x, new Float32Array(1031), new Float32Array(1031)], ([xb, y1, y2]) => {
        sumK(c, y1, xb, 6, 1031);
        sumK(c, y2, xb, 6, 1031, { scalar: true });
        expectBits(y1.view(), y2.view(), `sum_k ${flavor}`);
      });
    });
  }
});

describe('elementwise bad input', () => {
  const c = core('simd');

  it('rejects null, freed, empty-window and wrong-dtype buffers', () => {
    const y = c.heap.alloc(8);
    const x = c.heap.alloc(8);
    const idx = c.heap.alloc(8, 'i32');
    expect(() => fill(c, null as unknown as Buf, 0)).toThrow(/fill: y is null/);
    expect(() => copy(c, y, undefined as unknown as Buf)).toThrow(/copy: x is missing/);
    expect(() => scale(c, y.sub(0, 0), 2)).toThrow(/scale: y is an empty buffer/);
    expect(() => add(c, y, x, idx)).toThrow(/add: b must hold f32, got i32/);
    x.free();
    expect(() => axpy(c, y, x, 1)).toThrow(/axpy: x was freed/);
    expect(() => sumSq(c, x)).toThrow(/sumSq: x was freed/);
    y.free();
    idx.free();
  });

  it('rejects bad sizes and hyper-parameters', () => {
    const y = c.heap.alloc(8);
    const x = c.heap.alloc(6);
    expect(() => copy(c, y, x)).toThrow(/copy: x holds 6 elements, needs 8/);
    expect(() => mul(c, y, x, x, 9)).toThrow(/mul: y holds 8 elements, needs 9/);
    expect(() => fill(c, y, 1, 2.5)).toThrow(/fill: n must be an integer >= 1, got 2.5/);
    expect(() => fill(c, y, 1, 0)).toThrow(/fill: n must be an integer >= 1, got 0/);
    expect(() => fill(c, y, NaN)).toThrow(/fill: value must be a number, got NaN/);
    expect(() => scale(c, y, Infinity)).toThrow(/scale: alpha must be a finite number, got Infinity/);
    expect(() => axpy(c, y, y, NaN)).toThrow(/axpy: alpha must be a finite number, got NaN/);
    expect(() => sumK(c, y, x, 2, 4)).toThrow(/sumK: x holds 6 elements, needs 8/);
    expect(() => sumK(c, y, x, 0, 4)).toThrow(/sumK: k must be an integer >= 1, got 0/);
    expect(() => sumK(c, y, x, 1, 1.5)).toThrow(/sumK: n must be an integer >= 1, got 1.5/);
    y.free();
    x.free();
  });

  it('rejects outputs that are shifted windows of an input', () => {
    const buf = c.heap.alloc(32);
    const a = buf.sub(0, 16);
    const shifted = buf.sub(1, 16);
    expect(() => copy(c, shifted, a)).toThrow(/copy: y and x overlap/);
    expect(() => add(c, shifted, a, buf.sub(16, 16))).toThrow(/add: y and a overlap/);
    expect(() => sumK(c, buf.sub(4, 8), buf.sub(0, 16), 2, 8)).toThrow(/sumK: y and x overlap/);
    // the first n elements decide: windows that touch only beyond n are fine
    copy(c, buf.sub(8, 8), buf.sub(0, 16), 8);
    buf.free();
  });
});
