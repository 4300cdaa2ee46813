// npm run bench:scaling — a scaling model of the data-parallel trainer for many cores, built from
// parts measured on this machine: the compute of one chunk of C examples on one thread, the
// per-chunk fixed cost (zeroing its gradient buffer: P floats), adding and copying P floats (a
// task sums its chunks along the reduction tree and copies each tree node it completed to
// shared memory), a message round trip and the main thread's cost per task, the reduction of the
// nodes the tasks sent (copied into the worker's heap and added, per float), the optimizer step
// and the parameter copies. From them it
// projects images/s and efficiency (images/s ÷ (workers × one thread's images/s at its fastest
// chunk for that batch), and against one thread at the same chunk) for 4..64 workers at batch
// 64, 256 and 1024, with the default chunk rule, the previous rule (max(32, batch/4)) and chunk
// 8, checks the projection against measured 1- and 2-worker points, and names what limits each
// configuration at 64 workers (and at 16 workers, batch 256). Writes bench/results/scaling.json.
import '../src/cli/relaxed_simd.js';
import { availableParallelism } from 'node:os';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { loadCoreSync, type Core } from '../src/core/load.js';
import { fromArrays, type Dataset } from '../src/data/dataset.js';
import { lenetSteps } from './lenet_steps.js';
import { permutation } from '../src/data/batches.js';
import { lenet, MNIST_SHAPE } from '../src/nn/lenet.js';
import { gaussian } from '../src/nn/params.js';
import { BoundModel } from '../src/train/model.js';
import { defaultChunkSize } from '../src/train/engine.js';
import { nodesWithin, taskRanges } from '../src/train/reduce_tree.js';
import { makeOptimizer } from '../src/optim/index.js';
import { add, fill } from '../src/core/kernels/elementwise.js';
import { helpText, parseFlags, num, runCli } from '../src/cli/common.js';

const FLAGS = {
  seconds: { type: 'string', arg: 'S', default: '0.5', help: 'seconds per measured part' },
  'check-seconds': { type: 'string', arg: 'S', default: '3', help: 'seconds per measured 1- and 2-worker check point (0: no check)' },
  workers: { type: 'string', arg: 'LIST', default: '4,8,16,32,64', help: 'projected worker counts' },
  batches: { type: 'string', arg: 'LIST', default: '64,256,1024', help: 'projected batch sizes' },
  json: { type: 'string', arg: 'FILE', default: 'bench/results/scaling.json', help: 'where to write the results' },
} as const;

const HELP = helpText('npm run bench:scaling -- [options]', 'Projects the trainer\'s images/s and efficiency for many workers from parts measured on this machine.', FLAGS);

/**
 * Seconds of one call of `fn` over about `ms` milliseconds (at least 3 calls): the 10th
 * percentile, the least disturbed calls on a machine shared with other tenants.
 */
async function timeIt(fn: () => unknown, ms: number): Promise<number> {
  await fn();
  const times: number[] = [];
  const t0 = performance.now();
  while (times.length < 3 || performance.now() - t0 < ms) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 10)] / 1000;
}

/** Median seconds of one call of a cheap `fn`, timed `inner` calls at a time. */
function timeCheap(fn: () => void, ms: number, inner = 20): Promise<number> {
  return timeIt(() => {
    for (let i = 0; i < inner; i++) fn();
  }, ms).then((s) => s / inner);
}

export interface Parts {
  /** floats in the gradient */
  P: number;
  /** seconds of one chunk's forward + backward on one thread, by chunk size */
  compute: Record<number, number>;
  /** zeroing a chunk's gradient buffer: seconds per chunk */
  fixed: number;
  /** copying P floats (publishing the parameters, a tree node to its slot, the reduced gradient, a worker loading them) */
  copyP: number;
  /** adding P floats (one node of the reduction tree) */
  addP: number;
  /** the reduction: seconds per float of a node slot (copied into the worker's heap, then added) */
  reducePerFloat: number;
  /** the optimizer step (SGD with momentum and weight decay) */
  optimizer: number;
  /** one no-op task's round trip, awaited alone */
  roundTrip: number;
  /** the main thread's cost per task when many are in flight (submit + settle) */
  perTask: number;
  /** a chunk of 32's compute with a second thread computing too, over its compute alone */
  contention2: number;
}

async function measureParts(core: Core, data: Dataset, chunks: number[], ms: number): Promise<Parts> {
  const model = new BoundModel(core, lenet(), MNIST_SHAPE);
  model.params.init(1);
  const P = model.params.size;
  const idx = permutation(data.n, 1, 0);
  // warm-up: V8 tiers the WASM functions up after their first calls (baseline code is slower)
  const warm = performance.now();
  while (performance.now() - warm < Math.min(3000, 6 * ms)) model.gradChunk(data, idx.subarray(0, 32), 1, { seed: 1 });
  const compute: Record<number, number> = {};
  // interleaved rounds, each size keeping its best: a busy neighbour then disturbs no size alone
  for (let round = 0; round < 4; round++) {
    for (const c of chunks) {
      const t = await timeIt(() => model.gradChunk(data, idx.subarray(0, c), 1, { seed: 1 }), ms / 4);
      compute[c] = Math.min(compute[c] ?? Infinity, t);
    }
  }
  const slot = new Float32Array(new SharedArrayBuffer(P * 4));
  const fixed = await timeCheap(() => fill(core, model.params.grad, 0), ms);
  const copyP = await timeCheap(() => slot.set(model.params.grad.view()), ms);
  const K = 4;
  const slots = new Float32Array(new SharedArrayBuffer(K * P * 4));
  const inBuf = core.heap.alloc(K * P);
  const views = Array.from({ length: K }, (_, j) => inBuf.sub(j * P, P));
  const reduced = await timeCheap(() => {
    const v = inBuf.view();
    for (let j = 0; j < K; j++) v.set(slots.subarray(j * P, (j + 1) * P), j * P);
    for (let j = 1; j < K; j++) add(core, views[0], views[0], views[j]);
  }, ms, 5);
  const opt = makeOptimizer(core, model.params.data, model.params.grad, { name: 'sgd', momentum: 0.9, weightDecay: 5e-4 });
  const optimizer = await timeCheap(() => opt.step(0.01), ms);
  const { roundTrip, perTask } = await messaging(ms);
  const contention2 = (await alongside(() => timeIt(() => model.gradChunk(data, idx.subarray(0, 32), 1, { seed: 1 }), ms))) / (compute[32] ?? (await timeIt(() => model.gradChunk(data, idx.subarray(0, 32), 1, { seed: 1 }), ms)));
  const parts: Parts = { P, compute, fixed, copyP, addP: await addTime(core, P, ms), reducePerFloat: reduced / (K * P), optimizer, roundTrip, perTask, contention2 };
  opt.free();
  inBuf.free();
  model.free();
  return parts;
}

async function addTime(core: Core, P: number, ms: number): Promise<number> {
  const a = core.heap.alloc(P);
  const b = core.heap.alloc(P);
  const s = await timeCheap(() => add(core, a, a, b), ms);
  a.free();
  b.free();
  return s;
}

/** Runs `fn` while a second thread computes LeNet chunks (bench/spin_worker.ts). */
async function alongside<R>(fn: () => Promise<R>): Promise<R> {
  const stop = new SharedArrayBuffer(4);
  const w = new Worker(new URL('./spin_worker.js', import.meta.url), { workerData: stop });
  const next = () => new Promise((res, rej) => { w.once('message', res); w.once('error', rej); });
  await next();
  await new Promise((r) => setTimeout(r, 200)); // its WASM tiers up
  try {
    return await fn();
  } finally {
    Atomics.store(new Int32Array(stop), 0, 1);
    await next();
    await w.terminate();
  }
}

function echoFile(): string {
  const url = new URL('./echo_worker.js', import.meta.url);
  if (!existsSync(url)) throw new Error("bench/echo_worker.js is missing; run 'npm run build'");
  return fileURLToPath(url);
}

/** A message round trip alone, and the main thread's cost per task with 64 in flight on 2 threads. */
async function messaging(ms: number): Promise<{ roundTrip: number; perTask: number }> {
  const pool = new Piscina({ filename: echoFile(), minThreads: 2, maxThreads: 2 });
  try {
    await Promise.all([pool.run(0), pool.run(1)]);
    const roundTrip = await timeIt(() => pool.run(0), ms);
    const burst = 64;
    const perTask = (await timeIt(() => Promise.all(Array.from({ length: burst }, (_, i) => pool.run(i))), ms)) / burst;
    return { roundTrip, perTask };
  } finally {
    await pool.destroy();
  }
}

export interface Projection {
  seconds: number;
  images_per_sec: number;
  /** what the step time is spent on, seconds */
  terms: Record<string, number>;
}

/** One thread, all chunks in turn (the local engine): the baseline of efficiency. */
export function projectLocal(p: Parts, batch: number, chunk: number): Projection {
  const K = Math.ceil(batch / chunk);
  const terms = {
    compute: chunkTimes(p, batch, chunk).reduce((a, b) => a + b, 0),
    fixed: K * p.fixed,
    reduce: (K - 1) * p.addP, // the tree's K - 1 additions
    optimizer: p.optimizer,
  };
  return finish(terms, batch);
}

/**
 * W pool workers: one task per worker with a run of chunks, each summed along the tree in the
 * worker and its completed nodes copied out; the parallel reduction of the nodes; the serial rest.
 */
export function projectPool(p: Parts, batch: number, chunk: number, W: number): Projection {
  const K = Math.ceil(batch / chunk);
  const times = chunkTimes(p, batch, chunk);
  const tasks = taskRanges(K, W);
  const nodes = tasks.flatMap(([a, b]) => nodesWithin(K, a, b));
  // the busiest task sets the phase: its chunks, their zeroing, the additions inside its nodes, the node copies
  const perTask = tasks.map(([a, b]) => {
    const own = nodesWithin(K, a, b);
    return times.slice(a, b).reduce((s, t) => s + t + p.fixed, 0) + (b - a - own.length) * p.addP + own.length * p.copyP;
  });
  const slice = Math.ceil(p.P / W / 16) * 16;
  const R = nodes.length > 1 ? Math.ceil(p.P / slice) : 0;
  const terms = {
    compute: Math.max(...perTask) + p.copyP, // + each worker loading the new parameters
    messaging: 2 * p.roundTrip + (tasks.length + R) * p.perTask,
    reduce: nodes.length > 1 ? nodes.length * Math.min(slice, p.P) * p.reducePerFloat : p.copyP,
    serial: 2 * p.copyP + p.optimizer, // publishing the parameters, taking the reduced gradient
  };
  return finish(terms, batch);
}

function finish(terms: Record<string, number>, batch: number): Projection {
  const seconds = Object.values(terms).reduce((a, b) => a + b, 0);
  return { seconds, images_per_sec: batch / seconds, terms };
}

/** Each chunk's compute time: chunks of C, the last one shorter (interpolated in C). */
function chunkTimes(p: Parts, batch: number, chunk: number): number[] {
  const out: number[] = [];
  for (let s = 0; s < batch; s += chunk) out.push(computeOf(p, Math.min(chunk, batch - s)));
  return out;
}

function computeOf(p: Parts, c: number): number {
  if (p.compute[c] !== undefined) return p.compute[c];
  const sizes = Object.keys(p.compute).map(Number).sort((a, b) => a - b);
  const lo = [...sizes].reverse().find((s) => s <= c) ?? sizes[0];
  const hi = sizes.find((s) => s >= c) ?? sizes[sizes.length - 1];
  if (lo === hi) return (p.compute[lo] * c) / lo;
  return p.compute[lo] + ((p.compute[hi] - p.compute[lo]) * (c - lo)) / (hi - lo);
}

/** The parts with every chunk's compute multiplied by `factor`. */
function slowed(p: Parts, factor: number): Parts {
  return { ...p, compute: Object.fromEntries(Object.entries(p.compute).map(([c, t]) => [c, t * factor])) };
}

/** The largest term of a projection, in words. */
function limit(pr: Projection, batch: number, chunk: number, W: number): string {
  const K = Math.ceil(batch / chunk);
  const [name, t] = Object.entries(pr.terms).sort((a, b) => b[1] - a[1])[0];
  const share = `${((100 * t) / pr.seconds).toFixed(0)} % of the step`;
  const idle = K < W ? `; only ${K} chunks for ${W} workers, ${W - K} idle` : '';
  const what: Record<string, string> = {
    compute: 'the busiest worker\'s chunks',
    messaging: 'messaging (the main thread handles one message per task and per reduce slice)',
    reduce: 'the reduction (every worker copies and adds the tree nodes the tasks sent, over its slice)',
    serial: 'the serial main-thread work (parameter copies, optimizer step)',
  };
  return `${what[name]}: ${share}${idle}`;
}

/** Measured images/s of the real engines at 1 (local) and 2 (pool) workers. */
async function measureEngine(core: Core, data: Dataset, batch: number, chunk: number, workers: number, ms: number): Promise<number> {
  const { next: once, close } = lenetSteps(core, data, { batch, workers, chunk });
  try {
    // warm-up: each worker's WASM tiers up on its own thread
    const t0 = performance.now();
    while (performance.now() - t0 < Math.min(1500, ms)) await once();
    return batch / (await timeIt(once, ms));
  } finally {
    await close();
  }
}

async function main(argv: string[]) {
  const f = parseFlags(argv, FLAGS);
  const ms = num('seconds', f.seconds, { gt: 0 }) * 1000;
  const checkMs = num('check-seconds', f['check-seconds'], { min: 0 }) * 1000;
  const workers = (f.workers ?? '').split(',').map((w) => num('workers', w, { int: true, min: 1 }));
  const batches = (f.batches ?? '').split(',').map((b) => num('batches', b, { int: true, min: 1 }));
  const core = loadCoreSync({ flavor: 'simd' });
  const rnd = gaussian(3);
  const n = Math.max(2048, 2 * Math.max(...batches));
  // synthetic images and labels: the kernels' speed does not depend on the values
  const data = fromArrays({ x: Float32Array.from({ length: n * 784 }, () => rnd.normal()), sampleShape: [...MNIST_SHAPE], labels: Uint8Array.from({ length: n }, () => Math.floor(rnd.uniform() * 10)), classes: 10 });
  const chunkRules = [
    { rule: 'default', chunk: (b: number) => defaultChunkSize(b) },
    // the rule before this one, for comparison: fewer, larger chunks (2 at batch 64)
    { rule: 'previous', chunk: (b: number) => Math.max(32, Math.ceil(b / 4)) },
    { rule: 'chunk 8', chunk: (_b: number) => 8 },
  ];
  const sizes = new Set<number>();
  for (const b of batches) for (const r of chunkRules) {
    const c = r.chunk(b);
    sizes.add(Math.min(c, b));
    if (b % c) sizes.add(b % c);
  }
  const parts = await measureParts(core, data, [...sizes].sort((a, b) => a - b), ms);
  const us = (s: number) => `${(s * 1e6).toFixed(1)} µs`;
  console.log(`bench:scaling on ${availableParallelism()} cores, LeNet (P = ${parts.P} floats), simd build`);
  console.log(`  compute per chunk: ${Object.entries(parts.compute).map(([c, s]) => `C=${c}: ${(s * 1e3).toFixed(2)} ms (${((1e6 * s) / Number(c)).toFixed(0)} µs/example)`).join(', ')}`);
  console.log(`  fixed per chunk (zeroing ${parts.P} floats): ${us(parts.fixed)}; copy P to shared memory: ${us(parts.copyP)}; add P: ${us(parts.addP)}`);
  console.log(`  reduction: ${(parts.reducePerFloat * 1e9).toFixed(2)} ns per node-slot float; optimizer step: ${us(parts.optimizer)}`);
  console.log(`  messaging: round trip ${us(parts.roundTrip)}, main-thread cost per task ${us(parts.perTask)}`);
  console.log(`  a chunk of 32 with a second thread computing: ${parts.contention2.toFixed(2)}x its time alone (shared caches, memory, other tenants)`);

  const rows: Record<string, unknown>[] = [];
  console.log('\nefficiency: images/s over (workers x one thread at its fastest chunk for the batch); same chunk: over (workers x one thread at the same chunk)');
  console.log('rule      batch  chunk  chunks  workers  images/s  efficiency  same chunk  limited by');
  for (const r of chunkRules) {
    for (const b of batches) {
      const c = r.chunk(b);
      // one thread's best: a smaller chunk's lower per-example speed counts against it
      const base = Math.max(...chunkRules.map((q) => projectLocal(parts, b, q.chunk(b)).images_per_sec));
      const same = projectLocal(parts, b, c).images_per_sec;
      for (const w of workers) {
        const pr = projectPool(parts, b, c, w);
        const eff = pr.images_per_sec / (w * base);
        const effSame = pr.images_per_sec / (w * same);
        const lim = limit(pr, b, c, w);
        rows.push({ rule: r.rule, batch: b, chunk: c, chunks: Math.ceil(b / c), workers: w, images_per_sec: pr.images_per_sec, efficiency: eff, efficiency_same_chunk: effSame, one_thread_best_images_per_sec: base, step_seconds: pr.seconds, terms: pr.terms, limited_by: lim });
        console.log(`${r.rule.padEnd(8)}  ${String(b).padStart(5)}  ${String(c).padStart(5)}  ${String(Math.ceil(b / c)).padStart(6)}  ${String(w).padStart(7)}  ${pr.images_per_sec.toFixed(0).padStart(8)}  ${eff.toFixed(2).padStart(10)}  ${effSame.toFixed(2).padStart(10)}  ${w === Math.max(...workers) || (b === 256 && w === 16) ? lim : ''}`);
      }
    }
  }

  const checks: Record<string, unknown>[] = [];
  if (checkMs > 0) {
    console.log('\ncheck against measured points (default chunk):');
    for (const b of batches.filter((x) => x <= 256)) {
      const c = defaultChunkSize(b);
      for (const w of [1, 2]) {
        const measured = await measureEngine(core, data, b, c, w, checkMs);
        const projected = w === 1 ? projectLocal(parts, b, c).images_per_sec : projectPool(parts, b, c, w).images_per_sec;
        const error = projected / measured - 1;
        // the same projection with each chunk slowed by the measured 2-thread contention
        const contended = w === 1 ? projected : projectPool(slowed(parts, parts.contention2), b, c, w).images_per_sec;
        const errorContended = contended / measured - 1;
        checks.push({ batch: b, chunk: c, workers: w, measured_images_per_sec: measured, projected_images_per_sec: projected, error, projected_with_contention: contended, error_with_contention: errorContended });
        const more = w > 1 ? `; with the measured contention ${contended.toFixed(0)}: error ${(100 * errorContended).toFixed(1)} %` : '';
        console.log(`  batch ${b}, ${w} worker${w > 1 ? 's' : ''}: measured ${measured.toFixed(0)} img/s, projected ${projected.toFixed(0)}: error ${(100 * error).toFixed(1)} %${more}`);
      }
    }
    if (availableParallelism() < 2) console.log('  (one core: the 2-worker point shares it, so the projection of 2 parallel workers overstates it)');
  }
  const out = resolve(f.json ?? 'bench/results/scaling.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), node: process.version, cores: availableParallelism(), model: 'lenet', parts, rows, checks }, null, 2) + '\n');
  console.log(`\nwrote ${out}`);
}

await runCli('bench:scaling', HELP, process.argv.slice(2), main);
