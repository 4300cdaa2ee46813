// fit(): the one trainer, through the public API. Any spec trains on this thread and on the
// worker pool with the same bits (BatchNorm included), options are checked with errors that
// name them, data that does not fit the model is refused, and worker failures reject.
import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fit, resolveFitOptions, FIT_DEFAULTS, OPTION_BOUNDS, OptionsError, fromArrays, loadDataset, subset, buildModel, InputError, readSafetensors, loadModel, loadCoreSync, type Dataset } from '../src/index.js';
import { rng } from './helpers/index.js';
import { BN_NET } from './helpers/specs.js';

const dir = mkdtempSync(join(tmpdir(), 'iruka-fit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));


const mnist = loadDataset('mnist', { limitTrain: 512, limitTest: 128 });

describe('fit', () => {
  it('trains a BatchNorm + residual spec with 1 and 2 workers to the same checkpoint, byte for byte', async () => {
    const opts = { epochs: 1, batchSize: 64, chunkSize: 16, seed: 7, checkpointEvery: 0, augment: { shift: 1 } } as const;
    const a = await fit(BN_NET, mnist, { ...opts, workers: 1, out: join(dir, 'w1') });
    const b = await fit(BN_NET, mnist, { ...opts, workers: 2, out: join(dir, 'w2') });
    expect(a.checkpoint && b.checkpoint).toBeTruthy();
    expect(readFileSync(a.checkpoint!).equals(readFileSync(b.checkpoint!))).toBe(true);
    const t = readSafetensors(a.checkpoint!).tensors;
    expect(t.get('bn1.running_mean')!.shape).toEqual([4]);
    expect(t.get('res.bn.running_var')!.shape).toEqual([4]);
    expect(t.get('bn1.num_batches_tracked')!.dtype).toBe('I64');
    expect(Number((t.get('bn1.num_batches_tracked')!.data as BigInt64Array)[0])).toBe(8);
    // the running statistics moved away from their start (mean 0, variance 1)
    expect([...(t.get('bn1.running_mean')!.data as Float32Array)].some((v) => Math.abs(v) > 1e-3)).toBe(true);
    expect(a.testAcc).toBeGreaterThan(0.3);
    a.model.free();
    b.model.free();
  });

  it('rebuilds the trained model from its checkpoint alone and predicts what the run predicted', async () => {
    const r = await fit(BN_NET, mnist, { epochs: 1, seed: 3, out: join(dir, 'reload'), checkpointEvery: 0 });
    const x = mnist.test.x.subarray(0, 8 * 784);
    const want = r.model.predict(x, 8);
    const core = loadCoreSync({ flavor: r.model.core.flavor });
    const { model, spec } = loadModel(r.checkpoint!, core);
    expect(spec.name).toBe('bn_net');
    expect(Buffer.from(model.predict(x, 8).buffer).equals(Buffer.from(want.buffer))).toBe(true);
    model.free();
    r.model.free();
  });

  it('trains without a folder and reports progress and epochs through callbacks', async () => {
    const seen: string[] = [];
    const r = await fit(BN_NET, { train: subset(mnist.train, 128) }, {
      epochs: 2,
      onProgress: (p) => seen.push(p.phase),
      onEpoch: (m) => seen.push(`epoch ${m.epoch}`),
    });
    expect(r.checkpoint).toBeNull();
    expect(r.metrics.map((m) => m.epoch)).toEqual([1, 2]);
    expect(r.metrics[0].test_loss).toBeNull();
    expect(seen).toContain('train');
    expect(seen.filter((s) => s.startsWith('epoch'))).toEqual(['epoch 1', 'epoch 2']);
    r.model.free();
  });

  it('has exported, validated defaults', () => {
    expect(FIT_DEFAULTS.batchSize).toBe(64);
    expect(resolveFitOptions({}).chunkSize).toBe(8);
    expect(resolveFitOptions({ batchSize: 256 }).chunkSize).toBe(16);
    expect(() => resolveFitOptions({ workers: 0 })).toThrow(/fit: option workers must be >= 1, got 0/);
    expect(() => resolveFitOptions({ lr: Number.NaN })).toThrow(OptionsError);
    expect(() => resolveFitOptions({ seed: 1.5 })).toThrow(/option seed must be an integer/);
    expect(() => resolveFitOptions({ epoch: 3 } as never)).toThrow(/option epoch is not an option of fit\(\)/);
    expect(() => resolveFitOptions({ augment: { shift: 2, flip: true } as never })).toThrow(/unknown key 'flip'/);
  });

  it('says what a bound protects, from the table the CLIs read too', () => {
    expect(() => resolveFitOptions({ momentum: 1 })).toThrow(/option momentum must be <= 0\.999, got 1; in \[0, 1\): at 1 the velocity never decays/);
    expect(() => resolveFitOptions({ augment: { shift: 65 } })).toThrow(/option augment\.shift must be <= 64, got 65; pixels of random translation/);
    expect(() => resolveFitOptions({ gamma: 0 })).toThrow(new RegExp(`; ${OPTION_BOUNDS.gamma.why.replace(/[()[\]]/g, '\\$&')}$`));
  });

  it.each([
    ['a dataset of the wrong sample shape', { train: fromArrays({ x: new Float32Array(2 * 100), sampleShape: [100], labels: [0, 1] }) }, /has samples \[100\], the model expects \[1,28,28\]/],
    ['labels outside the class count', { train: fromArrays({ x: new Float32Array(2 * 784), sampleShape: [1, 28, 28], labels: [0, 11] }) }, /labels up to 11 but the model outputs 10 classes/],
    ['tensor targets for softmax cross-entropy', { train: fromArrays({ x: new Float32Array(784), sampleShape: [1, 28, 28], targets: { kind: 'tensor', shape: [10], data: new Float32Array(10) } }) }, /needs class labels/],
  ] as Array<[string, { train: Dataset }, RegExp]>)('refuses %s with an InputError', async (_what, data, msg) => {
    const opts = { epochs: 1, loss: { type: 'softmax_xent' } } as const;
    await expect(fit(BN_NET, data, opts)).rejects.toThrow(InputError);
    await expect(fit(BN_NET, data, opts)).rejects.toThrow(msg);
  });

  it('rejects its promise when a worker chunk fails twice (no uncaught error)', async () => {
    process.env.IRUKA_TEST_FAULTS = JSON.stringify([{ step: 1, chunk: 0, mode: 'throw', times: 2 }]);
    try {
      await expect(fit(BN_NET, { train: subset(mnist.train, 256) }, { epochs: 1, workers: 2 })).rejects.toThrow(/step 1, chunks 0-\d+ failed twice/);
    } finally {
      delete process.env.IRUKA_TEST_FAULTS;
    }
  });

  it('trains a regression with MSE on tensor targets, and an autoencoder whose target is its input', async () => {
    const r = rng(5);
    const n = 256;
    const x = Float32Array.from({ length: n * 4 }, () => 2 * r() - 1);
    const y = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) {
      y[2 * i] = x[4 * i] - 2 * x[4 * i + 1];
      y[2 * i + 1] = 0.5 * x[4 * i + 2] + x[4 * i + 3];
    }
    const reg = fromArrays({ x, sampleShape: [4], targets: { kind: 'tensor', shape: [2], data: y } });
    const spec = { input: [4], layers: [{ type: 'linear', units: 2 }] };
    const fitted = await fit(spec, { train: reg, test: reg }, { epochs: 20, batchSize: 16, lr: 0.05, weightDecay: 0 });
    expect(fitted.model.loss.spec.type).toBe('mse');
    expect(fitted.testLoss).toBeLessThan(1e-3);
    expect(fitted.testAcc).toBeNull();
    fitted.model.free();

    const ae = fromArrays({ x: Float32Array.from({ length: n * 8 }, () => r()), sampleShape: [8], targets: { kind: 'input' } });
    const auto = { input: [8], layers: [{ type: 'linear', units: 8 }] };
    const first = await fit(auto, { train: ae, test: ae }, { epochs: 1, batchSize: 16, loss: { type: 'bce_logits' }, lr: 0.1, weightDecay: 0 });
    const later = await fit(auto, { train: ae, test: ae }, { epochs: 15, batchSize: 16, loss: { type: 'bce_logits' }, lr: 0.1, weightDecay: 0 });
    expect(later.testLoss).toBeLessThan(first.metrics[0].test_loss!);
    first.model.free();
    later.model.free();
  });

  it('builds every layer with errors at build time, not at the first forward', () => {
    expect(() => buildModel({ input: [1, 8, 8], layers: [{ type: 'conv2d', filters: 2, kernel: 3, stride: 0 }] })).toThrow(/stride must be an integer in \[1, 4096\], got 0/);
  });
});

describe('loadModel', () => {
  it('loads a PyTorch state_dict (no spec of ours in its metadata) as the reference LeNet', () => {
    const { model, spec } = loadModel(join(__dirname, 'fixtures', 'torch', 'lenet_state.safetensors'), loadCoreSync({ flavor: 'simd' }));
    expect(spec.name).toBe('lenet');
    expect(model.params.size).toBe(656080);
    model.free();
  });
});
