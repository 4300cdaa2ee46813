// The ratio arithmetic of bench:train on synthetic timelines (no timing): every window is set
// against the mean of the peak samples on either side of it, and a configuration reports the
// median of its windows' ratios.
import { describe, it, expect } from 'vitest';
import { gangRatios, gangScale, median, pairwise, summarise, windowRatios, type TimelineEvent } from '../bench/peak_ratio.js';

const peak = (gflops: number): TimelineEvent => ({ kind: 'peak', gflops });
const win = (config: number, imagesPerSec: number): TimelineEvent => ({ kind: 'window', config, imagesPerSec });
const gang = (gflops: number, threads = 2): TimelineEvent => ({ kind: 'gang', gflops, threads });

describe('bench:train ratios against neighbouring peak samples', () => {
  // 1e9 FLOPs per image: images/s reads as GFLOP/s
  const FPI = 1e9;

  it('uses the mean of the samples before and after each window, times its worker count', () => {
    const t = [peak(40), win(0, 20), peak(20), win(1, 30), peak(40)];
    const r = windowRatios(t, FPI, (c) => (c === 0 ? 1 : 2));
    expect(r.map((x) => x.peak)).toEqual([30, 30]);
    expect(r[0].ratio).toBeCloseTo(20 / (1 * 30), 12);
    expect(r[1].ratio).toBeCloseTo(30 / (2 * 30), 12);
  });

  it('takes the one neighbour there is at either end, skipping other windows', () => {
    const t = [win(0, 10), win(1, 10), peak(50), win(0, 25)];
    const r = windowRatios(t, 2e9, () => 1);
    expect(r.map((x) => x.peak)).toEqual([50, 50, 50]);
    expect(r.map((x) => x.ratio)).toEqual([0.4, 0.4, 1]);
  });

  it('throws without any peak sample', () => {
    expect(() => windowRatios([win(0, 1)], FPI, () => 1)).toThrow(/no peak sample/);
  });

  it('a slowed round slows the peak alike: the per-window ratio holds where a ratio to the first sample would not', () => {
    // the machine halves its speed in round 2: both the window and its neighbouring peaks drop
    const t = [peak(40), win(0, 20), peak(40), win(0, 10), peak(20), peak(20), win(0, 10), peak(20)];
    const s = summarise(windowRatios(t, FPI, () => 1)).get(0)!;
    expect(s.windows).toBe(3);
    // windows: 20/40 = 0.5, 10/30 = 0.333, 10/20 = 0.5
    expect(s.ratio).toBeCloseTo(0.5, 12);
    expect(s.ratioMin).toBeCloseTo(1 / 3, 12);
    expect(s.ratioMax).toBeCloseTo(0.5, 12);
    expect(s.imagesPerSec).toBe(10);
    expect(s.imagesPerSecBest).toBe(20);
    expect(s.peak).toBe(30);
    // against the first sample alone the median would read 10/40 = 0.25
  });

  it('is the median of the ratios, not the ratio of the medians', () => {
    // ratios 10/10 = 1, 40/20 = 2, 30/60 = 0.5; median images/s 30 over median peak 20 would say 1.5
    const t = [peak(10), win(0, 10), peak(10), peak(20), win(0, 40), peak(20), peak(60), win(0, 30), peak(60)];
    const s = summarise(windowRatios(t, FPI, () => 1)).get(0)!;
    expect(s.ratio).toBeCloseTo(1, 12);
    expect(s.imagesPerSec / s.peak).toBeCloseTo(1.5, 12);
  });

  it('median of an even count is the mean of the middle two', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
});

describe('bench:train side-by-side chunk comparison', () => {
  it('is the median of the round-by-round ratios', () => {
    // round 2 was disturbed for both: its ratio still reads 0.8
    expect(pairwise([80, 40, 90], [100, 50, 100])).toEqual({ median: 0.8, min: 0.8, max: 0.9 });
    expect(() => pairwise([1, 2], [1])).toThrow(/do not pair up/);
  });

  it('summaries keep the windows in the order measured', () => {
    const t: TimelineEvent[] = [peak(10), win(0, 3), peak(10), win(1, 5), peak(10), win(1, 6), peak(10), win(0, 4), peak(10)];
    const s = summarise(windowRatios(t, 1e9, () => 1));
    expect(s.get(0)!.windowImagesPerSec).toEqual([3, 4]);
    expect(s.get(1)!.windowImagesPerSec).toEqual([5, 6]);
  });
});

describe('bench:train against the peak of its threads running at once', () => {
  const FPI = 1e9;

  it('sets windows with as many workers as the gang has threads against the neighbouring gang samples', () => {
    // config 0 has 1 worker, config 1 has 2; the gang is 2 threads
    const t = [peak(40), gang(60), win(0, 20), peak(40), gang(40), win(1, 30), peak(20), gang(20)];
    const r = gangRatios(t, FPI, (c) => (c === 0 ? 1 : 2));
    expect(r.map((x) => x.config)).toEqual([1]);
    expect(r[0].peak).toBe(30);
    expect(r[0].ratio).toBeCloseTo(30 / 30, 12);
    // the gang samples do not move the 1-core ratios
    const w = windowRatios(t, FPI, (c) => (c === 0 ? 1 : 2));
    expect(w.map((x) => x.peak)).toEqual([40, 30]);
    expect(w[1].ratio).toBeCloseTo(30 / (2 * 30), 12);
  });

  it('gives no gang ratio without gang samples', () => {
    expect(gangRatios([peak(40), win(0, 20), peak(40)], FPI, () => 2)).toEqual([]);
    expect(gangScale([peak(40), win(0, 20), peak(40)])).toBeNull();
  });

  it('reports what the gang adds over one thread: each gang sample over its neighbouring 1-core samples', () => {
    // two free cores (2x), then hyperthreads of one core (1.1x), then a sample after the last 1-core one
    const t = [peak(50), gang(100), win(0, 10), peak(50), gang(55), win(0, 10), peak(30), gang(45)];
    const s = gangScale(t)!;
    expect(s.threads).toBe(2);
    // 100 / mean(50, 50), 55 / mean(50, 30), 45 / 30
    expect(s.min).toBeCloseTo(55 / 40, 12);
    expect(s.max).toBeCloseTo(2, 12);
    expect(s.median).toBeCloseTo(1.5, 12);
  });
});
