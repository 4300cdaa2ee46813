// npm run soak — trains a small MLP on MNIST with the worker pool for 20,000 steps (small batches,
// a checkpoint and a test evaluation every 100 steps), sampling the WASM heaps (live bytes and
// memory size) and JS heaps of the main thread and every worker, and the process's RSS. After a
// warm-up (3,000 steps) it fits a line to each series and fails (exit 1) when one grows faster than its bound:
//   WASM live bytes and memory size, per thread      64 KiB (one page) in all: a buffer sized to the
//                                                     largest request seen may still grow once late
//                                                     (a worker first handed the larger reduction
//                                                     slice after the warm-up); a leak of one block
//                                                     per step would be 1 MiB by the end
//   JS heap after a full collection, per thread       2 MiB per 10,000 steps
//   RSS of the process                                 16 MiB per 10,000 steps
// Run with --expose-gc (the npm script does) so the JS heaps are measured after a collection.
// test/soak.test.ts runs a 6,000-step version, and a short one with a deliberate leak that must fail.
import '../src/cli/relaxed_simd.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fit } from '../src/train/fit.js';
import { loadDataset } from '../src/data/datasets.js';
import type { Core } from '../src/core/load.js';
import type { GradEngine } from '../src/train/engine.js';
import type { PoolEngine } from '../src/train/pool.js';
import { helpText, parseFlags, num, runCli, UsageError } from '../src/cli/common.js';

const FLAGS = {
  steps: { type: 'string', arg: 'N', default: '20000', help: 'optimizer steps (a multiple of 100: 100 steps per epoch)' },
  workers: { type: 'string', arg: 'N', default: '2', help: 'gradient worker threads' },
  samples: { type: 'string', arg: 'N', default: '40', help: 'memory samples over the run' },
  'warmup-steps': { type: 'string', arg: 'N', default: '3000', help: 'steps before the slopes are measured (JIT, allocator arenas and pools settle in the first ~2,500)' },
  json: { type: 'string', arg: 'FILE', help: 'also write the samples and slopes as JSON' },
  'leak-bytes': { type: 'string', arg: 'B', default: '0', help: 'for the self-test: keep B bytes per step alive on the main thread (the soak must then fail)' },
} as const;

const HELP = helpText('npm run soak -- [options]', 'Memory over a long training run with the worker pool; fails on growth beyond the stated bounds.', FLAGS);

const STEPS_PER_EPOCH = 100;
const BATCH = 16;
const MIB = 2 ** 20;
/** The bounds, in bytes per 10,000 steps after the warm-up. */
export const BOUNDS = { wasmLive: 64 * 1024, wasmBytes: 64 * 1024, heapUsed: 2 * MIB, rss: 16 * MIB };

const SPEC = {
  format: 'iruka-model-1',
  name: 'soak-mlp',
  input: [1, 28, 28],
  init: 'he',
  layers: [{ type: 'flatten' }, { type: 'linear', name: 'fc1', units: 32 }, { type: 'relu' }, { type: 'linear', name: 'fc2', units: 10 }],
};

interface Sample {
  step: number;
  [series: string]: number;
}

/** Least-squares slope of y over x. */
export function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
  }
  return sxx > 0 ? sxy / sxx : 0;
}

async function main(argv: string[]): Promise<void> {
  const f = parseFlags(argv, FLAGS) as Record<string, string | undefined>;
  const steps = num('steps', f.steps, { int: true, min: 400, max: 10_000_000 });
  if (steps % STEPS_PER_EPOCH) throw new UsageError(`--steps must be a multiple of ${STEPS_PER_EPOCH}, got ${steps}`);
  const workers = num('workers', f.workers, { int: true, min: 2, max: 64 });
  const nSamples = num('samples', f.samples, { int: true, min: 8, max: 10_000 });
  const warmup = num('warmup-steps', f['warmup-steps'], { int: true, min: 0 });
  if (warmup > steps / 2) throw new UsageError(`--warmup-steps ${warmup} leaves less than half of --steps ${steps} to measure`);
  const leakBytes = num('leak-bytes', f['leak-bytes'], { int: true, min: 0, max: MIB });
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) process.stderr.write('soak: note: run with --expose-gc for JS heaps measured after a collection\n');

  const { train, test } = loadDataset('mnist', { limitTrain: STEPS_PER_EPOCH * BATCH, limitTest: 200 });
  const out = mkdtempSync(join(tmpdir(), 'iruka-soak-'));
  const every = Math.max(1, Math.floor(steps / nSamples));
  const main: Sample[] = [];
  const pending: Promise<void>[] = [];
  const perWorker = new Map<number, Sample[]>();
  const leak: number[][] = [];
  let hook: { core: Core; engine: GradEngine } | null = null;
  let step = 0;
  let lost = 0;
  const t0 = Date.now();
  const sample = () => {
    const { core, engine } = hook!;
    gc?.();
    const m = process.memoryUsage();
    main.push({ step, heapUsed: m.heapUsed, rss: m.rss, wasmBytes: core.memory.buffer.byteLength, wasmLive: core.heap.liveBytes });
    const at = step;
    pending.push(
      (engine as PoolEngine).workerMemory().then((list) => {
        for (const w of list) {
          if (!perWorker.has(w.threadId)) perWorker.set(w.threadId, []);
          perWorker.get(w.threadId)!.push({ step: at, heapUsed: w.heapUsed, wasmBytes: w.wasmBytes, wasmLive: w.wasmLive });
        }
      }, () => {
        lost++; // the run ended (and its pool closed) before the round came back
      }),
    );
  };
  try {
    await fit(SPEC, { train, test }, {
      epochs: steps / STEPS_PER_EPOCH,
      batchSize: BATCH,
      chunkSize: 8,
      workers,
      lr: 0.05,
      schedule: 'constant',
      warmupEpochs: 0,
      checkpointEvery: 0,
      out,
      onStart: (h) => (hook = h),
      onProgress: (p) => {
        if (p.phase !== 'train') return;
        step++;
        if (leakBytes) leak.push(new Array<number>(Math.ceil(leakBytes / 8)).fill(step + 0.5)); // doubles: on the JS heap
        if (step % every === 0) sample();
      },
    }).then((r) => r.model.free());
    await Promise.all(pending);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  const seconds = (Date.now() - t0) / 1000;

  const rows: Array<{ thread: string; series: string; first: number; last: number; per10k: number; bound: number }> = [];
  const analyse = (thread: string, samples: Sample[]) => {
    const kept = samples.filter((s) => s.step >= warmup);
    for (const series of Object.keys(BOUNDS) as Array<keyof typeof BOUNDS>) {
      if (kept.length < 4 || kept[0][series] === undefined) continue;
      const ys = kept.map((s) => s[series]);
      const growth = series.startsWith('wasm') ? ys[ys.length - 1] - ys[0] : slope(kept.map((s) => s.step), ys) * 10_000;
      rows.push({ thread, series, first: kept[0][series], last: ys[ys.length - 1], per10k: growth, bound: BOUNDS[series] });
    }
  };
  analyse('main', main);
  let w = 0;
  for (const samples of perWorker.values()) analyse(`worker ${++w}`, samples);

  const mib = (b: number) => `${(b / MIB).toFixed(2)} MiB`;
  const bound = (r: { series: string; bound: number }) => (r.series.startsWith('wasm') ? `bound ${r.bound / 1024} KiB` : `bound ${mib(r.bound)} per 10k steps`);
  process.stdout.write(`soak: ${steps} steps with ${workers} workers in ${seconds.toFixed(0)} s; ${main.length} samples (${lost} worker rounds cut off by the end of the run), slopes after step ${warmup}\n`);
  for (const r of rows) {
    const ok = r.per10k <= r.bound;
    const how = r.series.startsWith('wasm') ? `grew ${r.per10k} B after the warm-up` : `slope ${mib(r.per10k)} per 10k steps`;
    process.stdout.write(`  ${ok ? 'ok  ' : 'FAIL'} ${r.thread.padEnd(9)} ${r.series.padEnd(9)} ${mib(r.first).padStart(11)} -> ${mib(r.last).padStart(11)}  ${how} (${bound(r)})\n`);
  }
  if (f.json) writeFileSync(f.json, JSON.stringify({ steps, workers, seconds, bounds: BOUNDS, rows, main, workers_samples: [...perWorker.values()] }, null, 1));
  const failed = rows.filter((r) => r.per10k > r.bound);
  if (perWorker.size < workers) throw new Error(`soak: sampled ${perWorker.size} of ${workers} worker threads`);
  if (failed.length) throw new Error(`soak: memory grew beyond its bound: ${failed.map((r) => `${r.thread} ${r.series}`).join(', ')}`);
  process.stdout.write('soak: no growth beyond the bounds\n');
}

await runCli('soak', HELP, process.argv.slice(2), main);
