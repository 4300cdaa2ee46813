// Saving and loading any trained model with its spec inside: the weights and buffers under
// PyTorch's names, the spec (and loss and data description) in the metadata, so the file alone
// rebuilds the model. Training checkpoints are such files too (with optimizer state beside).
import { readSafetensors, writeSafetensors } from './safetensors.js';
import { stateTensors, applyWeights } from './weights.js';
import { checkpointInfo, checkTensors, CHECKPOINT_FORMAT, type DataInfo } from './checkpoint.js';
import { verifyChecksum, checkFiniteTensors } from './integrity.js';
import type { Core } from '../core/load.js';
import { Model, parseModelSpec, type ModelSpec } from '../nn/spec.js';
import { LENET_SPEC } from '../nn/lenet.js';
import { BoundModel } from '../train/model.js';
import type { LossSpec } from '../train/losses.js';
import { InputError, asInput } from '../errors.js';
import { preprocessFromTensors, preprocessTensors, type Preprocessor } from '../data/preprocess.js';

export const WEIGHTS_FORMAT = 'iruka-weights-1';

/** Writes `model`'s parameters and buffers with `spec` (and optionally the loss and data description) in the metadata. */
export function saveModel(path: string, model: BoundModel, spec: ModelSpec, extra: { data?: DataInfo; preprocess?: Preprocessor } = {}): void {
  const pre = extra.preprocess;
  if (pre && extra.data?.preprocess && (extra.data.preprocess.kind !== pre.kind || extra.data.preprocess.dims !== pre.dims)) {
    throw new InputError(`saveModel: data.preprocess (${extra.data.preprocess.kind}) is not the preprocess given (${pre.kind})`);
  }
  const data = extra.data && pre ? { ...extra.data, preprocess: { kind: pre.kind, dims: pre.dims, eps: pre.eps } } : extra.data;
  writeSafetensors(path, { ...stateTensors(model.params), ...(pre ? preprocessTensors(pre) : {}) }, {
    format: WEIGHTS_FORMAT,
    model: JSON.stringify(spec),
    loss: JSON.stringify(model.loss.spec),
    ...(data ? { data: JSON.stringify(data) } : {}),
  });
}

export interface LoadedModel {
  model: BoundModel;
  spec: ModelSpec;
  loss?: LossSpec;
  data?: DataInfo;
  /** the input transform the model was trained behind: apply it (applyPreprocess) before predict() */
  preprocess?: Preprocessor;
  metadata: Record<string, string>;
}

/**
 * Rebuilds the model a weights file or checkpoint holds, from the file alone (a file without a
 * spec, from before specs, is the reference LeNet), and loads its weights. Errors name the file
 * and every tensor that is missing or of the wrong shape.
 */
export function loadModel(path: string, core: Core, opts: { allowNonfinite?: boolean } = {}): LoadedModel {
  const { tensors, metadata } = readSafetensors(path);
  // another producer's metadata (a PyTorch state_dict's) means nothing to us: no spec, the LeNet
  const ours = metadata.format === CHECKPOINT_FORMAT || metadata.format === WEIGHTS_FORMAT;
  const info = ours ? asInput(() => checkpointInfo(metadata, path)) : { flags: {} as Record<string, unknown>, model: undefined, loss: undefined, data: undefined };
  let spec: ModelSpec;
  try {
    spec = parseModelSpec(info.model ?? LENET_SPEC);
  } catch (e) {
    throw new InputError(`${path}: ${(e as Error).message}`);
  }
  const net = new Model(spec);
  const model = new BoundModel(core, net, spec.input, info.loss);
  try {
    checkTensors(tensors, model.params, path);
    verifyChecksum(tensors, metadata, path);
    checkFiniteTensors(tensors, path, opts.allowNonfinite ?? false);
    applyWeights(tensors, model.params, path);
  } catch (e) {
    model.free();
    throw new InputError((e as Error).message);
  }
  let preprocess: Preprocessor | undefined;
  try {
    preprocess = info.data?.preprocess ? preprocessFromTensors(info.data.preprocess, tensors, path) : undefined;
  } catch (e) {
    model.free();
    throw e;
  }
  return { model, spec, loss: info.loss, data: info.data, ...(preprocess ? { preprocess } : {}), metadata };
}
