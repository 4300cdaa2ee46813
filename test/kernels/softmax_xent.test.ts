// softmax_xent family: fused softmax + mean cross-entropy forward/backward and plain softmax,
// against the f64 references in src/ref/softmax_xent.ts, on every flavour and on both the SIMD
// kernels and their _scalar twins. The forward/backward kernel pairs (plain and label
// smoothing) come from the op table (src/ops/table.ts softmax_xent `xent`: exports, wrappers,
// references, tolerances, shapes, eps) and the table suite runs them all; softmax_forward and
// the edge cases below are the family's own.
import { describe, it, expect } from 'vitest';
import { core, FLAVORS, randn, rng, expectClose, expectBits, expectExportsWithTwins } from '../helpers/index.js';
import {
  softmaxXentForward,
  softmaxXentBackward,
  softmaxXentSmoothForward,
  softmaxXentSmoothBackward,
  softmaxForward,
  type SoftmaxXentExports,
} from '../../src/core/kernels/softmax_xent.js';
import {
  softmaxRef,
  softmaxXentForwardRef,
  softmaxXentSmoothForwardRef,
} from '../../src/ref/softmax_xent.js';
import { OPS, type Tolerance, type OfMaxTolerance } from '../../src/ops/table.js';
import type { Buf } from '../../src/core/heap.js';

// [n, c]: single element, one row, odd sizes below and above a vector, an exact multiple of 4,
// the LeNet head (64x10), and a large prime-ish case
const SHAPES: Array<[number, number]> = [
  [1, 1],
  [1, 10],
  [3, 7],
  [2, 4],
  [5, 3],
  [64, 10],
  [257, 1001],
];

const PATHS = [
  { name: 'simd', scalar: false },
  { name: 'scalar', scalar: true },
];

// f32 results against f64 references: exp (a few ulp), a row sum of up to 1001 terms, a divide
const RTOL_PROBS = 1e-5;
const RTOL_LOSS = 1e-5;

function labelsFor(n: number, c: number, seed: number): Int32Array {
  const r = rng(seed);
  return Int32Array.from({ length: n }, () => Math.floor(r() * c));
}

/** Runs `body` and checks that everything it allocated was freed. */
function leakFree(flavor: (typeof FLAVORS)[number], body: (alloc: (src: ArrayLike<number>, dtype?: 'f32' | 'i32') => Buf) => void): void {
  const heap = core(flavor).heap;
  const base = heap.liveBytes;
  const bufs: Buf[] = [];
  try {
    body((src, dtype = 'f32') => {
      const b = heap.from(src, dtype);
      bufs.push(b);
      return b;
    });
  } finally {
    for (const b of bufs) if (b.alive) b.free();
  }
  expect(heap.liveBytes).toBe(base);
}

function expectWithin(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance | OfMaxTolerance, what: string): void {
  if (tol === 'exact') expectBits(Float32Array.from(actual), Float32Array.from(expected), what);
  else if ('ofMax' in tol) expectClose(actual, expected, tol.rtol, what, maxAbs(expected));
  else expectClose(actual, expected, tol.rtol, what, tol.scale);
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

const tolText = (t: Tolerance | OfMaxTolerance) => (t === 'exact' ? 'exact' : 'ofMax' in t ? `${t.rtol} of the max` : `rtol ${t.rtol}`);
const XENT = OPS.softmax_xent.xent;

describe('softmax_xent: the op table entry names exports (and _scalar twins) that every build has', () => {
  for (const flavor of FLAVORS) {
    it(flavor, () => {
      expectExportsWithTwins(core(flavor), Object.values(XENT.variants).flatMap((k) => [k.exports.forward, k.exports.backward]));
    });
  }
});

// The op table's kernel pairs (plain and label smoothing) against their references on its
// shapes; tolerances and their reasons live in the entry.
for (const flavor of FLAVORS) {
  for (const path of PATHS) {
    const opts = { scalar: path.scalar };
    describe(`softmax_xent table ${flavor} ${path.name}`, () => {
      for (const [variant, k] of Object.entries(XENT.variants)) {
        for (const eps of k.eps) {
          const what = eps === 0 ? variant : `${variant} eps=${eps}`;
          for (const [n, c] of XENT.test.shapes) {
            const d = { n, c };
            const seed = Math.round(1000 * eps) + 1;
            it(`${what} forward logits=[${n},${c}] vs reference (probs rtol ${k.tolerance.probs.rtol}, loss rtol ${k.tolerance.loss.rtol})`, () => {
              leakFree(flavor, (alloc) => {
                const x = randn(n * c, seed * (11 * n + c), -6, 6);
                const lab = labelsFor(n, c, seed * (n + 7 * c));
                const logits = alloc(x);
                const labels = alloc(lab, 'i32');
                const probs = alloc(new Float32Array(n * c).fill(Number.NaN)); // overwritten, never read
                const loss = k.run.forward(core(flavor), probs, logits, labels, d, eps, opts);
                const ref = k.ref.forward(x, lab, d, eps);
                expectClose(probs.view(), ref.probs, k.tolerance.probs.rtol, `${what} probs [${n},${c}]`);
                expectClose([loss], [ref.loss], k.tolerance.loss.rtol, `${what} loss [${n},${c}]`);
                expectClose(logits.view(), x, 0, 'logits unchanged');
              });
            });

            it(`${what} backward logits=[${n},${c}] accumulates into non-zero dlogits, scale 1 and 0.37 (${tolText(k.tolerance.backward)})`, () => {
              leakFree(flavor, (alloc) => {
                const x = randn(n * c, seed * (5 * n + c), -3, 3);
                const lab = labelsFor(n, c, seed * (3 * n + c));
                const logits = alloc(x);
                const labels = alloc(lab, 'i32');
                const probs = alloc(new Float32Array(n * c));
                k.run.forward(core(flavor), probs, logits, labels, d, eps, opts);
                const p = probs.toArray();
                // start from values of the gradient's own size, so the += is visible
                const d0 = randn(n * c, seed * (17 * n + c), -1 / n, 1 / n);
                const dl = alloc(d0);
                const want = Float64Array.from(d0);
                k.run.backward(core(flavor), dl, probs, labels, d, eps, 1, opts);
                k.ref.backward(want, p, lab, d, eps, 1);
                expectWithin(dl.view(), want, k.tolerance.backward, `${what} dlogits [${n},${c}] scale 1`);
                k.run.backward(core(flavor), dl, probs, labels, d, eps, 0.37, opts);
                k.ref.backward(want, p, lab, d, eps, 0.37);
                expectWithin(dl.view(), want, k.tolerance.backward, `${what} dlogits [${n},${c}] + scale 0.37`);
                expectClose(probs.view(), p, 0, 'probs unchanged');
              });
            });
          }
        }
      }
    });
  }
}

for (const flavor of FLAVORS) {
  for (const path of PATHS) {
    const opts = { scalar: path.scalar };
    describe(`softmax_xent ${flavor} ${path.name}`, () => {
      for (const [n, c] of SHAPES) {
        const d = { n, c };
        it(`softmax_forward x=[${n},${c}] vs reference (rtol ${RTOL_PROBS})`, () => {
          leakFree(flavor, (alloc) => {
            const xs = randn(n * c, 23 * n + c, -8, 8);
            const x = alloc(xs);
            const y = alloc(new Float32Array(n * c).fill(Number.NaN));
            softmaxForward(core(flavor), y, x, d, opts);
            expectClose(y.view(), softmaxRef(xs, d), RTOL_PROBS, `softmax [${n},${c}]`);
          });
        });
      }

      it('forward in place (probs === logits) and softmax in place (y === x) give the same results', () => {
        leakFree(flavor, (alloc) => {
          const [n, c] = [9, 13];
          const x = randn(n * c, 99, -4, 4);
          const lab = labelsFor(n, c, 98);
          const labels = alloc(lab, 'i32');
          const buf = alloc(x);
          const loss = softmaxXentForward(core(flavor), buf, buf, labels, { n, c }, opts);
          const ref = softmaxXentForwardRef(x, lab, { n, c });
          expectClose(buf.view(), ref.probs, RTOL_PROBS, 'in-place probs');
          expectClose([loss], [ref.loss], RTOL_LOSS, 'in-place loss');
          const y = alloc(x);
          softmaxForward(core(flavor), y, y, { n, c }, opts);
          expectClose(y.view(), ref.probs, RTOL_PROBS, 'in-place softmax');
        });
      });

      it('extreme logits +-1e4 stay finite: probs one-hot-like, loss = the logit gap', () => {
        leakFree(flavor, (alloc) => {
          // row 0: one logit at +1e4, label on a -1e4 entry (prob underflows to 0; loss 2e4)
          // row 1: all -1e4 (uniform); row 2: +1e4 twice (two halves), label on one of them
          const c = 11;
          const x = new Float32Array(3 * c);
          for (let j = 0; j < c; j++) x[j] = j === 5 ? 1e4 : -1e4;
          for (let j = 0; j < c; j++) x[c + j] = -1e4;
          for (let j = 0; j < c; j++) x[2 * c + j] = j === 2 || j === 9 ? 1e4 : randn(1, j)[0] * 1e4 - 1e4 * 2;
          const lab = Int32Array.of(0, 4, 9);
          const probs = alloc(new Float32Array(3 * c));
          const loss = softmaxXentForward(core(flavor), probs, alloc(x), alloc(lab, 'i32'), { n: 3, c }, opts);
          const ref = softmaxXentForwardRef(x, lab, { n: 3, c });
          expect(Number.isFinite(loss)).toBe(true);
          expect(probs.view().every(Number.isFinite)).toBe(true);
          expectClose([loss], [ref.loss], RTOL_LOSS, 'extreme loss');
          expectClose([loss], [(2e4 + Math.log(c) + Math.log(2)) / 3], RTOL_LOSS, 'extreme loss by hand');
          expectClose(probs.view(), ref.probs, RTOL_PROBS, 'extreme probs');
          expect(probs.view()[0]).toBe(0);
          expect(probs.view()[5]).toBe(1);
        });
      });

      it('equal logits give uniform probabilities 1/c and loss log(c), c=13', () => {
        leakFree(flavor, (alloc) => {
          const c = 13;
          const probs = alloc(new Float32Array(2 * c));
          const x = new Float32Array(2 * c).fill(0.75);
          const loss = softmaxXentForward(core(flavor), probs, alloc(x), alloc([3, 12], 'i32'), { n: 2, c }, opts);
          expectClose(probs.view(), new Float32Array(2 * c).fill(1 / c), 1e-6, 'uniform probs');
          const p = probs.view();
          expect(p.every((v) => v === p[0])).toBe(true); // the tail uses the same exp as the body
          expectClose([loss], [Math.log(c)], 1e-6, 'loss log(c)');
        });
      });
    });
  }

  describe(`softmax_xent ${flavor} rejects bad input`, () => {
    it('labels outside [0, c), wrong dtype, short or freed buffers, bad sizes and scale', () => {
      leakFree(flavor, (alloc) => {
        const cr = core(flavor);
        const d = { n: 4, c: 10 };
        const logits = alloc(randn(40, 1));
        const probs = alloc(new Float32Array(40));
        const bad = alloc([1, 2, 3, 12], 'i32');
        expect(() => softmaxXentForward(cr, probs, logits, bad, d)).toThrow(/softmaxXentForward: label 12 at row 3 is outside \[0, 10\)/);
        expect(() => softmaxXentBackward(cr, alloc(new Float32Array(40)), probs, bad, d)).toThrow(
          /softmaxXentBackward: label 12 at row 3 is outside \[0, 10\)/,
        );
        const neg = alloc([0, -1, 0, 0], 'i32');
        expect(() => softmaxXentForward(cr, probs, logits, neg, d)).toThrow(/label -1 at row 1 is outside \[0, 10\)/);
        const labF32 = alloc([1, 2, 3, 4]);
        expect(() => softmaxXentForward(cr, probs, logits, labF32, d)).toThrow(/labels must hold i32, got f32/);
        const labels = alloc([1, 2, 3, 4], 'i32');
        expect(() => softmaxXentForward(cr, probs, logits, labels, { n: 5, c: 10 })).toThrow(/logits holds 40 elements, needs 50/);
        expect(() => softmaxXentForward(cr, alloc(new Float32Array(39)), logits, labels, d)).toThrow(/probs holds 39 elements, needs 40/);
        expect(() => softmaxXentForward(cr, probs, logits, labels, { n: 4, c: 2.5 })).toThrow(/c must be an integer >= 1, got 2.5/);
        expect(() => softmaxXentForward(cr, probs, logits, labels, { n: 0, c: 10 })).toThrow(/n must be an integer >= 1, got 0/);
        expect(() => softmaxXentBackward(cr, alloc(new Float32Array(40)), probs, labels, d, Number.NaN)).toThrow(
          /scale must be a finite number, got NaN/,
        );
        expect(() => softmaxXentBackward(cr, probs, probs, labels, d)).toThrow(/dlogits and probs overlap/);
        expect(() => softmaxForward(cr, probs.sub(1, 39), probs.sub(0, 39), { n: 3, c: 13 })).toThrow(/y and x overlap/);
        expect(() => softmaxForward(cr, null as unknown as Buf, logits, d)).toThrow(/softmaxForward: y is null/);
        const gone = cr.heap.from(randn(40, 2));
        gone.free();
        expect(() => softmaxForward(cr, probs, gone, d)).toThrow(/softmaxForward: x was freed/);
      });
    });

    if (flavor === 'debug') {
      it('the debug build asserts labels when the wrapper is bypassed', () => {
        leakFree(flavor, (alloc) => {
          const f = core(flavor).fns<SoftmaxXentExports>();
          const x = alloc(randn(20, 3));
          const p = alloc(new Float32Array(20));
          const lab = alloc([0, 12], 'i32');
          expect(() => f.softmax_xent_forward(p.ptr, x.ptr, lab.ptr, 2, 10)).toThrow(/iruka kernel assertion: .*label outside/);
          expect(() => f.softmax_xent_backward_scalar(p.ptr, x.ptr, lab.ptr, 2, 10, 1)).toThrow(/iruka kernel assertion: .*label outside/);
        });
      });
    }
  });
}

// Label smoothing (its kernels against their references run in the table suite above): the
// smooth probs bit for bit the plain kernels' (same softmax code), and eps = 0 landing on the
// plain loss.
for (const flavor of FLAVORS) {
  for (const path of PATHS) {
    const opts = { scalar: path.scalar };
    describe(`softmax_xent label smoothing ${flavor} ${path.name}`, () => {
      for (const [n, c] of SHAPES) {
        const d = { n, c };
        for (const eps of [0.1, 0.35]) {
          it(`smooth forward logits=[${n},${c}] eps=${eps}: probs equal the plain kernel's bits`, () => {
            leakFree(flavor, (alloc) => {
              const x = randn(n * c, 41 * n + c, -6, 6);
              const lab = labelsFor(n, c, 43 * n + c);
              const logits = alloc(x);
              const labels = alloc(lab, 'i32');
              const probs = alloc(new Float32Array(n * c).fill(Number.NaN));
              softmaxXentSmoothForward(core(flavor), probs, logits, labels, d, eps, opts);
              const plain = alloc(new Float32Array(n * c));
              softmaxXentForward(core(flavor), plain, logits, labels, d, opts);
              expectBits(probs.view(), plain.view(), 'smooth probs vs plain probs');
            });
          });
        }
      }

      it('eps = 0 through the smooth kernels gives the plain loss and gradient (to rounding)', () => {
        leakFree(flavor, (alloc) => {
          const [n, c] = [7, 11];
          const x = randn(n * c, 61, -5, 5);
          const lab = labelsFor(n, c, 62);
          const logits = alloc(x);
          const labels = alloc(lab, 'i32');
          const p1 = alloc(new Float32Array(n * c));
          const p2 = alloc(new Float32Array(n * c));
          const plain = softmaxXentForward(core(flavor), p1, logits, labels, { n, c }, opts);
          const smooth = softmaxXentSmoothForward(core(flavor), p2, logits, labels, { n, c }, 0, opts);
          expectClose([smooth], [plain], 1e-6, 'eps 0 loss');
          const g1 = alloc(new Float32Array(n * c));
          const g2 = alloc(new Float32Array(n * c));
          softmaxXentBackward(core(flavor), g1, p1, labels, { n, c }, 1, opts);
          softmaxXentSmoothBackward(core(flavor), g2, p2, labels, { n, c }, 0, 1, opts);
          expectBits(g2.view(), g1.view(), 'eps 0 gradient'); // on = 1, off = 0: the same arithmetic
        });
      });

      it('extreme logits +-1e4 and in place (probs === logits): finite, as the reference', () => {
        leakFree(flavor, (alloc) => {
          const c = 11;
          const x = new Float32Array(3 * c);
          for (let j = 0; j < c; j++) x[j] = j === 5 ? 1e4 : -1e4;
          for (let j = 0; j < c; j++) x[c + j] = -1e4;
          for (let j = 0; j < c; j++) x[2 * c + j] = j === 2 || j === 9 ? 1e4 : -3e4 + j;
          const lab = Int32Array.of(0, 4, 9);
          const buf = alloc(x);
          const loss = softmaxXentSmoothForward(core(flavor), buf, buf, alloc(lab, 'i32'), { n: 3, c }, 0.2, opts);
          const ref = softmaxXentSmoothForwardRef(x, lab, { n: 3, c }, 0.2);
          expect(Number.isFinite(loss)).toBe(true);
          expectClose([loss], [ref.loss], RTOL_LOSS, 'extreme smooth loss');
          expectClose(buf.view(), ref.probs, RTOL_PROBS, 'extreme smooth probs, in place');
        });
      });
    });
  }

  describe(`softmax_xent label smoothing ${flavor} rejects bad input`, () => {
    it('eps outside [0, 1), bad labels, short buffers', () => {
      leakFree(flavor, (alloc) => {
        const cr = core(flavor);
        const d = { n: 4, c: 10 };
        const logits = alloc(randn(40, 1));
        const probs = alloc(new Float32Array(40));
        const labels = alloc([1, 2, 3, 4], 'i32');
        for (const eps of [1, -0.1, Number.NaN, 1.5]) {
          expect(() => softmaxXentSmoothForward(cr, probs, logits, labels, d, eps)).toThrow(
            new RegExp(`softmaxXentSmoothForward: labelSmoothing must be a number in \\[0, 1\\), got ${eps}`),
          );
          expect(() => softmaxXentSmoothBackward(cr, alloc(new Float32Array(40)), probs, labels, d, eps)).toThrow(
            /softmaxXentSmoothBackward: labelSmoothing must be a number in \[0, 1\)/,
          );
        }
        const bad = alloc([1, 2, 3, 10], 'i32');
        expect(() => softmaxXentSmoothForward(cr, probs, logits, bad, d, 0.1)).toThrow(/softmaxXentSmoothForward: label 10 at row 3 is outside \[0, 10\)/);
        expect(() => softmaxXentSmoothBackward(cr, alloc(new Float32Array(40)), probs, bad, d, 0.1)).toThrow(/label 10 at row 3/);
        expect(() => softmaxXentSmoothForward(cr, probs, logits, labels, { n: 5, c: 10 }, 0.1)).toThrow(/logits holds 40 elements, needs 50/);
        expect(() => softmaxXentSmoothBackward(cr, probs, probs, labels, d, 0.1)).toThrow(/dlogits and probs overlap/);
        expect(() => softmaxXentSmoothBackward(cr, alloc(new Float32Array(40)), probs, labels, d, 0.1, Number.NaN)).toThrow(/scale must be a finite number/);
      });
    });

    if (flavor === 'debug') {
      it('the debug build asserts labels and eps when the wrapper is bypassed', () => {
        leakFree(flavor, (alloc) => {
          const f = core(flavor).fns<SoftmaxXentExports>();
          const x = alloc(randn(20, 3));
          const p = alloc(new Float32Array(20));
          const lab = alloc([0, 12], 'i32');
          const ok = alloc([0, 1], 'i32');
          expect(() => f.softmax_xent_smooth_forward(p.ptr, x.ptr, lab.ptr, 2, 10, 0.1)).toThrow(/iruka kernel assertion: .*label outside/);
          expect(() => f.softmax_xent_smooth_backward_scalar(p.ptr, x.ptr, lab.ptr, 2, 10, 1, 0.1)).toThrow(/iruka kernel assertion: .*label outside/);
          expect(() => f.softmax_xent_smooth_forward_scalar(p.ptr, x.ptr, ok.ptr, 2, 10, 1)).toThrow(/iruka kernel assertion: .*eps outside/);
        });
      });
    }
  });
}
