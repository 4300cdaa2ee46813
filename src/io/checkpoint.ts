// Checkpoints: safetensors files with PyTorch's parameter names and layouts, optimizer state as
// extra `optim.<key>` tensors (flat, over all parameters in parameter order), and
// __metadata__ holding the run's position (epoch, step), seed, flags and metrics as strings.
// A state_dict that PyTorch saved as safetensors loads with loadWeights(); ours load in PyTorch.
import { readSafetensors, writeSafetensors, expectTensor, type TensorIn } from './safetensors.js';
import type { Params } from '../nn/params.js';
import { applyWeights } from './weights.js';
import type { Optimizer } from '../optim/optimizer.js';

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
}

/** Writes params (+ optimizer state) and metadata atomically (tmp file, fsync, rename). */
export function saveCheckpoint(path: string, params: Params, optimizer: Optimizer | null, meta: CheckpointMeta): void {
  const tensors: Record<string, TensorIn> = {};
  const data = params.data.view();
  for (const e of params.entries) {
    tensors[e.name] = { shape: [...e.shape], data: data.slice(e.offset, e.offset + e.size) };
  }
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
  };
  writeSafetensors(path, tensors, m);
}

/** Loads parameter tensors by name into `params` (shapes checked); other tensors are ignored. */
export function loadWeights(path: string, params: Params): Record<string, string> {
  const { tensors, metadata } = readSafetensors(path);
  applyWeights(tensors, params, path);
  return metadata;
}

/** Loads a full checkpoint (weights, optimizer state, position) for --resume. */
export function loadCheckpoint(path: string, params: Params, optimizer: Optimizer): CheckpointMeta {
  const { tensors, metadata } = readSafetensors(path);
  if (metadata.format !== CHECKPOINT_FORMAT) {
    throw new Error(`checkpoint ${path} is not an iruka training checkpoint (no format ${CHECKPOINT_FORMAT} in its metadata); it cannot be resumed`);
  }
  if (metadata.optimizer !== optimizer.name) {
    throw new Error(`checkpoint ${path} was trained with optimizer ${metadata.optimizer}, not ${optimizer.name}; pass --optimizer ${metadata.optimizer}`);
  }
  const staged = params.entries.map((e) => ({ e, t: expectTensor(tensors, e.name, [...e.shape], path) }));
  const state = Object.entries(optimizer.state()).map(([key, buf]) => ({ buf, t: expectTensor(tensors, `optim.${key}`, [buf.length], path) }));
  const num = (k: string): number => {
    const v = Number(metadata[k]);
    if (metadata[k] === undefined || !Number.isInteger(v) || v < 0) throw new Error(`checkpoint ${path}: metadata ${k} is missing or not a count ('${metadata[k]}')`);
    return v;
  };
  const parse = (k: string): Record<string, unknown> => {
    try {
      return JSON.parse(metadata[k] ?? '{}');
    } catch {
      throw new Error(`checkpoint ${path}: metadata ${k} is not valid JSON`);
    }
  };
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
  };
  const data = params.data.view();
  for (const { e, t } of staged) data.set(t.data as Float32Array, e.offset);
  for (const { buf, t } of state) buf.view().set(t.data as Float32Array);
  optimizer.steps = num('optimizer_steps');
  return meta;
}
