// iruka's public API. The core (kernels, tensors, autograd, layers, training, checkpoints)
// never imports node-canvas; the render functions live in 'iruka/render'.
export { loadCore, loadCoreSync, relaxedSupported, Core, WASM_FILES, type Flavor, type CoreOptions } from './core/load.js';
export { Heap, Buf, type DType } from './core/heap.js';
export * as kernels from './core/kernels/index.js';
export { Tensor, scope, sizeOf, type Shape } from './tensor.js';
export { Tape } from './autograd.js';
export { OPS, OP_LIST, opDef, type OpName, type OpDef } from './ops/table.js';
export { windowOut, geomOut, padFor, type Geom2d } from './ops/shapes.js';
export { Params, gaussian, type InitScheme, type ParamSpec } from './nn/params.js';
export { Conv2d, Linear, MaxPool2d, AvgPool2d, ReLU, Sigmoid, Tanh, Flatten, Dropout, Sequential, type Layer, type Ctx } from './nn/layers.js';
export { lenet, MNIST_SHAPE } from './nn/lenet.js';
export { SGD, AdaGrad, RMSProp, Adam, makeOptimizer, lrAt, OPTIMIZERS, type Optimizer, type Schedule } from './optim/index.js';
export { BoundModel } from './train/model.js';
export { train, type TrainConfig, type EpochMetrics } from './train/trainer.js';
export { parseIdx, parseIdxFile, readIdx, MAX_IDX_BYTES } from './data/idx.js';
export { loadMnist, normalizeImages, MNIST_MEAN, MNIST_STD } from './data/mnist.js';
export { permutation, batches } from './data/batches.js';
export { encodeSafetensors, decodeSafetensors, readSafetensors, writeSafetensors, expectTensor, type SafeTensor } from './io/safetensors.js';
export {
  MAX_HEADER_BYTES as SAFETENSORS_MAX_HEADER_BYTES,
  MAX_HEADER_DEPTH as SAFETENSORS_MAX_HEADER_DEPTH,
  MAX_TENSORS as SAFETENSORS_MAX_TENSORS,
  MAX_DIMS as SAFETENSORS_MAX_DIMS,
} from './io/safetensors.js';
export { InputError } from './errors.js';
export { saveCheckpoint, loadCheckpoint, loadWeights } from './io/checkpoint.js';
export { applyWeights } from './io/weights.js';
