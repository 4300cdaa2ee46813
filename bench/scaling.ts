// npm run bench:scaling — a scaling model of the data-parallel trainer for many cores, built from
// parts measured on this machine: each pool task as a worker runs it (GradCompute on this thread:
// the parameters loaded, its chunks computed the way the engine computes them, as segments of one
// batch inside a group, with packed weights, the dense layers' rows left for the reduce, the tree nodes it completes
// copied to shared memory), one thread's whole minibatch (the local engine), a message round trip,
// the main thread's cost per task and a wake-up at the step tasks' meeting point, the reduction of the nodes the tasks sent (copied into the
// worker's heap and added, per float), the optimizer step and the parameter copies. From them it
// projects images/s and efficiency (images/s ÷ (workers × one thread's images/s at its fastest
// chunk for that batch), and against one thread at the same chunk) for 4..64 workers at batch
// 64, 256 and 1024, with the default chunk rule, the previous rule (max(32, batch/4)) and chunk
// 8, checks the projection against measured 1- and 2-worker points (the 2-worker one also with
// the measured slowdown of two threads computing side by side), and names what limits each
// configuration at 64 workers (and at 16 workers, batch 256). Writes bench/results/scaling.json.
import '../src/cli/relaxed_simd.js';
import { availableParallelism } from 'node:os';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { SPIN } from './spin_worker.js';
import { Piscina } from 'piscina';
import { loadCoreSync, type Core, type Flavor } from '../src/core/load.js';
import { fromArrays, type Dataset } from '../src/data/dataset.js';
import { lenetSteps } from './lenet_steps.js';
import { permutation } from '../src/data/batches.js';
import { lenet, LENET_SPEC, MNIST_SHAPE } from '../src/nn/lenet.js';
import { gaussian } from '../src/nn/params.js';
import { BoundModel } from '../src/train/model.js';
import { defaultChunkSize, LocalEngine } from '../src/train/engine.js';
import { GradCompute, type WorkerInit } from '../src/train/grad_compute.js';
import { findRowWeights, rowBlock, rowsLayout, treeRanges } from '../src/train/weight_rows.js';
import { gradInit } from '../src/train/grad_step.js';
import { FOLD, nodesWithin, taskRanges, type TreeNode } from '../src/train/reduce_tree.js';
import { makeOptimizer } from '../src/optim/index.js';
import { add } from '../src/core/kernels/elementwise.js';
import { helpText, parseFlags, num, choice, runCli } from '../src/cli/common.js';

const FLAGS = {
  seconds: { type: 'string', arg: 'S', default: '0.5', help: 'seconds per measured part' },
  'check-seconds': { type: 'string', arg: 'S', default: '3', help: 'seconds per measured 1- and 2-worker check point (0: no check)' },
  workers: { type: 'string', arg: 'LIST', default: '4,8,16,32,64', help: 'projected worker counts' },
  batches: { type: 'string', arg: 'LIST', default: '64,256,1024', help: 'projected batch sizes' },
  flavor: { type: 'string', arg: 'BUILD', default: 'simd', help: 'kernel build: simd or relaxed' },
  json: { type: 'string', arg: 'FILE', default: 'bench/results/scaling.json', help: 'where to write the results' },
} as const;

const FLAVORS = ['simd', 'relaxed'] as const;

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
  /**
   * seconds of one pool task as a worker runs it (GradCompute.grad: the new parameters loaded,
   * its chunks computed, as segments of one batch where the engine runs them so, summed along the
   * tree in its memory, the completed nodes copied to the shared slots), by task (taskKey)
   */
  tasks: Record<string, number>;
  /** seconds of one minibatch's gradient on this thread (LocalEngine), by `batch/chunk` */
  local: Record<string, number>;
  /** copying P floats (publishing the parameters, taking the reduced gradient) */
  copyP: number;
  /** the reduction: seconds per float of a node slot (copied into the worker's heap, then added) */
  reducePerFloat: number;
  /** floats the tree sums: P less the row weights' gradients (src/train/weight_rows.ts) */
  treeP: number;
  /** the row weights' sizes, in layout order */
  rowWeights: Array<{ inF: number; outF: number }>;
  /** by batch: seconds of every row weight's whole gradient in one reduce task (its rows copied into the heap, one GEMM each) */
  rows: Record<string, number>;
  /** by batch: seconds of copying the minibatch's rows from shared memory into a worker's heap (each reduce task with rows does) */
  rowsCopy: Record<string, number>;
  /** the optimizer step (SGD with momentum and weight decay) */
  optimizer: number;
  /** one no-op task's round trip, awaited alone */
  roundTrip: number;
  /** the main thread's cost per task when many are in flight (submit + settle) */
  perTask: number;
  /** the default task at batch 64 (chunks 0-3 of 8) with a second thread computing, over its time alone */
  contention2: number;
  /** a thread waiting at the step tasks' meeting point (Atomics.wait) resuming after the last arrival's notify */
  wake: number;
}

/** What a projection needs measured: the tasks of each configuration and one thread's minibatches. */
export interface Needs {
  tasks: Map<string, { batch: number; chunk: number; first: number; last: number }>;
  local: Array<{ batch: number; chunk: number }>;
}

/**
 * A task's work, as a key: the same key is the same work. A task's cost depends on its nodes of
 * the tree (a node of several chunks runs them as segments of one batch; such a node always
 * starts a group of FOLD chunks, so only its chunks' rows tell nodes apart) and not on where in
 * the minibatch it lies: tasks of equal work share one measurement, so the slowest task of a
 * configuration is not picked from noise among equal ones.
 */
export function taskKey(batch: number, chunk: number, first: number, last: number): string {
  const K = Math.ceil(batch / chunk);
  const rows = (k: number) => Math.min(chunk, batch - k * chunk);
  const nodes = nodesWithin(K, first, last).map(([lo, hi]) => Array.from({ length: hi - lo }, (_, j) => rows(lo + j)).join('+'));
  return `c${chunk} ${nodes.sort().join(' ')}`;
}

/** The tasks a pool of W workers runs for a minibatch (one per worker with chunks). */
function poolTasks(batch: number, chunk: number, W: number): TreeNode[] {
  return taskRanges(Math.ceil(batch / chunk), W);
}

/**
 * A worker's state as the pool builds it (its own core and model, the shared arrays) for tasks of
 * `batch` in chunks of `chunk`, warmed up; `run` computes one task, each call a new parameter
 * version (as every step's task loads the new parameters).
 */
function taskRunner(data: Dataset, batch: number, chunk: number, flavor: Flavor, warmMs: number): { run: (first: number, last: number) => void; rows: () => void; init: WorkerInit; free: () => void } {
  const core = loadCoreSync({ flavor });
  const model = new BoundModel(core, lenet(), MNIST_SHAPE);
  model.params.init(1);
  const init = gradInit(core, model, LENET_SPEC, data, { workers: 1, chunkSize: chunk, batchSize: batch }, { seed: 1, augment: {}, fill: [0] });
  new Uint32Array(init.idx).set(permutation(data.n, 1, 0).subarray(0, batch));
  new Float32Array(init.params).set(model.params.data.view());
  const worker = new GradCompute(init, () => loadCoreSync({ flavor }));
  let version = 0;
  const run = (first: number, last: number) => void worker.grad({ step: 0, first, last, batch, chunk, version: ++version });
  const all = (init.rows?.layout.weights ?? []).map((w, i): [number, number, number] => [i, 0, w.outF]);
  const rows = () => worker.reduce({ k: 1, lo: 0, hi: 0, nodes: [], batch, rows: all });
  // warm-up: V8 tiers the WASM functions up after their first calls (baseline code is slower)
  const t0 = performance.now();
  while (performance.now() - t0 < warmMs) run(0, Math.min(FOLD, Math.ceil(batch / chunk)));
  return { run, rows, init, free: () => model.free() };
}

/**
 * By batch (its default chunk): one reduce task forming every row weight's whole gradient from
 * the rows a minibatch's grad tasks left, and the copy of those rows into a worker's heap alone.
 */
async function measureRows(core: Core, data: Dataset, batches: number[], flavor: Flavor, ms: number): Promise<{ rows: Record<string, number>; rowsCopy: Record<string, number> }> {
  const rows: Record<string, number> = {};
  const rowsCopy: Record<string, number> = {};
  for (const b of batches) {
    const r = taskRunner(data, b, defaultChunkSize(b), flavor, Math.min(500, ms));
    try {
      r.run(0, Math.ceil(b / defaultChunkSize(b)));
      if (!r.init.rows) continue;
      const { layout, store } = r.init.rows;
      const src = new Float32Array(store);
      const buf = core.heap.alloc(layout.floats);
      const floats = layout.weights.reduce((a, w) => a + b * (w.inF + w.outF), 0);
      rowsCopy[b] = await timeCheap(() => buf.view().set(src.subarray(0, floats)), ms / 2, 5);
      buf.free();
      rows[b] = await timeIt(r.rows, ms / 2);
    } finally {
      r.free();
    }
  }
  return { rows, rowsCopy };
}

/** Rounds of interleaved windows: a moment of a busy neighbour then slows one window of a part, not the part. */
const ROUNDS = 5;

/**
 * Seconds of pool tasks as the workers run them, each timed on this thread through GradCompute,
 * and of one thread's minibatch gradient (LocalEngine), by `batch/chunk`: every worker state and
 * engine built and warmed first, then ROUNDS rounds over all of them, each keeping its best
 * window. Both sides of an efficiency (the tasks and the one-thread baseline) are timed in the
 * same rounds, so a slow stretch of the host cannot land on one side alone.
 */
async function measureCompute(core: Core, data: Dataset, needs: Needs, flavor: Flavor, ms: number): Promise<{ tasks: Record<string, number>; local: Record<string, number> }> {
  const runners = new Map<string, ReturnType<typeof taskRunner>>();
  for (const t of needs.tasks.values()) {
    const cfg = `${t.batch}/${t.chunk}`;
    if (!runners.has(cfg)) runners.set(cfg, taskRunner(data, t.batch, t.chunk, flavor, Math.min(1000, 2 * ms)));
  }
  const model = new BoundModel(core, lenet(), MNIST_SHAPE);
  model.params.init(1);
  const idx = permutation(data.n, 1, 0);
  const engines = needs.local.map((c) => ({ ...c, engine: new LocalEngine(model, data, c.chunk, { seed: 1, augment: {}, fill: [0] }) }));
  const tasks: Record<string, number> = {};
  const local: Record<string, number> = {};
  try {
    // warm-up: V8 tiers the WASM functions up after their first calls (baseline code is slower)
    const warm = performance.now();
    while (performance.now() - warm < Math.min(3000, 6 * ms)) await engines[0].engine.minibatch(idx.subarray(0, engines[0].batch), 0);
    for (let round = 0; round < ROUNDS; round++) {
      for (const e of engines) {
        const key = `${e.batch}/${e.chunk}`;
        local[key] = Math.min(local[key] ?? Infinity, await timeIt(() => e.engine.minibatch(idx.subarray(0, e.batch), 0), ms / ROUNDS));
      }
      for (const [key, t] of needs.tasks) {
        const runner = runners.get(`${t.batch}/${t.chunk}`)!;
        tasks[key] = Math.min(tasks[key] ?? Infinity, await timeIt(() => runner.run(t.first, t.last), ms / (2 * ROUNDS)));
      }
    }
  } finally {
    for (const r of runners.values()) r.free();
    for (const e of engines) await e.engine.close();
    model.free();
  }
  return { tasks, local };
}

async function measureParts(core: Core, data: Dataset, needs: Needs, flavor: Flavor, ms: number): Promise<Parts> {
  const { tasks, local } = await measureCompute(core, data, needs, flavor, ms);
  const { rows, rowsCopy } = await measureRows(core, data, [...new Set(needs.local.map((l) => l.batch))], flavor, ms);
  const model = new BoundModel(core, lenet(), MNIST_SHAPE);
  model.params.init(1);
  const P = model.params.size;
  const layout = rowsLayout(findRowWeights(model, data), 1);
  const treeP = treeRanges(layout, P).reduce((a, [lo, hi]) => a + hi - lo, 0);
  const slot = new Float32Array(new SharedArrayBuffer(P * 4));
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
  const contention2 = await contention(data, flavor, ms);
  const wake = await wakeLatency();
  const rowWeights = layout.weights.map(({ inF, outF }) => ({ inF, outF }));
  const parts: Parts = { P, tasks, local, copyP, reducePerFloat: reduced / (K * P), treeP, rowWeights, rows, rowsCopy, optimizer, roundTrip, perTask, contention2, wake };
  opt.free();
  inBuf.free();
  model.free();
  return parts;
}

/**
 * The default task at batch 64 (chunks 0-3 of 8) with a second thread computing, over its time
 * alone: the median of 2 × ROUNDS pairs of alternating windows (the second thread paused between).
 */
async function contention(data: Dataset, flavor: Flavor, ms: number): Promise<number> {
  const runner = taskRunner(data, 64, 8, flavor, Math.min(1000, 2 * ms));
  const spin = await spinner();
  try {
    const ratios: number[] = [];
    for (let round = 0; round < 2 * ROUNDS; round++) {
      spin.pause();
      const alone = await timeIt(() => runner.run(0, 4), ms / (2 * ROUNDS));
      await spin.resume();
      const busy = await timeIt(() => runner.run(0, 4), ms / (2 * ROUNDS));
      ratios.push(busy / alone);
    }
    ratios.sort((a, b) => a - b);
    return ratios[Math.floor(ratios.length / 2)];
  } finally {
    await spin.stop();
    runner.free();
  }
}

/** A second thread computing LeNet chunks (bench/spin_worker.ts), which can pause and resume. */
async function spinner(): Promise<{ pause: () => void; resume: () => Promise<void>; stop: () => Promise<void> }> {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const w = new Worker(new URL('./spin_worker.js', import.meta.url), { workerData: flag.buffer });
  const next = () => new Promise((res, rej) => { w.once('message', res); w.once('error', rej); });
  await next();
  await new Promise((r) => setTimeout(r, 200)); // its WASM tiers up
  const set = (v: number) => {
    Atomics.store(flag, 0, v);
    Atomics.notify(flag, 0);
  };
  return {
    pause: () => set(SPIN.pause),
    // a resumed thread is computing again within its next chunk (a few ms)
    resume: async () => {
      set(SPIN.run);
      await new Promise((r) => setTimeout(r, 20));
    },
    stop: async () => {
      set(SPIN.stop);
      await next();
      await w.terminate();
    },
  };
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

/**
 * The median time from Atomics.notify to the waiting thread running again, over 41 wake-ups of
 * a thread that had slept for 2 ms each time (as a step task that finished first does).
 */
async function wakeLatency(): Promise<number> {
  const ctl = new Int32Array(new SharedArrayBuffer(8));
  const stamp = new Float64Array(new SharedArrayBuffer(8));
  const code = `const { workerData: [c, s] } = require('node:worker_threads');
    const ctl = new Int32Array(c), stamp = new Float64Array(s);
    for (let seen = 0; ; ) {
      Atomics.wait(ctl, 0, seen);
      seen = Atomics.load(ctl, 0);
      if (seen < 0) break;
      stamp[0] = performance.timeOrigin + performance.now();
      Atomics.store(ctl, 1, seen);
    }`;
  const w = new Worker(code, { eval: true, workerData: [ctl.buffer, stamp.buffer] });
  await new Promise((r) => w.once('online', r));
  try {
    const waits: number[] = [];
    for (let i = 1; i <= 41; i++) {
      await new Promise((r) => setTimeout(r, 2));
      const t0 = performance.timeOrigin + performance.now();
      Atomics.store(ctl, 0, i);
      Atomics.notify(ctl, 0);
      while (Atomics.load(ctl, 1) !== i) Atomics.wait(ctl, 1, Atomics.load(ctl, 1), 1);
      waits.push((stamp[0] - t0) / 1000);
    }
    waits.sort((a, b) => a - b);
    return waits[waits.length >> 1];
  } finally {
    Atomics.store(ctl, 0, -1);
    Atomics.notify(ctl, 0);
    await w.terminate();
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
  return finish({ compute: measured(p.local, `${batch}/${chunk}`), optimizer: p.optimizer }, batch);
}

/**
 * W pool workers: one task per worker with a run of chunks (its measured time: loading the
 * parameters, the chunks, the additions inside its nodes, the node copies, the rows left for
 * the dense weights); the parallel reduction: the tree over its floats in W near-equal slices
 * and the row weights' gradients in blocks of output rows (the largest block's share of the
 * measured whole, plus each task's copy of the rows); messaging; the serial rest on the main thread.
 */
export function projectPool(p: Parts, batch: number, chunk: number, W: number, slow = 1): Projection {
  const K = Math.ceil(batch / chunk);
  const tasks = poolTasks(batch, chunk, W);
  const nodes = tasks.flatMap(([a, b]) => nodesWithin(K, a, b));
  const tree = nodes.length > 1;
  // each step task reduces one slice once all have their gradients (src/train/grad_step.ts)
  const n = tasks.length;
  const slice = Math.ceil(p.treeP / n / 16) * 16;
  const total = p.rowWeights.reduce((a, w) => a + w.inF * w.outF, 0);
  const blockFloats = (t: number) => p.rowWeights.reduce((a, w) => {
    const [r0, r1] = rowBlock(w.outF, t, n);
    return a + Math.max(0, r1 - r0) * w.inF;
  }, 0);
  const blocks = Array.from({ length: n }, (_, t) => blockFloats(t));
  const rows = total > 0 ? p.rowsCopy[batch] + (measured(p.rows, String(batch)) - p.rowsCopy[batch]) * (Math.max(...blocks) / total) : 0;
  const meets = n > 1 && (tree || total > 0);
  const terms = {
    compute: slow * Math.max(...tasks.map(([a, b]) => measured(p.tasks, taskKey(batch, chunk, a, b)))),
    messaging: p.roundTrip + n * p.perTask + (meets ? p.wake : 0),
    reduce: (tree ? nodes.length * Math.min(slice, p.treeP) * p.reducePerFloat : p.copyP) + rows,
    serial: 2 * p.copyP + p.optimizer, // publishing the parameters, taking the reduced gradient
  };
  return finish(terms, batch);
}

function measured(times: Record<string, number>, key: string): number {
  const t = times[key];
  if (t === undefined) throw new Error(`bench:scaling: nothing measured for ${key}`);
  return t;
}

function finish(terms: Record<string, number>, batch: number): Projection {
  const seconds = Object.values(terms).reduce((a, b) => a + b, 0);
  return { seconds, images_per_sec: batch / seconds, terms };
}

/** The largest term of a projection, in words. */
function limit(pr: Projection, batch: number, chunk: number, W: number): string {
  const K = Math.ceil(batch / chunk);
  const [name, t] = Object.entries(pr.terms).sort((a, b) => b[1] - a[1])[0];
  const share = `${((100 * t) / pr.seconds).toFixed(0)} % of the step`;
  const idle = K < W ? `; only ${K} chunks for ${W} workers, ${W - K} idle` : '';
  const what: Record<string, string> = {
    compute: 'the busiest worker\'s chunks',
    messaging: 'messaging (the main thread handles one message per task; the tasks meet before their reduce slices)',
    reduce: 'the reduction (every worker copies and adds the tree nodes the tasks sent over its slice, and forms its block of the dense weight gradients)',
    serial: 'the serial main-thread work (parameter copies, optimizer step)',
  };
  return `${what[name]}: ${share}${idle}`;
}

/**
 * Measured images/s of the real engines at 1 (local) and 2 (pool) workers, for each check
 * point: all engines built and warmed first, then ROUNDS interleaved windows each, the best kept
 * (as the parts are), so a busy moment of the host does not land on one point alone.
 */
async function measureEngines(core: Core, data: Dataset, points: Array<{ batch: number; chunk: number; workers: number }>, ms: number): Promise<number[]> {
  const engines = points.map((p) => lenetSteps(core, data, { batch: p.batch, workers: p.workers, chunk: p.chunk }));
  const best = points.map(() => 0);
  try {
    for (const e of engines) {
      // warm-up: each worker's WASM tiers up on its own thread
      const t0 = performance.now();
      while (performance.now() - t0 < Math.min(1500, ms)) await e.next();
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < points.length; i++) best[i] = Math.max(best[i], points[i].batch / (await timeIt(engines[i].next, ms / ROUNDS)));
    }
  } finally {
    for (const e of engines) await e.close();
  }
  return best;
}

async function main(argv: string[]) {
  const f = parseFlags(argv, FLAGS);
  const ms = num('seconds', f.seconds, { gt: 0 }) * 1000;
  const checkMs = num('check-seconds', f['check-seconds'], { min: 0 }) * 1000;
  const workers = (f.workers ?? '').split(',').map((w) => num('workers', w, { int: true, min: 1 }));
  const batches = (f.batches ?? '').split(',').map((b) => num('batches', b, { int: true, min: 1 }));
  const flavor = choice('flavor', f.flavor, FLAVORS) as Flavor;
  const core = loadCoreSync({ flavor });
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
  // every task any projected configuration runs (deduplicated by its work), and one thread's minibatches
  const needs: Needs = { tasks: new Map(), local: [] };
  for (const b of batches) for (const r of chunkRules) {
    const c = r.chunk(b);
    if (!needs.local.some((l) => l.batch === b && l.chunk === c)) needs.local.push({ batch: b, chunk: c });
    for (const w of [...workers, 2]) for (const [first, last] of poolTasks(b, c, w)) needs.tasks.set(taskKey(b, c, first, last), { batch: b, chunk: c, first, last });
  }
  const parts = await measureParts(core, data, needs, flavor, ms);
  const us = (s: number) => `${(s * 1e6).toFixed(1)} µs`;
  const msOf = (s: number) => `${(s * 1e3).toFixed(2)} ms`;
  console.log(`bench:scaling on ${availableParallelism()} cores, LeNet (P = ${parts.P} floats), ${flavor} build`);
  console.log(`  one thread's minibatch gradient: ${Object.entries(parts.local).map(([k, s]) => `${k}: ${msOf(s)} (${((1e6 * s) / Number(k.split('/')[0])).toFixed(0)} µs/example)`).join(', ')}  (batch/chunk)`);
  console.log(`  ${Object.keys(parts.tasks).length} distinct pool tasks timed as a worker runs them, e.g. ${Object.entries(parts.tasks).slice(0, 3).map(([k, s]) => `[${k}]: ${msOf(s)}`).join(', ')}`);
  console.log(`  copy P to shared memory: ${us(parts.copyP)}`);
  console.log(`  reduction: ${(parts.reducePerFloat * 1e9).toFixed(2)} ns per node-slot float over the tree's ${parts.treeP} floats; optimizer step: ${us(parts.optimizer)}`);
  console.log(`  dense weight gradients from rows, all in one task: ${Object.entries(parts.rows).map(([b, s]) => `batch ${b}: ${msOf(s)} (rows copied in: ${msOf(parts.rowsCopy[b])})`).join(', ')}`);
  console.log(`  messaging: round trip ${us(parts.roundTrip)}, main-thread cost per task ${us(parts.perTask)}, a waiting task woken at the meeting point ${us(parts.wake)}`);
  console.log(`  the default task at batch 64 (chunks 0-3 of 8) with a second thread computing: ${parts.contention2.toFixed(2)}x its time alone (shared caches, memory, other tenants)`);

  const rows: Record<string, unknown>[] = [];
  console.log('\nefficiency: images/s over (workers x one thread at its fastest chunk for the batch); same chunk: over (workers x one thread at the same chunk);');
  console.log(`contended: every task slowed by the 2-thread contention measured above (${parts.contention2.toFixed(2)}x; on a many-core machine it is whatever its caches and memory give)`);
  console.log('rule      batch  chunk  chunks  workers  images/s  efficiency  same chunk  contended  limited by');
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
        const effContended = projectPool(parts, b, c, w, parts.contention2).images_per_sec / (w * base);
        const lim = limit(pr, b, c, w);
        rows.push({ rule: r.rule, batch: b, chunk: c, chunks: Math.ceil(b / c), workers: w, images_per_sec: pr.images_per_sec, efficiency: eff, efficiency_same_chunk: effSame, efficiency_contended: effContended, one_thread_best_images_per_sec: base, step_seconds: pr.seconds, terms: pr.terms, limited_by: lim });
        console.log(`${r.rule.padEnd(8)}  ${String(b).padStart(5)}  ${String(c).padStart(5)}  ${String(Math.ceil(b / c)).padStart(6)}  ${String(w).padStart(7)}  ${pr.images_per_sec.toFixed(0).padStart(8)}  ${eff.toFixed(2).padStart(10)}  ${effSame.toFixed(2).padStart(10)}  ${effContended.toFixed(2).padStart(9)}  ${w === Math.max(...workers) || (b === 256 && w === 16) ? lim : ''}`);
      }
    }
  }

  const checks: Record<string, unknown>[] = [];
  if (checkMs > 0) {
    console.log('\ncheck against measured points (default chunk):');
    const points = batches.filter((x) => x <= 256).flatMap((b) => [1, 2].map((w) => ({ batch: b, chunk: defaultChunkSize(b), workers: w })));
    const measuredAt = await measureEngines(core, data, points, checkMs);
    for (const [i, { batch: b, chunk: c, workers: w }] of points.entries()) {
      const measured = measuredAt[i];
      const projected = w === 1 ? projectLocal(parts, b, c).images_per_sec : projectPool(parts, b, c, w).images_per_sec;
      const error = projected / measured - 1;
      // the same projection with each task slowed by the measured 2-thread contention
      const contended = w === 1 ? projected : projectPool(parts, b, c, w, parts.contention2).images_per_sec;
      const errorContended = contended / measured - 1;
      checks.push({ batch: b, chunk: c, workers: w, measured_images_per_sec: measured, projected_images_per_sec: projected, error, projected_with_contention: contended, error_with_contention: errorContended });
      const more = w > 1 ? `; with the measured contention ${contended.toFixed(0)}: error ${(100 * errorContended).toFixed(1)} %` : '';
      console.log(`  batch ${b}, ${w} worker${w > 1 ? 's' : ''}: measured ${measured.toFixed(0)} img/s, projected ${projected.toFixed(0)}: error ${(100 * error).toFixed(1)} %${more}`);
    }
    if (availableParallelism() < 2) console.log('  (one core: the 2-worker point shares it, so the projection of 2 parallel workers overstates it)');
  }
  const out = resolve(f.json ?? 'bench/results/scaling.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), node: process.version, cores: availableParallelism(), model: 'lenet', flavor, parts, rows, checks }, null, 2) + '\n');
  console.log(`\nwrote ${out}`);
}

await runCli('bench:scaling', HELP, process.argv.slice(2), main);
