// How minibatches are cut into chunks: fixed by the batch, never by the number of workers.
import { describe, it, expect } from 'vitest';
import { chunkRanges, chunkSeed, defaultChunkSize } from '../src/train/engine.js';

describe('chunks', () => {
  it('cover the batch in order, the last one possibly shorter', () => {
    expect(chunkRanges(64, 32)).toEqual([[0, 32], [32, 64]]);
    expect(chunkRanges(50, 32)).toEqual([[0, 32], [32, 50]]);
    expect(chunkRanges(7, 16)).toEqual([[0, 7]]);
  });

  it('default to a sixteenth of the batch, at least 8: the default batch of 64 feeds 8 workers, 256 feeds 16', () => {
    expect([1, 8, 32, 64, 128, 200, 256, 1024].map(defaultChunkSize)).toEqual([8, 8, 8, 8, 8, 13, 16, 64]);
    expect(chunkRanges(64, defaultChunkSize(64))).toHaveLength(8);
    expect(chunkRanges(256, defaultChunkSize(256))).toHaveLength(16);
  });

  it('get distinct seeds per step and chunk', () => {
    const seeds = new Set<number>();
    for (let step = 0; step < 50; step++) for (let k = 0; k < 8; k++) seeds.add(chunkSeed(1, step, k));
    expect(seeds.size).toBe(400);
    expect(chunkSeed(1, 3, 2)).toBe(chunkSeed(1, 3, 2));
    expect(chunkSeed(2, 3, 2)).not.toBe(chunkSeed(1, 3, 2));
  });
});
