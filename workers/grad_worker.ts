// Piscina worker: owns its own instance of the WASM core and rebuilds the model and the loss
// from the spec it is sent, then computes the gradient of one chunk of a minibatch per task
// (STYLE 17-19). Everything large is shared: the normalised training set and its targets, the
// current parameters and the per-chunk gradient slots live in SharedArrayBuffers; a task
// message carries only indices and the parameter version. The model is built on the first
// task, so a spec the worker cannot build rejects that task's promise instead of killing the
// pool.
import { workerData } from 'piscina';
import { threadId } from 'node:worker_threads';
import { loadCoreSync, type Core, type Flavor } from '../src/core/load.js';
import { buildModel, type ModelSpec } from '../src/nn/spec.js';
import { BoundModel, type ChunkResult } from '../src/train/model.js';
import type { LossSpec } from '../src/train/losses.js';
import { chunkSeed } from '../src/train/engine.js';
import { sumK } from '../src/core/kernels/elementwise.js';
import type { Buf } from '../src/core/heap.js';
import type { Augment, Dataset } from '../src/data/dataset.js';
import { targetsOf, type SharedTargets } from '../src/train/shared_data.js';

export type { SharedTargets } from '../src/train/shared_data.js';

export interface WorkerInit {
  flavor: Flavor;
  spec: ModelSpec;
  loss: LossSpec;
  name: string;
  n: number;
  x: SharedArrayBuffer; // f32, n × sample size
  targets: SharedTargets;
  params: SharedArrayBuffer; // f32, P
  slots: SharedArrayBuffer; // f32, maxChunks × P
  reduced: SharedArrayBuffer; // f32, P: the chunk gradients summed in chunk order
  idx: SharedArrayBuffer; // u32, batch size
  seed: number;
  augment: Augment;
  fill: number[];
  /** test hook: fail on purpose (see src/train/pool.ts) */
  faults?: { step: number; chunk: number; mode: 'throw' | 'exit'; times: number; counter: SharedArrayBuffer }[];
}

/** Sum of the K chunk slots over parameters [lo, hi), in chunk order. */
export interface ReduceTask {
  k: number;
  lo: number;
  hi: number;
}

export interface ChunkTask {
  step: number;
  k: number;
  start: number;
  end: number;
  batch: number;
  version: number;
}

const init = workerData as WorkerInit;
const params = new Float32Array(init.params);
const slots = new Float32Array(init.slots);
const idx = new Uint32Array(init.idx);
const reduced = new Float32Array(init.reduced);
let state: { core: Core; model: BoundModel; data: Dataset; P: number } | null = null;
let reduceIn: Buf | null = null;
let reduceOut: Buf | null = null;
let version = -1;

function setup(): NonNullable<typeof state> {
  if (state) return state;
  const core = loadCoreSync({ flavor: init.flavor });
  const net = buildModel(init.spec);
  const model = new BoundModel(core, net, net.inputShape, init.loss);
  const P = model.params.size;
  if (params.length !== P) throw new Error(`grad worker: shared parameters hold ${params.length} floats, the model built from the spec has ${P}`);
  const data: Dataset = { name: init.name, sampleShape: [...net.inputShape], n: init.n, x: new Float32Array(init.x), targets: targetsOf(init.targets) };
  state = { core, model, data, P };
  return state;
}

export default grad;

/** Computes one chunk's gradient into its slot. */
export function grad(task: ChunkTask): ChunkResult {
  for (const f of init.faults ?? []) {
    if (f.step === task.step && f.chunk === task.k && Atomics.add(new Int32Array(f.counter), 0, 1) < f.times) {
      if (f.mode === 'exit') process.exit(3); // ends this worker thread, as a crash would
      throw new Error(`injected fault at step ${task.step}, chunk ${task.k}`);
    }
  }
  const { model, data, P } = setup();
  if (task.version !== version) {
    model.params.data.view().set(params);
    version = task.version;
  }
  model.params.zeroGrad();
  const r = model.gradChunk(data, idx.subarray(task.start, task.end), (task.end - task.start) / task.batch, {
    seed: chunkSeed(init.seed, task.step, task.k),
    augment: init.augment,
    fill: init.fill,
  });
  slots.set(model.params.grad.view(), task.k * P);
  return r;
}

/**
 * Reduces a slice of the parameters across the K chunk slots with the same sum_k kernel (and
 * so the same bits) as the single-thread path; the workers split the parameter range, so the
 * reduction runs in parallel instead of on the main thread.
 */
export function reduce(task: ReduceTask): void {
  const n = task.hi - task.lo;
  if (n <= 0) return;
  const { core, P } = setup();
  if (!reduceIn || reduceIn.length < task.k * n) {
    reduceIn?.free();
    reduceIn = core.heap.alloc(task.k * n);
  }
  if (!reduceOut || reduceOut.length < n) {
    reduceOut?.free();
    reduceOut = core.heap.alloc(n);
  }
  const inView = reduceIn.view();
  for (let j = 0; j < task.k; j++) inView.set(slots.subarray(j * P + task.lo, j * P + task.hi), j * n);
  sumK(core, reduceOut, reduceIn, task.k, n);
  reduced.set(reduceOut.view().subarray(0, n), task.lo);
}

/** One thread's memory, for the soak: its JS heap (after a collection when --expose-gc is on) and its WASM heap. */
export interface WorkerMemory {
  threadId: number;
  heapUsed: number;
  wasmBytes: number;
  wasmLive: number;
}

/**
 * Reports this thread's memory. It holds the thread for `holdMs` so that the pool hands the
 * next of a round of these tasks to another thread (Piscina picks threads, not the caller).
 */
export function memory(task: { holdMs: number }): WorkerMemory {
  (globalThis as { gc?: () => void }).gc?.();
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, task.holdMs);
  const core = state?.core;
  return { threadId, heapUsed: process.memoryUsage().heapUsed, wasmBytes: core ? core.memory.buffer.byteLength : 0, wasmLive: core ? core.heap.liveBytes : 0 };
}
