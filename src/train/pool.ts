// The data-parallel gradient engine: a Piscina pool of workers (workers/grad_worker.ts), each
// with its own WASM instance and its own copy of the model, rebuilt from the spec it is sent. Per step the main thread publishes the parameters to shared
// memory, sends one small message per chunk (indices only), then has the workers reduce the
// chunk slots in chunk order, each over a slice of the parameters, with sum_k (the same f32
// sums in the same order as the local engine), so any worker count gives the same bits. A task
// whose worker throws or dies is retried once (Piscina replaces a worker that died); a second
// failure rejects the step's promise with a clear error, and so does a pool that fails.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { Core } from '../core/load.js';
import type { BoundModel, ChunkResult } from './model.js';
import { chunkRanges, sumChunks, type GradEngine, type StepOptions } from './engine.js';
import type { WorkerInit, ChunkTask, ReduceTask, WorkerMemory } from '../../workers/grad_worker.js';
import { asShared, shared, sharedTargets } from './shared_data.js';
import type { ModelSpec } from '../nn/spec.js';
import type { Dataset } from '../data/dataset.js';

export interface PoolConfig {
  workers: number;
  chunkSize: number;
  batchSize: number;
}

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
  private readonly params: Float32Array;
  private readonly idx: Uint32Array;
  private readonly reduced: Float32Array;
  private version = 0;
  /** a failure of the pool itself (a worker that could not start): every later step rejects with it */
  private failure: Error | null = null;
  /** retries so far (tests and logs read it) */
  retries = 0;

  constructor(
    core: Core,
    private readonly model: BoundModel,
    spec: ModelSpec,
    data: Dataset,
    private readonly cfg: PoolConfig,
    opts: StepOptions,
    private readonly log: (line: string) => void = () => {},
  ) {
    const P = model.params.size;
    const maxChunks = Math.ceil(cfg.batchSize / cfg.chunkSize);
    const init: WorkerInit = {
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
      seed: opts.seed,
      augment: opts.augment,
      fill: opts.fill,
      faults: faultsFromEnv(),
    };
    this.params = new Float32Array(init.params);
    this.idx = new Uint32Array(init.idx);
    this.reduced = new Float32Array(init.reduced);
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
    if (idx.length > this.idx.length) throw new Error(`minibatch of ${idx.length} exceeds the pool's batch size ${this.idx.length}`);
    this.idx.set(idx);
    this.params.set(this.model.params.data.view());
    this.version++;
    const ranges = chunkRanges(idx.length, this.cfg.chunkSize);
    const results = await Promise.all(
      ranges.map(([start, end], k) =>
        this.run<ChunkResult>({ step, k, start, end, batch: idx.length, version: this.version }, 'grad', `step ${step}, chunk ${k}`),
      ),
    );
    // reduce the slots in parallel: each worker sums one slice of the parameters in chunk order
    const P = this.model.params.size;
    const K = ranges.length;
    const slice = Math.ceil(P / this.cfg.workers / 16) * 16;
    const parts: Promise<void>[] = [];
    for (let lo = 0; lo < P; lo += slice) {
      parts.push(this.run({ k: K, lo, hi: Math.min(P, lo + slice) }, 'reduce', `reducing step ${step}`));
    }
    await Promise.all(parts);
    this.model.params.grad.view().set(this.reduced);
    return sumChunks(results.map((r, k) => ({ ...r, n: ranges[k][1] - ranges[k][0] })), idx.length);
  }

  /** Runs a task; a failure (the worker threw or died) is retried once. */
  private async run<R>(task: ChunkTask | ReduceTask, name: 'grad' | 'reduce', what: string): Promise<R> {
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
export async function makePoolEngine(args: {
  core: Core;
  model: BoundModel;
  spec: ModelSpec;
  cfg: { workers: number; chunkSize: number; batchSize: number };
  opts: StepOptions;
  data: Dataset;
  log?: (line: string) => void;
}): Promise<GradEngine> {
  return new PoolEngine(args.core, args.model, args.spec, args.data, args.cfg, args.opts, args.log ?? ((l) => process.stderr.write(l + '\n')));
}
