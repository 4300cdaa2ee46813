// Chunks run as segments of one batch (src/ops/segments.ts, BoundModel.gradSegments): what it
// rests on (the kernels compute each example on its own: a batch split any way gives the same
// bits), that the engines use it for the LeNet and give the bits of running the chunks one by
// one, and that a network whose ops mix examples (BatchNorm, dropout) falls back to that.
import { describe, it, expect, afterAll } from 'vitest';
import { LocalEngine } from '../src/train/engine.js';
import { PoolEngine } from '../src/train/pool.js';
import { BoundModel } from '../src/train/model.js';
import { lenet, LENET_SPEC, MNIST_SHAPE } from '../src/nn/lenet.js';
import { buildModel, type ModelSpec } from '../src/nn/spec.js';
import { fromArrays } from '../src/data/dataset.js';
import { Tensor } from '../src/tensor.js';
import { SegmentsUnsupported } from '../src/ops/segments.js';
import { conv2dBackwardData } from '../src/core/kernels/conv2d.js';
import { linearBackwardData } from '../src/core/kernels/linear.js';
import { core, FLAVORS, rng } from './helpers/index.js';
import { BN_NET } from './helpers/specs.js';


const random = rng(17);
const n = 256;
const x = new Float32Array(new SharedArrayBuffer(n * 784 * 4)).map(() => random() - 0.4);
const labels = new Uint8Array(new SharedArrayBuffer(n)).map(() => Math.floor(random() * 10));
const data = fromArrays({ x, sampleShape: [...MNIST_SHAPE], labels, classes: 10 });
const opts = { seed: 9, augment: { shift: 2 }, fill: [0] };
const models: BoundModel[] = [];
afterAll(() => models.forEach((m) => m.free()));

function bits(m: BoundModel): Buffer {
  return Buffer.from(Float32Array.from(m.params.grad.view()).buffer);
}

describe('what segments rest on: each example computed on its own', () => {
  it.each(FLAVORS.filter((f) => f !== 'debug'))('%s: LeNet logits of a batch of 64 have the bits of the batch cut into pieces of 1, 5, 8 and 32', (flavor) => {
    const m = new BoundModel(core(flavor), lenet(), MNIST_SHAPE);
    models.push(m);
    m.params.init(3);
    const xs = x.subarray(0, 64 * 784);
    const whole = m.predict(xs, 64);
    for (const piece of [1, 5, 8, 32]) {
      const parts: number[] = [];
      for (let s = 0; s < 64; s += piece) parts.push(...m.predict(xs.subarray(s * 784, Math.min(64, s + piece) * 784), Math.min(piece, 64 - s)));
      expect(Buffer.from(Float32Array.from(parts).buffer).equals(Buffer.from(whole.buffer)), `pieces of ${piece}`).toBe(true);
    }
  });

  it.each(FLAVORS.filter((f) => f !== 'debug'))('%s: conv2d and linear backward-data over 32 examples have the bits of 4 x 8', (flavor) => {
    const c = core(flavor);
    const r = (len: number) => c.heap.from(Float32Array.from({ length: len }, () => random() - 0.5));
    const g = { c: 20, h: 14, w: 14, oc: 50, kh: 5, kw: 5, sh: 1, sw: 1, ph: 0, pw: 0 };
    const xs = 20 * 14 * 14, ys = 50 * 10 * 10;
    const w = r(50 * 500), dy = r(32 * ys), all = c.heap.alloc(32 * xs), part = c.heap.alloc(8 * xs);
    conv2dBackwardData(c, all, dy, w, { ...g, n: 32 });
    for (let s = 0; s < 32; s += 8) {
      part.view().fill(0);
      conv2dBackwardData(c, part, dy.sub(s * ys, 8 * ys), w, { ...g, n: 8 });
      expect(Buffer.from(part.toArray().buffer).equals(Buffer.from(all.toArray().subarray(s * xs, (s + 8) * xs).slice().buffer))).toBe(true);
    }
    const d = { m: 32, inF: 1250, outF: 500 };
    const fw = r(500 * 1250), fdy = r(32 * 500), fall = c.heap.alloc(32 * 1250), fpart = c.heap.alloc(8 * 1250);
    linearBackwardData(c, fall, fdy, fw, d);
    for (let s = 0; s < 32; s += 8) {
      fpart.view().fill(0);
      linearBackwardData(c, fpart, fdy.sub(s * 500, 8 * 500), fw, { ...d, m: 8 });
      expect(Buffer.from(fpart.toArray().buffer).equals(Buffer.from(fall.toArray().subarray(s * 1250, (s + 8) * 1250).slice().buffer))).toBe(true);
    }
    for (const b of [w, dy, all, part, fw, fdy, fall, fpart]) b.free();
  });
});

describe('engines with segments', () => {
  function model(spec?: ModelSpec): BoundModel {
    const m = spec ? new BoundModel(core('simd'), buildModel(spec), spec.input) : new BoundModel(core('simd'), lenet(), MNIST_SHAPE);
    m.params.init(4);
    models.push(m);
    return m;
  }
  const idx = Uint32Array.from({ length: 64 }, (_, i) => (i * 53) % n);

  it('run the LeNet chunks of a group as one batch, to the bits of running them one by one', async () => {
    const segmented = model();
    const one = model();
    one.segmentable = false; // the chunk-by-chunk fold
    const a = await new LocalEngine(segmented, data, 8, opts).minibatch(idx, 2);
    const b = await new LocalEngine(one, data, 8, opts).minibatch(idx, 2);
    expect(segmented.segmentable).toBe(true);
    expect(bits(segmented).equals(bits(one))).toBe(true);
    expect(a.lossSum).toBe(b.lossSum);
    expect(a.correct).toBe(b.correct);
  });

  it('give the pool (segments inside its tasks) and this thread the same bits, and fall back for BatchNorm', async () => {
    for (const spec of [LENET_SPEC, BN_NET]) {
      const local = model(spec);
      const want = await new LocalEngine(local, data, 8, opts).minibatch(idx, 5);
      expect(local.segmentable).toBe(spec === LENET_SPEC);
      for (const workers of [2, 3]) {
        const pooled = model(spec);
        const pe = new PoolEngine(core('simd'), pooled, spec, data, { workers, chunkSize: 8, batchSize: 64 }, opts);
        try {
          const got = await pe.minibatch(idx, 5);
          expect(bits(pooled).equals(bits(local)), `${spec.name}, ${workers} workers`).toBe(true);
          expect(got.lossSum).toBe(want.lossSum);
        } finally {
          await pe.close();
        }
      }
    }
  }, 60_000);

  it('the tape refuses an op that mixes examples under segments, before computing anything', () => {
    const m = model(BN_NET);
    const t = Tensor.from(core('simd'), new Float32Array(2 * 4 * 3 * 3), [2, 4, 3, 3]);
    m.tape.segments = { bounds: [0, 1, 2], grad: () => { throw new Error('not reached'); } };
    try {
      const p = m.params;
      expect(() => m.tape.apply('batchnorm', [t, p.get('bn1.weight'), p.get('bn1.bias'), p.get('bn1.running_mean'), p.get('bn1.running_var')], { training: true, eps: 1e-5, momentum: 0.1 } as never)).toThrow(SegmentsUnsupported);
      expect(() => m.tape.apply('dropout', [t], { p: 0.5, seed: 1, training: true } as never)).toThrow(/dropout mixes the examples of a batch/);
    } finally {
      m.tape.segments = null;
      m.tape.dispose();
      t.dispose();
    }
  });
});
