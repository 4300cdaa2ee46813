// The browser's worker pools: `new Worker(url, { type: 'module' })` workers
// (workers/web_worker.ts), each loading the core with loadCore({ url }) and rebuilding the model
// from the spec. WebGradEngine is a GradEngine with exactly the Piscina pool's chunks, seeds and
// reduction (it runs the same SharedGradStep, and its workers the same GradCompute), so a page
// trains to the bits of Node for any worker count; WebPredictPool is PredictPool's split
// (PredictService, PredictCompute). They need SharedArrayBuffer, i.e. a cross-origin isolated
// page (COOP same-origin + COEP require-corp); webWorkersAvailable() says whether it is. A task
// that throws in a worker, or a worker that fails, rejects the step's (or call's) promise with
// a message naming the task; there are no retries (a page's worker does not crash alone).
import type { Core } from '../core/load.js';
import type { BoundModel, ChunkResult } from './model.js';
import type { GradEngine } from './engine.js';
import type { ModelSpec } from '../nn/spec.js';
import { gradInit, poolEvaluator, SharedGradStep } from './grad_step.js';
import { PredictService, predictInit } from './predict_step.js';
import type { EngineContext } from './loop.js';
import type { WebWorkerInit } from '../../workers/web_worker.js';
import type { WorkerInit } from './grad_compute.js';
import type { Dataset } from '../data/dataset.js';

export interface WebPoolOptions {
  /** worker count (default navigator.hardwareConcurrency) */
  workers?: number;
  /** the core's folder (or .wasm) URL, as given to loadCore({ url }) in the page */
  coreUrl: string | URL;
  /** the worker script (default: the package's dist/workers/web_worker.js beside this module) */
  workerUrl?: string | URL;
}

/** Whether this page can run the worker pools: SharedArrayBuffer exists and the page is cross-origin isolated. */
export function webWorkersAvailable(): { ok: boolean; why?: string } {
  const g = globalThis as { crossOriginIsolated?: boolean; SharedArrayBuffer?: unknown; Worker?: unknown };
  if (typeof g.Worker !== 'function') return { ok: false, why: 'this environment has no Web Workers' };
  if (g.crossOriginIsolated === false || typeof g.SharedArrayBuffer !== 'function') {
    return { ok: false, why: 'the page is not cross-origin isolated (it needs the headers Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp), so there is no SharedArrayBuffer' };
  }
  return { ok: true };
}

function defaultWorkers(): number {
  const n = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  return n && n > 0 ? n : 2;
}

interface Pending {
  ok: (v: unknown) => void;
  fail: (e: Error) => void;
  what: string;
}

interface Slot {
  worker: Worker;
  busy: Pending & { id: number } | null;
}

/** N module workers, one task at a time each, tasks handed to the first idle worker in order. */
export class WebWorkerPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Array<Pending & { id: number; name: string; task: unknown }> = [];
  private nextId = 0;
  private failure: Error | null = null;
  private closed = false;

  private constructor() {}

  /** Starts `workers` workers with `init`; resolves when every one has loaded the core. */
  static async start(workers: number, workerUrl: string | URL, init: WebWorkerInit): Promise<WebWorkerPool> {
    if (!Number.isInteger(workers) || workers < 1) throw new Error(`web worker pool: workers must be an integer >= 1, got ${workers}`);
    const check = webWorkersAvailable();
    if (!check.ok) throw new Error(`web worker pool: ${check.why}`);
    const pool = new WebWorkerPool();
    const ready: Promise<void>[] = [];
    for (let i = 0; i < workers; i++) {
      const worker = new Worker(workerUrl, { type: 'module', name: `iruka-${init.role}-${i}` });
      const slot: Slot = { worker, busy: null };
      pool.slots.push(slot);
      ready.push(
        new Promise<void>((ok, fail) => {
          worker.onmessage = (e: MessageEvent) => {
            const m = e.data as { ready?: boolean; error?: string };
            if (m.ready) {
              worker.onmessage = (ev: MessageEvent) => pool.answer(slot, ev.data as { id: number; result?: unknown; error?: string });
              ok();
            } else fail(new Error(`web worker ${i} ${m.error ?? 'sent an unexpected first message'}`));
          };
          worker.onerror = (e: ErrorEvent) => {
            const err = new Error(`web worker ${i} failed: ${e.message || `an uncaught error, or its script ${workerUrl} could not be loaded`}`);
            e.preventDefault();
            pool.fail(err);
            fail(err);
          };
        }),
      );
      worker.postMessage(init);
    }
    try {
      await Promise.all(ready);
    } catch (e) {
      pool.terminate();
      throw e;
    }
    return pool;
  }

  /** Runs a task on the next idle worker; `what` names it in errors. */
  run<R>(task: unknown, name: string, what = name): Promise<R> {
    if (this.closed) return Promise.reject(new Error('web worker pool: the pool is closed'));
    if (this.failure) return Promise.reject(new Error(`${what}: the web worker pool failed: ${this.failure.message}`));
    return new Promise<R>((ok, fail) => {
      this.queue.push({ id: this.nextId++, name, task, ok: ok as (v: unknown) => void, fail, what });
      this.dispatch();
    });
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.busy || this.queue.length === 0) continue;
      const job = this.queue.shift()!;
      slot.busy = job;
      slot.worker.postMessage({ id: job.id, name: job.name, task: job.task });
    }
  }

  private answer(slot: Slot, m: { id: number; result?: unknown; error?: string }): void {
    const job = slot.busy;
    if (!job || job.id !== m.id) return;
    slot.busy = null;
    if (m.error !== undefined) job.fail(new Error(`${job.what} failed in a web worker: ${m.error}`));
    else job.ok(m.result);
    this.dispatch();
  }

  /** A worker failed outside a task's own error handling: its task and every queued one reject. */
  private fail(e: Error): void {
    this.failure ??= e;
    for (const slot of this.slots) {
      slot.busy?.fail(new Error(`${slot.busy.what}: ${e.message}`));
      slot.busy = null;
    }
    for (const job of this.queue.splice(0)) job.fail(new Error(`${job.what}: ${e.message}`));
  }

  private terminate(): void {
    for (const slot of this.slots) slot.worker.terminate();
  }

  /** Ends the workers; tasks still running reject. */
  async destroy(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.fail(new Error('the pool was closed'));
    this.terminate();
  }
}

function workerUrlOf(opts: WebPoolOptions): string | URL {
  return opts.workerUrl ?? new URL('../../workers/web_worker.js', import.meta.url);
}

/** The core's URL made absolute: a worker resolves relative URLs against its own script. */
function coreUrlOf(opts: WebPoolOptions): string {
  const base = (globalThis as { location?: { href: string } }).location?.href;
  return new URL(String(opts.coreUrl), base).href;
}

/** The gradient engine of a page: the Piscina pool's step over Web Workers. */
export class WebGradEngine implements GradEngine {
  private readonly evaluator: PredictService;

  private constructor(
    private readonly pool: WebWorkerPool,
    private readonly stepper: SharedGradStep,
    readonly workers: number,
    model: BoundModel,
    init: WorkerInit,
  ) {
    this.evaluator = poolEvaluator(model, init, workers, (task, name, what) => this.pool.run(task, name, what));
  }

  /** An engine for the loop's context (fitWith's env.engine: `(ctx) => WebGradEngine.create(ctx, { coreUrl })`). */
  static async create(ctx: Pick<EngineContext, 'core' | 'model' | 'spec' | 'cfg' | 'opts' | 'data'>, opts: WebPoolOptions): Promise<WebGradEngine> {
    const workers = ctx.cfg.workers;
    const init = gradInit(ctx.core, ctx.model, ctx.spec, ctx.data, ctx.cfg, ctx.opts);
    const pool = await WebWorkerPool.start(workers, workerUrlOf(opts), { role: 'grad', init, coreUrl: coreUrlOf(opts), flavor: ctx.core.flavor });
    return new WebGradEngine(pool, new SharedGradStep(ctx.model, ctx.cfg, init), workers, ctx.model, init);
  }

  minibatch(idx: Uint32Array, step: number): Promise<ChunkResult> {
    return this.stepper.minibatch(idx, step, (task, name, what) => this.pool.run(task, name, what));
  }

  /** The test set on the workers between epochs, to the bits of model.evaluate. */
  evaluate(test: Dataset, batch: number, onBatch: (done: number) => void): Promise<ChunkResult> {
    return this.evaluator.evaluate(test, { batch, onBatch });
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }
}

/** Multi-worker predict and evaluate in a page, to the bits of BoundModel.predict/evaluate. */
export class WebPredictPool extends PredictService {
  /** A pool for `model`, which must be built from `spec` (the workers rebuild it from the spec). */
  static async create(spec: ModelSpec, model: BoundModel, opts: WebPoolOptions): Promise<WebPredictPool> {
    const workers = opts.workers ?? defaultWorkers();
    const init = predictInit(spec, model);
    const core: Core = model.core;
    const pool = await WebWorkerPool.start(workers, workerUrlOf(opts), { role: 'predict', init, coreUrl: coreUrlOf(opts), flavor: core.flavor });
    const p = new WebPredictPool(model, { run: (task, name) => pool.run(task, name), destroy: () => pool.destroy() }, init, workers);
    return p;
  }
}
