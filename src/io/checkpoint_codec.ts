// A checkpoint's bytes without Node: the metadata types, the encoder (safetensors with the
// run's position, settings and spec in __metadata__ and a CRC-32 of the tensors) and the
// checks a loader makes. src/io/checkpoint.ts writes and reads these bytes as files; the browser
// build (src/browser.ts) hands them to the page, so a checkpoint trained in a page is the file
// the Node trainer writes.
import { encodeSafetensors, type SafeTensor } from './safetensors_codec.js';
import { CHECKSUM_KEY, tensorsChecksum } from './integrity.js';
import type { Params } from '../nn/params.js';
import { InputError } from '../errors.js';
import { stateTensors } from './weights.js';
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

export function parseJson(metadata: Record<string, string>, k: string, path: string): unknown {
  if (metadata[k] === undefined) return undefined;
  try {
    return JSON.parse(metadata[k]);
  } catch {
    throw new InputError(`checkpoint ${path}: metadata ${k} is not valid JSON`);
  }
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
