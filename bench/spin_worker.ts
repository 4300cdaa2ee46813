// bench:scaling's second busy thread: LeNet chunks of 32 in a loop on its own core until the
// shared flag is set, so that the main thread can time its chunks with two threads computing.
import { parentPort, workerData } from 'node:worker_threads';
import { loadCoreSync } from '../src/core/load.js';
import { fromArrays } from '../src/data/dataset.js';
import { lenet, MNIST_SHAPE } from '../src/nn/lenet.js';
import { BoundModel } from '../src/train/model.js';

const stop = new Int32Array(workerData as SharedArrayBuffer);
const model = new BoundModel(loadCoreSync({ flavor: 'simd' }), lenet(), MNIST_SHAPE);
model.params.init(2);
const data = fromArrays({ x: new Float32Array(32 * 784).map((_, i) => Math.sin(i)), sampleShape: [...MNIST_SHAPE], labels: new Uint8Array(32), classes: 10 });
const idx = Uint32Array.from({ length: 32 }, (_, i) => i);
parentPort!.postMessage('ready');
while (Atomics.load(stop, 0) === 0) model.gradChunk(data, idx, 1, { seed: 1 });
parentPort!.postMessage('done');
