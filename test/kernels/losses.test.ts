// losses family: mean squared error and binary cross-entropy on logits, forward and backward,
// against the f64 references in src/ref/losses.ts, on every flavour and on both the SIMD
// kernels and their _scalar twins. The losses come from the op table (src/ops/table.ts
// `loss`): each entry names its exports, wrappers, reference, tolerances (and their reasons),
// sizes and input ranges, and the first suite runs them all; the edge cases below are the
// family's own.
import { describe, it, expect } from 'vitest';
import { core, FLAVORS, randn, rng, expectClose, withBufs, expectExportsWithTwins } from '../helpers/index.js';
import { mseForward, mseBackward, bceLogitsForward, bceLogitsBackward, type LossesExports } from '../../src/core/kernels/losses.js';
import { bceLogitsForwardRef } from '../../src/ref/losses.js';
import { LOSS_LIST, OPS, type LossInput, type OfMaxTolerance } from '../../src/ops/table.js';

/** bce's loss tolerance (its entry's), for the saturation cases below */
const RTOL_BCE_LOSS = OPS.bce_logits.loss.tolerance.loss.rtol;

const PATHS = [
  { name: 'simd', scalar: false },
  { name: 'scalar', scalar: true },
];

/** Targets in [0, 1] with exact 0s and 1s among them. */
function targets01(n: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, (_, i) => (i % 5 === 0 ? 0 : i % 5 === 1 ? 1 : r()));
}

function input(kind: LossInput, n: number, seed: number): Float32Array {
  return kind === 'targets01' ? targets01(n, seed) : randn(n, seed, kind[0], kind[1]);
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

function expectOfMax(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: OfMaxTolerance, what: string): void {
  expectClose(actual, expected, tol.rtol, what, maxAbs(expected));
}

describe('losses: every loss entry of the op table names exports (and _scalar twins) that every build has', () => {
  for (const flavor of FLAVORS) {
    it(flavor, () => {
      const names = LOSS_LIST.flatMap(([, { loss: k }]) => [k.exports.forward, k.exports.backward]);
      expect(names.length).toBeGreaterThanOrEqual(4);
      expectExportsWithTwins(core(flavor), names);
    });
  }
});

for (const flavor of FLAVORS) {
  for (const path of PATHS) {
    const opts = { scalar: path.scalar };
    describe(`losses ${flavor} ${path.name}`, () => {
      const c = core(flavor);
      LOSS_LIST.forEach(([name, { loss: k }], li) => {
        const seed = 1000 * (li + 1);
        for (const n of k.test.sizes) {
          const savedText = k.tolerance.saved ? `, saved (${k.tolerance.saved.rtol} of its max)` : '';
          it(`${name} forward n=${n} vs reference: loss (rtol ${k.tolerance.loss.rtol})${savedText}`, () => {
            const p = input(k.test.forward.pred, n, seed + 3 * n + 1);
            const t = input(k.test.forward.target, n, seed + 7 * n + 2);
            withBufs(c, [p, t, new Float32Array(n).fill(Number.NaN)], ([pred, target, saved]) => {
              const loss = k.run.forward(c, pred, target, k.saves ? saved : undefined, opts);
              const ref = k.ref.forward(p, t);
              expectClose([loss], [ref.loss], k.tolerance.loss.rtol, `${name} loss [${n}]`);
              if (k.saves) expectOfMax(saved.view(), ref.saved!, k.tolerance.saved!, `${name} saved [${n}]`);
              expectClose(pred.view(), p, 0, 'pred unchanged');
              expectClose(target.view(), t, 0, 'target unchanged');
            });
          });

          it(`${name} backward n=${n} accumulates into a non-zero gradient, scale 1 and 0.37 (${k.tolerance.backward.rtol} of the max)`, () => {
            const p = input(k.test.backward.pred, n, seed + 5 * n + 1);
            const t = input(k.test.backward.target, n, seed + 11 * n + 2);
            const d0 = randn(n, seed + 13 * n + 3, -1 / n, 1 / n);
            withBufs(c, [p, t, new Float32Array(n), d0], ([pred, target, savedBuf, dpred]) => {
              const saved = k.saves ? savedBuf : undefined;
              k.run.forward(c, pred, target, saved, opts);
              const s = saved?.toArray();
              const want = Float64Array.from(d0);
              k.run.backward(c, dpred, pred, target, saved, 1, opts);
              k.ref.backward(want, p, t, s, 1);
              expectOfMax(dpred.view(), want, k.tolerance.backward, `${name} grad [${n}] scale 1`);
              k.run.backward(c, dpred, pred, target, saved, 0.37, opts);
              k.ref.backward(want, p, t, s, 0.37);
              expectOfMax(dpred.view(), want, k.tolerance.backward, `${name} grad [${n}] + scale 0.37`);
              if (s) expectClose(savedBuf.view(), s, 0, 'saved unchanged');
              expectClose(pred.view(), p, 0, 'pred unchanged');
            });
          });
        }
      });

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
              expectClose([loss], [ref.loss], RTOL_BCE_LOSS, `${what} shift ${shift}: loss`);
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
          expectClose([loss], [byHand], RTOL_BCE_LOSS, 'agreeing targets by hand');
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
