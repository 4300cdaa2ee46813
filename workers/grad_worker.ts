// Piscina worker: the transport of the gradient computation in src/train/grad_compute.ts (the
// Web Worker pool runs the same GradCompute). This file adds what is Piscina's: the init comes
// as workerData, the thread pins itself to its CPU when the pool asks (src/train/affinity.ts),
// the core is loaded synchronously (once: the evaluation between epochs, PredictCompute, shares
// it), faults are injected on request (tests), and a memory report for the soak.
import { workerData } from 'piscina';
import { threadId } from 'node:worker_threads';
import { loadCoreSync } from '../src/core/load.js';
import { pinThisThread } from '../src/train/affinity.js';
import { GradCompute, type WorkerInit, type ChunkTask, type ReduceTask, type StepTask, type StepResult } from '../src/train/grad_compute.js';
import { PredictCompute, type EvalTask } from '../src/train/predict_compute.js';
import type { Core } from '../src/core/load.js';

export type { SharedTargets } from '../src/train/shared_data.js';
export type { WorkerInit, ChunkTask, ReduceTask, StepTask, StepResult } from '../src/train/grad_compute.js';

const init = workerData as WorkerInit;
// before the first task: a thread pinned later would already have run where the kernel put it
if (init.pin) pinThisThread(init.pin);
let core: Core | null = null;
const coreOnce = (): Core => (core ??= loadCoreSync({ flavor: init.flavor }));
const compute = new GradCompute(init, coreOnce);
const evaluator = new PredictCompute(init.predict, coreOnce);

export default step;

/** A step task: the chunks, then the task's reduce slice with the others (see GradCompute.step), after an injected fault when one is due. */
export function step(task: StepTask): StepResult {
  injectFaults(task);
  return compute.step(task);
}

/** Fails on purpose where the pool's test hook asks (IRUKA_TEST_FAULTS, src/train/pool.ts). */
function injectFaults(task: ChunkTask): void {
  for (const f of init.faults ?? []) {
    if (f.step === task.step && f.chunk >= task.first && f.chunk < task.last && Atomics.add(new Int32Array(f.counter), 0, 1) < f.times) {
      if (f.mode === 'exit') process.exit(3); // ends this worker thread, as a crash would
      throw new Error(`injected fault at step ${task.step}, chunk ${f.chunk}`);
    }
  }
}

/** Reduces a slice of the parameters over the chunk slots (see GradCompute.reduce). */
export function reduce(task: ReduceTask): void {
  compute.reduce(task);
}

/** Loss sum and correct count of one evaluation batch (the test set between epochs). */
export function evaluate(task: EvalTask): { lossSum: number; correct: number } {
  return evaluator.evaluate(task);
}

/** One thread's memory, for the soak: its JS heap (after a collection when --expose-gc is on) and its WASM heap. */
export interface WorkerMemory {
  threadId: number;
  heapUsed: number;
  wasmBytes: number;
  wasmLive: number;
}

/**
 * Reports this thread's memory. It holds the thread for `holdMs` so that the pool hands the
 * next of a round of these tasks to another thread (Piscina picks threads, not the caller).
 */
export function memory(task: { holdMs: number }): WorkerMemory {
  (globalThis as { gc?: () => void }).gc?.();
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, task.holdMs);
  const core = compute.loadedCore;
  return { threadId, heapUsed: process.memoryUsage().heapUsed, wasmBytes: core ? core.memory.buffer.byteLength : 0, wasmLive: core ? core.heap.liveBytes : 0 };
}
