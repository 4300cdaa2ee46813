// Shared test helpers: seeded random data, relative comparison with readable failures, cores.
import { expect } from 'vitest';
import { loadCoreSync, type Core, type Flavor } from '../../src/core/load.js';
import type { Buf } from '../../src/core/heap.js';

/** mulberry32: a small seeded PRNG so every test's data is reproducible. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` uniform values in [lo, hi). */
export function randn(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * r();
  return out;
}

/**
 * Asserts |a - e| <= rtol * max(|e|, scale) elementwise, where `scale` defaults to the largest
 * |e| times 1e-3 (so near-zero entries of a large result are judged against the result's size).
 * Prints the first failing index with both values and the shape on failure.
 */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rtol: number,
  what = '',
  scale?: number,
): void {
  if (actual.length !== expected.length) {
    throw new Error(`${what}: length ${actual.length} != expected ${expected.length}`);
  }
  let maxAbs = 0;
  for (let i = 0; i < expected.length; i++) maxAbs = Math.max(maxAbs, Math.abs(expected[i]));
  const floor = scale ?? Math.max(maxAbs * 1e-3, 1e-30);
  let worst = -1;
  let worstErr = 0;
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]) / Math.max(Math.abs(expected[i]), floor);
    if (!(err <= rtol) && (worst < 0 || !(err <= worstErr))) {
      worst = i;
      worstErr = err;
    }
  }
  if (worst >= 0) {
    throw new Error(
      `${what}: mismatch at index ${worst}: actual ${actual[worst]}, expected ${expected[worst]} ` +
        `(relative error ${worstErr.toExponential(2)} > ${rtol}; n=${expected.length}, max|expected|=${maxAbs})`,
    );
  }
}

const cores = new Map<Flavor, Core>();

/** One core per flavour per test file (loading is cheap, but tiering up is per instance). */
export function core(flavor: Flavor): Core {
  let c = cores.get(flavor);
  if (!c) {
    c = loadCoreSync({ flavor });
    cores.set(flavor, c);
  }
  return c;
}

/** The flavours every kernel suite runs on (STYLE 25). */
export const FLAVORS: Flavor[] = ['simd', 'relaxed', 'debug'];

/**
 * Runs `body` with fresh buffers holding `arrays` (Int32Array → i32), frees them, and checks
 * the heap is back where it started (the scratch block released on both sides).
 */
export function withBufs(c: Core, arrays: (Float32Array | Int32Array)[], body: (bufs: Buf[]) => void): void {
  c.releaseScratch();
  const before = c.heap.liveBytes;
  const bufs = arrays.map((a) => c.heap.from(a, a instanceof Int32Array ? 'i32' : 'f32'));
  try {
    body(bufs);
  } finally {
    for (const b of bufs) b.free();
    c.releaseScratch();
  }
  expect(c.heap.liveBytes).toBe(before);
}

/** Asserts identical bits (NaN, -0 and -inf included); prints the first differing index. */
export function expectBits(actual: Float32Array | Int32Array, expected: Float32Array | Int32Array, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const e = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== e[i]) throw new Error(`${what}: bits differ at index ${i}: actual ${actual[i]}, expected ${expected[i]} (n=${a.length})`);
  }
}

/** Each named export, and its `_scalar` twin, is a function of `c`'s module. */
export function expectExportsWithTwins(c: Core, names: Iterable<string>): void {
  const f = c.fns<Record<string, unknown>>();
  for (const e of names) {
    expect(typeof f[e], e).toBe('function');
    expect(typeof f[`${e}_scalar`], `${e}_scalar`).toBe('function');
  }
}
