// The data-parallel gradient engine in Node: a Piscina pool of workers (workers/grad_worker.ts),
// each with its own WASM instance and its own copy of the model, rebuilt from the spec it is
// sent, each pinned to a CPU of its own where that helps (src/train/affinity.ts). The step itself (publish the parameters, one step task per worker that
// computes its chunks and then its slice of the reduce, the chunk results summed in order) is SharedGradStep (src/train/grad_step.ts), which
// the browser's Web Worker pool runs too, so any pool and worker count give the same bits. A task
// whose worker throws or dies is retried once (Piscina replaces a worker that died); a second
// failure rejects the step's promise with a clear error, and so does a pool that fails.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { Core } from '../core/load.js';
import type { BoundModel, ChunkResult } from './model.js';
import type { GradEngine, StepOptions } from './engine.js';
import type { WorkerMemory } from '../../workers/grad_worker.js';
import type { WorkerInit, ReduceTask, StepTask } from './grad_compute.js';
import { gradInit, poolEvaluator, SharedGradStep, type PoolConfig } from './grad_step.js';
import type { PredictService } from './predict_step.js';
import type { EvalTask } from './predict_compute.js';
import { shared } from './shared_data.js';
import { pinPlan } from './affinity.js';
import type { ModelSpec } from '../nn/spec.js';
import type { Dataset } from '../data/dataset.js';
import type { EngineContext } from './loop.js';

export type { PoolConfig } from './grad_step.js';

function workerFile(): string {
  for (const rel of ['../../workers/grad_worker.js', '../../dist/workers/grad_worker.js']) {
    const url = new URL(rel, import.meta.url);
    if (existsSync(url)) return fileURLToPath(url);
  }
  throw new Error("the gradient worker (dist/workers/grad_worker.js) is missing; run 'npm run build'");
}

/** Faults to inject, for tests: IRUKA_TEST_FAULTS='[{"step":3,"chunk":1,"mode":"exit","times":1}]'. */
function faultsFromEnv(): WorkerInit['faults'] {
  const raw = process.env.IRUKA_TEST_FAULTS;
  if (!raw) return undefined;
  const list = JSON.parse(raw) as Omit<NonNullable<WorkerInit['faults']>[number], 'counter'>[];
  return list.map((f) => ({ ...f, counter: shared(4) }));
}

export class PoolEngine implements GradEngine {
  private readonly pool: Piscina;
  private readonly stepper: SharedGradStep;
  private readonly evaluator: PredictService;
  /** a failure of the pool itself (a worker that could not start): every later step rejects with it */
  private failure: Error | null = null;
  /** retries so far (tests and logs read it) */
  retries = 0;
  /** how the worker threads are placed, in words (src/train/affinity.ts) */
  readonly pinning: string;

  constructor(
    core: Core,
    model: BoundModel,
    spec: ModelSpec,
    data: Dataset,
    private readonly cfg: PoolConfig,
    opts: StepOptions,
    private readonly log: (line: string) => void = () => {},
  ) {
    const { plan, why } = pinPlan(cfg.pin ?? 'auto', cfg.workers);
    this.pinning = plan ? `pinned, ${why}` : `not pinned (${why})`;
    const init: WorkerInit = { ...gradInit(core, model, spec, data, cfg, opts), faults: faultsFromEnv(), ...(plan ? { pin: plan } : {}) };
    this.stepper = new SharedGradStep(model, cfg, init);
    this.evaluator = poolEvaluator(model, init, cfg.workers, (task, name, what) => this.run(task, name, what));
    this.pool = new Piscina({
      filename: workerFile(),
      minThreads: cfg.workers,
      maxThreads: cfg.workers,
      idleTimeout: 60_000,
      workerData: init,
    });
    // without a listener an 'error' event (a worker that fails outside a task) would end the process
    this.pool.on('error', (e: Error) => {
      this.failure ??= e;
    });
  }

  async minibatch(idx: Uint32Array, step: number): Promise<ChunkResult> {
    if (this.failure) throw new Error(`the worker pool failed: ${this.failure.message}`);
    return this.stepper.minibatch(idx, step, (task, name, what) => this.run(task, name, what));
  }

  evaluate(test: Dataset, batch: number, onBatch: (done: number) => void): Promise<ChunkResult> {
    if (this.failure) return Promise.reject(new Error(`the worker pool failed: ${this.failure.message}`));
    return this.evaluator.evaluate(test, { batch, onBatch });
  }

  /** Runs a task; a failure (the worker threw or died) is retried once. */
  private async run<R>(task: StepTask | ReduceTask | EvalTask, name: 'step' | 'reduce' | 'evaluate', what: string): Promise<R> {
    try {
      return await this.pool.run(task, { name });
    } catch (first) {
      this.retries++;
      this.log(`worker failed on ${what} (${(first as Error).message}); retrying it`);
      try {
        return await this.pool.run(task, { name });
      } catch (second) {
        throw new Error(`${what} failed twice (${(second as Error).message}); stopping`);
      }
    }
  }

  /** Each worker thread's memory (for the soak): a round of `memory` tasks, one per thread where the pool spreads them (deduplicated by thread). */
  async workerMemory(): Promise<WorkerMemory[]> {
    const round = await Promise.all(Array.from({ length: this.cfg.workers }, () => this.pool.run({ holdMs: 25 }, { name: 'memory' }) as Promise<WorkerMemory>));
    return [...new Map(round.map((m) => [m.threadId, m])).values()];
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}

/** The trainer's hook: a pool engine for a model built from `spec`. */
export async function makePoolEngine(args: Omit<EngineContext, 'log' | 'warn'> & { log?: (line: string) => void }): Promise<PoolEngine> {
  return new PoolEngine(args.core, args.model, args.spec, args.data, args.cfg, args.opts, args.log ?? ((l) => process.stderr.write(l + '\n')));
}
