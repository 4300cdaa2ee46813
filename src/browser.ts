// iruka for browsers and bundlers: the Node-free part of the API. Nothing reachable from here
// imports a Node built-in or node-canvas (test/package.test.ts walks the compiled graph), so a
// Vite/esbuild/webpack build of `import ... from 'iruka'` (the package's `browser` condition)
// or of 'iruka/browser' bundles only this. Load the core with `loadCore({ url })` or
// `loadCore({ bytes })`; checkpoints come in as bytes (`decodeSafetensors` + `applyWeights`) and
// go out as bytes (fitWith's env.save, encodeCheckpoint): the same file the Node trainer writes.
// Training runs the trainer's own loop (fitWith), on Web Workers where the page is cross-origin
// isolated (WebGradEngine, WebPredictPool), with the Piscina pool's chunks and bits.
export { loadCore, relaxedSupported, Core, WASM_FILES, type Flavor, type CoreOptions } from './core/load.js';
export { Heap, Buf, type DType } from './core/heap.js';
export * as kernels from './core/kernels/index.js';
export { Tensor, scope, sizeOf, type Shape } from './tensor.js';
export { Tape } from './autograd.js';
export { OPS, OP_LIST, opDef, type OpName, type OpDef } from './ops/table.js';
export { windowOut, geomOut, padFor, type Geom2d } from './ops/shapes.js';
export { Params, gaussian, type InitScheme, type ParamSpec } from './nn/params.js';
export { Conv2d, Linear, MaxPool2d, AvgPool2d, GlobalAvgPool2d, ReLU, LeakyReLU, Sigmoid, Tanh, Flatten, Dropout, Sequential, type Layer, type Ctx, type BatchStat } from './nn/layers.js';
export { BatchNorm, Residual, Concat } from './nn/blocks.js';
export { updateRunningStats } from './nn/batchnorm_stats.js';
export { buildModel, parseModelSpec, withActivation, withInit, specKey, Model, SpecError, MODEL_FORMAT, LAYER_TYPES, type ModelSpec, type LayerSpec } from './nn/spec.js';
export { lenet, LENET_SPEC, MNIST_SHAPE } from './nn/lenet.js';
export { SGD, AdaGrad, RMSProp, Adam, makeOptimizer, lrAt, OPTIMIZERS, type Optimizer, type Schedule } from './optim/index.js';
export { BoundModel, combineStats, type ChunkResult } from './train/model.js';
export { lossOf, LOSSES, type LossSpec } from './train/losses.js';
export { fromArrays, subset, sampleSize, augmentInto, backgroundFill, type Dataset, type Targets, type Augment, type Normalization } from './data/dataset.js';
export { normalizeImages, MNIST_MEAN, MNIST_STD } from './data/normalize.js';
export { fitPreprocess, applyPreprocess, symmetricEigen, preprocessFromTensors, preprocessTensors, describePreprocess, PREPROCESS_KINDS, type Preprocessor, type PreprocessInfo, type PreprocessKind } from './data/preprocess.js';
export { permutation, batches } from './data/batches.js';
export { encodeSafetensors, decodeSafetensors, expectTensor, type SafeTensor, type SafeDType, type TensorIn } from './io/safetensors_codec.js';
export { applyWeights, stateTensors } from './io/weights.js';
export { InputError } from './errors.js';
export { exportOnnx, ONNX_OPSET, ONNX_OPS } from './io/onnx.js';
export { fitWith, TrainLoop, type FitData, type LoopEnv, type LoopOptions, type LoopResult, type EngineContext } from './train/loop.js';
export { FIT_DEFAULTS, OPTION_BOUNDS, TRAJECTORY_KEYS, resolveFitOptions, type FitOptions, type ResolvedOptions } from './train/options.js';
export { LocalEngine, type GradEngine, type StepOptions } from './train/engine.js';
export type { EpochMetrics } from './train/metrics.js';
export { WebGradEngine, WebPredictPool, WebWorkerPool, webWorkersAvailable, type WebPoolOptions } from './train/web_pool.js';
export type { EvaluateOptions } from './train/predict_step.js';
export { encodeCheckpoint, checkpointInfo, checkTensors, type CheckpointMeta, type DataInfo, type BestInfo } from './io/checkpoint_codec.js';
export { parseIdx, parseIdxPrefix, type Idx } from './data/idx_codec.js';
export { mnistFromIdx, MNIST_INFO } from './data/idx_dataset.js';
