// What the training benchmarks time: SGD steps of the reference LeNet (momentum 0.9, weight
// decay 5e-4, lr 0.01) over a fixed permutation of `data`, through this thread's engine (1
// worker) or the Piscina pool, and the images/s of a step over a window.
import type { Core } from '../src/core/load.js';
import type { Dataset } from '../src/data/dataset.js';
import { permutation } from '../src/data/batches.js';
import { lenet, LENET_SPEC, MNIST_SHAPE } from '../src/nn/lenet.js';
import { BoundModel } from '../src/train/model.js';
import { LocalEngine, type GradEngine, type StepOptions } from '../src/train/engine.js';
import { PoolEngine } from '../src/train/pool.js';
import { makeOptimizer } from '../src/optim/index.js';

export interface LenetSteps {
  /** one optimizer step on the next minibatch */
  next: () => Promise<void>;
  close: () => Promise<void>;
}

export function lenetSteps(core: Core, data: Dataset, cfg: { batch: number; workers: number; chunk: number; fill?: number[] }): LenetSteps {
  const { batch, workers, chunk } = cfg;
  const model = new BoundModel(core, lenet(), MNIST_SHAPE);
  model.params.init(1);
  const opt = makeOptimizer(core, model.params.data, model.params.grad, { name: 'sgd', momentum: 0.9, weightDecay: 5e-4 });
  const opts: StepOptions = { augment: {}, fill: cfg.fill ?? [0], seed: 1 };
  const engine: GradEngine = workers === 1 ? new LocalEngine(model, data, chunk, opts) : new PoolEngine(core, model, LENET_SPEC, data, { workers, chunkSize: chunk, batchSize: batch }, opts);
  const perm = permutation(data.n, 1, 0);
  let step = 0;
  return {
    next: async () => {
      const start = (step * batch) % (data.n - batch);
      await engine.minibatch(perm.subarray(start, start + batch), step);
      opt.step(0.01);
      step++;
    },
    close: async () => {
      await engine.close();
      opt.free();
      model.free();
    },
  };
}

/** images/s of `step` (which handles `batch` images) over about `ms` milliseconds. */
export async function imagesPerSecond(step: () => Promise<void> | void, batch: number, ms: number): Promise<number> {
  const t0 = performance.now();
  let images = 0;
  while (performance.now() - t0 < ms) {
    await step();
    images += batch;
  }
  return images / ((performance.now() - t0) / 1000);
}
