// augmentInto against a copy of the trainer's shift (src/train/model.ts, shiftInto and the draws
// in BoundModel.load) on random cases, bit for bit; hflip against a plain mirror; backgroundFill.
import { describe, expect, it } from 'vitest';
import { augmentInto, backgroundFill, type Augment } from '../src/data/dataset.js';
import { InputError } from '../src/errors.js';
import { MNIST_MEAN, MNIST_STD } from '../src/data/normalize.js';
import { rng } from './helpers/index.js';

/** The reference: shiftInto as src/train/model.ts has it today, copied verbatim. */
function shiftInto(dst: Float32Array, d0: number, src: Float32Array, s0: number, shape: number[], dy: number, dx: number, fill: number): void {
  const [c, h, w] = shape.length === 3 ? shape : [1, shape[0], shape[1]];
  for (let ch = 0; ch < c; ch++) {
    for (let y = 0; y < h; y++) {
      const sy = y - dy;
      const row = d0 + (ch * h + y) * w;
      if (sy < 0 || sy >= h) {
        dst.fill(fill, row, row + w);
        continue;
      }
      const srow = s0 + (ch * h + sy) * w;
      for (let x = 0; x < w; x++) {
        const sx = x - dx;
        dst[row + x] = sx < 0 || sx >= w ? fill : src[srow + sx];
      }
    }
  }
}

/** The reference's per-sample loop (BoundModel.load): the draws, dy then dx, in its argument order. */
function referenceLoad(dst: Float32Array, src: Float32Array, idx: number[], shape: number[], shift: number, fill: number, random: () => number): void {
  const size = shape.reduce((a, b) => a * b, 1);
  for (let i = 0; i < idx.length; i++) {
    const s = idx[i] * size;
    if (shift > 0) {
      shiftInto(dst, i * size, src, s, shape, Math.floor(random() * (2 * shift + 1)) - shift, Math.floor(random() * (2 * shift + 1)) - shift, fill);
    } else {
      dst.set(src.subarray(s, s + size), i * size);
    }
  }
}

function counted(random: () => number): { random: () => number; draws: () => number } {
  let k = 0;
  return {
    random: () => {
      k++;
      return random();
    },
    draws: () => k,
  };
}

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

function randomImages(n: number, size: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n * size }, () => (r() - 0.3) * 3.7);
}

describe('augmentInto shift = the trainer shiftInto', () => {
  const shapes = [[1, 28, 28], [3, 5, 7], [2, 1, 9], [4, 6], [1, 1, 1], [3, 32, 32]];
  for (const shape of shapes) {
    for (const shift of [1, 2, 3, 9]) {
      it(`shape=[${shape}] shift=${shift}: same bits, same draws, over a batch`, () => {
        const size = shape.reduce((a, b) => a * b, 1);
        const n = 12;
        const src = randomImages(n, size, 100 + shift + size);
        const idx = Array.from({ length: 9 }, (_, i) => (i * 5 + 3) % n);
        const fill = -0.1307 / 0.3081 + shift;
        const want = new Float32Array(idx.length * size);
        const got = new Float32Array(idx.length * size).fill(NaN);
        const seed = 7 * size + shift;
        const ref = counted(rng(seed));
        referenceLoad(want, src, idx, shape, shift, fill, ref.random);
        const mine = counted(rng(seed));
        for (let i = 0; i < idx.length; i++) augmentInto(got, i * size, src, idx[i] * size, shape, { shift }, [fill], mine.random);
        expect(mine.draws()).toBe(2 * idx.length);
        expect(ref.draws()).toBe(2 * idx.length);
        expect(bits(got)).toEqual(bits(want));
      });
    }
  }

  it('a per-channel fill of equal values and hflip: false change nothing', () => {
    const shape = [3, 8, 8];
    const src = randomImages(2, 192, 5);
    const want = new Float32Array(192);
    const got = new Float32Array(192);
    shiftInto(want, 0, src, 192, shape, -2, 2, 0.25);
    const draws = [0.01, 0.81]; // floor(r*5)-2 gives -2 then 2
    let k = 0;
    augmentInto(got, 0, src, 192, shape, { shift: 2, hflip: false }, [0.25, 0.25, 0.25], () => draws[k++]);
    expect(k).toBe(2);
    expect(bits(got)).toEqual(bits(want));
  });
});

describe('augmentInto without augmentation', () => {
  for (const aug of [{}, { shift: 0 }, { shift: 0, hflip: false }] as Augment[]) {
    it(`${JSON.stringify(aug)} is a plain copy at the offsets and draws nothing`, () => {
      const src = randomImages(3, 20, 9);
      const dst = new Float32Array(50).fill(7);
      augmentInto(dst, 5, src, 20, [20], aug, [0], () => {
        throw new Error('no draws expected');
      });
      expect(Array.from(dst.subarray(0, 5))).toEqual([7, 7, 7, 7, 7]);
      expect(bits(dst.subarray(5, 25))).toEqual(bits(src.subarray(20, 40)));
      expect(Array.from(dst.subarray(25))).toEqual(new Array(25).fill(7));
    });
  }
});

/** Mirror of a [C,H,W] sample, left-right. */
function mirrored(src: Float32Array, c: number, h: number, w: number): Float32Array {
  const out = new Float32Array(c * h * w);
  for (let ch = 0; ch < c; ch++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[(ch * h + y) * w + x] = src[(ch * h + y) * w + (w - 1 - x)];
  return out;
}

describe('augmentInto hflip', () => {
  const [c, h, w] = [2, 3, 5];
  const src = randomImages(1, c * h * w, 21);

  it('shift 0: one draw; below 0.5 mirrors, at or above 0.5 copies', () => {
    for (const [r, flip] of [[0.49, true], [0.5, false], [0, true], [0.99, false]] as [number, boolean][]) {
      const got = new Float32Array(c * h * w);
      let k = 0;
      augmentInto(got, 0, src, 0, [c, h, w], { hflip: true }, [0], () => (k++, r));
      expect(k).toBe(1);
      expect(bits(got)).toEqual(bits(flip ? mirrored(src, c, h, w) : src));
    }
  });

  it('with a shift: dy, dx, then the flip draw; the result is the shifted image mirrored', () => {
    const rand = rng(33);
    for (let t = 0; t < 20; t++) {
      const draws = [rand(), rand(), rand()];
      const shifted = new Float32Array(c * h * w);
      shiftInto(shifted, 0, src, 0, [c, h, w], Math.floor(draws[0] * 5) - 2, Math.floor(draws[1] * 5) - 2, -1.5);
      const want = draws[2] < 0.5 ? mirrored(shifted, c, h, w) : shifted;
      const got = new Float32Array(c * h * w);
      let k = 0;
      augmentInto(got, 0, src, 0, [c, h, w], { shift: 2, hflip: true }, [-1.5], () => draws[k++]);
      expect(k).toBe(3);
      expect(bits(got)).toEqual(bits(want));
    }
  });
});

describe('augmentInto fill and errors', () => {
  it('uncovered pixels get their channel\'s fill', () => {
    const shape = [3, 2, 2];
    const src = Float32Array.from({ length: 12 }, (_, i) => i + 1);
    const got = new Float32Array(12);
    // floor(r*3)-1: 0.99 -> dy=1 (down one row), 0.0 -> dx=-1 (left one column)
    const draws = [0.99, 0];
    let k = 0;
    augmentInto(got, 0, src, 0, shape, { shift: 1 }, [-1, -2, -3], () => draws[k++]);
    // channel c: row 0 uncovered; row 1 = source row 0 moved left: [src[1], fill]
    expect(Array.from(got)).toEqual([-1, -1, 2, -1, -2, -2, 6, -2, -3, -3, 10, -3]);
  });

  it('refuses what it cannot do, in words', () => {
    const src = new Float32Array(20);
    const dst = new Float32Array(20);
    const r = () => 0.5;
    expect(() => augmentInto(dst, 0, src, 0, [20], { shift: 1 }, [0], r)).toThrow(/augmentation needs image samples \[C,H,W\] or \[H,W\], got \[20\]/);
    expect(() => augmentInto(dst, 0, src, 0, [2, 2, 5], { hflip: true }, [0, 0, 0], r)).toThrow(/fill has 3 values for 2 channels/);
    expect(() => augmentInto(dst, 0, src, 0, [4, 5], { shift: 1.5 }, [0], r)).toThrow(InputError);
    expect(() => augmentInto(dst, 0, src, 0, [4, 5], { shift: -1 }, [0], r)).toThrow(/shift must be an integer >= 0, got -1/);
  });
});

describe('backgroundFill', () => {
  it('MNIST: the trainer\'s fill value, (0 - mean) / std', () => {
    const fill = backgroundFill({ sampleShape: [1, 28, 28], normalization: { mean: [MNIST_MEAN], std: [MNIST_STD] } });
    expect(fill).toEqual([(0 - MNIST_MEAN) / MNIST_STD]);
    expect(Math.fround(fill[0])).toBe(Math.fround(-0.1307 / 0.3081));
  });

  it('per channel, one value repeated over the channels, none without normalisation', () => {
    const norm = { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] };
    expect(backgroundFill({ sampleShape: [3, 32, 32], normalization: norm })).toEqual(norm.mean.map((m, c) => -m / norm.std[c]));
    expect(backgroundFill({ sampleShape: [3, 4, 4], normalization: { mean: [0.5], std: [0.25] } })).toEqual([-2, -2, -2]);
    expect(backgroundFill({ sampleShape: [2, 4, 4] })).toEqual([0, 0]);
    expect(backgroundFill({ sampleShape: [20] })).toEqual([0]);
  });
});
