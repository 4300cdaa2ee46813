// The arithmetic of a ratio against an interleaved peak: a benchmark's timeline alternates
// peak samples and measured windows, and each window is set against the peak samples on either
// side of it (a busy neighbour that slows the window slows them too), never against one sample
// taken at the start of the run. Pure functions, so the arithmetic is unit-tested.

/** One event of a timeline, in the order it was measured. */
export type TimelineEvent =
  | { kind: 'peak'; gflops: number }
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
    const near = [nearestPeak(timeline, i, -1), nearestPeak(timeline, i, 1)].filter((p): p is number => p !== null);
    if (near.length === 0) throw new Error('windowRatios: the timeline has no peak sample');
    const peak = near.reduce((a, b) => a + b, 0) / near.length;
    out.push({ config: e.config, imagesPerSec: e.imagesPerSec, peak, ratio: (e.imagesPerSec * flopsPerImage) / 1e9 / (workersOf(e.config) * peak) });
  });
  return out;
}

function nearestPeak(timeline: TimelineEvent[], from: number, dir: -1 | 1): number | null {
  for (let j = from + dir; j >= 0 && j < timeline.length; j += dir) {
    const e = timeline[j];
    if (e.kind === 'peak') return e.gflops;
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
