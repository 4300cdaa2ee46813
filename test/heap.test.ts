// The allocator over WASM memory: alignment, reuse, coalescing, growth without stale views,
// live-byte accounting, clear errors.
import { describe, it, expect } from 'vitest';
import { loadCoreSync, loadCore } from '../src/core/load.js';
import { readFileSync } from 'node:fs';

describe('heap', () => {
  it('allocates 64-byte aligned, zeroed blocks and accounts live bytes', () => {
    const c = loadCoreSync({ flavor: 'simd' });
    const base = c.heap.liveBytes;
    const a = c.heap.alloc(3);
    const b = c.heap.alloc(17);
    expect(a.ptr % 64).toBe(0);
    expect(b.ptr % 64).toBe(0);
    expect(a.ptr).toBeGreaterThanOrEqual(c.exports.heap_base());
    expect(Array.from(b.view())).toEqual(new Array(17).fill(0));
    expect(c.heap.liveBytes - base).toBe(64 + 128);
    a.free();
    b.free();
    expect(c.heap.liveBytes).toBe(base);
  });

  it('reuses and coalesces freed blocks', () => {
    const c = loadCoreSync({ flavor: 'simd' });
    const a = c.heap.alloc(16);
    const b = c.heap.alloc(16);
    const guard = c.heap.alloc(16);
    a.free();
    b.free();
    const d = c.heap.alloc(32); // fits exactly in a+b after coalescing
    expect(d.ptr).toBe(a.ptr);
    d.free();
    guard.free();
  });

  it('grows memory and hands out fresh views afterwards', () => {
    const c = loadCoreSync({ flavor: 'simd' });
    const a = c.heap.from([1, 2, 3]);
    const before = c.memory.buffer.byteLength;
    const big = c.heap.alloc((before / 4) * 2); // forces memory.grow
    expect(c.memory.buffer.byteLength).toBeGreaterThan(before);
    expect(Array.from(a.view())).toEqual([1, 2, 3]); // a fresh view over the grown buffer
    big.free();
    a.free();
  });

  it('rejects bad sizes, double frees and use after free with clear errors', () => {
    const c = loadCoreSync({ flavor: 'simd' });
    expect(() => c.heap.alloc(0)).toThrow(/positive integer/);
    expect(() => c.heap.alloc(1.5)).toThrow(/positive integer/);
    const a = c.heap.alloc(4);
    a.free();
    expect(() => a.free()).toThrow(/not a live allocation/);
    expect(() => a.view()).toThrow(/freed buffer/);
    const b = c.heap.alloc(8);
    expect(() => b.sub(4, 5)).toThrow(/outside a buffer of 8/);
    expect(() => b.sub(2, 2).free()).toThrow(/cannot free a window/);
    expect(() => b.set([1, 2, 3], 7)).toThrow(/overflow/);
    b.free();
  });
});

describe('loader', () => {
  it('loads each flavour and reports which it is', () => {
    for (const flavor of ['simd', 'relaxed', 'debug'] as const) {
      const c = loadCoreSync({ flavor });
      expect(c.flavor).toBe(flavor);
      expect(c.exports.is_relaxed()).toBe(flavor === 'relaxed' ? 1 : 0);
    }
  });

  it('auto picks relaxed where the engine validates it (tests run with the flag)', () => {
    expect(loadCoreSync().flavor).toBe('relaxed');
  });

  it('loads from bytes (the browser/embedding path)', async () => {
    const bytes = readFileSync(new URL('../build/iruka.wasm', import.meta.url));
    const c = await loadCore({ bytes: new Uint8Array(bytes), flavor: 'simd' });
    expect(c.exports.peak_madd(10, 1)).toBeGreaterThan(0);
  });

  it('rejects an unknown flavour and bytes that are not a module', () => {
    expect(() => loadCoreSync({ flavor: 'fast' as never })).toThrow(/unknown flavor 'fast'/);
    expect(() => loadCoreSync({ bytes: new Uint8Array([1, 2, 3]), flavor: 'simd' })).toThrow(/does not validate/);
  });
});
