// Piscina worker for PredictPool (src/train/predict_pool.ts): the transport of the inference in
// src/train/predict_compute.ts (the Web Worker pool runs the same PredictCompute); the init
// comes as workerData, the thread pins itself when the pool asks (src/train/affinity.ts) and the
// core is loaded synchronously.
import { workerData } from 'piscina';
import { loadCoreSync } from '../src/core/load.js';
import { pinThisThread, type PinPlan } from '../src/train/affinity.js';
import { PredictCompute, type PredictInit, type PredictTask, type EvalTask } from '../src/train/predict_compute.js';

export type { PredictInit, PredictTask, EvalTask } from '../src/train/predict_compute.js';

const init = workerData as PredictInit & { pin?: PinPlan };
if (init.pin) pinThisThread(init.pin);
const compute = new PredictCompute(init, () => loadCoreSync({ flavor: init.flavor }));

export default predict;

export function predict(task: PredictTask): void {
  compute.predict(task);
}

export function evaluate(task: EvalTask): { lossSum: number; correct: number } {
  return compute.evaluate(task);
}
