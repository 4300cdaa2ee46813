// A Web Worker of the browser pools (src/train/web_pool.ts): a module worker that loads the core
// with loadCore({ url }) and runs the same computations as the Piscina workers, GradCompute
// (gradient chunks, the parallel reduce and the evaluation between epochs) or PredictCompute (predict and evaluate), over the
// SharedArrayBuffers it is sent. Protocol: one init message, answered { ready } or { error };
// then tasks { id, name, task }, each answered { id, result } or { id, error } with the error's
// message (a worker that throws keeps serving later tasks). Imports no Node built-ins.
import { loadCore, type Core, type Flavor } from '../src/core/load.js';
import { GradCompute, type WorkerInit } from '../src/train/grad_compute.js';
import { PredictCompute, type PredictInit } from '../src/train/predict_compute.js';

/** The first message a pool sends its worker. */
export type WebWorkerInit = { coreUrl: string; flavor: Flavor } & ({ role: 'grad'; init: WorkerInit } | { role: 'predict'; init: PredictInit });

/** A task: `name` is a method of the role's compute (step/reduce/evaluate, predict/evaluate). */
export interface WebTaskMessage {
  id: number;
  name: string;
  task: unknown;
}

type Handlers = Record<string, (task: never) => unknown>;

interface WorkerScope {
  onmessage: ((e: { data: unknown }) => void) | null;
  postMessage(message: unknown): void;
}

const scope = globalThis as unknown as WorkerScope;
let handlers: Handlers | null = null;

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

async function start(m: WebWorkerInit): Promise<void> {
  try {
    const core: Core = await loadCore({ url: m.coreUrl, flavor: m.flavor });
    if (m.role === 'grad') {
      const c = new GradCompute(m.init, () => core);
      const ev = new PredictCompute(m.init.predict, () => core);
      handlers = { step: (t) => c.step(t), reduce: (t) => c.reduce(t), evaluate: (t) => ev.evaluate(t) };
    } else {
      const c = new PredictCompute(m.init, () => core);
      handlers = { predict: (t) => c.predict(t), evaluate: (t) => c.evaluate(t) };
    }
    scope.postMessage({ ready: true, flavor: core.flavor });
  } catch (e) {
    scope.postMessage({ error: `could not start: ${message(e)}` });
  }
}

function serve(m: WebTaskMessage): void {
  const fn = handlers?.[m.name];
  if (!fn) {
    scope.postMessage({ id: m.id, error: `unknown task '${m.name}'` });
    return;
  }
  try {
    scope.postMessage({ id: m.id, result: fn(m.task as never) });
  } catch (e) {
    scope.postMessage({ id: m.id, error: message(e) });
  }
}

scope.onmessage = (e) => {
  const m = e.data as WebWorkerInit | WebTaskMessage;
  if ('role' in m) void start(m);
  else serve(m);
};
