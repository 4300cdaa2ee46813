// Checkpoints: safetensors files with PyTorch's parameter names and layouts, optimizer state as
// extra `optim.<key>` tensors (flat, over all parameters in parameter order), and
// __metadata__ holding the run's position (epoch, step), seed, flags and metrics as strings,
// and the model spec, the loss and the data's shape and normalisation as JSON, so that any
// trained model can be rebuilt from the file alone (resume, render:filters, predict).
// A state_dict that PyTorch saved as safetensors loads with loadWeights(); ours load in PyTorch.
import { readSafetensors, writeFileAtomic, expectTensor } from './safetensors.js';
import { verifyChecksum, checkFiniteTensors } from './integrity.js';
import type { Params } from '../nn/params.js';
import { applyWeights } from './weights.js';
import type { Optimizer } from '../optim/optimizer.js';
import { CHECKPOINT_FORMAT, checkTensors, checkpointInfo, encodeCheckpoint, parseJson, type CheckpointMeta, type ExtraTensors } from './checkpoint_codec.js';

export { CHECKPOINT_FORMAT, checkTensors, checkpointInfo, encodeCheckpoint, type BestInfo, type CheckpointMeta, type DataInfo, type ExtraTensors } from './checkpoint_codec.js';

/** Writes params (+ optimizer state, + `extra` tensors such as preprocess.*) and metadata atomically (tmp file, fsync, rename). */
export function saveCheckpoint(path: string, params: Params, optimizer: Optimizer | null, meta: CheckpointMeta, extra: ExtraTensors = {}): void {
  writeFileAtomic(path, encodeCheckpoint(params, optimizer, meta, extra));
}

/** Loads parameter tensors by name into `params` (shapes checked); other tensors are ignored. */
export function loadWeights(path: string, params: Params, opts: { allowNonfinite?: boolean } = {}): Record<string, string> {
  const { tensors, metadata } = readSafetensors(path);
  verifyChecksum(tensors, metadata, path);
  checkFiniteTensors(tensors, path, opts.allowNonfinite ?? false);
  applyWeights(tensors, params, path);
  return metadata;
}

/** Loads a full checkpoint (weights, optimizer state, position) for --resume; its checksum is verified and NaN/Inf refused unless allowNonfinite. */
export function loadCheckpoint(path: string, params: Params, optimizer: Optimizer, opts: { allowNonfinite?: boolean } = {}): CheckpointMeta {
  const { tensors, metadata } = readSafetensors(path);
  if (metadata.format !== CHECKPOINT_FORMAT) {
    throw new Error(`checkpoint ${path} is not an iruka training checkpoint (no format ${CHECKPOINT_FORMAT} in its metadata); it cannot be resumed`);
  }
  if (metadata.optimizer !== optimizer.name) {
    throw new Error(`checkpoint ${path} was trained with optimizer ${metadata.optimizer}, not ${optimizer.name}; pass --optimizer ${metadata.optimizer}`);
  }
  checkTensors(tensors, params, path); // names and shapes are in the header: a file of another model is named as such, not as corrupt
  verifyChecksum(tensors, metadata, path);
  checkFiniteTensors(tensors, path, opts.allowNonfinite ?? false);
  const state = Object.entries(optimizer.state()).map(([key, buf]) => ({ buf, t: expectTensor(tensors, `optim.${key}`, [buf.length], path) }));
  const num = (k: string): number => {
    const v = Number(metadata[k]);
    if (metadata[k] === undefined || !Number.isInteger(v) || v < 0) throw new Error(`checkpoint ${path}: metadata ${k} is missing or not a count ('${metadata[k]}')`);
    return v;
  };
  const parse = (k: string): Record<string, unknown> => (parseJson(metadata, k, path) ?? {}) as Record<string, unknown>;
  const info = checkpointInfo(metadata, path);
  const meta: CheckpointMeta = {
    epoch: num('epoch'),
    step: num('step'),
    stepInEpoch: num('step_in_epoch'),
    seed: num('seed'),
    optimizer: metadata.optimizer,
    flags: parse('flags'),
    metrics: parse('metrics'),
    partial: parse('partial') as CheckpointMeta['partial'],
    kernels: metadata.kernels,
    model: info.model,
    loss: info.loss,
    data: info.data,
    best: parseJson(metadata, 'best', path) as CheckpointMeta['best'],
  };
  applyWeights(tensors, params, path);
  for (const { buf, t } of state) buf.view().set(t.data as Float32Array);
  optimizer.steps = num('optimizer_steps');
  return meta;
}

