// Piscina worker: owns its own instance of the WASM core and a copy of the model, and computes
// the gradient of one chunk of a minibatch per task (STYLE 17-19). Everything large is shared:
// the normalised training set, the current parameters and the per-chunk gradient slots live
// in SharedArrayBuffers; a task message carries only indices and the parameter version.
import { workerData } from 'piscina';
import { loadCoreSync, type Flavor } from '../src/core/load.js';
import { lenet, MNIST_SHAPE } from '../src/nn/lenet.js';
import { BoundModel, type ChunkResult } from '../src/train/model.js';
import { chunkSeed } from '../src/train/engine.js';
import { sumK } from '../src/core/kernels/elementwise.js';
import type { Buf } from '../src/core/heap.js';

export interface WorkerInit {
  flavor: Flavor;
  images: SharedArrayBuffer; // f32, n × 784
  labels: SharedArrayBuffer; // u8, n
  params: SharedArrayBuffer; // f32, P
  slots: SharedArrayBuffer; // f32, maxChunks × P
  reduced: SharedArrayBuffer; // f32, P: the chunk gradients summed in chunk order
  idx: SharedArrayBuffer; // u32, batch size
  shift: number;
  fillValue: number;
  seed: number;
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
const core = loadCoreSync({ flavor: init.flavor });
const model = new BoundModel(core, lenet(), MNIST_SHAPE);
const images = new Float32Array(init.images);
const labels = new Uint8Array(init.labels);
const params = new Float32Array(init.params);
const slots = new Float32Array(init.slots);
const idx = new Uint32Array(init.idx);
const reduced = new Float32Array(init.reduced);
let reduceIn: Buf | null = null;
let reduceOut: Buf | null = null;
const P = model.params.size;
if (params.length !== P) throw new Error(`grad worker: shared parameters hold ${params.length} floats, the model has ${P}`);
let version = -1;

export default grad;

/** Computes one chunk's gradient into its slot. */
export function grad(task: ChunkTask): ChunkResult {
  for (const f of init.faults ?? []) {
    if (f.step === task.step && f.chunk === task.k && Atomics.add(new Int32Array(f.counter), 0, 1) < f.times) {
      if (f.mode === 'exit') process.exit(3); // ends this worker thread, as a crash would
      throw new Error(`injected fault at step ${task.step}, chunk ${task.k}`);
    }
  }
  if (task.version !== version) {
    model.params.data.view().set(params);
    version = task.version;
  }
  model.params.zeroGrad();
  const r = model.gradChunk(images, labels, idx.subarray(task.start, task.end), (task.end - task.start) / task.batch, {
    seed: chunkSeed(init.seed, task.step, task.k),
    shift: init.shift,
    fillValue: init.fillValue,
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
