// What a predict worker computes, whatever carries its messages (a Piscina thread in Node,
// workers/predict_worker.ts; a Web Worker in a page, workers/web_worker.ts): it rebuilds the
// model from the spec on its first task, then runs forward passes in eval mode over the part of
// a batch (or the test-set batch) it is sent. Weights and BatchNorm buffers come through shared
// memory and are reloaded only when the task's version differs from the loaded one; inputs and
// outputs are shared too, so a task carries offsets, not arrays.
import type { Core, Flavor } from '../core/load.js';
import { buildModel, type ModelSpec } from '../nn/spec.js';
import { BoundModel } from './model.js';
import type { LossSpec } from './losses.js';
import { datasetOf, type SharedDataset } from './shared_data.js';
import type { Dataset } from '../data/dataset.js';
import { sizeOf } from '../tensor.js';

export interface PredictInit {
  flavor: Flavor;
  spec: ModelSpec;
  loss: LossSpec;
  params: SharedArrayBuffer; // f32, the trainable parameters
  buffers: SharedArrayBuffer; // f32, the non-trainable buffers (BatchNorm running statistics)
  /** floats in params and in buffers */
  sizes: { params: number; buffers: number };
}

/** Outputs of samples [start, end) of the shared input. */
export interface PredictTask {
  version: number;
  input: SharedArrayBuffer;
  output: SharedArrayBuffer;
  start: number;
  end: number;
}

/** Loss sum and correct count of examples [start, end) of a shared dataset: one evaluation batch. */
export interface EvalTask {
  version: number;
  data: SharedDataset;
  /** caches the rebuilt Dataset across the tasks of one evaluate call */
  dataId: number;
  start: number;
  end: number;
  /** u8 or i32 predictions, one per example of the dataset */
  preds?: { buf: SharedArrayBuffer; int32: boolean };
}

/** One worker's inference state. */
export class PredictCompute {
  private model: BoundModel | null = null;
  private version = -1;
  private cached: { id: number; data: Dataset } | null = null;

  constructor(
    private readonly init: PredictInit,
    private readonly core: () => Core,
  ) {}

  private ready(taskVersion: number): BoundModel {
    const { init } = this;
    if (!this.model) {
      const net = buildModel(init.spec);
      const model = new BoundModel(this.core(), net, net.inputShape, init.loss);
      const { params, buffers } = init.sizes;
      if (model.params.size !== params || model.params.bufferSize !== buffers) {
        const got = `${model.params.size} parameters and ${model.params.bufferSize} buffer floats`;
        model.free();
        throw new Error(`predict worker: shared parameters hold ${params} parameters and ${buffers} buffer floats, the model built from the spec has ${got}`);
      }
      this.model = model;
    }
    const model = this.model;
    if (taskVersion !== this.version) {
      model.params.data.view().set(new Float32Array(init.params, 0, model.params.size));
      model.params.buffers?.view().set(new Float32Array(init.buffers, 0, model.params.bufferSize));
      this.version = taskVersion;
    }
    return model;
  }

  predict(task: PredictTask): void {
    const m = this.ready(task.version);
    const size = m.sampleSize;
    const per = m.classes;
    const n = task.end - task.start;
    const out = m.predict(new Float32Array(task.input, task.start * size * 4, n * size), n);
    new Float32Array(task.output, task.start * per * 4, n * per).set(out);
  }

  evaluate(task: EvalTask): { lossSum: number; correct: number } {
    const m = this.ready(task.version);
    if (this.cached?.id !== task.dataId) this.cached = { id: task.dataId, data: datasetOf(task.data, m.sampleShape) };
    const { data } = this.cached;
    const n = task.end - task.start;
    const part = sliceOf(data, task.start, n, m.sampleSize);
    const preds = task.preds ? (task.preds.int32 ? new Int32Array(task.preds.buf, task.start * 4, n) : new Uint8Array(task.preds.buf, task.start, n)) : undefined;
    return m.evaluate(part, n, n, preds);
  }
}

/** Examples [start, start + n) of a dataset as a dataset of their own (views, no copies). */
function sliceOf(d: Dataset, start: number, n: number, size: number): Dataset {
  const t = d.targets;
  const targets =
    t.kind === 'labels'
      ? { ...t, data: t.data.subarray(start, start + n) }
      : t.kind === 'tensor'
        ? { ...t, data: t.data.subarray(start * sizeOf(t.shape), (start + n) * sizeOf(t.shape)) }
        : t;
  return { ...d, n, x: d.x.subarray(start * size, (start + n) * size), targets };
}
