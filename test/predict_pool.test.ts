// PredictPool: multi-threaded predict and evaluate give the outputs of one-thread BoundModel, bit
// for bit, for any worker count and batch split (eval mode: no cross-sample ops), and errors
// reject the promise.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCoreSync, type Core } from '../src/core/load.js';
import { buildModel, parseModelSpec, type ModelSpec } from '../src/nn/spec.js';
import { LENET_SPEC } from '../src/nn/lenet.js';
import { gaussian } from '../src/nn/params.js';
import { BoundModel } from '../src/train/model.js';
import { PredictPool } from '../src/train/predict_pool.js';
import { fromArrays } from '../src/data/dataset.js';

const RESNET = parseModelSpec(JSON.parse(readFileSync(join(__dirname, '..', 'models', 'resnet_mnist.json'), 'utf8')));
let core: Core;

function bound(spec: ModelSpec, seed: number): BoundModel {
  const net = buildModel(spec);
  const m = new BoundModel(core, net, net.inputShape);
  m.params.init(seed);
  // BatchNorm running statistics away from (0, 1), so that using them (not the batch's) shows
  const rnd = gaussian(seed + 100);
  for (const e of m.params.entries) {
    if (e.trainable) continue;
    const v = m.params.view(e);
    for (let i = 0; i < v.length; i++) v[i] = e.name.endsWith('running_var') ? 0.5 + rnd.uniform() : e.name.endsWith('running_mean') ? 0.3 * rnd.normal() : v[i];
  }
  return m;
}

function inputs(n: number, seed: number): Float32Array {
  const r = gaussian(seed);
  return Float32Array.from({ length: n * 784 }, () => r.normal());
}

function bits(a: Float32Array): Int32Array {
  return new Int32Array(a.buffer, a.byteOffset, a.length);
}

beforeAll(() => {
  core = loadCoreSync({ flavor: 'simd' });
});

describe.each([
  ['lenet', LENET_SPEC],
  ['resnet_mnist', RESNET],
] as const)('PredictPool on %s', (_name, spec) => {
  let model: BoundModel;
  const pools: PredictPool[] = [];
  beforeAll(async () => {
    model = bound(spec, 3);
    for (const workers of [1, 2, 3]) pools.push(await PredictPool.create(spec, model, { workers }));
  });
  afterAll(async () => {
    for (const p of pools) await p.close();
    model.free();
  });

  it('predicts the bits of one-thread predict for odd batches with 1, 2 and 3 workers', async () => {
    for (const n of [1, 5, 37]) {
      const x = inputs(n, n);
      const want = bits(model.predict(x, n));
      for (const p of pools) expect(bits(await p.predict(x, n)), `${p.workers} workers, batch ${n}`).toEqual(want);
    }
  });

  it('follows the model when its weights change (a new version)', async () => {
    const x = inputs(7, 11);
    const before = model.predict(x, 7);
    const w = model.params.data.view();
    w[w.length - 1] += 0.5; // the last bias of the classifier
    try {
      const after = model.predict(x, 7);
      expect(bits(after)).not.toEqual(bits(before));
      expect(bits(await pools[2].predict(x, 7))).toEqual(bits(after));
    } finally {
      w[w.length - 1] -= 0.5;
    }
    expect(bits(await pools[2].predict(x, 7))).toEqual(bits(before));
  });

  it('evaluates the loss sum, correct count and predictions of one-thread evaluate', async () => {
    const n = 53;
    const r = gaussian(5);
    const data = fromArrays({ x: inputs(n, 9), sampleShape: [1, 28, 28], labels: Uint8Array.from({ length: n }, () => Math.floor(r.uniform() * 10)), classes: 10 });
    const wantPreds = new Uint8Array(n);
    const want = model.evaluate(data, n, 16, wantPreds);
    for (const p of pools) {
      const preds = new Uint8Array(n);
      const got = await p.evaluate(data, { batch: 16, preds });
      expect(got.lossSum).toBe(want.lossSum);
      expect(got.correct).toBe(want.correct);
      expect([...preds]).toEqual([...wantPreds]);
    }
  });
});

describe('PredictPool evaluate with tensor and input targets', () => {
  it('gives the loss sum of one-thread evaluate for an autoencoder (bce on the input, mse on tensors)', async () => {
    const spec = parseModelSpec(JSON.parse(readFileSync(join(__dirname, '..', 'models', 'autoencoder_dense.json'), 'utf8')));
    const n = 37;
    const x = inputs(n, 4).map((v) => 1 / (1 + Math.exp(-v)));
    const cases = [
      { loss: { type: 'bce_logits' as const }, data: fromArrays({ x, sampleShape: [1, 28, 28], targets: { kind: 'input' } }) },
      { loss: { type: 'mse' as const }, data: fromArrays({ x, sampleShape: [1, 28, 28], targets: { kind: 'tensor', shape: [784], data: x.map((v) => 1 - v) } }) },
    ];
    for (const { loss, data } of cases) {
      const net = buildModel(spec);
      const model = new BoundModel(core, net, net.inputShape, loss);
      model.params.init(2);
      const pool = await PredictPool.create(spec, model, { workers: 2 });
      try {
        const want = model.evaluate(data, n, 10);
        const got = await pool.evaluate(data, { batch: 10 });
        expect(got.lossSum, loss.type).toBe(want.lossSum);
        expect(got.lossSum).toBeGreaterThan(0);
      } finally {
        await pool.close();
        model.free();
      }
    }
  });
});

describe('PredictPool errors', () => {
  it('rejects a wrong input size, a bad evaluate count and a spec the model was not built from', async () => {
    const model = bound(LENET_SPEC, 1);
    const pool = await PredictPool.create(LENET_SPEC, model, { workers: 1 });
    try {
      await expect(pool.predict(new Float32Array(10), 1)).rejects.toThrow(/need 784 floats, got 10/);
      const data = fromArrays({ x: new Float32Array(2 * 784), sampleShape: [1, 28, 28], labels: new Uint8Array(2), classes: 10 });
      await expect(pool.evaluate(data, { n: 3 })).rejects.toThrow(/n must be an integer in \[0, 2\]/);
      // the pool still works after a rejected call
      const x = inputs(2, 1);
      expect(bits(await pool.predict(x, 2))).toEqual(bits(model.predict(x, 2)));
      // a call made before close() still runs; one made after it rejects
      const last = pool.predict(x, 2);
      const closing = pool.close();
      await expect(pool.predict(x, 2)).rejects.toThrow(/closed/);
      expect(bits(await last)).toEqual(bits(model.predict(x, 2)));
      await closing;
    } finally {
      await pool.close();
    }
    const wrong = await PredictPool.create(RESNET, model, { workers: 1 });
    try {
      await expect(wrong.predict(inputs(1, 1), 1)).rejects.toThrow(/shared parameters hold/);
    } finally {
      await wrong.close();
      model.free();
    }
    await expect(PredictPool.create(LENET_SPEC, model, { workers: 0 })).rejects.toThrow(/workers must be an integer >= 1/);
  });
});
