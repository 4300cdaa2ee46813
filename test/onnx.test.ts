// ONNX export: the exported graph, run in ONNX Runtime Web (its wasm backend, in Node), gives
// our logits within 1e-5 of the largest one, for the reference LeNet with PyTorch's weights,
// the shipped BatchNorm + residual network with non-trivial running statistics, and a spec
// that uses every other layer type; plus the errors for a model that does not fit the spec.
import { describe, it, expect, beforeAll } from 'vitest';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as ort from 'onnxruntime-web';
import { exportOnnx } from '../src/io/onnx.js';
import { loadWeights } from '../src/io/checkpoint.js';
import { saveModel } from '../src/io/model_file.js';
import { buildModel, type ModelSpec } from '../src/nn/spec.js';
import { LENET_SPEC } from '../src/nn/lenet.js';
import { shippedSpec, SHIPPED_MODELS } from '../src/nn/zoo.js';
import { BoundModel } from '../src/train/model.js';
import { lenet } from '../src/nn/lenet.js';
import { core, expectClose, randn } from './helpers/index.js';

const FIXTURE = join(__dirname, 'fixtures', 'torch', 'lenet_state.safetensors');

beforeAll(() => {
  ort.env.wasm.numThreads = 1;
});

function bind(spec: ModelSpec): BoundModel {
  return new BoundModel(core('simd'), buildModel(spec), spec.input);
}

/** Runs the exported model in ONNX Runtime on `n` samples and checks its outputs against ours. */
async function expectSameLogits(model: BoundModel, spec: ModelSpec, n: number, seed: number): Promise<void> {
  const x = randn(n * model.sampleSize, seed);
  const ours = model.predict(x, n);
  const session = await ort.InferenceSession.create(exportOnnx(model, spec));
  try {
    const out = await session.run({ input: new ort.Tensor('float32', x, [n, ...spec.input]) });
    const theirs = out.output;
    expect(theirs.dims).toEqual([n, ...model.outShape]);
    const max = ours.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(max).toBeGreaterThan(0);
    expectClose(theirs.data as Float32Array, ours, 1e-5, 'onnxruntime vs predict', max);
  } finally {
    await session.release();
  }
}

/** Random, non-trivial BatchNorm state: scale, shift, running mean and (positive) variance. */
function scrambleBatchNorm(model: BoundModel, seed: number): void {
  const set = (name: string, lo: number, hi: number) => {
    const v = model.params.view(model.params.byName.get(name)!);
    v.set(randn(v.length, seed++, lo, hi));
  };
  for (const e of model.params.entries) {
    if (!e.name.endsWith('.running_mean')) continue;
    const layer = e.name.slice(0, -'.running_mean'.length);
    set(`${layer}.running_mean`, -0.5, 0.5);
    set(`${layer}.running_var`, 0.3, 2);
    set(`${layer}.weight`, 0.5, 1.5);
    set(`${layer}.bias`, -0.3, 0.3);
  }
}

/** Every layer type the LeNet and the residual network leave out, with strides, odd pads and kernels. */
const EVERYTHING: ModelSpec = {
  name: 'onnx_coverage',
  input: [3, 13, 11],
  init: 'he',
  layers: [
    { type: 'conv2d', name: 'c1', filters: 6, kernel: [3, 5], stride: [2, 1], padding: [1, 2] },
    { type: 'leaky_relu', slope: 0.1 },
    { type: 'avgpool2d', kernel: 3, stride: 2, padding: 1 },
    {
      type: 'concat',
      name: 'mix',
      branches: [
        [{ type: 'conv2d', filters: 4, kernel: 1 }, { type: 'sigmoid' }],
        [{ type: 'conv2d', filters: 3, kernel: 3, padding: 'same' }, { type: 'tanh' }, { type: 'maxpool2d', kernel: 3, stride: 1, padding: 1 }],
      ],
    },
    { type: 'residual', name: 'res', body: [{ type: 'conv2d', filters: 7, kernel: 3, padding: 'same' }, { type: 'batchnorm', name: 'bn' }] },
    { type: 'dropout', p: 0.3 },
    { type: 'flatten' },
    { type: 'linear', name: 'fc1', units: 12 },
    { type: 'batchnorm', name: 'bn1d' },
    { type: 'relu' },
    { type: 'linear', name: 'fc2', units: 5 },
  ],
};

describe('exportOnnx', () => {
  it('LeNet with PyTorch weights: onnxruntime-web matches predict within 1e-5', async () => {
    const model = bind(LENET_SPEC);
    loadWeights(FIXTURE, model.params);
    await expectSameLogits(model, LENET_SPEC, 7, 1);
    model.free();
  });

  it('the shipped resnet_mnist (BatchNorm, residual) with non-trivial running statistics', async () => {
    const spec = shippedSpec('resnet_mnist');
    const model = bind(spec);
    model.params.init(3);
    scrambleBatchNorm(model, 10);
    const mean = model.params.view(model.params.byName.get('res1.bn_a.running_mean')!);
    expect(mean.some((v) => Math.abs(v) > 0.1)).toBe(true);
    await expectSameLogits(model, spec, 5, 2);
    model.free();
  });

  it('strided and padded convs, avg/max pooling with padding, concat, identity residual, dropout, BatchNorm1d, leaky_relu, sigmoid, tanh', async () => {
    const model = bind(EVERYTHING);
    model.params.init(5);
    scrambleBatchNorm(model, 20);
    await expectSameLogits(model, EVERYTHING, 4, 3);
    model.free();
  });

  it.each(SHIPPED_MODELS)('the shipped %s with random weights', async (name) => {
    const spec = shippedSpec(name);
    const model = bind(spec);
    model.params.init(6);
    scrambleBatchNorm(model, 40);
    await expectSameLogits(model, spec, 2, 5);
    model.free();
  });

  it('a vector input [F] (no image axes), softplus', async () => {
    const spec: ModelSpec = { input: [9], layers: [{ type: 'linear', units: 6 }, { type: 'tanh' }, { type: 'linear', units: 5 }, { type: 'softplus' }, { type: 'dropout', p: 0.5 }, { type: 'linear', units: 3 }] };
    const model = bind(spec);
    model.params.init(7);
    await expectSameLogits(model, spec, 5, 6);
    model.free();
  });

  it('a model that is not built from the spec is an error naming the parameter', () => {
    const model = bind(LENET_SPEC);
    const other: ModelSpec = { ...LENET_SPEC, layers: LENET_SPEC.layers.map((l) => (l.name === 'fc2' ? { ...l, name: 'head' } : l)) };
    expect(() => exportOnnx(model, other)).toThrow(/parameter 'head\.weight' that the model lacks/);
    const shorter: ModelSpec = { ...LENET_SPEC, layers: LENET_SPEC.layers.slice(0, 8) };
    expect(() => exportOnnx(model, shorter)).toThrow(/parameters the spec does not use: fc2\.weight, fc2\.bias/);
    const wider: ModelSpec = { ...LENET_SPEC, layers: LENET_SPEC.layers.map((l) => (l.name === 'fc1' ? { ...l, units: 400 } : l)) };
    expect(() => exportOnnx(model, wider)).toThrow(/parameter 'fc1\.weight' is \[500,1250\] in the model but \[400,1250\] in the spec/);
    model.free();
  });
});

const CLI = join(__dirname, '..', 'dist', 'src', 'cli', 'export.js');

function run(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('iruka export --onnx', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'iruka-onnx-'));
    return () => rmSync(dir, { recursive: true, force: true });
  });

  it('--help names the flags', () => {
    const r = run(['--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--onnx', '--weights', '--out']) expect(r.out).toContain(flag);
  });

  it('writes a checkpoint with its spec inside as ONNX that runs in onnxruntime-web like predict', async () => {
    const spec = shippedSpec('resnet_mnist');
    const model = bind(spec);
    model.params.init(4);
    scrambleBatchNorm(model, 30);
    const ckpt = join(dir, 'resnet.safetensors');
    saveModel(ckpt, model, spec);
    const out = join(dir, 'resnet.onnx');
    const r = run(['--onnx', '--weights', ckpt, '--out', out]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^wrote .*resnet\.onnx \([\d,]+ bytes, ONNX opset 13, model resnet_mnist/);
    expect(readFileSync(out).equals(exportOnnx(model, spec))).toBe(true);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
    await expectSameLogits(model, spec, 3, 4);
    model.free();
  });

  it('a PyTorch state_dict exports with --model naming its spec', () => {
    const out = join(dir, 'lenet.onnx');
    const r = run(['--onnx', '--weights', FIXTURE, '--model', 'lenet', '--out', out]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const model = new BoundModel(core('simd'), lenet(), LENET_SPEC.input);
    loadWeights(FIXTURE, model.params);
    expect(readFileSync(out).equals(exportOnnx(model, LENET_SPEC))).toBe(true);
    model.free();
  });

  it('bad usage and bad input: exit 2, one line, nothing written', () => {
    const out = join(dir, 'never.onnx');
    const cases: Array<[string[], RegExp]> = [
      [['--weights', FIXTURE, '--out', out], /say which format to write: --onnx/],
      [['--onnx', '--out', out], /--weights CKPT is required/],
      [['--onnx', '--weights', FIXTURE], /--out FILE is required/],
      [['--onnx', '--weights', join(dir, 'missing.safetensors'), '--out', out], /missing\.safetensors: cannot read checkpoint: no such file/],
      [['--onnx', '--weights', FIXTURE, '--out', out, '--opset', '9'], /unknown flag '--opset'/],
      [['--onnx', '--weights', FIXTURE, '--out', out, '--model', 'resnet_mnist'], /stem\.weight/],
      [['--onnx', '--weights', FIXTURE, '--out', out, '--model', 'nosuch'], /model 'nosuch' is neither a \.json file nor a shipped model/],
    ];
    for (const [args, message] of cases) {
      const r = run(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err.split('\n')[0]).toMatch(/^export: error: /);
      expect(r.err).toMatch(message);
    }
    expect(existsSync(out)).toBe(false);
  });
});
