// bench:scaling's second busy thread: LeNet chunks of 32 in a loop on its own core while the
// shared flag says run, waiting while it says pause, until it says stop, so that the main thread
// can time its chunks with and without a second thread computing, alternately.
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { loadCoreSync } from '../src/core/load.js';
import { fromArrays } from '../src/data/dataset.js';
import { lenet, MNIST_SHAPE } from '../src/nn/lenet.js';
import { BoundModel } from '../src/train/model.js';

/** The flag's values. */
export const SPIN = { run: 0, stop: 1, pause: 2 } as const;

if (!isMainThread) spin(new Int32Array(workerData as SharedArrayBuffer));

function spin(flag: Int32Array): void {
  const model = new BoundModel(loadCoreSync({ flavor: 'simd' }), lenet(), MNIST_SHAPE);
  model.params.init(2);
  const data = fromArrays({ x: new Float32Array(32 * 784).map((_, i) => Math.sin(i)), sampleShape: [...MNIST_SHAPE], labels: new Uint8Array(32), classes: 10 });
  const idx = Uint32Array.from({ length: 32 }, (_, i) => i);
  parentPort!.postMessage('ready');
  for (let v = Atomics.load(flag, 0); v !== SPIN.stop; v = Atomics.load(flag, 0)) {
    if (v === SPIN.pause) Atomics.wait(flag, 0, SPIN.pause);
    else model.gradChunk(data, idx, 1, { seed: 1 });
  }
  parentPort!.postMessage('done');
}
