// Checkpoints: safetensors files with PyTorch's parameter names and layouts, optimizer state as
// extra `optim.<key>` tensors (flat, over all parameters in parameter order), and
// __metadata__ holding the run's position (epoch, step), seed, flags and metrics as strings,
// and the model spec, the loss and the data's shape and normalisation as JSON, so that any
// trained model can be rebuilt from the file alone (resume, render:filters, predict).
// A state_dict that PyTorch saved as safetensors loads with loadWeights(); ours load in PyTorch.
import { readSafetensors, writeFileAtomic, encodeSafetensors, expectTensor, type SafeTensor } from './safetensors.js';
import { CHECKSUM_KEY, tensorsChecksum, verifyChecksum, checkFiniteTensors } from './integrity.js';
import type { Params } from '../nn/params.js';
import { InputError } from '../errors.js';
import { applyWeights, stateTensors } from './weights.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { ModelSpec } from '../nn/spec.js';
import type { LossSpec } from '../train/losses.js';
import type { Normalization } from '../data/dataset.js';
import type { PreprocessInfo } from '../data/preprocess.js';

export const CHECKPOINT_FORMAT = 'iruka-checkpoint-1';

export interface CheckpointMeta {
  /** epochs fully completed */
  epoch: number;
  /** optimizer steps taken in all */
  step: number;
  /** steps taken within the current (unfinished) epoch */
  stepInEpoch: number;
  seed: number;
  optimizer: string;
  /** the run's settings, as given (JSON) */
  flags: Record<string, unknown>;
  /** metrics of the last finished epoch, and the running sums of the unfinished one */
  metrics: Record<string, unknown>;
  partial: { lossSum: number; correct: number; seen: number };
  /** the kernel build that computed it (simd or relaxed: their roundings differ) */
  kernels?: string;
  /** the network (absent in checkpoints from before specs: the reference LeNet) */
  model?: ModelSpec;
  loss?: LossSpec;
  /** what the model was trained on: sample shape, count, normalisation */
  data?: DataInfo;
  /** the best epoch so far by the test set (see best.safetensors) */
  best?: BestInfo;
}

/** Which finished epoch best.safetensors holds, and its score (test accuracy, or test loss for losses without accuracy). */
export interface BestInfo {
  epoch: number;
  by: 'test_acc' | 'test_loss';
  value: number;
}

export interface DataInfo {
  name: string;
  sampleShape: number[];
  /** training examples */
  n: number;
  /** test examples evaluated after each epoch */
  testN?: number;
  normalization?: Normalization;
  classNames?: string[];
  /** the fitted input transform's kind and size; its arrays are the preprocess.* tensors */
  preprocess?: PreprocessInfo;
}

/** Metadata keys that hold JSON, and the CheckpointMeta field each fills. */
const JSON_KEYS = ['flags', 'metrics', 'partial', 'model', 'loss', 'data', 'best'] as const;

/** Tensors saved beside the model's (preprocess.*). */
export type ExtraTensors = Record<string, { shape: number[]; data: Float32Array }>;

/** Writes params (+ optimizer state, + `extra` tensors such as preprocess.*) and metadata atomically (tmp file, fsync, rename). */
export function saveCheckpoint(path: string, params: Params, optimizer: Optimizer | null, meta: CheckpointMeta, extra: ExtraTensors = {}): void {
  writeFileAtomic(path, encodeCheckpoint(params, optimizer, meta, extra));
}

/** The bytes of a checkpoint file, with the CRC-32 of its tensors in the metadata. */
export function encodeCheckpoint(params: Params, optimizer: Optimizer | null, meta: CheckpointMeta, extra: ExtraTensors = {}): Uint8Array {
  const tensors = { ...stateTensors(params), ...extra };
  if (optimizer) {
    for (const [key, buf] of Object.entries(optimizer.state())) {
      tensors[`optim.${key}`] = { shape: [buf.length], data: Float32Array.from(buf.view()) };
    }
  }
  const m: Record<string, string> = {
    format: CHECKPOINT_FORMAT,
    epoch: String(meta.epoch),
    step: String(meta.step),
    step_in_epoch: String(meta.stepInEpoch),
    optimizer_steps: String(optimizer?.steps ?? 0),
    seed: String(meta.seed),
    optimizer: meta.optimizer,
    flags: JSON.stringify(meta.flags),
    metrics: JSON.stringify(meta.metrics),
    partial: JSON.stringify(meta.partial),
    ...(meta.kernels ? { kernels: meta.kernels } : {}),
    ...(meta.model ? { model: JSON.stringify(meta.model) } : {}),
    ...(meta.loss ? { loss: JSON.stringify(meta.loss) } : {}),
    ...(meta.data ? { data: JSON.stringify(meta.data) } : {}),
    ...(meta.best ? { best: JSON.stringify(meta.best) } : {}),
    [CHECKSUM_KEY]: tensorsChecksum(Object.entries(tensors)),
  };
  return encodeSafetensors(tensors, m);
}

/** The JSON fields of a checkpoint's metadata, parsed; a field that is not JSON is an error naming it. */
export function checkpointInfo(metadata: Record<string, string>, path: string): Pick<CheckpointMeta, 'model' | 'loss' | 'data'> & { flags: Record<string, unknown> } {
  const parse = (k: (typeof JSON_KEYS)[number]) => parseJson(metadata, k, path);
  return {
    flags: (parse('flags') ?? {}) as Record<string, unknown>,
    model: parse('model') as ModelSpec | undefined,
    loss: parse('loss') as LossSpec | undefined,
    data: parse('data') as DataInfo | undefined,
  };
}

function parseJson(metadata: Record<string, string>, k: string, path: string): unknown {
  if (metadata[k] === undefined) return undefined;
  try {
    return JSON.parse(metadata[k]);
  } catch {
    throw new InputError(`checkpoint ${path}: metadata ${k} is not valid JSON`);
  }
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

/** Checks that the file holds every parameter and buffer of the model with its shape, naming every one that is missing or differs. */
export function checkTensors(tensors: Map<string, SafeTensor>, params: Params, path: string): void {
  const problems: string[] = [];
  for (const e of params.entries) {
    const t = tensors.get(e.name);
    if (!t) problems.push(`${e.name} is missing`);
    else if (t.shape.length !== e.shape.length || t.shape.some((d, i) => d !== e.shape[i])) problems.push(`${e.name} is [${t.shape.join(',')}], the model has [${e.shape.join(',')}]`);
  }
  if (problems.length) {
    const more = problems.length > 8 ? `, and ${problems.length - 8} more` : '';
    throw new Error(`checkpoint ${path} does not fit this model: ${problems.slice(0, 8).join('; ')}${more}`);
  }
}
