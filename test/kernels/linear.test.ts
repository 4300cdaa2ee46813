// The linear family (assembly/linear.ts) against the naive f64 references (src/ref/linear.ts),
// on every flavour, through the SIMD kernels and their `_scalar` twins. Shapes: batch 1, 1x1,
// sizes around the GEMM tiles (5/6 x 8), primes, the LeNet fc layers, one large case.
// Tolerance: relative 1e-5 against max(|expected|, scale), scale = the size of the f32 error
// bound: the same expression over |x|, |w|, |b| (and |initial gradient| for the backward
// kernels, which must accumulate: they start from non-zero gradients). The exports, wrappers,
// references, tolerance and shapes are the op table's (`linear`).
import { describe, it, expect } from 'vitest';
import { core, FLAVORS, randn, expectClose, withBufs, expectExportsWithTwins } from '../helpers/index.js';
import {
  linearForward, linearBackwardData, linearBackwardWeight, linearBackwardWeightRows, linearBackwardBias, type LinearDims,
  linearPackWeight, linearPackedWeightFloats, linearForwardPacked, linearBackwardDataPacked,
} from '../../src/core/kernels/linear.js';
import { WeightPacks } from '../../src/nn/weight_packs.js';
import { OPS } from '../../src/ops/table.js';

/** The op table's linear entry: exports, wrappers, references, tolerance and shapes. */
const k = OPS.linear.linear;
const RTOL = k.tolerance.rtol;

const abs = (x: Float32Array): Float32Array => x.map(Math.abs);
const maxAbs = (x: Float32Array): number => x.reduce((s, v) => Math.max(s, Math.abs(v)), 0);
const name = (d: LinearDims) => `x=[${d.m},${d.inF}] w=[${d.outF},${d.inF}]`;
const SHAPES = k.test.shapes.map((d) => [d.m, d.inF, d.outF] as [number, number, number]);

describe('linear: the op table entry names exports (and _scalar twins) that every build has', () => {
  for (const flavor of FLAVORS) {
    it(flavor, () => {
      expectExportsWithTwins(core(flavor), Object.values(k.exports));
    });
  }
});

describe.each(FLAVORS)('linear on %s', (flavor) => {
  for (const scalar of [false, true]) {
    const opts = { scalar };
    describe(scalar ? 'scalar twin' : 'simd', () => {
      it.each(SHAPES)('forward x=[%i,%i] outF=%i, with and without bias', (m, inF, outF) => {
        const cr = core(flavor);
        const d = { m, inF, outF };
        const x = randn(m * inF, 1), w = randn(outF * inF, 2), b = randn(outF, 3);
        const y0 = new Float32Array(m * outF).fill(NaN); // overwritten, never read
        withBufs(cr, [x, w, b, y0], ([X, W, B, Y]) => {
          const scale = maxAbs(k.ref.forward(abs(x), abs(w), abs(b), d));
          k.run.forward(cr, Y, X, W, B, d, opts);
          expectClose(Y.toArray(), k.ref.forward(x, w, b, d), RTOL, `${name(d)} bias`, scale);
          Y.set(y0);
          k.run.forward(cr, Y, X, W, null, d, opts);
          expectClose(Y.toArray(), k.ref.forward(x, w, null, d), RTOL, `${name(d)} no bias`, scale);
        });
      });

      it.each(SHAPES)('backward data x=[%i,%i] outF=%i accumulates into dx', (m, inF, outF) => {
        const cr = core(flavor);
        const d = { m, inF, outF };
        const dy = randn(m * outF, 4), w = randn(outF * inF, 5), dx0 = randn(m * inF, 6);
        withBufs(cr, [dy, w, dx0], ([DY, W, DX]) => {
          k.run.backwardData(cr, DX, DY, W, d, opts);
          const scale = maxAbs(k.ref.backwardData(abs(dy), abs(w), d, abs(dx0)));
          expectClose(DX.toArray(), k.ref.backwardData(dy, w, d, Float32Array.from(dx0)), RTOL, name(d), scale);
        });
      });

      it.each(SHAPES)('backward weight x=[%i,%i] outF=%i accumulates into dw', (m, inF, outF) => {
        const cr = core(flavor);
        const d = { m, inF, outF };
        const dy = randn(m * outF, 7), x = randn(m * inF, 8), dw0 = randn(outF * inF, 9);
        withBufs(cr, [dy, x, dw0], ([DY, X, DW]) => {
          k.run.backwardWeight(cr, DW, DY, X, d, opts);
          const scale = maxAbs(k.ref.backwardWeight(abs(dy), abs(x), d, abs(dw0)));
          expectClose(DW.toArray(), k.ref.backwardWeight(dy, x, d, Float32Array.from(dw0)), RTOL, name(d), scale);
        });
      });

      it.each(SHAPES)('backward weight x=[%i,%i] outF=%i with overwrite writes dw without reading it', (m, inF, outF) => {
        const cr = core(flavor);
        const d = { m, inF, outF };
        const dy = randn(m * outF, 7), x = randn(m * inF, 8), garbage = new Float32Array(outF * inF).fill(NaN);
        withBufs(cr, [dy, x, garbage], ([DY, X, DW]) => {
          linearBackwardWeight(cr, DW, DY, X, d, { ...opts, overwrite: true });
          const scale = maxAbs(k.ref.backwardWeight(abs(dy), abs(x), d));
          expectClose(DW.toArray(), k.ref.backwardWeight(dy, x, d), RTOL, name(d), scale);
        });
      });

      it.each(SHAPES)('backward bias x=[%i,%i] outF=%i accumulates into db', (m, inF, outF) => {
        const cr = core(flavor);
        const d = { m, inF, outF };
        const dy = randn(m * outF, 10), db0 = randn(outF, 11);
        withBufs(cr, [dy, db0], ([DY, DB]) => {
          k.run.backwardBias(cr, DB, DY, d, opts);
          const scale = maxAbs(k.ref.backwardBias(abs(dy), d, abs(db0)));
          expectClose(DB.toArray(), k.ref.backwardBias(dy, d, Float32Array.from(db0)), RTOL, name(d), scale);
        });
      });
    });
  }
});

// The packed-weight kernels against the per-call-packing ones: bit for bit, since they run the
// same panels through the same tiles. Besides the table's shapes, two that span several GEMM
// column blocks (NC = 2048) and k slices (KC = 256) in each direction.
const PACKED_SHAPES: Array<[number, number, number]> = [...SHAPES, [3, 600, 2100], [2, 2100, 300]];

describe.each(FLAVORS)('linear with packed weights on %s', (flavor) => {
  for (const scalar of [false, true]) {
    const opts = { scalar };
    it.each(PACKED_SHAPES)(`${scalar ? 'scalar twin' : 'simd'}: forward and backward data x=[%i,%i] outF=%i give the unpacked bits`, (m, inF, outF) => {
      const cr = core(flavor);
      const d = { m, inF, outF };
      const x = randn(m * inF, 1), w = randn(outF * inF, 2), b = randn(outF, 3), dy = randn(m * outF, 4), dx0 = randn(m * inF, 6);
      const fwdFloats = linearPackedWeightFloats(cr, d, 'forward'), bwdFloats = linearPackedWeightFloats(cr, d, 'backwardData');
      expect(fwdFloats).toBeGreaterThanOrEqual(outF * inF);
      expect(bwdFloats).toBeGreaterThanOrEqual(outF * inF);
      withBufs(cr, [x, w, b, dy, dx0, dx0, new Float32Array(m * outF), new Float32Array(m * outF), new Float32Array(fwdFloats).fill(NaN), new Float32Array(bwdFloats).fill(NaN)], ([X, W, B, DY, DX1, DX2, Y1, Y2, WPF, WPB]) => {
        k.run.packWeight(cr, WPF, W, d, 'forward', opts);
        k.run.packWeight(cr, WPB, W, d, 'backwardData', opts);
        for (const bias of [B, null]) {
          k.run.forward(cr, Y1, X, W, bias, d, opts);
          k.run.forwardPacked(cr, Y2, X, WPF, bias, d, opts);
          expect(Buffer.from(Y2.toArray().buffer).equals(Buffer.from(Y1.toArray().buffer)), `forward ${name(d)} bias ${bias !== null}`).toBe(true);
        }
        k.run.backwardData(cr, DX1, DY, W, d, opts);
        k.run.backwardDataPacked(cr, DX2, DY, WPB, d, opts);
        expect(Buffer.from(DX2.toArray().buffer).equals(Buffer.from(DX1.toArray().buffer)), `backward data ${name(d)}`).toBe(true);
        // and the unpacked kernels are right (accumulating into dx0)
        const scale = maxAbs(k.ref.backwardData(abs(dy), abs(w), d, abs(dx0)));
        expectClose(DX2.toArray(), k.ref.backwardData(dy, w, d, Float32Array.from(dx0)), RTOL, name(d), scale);
      });
    });
  }
});

// Blocks of a weight gradient's output rows computed apart (the pool's reduce tasks) against the
// whole product: bit for bit, for blocks of one row, uneven blocks, blocks that cut the GEMM's row
// tiles (5/6) and its A row blocks (MC = 240), K over one k slice (KC = 256), and LeNet fc1 at batch
// 64 split for 2, 3 and 16 workers; and against the f64 reference.
const ROW_CASES: Array<[number, number, number, number[]]> = [
  [1, 1, 1, [0, 1]], [7, 5, 3, [0, 1, 2, 3]], [9, 13, 11, [0, 5, 6, 11]], [33, 37, 250, [0, 7, 8, 241, 250]],
  [300, 17, 31, [0, 16, 31]], [64, 1250, 500, [0, 256, 500]], [64, 1250, 500, [0, 168, 336, 500]],
  [64, 1250, 500, Array.from({ length: 17 }, (_, t) => Math.min(500, t * 32))], [64, 500, 10, [0, 8, 10]],
];

describe.each(FLAVORS)('linear backward weight in row blocks on %s', (flavor) => {
  for (const scalar of [false, true]) {
    const opts = { scalar };
    it.each(ROW_CASES)(`${scalar ? 'scalar twin' : 'simd'}: x=[%i,%i] outF=%i in blocks %j gives the whole product's bits`, (m, inF, outF, cuts) => {
      const cr = core(flavor);
      const d = { m, inF, outF };
      const dy = randn(m * outF, 17), x = randn(m * inF, 18), garbage = new Float32Array(outF * inF).fill(NaN);
      withBufs(cr, [dy, x, garbage, garbage], ([DY, X, WHOLE, BLOCKS]) => {
        k.run.backwardWeight(cr, WHOLE, DY, X, d, { ...opts, overwrite: true });
        for (let b = 0; b + 1 < cuts.length; b++) {
          const [r0, r1] = [cuts[b], cuts[b + 1]];
          k.run.backwardWeightRows(cr, BLOCKS.sub(r0 * inF, (r1 - r0) * inF), DY, X, d, r0, r1, opts);
          const scale = maxAbs(k.ref.backwardWeightRows(abs(dy), abs(x), d, r0, r1));
          expectClose(BLOCKS.toArray().subarray(r0 * inF, r1 * inF), k.ref.backwardWeightRows(dy, x, d, r0, r1), RTOL, name(d), scale);
        }
        expect(Buffer.from(BLOCKS.toArray().buffer).equals(Buffer.from(WHOLE.toArray().buffer)), `x=[${m},${inF}] outF=${outF} blocks ${cuts}`).toBe(true);
      });
    });
  }
  it('refuses rows outside the weight', () => {
    const cr = core(flavor);
    withBufs(cr, [new Float32Array(6), new Float32Array(6), new Float32Array(9)], ([DY, X, W]) => {
      expect(() => linearBackwardWeightRows(cr, W, DY, X, { m: 2, inF: 3, outF: 3 }, 2, 4)).toThrow(/linearBackwardWeightRows: rows \[2, 4\) exceed the 3 output features/);
      expect(() => linearBackwardWeightRows(cr, W, DY, X, { m: 2, inF: 3, outF: 3 }, 2, 2)).toThrow(/r1 must be an integer >= 3/);
    });
  });
});

describe('WeightPacks', () => {
  it('packs a weight once while open, again after a reopen, and not at all while closed', () => {
    const cr = core('simd');
    const d = { m: 4, inF: 13, outF: 9 };
    const packs = new WeightPacks(cr);
    withBufs(cr, [randn(9 * 13, 5)], ([W]) => {
      expect(packs.packed(W, d, 'forward')).toBeNull();
      packs.open();
      const a = packs.packed(W, d, 'forward')!;
      const snapshot = a.toArray();
      W.set(randn(9 * 13, 6)); // a change the open scope promised would not happen: the pack is kept
      expect(packs.packed(W, d, 'forward')).toBe(a);
      expect(Array.from(a.toArray())).toEqual(Array.from(snapshot));
      packs.close();
      packs.open(); // a new step: packed again from the current weight
      const again = packs.packed(W, d, 'forward')!;
      expect(again).toBe(a);
      expect(Array.from(again.toArray())).not.toEqual(Array.from(snapshot));
      expect(packs.packed(W, d, 'backwardData')).not.toBe(a);
      expect(packs.floats).toBe(linearPackedWeightFloats(cr, d, 'forward') + linearPackedWeightFloats(cr, d, 'backwardData'));
      packs.close();
      expect(packs.packed(W, d, 'forward')).toBeNull();
      packs.free(); // withBufs checks that nothing is left allocated
      expect(packs.floats).toBe(0);
    });
  });
});

describe('linear bad input', () => {
  const cr = core('simd');
  const d = { m: 2, inF: 3, outF: 4 };
  it('names the op, the argument, expected and actual', () => {
    withBufs(cr, [new Float32Array(6), new Float32Array(12), new Float32Array(4), new Float32Array(8), new Float32Array(5)], ([x, w, b, y, small]) => {
      expect(() => linearForward(cr, y, x, small, b, d)).toThrow(/linearForward: w holds 5 elements, needs 12/);
      expect(() => linearForward(cr, y, x, w, small.sub(0, 3), d)).toThrow(/linearForward: b holds 3 elements, needs 4/);
      expect(() => linearForward(cr, small, x, w, b, d)).toThrow(/linearForward: y holds 5 elements, needs 8/);
      expect(() => linearForward(cr, y, null as never, w, b, d)).toThrow(/linearForward: x is null/);
      expect(() => linearForward(cr, y, x, w, b, { ...d, m: 0 })).toThrow(/linearForward: m must be an integer >= 1, got 0/);
      expect(() => linearForward(cr, y, x, w, b, { ...d, inF: 1.5 })).toThrow(/linearForward: inF must be an integer >= 1, got 1.5/);
      expect(() => linearForward(cr, x, x, w, b, { m: 1, inF: 3, outF: 2 })).toThrow(/linearForward: y and x overlap/);
      expect(() => linearBackwardData(cr, small, y, w, d)).toThrow(/linearBackwardData: dx holds 5 elements, needs 6/);
      expect(() => linearForwardPacked(cr, y, x, small, b, d)).toThrow(/linearForwardPacked: wp holds 5 elements, needs \d+/);
      expect(() => linearBackwardDataPacked(cr, x, y, small, d)).toThrow(/linearBackwardDataPacked: wp holds 5 elements, needs \d+/);
      expect(() => linearPackWeight(cr, small, w, d, 'forward')).toThrow(/linearPackWeight: wp holds 5 elements, needs \d+/);
      expect(() => linearPackWeight(cr, w, w, d, 'sideways' as never)).toThrow(/linearPackWeight: which must be 'forward' or 'backwardData', got sideways/);
      expect(() => linearBackwardData(cr, x, small, w, d)).toThrow(/linearBackwardData: dy holds 5 elements, needs 8/);
      expect(() => linearBackwardWeight(cr, small, y, x, d)).toThrow(/linearBackwardWeight: dw holds 5 elements, needs 12/);
      expect(() => linearBackwardWeight(cr, w, y, small.sub(0, 4), d)).toThrow(/linearBackwardWeight: x holds 4 elements, needs 6/);
      expect(() => linearBackwardBias(cr, small.sub(0, 2), y, d)).toThrow(/linearBackwardBias: db holds 2 elements, needs 4/);
      expect(() => linearBackwardBias(cr, b, y, { ...d, outF: NaN })).toThrow(/linearBackwardBias: outF must be an integer >= 1, got NaN/);
    });
    withBufs(cr, [new Float32Array(6), new Float32Array(8)], ([x, y]) => {
      const F = cr.heap.alloc(12); // freed after x and y exist, so its block is not reused
      F.free();
      expect(() => linearForward(cr, y, x, F, null, d)).toThrow(/linearForward: w was freed/);
    });
  });
});
