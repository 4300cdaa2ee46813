// The main side of a data-parallel step, whatever runs the tasks (the Piscina pool in Node,
// src/train/pool.ts; the Web Worker pool in a page, src/train/web_pool.ts): publish the
// parameters to shared memory, then one step task per worker with a run of consecutive chunks
// (indices only). Each task sums its chunks along the reduction tree and leaves the tree nodes
// it completed, and the dense layers' x and dy rows, in shared memory; then it waits for the
// other tasks at a meeting point in shared memory and does its slice of the reduce: the rest of
// the tree over a slice of the parameters (the same f32 additions as the local engine) and a
// block of output rows of each dense weight's gradient from the rows (the same GEMM as the local
// engine's, src/train/weight_rows.ts). A slice whose task gave up waiting (a failed, retried or
// late task) runs as a reduce task afterwards: the same computation. The chunks' losses, counts
// and BatchNorm statistics are summed in chunk order. So any pool and any worker count give the
// same bits, and a step costs one message per worker each way.
// Between epochs the same workers evaluate the test set (PredictService over their tasks), so
// the pool's cores are not idle while this thread would evaluate alone.
import type { Core } from '../core/load.js';
import type { BoundModel, ChunkResult } from './model.js';
import { chunkRanges, sumChunks, type StepOptions } from './engine.js';
import type { WorkerInit, ReduceTask, StepTask, StepResult } from './grad_compute.js';
import type { EvalTask } from './predict_compute.js';
import { PredictService, predictInit } from './predict_step.js';
import { asShared, shared, sharedTargets } from './shared_data.js';
import { nodesWithin, taskRanges, type TreeNode } from './reduce_tree.js';
import { findRowWeights, rowBlock, rowsLayout, treeRanges, type RowsLayout } from './weight_rows.js';
import type { ModelSpec } from '../nn/spec.js';
import type { Dataset } from '../data/dataset.js';
import type { PinMode } from './options.js';

export interface PoolConfig {
  workers: number;
  chunkSize: number;
  batchSize: number;
  /** pin each worker thread to a CPU of its own (Node on Linux; src/train/affinity.ts); default 'auto' */
  pin?: PinMode;
}

/** Runs one task on some worker; `what` names it in errors. */
export type RunTask = <R>(task: StepTask | ReduceTask | EvalTask, name: 'step' | 'reduce' | 'evaluate', what: string) => Promise<R>;

/**
 * How long a step task that has its gradients waits for the others before leaving its reduce
 * slice to the main thread. Tasks of one step start together and differ by milliseconds; the
 * wait only runs out when one failed (its retry, on a fresh thread, can take longer) or the
 * pool ran two of them on one thread.
 */
export const STEP_WAIT_MS = 500;

/** What every worker is sent once: the spec, the loss, and the shared arrays of the run. */
export function gradInit(core: Core, model: BoundModel, spec: ModelSpec, data: Dataset, cfg: PoolConfig, opts: StepOptions): WorkerInit {
  const P = model.params.size;
  const maxChunks = Math.ceil(cfg.batchSize / cfg.chunkSize);
  const found = findRowWeights(model, data);
  const layout = found.length ? rowsLayout(found, cfg.batchSize) : null;
  return {
    flavor: core.flavor,
    spec,
    loss: model.loss.spec,
    name: data.name,
    n: data.n,
    // the training set goes to shared memory once; if the caller already made it shared, no copy
    x: asShared(data.x).buffer as SharedArrayBuffer,
    targets: sharedTargets(data.targets),
    params: shared(P * 4),
    slots: shared(maxChunks * P * 4),
    reduced: shared(P * 4),
    idx: shared(cfg.batchSize * 4),
    barrier: shared((1 + cfg.workers) * 4),
    ...(layout ? { rows: { layout, store: shared(layout.floats * 4) } } : {}),
    predict: predictInit(spec, model),
    seed: opts.seed,
    augment: opts.augment,
    fill: opts.fill,
  };
}

/** Evaluation on the gradient workers: their tasks named 'evaluate' run PredictCompute over init.predict. */
export function poolEvaluator(model: BoundModel, init: WorkerInit, workers: number, run: RunTask): PredictService {
  return new PredictService(model, { run: (task, name) => run(task as EvalTask, name as 'evaluate', `evaluating examples ${(task as EvalTask).start}-${(task as EvalTask).end - 1}`), destroy: async () => {} }, init.predict, workers);
}

/** One minibatch over the workers: the main thread's half of GradCompute. */
export class SharedGradStep {
  private readonly params: Float32Array;
  private readonly idx: Uint32Array;
  private readonly slots: Float32Array;
  private readonly reduced: Float32Array;
  private readonly layout: RowsLayout | null;
  private version = 0;

  constructor(
    private readonly model: BoundModel,
    private readonly cfg: PoolConfig,
    init: WorkerInit,
  ) {
    this.params = new Float32Array(init.params);
    this.idx = new Uint32Array(init.idx);
    this.slots = new Float32Array(init.slots);
    this.reduced = new Float32Array(init.reduced);
    this.layout = init.rows?.layout ?? null;
  }

  /**
   * The minibatch gradient into model.params.grad, its tasks run by `run`: one step task per
   * worker, which computes its chunks and then, with the others, its slice of the reduce; a
   * slice a task left undone runs as a reduce task after them.
   */
  async minibatch(idx: Uint32Array, step: number, run: RunTask): Promise<ChunkResult> {
    if (idx.length > this.idx.length) throw new Error(`minibatch of ${idx.length} exceeds the pool's batch size ${this.idx.length}`);
    this.idx.set(idx);
    this.params.set(this.model.params.data.view());
    this.version++;
    const batch = idx.length;
    const ranges = chunkRanges(batch, this.cfg.chunkSize);
    const K = ranges.length;
    const tasks = taskRanges(K, this.cfg.workers);
    const nodes = tasks.flatMap(([first, last]) => nodesWithin(K, first, last));
    const plans = this.reducePlans(K, nodes, batch, tasks.length);
    const results = await Promise.all(
      tasks.map(([first, last], index) =>
        run<StepResult>(
          { step, first, last, batch, chunk: this.cfg.chunkSize, version: this.version, index, tasks: tasks.length, reduce: plans[index], waitMs: STEP_WAIT_MS },
          'step',
          `step ${step}, ${last - first > 1 ? `chunks ${first}-${last - 1}` : `chunk ${first}`}`,
        ),
      ),
    );
    await Promise.all(plans.map((plan, t) => (plan && !results[t].reduced ? run<void>(plan, 'reduce', `reducing step ${step}`) : null)));
    this.collect(nodes.length > 1);
    const chunks = results.flatMap((r) => r.chunks);
    return sumChunks(chunks.map((r, k) => ({ ...r, n: ranges[k][1] - ranges[k][0] })), batch);
  }

  /**
   * Reduce slice t of `tasks`: its share of the parameters the rest of the tree sums (none when
   * one task sent the whole tree) and a block of each row weight's output rows; null where a
   * slice has nothing to do.
   */
  private reducePlans(K: number, nodes: TreeNode[], batch: number, tasks: number): Array<ReduceTask | null> {
    const tree = nodes.length > 1;
    if (!tree && !this.layout) return Array.from({ length: tasks }, () => null);
    const slices = treeSlices(this.layout, this.model.params.size, tasks);
    return Array.from({ length: tasks }, (_, t) => {
      const [lo, hi] = tree ? slices[t] : [0, 0];
      const rows = (this.layout?.weights ?? []).flatMap((w, i): Array<[number, number, number]> => {
        const [r0, r1] = rowBlock(w.outF, t, tasks);
        return r1 > r0 ? [[i, r0, r1]] : [];
      });
      return hi > lo || rows.length ? { k: K, lo, hi, nodes, batch, rows } : null;
    });
  }

  /** model.params.grad from the reduced parameters (a tree) or the one node's slot and the row weights' blocks. */
  private collect(tree: boolean): void {
    const P = this.model.params.size;
    const after = this.model.params.grad.view();
    if (tree) {
      after.set(this.reduced);
      return;
    }
    after.set(this.slots.subarray(0, P));
    for (const w of this.layout?.weights ?? []) after.set(this.reduced.subarray(w.offset, w.offset + w.outF * w.inF), w.offset);
  }
}

/**
 * [lo, hi) of the flat parameters for each of `tasks` reduce tasks, cut so that each holds a
 * near-equal share (whole 16-float groups) of the floats the tree sums (outside the row
 * weights' windows, which the tasks skip): the tree's work spread evenly whatever the layout.
 */
export function treeSlices(layout: RowsLayout | null, size: number, tasks: number): Array<[number, number]> {
  const summed = treeRanges(layout, size);
  const total = summed.reduce((a, [s, e]) => a + e - s, 0);
  const per = Math.ceil(total / tasks / 16) * 16;
  // the flat position of the k-th summed float (size past the last)
  const at = (k: number): number => {
    for (const [s, e] of summed) {
      if (k < e - s) return s + k;
      k -= e - s;
    }
    return size;
  };
  return Array.from({ length: tasks }, (_, t) => [t === 0 ? 0 : at(t * per), t === tasks - 1 ? size : at((t + 1) * per)]);
}
