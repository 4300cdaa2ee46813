// losses family: mean squared error and binary cross-entropy on logits, forward and backward,
// against the f64 references in src/ref/losses.ts, on every flavour and on both the SIMD
// kernels and their _scalar twins.
import { describe, it, expect } from 'vitest';
import { core, FLAVORS, randn, rng, expectClose, withBufs } from '../helpers/index.js';
import { mseForward, mseBackward, bceLogitsForward, bceLogitsBackward, type LossesExports } from '../../src/core/kernels/losses.js';
import { mseForwardRef, mseBackwardRef, bceLogitsForwardRef, bceLogitsBackwardRef } from '../../src/ref/losses.js';

// element counts: one, below a vector, exactly one vector, one vector and a tail of 1 and 3,
// two vectors, odd, the LeNet head (64x10), a large odd one
const SIZES = [1, 3, 4, 5, 7, 8, 13, 640, 4099];

const PATHS = [
  { name: 'simd', scalar: false },
  { name: 'scalar', scalar: true },
];

// f64 sums of terms each within a few f32 ulps: the mean is good to a few ulps
const RTOL_LOSS = 1e-6;
// gradients: (pred - target) or the residual, one scale, one add into a non-zero start. The add
// cancels where the start and the increment have opposite signs, so an entry is judged against
// the tensor's max (an ulp of the max is 6e-8 of it)
const RTOL_GRAD = 1e-6;

/** Targets in [0, 1] with exact 0s and 1s among them. */
function targets01(n: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, (_, i) => (i % 5 === 0 ? 0 : i % 5 === 1 ? 1 : r()));
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

for (const flavor of FLAVORS) {
  for (const path of PATHS) {
    const opts = { scalar: path.scalar };
    describe(`losses ${flavor} ${path.name}`, () => {
      const c = core(flavor);
      for (const n of SIZES) {
        it(`mse forward n=${n} vs reference (rtol ${RTOL_LOSS})`, () => {
          const p = randn(n, 3 * n + 1, -5, 5);
          const t = randn(n, 7 * n + 2, -5, 5);
          withBufs(c, [p, t], ([pred, target]) => {
            const loss = mseForward(c, pred, target, undefined, opts);
            expectClose([loss], [mseForwardRef(p, t)], RTOL_LOSS, `mse [${n}]`);
            expectClose(pred.view(), p, 0, 'pred unchanged');
          });
        });

        it(`mse backward n=${n} accumulates into non-zero dpred, scale 1 and 0.37 (${RTOL_GRAD} of the max)`, () => {
          const p = randn(n, 5 * n + 1, -2, 2);
          const t = randn(n, 11 * n + 2, -2, 2);
          const d0 = randn(n, 13 * n + 3, -1 / n, 1 / n);
          withBufs(c, [p, t, d0], ([pred, target, dpred]) => {
            const want = Float64Array.from(d0);
            mseBackward(c, dpred, pred, target, 1, undefined, opts);
            mseBackwardRef(want, p, t, 1);
            expectClose(dpred.view(), want, RTOL_GRAD, `dpred [${n}] scale 1`, maxAbs(want));
            mseBackward(c, dpred, pred, target, 0.37, undefined, opts);
            mseBackwardRef(want, p, t, 0.37);
            expectClose(dpred.view(), want, RTOL_GRAD, `dpred [${n}] + scale 0.37`, maxAbs(want));
          });
        });

        it(`bce_logits forward n=${n} vs reference: loss (rtol ${RTOL_LOSS}), residual (1e-6 of its max)`, () => {
          const x = randn(n, 17 * n + 1, -8, 8);
          const t = targets01(n, 19 * n + 2);
          withBufs(c, [x, t, new Float32Array(n).fill(Number.NaN)], ([logits, target, resid]) => {
            const loss = bceLogitsForward(c, resid, logits, target, undefined, opts);
            const ref = bceLogitsForwardRef(x, t);
            // the loss terms are all >= 0, so 2 ulps each give a few ulps of the mean
            expectClose([loss], [ref.loss], 4 * RTOL_LOSS, `bce loss [${n}]`);
            // (1 - t) - q cancels where sigmoid(x) ~ t: judged against the residuals' size
            expectClose(resid.view(), ref.resid, 1e-6, `bce resid [${n}]`, maxAbs(ref.resid));
            expectClose(logits.view(), x, 0, 'logits unchanged');
          });
        });

        it(`bce_logits backward n=${n} accumulates into non-zero dlogits, scale 1 and 0.37 (${RTOL_GRAD} of the max)`, () => {
          const x = randn(n, 23 * n + 1, -4, 4);
          const t = targets01(n, 29 * n + 2);
          const d0 = randn(n, 31 * n + 3, -1 / n, 1 / n);
          withBufs(c, [x, t, new Float32Array(n), d0], ([logits, target, resid, dl]) => {
            bceLogitsForward(c, resid, logits, target, undefined, opts);
            const r = resid.toArray();
            const want = Float64Array.from(d0);
            bceLogitsBackward(c, dl, resid, 1, undefined, opts);
            bceLogitsBackwardRef(want, r, 1);
            expectClose(dl.view(), want, RTOL_GRAD, `dlogits [${n}] scale 1`, maxAbs(want));
            bceLogitsBackward(c, dl, resid, 0.37, undefined, opts);
            bceLogitsBackwardRef(want, r, 0.37);
            expectClose(dl.view(), want, RTOL_GRAD, `dlogits [${n}] + scale 0.37`, maxAbs(want));
            expectClose(resid.view(), r, 0, 'resid unchanged');
          });
        });
      }

      it('mse of equal inputs is 0 and its gradient adds nothing', () => {
        const p = randn(9, 1);
        withBufs(c, [p, Float32Array.from(p), new Float32Array(9).fill(0.5)], ([pred, target, dpred]) => {
          expect(mseForward(c, pred, target, undefined, opts)).toBe(0);
          mseBackward(c, dpred, pred, target, 1, undefined, opts);
          expect(Array.from(dpred.view())).toEqual(new Array(9).fill(0.5));
        });
      });

      it('mse with n below the buffers\' length reads only the first n elements', () => {
        const p = Float32Array.of(1, 2, 3, 4, 5, 100, 100);
        const t = Float32Array.of(0, 0, 0, 0, 0, -100, -100);
        withBufs(c, [p, t], ([pred, target]) => {
          expectClose([mseForward(c, pred, target, 5, opts)], [(1 + 4 + 9 + 16 + 25) / 5], 1e-7, 'mse first 5');
        });
      });

      it('bce_logits at |x| = 30, 100, 1e4 (targets 0 and 1): the loss keeps log1p(exp(-|x|)) and the residual keeps its size', () => {
        // 12 elements: three vectors, so the SIMD body handles them all; then the same shifted by
        // one so that the scalar tail sees some
        const xs = [30, -30, 100, -100, 1e4, -1e4, 30, -30, 100, -100, 0, -0];
        const agree = Float32Array.from(xs, (v, i) => (i >= 10 ? 1 : v > 0 ? 1 : 0)); // t = 1 at x = +-0
        const disagree = Float32Array.from(agree, (v, i) => (i >= 10 ? 0 : 1 - v));
        for (const [what, t] of [['targets agree', agree], ['targets disagree', disagree]] as const) {
          for (const shift of [0, 1]) {
            const x = Float32Array.from([...new Array(shift).fill(0.5), ...xs]);
            const tt = Float32Array.from([...new Array(shift).fill(0.5), ...t]);
            withBufs(c, [x, tt, new Float32Array(x.length)], ([logits, target, resid]) => {
              const loss = bceLogitsForward(c, resid, logits, target, undefined, opts);
              const ref = bceLogitsForwardRef(x, tt);
              expect(Number.isFinite(loss)).toBe(true);
              expectClose([loss], [ref.loss], 4 * RTOL_LOSS, `${what} shift ${shift}: loss`);
              // elementwise, down to the subnormals: e^-100 = 3.7e-44 is 27 steps of 2^-149
              const r = resid.view();
              for (let i = 0; i < x.length; i++) {
                const err = Math.abs(r[i] - ref.resid[i]);
                if (!(err <= 1e-6 * Math.abs(ref.resid[i]) + 2 ** -148)) {
                  throw new Error(`${what} shift ${shift}: resid[${i}] (x=${x[i]}, t=${tt[i]}) = ${r[i]}, reference ${ref.resid[i]}`);
                }
              }
            });
          }
        }
        // the by-hand value: 2 log1p(e^-30) + 2 log1p(e^-100) + 2 log1p(e^-1e4) + 2 log1p(1) over 12
        withBufs(c, [Float32Array.from(xs), agree, new Float32Array(12)], ([logits, target, resid]) => {
          const loss = bceLogitsForward(c, resid, logits, target, undefined, opts);
          const byHand = (4 * Math.log1p(Math.exp(-30)) + 4 * Math.log1p(Math.exp(-100)) + 2 * Math.log(2)) / 12;
          expectClose([loss], [byHand], 4 * RTOL_LOSS, 'agreeing targets by hand');
          expect(resid.view()[0]).toBeLessThan(0); // sigmoid(30) - 1 = -9.4e-14, not 0
          expectClose([resid.view()[0]], [-1 / (1 + Math.exp(30))], 1e-6, 'sigmoid(30) - 1');
          expect(resid.view()[3]).toBeGreaterThan(0); // sigmoid(-100) = 3.7e-44, a subnormal
        });
      });

      it('bce_logits of all-saturated agreeing elements is the tiny log1p(e^-30), not 0', () => {
        const x = Float32Array.of(30, -30, 30, -30, 30);
        const t = Float32Array.of(1, 0, 1, 0, 1);
        withBufs(c, [x, t, new Float32Array(5)], ([logits, target, resid]) => {
          const loss = bceLogitsForward(c, resid, logits, target, undefined, opts);
          expectClose([loss], [Math.log1p(Math.exp(-30))], 1e-6, 'saturated loss');
        });
      });

      it('NaN logits give a NaN loss and NaN residuals, no trap', () => {
        const x = Float32Array.of(Number.NaN, 1, 2, 3, Number.NaN);
        withBufs(c, [x, new Float32Array(5).fill(0.5), new Float32Array(5)], ([logits, target, resid]) => {
          expect(bceLogitsForward(c, resid, logits, target, undefined, opts)).toBeNaN();
          expect(resid.view()[0]).toBeNaN();
          expect(resid.view()[4]).toBeNaN();
          expect(Number.isFinite(resid.view()[1])).toBe(true);
        });
      });
    });
  }

  describe(`losses ${flavor} rejects bad input`, () => {
    const c = core(flavor);
    it('targets of the wrong length, bad n and scale, overlapping or freed buffers', () => {
      withBufs(c, [new Float32Array(6), new Float32Array(5), new Float32Array(6), new Float32Array(6)], ([a, short, b, d]) => {
        expect(() => mseForward(c, a, short)).toThrow(/mseForward: target holds 5 elements, needs 6/);
        expect(() => mseBackward(c, d, a, short)).toThrow(/mseBackward: target holds 5 elements, needs 6/);
        expect(() => mseBackward(c, short, a, b, 1, 6)).toThrow(/mseBackward: dpred holds 5 elements, needs 6/);
        expect(() => bceLogitsForward(c, b, a, short)).toThrow(/bceLogitsForward: target holds 5 elements, needs 6/);
        expect(() => bceLogitsForward(c, short, a, b)).toThrow(/bceLogitsForward: resid holds 5 elements, needs 6/);
        expect(() => bceLogitsBackward(c, d, short)).toThrow(/bceLogitsBackward: resid holds 5 elements, needs 6/);
        expect(() => mseForward(c, a, b, 0)).toThrow(/mseForward: n must be an integer >= 1, got 0/);
        expect(() => mseForward(c, a, b, 2.5)).toThrow(/n must be an integer >= 1, got 2.5/);
        expect(() => mseBackward(c, d, a, b, Number.NaN)).toThrow(/mseBackward: scale must be a finite number, got NaN/);
        expect(() => bceLogitsBackward(c, d, b, Infinity)).toThrow(/bceLogitsBackward: scale must be a finite number, got Infinity/);
        expect(() => bceLogitsForward(c, a, a, b)).toThrow(/bceLogitsForward: resid and logits overlap/);
        expect(() => bceLogitsForward(c, b, a, b)).toThrow(/bceLogitsForward: resid and target overlap/);
        expect(() => mseBackward(c, d.sub(1, 5), d.sub(0, 5), b)).toThrow(/mseBackward: dpred and pred overlap/);
        const i32 = c.heap.from([1, 2, 3, 4, 5, 6], 'i32');
        expect(() => mseForward(c, a, i32)).toThrow(/mseForward: target must hold f32, got i32/);
        i32.free();
        const gone = c.heap.from(new Float32Array(6));
        gone.free();
        expect(() => bceLogitsForward(c, b, gone, a)).toThrow(/bceLogitsForward: logits was freed/);
      });
    });

    if (flavor === 'debug') {
      it('the debug build asserts n >= 1 when the wrapper is bypassed', () => {
        const f = c.fns<LossesExports>();
        withBufs(c, [new Float32Array(4), new Float32Array(4)], ([a, b]) => {
          expect(() => f.mse_forward(a.ptr, b.ptr, 0)).toThrow(/iruka kernel assertion: .*mse_forward: n must be >= 1/);
          expect(() => f.bce_logits_backward_scalar(a.ptr, b.ptr, 0, 1)).toThrow(/iruka kernel assertion: .*bce_logits_backward: n must be >= 1/);
        });
      });
    }
  });
}
