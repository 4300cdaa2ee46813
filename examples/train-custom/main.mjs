#!/usr/bin/env node
// Training a network of your own on the worker pool, through the public API only.
//
//   node examples/train-custom/main.mjs [--workers N] [--epochs N] [--out DIR]
//
// The model is a plain JSON value (a spec): the trainer, every worker of the pool and the
// checkpoint all rebuild it from that value. This one has a strided conv, BatchNorm, a residual
// block and max pooling; the data are the first 2,000 MNIST digits as an in-memory
// dataset, the way an app would hand over its own arrays.
import { parseArgs } from 'node:util';
import { enableRelaxedSimd, fit, fromArrays, loadMnist, normalizeImages, loadModel, loadCoreSync } from 'iruka';

enableRelaxedSimd(); // Node 20: the relaxed-SIMD build (a no-op where it is already on)
const { values } = parseArgs({ options: { workers: { type: 'string', default: '2' }, epochs: { type: 'string', default: '3' }, out: { type: 'string' } } });

const spec = {
  name: 'tiny_resnet',
  input: [1, 28, 28],
  init: 'he',
  layers: [
    { type: 'conv2d', name: 'stem', filters: 16, kernel: 3, stride: 2, padding: 1 }, // 14x14
    { type: 'batchnorm', name: 'stem_bn' },
    { type: 'relu' },
    { type: 'residual', name: 'block', body: [
      { type: 'conv2d', name: 'conv', filters: 16, kernel: 3, padding: 'same' },
      { type: 'batchnorm', name: 'bn' },
    ] },
    { type: 'relu' },
    { type: 'maxpool2d', kernel: 2 }, // 7x7
    { type: 'flatten' },
    { type: 'linear', name: 'head', units: 10 },
  ],
};

// any Float32Array of normalised samples and their labels will do; here: MNIST's first digits
const { train, test } = loadMnist({ limitTrain: 2000, limitTest: 500 });
const asDataset = (split, name) => fromArrays({ name, x: normalizeImages(split.images), sampleShape: [1, 28, 28], labels: split.labels, classes: 10 });

const result = await fit(spec, { train: asDataset(train, 'digits'), test: asDataset(test, 'digits-test') }, {
  epochs: Number(values.epochs),
  workers: Number(values.workers), // gradient workers; the result is the same for any count
  optimizer: 'sgd', // with Nesterov momentum, a cosine schedule and weight decay: fit()'s defaults
  out: values.out, // checkpoint.safetensors + metrics.jsonl (nothing written without it)
  onEpoch: (m) => console.log(`epoch ${m.epoch}: train loss ${m.train_loss.toFixed(4)}, test accuracy ${m.test_acc.toFixed(4)}`),
});
console.log(`test accuracy ${result.testAcc.toFixed(4)} after ${result.metrics.length} epochs on ${values.workers} workers`);

// the checkpoint alone rebuilds the network (its spec is inside) and predicts the same logits
if (result.checkpoint) {
  const { model } = loadModel(result.checkpoint, loadCoreSync({ flavor: result.model.core.flavor }));
  const x = normalizeImages(test.images.subarray(0, 784));
  const same = model.predict(x, 1).every((v, i) => v === result.model.predict(x, 1)[i]);
  console.log(`reloaded from ${result.checkpoint}: ${same ? 'same logits' : 'DIFFERENT logits'}`);
  model.free();
}
result.model.free();
