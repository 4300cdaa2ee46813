// bench:compare's second inference thread: a worker thread with its own core and LeNet that
// predicts the half of a batch it is sent. Bench-only: the library's predict is one thread.
import '../src/cli/relaxed_simd.js';
import { parentPort, workerData } from 'node:worker_threads';
import { loadCoreSync, type Flavor } from '../src/core/load.js';
import { readSafetensors } from '../src/io/safetensors.js';
import { applyWeights } from '../src/io/weights.js';
import { lenet, MNIST_SHAPE } from '../src/nn/lenet.js';
import { BoundModel } from '../src/train/model.js';

const { ref, flavor } = workerData as { ref: string; flavor: Flavor };
const model = new BoundModel(loadCoreSync({ flavor }), lenet(), MNIST_SHAPE);
applyWeights(readSafetensors(ref).tensors, model.params, ref);

parentPort!.on('message', ({ x, n }: { x: Float32Array; n: number }) => {
  const out = model.predict(x, n);
  parentPort!.postMessage(out, [out.buffer as ArrayBuffer]);
});
parentPort!.postMessage('ready');
