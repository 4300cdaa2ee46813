// The op table's new entries through the tape: shape inference and attrs errors (clear
// messages naming the op and the shapes), batchnorm's attrs.stats (batch mean and unbiased
// variance; biased 0 at N*S = 1) and its only-what-is-needed backward, concat / add backward
// split and sums, and that every op frees what it saved.
import { describe, it, expect } from 'vitest';
import { Tape } from '../src/autograd.js';
import { Tensor } from '../src/tensor.js';
import { opDef } from '../src/ops/table.js';
import { updateRunningStats } from '../src/nn/batchnorm_stats.js';
import { batchnormForwardTrainRef } from '../src/ref/batchnorm.js';
import { core, randn, expectClose, expectBits } from './helpers/index.js';

describe('shape and attrs errors', () => {
  const bn = opDef('batchnorm');
  const ok = { training: true, eps: 1e-5 };
  it('batchnorm', () => {
    expect(() => bn.outShape([[4], [4], [4], [4], [4]], ok)).toThrow(/batchnorm: x must be \[N,C\] or \[N,C,...\], got shape \[4\]/);
    expect(() => bn.outShape([[2, 3, 4], [4], [3], [3], [3]], ok)).toThrow(/batchnorm: weight must be \[3\] \(one per channel of x \[2,3,4\]\), got \[4\]/);
    expect(() => bn.outShape([[2, 3], [3], [3], [3], [3, 1]], ok)).toThrow(/batchnorm: running_var must be \[3\]/);
    expect(() => bn.outShape([[2, 3], [3], [3], [3], [3]], { training: 1, eps: 1e-5 })).toThrow(/batchnorm: attrs.training must be a boolean/);
    expect(() => bn.outShape([[2, 3], [3], [3], [3], [3]], { training: true, eps: -1 })).toThrow(/batchnorm: attrs.eps must be a finite number >= 0, got -1/);
    expect(() => bn.outShape([[2, 3], [3], [3], [3], [3]], { ...ok, stats: new Float32Array(5) })).toThrow(/batchnorm: attrs.stats must be a Float32Array of 2\*C = 6 values, got 5/);
    expect(() => bn.outShape([[2, 3], [3], [3], [3], [3]], { training: false, eps: 1e-5, stats: new Float32Array(6) })).toThrow(/only written in training mode/);
    expect(bn.outShape([[2, 3, 5, 5], [3], [3], [3], [3]], ok)).toEqual([2, 3, 5, 5]);
  });
  it('concat names both shapes', () => {
    const cat = opDef('concat');
    expect(cat.outShape([[2, 3, 4, 5], [2, 2, 4, 5]], {})).toEqual([2, 5, 4, 5]);
    expect(() => cat.outShape([[2, 3, 4, 5], [2, 2, 4, 6]], {})).toThrow(/concat: a \[2,3,4,5\] and b \[2,2,4,6\] must be \[N,C1,...\] and \[N,C2,...\] with the same N and trailing dims/);
    expect(() => cat.outShape([[2, 3], [3, 3]], {})).toThrow(/concat: a \[2,3\] and b \[3,3\]/);
    expect(() => cat.outShape([[2, 3], [2, 3, 1]], {})).toThrow(/concat: a \[2,3\] and b \[2,3,1\]/);
  });
  it('add, global_avgpool, leaky_relu, dropout', () => {
    expect(() => opDef('add').outShape([[2, 3], [3, 2]], {})).toThrow(/add: a \[2,3\] and b \[3,2\] must have the same shape/);
    expect(() => opDef('global_avgpool').outShape([[2, 3, 4]], {})).toThrow(/global_avgpool: x must have rank 4, got shape \[2,3,4\]/);
    expect(opDef('global_avgpool').outShape([[2, 3, 4, 5]], {})).toEqual([2, 3]);
    expect(() => opDef('leaky_relu').outShape([[3]], { slope: 1 })).toThrow(/leaky_relu: attrs.slope must be a number in \[0, 1\), got 1/);
    expect(() => opDef('dropout').outShape([[3]], { p: 1, seed: 1 })).toThrow(/dropout: attrs.p must be a number in \[0, 1\), got 1/);
    expect(() => opDef('dropout').outShape([[3]], { p: 0.5, seed: 1.5 })).toThrow(/dropout: attrs.seed must be an integer in \[0, 2\^32\), got 1.5/);
  });
});

describe('batchnorm through the tape', () => {
  it('stats: batch mean and unbiased variance; running statistics are never written by the op', () => {
    const c = core('simd');
    const shape = [3, 2, 5];
    const xv = randn(30, 4, -1, 3);
    const x = Tensor.from(c, xv, shape);
    const w = Tensor.from(c, [1, 2], [2]);
    const b = Tensor.from(c, [0, 1], [2]);
    const rm = Tensor.from(c, [0.5, -0.5], [2]);
    const rv = Tensor.from(c, [1, 2], [2]);
    const tape = new Tape(c);
    const stats = new Float32Array(4);
    tape.apply('batchnorm', [x, w, b, rm, rv], { training: true, eps: 1e-5, stats });
    const ref = batchnormForwardTrainRef(xv, [1, 2], [0, 1], { n: 3, c: 2, s: 5 }, 1e-5);
    expectClose(stats, [...ref.mean, ...ref.unbiased], 1e-6, 'stats');
    expect(Array.from(rm.data)).toEqual([0.5, -0.5]);
    expect(Array.from(rv.data)).toEqual([1, 2]);
    const runMean = Float32Array.from(rm.data), runVar = Float32Array.from(rv.data);
    updateRunningStats(runMean, runVar, stats);
    expectClose(runMean, [0.9 * 0.5 + 0.1 * ref.mean[0], 0.9 * -0.5 + 0.1 * ref.mean[1]], 1e-6, 'running mean');
    expectClose(runVar, [0.9 + 0.1 * ref.unbiased[0], 1.8 + 0.1 * ref.unbiased[1]], 1e-6, 'running var');
    tape.dispose();
    for (const t of [x, w, b, rm, rv]) t.dispose();
  });

  it('N*S = 1 writes the biased variance, 0', () => {
    const c = core('simd');
    const x = Tensor.from(c, [3, -4], [1, 2]);
    const p = [Tensor.from(c, [1, 1], [2]), Tensor.from(c, [0, 0], [2]), Tensor.from(c, [0, 0], [2]), Tensor.from(c, [1, 1], [2])];
    const tape = new Tape(c);
    const stats = new Float32Array(4).fill(9);
    tape.apply('batchnorm', [x, ...p], { training: true, eps: 1e-5, stats });
    expect(Array.from(stats)).toEqual([3, -4, 0, 0]);
    tape.dispose();
    for (const t of [x, ...p]) t.dispose();
  });

  it('backward computes only the gradients asked for, and the same ones either way', () => {
    const c = core('simd');
    const run = (needX: boolean, needW: boolean, training: boolean) => {
      const x = Tensor.from(c, randn(2 * 3 * 7, 8), [2, 3, 7]);
      const w = Tensor.from(c, randn(3, 9, 0.5, 1.5), [3]);
      const b = Tensor.from(c, randn(3, 10), [3]);
      const rm = Tensor.from(c, randn(3, 11), [3]);
      const rv = Tensor.from(c, randn(3, 12, 0.5, 1.5), [3]);
      x.requiresGrad = needX;
      w.requiresGrad = needW;
      b.requiresGrad = true;
      const tape = new Tape(c);
      const y = tape.apply('batchnorm', [x, w, b, rm, rv], { training, eps: 1e-5 });
      tape.backward(y, randn(42, 13));
      const g = { x: x.gradArray(), w: w.gradArray(), b: b.gradArray(), rm: rm.gradArray() };
      tape.dispose();
      for (const t of [x, w, b, rm, rv]) t.dispose();
      return g;
    };
    for (const training of [true, false]) {
      const all = run(true, true, training);
      const onlyB = run(false, false, training);
      expect([onlyB.x, onlyB.w, onlyB.rm]).toEqual([null, null, null]);
      expectBits(onlyB.b!, all.b!, 'db alone = db with the others');
      const noW = run(true, false, training);
      expect(noW.w).toBeNull();
      expectBits(noW.x!, all.x!, 'dx without dw = dx with it');
    }
  });
});

describe('add and concat through the tape', () => {
  it('concat splits dy back; add passes dy to both; both accumulate', () => {
    const c = core('simd');
    const a = Tensor.from(c, randn(2 * 3 * 4, 1), [2, 3, 4]);
    const b = Tensor.from(c, randn(2 * 1 * 4, 2), [2, 1, 4]);
    a.requiresGrad = b.requiresGrad = true;
    const tape = new Tape(c);
    const y = tape.apply('concat', [a, b], {});
    expect(y.shape).toEqual([2, 4, 4]);
    const s = tape.apply('add', [y, y], {}); // fan-out: dy reaches y twice
    const dy = randn(32, 3);
    tape.backward(s, dy);
    const ga = a.gradArray()!, gb = b.gradArray()!;
    for (let n = 0; n < 2; n++) {
      for (let k = 0; k < 4; k++) {
        for (let i = 0; i < 4; i++) {
          const g = Math.fround(dy[(n * 4 + k) * 4 + i] + dy[(n * 4 + k) * 4 + i]);
          if (k < 3) expect(ga[(n * 3 + k) * 4 + i]).toBe(g);
          else expect(gb[n * 4 + i]).toBe(g);
        }
      }
    }
    tape.dispose();
    a.dispose();
    b.dispose();
  });
});
