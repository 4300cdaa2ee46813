// The data-parallel gradient engine: a Piscina pool of workers (workers/grad_worker.ts), each
// with its own WASM instance. Per step the main thread publishes the parameters to shared
// memory, sends one small message per chunk (indices only), then has the workers reduce the
// chunk slots in chunk order, each over a slice of the parameters, with sum_k (the same f32
// sums in the same order as the local engine), so any worker count gives the same bits. A task
// whose worker throws or dies is retried once (Piscina replaces a worker that died); a second
// failure stops training with a clear error.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { Core } from '../core/load.js';
import type { BoundModel, ChunkResult } from './model.js';
import { chunkRanges, type Dataset, type GradEngine, type StepOptions } from './engine.js';
import type { WorkerInit, ChunkTask, ReduceTask } from '../../workers/grad_worker.js';

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

function shared(bytes: number): SharedArrayBuffer {
  return new SharedArrayBuffer(Math.max(4, bytes));
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
  /** retries so far (tests and logs read it) */
  retries = 0;

  constructor(
    core: Core,
    private readonly model: BoundModel,
    data: Dataset,
    private readonly cfg: PoolConfig,
    opts: StepOptions,
    private readonly log: (line: string) => void = () => {},
  ) {
    const P = model.params.size;
    const maxChunks = Math.ceil(cfg.batchSize / cfg.chunkSize);
    // the training set goes to shared memory once; if the caller already made it shared, no copy
    const reusable = data.images.buffer instanceof SharedArrayBuffer && data.images.byteOffset === 0 && data.images.byteLength === data.images.buffer.byteLength;
    const images = reusable ? data.images : copyShared(data.images);
    const labels = new Uint8Array(shared(data.labels.length));
    labels.set(data.labels);
    const init: WorkerInit = {
      flavor: core.flavor,
      images: images.buffer as SharedArrayBuffer,
      labels: labels.buffer as SharedArrayBuffer,
      params: shared(P * 4),
      slots: shared(maxChunks * P * 4),
      reduced: shared(P * 4),
      idx: shared(cfg.batchSize * 4),
      shift: opts.shift,
      fillValue: opts.fillValue,
      seed: opts.seed,
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
  }

  async minibatch(idx: Uint32Array, step: number): Promise<ChunkResult> {
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
    let lossSum = 0;
    let correct = 0;
    for (const r of results) {
      lossSum += r.lossSum;
      correct += r.correct;
    }
    return { lossSum, correct };
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

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}

function copyShared(a: Float32Array): Float32Array {
  const out = new Float32Array(shared(a.length * 4));
  out.set(a);
  return out;
}

/** The trainer's hook (TrainIO.makePoolEngine). */
export async function makePoolEngine(args: {
  core: Core;
  model: BoundModel;
  cfg: { workers: number; chunkSize: number; batchSize: number };
  opts: StepOptions;
  data: Dataset;
  log?: (line: string) => void;
}): Promise<GradEngine> {
  return new PoolEngine(args.core, args.model, args.data, args.cfg, args.opts, args.log ?? ((l) => process.stderr.write(l + '\n')));
}
