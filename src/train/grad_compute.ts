// What a gradient worker computes, whatever carries its messages (a Piscina thread in Node,
// workers/grad_worker.ts; a Web Worker in a page, workers/web_worker.ts): it rebuilds the model
// and the loss from the spec it is sent, then computes the gradient of one chunk of a minibatch
// per task for a run of consecutive chunks, summed in its memory along the reduction tree
// (reduce_tree.ts) into the largest tree nodes inside the run, each written to the slot of its
// first chunk (the dense weights' windows excepted: their chunks leave x and dy rows in a shared
// store instead, src/train/weight_rows.ts); then, once every task of the step has done so (a
// step task; or in a reduce task of its own), it reduces a slice of the parameters over the
// nodes every task sent, and forms a block of the dense weights' gradients from the rows. Every
// large array is shared: the normalised training set and its targets, the current parameters,
// the node slots and the reduced gradient live in SharedArrayBuffers; a task carries only
// indices and the parameter version. The model is built on the first task, so a
// spec the worker cannot build rejects that task instead of killing the worker.
import type { Core, Flavor } from '../core/load.js';
import { buildModel, type ModelSpec } from '../nn/spec.js';
import { BoundModel, type ChunkResult } from './model.js';
import type { LossSpec } from './losses.js';
import { chunkRanges, GradStack, leafOps } from './engine.js';
import { add } from '../core/kernels/elementwise.js';
import { nodesWithin, sumNode, walkDepth, type TreeNode } from './reduce_tree.js';
import type { Buf } from '../core/heap.js';
import type { Augment, Dataset } from '../data/dataset.js';
import { targetsOf, type SharedTargets } from './shared_data.js';
import type { PinPlan } from './affinity.js';
import type { PredictInit } from './predict_compute.js';
import { RowsCollector, treeRanges, weightGradRows, type RowsLayout } from './weight_rows.js';

export interface WorkerInit {
  flavor: Flavor;
  spec: ModelSpec;
  loss: LossSpec;
  name: string;
  n: number;
  x: SharedArrayBuffer; // f32, n × sample size
  targets: SharedTargets;
  params: SharedArrayBuffer; // f32, P
  slots: SharedArrayBuffer; // f32, maxChunks × P: tree node [lo, hi) in slot lo
  reduced: SharedArrayBuffer; // f32, P: the chunk gradients summed along the tree
  idx: SharedArrayBuffer; // u32, batch size
  /** the dense weights formed from rows (src/train/weight_rows.ts) and their store (f32, layout.floats); absent: none */
  rows?: { layout: RowsLayout; store: SharedArrayBuffer };
  /** for evaluating on the same workers between epochs (PredictCompute) */
  predict: PredictInit;
  seed: number;
  augment: Augment;
  fill: number[];
  /**
   * i32: [arrivals, then one word per task of a step]: the step tasks' meeting point. A task
   * writes the step's version into its word when its gradients are in shared memory.
   */
  barrier: SharedArrayBuffer;
  /** the Piscina pool's CPU pinning (src/train/affinity.ts); absent: unpinned */
  pin?: PinPlan;
  /** test hook of the Piscina pool: fail on purpose (see src/train/pool.ts) */
  faults?: { step: number; chunk: number; mode: 'throw' | 'exit'; times: number; counter: SharedArrayBuffer }[];
}

/**
 * Parameters [lo, hi) of the sum of the K chunks' gradients, from the tree nodes in the slots
 * (outside the row weights' windows), and blocks of the row weights' gradients from the rows of
 * the minibatch's `batch` examples.
 */
export interface ReduceTask {
  k: number;
  lo: number;
  hi: number;
  /** the nodes the grad tasks wrote (together they partition [0, k)) */
  nodes: TreeNode[];
  batch: number;
  /** [index in init.rows.layout.weights, first output row, end row] */
  rows: Array<[number, number, number]>;
}

/** Chunks [first, last) of a minibatch of `batch` examples in chunks of `chunk`. */
export interface ChunkTask {
  step: number;
  first: number;
  last: number;
  batch: number;
  chunk: number;
  version: number;
}

/**
 * A step task: the chunks of a ChunkTask, then, once every task of the step has written its
 * gradients, the reduce of slice `index` of `tasks` (`reduce`; null: nothing to reduce there).
 * A task that has waited `waitMs` for the others returns without reducing and the main thread
 * runs that slice as a ReduceTask: the same computation, so the same bits, and no task can
 * wait for one that failed or was never started.
 */
export interface StepTask extends ChunkTask {
  index: number;
  tasks: number;
  reduce: ReduceTask | null;
  waitMs: number;
}

/** What a step task returns: its chunks' results in order, and whether it ran its reduce. */
export interface StepResult {
  chunks: ChunkResult[];
  reduced: boolean;
}

/** One worker's gradient state: its core (loaded by the caller, sync in Node, async in a page), the model, the shared views. */
export class GradCompute {
  private readonly params: Float32Array;
  private readonly slots: Float32Array;
  private readonly idx: Uint32Array;
  private readonly reduced: Float32Array;
  private state: { core: Core; model: BoundModel; data: Dataset; P: number; rows: RowsCollector | null; store: Float32Array | null; summed: Array<[number, number]> } | null = null;
  private stack: GradStack | null = null;
  private reduceBuf: Buf | null = null;
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
    const store = init.rows ? new Float32Array(init.rows.store) : null;
    const rows = init.rows ? new RowsCollector(model, init.rows.layout, () => store!) : null;
    this.state = { core, model, data, P, rows, store, summed: treeRanges(init.rows?.layout ?? null, P) };
    return this.state;
  }

  /** The gradients of the task's chunks, summed into its tree nodes, each into its slot; the chunks' results in order. */
  grad(task: ChunkTask): ChunkResult[] {
    const { model, data, P, rows, summed } = this.setup();
    if (task.version !== this.version) {
      model.params.data.view().set(this.params);
      this.version = task.version;
    }
    const ranges = chunkRanges(task.batch, task.chunk);
    const parts: Array<ChunkResult & { n: number }> = [];
    const gradStack = (this.stack ??= new GradStack(model));
    const ops = leafOps(model, data, this.idx.subarray(0, task.batch), ranges, task.step, this.init, parts, gradStack, rows);
    const stack = gradStack.forNode(task.last - task.first);
    model.weightRows = rows;
    try {
      // the weights are fixed for the task: dense layers pack theirs once, not per chunk
      model.packs.during(() => {
        for (const [lo, hi] of nodesWithin(ranges.length, task.first, task.last)) {
          sumNode(lo, hi, ops, stack);
          const node = stack[0].view();
          for (const [s, e] of summed) this.slots.set(node.subarray(s, e), lo * P + s);
        }
      });
    } finally {
      model.weightRows = null;
      model.params.gradInto(model.params.grad);
    }
    return parts.slice(task.first, task.last).map(({ n: _n, ...r }) => r);
  }

  /**
   * A step task (StepTask): its chunks, then its reduce slice once every task's gradients are
   * in shared memory, or, after waitMs without them, nothing more (the main thread reduces it).
   */
  step(task: StepTask): StepResult {
    const chunks = this.grad(task);
    if (!task.reduce) return { chunks, reduced: false };
    const barrier = new Int32Array(this.init.barrier);
    Atomics.store(barrier, 1 + task.index, task.version);
    Atomics.add(barrier, 0, 1);
    Atomics.notify(barrier, 0);
    if (!allArrived(barrier, task.tasks, task.version, task.waitMs)) return { chunks, reduced: false };
    this.reduce(task.reduce);
    return { chunks, reduced: true };
  }

  /**
   * Sums a slice of the parameters along the tree from the nodes in the slots, with the same
   * f32 additions (and so the same bits) as this thread's engine; the workers split the
   * parameter range, so the reduction runs in parallel instead of on the main thread. Then the
   * task's blocks of the row weights' gradients, each one GEMM over the minibatch's rows.
   */
  reduce(task: ReduceTask): void {
    const { summed } = this.setup();
    const at = new Map(task.nodes.map(([a, b]) => [`${a},${b}`, a]));
    // two nodes (two tasks) need two buffers, not the whole tree's depth
    const depth = walkDepth(0, task.k, (a, b) => at.has(`${a},${b}`));
    for (const [s, e] of summed) {
      const lo = Math.max(s, task.lo);
      const hi = Math.min(e, task.hi);
      if (hi > lo) this.reduceRange(task.k, at, depth, lo, hi);
    }
    for (const [i, r0, r1] of task.rows) this.weightBlock(i, task.batch, r0, r1);
  }

  /** Parameters [lo, hi) of the tree over k chunks, the nodes `at` hand taken from their slots (node key → slot). */
  private reduceRange(k: number, at: ReadonlyMap<string, number>, depth: number, lo: number, hi: number): void {
    const n = hi - lo;
    const { core, P } = this.setup();
    const buf = this.heapBuf(depth * n);
    const stack = Array.from({ length: depth }, (_, d) => buf.sub(d * n, n));
    sumNode(0, k, {
      direct: (a, b, into) => {
        const slot = at.get(`${a},${b}`);
        if (slot === undefined) return false;
        into.set(this.slots.subarray(slot * P + lo, slot * P + hi));
        return true;
      },
      addInto: (into, right) => add(core, into, into, right, n),
    }, stack);
    this.reduced.set(stack[0].view(), lo);
  }

  /** Rows [r0, r1) of row weight i's gradient over the minibatch's `batch` examples, into `reduced`. */
  private weightBlock(i: number, batch: number, r0: number, r1: number): void {
    const { core, rows, store } = this.setup();
    const w = rows?.layout.weights[i];
    if (!w || !store) throw new Error(`grad worker: reduce task names row weight ${i}, the layout has ${rows?.layout.weights.length ?? 0}`);
    // the rows into this worker's heap: x [batch, inF] then dy [batch, outF], then the block after them
    const xs = batch * w.inF;
    const ys = batch * w.outF;
    const buf = this.heapBuf(xs + ys + (r1 - r0) * w.inF);
    const view = buf.view();
    view.set(store.subarray(w.x, w.x + xs), 0);
    view.set(store.subarray(w.dy, w.dy + ys), xs);
    const out = buf.sub(xs + ys, (r1 - r0) * w.inF);
    weightGradRows(core, buf, { ...w, x: 0, dy: xs }, batch, r0, r1, out);
    this.reduced.set(out.view(), w.offset + r0 * w.inF);
  }

  /** This worker's reduce buffer, at least `floats` long (its contents are not kept). */
  private heapBuf(floats: number): Buf {
    if (!this.reduceBuf || this.reduceBuf.length < floats) {
      this.reduceBuf?.free();
      this.reduceBuf = this.setup().core.heap.alloc(floats);
    }
    return this.reduceBuf;
  }
}

/** Whether the `tasks` tasks of step `version` all arrive within `ms` (waiting idle, woken by each arrival). */
function allArrived(barrier: Int32Array, tasks: number, version: number, ms: number): boolean {
  const deadline = performance.now() + ms;
  for (;;) {
    const seen = Atomics.load(barrier, 0);
    let all = true;
    for (let t = 0; t < tasks && all; t++) all = Atomics.load(barrier, 1 + t) === version;
    if (all) return true;
    const left = deadline - performance.now();
    if (left <= 0) return false;
    Atomics.wait(barrier, 0, seen, left);
  }
}
