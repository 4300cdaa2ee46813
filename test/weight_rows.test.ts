// Dense weight gradients over the whole batch (src/train/weight_rows.ts): which weights the
// engines form from rows (once-used dense weights; a weight used twice keeps the tree), how the
// pool's reduce splits the work (row blocks, tree slices), and what the engine gives against
// the f64 sum of the chunks' gradients computed the plain way, for a store that grows.
import { describe, it, expect, afterAll } from 'vitest';
import { findRowWeights, rowBlock, rowsLayout, RowsCollector, treeRanges } from '../src/train/weight_rows.js';
import { treeSlices } from '../src/train/grad_step.js';
import { chunkRanges, chunkSeed, LocalEngine } from '../src/train/engine.js';
import { BoundModel, type Net } from '../src/train/model.js';
import { Linear, type Ctx } from '../src/nn/layers.js';
import { lenet, MNIST_SHAPE } from '../src/nn/lenet.js';
import { fromArrays } from '../src/data/dataset.js';
import type { Tensor } from '../src/tensor.js';
import { core, rng } from './helpers/index.js';

const random = rng(23);
const models: BoundModel[] = [];
afterAll(() => models.forEach((m) => m.free()));

/** 6 → 6 → 6 → 3 with the first weight applied twice (a tied layer), then a dense head. */
function tiedNet(): Net {
  const tied = new Linear(6, 6);
  const head = new Linear(6, 3);
  const specs = (l: Linear, prefix: string) => l.paramSpecs().map(({ local, ...s }) => ({ ...s, name: `${prefix}.${local}` }));
  return {
    paramSpecs: () => [...specs(tied, 'tied'), ...specs(head, 'head')],
    outShape: (s) => [s[0], 3],
    forward: (ctx: Ctx, x: Tensor) => {
      const h = ctx.tape.apply('relu', [tied.forward(ctx, x, 'tied')], {} as never);
      return head.forward(ctx, tied.forward(ctx, h, 'tied'), 'head');
    },
  };
}

const tiedData = fromArrays({ x: Float32Array.from({ length: 50 * 6 }, () => random() - 0.5), sampleShape: [6], labels: Uint8Array.from({ length: 50 }, () => Math.floor(random() * 3)), classes: 3 });

function tiedModel(): BoundModel {
  const m = new BoundModel(core('simd'), tiedNet(), [6]);
  m.params.init(3);
  models.push(m);
  return m;
}

describe('row weights', () => {
  it('are the dense weights used once: LeNet fc1 and fc2, not a weight applied twice', () => {
    const lenetModel = new BoundModel(core('simd'), lenet(), MNIST_SHAPE);
    models.push(lenetModel);
    const mnistLike = fromArrays({ x: new Float32Array(2 * 784), sampleShape: [...MNIST_SHAPE], labels: new Uint8Array(2), classes: 10 });
    expect(findRowWeights(lenetModel, mnistLike)).toEqual([
      { name: 'fc1.weight', offset: lenetModel.params.byName.get('fc1.weight')!.offset, inF: 1250, outF: 500 },
      { name: 'fc2.weight', offset: lenetModel.params.byName.get('fc2.weight')!.offset, inF: 500, outF: 10 },
    ]);
    expect(findRowWeights(tiedModel(), tiedData).map((w) => w.name)).toEqual(['head.weight']);
  });

  it('are split into blocks of whole 8-row groups that partition the output rows, for any task count', () => {
    for (const outF of [1, 7, 10, 64, 500]) {
      for (let T = 1; T <= 20; T++) {
        let at = 0;
        for (let t = 0; t < T; t++) {
          const [r0, r1] = rowBlock(outF, t, T);
          if (r1 <= r0) continue;
          expect(r0, `outF ${outF}, ${T} tasks`).toBe(at);
          if (r1 < outF) expect(r1 % 8).toBe(0);
          at = r1;
        }
        expect(at, `outF ${outF}, ${T} tasks`).toBe(outF);
      }
    }
  });

  it('leave the tree the rest, which the reduce slices share near-equally', () => {
    const layout = rowsLayout([{ name: 'a', offset: 100, inF: 10, outF: 50 }, { name: 'b', offset: 700, inF: 5, outF: 2 }], 4);
    expect(treeRanges(layout, 1000)).toEqual([[0, 100], [600, 700], [710, 1000]]);
    expect(treeRanges(null, 1000)).toEqual([[0, 1000]]);
    for (const T of [1, 2, 3, 7, 16]) {
      const slices = treeSlices(layout, 1000, T);
      expect(slices[0][0]).toBe(0);
      expect(slices[T - 1][1]).toBe(1000);
      const shares = slices.map(([lo, hi], t) => {
        if (t > 0) expect(lo).toBe(slices[t - 1][1]);
        return treeRanges(layout, 1000).reduce((a, [s, e]) => a + Math.max(0, Math.min(e, hi) - Math.max(s, lo)), 0);
      });
      expect(shares.reduce((a, b) => a + b, 0)).toBe(490);
      expect(Math.max(...shares)).toBeLessThanOrEqual(Math.ceil(490 / T / 16) * 16);
    }
  });

  it('refuse a layout made for another model, and examples beyond their store', () => {
    const m = tiedModel();
    const layout = rowsLayout([{ name: 'head.weight', offset: m.params.byName.get('head.weight')!.offset, inF: 6, outF: 3 }], 4);
    expect(() => new RowsCollector(m, rowsLayout([{ name: 'fc1.weight', offset: 0, inF: 1250, outF: 500 }], 4), () => new Float32Array(0))).toThrow(/the model has no trainable 625000-float parameter fc1.weight at offset 0/);
    const rows = new RowsCollector(m, layout, () => new Float32Array(layout.floats));
    const w = m.params.get('head.weight');
    rows.leaf(2);
    const buf = m.core.heap.alloc(3 * 6);
    try {
      expect(() => rows.take(w, buf, buf, { m: 3, inF: 6, outF: 3 })).toThrow(/examples \[2, 5\) exceed the store's 4/);
      rows.leaf(0);
      expect(rows.take(w, buf, buf, { m: 3, inF: 6, outF: 3 })).toBe(true);
      expect(() => rows.take(w, buf, buf, { m: 3, inF: 6, outF: 3 })).toThrow(/head.weight was offered twice in one pass/);
      expect(rows.take(m.params.get('tied.weight'), buf, buf, { m: 3, inF: 6, outF: 6 })).toBe(false);
    } finally {
      buf.free();
    }
  });

  // batches of 20 then 50 (the store grows) in chunks of 8: every gradient, the tied weight's from
  // the tree and the head's from rows, against the f64 sum of the chunks' plain gradients
  it.each([20, 50])('give this thread the minibatch gradient of the chunks (batch %i after a smaller one)', async (batch) => {
    const opts = { seed: 4, augment: {}, fill: [0] };
    const m = tiedModel();
    const engine = new LocalEngine(m, tiedData, 8, opts);
    const idx = Uint32Array.from({ length: batch }, (_, i) => (i * 7) % 50);
    try {
      await engine.minibatch(idx.subarray(0, 10), 1);
      await engine.minibatch(idx, 2);
      const got = Float32Array.from(m.params.grad.view());
      const plain = tiedModel();
      const want = new Float64Array(got.length);
      chunkRanges(batch, 8).forEach(([s, e], k) => {
        plain.params.zeroGrad();
        plain.gradChunk(tiedData, idx.subarray(s, e), (e - s) / batch, { ...opts, seed: chunkSeed(opts.seed, 2, k) });
        plain.params.grad.view().forEach((v, i) => (want[i] += v));
      });
      const scale = want.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
      expect(scale).toBeGreaterThan(0);
      for (let i = 0; i < got.length; i++) expect(Math.abs(got[i] - want[i]), `float ${i}`).toBeLessThanOrEqual(1e-5 * scale);
    } finally {
      await engine.close();
    }
  });
});
