// The activation family (assembly/activation.ts) against the f64 references
// (src/ref/activation.ts), on every flavour, on the SIMD kernels and their `_scalar` twins.
// The pointwise activations come from the op table (src/ops/table.ts `pointwise`): each
// entry names its exports, reference, tolerances, sizes, attrs and edge values, and the suite
// below runs them all; the tolerances and their reasons live there (relu forward rtol 0,
// leaky_relu exact, sigmoid and tanh forward 2e-6 truly relative, backward 1e-6 of the O(1)
// operands). Dropout's exports, wrappers, references, tolerances and cases are its entry's
// (`dropout`): forward exact (one f32 multiply), backward 1e-6 relative to the operands.
import { describe, it, expect } from 'vitest';
import { core, FLAVORS, randn, rng, expectClose, withBufs, expectBits } from '../helpers/index.js';
import type { Flavor } from '../../src/core/load.js';
import type { Buf } from '../../src/core/heap.js';
import { OPS, POINTWISE_LIST, type Tolerance } from '../../src/ops/table.js';

/** dropout's kernel side (the op table's `dropout` entry) */
const DROPOUT = OPS.dropout.dropout;
import {
  reluForward,
  reluBackward,
  sigmoidForward,
  sigmoidBackward,
  tanhForward,
  tanhBackward,
  dropoutForward,
  dropoutBackward,
  leakyReluForward,
  leakyReluBackward,
  dropoutSeededForward,
  pointwiseForward,
  pointwiseBackward,
} from '../../src/core/kernels/activation.js';
import {
  sigmoidForwardRef,
  tanhForwardRef,
  dropoutMaskRef,
} from '../../src/ref/activation.js';

const RTOL_EXP = 2e-6;

function expectWithin(actual: Float32Array, expected: Float32Array, tol: Tolerance, what: string): void {
  if (tol === 'exact') expectBits(actual, expected, what);
  else expectClose(actual, expected, tol.rtol, what, tol.scale);
}

const tolText = (t: Tolerance) => (t === 'exact' ? 'exact' : `rtol ${t.rtol}`);
const attrsText = (a: object) => (Object.keys(a).length ? ` ${JSON.stringify(a)}` : '');

/** The table's inputs for one op: x uniform in its range at every size, then its edge values. */
function pointwiseInputs(range: readonly [number, number], sizes: readonly number[], edges: readonly number[]): { label: string; x: Float32Array }[] {
  return [
    ...sizes.map((n) => ({ label: `n=${n}`, x: randn(n, 100 + n, range[0], range[1]) })),
    { label: `edges n=${edges.length}`, x: Float32Array.from(edges) },
  ];
}

for (const flavor of FLAVORS) {
  for (const scalar of [false, true]) {
    const path = scalar ? 'scalar' : 'simd';
    const opts = { scalar };
    describe(`activation ${flavor} ${path}`, () => {
      for (const [name, { pointwise: k }] of POINTWISE_LIST) {
        for (const attrs of k.test.attrs) {
          const params = k.params(attrs);
          for (const { label, x } of pointwiseInputs(k.test.range, k.test.sizes, k.test.edges)) {
            const n = x.length;
            const dy = randn(n, 200 + n);
            const dx0 = randn(n, 300 + n);
            const yRef = k.ref.forward(x, attrs);

            it(`${name}${attrsText(attrs)} forward ${label} (${tolText(k.tolerance.forward)})`, () => {
              const c = core(flavor);
              withBufs(c, [x, new Float32Array(n).fill(3)], ([xb, y]) => {
                pointwiseForward(c, k.exports.forward, y, xb, params, undefined, opts);
                expectWithin(y.view(), yRef, k.tolerance.forward, `${name} forward ${label}`);
                pointwiseForward(c, k.exports.forward, xb, xb, params, undefined, opts); // in place
                expectBits(xb.view(), y.view(), `${name} forward in place ${label}`);
              });
            });

            it(`${name}${attrsText(attrs)} backward ${label} accumulates (${tolText(k.tolerance.backward)})`, () => {
              const c = core(flavor);
              const y = Float32Array.from(yRef);
              withBufs(c, [dx0, dy, y], ([dx, dyb, yb]) => {
                pointwiseBackward(c, k.exports.backward, dx, dyb, yb, params, undefined, opts);
                expectWithin(dx.view(), k.ref.backward(Float32Array.from(dx0), dy, y, attrs), k.tolerance.backward, `${name} backward ${label}`);
              });
            });
          }
        }
      }

      // dropout: the op table's `dropout` entry (exports, wrappers, references, tolerances, sizes)
      for (const n of DROPOUT.test.sizes) {
        const p = DROPOUT.test.p;
        const x = randn(n, 400 + n, -3, 3);
        const dy = randn(n, 500 + n);
        const dx0 = randn(n, 600 + n);
        const mask = dropoutMaskRef(n, p, rng(700 + n));

        it(`dropout forward n=${n} p=${p} (exact)`, () => {
          const c = core(flavor);
          withBufs(c, [x, mask, new Float32Array(n)], ([xb, m, y]) => {
            DROPOUT.run.maskedForward(c, y, xb, m, undefined, opts);
            expectBits(y.view(), DROPOUT.ref.forward(x, mask), `dropout forward n=${n}`);
            DROPOUT.run.maskedForward(c, xb, xb, m, undefined, opts); // in place
            expectBits(xb.view(), y.view(), `dropout forward in place n=${n}`);
          });
        });

        it(`dropout backward n=${n} p=${p} accumulates (${tolText(DROPOUT.tolerance.backward)})`, () => {
          const c = core(flavor);
          withBufs(c, [dx0, dy, mask], ([dx, dyb, m]) => {
            DROPOUT.run.backward(c, dx, dyb, m, undefined, opts);
            expectWithin(dx.view(), DROPOUT.ref.backward(Float32Array.from(dx0), dy, mask), DROPOUT.tolerance.backward, `dropout backward n=${n}`);
          });
        });
      }

      it('extremes: finite, saturated, exact at 0, signed zeros, subnormals (rtol 2e-6 / 1 subnormal ulp)', () => {
        const c = core(flavor);
        const xs = Float32Array.from([
          100, -100, 1000, -1000, 88, -88, 89, -89, 104, -104, 110, -110, 9, -9, 10, -10, 20, -20,
          1e-30, -1e-30, 1e-45, -1e-45, 0, -0, 1e-4, -1e-4, 0.3465, -0.3466, 0.5, -0.5, 3.4e38, -3.4e38,
          Infinity, -Infinity,
        ]);
        withBufs(c, [xs, new Float32Array(xs.length), new Float32Array(xs.length)], ([xb, s, t]) => {
          sigmoidForward(c, s, xb, undefined, opts);
          tanhForward(c, t, xb, undefined, opts);
          const sv = s.view(), tv = t.view();
          const sr = sigmoidForwardRef(xs), tr = tanhForwardRef(xs);
          for (let i = 0; i < xs.length; i++) {
            const what = `x=${xs[i]}: sigmoid ${sv[i]} vs ${sr[i]}, tanh ${tv[i]} vs ${tr[i]}`;
            expect(sv[i] >= 0 && sv[i] <= 1, what).toBe(true);
            expect(tv[i] >= -1 && tv[i] <= 1, what).toBe(true);
            // relative 2e-6 for normal results, one subnormal step (2^-149) below them
            expect(Math.abs(sv[i] - sr[i]), what).toBeLessThanOrEqual(Math.max(RTOL_EXP * Math.abs(sr[i]), 1.5e-45));
            expect(Math.abs(tv[i] - tr[i]), what).toBeLessThanOrEqual(Math.max(RTOL_EXP * Math.abs(tr[i]), 1.5e-45));
          }
          expect(sv[22]).toBe(0.5); // sigmoid(0)
          expect(Object.is(tv[22], 0) && Object.is(tv[23], -0), 'tanh keeps the sign of zero').toBe(true);
          expect([sv[0], sv[1] > 0, tv[0], tv[1]]).toEqual([1, true, 1, -1]); // +-100
          expect([sv[32], sv[33], tv[32], tv[33]]).toEqual([1, 0, 1, -1]); // +-inf
        });
      });

      it('NaN propagates through every pointwise activation of the table', () => {
        const c = core(flavor);
        const xs = Float32Array.from([NaN, 1, NaN, -1, NaN]);
        withBufs(c, [xs, new Float32Array(5)], ([xb, y]) => {
          for (const [name, { pointwise: k }] of POINTWISE_LIST) {
            pointwiseForward(c, k.exports.forward, y, xb, k.params(k.test.attrs[0]), undefined, opts);
            const v = y.view();
            expect([Number.isNaN(v[0]), Number.isNaN(v[2]), Number.isNaN(v[4]), Number.isNaN(v[1])], name).toEqual([true, true, true, false]);
          }
        });
      });
    });
  }
}

describe('activation: SIMD and scalar twins agree bit for bit where madd is not fused', () => {
  for (const flavor of ['simd', 'debug'] as Flavor[]) {
    for (const [name, { pointwise: k }] of POINTWISE_LIST) {
      it(`${name} forward and backward ${flavor} n=4099`, () => {
        const c = core(flavor);
        const x = randn(4099, 77, -20, 20);
        const params = k.params(k.test.attrs[0]);
        const dy = randn(x.length, 78);
        const zeros = () => new Float32Array(x.length);
        withBufs(c, [x, zeros(), zeros(), dy, zeros(), zeros()], ([xb, y1, y2, dyb, dx1, dx2]) => {
          pointwiseForward(c, k.exports.forward, y1, xb, params);
          pointwiseForward(c, k.exports.forward, y2, xb, params, undefined, { scalar: true });
          expectBits(y1.view(), y2.view(), `${name} forward ${flavor}`);
          pointwiseBackward(c, k.exports.backward, dx1, dyb, y1, params);
          pointwiseBackward(c, k.exports.backward, dx2, dyb, y1, params, undefined, { scalar: true });
          expectBits(dx1.view(), dx2.view(), `${name} backward ${flavor}`);
        });
      });
    }
  }
});

describe('activation: backward with overwrite gives the bits of accumulating into zeros, never reading dx', () => {
  for (const flavor of FLAVORS) {
    for (const scalar of [false, true]) {
      for (const [name, { pointwise: k }] of POINTWISE_LIST) {
        it(`${name} ${flavor} ${scalar ? 'scalar' : 'simd'}: odd sizes and the edge values, dy with signed zeros`, () => {
          const c = core(flavor);
          for (const { label, x } of pointwiseInputs(k.test.range, k.test.sizes, k.test.edges)) {
            for (const attrs of k.test.attrs) {
              const params = k.params(attrs);
              // dy of both zero signs where y > 0 is where 0 + g and g alone differ in sign
              const dy = randn(x.length, 5 + x.length).map((v, i) => (i % 5 === 0 ? -0 : i % 5 === 1 ? 0 : v));
              const garbage = new Float32Array(x.length).fill(NaN);
              withBufs(c, [x, new Float32Array(x.length), dy, new Float32Array(x.length), garbage], ([xb, y, dyb, acc, over]) => {
                pointwiseForward(c, k.exports.forward, y, xb, params, undefined, { scalar });
                pointwiseBackward(c, k.exports.backward, acc, dyb, y, params, undefined, { scalar });
                pointwiseBackward(c, k.exports.backward, over, dyb, y, params, undefined, { scalar, overwrite: true });
                expectBits(over.view(), acc.view(), `${name}${attrsText(attrs)} ${label}`);
              });
            }
          }
        });
      }
    }
  }
});

describe('activation: accuracy sweep over [-12, 12] (each op at its forward tolerance)', () => {
  for (const flavor of FLAVORS) {
    it(`every pointwise activation ${flavor}, 200001 points`, () => {
      const c = core(flavor);
      const n = 200001;
      const x = new Float32Array(n);
      for (let i = 0; i < n; i++) x[i] = -12 + (24 * i) / (n - 1);
      withBufs(c, [x, new Float32Array(n)], ([xb, y]) => {
        for (const [name, { pointwise: k }] of POINTWISE_LIST) {
          const attrs = k.test.attrs[0];
          pointwiseForward(c, k.exports.forward, y, xb, k.params(attrs));
          expectWithin(y.view(), k.ref.forward(x, attrs), k.tolerance.forward, `${name} sweep`);
        }
      });
    });
  }
});

describe('activation bad input', () => {
  const c = core('simd');

  it('rejects null, freed, short and wrong-dtype buffers', () => {
    const a = c.heap.alloc(10);
    const b = c.heap.alloc(10);
    const short = c.heap.alloc(9);
    const idx = c.heap.alloc(10, 'i32');
    expect(() => reluForward(c, null as unknown as Buf, a)).toThrow(/reluForward: y is null/);
    expect(() => sigmoidForward(c, a, short)).toThrow(/sigmoidForward: x holds 9 elements, needs 10/);
    expect(() => tanhBackward(c, a, b, idx)).toThrow(/tanhBackward: y must hold f32, got i32/);
    expect(() => dropoutForward(c, a, b, short)).toThrow(/dropoutForward: mask holds 9 elements, needs 10/);
    expect(() => reluForward(c, a, b, 0)).toThrow(/reluForward: n must be an integer >= 1, got 0/);
    short.free();
    expect(() => dropoutBackward(c, a, b, short)).toThrow(/dropoutBackward: mask was freed/);
    a.free();
    b.free();
    idx.free();
  });

  it('rejects partly overlapping buffers (the same buffer is fine)', () => {
    const buf = c.heap.alloc(40);
    expect(() => tanhForward(c, buf.sub(2, 16), buf.sub(0, 16))).toThrow(/tanhForward: y and x overlap/);
    expect(() => sigmoidBackward(c, buf.sub(0, 16), buf.sub(20, 16), buf.sub(1, 16))).toThrow(/sigmoidBackward: dx and y overlap/);
    expect(() => reluBackward(c, buf.sub(0, 16), buf.sub(8, 16), buf.sub(24, 16))).toThrow(/reluBackward: dx and dy overlap/);
    reluForward(c, buf, buf);
    buf.free();
  });

  it('names a pointwise export the core lacks and a NaN hyper-parameter', () => {
    withBufs(c, [new Float32Array(4), new Float32Array(4)], ([a, b]) => {
      expect(() => pointwiseForward(c, 'no_such_forward', a, b)).toThrow(/no_such_forward: the core has no export no_such_forward/);
      expect(() => pointwiseBackward(c, 'leaky_relu_backward', a, b, a, [NaN])).toThrow(/leaky_relu_backward: hyper-parameters must be numbers, got NaN/);
    });
  });
});

describe('leaky ReLU bad input', () => {
  it('rejects a slope outside [0, 1)', () => {
    const c = core('simd');
    withBufs(c, [new Float32Array(4), new Float32Array(4)], ([a, b]) => {
      expect(() => leakyReluForward(c, a, b, 1)).toThrow(/leakyReluForward: slope must be a number in \[0, 1\), got 1/);
      expect(() => leakyReluBackward(c, a, b, a, -0.1)).toThrow(/leakyReluBackward: slope must be a number in \[0, 1\), got -0.1/);
    });
  });
});

describe('seeded dropout: the mask is drawn in the kernel from (seed, index)', () => {
  for (const flavor of FLAVORS) {
    for (const scalar of [false, true]) {
      for (const { n, p, seed } of DROPOUT.test.seeded) {
        it(`${flavor} ${scalar ? 'scalar' : 'simd'} n=${n} p=${p} seed=${seed}: the reference's mask, bit for bit`, () => {
          const c = core(flavor);
          const x = randn(n, 1100 + n, -3, 3);
          const maskRef = DROPOUT.ref.mask(n, p, seed);
          withBufs(c, [x, new Float32Array(n).fill(-7.25), new Float32Array(n).fill(-7.25)], ([xb, y, m]) => {
            DROPOUT.run.forward(c, y, m, xb, p, seed, undefined, { scalar });
            expectBits(m.view(), maskRef, 'mask');
            expectBits(y.view(), DROPOUT.ref.forward(x, maskRef), 'y');
          });
        });
      }
    }
  }

  it('keeps about 1-p of the elements, at 1/(1-p); the same seed gives the same mask, another seed another', () => {
    const c = core('simd');
    const n = 200003;
    for (const p of [0.1, 0.5, 0.8]) {
      withBufs(c, [new Float32Array(n).fill(1), new Float32Array(n), new Float32Array(n), new Float32Array(n)], ([x, y, m1, m2]) => {
        dropoutSeededForward(c, y, m1, x, p, 7);
        const mask = Float32Array.from(m1.view());
        const keep = Math.fround(1 / (1 - p));
        let kept = 0;
        for (const v of mask) {
          if (v !== 0 && v !== keep) throw new Error(`mask value ${v} is neither 0 nor ${keep}`);
          if (v !== 0) kept++;
        }
        // binomial standard deviation sqrt(n p (1-p)) <= 224: 5 of them is 0.0056 of n
        expect(Math.abs(kept / n - (1 - p)), `kept fraction at p=${p}`).toBeLessThan(0.006);
        dropoutSeededForward(c, y, m2, x, p, 7, undefined, { scalar: true });
        expectBits(m2.view(), mask, 'same seed, scalar twin');
        dropoutSeededForward(c, y, m2, x, p, 8);
        let same = 0;
        const other = m2.view();
        for (let i = 0; i < n; i++) if ((other[i] === 0) === (mask[i] === 0)) same++;
        // independent masks agree on p^2 + (1-p)^2 of the elements
        expect(Math.abs(same / n - (p * p + (1 - p) * (1 - p))), 'seed 8 vs seed 7 agreement').toBeLessThan(0.006);
      });
    }
  });

  it('p = 0 keeps everything at 1; bad p and seed are rejected', () => {
    const c = core('simd');
    withBufs(c, [randn(9, 5), new Float32Array(9), new Float32Array(9)], ([x, y, m]) => {
      dropoutSeededForward(c, y, m, x, 0, 3);
      expect(Array.from(m.view())).toEqual(new Array(9).fill(1));
      expectBits(y.view(), x.view(), 'y = x');
      expect(() => dropoutSeededForward(c, y, m, x, 1, 3)).toThrow(/dropoutSeededForward: p must be a number in \[0, 1\), got 1/);
      expect(() => dropoutSeededForward(c, y, m, x, 0.5, -1)).toThrow(/dropoutSeededForward: seed must be an integer >= 0, got -1/);
      expect(() => dropoutSeededForward(c, y, m, x, 0.5, 2 ** 32)).toThrow(/seed must be an integer in \[0, 2\^32\)/);
      expect(() => dropoutSeededForward(c, y, y, x, 0.5, 1)).toThrow(/mask and y overlap/);
    });
  });
});
