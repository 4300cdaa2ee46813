// Layer constructors with rectangular kernels, strides and padding: Conv2d, MaxPool2d and
// AvgPool2d take a number or an [h, w] pair for each (padding also 'same' / 'valid'), check
// them when constructed (messages name the layer and the argument), infer shapes, and run the
// op with those pairs (compared with the f64 references); existing defaults are unchanged.
// Also: Dropout through the layer (one ctx.random draw seeds the kernel's mask), summary(),
// and the LeakyReLU and GlobalAvgPool2d layers.
import { describe, it, expect } from 'vitest';
import { Conv2d, MaxPool2d, AvgPool2d, Dropout, Flatten, Linear, Sequential, LeakyReLU, GlobalAvgPool2d, type Ctx } from '../src/nn/layers.js';
import { Params } from '../src/nn/params.js';
import { Tape } from '../src/autograd.js';
import { Tensor } from '../src/tensor.js';
import { conv2dForwardRef } from '../src/ref/conv2d.js';
import { maxpool2dForwardRef, avgpool2dForwardRef } from '../src/ref/pool.js';
import { dropoutSeededMaskRef, leakyReluForwardRef } from '../src/ref/activation.js';
import { globalAvgpoolForwardRef } from '../src/ref/pool.js';
import { core, randn, rng, expectClose, expectBits } from './helpers/index.js';

describe('Conv2d arguments', () => {
  it('a number means the same on both axes; existing defaults are unchanged (stride 1, valid)', () => {
    const conv = new Conv2d(3, 8, 5);
    expect([conv.stride, conv.pad]).toEqual([1, 0]);
    expect(conv.outShape([2, 3, 28, 28])).toEqual([2, 8, 24, 24]);
    expect(new Conv2d(3, 8, 5, { padding: 'same' }).pad).toBe(2);
    expect(new Conv2d(3, 8, 5, { padding: 'same' }).outShape([1, 3, 28, 28])).toEqual([1, 8, 28, 28]);
  });

  it('takes [h, w] pairs for kernel, stride and padding', () => {
    const conv = new Conv2d(2, 4, [3, 5], { stride: [2, 1], padding: [1, 2] });
    expect(conv.paramSpecs().map((p) => p.shape)).toEqual([[4, 2, 3, 5], [4]]);
    expect(conv.paramSpecs()[0].fanIn).toBe(2 * 3 * 5);
    expect([conv.stride, conv.pad]).toEqual([[2, 1], [1, 2]]);
    // oh = floor((9 + 2 - 3)/2) + 1 = 5, ow = floor((7 + 4 - 5)/1) + 1 = 7
    expect(conv.outShape([1, 2, 9, 7])).toEqual([1, 4, 5, 7]);
    expect(new Conv2d(1, 1, [3, 5], { padding: 'same' }).pad).toEqual([1, 2]);
    expect(new Conv2d(1, 1, [3, 3], { padding: [0, 0] }).pad).toBe(0);
  });

  it('rejects bad arguments when constructed, naming the layer and the argument', () => {
    expect(() => new Conv2d(1, 2, 0)).toThrow(/Conv2d: kernel must be an integer >= 1 or a pair \[h, w\] of them, got 0/);
    expect(() => new Conv2d(1, 2, [3, 0])).toThrow(/Conv2d: kernel must be .* got \[3,0\]/);
    expect(() => new Conv2d(1, 2, 3, { stride: 0 })).toThrow(/Conv2d: stride must be an integer >= 1 or a pair \[h, w\] of them, got 0/);
    expect(() => new Conv2d(1, 2, 3, { stride: [1, 2, 3] as unknown as [number, number] })).toThrow(/Conv2d: stride must be/);
    expect(() => new Conv2d(1, 2, 3, { padding: -1 })).toThrow(/Conv2d: padding must be an integer >= 0 or a pair \[h, w\] of them, got -1/);
    expect(() => new Conv2d(1, 2, 3, { padding: [1, -1] })).toThrow(/Conv2d: padding must be/);
    expect(() => new Conv2d(1, 2, 3, { padding: 'full' as 'same' })).toThrow(/Conv2d: padding must be 'same', 'valid'/);
    expect(() => new Conv2d(1, 2, 3, { padding: 'same', stride: 2 })).toThrow(/Conv2d: padding 'same' needs stride 1, got stride 2/);
    expect(() => new Conv2d(1, 2, 3, { padding: 'same', stride: [1, 2] })).toThrow(/Conv2d: padding 'same' needs stride 1, got stride \[1,2\]/);
    expect(() => new Conv2d(1, 2, [3, 4], { padding: 'same' })).toThrow(/Conv2d: padding 'same' needs an odd kernel size, got kernel \[3,4\]/);
    expect(() => new Conv2d(0, 2, 3)).toThrow(/Conv2d: inChannels must be an integer >= 1, got 0/);
    expect(() => new Conv2d(1, 2, [3, 9]).outShape([1, 1, 8, 8])).toThrow(/Conv2d: kernel 3x9 is larger than the padded input 8x8/);
  });
});

describe('MaxPool2d and AvgPool2d arguments', () => {
  it('defaults unchanged: stride = kernel, padding 0', () => {
    const p = new MaxPool2d(2);
    expect([p.kernel, p.stride, p.pad]).toEqual([2, 2, 0]);
    expect(p.outShape([1, 3, 9, 9])).toEqual([1, 3, 4, 4]);
    expect(new AvgPool2d(2, 1).outShape([1, 1, 4, 4])).toEqual([1, 1, 3, 3]);
  });

  it('takes pairs and padding modes', () => {
    const p = new AvgPool2d([3, 2], [2, 1], [1, 0]);
    expect([p.stride, p.pad]).toEqual([[2, 1], [1, 0]]);
    expect(p.outShape([2, 3, 7, 6])).toEqual([2, 3, 4, 5]);
    expect(new MaxPool2d([2, 3]).stride).toEqual([2, 3]); // stride defaults to the kernel, pair and all
    expect(new MaxPool2d(3, 1, 'same').outShape([1, 1, 5, 5])).toEqual([1, 1, 5, 5]);
    expect(new MaxPool2d(3, 1, 'valid').pad).toBe(0);
  });

  it('rejects bad arguments when constructed, naming the layer and the argument', () => {
    expect(() => new MaxPool2d(0)).toThrow(/MaxPool2d: kernel must be an integer >= 1/);
    expect(() => new AvgPool2d(2, 0)).toThrow(/AvgPool2d: stride must be an integer >= 1 or a pair \[h, w\] of them, got 0/);
    expect(() => new AvgPool2d(2, [2, 0])).toThrow(/AvgPool2d: stride must be/);
    expect(() => new MaxPool2d(3, 1, -1)).toThrow(/MaxPool2d: padding must be an integer >= 0/);
    expect(() => new MaxPool2d(3, undefined, 'same')).toThrow(/MaxPool2d: padding 'same' needs stride 1, got stride 3/);
    expect(() => new AvgPool2d(2, 2, 2)).toThrow(/AvgPool2d: padding 2 is more than half the kernel 2/);
    expect(() => new MaxPool2d(4).outShape([1, 1, 3, 8])).toThrow(/MaxPool2d: kernel 4x4 is larger than the padded input 3x8/);
  });
});

function runLayers(net: Sequential, inShape: number[], x: Float32Array, opts: { training?: boolean; random?: () => number } = {}) {
  const c = core('simd');
  const specs = net.paramSpecs(inShape);
  // Params needs at least one value: layers without parameters get an unused one
  const params = new Params(c, specs.length ? specs : [{ name: 'unused', shape: [1], init: 'zeros', fanIn: 1, fanOut: 1 }]);
  params.init(3);
  const tape = new Tape(c);
  const ctx: Ctx = { tape, params, training: opts.training ?? false, random: opts.random ?? rng(1) };
  const input = Tensor.from(c, x, inShape);
  const out = net.forward(ctx, input);
  const result = { y: Float32Array.from(out.data), shape: [...out.shape], weights: params.data.toArray() };
  tape.dispose();
  input.dispose();
  params.free();
  return result;
}

describe('rectangular layers run their ops', () => {
  it('Conv2d with kernel [3,5], stride [2,1], padding [1,2] matches the f64 reference', () => {
    const conv = new Conv2d(2, 3, [3, 5], { stride: [2, 1], padding: [1, 2], biasInit: 'torch' });
    const x = randn(2 * 2 * 9 * 7, 5);
    const { y, shape, weights } = runLayers(new Sequential([['c', conv]]), [2, 2, 9, 7], x);
    expect(shape).toEqual(conv.outShape([2, 2, 9, 7]));
    const w = Float32Array.from(weights.slice(0, 3 * 2 * 3 * 5));
    const b = Float32Array.from(weights.slice(3 * 2 * 3 * 5));
    const ref = conv2dForwardRef(x, w, b, { n: 2, c: 2, h: 9, w: 7, oc: 3, kh: 3, kw: 5, sh: 2, sw: 1, ph: 1, pw: 2 });
    expectClose(y, ref, 1e-5, 'conv y', 1e-2 * Math.max(...ref.map(Math.abs)));
  });

  it('MaxPool2d [3,2] stride [2,1] pad [1,0] and AvgPool2d [2,3] match the references', () => {
    const x = randn(1 * 2 * 7 * 6, 6);
    const max = runLayers(new Sequential([['p', new MaxPool2d([3, 2], [2, 1], [1, 0])]]), [1, 2, 7, 6], x);
    const g = { n: 1, c: 2, h: 7, w: 6, kh: 3, kw: 2, sh: 2, sw: 1, ph: 1, pw: 0 };
    expectBits(max.y, maxpool2dForwardRef(x, g).y, 'max y');
    const avg = runLayers(new Sequential([['p', new AvgPool2d([2, 3])]]), [1, 2, 7, 6], x);
    expectClose(avg.y, avgpool2dForwardRef(x, { ...g, kh: 2, kw: 3, sh: 2, sw: 3, ph: 0, pw: 0 }), 1e-6, 'avg y', 1);
  });

  it('summary() lists rectangular layers with their shapes and parameter counts', () => {
    const net = new Sequential([
      ['conv', new Conv2d(1, 4, [3, 5], { padding: [1, 2] })],
      ['pool', new MaxPool2d([2, 1])],
      ['flat', new Flatten()],
      ['fc', new Linear(4 * 4 * 7, 3)],
    ]);
    const s = net.summary([1, 8, 7]);
    expect(s).toMatch(/conv \(Conv2d\)\s+\(None, 4, 8, 7\)\s+64/);
    expect(s).toMatch(/pool \(MaxPool2d\)\s+\(None, 4, 4, 7\)\s+0/);
    expect(s).toMatch(/Total params: 403/);
  });
});

describe('Dropout layer', () => {
  it('training: one ctx.random draw seeds the kernel mask; eval and p = 0 pass x through', () => {
    const n = 4 * 50;
    const x = randn(n, 9, 0.5, 1.5); // no zeros: a zero output means a dropped element
    const draws: number[] = [];
    const r = rng(21);
    const random = () => {
      const v = r();
      draws.push(v);
      return v;
    };
    const net = new Sequential([['d', new Dropout(0.25)]]);
    const { y } = runLayers(net, [4, 50], x, { training: true, random });
    expect(draws.length, 'one draw per call').toBe(1);
    const mask = dropoutSeededMaskRef(n, 0.25, Math.floor(draws[0] * 2 ** 32));
    expectBits(y, Float32Array.from(x, (v, i) => v * mask[i]), 'y = x * mask(seed)');
    const dropped = y.filter((v) => v === 0).length;
    expect(dropped).toBeGreaterThan(0.1 * n);
    expect(dropped).toBeLessThan(0.4 * n);
    // the same draw gives the same mask
    const again = runLayers(net, [4, 50], x, { training: true, random: () => draws[0] });
    expectBits(again.y, y, 'same seed, same mask');
    expectBits(runLayers(net, [4, 50], x, { training: false }).y, x, 'eval: identity');
    expectBits(runLayers(new Sequential([['d', new Dropout(0)]]), [4, 50], x, { training: true }).y, x, 'p = 0: identity');
  });
});

describe('LeakyReLU and GlobalAvgPool2d layers', () => {
  it('run leaky_relu and global_avgpool', () => {
    const x = randn(2 * 3 * 4 * 5, 12);
    const net = new Sequential([
      ['act', new LeakyReLU(0.1)],
      ['gap', new GlobalAvgPool2d()],
    ]);
    expect(net.outShape([2, 3, 4, 5])).toEqual([2, 3]);
    const { y } = runLayers(net, [2, 3, 4, 5], x);
    expectClose(y, globalAvgpoolForwardRef(leakyReluForwardRef(x, 0.1), 6, 20), 1e-6, 'y', 1);
    expect(new LeakyReLU().slope).toBe(0.01);
    expect(() => new LeakyReLU(1)).toThrow(/LeakyReLU: slope must be a number in \[0, 1\), got 1/);
    expect(() => new GlobalAvgPool2d().outShape([2, 3])).toThrow(/GlobalAvgPool2d: expected input \[N,C,H,W\], got \[2,3\]/);
  });
});
