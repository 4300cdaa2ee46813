// iruka's public API for Node. The core (kernels, tensors, autograd, layers, training,
// checkpoints) never imports node-canvas; the render functions live in 'iruka/render'.
// Browsers and bundlers get src/browser.ts instead (the Node-free part of this list).
export { loadCore, loadCoreSync, relaxedSupported, Core, WASM_FILES, type Flavor, type CoreOptions } from './core/load.js';
export { enableRelaxedSimd } from './relaxed_simd.js';
export { Heap, Buf, type DType } from './core/heap.js';
export * as kernels from './core/kernels/index.js';
export { Tensor, scope, sizeOf, type Shape } from './tensor.js';
export { Tape } from './autograd.js';
export { OPS, OP_LIST, opDef, type OpName, type OpDef, type BatchnormAttrs, type DropoutAttrs, type LeakyReluAttrs } from './ops/table.js';
export { windowOut, geomOut, padFor, type Geom2d } from './ops/shapes.js';
export { Params, gaussian, type InitScheme, type ParamSpec } from './nn/params.js';
export { Conv2d, Linear, MaxPool2d, AvgPool2d, GlobalAvgPool2d, ReLU, LeakyReLU, Sigmoid, Tanh, Flatten, Dropout, Sequential, type Layer, type Ctx, type BatchStat, type Pair, type Padding } from './nn/layers.js';
export { BatchNorm, Residual, Concat } from './nn/blocks.js';
export { updateRunningStats } from './nn/batchnorm_stats.js';
export { summaryTable, type SummaryRow } from './nn/sequential.js';
export { buildModel, parseModelSpec, withActivation, withInit, specKey, Model, SpecError, MODEL_FORMAT, LAYER_TYPES, type ModelSpec, type LayerSpec, type LayerType, type Activation } from './nn/spec.js';
export { shippedSpec, modelsDir, SHIPPED_MODELS } from './nn/zoo.js';
export { lenet, LENET_SPEC, MNIST_SHAPE } from './nn/lenet.js';
export { SGD, AdaGrad, RMSProp, Adam, makeOptimizer, lrAt, OPTIMIZERS, type Optimizer, type Schedule } from './optim/index.js';
export { BoundModel, type ChunkResult, type Net } from './train/model.js';
export { PredictPool, type PredictPoolOptions, type EvaluateOptions } from './train/predict_pool.js';
export { fit, type FitData, type FitResult } from './train/fit.js';
export { fitWith, TrainLoop, type LoopEnv, type LoopOptions, type LoopResult, type EngineContext } from './train/loop.js';
export { LocalEngine, type GradEngine, type StepOptions } from './train/engine.js';
export { WebGradEngine, WebPredictPool, WebWorkerPool, webWorkersAvailable, type WebPoolOptions } from './train/web_pool.js';
export { FIT_DEFAULTS, OPTION_BOUNDS, TRAJECTORY_KEYS, resolveFitOptions, OptionsError, type FitOptions } from './train/options.js';
export { lossOf, LOSSES, type Loss, type LossSpec, type LossType } from './train/losses.js';
export type { EpochMetrics } from './train/metrics.js';
export { parseIdx, parseIdxFile, parseIdxPrefix, readIdx, MAX_IDX_BYTES } from './data/idx.js';
export { mnistFromIdx, MNIST_INFO } from './data/idx_dataset.js';
export { loadMnist, normalizeImages, MNIST_MEAN, MNIST_STD } from './data/mnist.js';
export { fitPreprocess, applyPreprocess, symmetricEigen, preprocessFromTensors, preprocessTensors, describePreprocess, PREPROCESS_KINDS, type Preprocessor, type PreprocessInfo, type PreprocessKind } from './data/preprocess.js';
export { permutation, batches } from './data/batches.js';
export { fromArrays, subset, toShared, sampleSize, channelCount, augmentInto, backgroundFill, type Dataset, type Targets, type Normalization, type Augment, type FromArraysOptions } from './data/dataset.js';
export { loadDataset, DATASET_NAMES, type DatasetName, type LoadOptions, type LoadedDataset } from './data/datasets.js';
export { encodeSafetensors, decodeSafetensors, readSafetensors, writeSafetensors, expectTensor, type SafeTensor } from './io/safetensors.js';
export {
  MAX_HEADER_BYTES as SAFETENSORS_MAX_HEADER_BYTES,
  MAX_HEADER_DEPTH as SAFETENSORS_MAX_HEADER_DEPTH,
  MAX_TENSORS as SAFETENSORS_MAX_TENSORS,
  MAX_DIMS as SAFETENSORS_MAX_DIMS,
} from './io/safetensors.js';
export { saveCheckpoint, loadCheckpoint, loadWeights, checkpointInfo, encodeCheckpoint, checkTensors, type CheckpointMeta, type DataInfo } from './io/checkpoint.js';
export { saveModel, loadModel, WEIGHTS_FORMAT, type LoadedModel } from './io/model_file.js';
export { applyWeights, stateTensors } from './io/weights.js';
export { InputError } from './errors.js';
export { exportOnnx, ONNX_OPSET, ONNX_OPS } from './io/onnx.js';
