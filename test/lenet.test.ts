// The reference LeNet: its summary, parameter names and layouts, whole-network gradient
// checks against finite differences, flat memory across steps, and learning sanity.
import { describe, it, expect } from 'vitest';
import { lenet, MNIST_SHAPE } from '../src/nn/lenet.js';
import { Conv2d, Flatten, Linear, MaxPool2d, Sequential, Tanh, AvgPool2d, Sigmoid } from '../src/nn/layers.js';
import { BoundModel } from '../src/train/model.js';
import { SGD } from '../src/optim/sgd.js';
import { core, rng } from './helpers/index.js';
import { fromArrays } from '../src/data/dataset.js';

describe('LeNet', () => {
  it('summary() prints the Keras-style table with the reference parameter counts', () => {
    const s = lenet().summary();
    expect(s).toMatch(/conv1 \(Conv2d\)\s+\(None, 20, 28, 28\)\s+520\n/);
    expect(s).toMatch(/pool1 \(MaxPool2d\)\s+\(None, 20, 14, 14\)\s+0\n/);
    expect(s).toMatch(/conv2 \(Conv2d\)\s+\(None, 50, 10, 10\)\s+25,050\n/);
    expect(s).toMatch(/flatten \(Flatten\)\s+\(None, 1250\)\s+0\n/);
    expect(s).toMatch(/fc1 \(Linear\)\s+\(None, 500\)\s+625,500\n/);
    expect(s).toMatch(/fc2 \(Linear\)\s+\(None, 10\)\s+5,010\n/);
    expect(s).toMatch(/Total params: 656,080\n/);
  });

  it('has PyTorch parameter names and layouts', () => {
    const specs = lenet().paramSpecs([1, ...MNIST_SHAPE]);
    expect(specs.map((p) => [p.name, p.shape])).toEqual([
      ['conv1.weight', [20, 1, 5, 5]],
      ['conv1.bias', [20]],
      ['conv2.weight', [50, 20, 5, 5]],
      ['conv2.bias', [50]],
      ['fc1.weight', [500, 1250]],
      ['fc1.bias', [500]],
      ['fc2.weight', [10, 500]],
      ['fc2.bias', [10]],
    ]);
  });

  it('same seed, same initial weights; another seed, other weights', () => {
    const c = core('simd');
    const a = new BoundModel(c, lenet(), MNIST_SHAPE);
    const b = new BoundModel(c, lenet(), MNIST_SHAPE);
    a.params.init(5);
    b.params.init(5);
    expect(a.params.data.toArray()).toEqual(b.params.data.toArray());
    b.params.init(6);
    expect(a.params.data.toArray()).not.toEqual(b.params.data.toArray());
    a.free();
    b.free();
  });
});

/**
 * A small network over every layer kind with parameters, for whole-network finite differences.
 * Smooth activations here: a ReLU kink crossed by the probe step makes the numeric estimate
 * meaningless (ReLU and max-pool get kink-free per-op checks in gradcheck.test.ts, and the
 * LeNet with ReLUs is compared with PyTorch's autograd in torch/lenet.test.ts).
 */
function smallNet(): Sequential {
  return new Sequential([
    ['conv1', new Conv2d(2, 3, 3, { padding: 'same', init: 'xavier', biasInit: 'torch' })],
    ['act1', new Tanh()],
    ['pool1', new MaxPool2d(2)],
    ['conv2', new Conv2d(3, 4, 2, { init: 'xavier', biasInit: 'torch' })],
    ['act2', new Tanh()],
    ['pool2', new AvgPool2d(2, 1)],
    ['flatten', new Flatten()],
    ['fc1', new Linear(16, 7, { init: 'xavier', biasInit: 'torch' })],
    ['act3', new Sigmoid()],
    ['fc2', new Linear(7, 5, { init: 'xavier', biasInit: 'torch' })],
  ]);
}

describe('whole-network gradients', () => {
  it.each(['debug', 'simd', 'relaxed'] as const)('match central differences for every parameter (%s)', (flavor) => {
    const c = core(flavor);
    const model = new BoundModel(c, smallNet(), [2, 8, 8]);
    model.params.init(11);
    const n = 3;
    const r = rng(4);
    const images = Float32Array.from({ length: n * 2 * 64 }, () => 2 * r() - 1);
    const labels = Uint8Array.from([1, 4, 0]);
    const ds = fromArrays({ x: images, sampleShape: [2, 8, 8], labels, classes: 5 });
    const idx = [0, 1, 2];
    const loss = (): number => {
      const e = model.evaluate(ds, n, n);
      return e.lossSum / n;
    };
    model.params.zeroGrad();
    model.gradChunk(ds, idx, 1, { seed: 1 });
    const grad = model.params.grad.toArray();
    const w = model.params.data;
    // small enough not to cross a ReLU/max-pool kink, large enough for f32 loss differences
    const eps = 3e-3;
    let checked = 0;
    for (const e of model.params.entries) {
      for (const j of [0, Math.floor(e.size / 2), e.size - 1]) {
        const i = e.offset + j;
        const orig = w.view()[i];
        w.view()[i] = orig + eps;
        const lp = loss();
        w.view()[i] = orig - eps;
        const lm = loss();
        w.view()[i] = orig;
        const num = (lp - lm) / (2 * eps);
        const err = Math.abs(grad[i] - num) / Math.max(Math.abs(grad[i]) + Math.abs(num), 1e-3);
        expect(err, `${e.name}[${j}]: analytic ${grad[i]}, numeric ${num}`).toBeLessThan(3e-2);
        checked++;
      }
    }
    expect(checked).toBe(8 * 3);
    model.free();
  });
});

describe('training steps', () => {
  it('keep memory flat and raise the probability of the target (learning sanity)', () => {
    const c = core('simd');
    const model = new BoundModel(c, lenet(), MNIST_SHAPE);
    model.params.init(3);
    const opt = new SGD(c, model.params.data, model.params.grad, { momentum: 0.9 });
    const r = rng(9);
    const n = 16;
    const images = Float32Array.from({ length: n * 784 }, () => r());
    const labels = Uint8Array.from({ length: n }, (_, i) => i % 10);
    const ds = fromArrays({ x: images, sampleShape: [...MNIST_SHAPE], labels, classes: 10 });
    const idx = Array.from({ length: n }, (_, i) => i);
    const first = model.evaluate(ds, n, n).lossSum / n;
    let live = -1;
    for (let s = 0; s < 30; s++) {
      model.params.zeroGrad();
      model.gradChunk(ds, idx, 1, { seed: s });
      opt.step(0.01);
      if (s === 2) live = c.heap.liveBytes;
      if (s > 2) expect(c.heap.liveBytes, `live bytes after step ${s}`).toBe(live);
    }
    const last = model.evaluate(ds, n, n).lossSum / n;
    expect(last).toBeLessThan(first * 0.5);
    opt.free();
    model.free();
  });
});
