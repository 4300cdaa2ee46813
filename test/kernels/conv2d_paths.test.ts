// The implicit-GEMM paths of assembly/conv2d.ts against the naive f64 references, on shapes
// picked to reach each branch the LeNet shapes do not (tolerance as in conv2d.test.ts):
//   forward (depth K = c*kh*kw >= 64): run tiles over output rows, unbroken and broken once
//     (ow 9, 13, 20), pointer tiles (stride 2 along w; ow = 3, where a chunk breaks twice; a
//     last chunk under 4 rows), channel panels of 8, a 4-wide remainder (1, 2 or 4 valid lanes)
//     and a padded 8-wide one (5 or 6 valid), zero-padded input copies;
//   forward (K < 64, stride 1 along w, ow >= 8): lane tiles, 4 channels x 8 pixels of a row
//     (ow 8 exactly, ow 14 and 19 with an overlapping last tile), short channel blocks of 1 and
//     2, row stride 2, padding on one axis only;
//   backward-filter: taps as run tiles (kw 5, 7: chunks break across kernel rows and input
//     channels) or pointer tiles (kw 2), several image blocks with a short last one;
//   backward-data: 1, 2 and 8 images per block (P % 8), a short last block, odd channel counts
//     (the relaxed build's 2-channel blocks end on one), strided col2im, rows under 4, 4..12
//     and over 12 floats.
// Each SIMD run is also repeated to check it gives the same bits (no data-dependent order), and
// a guard block after the scratch catches a kernel that writes past what it asked for.
import { describe, it, expect } from 'vitest';
import { core, FLAVORS, expectClose, expectBits } from '../helpers/index.js';
import type { Core } from '../../src/core/load.js';
import type { Buf } from '../../src/core/heap.js';
import {
  conv2dForward,
  conv2dBackwardData,
  conv2dBackwardFilter,
  type Conv2dGeom,
  type Conv2dExports,
} from '../../src/core/kernels/conv2d.js';
import { convInputs, convLabel, geom } from '../helpers/conv2d.js';
import { conv2dForwardRef, conv2dBackwardDataRef, conv2dBackwardFilterRef } from '../../src/ref/conv2d.js';

const RTOL = 1e-4;
const FLOOR = 1e-2;

function close(actual: Float32Array, expected: Float32Array, what: string): void {
  let max = 0;
  for (const e of expected) max = Math.max(max, Math.abs(e));
  expectClose(actual, expected, RTOL, what, Math.max(max * FLOOR, 1e-30));
}


const CASES: Conv2dGeom[] = [
  geom([3, 4, 12, 13], [9, 4, 5, 5]), // K 100, ow 9: runs break; oc 9 = 8 + a 4-wide panel with 1 lane
  geom([2, 8, 11, 9], [13, 8, 3, 3], [1, 1], [1, 1]), // padded copy; oc 13 = 8 + 8-wide with 5; P 99: 8 images per data block
  geom([2, 5, 15, 17], [6, 5, 4, 4], [2, 2], [1, 1]), // stride 2: pointer tiles; oc 6; c 5 odd
  geom([25, 2, 12, 12], [3, 2, 5, 5]), // backward-filter in two image blocks (16 + 9); oc 3
  geom([2, 16, 6, 5], [10, 16, 3, 3]), // ow 3: chunks break twice (pointer tiles); oc 10 = 8 + 2
  geom([2, 3, 16, 20], [17, 3, 7, 7], [1, 1], [3, 3]), // kw 7, ow 20; oc 17 = 8 + 8 + 1
  geom([3, 9, 8, 8], [5, 9, 2, 2]), // kw 2: tap chunks span three kernel rows (pointer tiles)
  geom([2, 4, 13, 14], [7, 4, 4, 4], [1, 2], [0, 1]), // stride 1 x 2: pointer tiles, strided col2im
  geom([2, 6, 13, 12], [11, 6, 3, 4], [2, 1], [1, 2]), // stride 2 x 1: runs jump sh rows; rows of 13
  geom([3, 20, 14, 14], [50, 20, 5, 5]), // LeNet conv2 with an odd batch: a short data block
  geom([1, 12, 7, 7], [4, 12, 3, 3]), // oc 4 alone: one full 4-wide panel
  geom([3, 2, 9, 8], [5, 2, 4, 1]), // lane tiles: K 8, ow 8 exactly, oc 5 = 4 + a block of 1
  geom([2, 3, 10, 19], [6, 3, 3, 3], [2, 1], [1, 1]), // lane tiles: K 27, stride 2 x 1, ow 19 (last tile at 11); oc 6 = 4 + 2
  geom([1, 7, 6, 12], [9, 7, 3, 3], [1, 1], [0, 2]), // lane tiles: K 63, padded along w only, ow 14; oc 9 = 4 + 4 + 1
];

/**
 * Runs `body` with fresh buffers, the scratch sized by conv2d_scratch_floats and a guard block
 * right after it; checks the guard and that the heap is back where it started.
 */
function withGuard(c: Core, g: Conv2dGeom, arrays: Float32Array[], body: (bufs: Buf[]) => void): void {
  c.releaseScratch();
  const before = c.heap.liveBytes;
  const bufs = arrays.map((a) => c.heap.from(a));
  const floats = c.fns<Conv2dExports>().conv2d_scratch_floats(g.n, g.c, g.h, g.w, g.oc, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw);
  const s = c.scratch(floats);
  const guard = c.heap.alloc(64).set(new Float32Array(64).fill(-3.5));
  expect(guard.ptr).toBe(s.ptr + Math.ceil(s.bytes / 64) * 64);
  try {
    body(bufs);
    expect(guard.toArray().every((v) => v === -3.5), 'the kernel wrote past its scratch').toBe(true);
  } finally {
    for (const b of bufs) b.free();
    guard.free();
    c.releaseScratch();
  }
  expect(c.heap.liveBytes).toBe(before);
}

for (const flavor of FLAVORS) {
  describe(`conv2d implicit paths, ${flavor}`, () => {
    CASES.forEach((g, ci) => {
      const name = convLabel(g);
      const seed = 5000 + 31 * ci;
      const { x, w, b, dy, dx0, dw0 } = convInputs(g, seed);
      const ny = dy.length;

      it(`forward ${name}, with and without bias, twice to the same bits`, () => {
        const c = core(flavor);
        withGuard(c, g, [x, w, b, new Float32Array(ny).fill(7)], ([X, W, B, Y]) => {
          conv2dForward(c, Y, X, W, B, g);
          const first = Float32Array.from(Y.view());
          close(first, conv2dForwardRef(x, w, b, g), `forward ${name}`);
          Y.set(new Float32Array(ny).fill(Number.NaN));
          conv2dForward(c, Y, X, W, B, g);
          expectBits(Y.view(), first, `forward ${name} repeated`);
          conv2dForward(c, Y, X, W, null, g);
          close(Y.view(), conv2dForwardRef(x, w, null, g), `forward no bias ${name}`);
        });
      });

      it(`backward data ${name} accumulates, the same bits twice`, () => {
        const c = core(flavor);
        withGuard(c, g, [dy, w, dx0, dx0], ([DY, W, DX, DX2]) => {
          conv2dBackwardData(c, DX, DY, W, g);
          close(DX.view(), conv2dBackwardDataRef(dy, w, g, Float32Array.from(dx0)), `backward data ${name}`);
          conv2dBackwardData(c, DX2, DY, W, g);
          expectBits(DX2.view(), DX.view(), `backward data ${name} repeated`);
        });
      });

      it(`backward filter ${name} accumulates, the same bits twice`, () => {
        const c = core(flavor);
        withGuard(c, g, [dy, x, dw0, dw0], ([DY, X, DW, DW2]) => {
          conv2dBackwardFilter(c, DW, DY, X, g);
          close(DW.view(), conv2dBackwardFilterRef(dy, x, g, Float32Array.from(dw0)), `backward filter ${name}`);
          conv2dBackwardFilter(c, DW2, DY, X, g);
          expectBits(DW2.view(), DW.view(), `backward filter ${name} repeated`);
        });
      });
    });
  });
}
