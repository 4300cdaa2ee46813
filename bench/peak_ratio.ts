// The arithmetic of a ratio against an interleaved peak: a benchmark's timeline alternates
// peak samples and measured windows, and each window is set against the peak samples on either
// side of it (a busy neighbour that slows the window slows them too), never against one sample
// taken at the start of the run. Pure functions, so the arithmetic is unit-tested.

/** One event of a timeline, in the order it was measured. */
export type TimelineEvent =
  | { kind: 'peak'; gflops: number }
  /** the madd peak of `threads` threads running at once (bench/peak_gang.ts), their GFLOP/s together */
  | { kind: 'gang'; gflops: number; threads: number }
  | { kind: 'window'; config: number; imagesPerSec: number };

export interface WindowRatio {
  config: number;
  imagesPerSec: number;
  /** the mean of the peak samples right before and right after the window (one where the other is missing) */
  peak: number;
  /** achieved GFLOP/s ÷ (workers × peak) */
  ratio: number;
}

/**
 * Every window's ratio to its neighbouring peak samples: (images/s × FLOPs per image) ÷
 * (workers × the mean of the nearest peak sample before and the nearest after). `workersOf`
 * gives a configuration's worker count. Throws when the timeline has no peak sample at all.
 */
export function windowRatios(timeline: TimelineEvent[], flopsPerImage: number, workersOf: (config: number) => number): WindowRatio[] {
  const out: WindowRatio[] = [];
  timeline.forEach((e, i) => {
    if (e.kind !== 'window') return;
    const peak = neighbourMean(timeline, i, 'peak');
    if (peak === null) throw new Error('windowRatios: the timeline has no peak sample');
    out.push({ config: e.config, imagesPerSec: e.imagesPerSec, peak, ratio: (e.imagesPerSec * flopsPerImage) / 1e9 / (workersOf(e.config) * peak) });
  });
  return out;
}

/**
 * The windows of configurations with as many workers as the gang has threads, each against the
 * mean of its neighbouring gang samples: achieved GFLOP/s ÷ what that many threads reached
 * together (`peak` is that gang figure). Other windows are left out; so is everything when the
 * timeline has no gang sample.
 */
export function gangRatios(timeline: TimelineEvent[], flopsPerImage: number, workersOf: (config: number) => number): WindowRatio[] {
  const gang = timeline.find((g): g is Extract<TimelineEvent, { kind: 'gang' }> => g.kind === 'gang');
  const out: WindowRatio[] = [];
  timeline.forEach((e, i) => {
    if (!gang || e.kind !== 'window' || workersOf(e.config) !== gang.threads) return;
    const peak = neighbourMean(timeline, i, 'gang')!;
    out.push({ config: e.config, imagesPerSec: e.imagesPerSec, peak, ratio: (e.imagesPerSec * flopsPerImage) / 1e9 / peak });
  });
  return out;
}

/**
 * What the threads of a gang add over one: each gang sample over its neighbouring 1-core
 * sample(s) (the mean of the nearest before and after), as a median with its range. Two threads
 * on two free cores read about 2; two hyperthreads of one core about 1.
 */
export function gangScale(timeline: TimelineEvent[]): { median: number; min: number; max: number; threads: number } | null {
  const q: number[] = [];
  let threads = 0;
  timeline.forEach((e, i) => {
    if (e.kind !== 'gang') return;
    threads = e.threads;
    const one = neighbourMean(timeline, i, 'peak');
    if (one !== null) q.push(e.gflops / one);
  });
  return q.length ? { median: median(q), min: Math.min(...q), max: Math.max(...q), threads } : null;
}

/** The mean of the nearest sample of `kind` before event i and the nearest after (the one there is at either end). */
function neighbourMean(timeline: TimelineEvent[], i: number, kind: 'peak' | 'gang'): number | null {
  const near = [nearestPeak(timeline, i, -1, kind), nearestPeak(timeline, i, 1, kind)].filter((p): p is number => p !== null);
  return near.length ? near.reduce((a, b) => a + b, 0) / near.length : null;
}

function nearestPeak(timeline: TimelineEvent[], from: number, dir: -1 | 1, kind: 'peak' | 'gang'): number | null {
  for (let j = from + dir; j >= 0 && j < timeline.length; j += dir) {
    const e = timeline[j];
    if (e.kind === kind) return e.gflops;
  }
  return null;
}

export function median(xs: number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

export interface ConfigSummary {
  /** the median of the per-window ratios (not the ratio of medians) */
  ratio: number;
  ratioMin: number;
  ratioMax: number;
  imagesPerSec: number;
  imagesPerSecBest: number;
  /** the median of the windows' neighbouring peaks */
  peak: number;
  windows: number;
  /** every window's images/s, in the order measured (round by round) */
  windowImagesPerSec: number[];
}

/** Per configuration: the median of its windows' ratios, with their range, and its images/s. */
export function summarise(ratios: WindowRatio[]): Map<number, ConfigSummary> {
  const by = new Map<number, WindowRatio[]>();
  for (const r of ratios) by.set(r.config, [...(by.get(r.config) ?? []), r]);
  const out = new Map<number, ConfigSummary>();
  for (const [config, rs] of by) {
    const q = rs.map((r) => r.ratio);
    out.set(config, {
      ratio: median(q),
      ratioMin: Math.min(...q),
      ratioMax: Math.max(...q),
      imagesPerSec: median(rs.map((r) => r.imagesPerSec)),
      imagesPerSecBest: Math.max(...rs.map((r) => r.imagesPerSec)),
      peak: median(rs.map((r) => r.peak)),
      windows: rs.length,
      windowImagesPerSec: rs.map((r) => r.imagesPerSec),
    });
  }
  return out;
}

/**
 * Side-by-side comparison of two configurations measured in the same rounds: the median of the
 * per-round ratios a / b (round k of a against round k of b), with their range.
 */
export function pairwise(a: number[], b: number[]): { median: number; min: number; max: number } {
  if (a.length !== b.length || a.length === 0) throw new Error(`pairwise: ${a.length} and ${b.length} windows do not pair up`);
  const q = a.map((x, i) => x / b[i]);
  return { median: median(q), min: Math.min(...q), max: Math.max(...q) };
}
