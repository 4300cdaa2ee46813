// What a gradient worker computes, whatever carries its messages (a Piscina thread in Node,
// workers/grad_worker.ts; a Web Worker in a page, workers/web_worker.ts): it rebuilds the model
// and the loss from the spec it is sent, then computes the gradient of one chunk of a minibatch
// per task into that chunk's slot, and reduces a slice of the parameters over the slots. Every
// large array is shared: the normalised training set and its targets, the current parameters,
// the per-chunk gradient slots and the reduced gradient live in SharedArrayBuffers; a task
// carries only indices and the parameter version. The model is built on the first task, so a
// spec the worker cannot build rejects that task instead of killing the worker.
import type { Core, Flavor } from '../core/load.js';
import { buildModel, type ModelSpec } from '../nn/spec.js';
import { BoundModel, type ChunkResult } from './model.js';
import type { LossSpec } from './losses.js';
import { chunkSeed } from './engine.js';
import { sumK } from '../core/kernels/elementwise.js';
import type { Buf } from '../core/heap.js';
import type { Augment, Dataset } from '../data/dataset.js';
import { targetsOf, type SharedTargets } from './shared_data.js';

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
  /** test hook of the Piscina pool: fail on purpose (see src/train/pool.ts) */
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

/** One worker's gradient state: its core (loaded by the caller, sync in Node, async in a page), the model, the shared views. */
export class GradCompute {
  private readonly params: Float32Array;
  private readonly slots: Float32Array;
  private readonly idx: Uint32Array;
  private readonly reduced: Float32Array;
  private state: { core: Core; model: BoundModel; data: Dataset; P: number } | null = null;
  private reduceIn: Buf | null = null;
  private reduceOut: Buf | null = null;
  private version = -1;

  constructor(
    private readonly init: WorkerInit,
    private readonly core: () => Core,
  ) {
    this.params = new Float32Array(init.params);
    this.slots = new Float32Array(init.slots);
    this.idx = new Uint32Array(init.idx);
    this.reduced = new Float32Array(init.reduced);
  }

  /** The core, once the model is built (null before the first task). */
  get loadedCore(): Core | null {
    return this.state?.core ?? null;
  }

  private setup(): NonNullable<GradCompute['state']> {
    if (this.state) return this.state;
    const { init } = this;
    const core = this.core();
    const net = buildModel(init.spec);
    const model = new BoundModel(core, net, net.inputShape, init.loss);
    const P = model.params.size;
    if (this.params.length !== P) throw new Error(`grad worker: shared parameters hold ${this.params.length} floats, the model built from the spec has ${P}`);
    const data: Dataset = { name: init.name, sampleShape: [...net.inputShape], n: init.n, x: new Float32Array(init.x), targets: targetsOf(init.targets) };
    this.state = { core, model, data, P };
    return this.state;
  }

  /** Computes one chunk's gradient into its slot. */
  grad(task: ChunkTask): ChunkResult {
    const { model, data, P } = this.setup();
    if (task.version !== this.version) {
      model.params.data.view().set(this.params);
      this.version = task.version;
    }
    model.params.zeroGrad();
    const r = model.gradChunk(data, this.idx.subarray(task.start, task.end), (task.end - task.start) / task.batch, {
      seed: chunkSeed(this.init.seed, task.step, task.k),
      augment: this.init.augment,
      fill: this.init.fill,
    });
    this.slots.set(model.params.grad.view(), task.k * P);
    return r;
  }

  /**
   * Reduces a slice of the parameters across the K chunk slots with the same sum_k kernel (and
   * so the same bits) as the single-thread path; the workers split the parameter range, so the
   * reduction runs in parallel instead of on the main thread.
   */
  reduce(task: ReduceTask): void {
    const n = task.hi - task.lo;
    if (n <= 0) return;
    const { core, P } = this.setup();
    if (!this.reduceIn || this.reduceIn.length < task.k * n) {
      this.reduceIn?.free();
      this.reduceIn = core.heap.alloc(task.k * n);
    }
    if (!this.reduceOut || this.reduceOut.length < n) {
      this.reduceOut?.free();
      this.reduceOut = core.heap.alloc(n);
    }
    const inView = this.reduceIn.view();
    for (let j = 0; j < task.k; j++) inView.set(this.slots.subarray(j * P + task.lo, j * P + task.hi), j * n);
    sumK(core, this.reduceOut, this.reduceIn, task.k, n);
    this.reduced.set(this.reduceOut.view().subarray(0, n), task.lo);
  }
}
