// Multi-threaded inference in Node: a Piscina pool of workers (workers/predict_worker.ts), each
// with its own WASM core and its own copy of the model rebuilt from the spec. In eval mode every
// sample's forward pass is independent of the others in its batch (BatchNorm uses its running
// statistics, the kernels compute each sample's rows alike whatever the batch size), so the
// outputs are those of one-thread BoundModel.predict, bit for bit. How a call is split into
// tasks and combined is PredictService (src/train/predict_step.ts), which the page's Web Worker
// pool runs too. Its threads are pinned to CPUs of their own as the training pool's are.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { BoundModel } from './model.js';
import type { ModelSpec } from '../nn/spec.js';
import { PredictService, predictInit } from './predict_step.js';
import { pinPlan, type PinMode } from './affinity.js';

export type { EvaluateOptions } from './predict_step.js';

export interface PredictPoolOptions {
  /** worker threads (default: the machine's cores) */
  workers?: number;
  /** pin each worker thread to a CPU of its own (src/train/affinity.ts; default 'auto': when the workers take every CPU) */
  pin?: PinMode;
}

function workerFile(): string {
  for (const rel of ['../../workers/predict_worker.js', '../../dist/workers/predict_worker.js']) {
    const url = new URL(rel, import.meta.url);
    if (existsSync(url)) return fileURLToPath(url);
  }
  throw new Error("the predict worker (dist/workers/predict_worker.js) is missing; run 'npm run build'");
}

export class PredictPool extends PredictService {
  /** A pool for `model`, which must be built from `spec` (the workers rebuild it from the spec). */
  static async create(spec: ModelSpec, model: BoundModel, opts: PredictPoolOptions = {}): Promise<PredictPool> {
    const workers = opts.workers ?? availableParallelism();
    if (!Number.isInteger(workers) || workers < 1) throw new Error(`PredictPool: workers must be an integer >= 1, got ${workers}`);
    const init = predictInit(spec, model);
    const { plan } = pinPlan(opts.pin ?? 'auto', workers);
    const piscina = new Piscina({ filename: workerFile(), minThreads: workers, maxThreads: workers, idleTimeout: 60_000, workerData: { ...init, ...(plan ? { pin: plan } : {}) } });
    const p = new PredictPool(model, { run: (task, name) => piscina.run(task, { name }), destroy: () => piscina.destroy() }, init, workers);
    // without a listener an 'error' event (a worker that fails outside a task) would end the process
    piscina.on('error', (e: Error) => p.fail(e));
    return p;
  }
}
