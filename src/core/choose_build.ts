// Which build flavor 'auto' loads from the package folder (Node): the relaxed-SIMD build only
// where it is measurably faster on this machine, not merely where the engine accepts it. On
// some CPUs the fused multiply-add is no faster than mul + add at the shapes that matter (the
// LeNet's conv2 and fc1 at a chunk's batch), and the relaxed build gives different bits, so it
// must earn its place. The comparison runs once per machine (a second or so) and is cached in
// a small JSON file under the user's cache folder, keyed by CPU model, Node version and a hash
// of the two builds; `npm run tune` (iruka-tune) measures again and prints the decision.
// IRUKA_TUNE=off skips the measurement ('auto' then picks relaxed wherever it is supported, as
// browsers do); the test suite sets it so that 'auto' is deterministic there.
// Free of static Node imports, like load.ts: Node built-ins come through process.getBuiltinModule.
import type { Core } from './load.js';
import type { Buf } from './heap.js';
import { conv2dBackwardData, conv2dBackwardFilter, conv2dForward, type Conv2dGeom } from './kernels/conv2d.js';
import { linearBackwardWeightRows, linearForward, type LinearDims } from './kernels/linear.js';

/** The relaxed build must be at least this much faster (median of the pairwise ratios) to be chosen; see decide(). */
export const RELAXED_MIN_SPEEDUP = 1.03;

/** Bumped when the measurement changes, so older cached decisions are measured again. */
const CACHE_VERSION = 1;

export interface BuildMeasurement {
  /** per round: the plain build's time over the relaxed build's, windows side by side (> 1: relaxed faster) */
  ratios: number[];
  /** the median of `ratios` */
  speedup: number;
  /** milliseconds of each build's workload (medians over the rounds of each window's fastest call) */
  msPlain: number;
  msRelaxed: number;
}

export interface BuildChoice {
  flavor: 'simd' | 'relaxed';
  /** why, in one sentence (printed at the start of training) */
  reason: string;
  /** how it was decided */
  by: 'unsupported' | 'availability' | 'measured' | 'cached';
  measurement?: BuildMeasurement & { date: string; key: string };
  /** the cache file read or written, if any */
  cacheFile?: string;
}

/** What choosing needs from the loader (load.ts passes its own functions). */
export interface ChooseDeps {
  relaxedSupported: boolean;
  /** the package's bytes of a build */
  read(flavor: 'simd' | 'relaxed'): Uint8Array;
  /** a fresh instance of a build */
  load(flavor: 'simd' | 'relaxed'): Core;
}

/**
 * The decision from a measurement's pairwise ratios: relaxed only if clearly faster, that is
 * the median at least RELAXED_MIN_SPEEDUP and three rounds in four in its favour (the lower
 * quartile above 1). A measurement too noisy to tell keeps the plain build.
 */
export function decide(ratios: number[]): 'simd' | 'relaxed' {
  if (ratios.length === 0) return 'simd';
  return median(ratios) >= RELAXED_MIN_SPEEDUP && lowerQuartile(ratios) > 1 ? 'relaxed' : 'simd';
}

/** The value a quarter of the way up the sorted list (the nearest rank). */
export function lowerQuartile(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 4)];
}

let memo: BuildChoice | null = null;

/** The choice 'auto' made in this process (null before the first 'auto' load from the package folder). */
export function autoBuildChoice(): BuildChoice | null {
  return memo;
}

/**
 * The build 'auto' loads, decided once per process: by availability where the engine lacks
 * relaxed SIMD, where IRUKA_TUNE=off or where there is no file system; else the cached
 * measurement for this machine, or a fresh one (then cached).
 */
export function chooseAutoBuild(deps: ChooseDeps): BuildChoice {
  // an engine that gains relaxed SIMD later in the process (enableRelaxedSimd()) is asked again
  if (memo && (memo.by !== 'unsupported' || !deps.relaxedSupported)) return memo;
  memo = chooseBuildNow(deps);
  return memo;
}

/** The same decision, not remembered: asks the cache (or measures) every time. */
export function chooseBuildNow(deps: ChooseDeps): BuildChoice {
  if (!deps.relaxedSupported) return { flavor: 'simd', by: 'unsupported', reason: 'this engine lacks relaxed SIMD' };
  const node = nodeModules();
  if (tuneOff() || !node) {
    return { flavor: 'relaxed', by: 'availability', reason: `relaxed SIMD is supported; not measured (${node ? 'IRUKA_TUNE=off' : 'no file system for the cache'})` };
  }
  const file = cacheFile(node);
  const key = cacheKey(node, deps);
  const hit = readCache(node, file)[key];
  if (hit) return fromMeasurement(hit, 'cached', file);
  return measureAndCache(deps, { node, file, key });
}

/** Measures the two builds again, caches and returns the decision (npm run tune). */
export function tuneBuild(deps: ChooseDeps, opts: MeasureOptions = {}): BuildChoice {
  if (!deps.relaxedSupported) return { flavor: 'simd', by: 'unsupported', reason: 'this engine lacks relaxed SIMD' };
  const node = nodeModules();
  if (!node) throw new Error('tuneBuild: needs Node (the cache is a file)');
  memo = measureAndCache(deps, { node, file: cacheFile(node), key: cacheKey(node, deps) }, opts);
  return memo;
}

/** The cached decision for this machine and these builds, without measuring (null if none). */
export function cachedBuild(deps: ChooseDeps): BuildChoice | null {
  const node = nodeModules();
  if (!node) return null;
  const file = cacheFile(node);
  const hit = readCache(node, file)[cacheKey(node, deps)];
  return hit ? fromMeasurement(hit, 'cached', file) : null;
}

type Cached = NonNullable<BuildChoice['measurement']>;

function measureAndCache(deps: ChooseDeps, at: { node: NodeModules; file: string; key: string }, opts: MeasureOptions = {}): BuildChoice {
  const simd = deps.load('simd');
  const relaxed = deps.load('relaxed');
  const m: Cached = { ...measureBuilds(simd, relaxed, opts), date: new Date().toISOString(), key: at.key };
  simd.releaseScratch();
  relaxed.releaseScratch();
  let note = '';
  try {
    writeCache(at.node, at.file, { ...readCache(at.node, at.file), [at.key]: m });
  } catch (e) {
    note = `; could not write the cache (${(e as Error).message})`;
  }
  const choice = fromMeasurement(m, 'measured', at.file);
  return { ...choice, reason: choice.reason + note };
}

function fromMeasurement(m: Cached, by: 'measured' | 'cached', file: string): BuildChoice {
  const flavor = decide(m.ratios);
  const when = by === 'cached' ? `measured on ${m.date.slice(0, 10)}, cached in ${file}` : `measured now, cached in ${file}`;
  const q1 = lowerQuartile(m.ratios);
  const verdict =
    flavor === 'relaxed' ? `clearly faster (median >= ${RELAXED_MIN_SPEEDUP}, lower quartile ${q1.toFixed(3)} > 1)`
    : m.speedup < RELAXED_MIN_SPEEDUP ? `below the ${RELAXED_MIN_SPEEDUP.toFixed(4)}x it must reach`
    : `but not clearly (a quarter of the rounds at or below ${q1.toFixed(3)}x)`;
  return { flavor, by, measurement: m, cacheFile: file, reason: `the relaxed build ran the LeNet's conv2 + fc1 kernels at ${m.speedup.toFixed(4)}x the plain build (median of ${m.ratios.length} pairwise ratios), ${verdict} (${when}; npm run tune measures again)` };
}

function tuneOff(): boolean {
  const v = typeof process !== 'undefined' ? process.env?.IRUKA_TUNE : undefined;
  return v !== undefined && /^(off|0|false|no)$/i.test(v.trim());
}

// ---- the measurement ----------------------------------------------------------------------------

export interface MeasureOptions {
  /** counted rounds (each: one window per build, side by side, the order flipped every round) */
  rounds?: number;
  /** uncounted rounds first: V8 tiers WASM functions up between calls */
  warmup?: number;
  /** milliseconds per window */
  windowMs?: number;
}

/**
 * The LeNet's conv2 and fc1 at the default chunk of the default batch (8 images of 64: see
 * defaultChunkSize in src/train/engine.ts): the shapes that dominate a training step. fc1's
 * weight gradient is one GEMM over the whole batch per step (src/train/weight_rows.ts): a
 * chunk's share of it is an eighth of its output rows over the 64 examples.
 */
const CHUNK = 8;
const BATCH = 64;
const CONV2: Conv2dGeom = { n: CHUNK, c: 20, h: 14, w: 14, oc: 50, kh: 5, kw: 5, sh: 1, sw: 1, ph: 0, pw: 0 };
const FC1: LinearDims = { m: CHUNK, inF: 1250, outF: 500 };
const FC1_BATCH: LinearDims = { m: BATCH, inF: 1250, outF: 500 };
const FC1_ROWS = Math.ceil(FC1.outF / (BATCH / CHUNK) / 8) * 8; // in whole 8-row groups, as the reduce splits it

/**
 * Alternating windows of the same training-shaped workload on the two builds; each round's
 * ratio is the plain build's fastest call over the relaxed build's, and the median of the
 * rounds' ratios is the speed-up (a busy neighbour slows both windows of a round alike).
 */
export function measureBuilds(simd: Core, relaxed: Core, opts: MeasureOptions = {}): BuildMeasurement {
  const rounds = opts.rounds ?? 30;
  const warmup = opts.warmup ?? 4;
  const windowMs = opts.windowMs ?? 10;
  const work = [workload(simd), workload(relaxed)];
  try {
    const ratios: number[] = [];
    const ms: number[][] = [[], []];
    for (let r = 0; r < warmup + rounds; r++) {
      const order = r % 2 ? [1, 0] : [0, 1];
      const t: number[] = [0, 0];
      for (const i of order) t[i] = timeWindow(work[i].run, windowMs);
      if (r < warmup) continue;
      ratios.push(t[0] / t[1]);
      ms[0].push(t[0]);
      ms[1].push(t[1]);
    }
    return { ratios, speedup: median(ratios), msPlain: median(ms[0]), msRelaxed: median(ms[1]) };
  } finally {
    for (const w of work) w.free();
  }
}

/**
 * Milliseconds of the fastest call of `fn` within about `ms` milliseconds (at least 3 calls): on
 * a machine shared with other tenants, the call least disturbed by them.
 */
function timeWindow(fn: () => void, ms: number): number {
  let best = Infinity;
  let calls = 0;
  const t0 = performance.now();
  while (calls < 3 || performance.now() - t0 < ms) {
    const t = performance.now();
    fn();
    best = Math.min(best, performance.now() - t);
    calls++;
  }
  return best;
}

/** conv2 forward, backward-data and backward-filter, fc1 forward and backward-weight, on one core. */
function workload(core: Core): { run: () => void; free: () => void } {
  const oh = CONV2.h - CONV2.kh + 1;
  const bufs: Buf[] = [];
  const buf = (n: number) => {
    const b = core.heap.alloc(n);
    const v = b.view();
    for (let i = 0; i < n; i++) v[i] = Math.sin(i * 0.37) * 0.5;
    bufs.push(b);
    return b;
  };
  const x = buf(CONV2.n * CONV2.c * CONV2.h * CONV2.w);
  const w = buf(CONV2.oc * CONV2.c * CONV2.kh * CONV2.kw);
  const y = buf(CONV2.n * CONV2.oc * oh * oh);
  const dx = buf(x.length);
  const dw = buf(w.length);
  const fx = buf(FC1.m * FC1.inF);
  const fw = buf(FC1.outF * FC1.inF);
  const fy = buf(FC1.m * FC1.outF);
  const bx = buf(FC1_BATCH.m * FC1_BATCH.inF);
  const bdy = buf(FC1_BATCH.m * FC1_BATCH.outF);
  const fdw = buf(FC1_ROWS * FC1.inF);
  return {
    run() {
      conv2dForward(core, y, x, w, null, CONV2);
      conv2dBackwardData(core, dx, y, w, CONV2);
      conv2dBackwardFilter(core, dw, y, x, CONV2);
      linearForward(core, fy, fx, fw, null, FC1);
      linearBackwardWeightRows(core, fdw, bdy, bx, FC1_BATCH, 0, FC1_ROWS);
      // the backward kernels accumulate: keep the sums from growing towards Inf over many calls
      dx.view().fill(0);
      dw.view().fill(0);
    },
    free() {
      for (const b of bufs) b.free();
    },
  };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

// ---- the cache ----------------------------------------------------------------------------------

interface NodeModules {
  fs: typeof import('node:fs');
  os: typeof import('node:os');
  path: typeof import('node:path');
  crypto: typeof import('node:crypto');
}

function nodeModules(): NodeModules | null {
  const get = typeof process !== 'undefined' ? (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule : undefined;
  if (!get) return null;
  return { fs: get('node:fs'), os: get('node:os'), path: get('node:path'), crypto: get('node:crypto') } as NodeModules;
}

/** $XDG_CACHE_HOME/iruka/build-choice.json, else ~/.cache/iruka/build-choice.json. */
export function buildCacheFile(): string | null {
  const node = nodeModules();
  return node ? cacheFile(node) : null;
}

/** The cache key of these builds on this machine (null without Node). */
export function buildCacheKey(deps: ChooseDeps): string | null {
  const node = nodeModules();
  return node ? cacheKey(node, deps) : null;
}

function cacheFile({ os, path }: NodeModules): string {
  const xdg = process.env.XDG_CACHE_HOME;
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.cache');
  return path.join(base, 'iruka', 'build-choice.json');
}

/** CPU model | Node version | a hash of both builds: a new CPU, Node or build is measured afresh. */
function cacheKey({ os, crypto }: NodeModules, deps: ChooseDeps): string {
  const h = crypto.createHash('sha256');
  h.update(deps.read('simd'));
  h.update(deps.read('relaxed'));
  return `v${CACHE_VERSION} | ${os.cpus()[0]?.model ?? 'unknown CPU'} | node ${process.version} | wasm ${h.digest('hex').slice(0, 16)}`;
}

function readCache({ fs }: NodeModules, file: string): Record<string, Cached> {
  try {
    const j = JSON.parse(fs.readFileSync(file, 'utf8')) as { entries?: Record<string, Cached> };
    const out: Record<string, Cached> = {};
    for (const [k, v] of Object.entries(j.entries ?? {})) if (v && Array.isArray(v.ratios) && Number.isFinite(v.speedup) && typeof v.date === 'string') out[k] = v;
    return out;
  } catch {
    return {}; // missing or unreadable: measure again
  }
}

function writeCache({ fs, path }: NodeModules, file: string, entries: Record<string, Cached>): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify({ about: 'iruka: which build flavor auto loads on this machine (npm run tune)', entries }, null, 2) + '\n');
  fs.renameSync(tmp, file);
}
