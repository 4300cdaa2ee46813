// Piscina worker: owns its own instance of the WASM core and a copy of the model, and computes
// the gradient of one chunk of a minibatch per task (STYLE 17-19). Everything large is shared:
// the normalised training set, the current parameters and the per-chunk gradient slots live
// in SharedArrayBuffers; a task message carries only indices and the parameter version.
import { workerData } from 'piscina';
import { loadCoreSync, type Flavor } from '../src/core/load.js';
import { lenet, MNIST_SHAPE } from '../src/nn/lenet.js';
import { BoundModel, type ChunkResult } from '../src/train/model.js';
import { chunkSeed } from '../src/train/engine.js';

export interface WorkerInit {
  flavor: Flavor;
  images: SharedArrayBuffer; // f32, n × 784
  labels: SharedArrayBuffer; // u8, n
  params: SharedArrayBuffer; // f32, P
  slots: SharedArrayBuffer; // f32, maxChunks × P
  idx: SharedArrayBuffer; // u32, batch size
  shift: number;
  fillValue: number;
  seed: number;
  /** test hook: fail on purpose (see src/train/pool.ts) */
  faults?: { step: number; chunk: number; mode: 'throw' | 'exit'; times: number; counter: SharedArrayBuffer }[];
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
const P = model.params.size;
if (params.length !== P) throw new Error(`grad worker: shared parameters hold ${params.length} floats, the model has ${P}`);
let version = -1;

export default function grad(task: ChunkTask): ChunkResult {
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
