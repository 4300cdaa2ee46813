// Tensors over WASM memory: views, gradients, dispose, and scope() keeping memory flat.
import { describe, it, expect } from 'vitest';
import { Tensor, scope } from '../src/tensor.js';
import { Tape } from '../src/autograd.js';
import { core } from './helpers/index.js';

describe('Tensor', () => {
  it('holds data in WASM memory with a shape, and checks the two agree', () => {
    const c = core('simd');
    const t = Tensor.from(c, [1, 2, 3, 4, 5, 6], [2, 3]);
    expect(Array.from(t.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(t.size).toBe(6);
    expect(() => Tensor.from(c, [1, 2, 3], [2, 2])).toThrow(/3 values do not fill shape \[2,2\]/);
    t.dispose();
    t.dispose(); // idempotent
    expect(() => t.data).toThrow(/freed buffer/);
  });

  it('an unwritten gradient is overwritten by its first writer, or zeroed before the first accumulation', () => {
    const c = core('simd');
    const t = Tensor.from(c, [1, 2, 3], [3]);
    const g = t.ensureGrad();
    g.set([NaN, NaN, NaN]);
    t.markGradUnwritten();
    const first = t.gradForWrite();
    expect(first.overwrite).toBe(true);
    expect(first.buf).toBe(g);
    first.buf.set([4, 5, 6]);
    // written now: later writers accumulate, and nothing zeroes it behind their back
    expect(t.gradForWrite().overwrite).toBe(false);
    expect(Array.from(t.ensureGrad().view())).toEqual([4, 5, 6]);
    g.set([NaN, NaN, NaN]);
    t.markGradUnwritten();
    expect(Array.from(t.ensureGrad().view())).toEqual([0, 0, 0]);
    g.set([NaN, NaN, NaN]);
    t.markGradUnwritten();
    t.settleGrad(); // nothing wrote it: zeroed
    expect(Array.from(g.view())).toEqual([0, 0, 0]);
    t.dispose();
  });

  it('a tensor without a gradient yet gives its first writer a buffer to overwrite; a reshape shares its base\'s, zeroed', () => {
    const c = core('simd');
    const t = Tensor.from(c, [1, 2, 3, 4], [4]);
    const first = t.gradForWrite();
    expect(first.overwrite).toBe(true);
    expect(first.buf.length).toBe(4);
    first.buf.set([1, 1, 1, 1]);
    expect(t.gradForWrite()).toEqual({ buf: first.buf, overwrite: false });
    const base = Tensor.from(c, [1, 2, 3, 4], [2, 2]);
    const view = new Tensor(c, base.buf, [4], { base });
    const shared = view.gradForWrite();
    expect(shared.overwrite).toBe(false);
    expect(Array.from(shared.buf.view())).toEqual([0, 0, 0, 0]);
    expect(shared.buf.ptr).toBe(base.ensureGrad().ptr);
    for (const x of [view, base, t]) x.dispose();
  });

  it('scope() disposes what a step created and keeps what it returns', () => {
    const c = core('simd');
    c.releaseScratch();
    const base = c.heap.liveBytes;
    const tape = new Tape(c);
    const w = Tensor.from(c, [0.5, -1, 2], [1, 3]);
    w.requiresGrad = true;
    let live = -1;
    for (let i = 0; i < 200; i++) {
      const kept = scope(() => {
        const x = Tensor.from(c, [i, 1, 2, 3, 4, 5], [2, 3]);
        const b = Tensor.from(c, [0.1, 0.2], [2]);
        const y = tape.apply('linear', [x, Tensor.from(c, [1, 2, 3, 4, 5, 6], [2, 3]), b], {});
        const z = tape.apply('relu', [y], {});
        return { z, note: 'not a tensor' };
      });
      expect(kept.z.isDisposed).toBe(false);
      expect(kept.z.shape).toEqual([2, 2]);
      kept.z.dispose();
      tape.dispose();
      if (i === 1) live = c.heap.liveBytes;
      if (i > 1) expect(c.heap.liveBytes).toBe(live);
    }
    w.dispose();
    c.releaseScratch();
    expect(c.heap.liveBytes).toBe(base);
  });

  it('scope() disposes everything when the function throws, and nests', () => {
    const c = core('simd');
    const before = c.heap.liveBlocks;
    expect(() =>
      scope(() => {
        Tensor.zeros(c, [4]);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(c.heap.liveBlocks).toBe(before);
    const outer = scope(() => {
      const inner = scope(() => Tensor.zeros(c, [3]));
      Tensor.zeros(c, [5]); // dropped with the outer scope
      return inner;
    });
    expect(outer.isDisposed).toBe(false);
    expect(c.heap.liveBlocks).toBe(before + 1);
    outer.dispose();
    expect(c.heap.liveBlocks).toBe(before);
  });
});
