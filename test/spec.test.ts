// Model specs: strict checking with errors that name the layer, building any shipped spec,
// PyTorch-style names for nested blocks, Keras-style summaries, and the reference LeNet as one
// spec among others.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildModel, parseModelSpec, withActivation, withInit, specKey, SpecError, type ModelSpec } from '../src/nn/spec.js';
import { LENET_SPEC, lenet } from '../src/nn/lenet.js';
import { shippedSpec, SHIPPED_MODELS } from '../src/nn/zoo.js';
import { BoundModel } from '../src/train/model.js';
import { fromArrays } from '../src/data/dataset.js';
import { core, rng } from './helpers/index.js';

const tiny = (layers: unknown[], input = [2, 6, 6]): unknown => ({ input, layers });

describe('model specs', () => {
  it('models/lenet.json is the LENET_SPEC the code uses', () => {
    const file = JSON.parse(readFileSync(join(__dirname, '..', 'models', 'lenet.json'), 'utf8'));
    const { description: _d, ...rest } = file;
    void _d;
    expect(rest).toEqual(LENET_SPEC);
  });

  it.each(SHIPPED_MODELS)('shipped spec %s parses, builds and chains its shapes', (name) => {
    const m = buildModel(shippedSpec(name));
    // the autoencoders reproduce their 1x28x28 input (784 logits); the others classify 10 classes
    expect(m.outputShape).toEqual(name.startsWith('autoencoder') ? [784] : [10]);
    expect(m.summary()).toMatch(/Total params: [\d,]+/);
  });

  it('the LeNet spec keeps the reference names, shapes and 656,080 parameters', () => {
    const m = lenet();
    expect(m.paramSpecs().map((p) => p.name)).toEqual(['conv1.weight', 'conv1.bias', 'conv2.weight', 'conv2.bias', 'fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']);
    expect(m.summary()).toMatch(/Total params: 656,080\nTrainable params: 656,080\nNon-trainable params: 0/);
  });

  it('names nested parameters as PyTorch would and counts BatchNorm buffers as non-trainable', () => {
    const m = buildModel(shippedSpec('resnet_mnist'));
    const names = m.paramSpecs().map((p) => p.name);
    expect(names).toContain('res1.conv_a.weight');
    expect(names).toContain('res1.bn_b.running_var');
    expect(names).toContain('stem_bn.num_batches_tracked');
    const buffers = m.paramSpecs().filter((p) => p.trainable === false);
    expect(buffers.map((p) => p.name.split('.').pop())).toEqual(expect.arrayContaining(['running_mean', 'running_var', 'num_batches_tracked']));
    const s = m.summary();
    expect(s).toMatch(/res1\.conv_a \(Conv2d\)\s+\(None, 32, 7, 7\)\s+9,248/);
    expect(s).toMatch(/res1 \(Residual\)\s+\(None, 32, 7, 7\)\s+0\n/);
    const fixed = buffers.reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0);
    expect(s).toContain(`Non-trainable params: ${fixed.toLocaleString('en-US')}`);
  });

  it('concatenates branches along channels, with names <block>.<branch>.<layer>', () => {
    const spec = tiny([
      { type: 'concat', name: 'mix', branches: [[{ type: 'conv2d', name: 'a', filters: 3, kernel: 1 }], [{ type: 'conv2d', name: 'b', filters: 5, kernel: 3, padding: 'same' }], []] },
      { type: 'global_avgpool' },
      { type: 'linear', units: 4 },
    ]);
    const m = buildModel(spec);
    expect(m.outShape([7, 2, 6, 6])).toEqual([7, 4]);
    expect(m.paramSpecs().map((p) => p.name)).toEqual(['mix.0.a.weight', 'mix.0.a.bias', 'mix.1.b.weight', 'mix.1.b.bias', 'linear_1.weight', 'linear_1.bias']);
    // 3 + 5 + 2 (the empty branch is the identity) channels reach the linear layer
    expect(m.paramSpecs().find((p) => p.name === 'linear_1.weight')!.shape).toEqual([4, 10]);
  });

  it('gives default names per type and keeps explicit ones', () => {
    const m = buildModel(tiny([{ type: 'conv2d', filters: 2, kernel: 3 }, { type: 'relu' }, { type: 'conv2d', filters: 2, kernel: 3 }, { type: 'flatten', name: 'f' }]));
    expect(m.net.layers.map((l) => l.name)).toEqual(['conv2d_1', 'relu_1', 'conv2d_2', 'f']);
  });

  it.each([
    [tiny([{ type: 'conv3d', filters: 2 }]), /layers\[0\]: unknown layer type "conv3d"; known types: conv2d, linear/],
    [tiny([{ type: 'conv2d', name: 'c1', filter: 2, kernel: 3 }]), /layers\[0\] \(c1\): unknown key 'filter' for a conv2d layer; its keys: filters, kernel/],
    [tiny([{ type: 'conv2d', filters: 2 }]), /a conv2d layer needs 'kernel'/],
    [tiny([{ type: 'conv2d', name: 'c', filters: 2, kernel: 3, stride: 0 }]), /layers\[0\] \(c\): stride must be an integer in \[1, 4096\], got 0/],
    [tiny([{ type: 'conv2d', filters: 2, kernel: 3, stride: 2, padding: 'same' }]), /padding 'same' needs stride 1/],
    [tiny([{ type: 'dropout', p: 1 }]), /p must be in \[0, 1\), got 1/],
    [tiny([{ type: 'flatten', name: 'x' }, { type: 'relu', name: 'x' }]), /the name 'x' is used twice/],
    [tiny([{ type: 'conv2d', name: 'c1', filters: 4, kernel: 3 }, { type: 'linear', name: 'fc', units: 3 }]), /layers\[1\] \(fc\): a linear layer needs a \[N,features\] input, but the layer before gives \[1,4,4,4\]; add a flatten layer before it/],
    [tiny([{ type: 'conv2d', name: 'big', filters: 4, kernel: 9 }]), /layers\[0\] \(big\): .*larger than the padded input/],
    [
      tiny([{ type: 'residual', name: 'r', body: [{ type: 'conv2d', filters: 3, kernel: 1 }] }]),
      /layers\[0\] \(r\): input \[1,2,6,6\]: Residual: the body gives \[1,3,6,6\] but the shortcut gives \[1,2,6,6\]/,
    ],
    [{ input: [1, 28, 28], layers: [], extra: 1 }, /unknown key 'extra'/],
    [{ input: [0, 28], layers: [{ type: 'relu' }] }, /input\[0\] must be an integer/],
    [{ input: [1, 28, 28], layers: [] }, /layers: must hold at least one layer/],
  ])('refuses a bad spec with one clear error (%#)', (spec, msg) => {
    expect(() => buildModel(spec)).toThrow(SpecError);
    expect(() => buildModel(spec)).toThrow(msg);
  });

  it('withActivation swaps every hidden activation, nested ones too, keeping names', () => {
    const s = withActivation(shippedSpec('resnet_mnist'), 'sigmoid');
    const types = JSON.stringify(s).match(/"type":"(relu|sigmoid)"/g)!;
    expect(types.every((t) => t.includes('sigmoid'))).toBe(true);
    expect(buildModel(s).paramSpecs().length).toBe(buildModel(shippedSpec('resnet_mnist')).paramSpecs().length);
    expect(JSON.stringify(withActivation(LENET_SPEC, 'tanh'))).toContain('{"type":"tanh","name":"relu1"}');
  });

  it('withInit sets every layer and specKey compares specs regardless of key order and name', () => {
    const a = withInit(LENET_SPEC, 'he');
    expect(a.init).toBe('he');
    const reordered = JSON.parse(JSON.stringify(a), (_k, v) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse()) : v)) as ModelSpec;
    expect(specKey({ ...reordered, name: 'other' })).toBe(specKey(a));
    expect(specKey(a)).not.toBe(specKey(LENET_SPEC));
  });

  it('a built spec trains one step on this thread (BatchNorm running statistics move)', () => {
    const c = core('simd');
    const net = buildModel(tiny([{ type: 'conv2d', filters: 3, kernel: 3, padding: 'same' }, { type: 'batchnorm', name: 'bn' }, { type: 'leaky_relu' }, { type: 'global_avgpool' }, { type: 'linear', units: 3 }]));
    const model = new BoundModel(c, net, net.inputShape);
    model.params.init(2);
    const r = rng(3);
    const ds = fromArrays({ x: Float32Array.from({ length: 4 * 72 }, () => r() * 2 - 1), sampleShape: [2, 6, 6], labels: [0, 1, 2, 1] });
    model.params.zeroGrad();
    const res = model.gradChunk(ds, [0, 1, 2, 3], 1, { seed: 1 });
    expect(res.stats).toHaveLength(1);
    expect(res.stats![0].name).toBe('bn');
    model.applyBatchStats(res.stats);
    const rm = model.params.view(model.params.byName.get('bn.running_mean')!);
    const mean = res.stats![0].stats.subarray(0, 3);
    for (let k = 0; k < 3; k++) expect(rm[k]).toBeCloseTo(0.1 * mean[k], 6);
    expect(model.params.view(model.params.byName.get('bn.num_batches_tracked')!)[0]).toBe(1);
    expect(model.params.size).toBe(2 * 9 * 3 + 3 + 3 + 3 + 3 * 3 + 3);
    expect(model.params.bufferSize).toBe(3 + 3 + 1);
    model.free();
  });

  it('every plain activation of the op table is a layer type (softplus too) and an --activation choice', () => {
    const m = buildModel(tiny([{ type: 'softplus', name: 'sp' }, { type: 'flatten' }, { type: 'linear', units: 2 }]));
    expect(m.summary()).toMatch(/sp \(Softplus\)/);
    expect(JSON.stringify(withActivation(LENET_SPEC, 'softplus'))).toContain('{"type":"softplus","name":"relu1"}');
  });

  it('parseModelSpec accepts exactly the shipped files', () => {
    for (const name of SHIPPED_MODELS) {
      const raw = JSON.parse(readFileSync(join(__dirname, '..', 'models', `${name}.json`), 'utf8'));
      expect(() => parseModelSpec(raw)).not.toThrow();
    }
  });
});
