// The reference LeNet against PyTorch: a state_dict saved as safetensors by the fixture script
// loads by name into our flat parameters and gives the same logits, loss and every parameter
// gradient on the same batch (fixtures: scripts/make_torch_fixtures.py, float64 references).
import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { readSafetensors } from '../../src/io/safetensors.js';
import { loadWeights, saveCheckpoint } from '../../src/io/checkpoint.js';
import { lenet, MNIST_SHAPE } from '../../src/nn/lenet.js';
import { BoundModel } from '../../src/train/model.js';
import { core, expectClose, FLAVORS } from '../helpers/index.js';
import { fromArrays } from '../../src/data/dataset.js';

const DIR = join(__dirname, '..', 'fixtures', 'torch');
const batch = readSafetensors(join(DIR, 'lenet_batch.safetensors')).tensors;
const f32 = (name: string) => batch.get(name)!.data as Float32Array;

describe.each(FLAVORS)('LeNet vs PyTorch (%s build)', (flavor) => {
  const c = core(flavor);

  it('loads the PyTorch state_dict and matches logits, loss and every parameter gradient', () => {
    const model = new BoundModel(c, lenet(), MNIST_SHAPE);
    loadWeights(join(DIR, 'lenet_state.safetensors'), model.params);
    const x = f32('x');
    const labels = Uint8Array.from(batch.get('labels')!.data as Int32Array);
    const n = labels.length;
    const ds = fromArrays({ x, sampleShape: [...MNIST_SHAPE], labels, classes: 10 });
    // logits: forward results, 1e-4 relative to the logits' scale (sums of up to 1250 products)
    expectClose(model.predict(x, n), f32('logits'), 1e-4, 'logits');
    // loss: mean cross-entropy, 1e-5 relative
    const ev = model.evaluate(ds, n, n);
    expectClose([ev.lossSum / n], f32('loss'), 1e-5, 'loss');
    // gradients: judged against each tensor's largest entry (entries are sums of cancelling
    // products, so their own size says little about rounding): 1e-4 of max|g|
    model.params.zeroGrad();
    model.gradChunk(ds, Array.from({ length: n }, (_, i) => i), 1, { seed: 0 });
    const g = model.params.grad.view();
    for (const e of model.params.entries) {
      const want = f32(`grad.${e.name}`);
      let max = 0;
      for (const v of want) max = Math.max(max, Math.abs(v));
      expectClose(g.subarray(e.offset, e.offset + e.size), want, 1e-4, `grad.${e.name}`, max);
    }
    model.free();
  });
});

describe('checkpoints in PyTorch layout', () => {
  it('write the state_dict names, shapes and values a PyTorch loader expects', () => {
    const c = core('simd');
    const model = new BoundModel(c, lenet(), MNIST_SHAPE);
    loadWeights(join(DIR, 'lenet_state.safetensors'), model.params);
    const dir = mkdtempSync(join(tmpdir(), 'iruka-pt-'));
    try {
      const path = join(dir, 'ours.safetensors');
      saveCheckpoint(path, model.params, null, { epoch: 0, step: 0, stepInEpoch: 0, seed: 0, optimizer: 'none', flags: {}, metrics: {}, partial: { lossSum: 0, correct: 0, seen: 0 } });
      const ours = readSafetensors(path).tensors;
      const theirs = readSafetensors(join(DIR, 'lenet_state.safetensors')).tensors;
      expect([...ours.keys()]).toEqual([...theirs.keys()]);
      for (const [name, t] of theirs) {
        expect(ours.get(name)!.shape, name).toEqual(t.shape);
        expect(Buffer.from((ours.get(name)!.data as Float32Array).buffer).equals(Buffer.from((t.data as Float32Array).buffer)), name).toBe(true);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
      model.free();
    }
  });
});
