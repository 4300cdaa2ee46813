// The main side of multi-threaded inference, whatever runs the tasks (the Piscina pool in Node,
// src/train/predict_pool.ts; the Web Worker pool in a page, src/train/web_pool.ts): predict
// splits a batch into one contiguous part per worker; evaluate hands out the evaluation batches,
// one task each, and sums their losses in batch order, as BoundModel.evaluate does, so the
// results are one thread's, bit for bit. Weights and buffers are published to shared memory
// only when they changed since the last call (a new version), and calls run one at a time, so
// a call never sees another's weights.
import type { BoundModel, ChunkResult } from './model.js';
import type { ModelSpec } from '../nn/spec.js';
import type { Dataset } from '../data/dataset.js';
import { shared, shareDataset, type SharedDataset } from './shared_data.js';
import type { PredictInit, PredictTask, EvalTask } from './predict_compute.js';

export interface EvaluateOptions {
  /** examples evaluated, from the first (default: all) */
  n?: number;
  /** examples per evaluation batch (default 256); the batch sizes fix the loss sum's bits */
  batch?: number;
  /** filled with each example's arg-max class */
  preds?: Uint8Array | Int32Array;
  /** called with the examples evaluated so far as the batches finish (in any order), for a progress line */
  onBatch?: (done: number) => void;
}

/** What carries the tasks to the workers. */
export interface PredictTransport {
  run<R>(task: PredictTask | EvalTask, name: 'predict' | 'evaluate'): Promise<R>;
  destroy(): Promise<void>;
}

/** What every predict worker is sent once. */
export function predictInit(spec: ModelSpec, model: BoundModel): PredictInit {
  return {
    flavor: model.core.flavor,
    spec,
    loss: model.loss.spec,
    params: shared(model.params.size * 4),
    buffers: shared(model.params.bufferSize * 4),
    sizes: { params: model.params.size, buffers: model.params.bufferSize },
  };
}

export class PredictService {
  private readonly params: Float32Array;
  private readonly buffers: Float32Array;
  private version = 0;
  private input = new Float32Array(shared(4));
  private output = new Float32Array(shared(4));
  private readonly datasets = new WeakMap<Dataset, { id: number; shared: SharedDataset }>();
  private nextDataId = 0;
  /** the call in progress: calls run one after another */
  private queue: Promise<unknown> = Promise.resolve();
  private failure: Error | null = null;
  private closed = false;
  private closing: Promise<void> | null = null;

  constructor(
    private readonly model: BoundModel,
    private readonly pool: PredictTransport,
    init: PredictInit,
    readonly workers: number,
  ) {
    this.params = new Float32Array(init.params);
    this.buffers = new Float32Array(init.buffers);
    this.publish();
  }

  /** A failure of the pool itself (a worker that failed outside a task): every later call rejects with it. */
  protected fail(e: Error): void {
    this.failure ??= e;
  }

  /** Outputs (logits) for `n` already-normalised inputs, as BoundModel.predict returns them. */
  predict(input: Float32Array, n: number): Promise<Float32Array> {
    return this.serial(() => this.predictNow(input, n));
  }

  /** Loss sum and correct count over the first `n` examples, as BoundModel.evaluate computes them. */
  evaluate(data: Dataset, opts: EvaluateOptions = {}): Promise<ChunkResult> {
    return this.serial(() => this.evaluateNow(data, opts));
  }

  /** Ends the workers once the calls already made have finished; later calls reject. */
  close(): Promise<void> {
    this.closed = true;
    this.closing ??= this.queue.then(() => this.pool.destroy());
    return this.closing;
  }

  private serial<R>(fn: () => Promise<R>): Promise<R> {
    if (this.closed) return Promise.reject(new Error('PredictPool: the pool is closed'));
    const run = this.queue.then(() => {
      if (this.failure) throw new Error(`the predict pool failed: ${this.failure.message}`);
      this.publish();
      return fn();
    });
    this.queue = run.catch(() => {});
    return run;
  }

  /** Copies the model's weights and buffers to shared memory when they changed (a new version). */
  private publish(): void {
    const data = this.model.params.data.view();
    const bufs = this.model.params.buffers?.view() ?? new Float32Array(0);
    if (this.version > 0 && sameBits(data, this.params) && sameBits(bufs, this.buffers)) return;
    this.params.set(data);
    this.buffers.set(bufs);
    this.version++;
  }

  private async predictNow(input: Float32Array, n: number): Promise<Float32Array> {
    const size = this.model.sampleSize;
    const per = this.model.classes;
    if (!Number.isInteger(n) || n < 0) throw new Error(`predict: n must be an integer >= 0, got ${n}`);
    if (input.length !== n * size) throw new Error(`predict: ${n} samples of [${this.model.sampleShape.join(',')}] need ${n * size} floats, got ${input.length}`);
    if (this.input.length < n * size) this.input = new Float32Array(shared(n * size * 4));
    if (this.output.length < n * per) this.output = new Float32Array(shared(n * per * 4));
    this.input.set(input);
    const part = Math.ceil(n / this.workers);
    const tasks: Promise<void>[] = [];
    for (let start = 0; start < n; start += part) {
      const task: PredictTask = { version: this.version, input: this.input.buffer as SharedArrayBuffer, output: this.output.buffer as SharedArrayBuffer, start, end: Math.min(n, start + part) };
      tasks.push(this.pool.run(task, 'predict'));
    }
    await Promise.all(tasks);
    return this.output.slice(0, n * per);
  }

  private async evaluateNow(data: Dataset, opts: EvaluateOptions): Promise<ChunkResult> {
    const n = opts.n ?? data.n;
    const batch = opts.batch ?? 256;
    if (!Number.isInteger(n) || n < 0 || n > data.n) throw new Error(`evaluate: n must be an integer in [0, ${data.n}], got ${n}`);
    if (!Number.isInteger(batch) || batch < 1) throw new Error(`evaluate: batch must be an integer >= 1, got ${batch}`);
    if (opts.preds && opts.preds.length < n) throw new Error(`evaluate: preds holds ${opts.preds.length} entries, ${n} needed`);
    let entry = this.datasets.get(data);
    if (!entry) this.datasets.set(data, (entry = { id: this.nextDataId++, shared: shareDataset(data) }));
    const preds = opts.preds ? { buf: shared(n * (opts.preds instanceof Int32Array ? 4 : 1)), int32: opts.preds instanceof Int32Array } : undefined;
    const tasks: Promise<{ lossSum: number; correct: number }>[] = [];
    let done = 0;
    for (let start = 0; start < n; start += batch) {
      const task: EvalTask = { version: this.version, data: entry.shared, dataId: entry.id, start, end: Math.min(n, start + batch), preds };
      const part = this.pool.run<{ lossSum: number; correct: number }>(task, 'evaluate').then((r) => {
        done += task.end - task.start;
        opts.onBatch?.(done);
        return r;
      });
      tasks.push(part);
    }
    const parts = await Promise.all(tasks);
    let lossSum = 0;
    let correct = 0;
    for (const p of parts) {
      lossSum += p.lossSum;
      correct += p.correct;
    }
    if (opts.preds && preds) opts.preds.set(preds.int32 ? new Int32Array(preds.buf, 0, n) : new Uint8Array(preds.buf, 0, n));
    return { lossSum, correct };
  }
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  const x = new Int32Array(a.buffer, a.byteOffset, a.length);
  const y = new Int32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
