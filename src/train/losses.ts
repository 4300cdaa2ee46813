// Losses as values: a JSON spec naming one of the loss ops of the table, which targets it takes
// (class labels or tensors) and whether accuracy means anything for it. The trainer, the
// workers and evaluation all go through lossOf(), so a loss works everywhere or nowhere.
import type { Tape } from '../autograd.js';
import type { Tensor, Shape } from '../tensor.js';
import { shapeStr, sizeOf } from '../tensor.js';
import { InputError } from '../errors.js';
import { LOSS_LIST, type LossOpName } from '../ops/table.js';

export type LossSpec =
  | { type: 'softmax_xent'; labelSmoothing?: number }
  | { type: 'mse' }
  | { type: 'bce_logits' };

export type LossType = LossSpec['type'];

/** The loss types are the table's mean losses and softmax_xent: a new loss op does not compile until LossSpec and lossOf take it. */
type SameUnion<A, B> = [A] extends [B] ? ([B] extends [A] ? A : never) : never;
/** Every loss, softmax_xent first, then the op table's mean losses in table order. */
export const LOSSES: readonly SameUnion<LossType, 'softmax_xent' | LossOpName>[] = ['softmax_xent', ...LOSS_LIST.map(([name]) => name)];

export interface Loss {
  spec: LossSpec;
  /** 'labels': one class index per sample (i32); 'tensor': a float target shaped like the output */
  targets: 'labels' | 'tensor';
  /** accuracy (arg-max equals the label) is reported */
  accuracy: boolean;
  /** the mean loss over the batch, a [1] tensor */
  apply(tape: Tape, out: Tensor, target: Tensor): Tensor;
}

/** Checks a loss spec (from JSON, a flag or an app) and returns the loss; throws InputError naming the problem. */
export function lossOf(spec: LossSpec | unknown): Loss {
  const s = spec as Record<string, unknown>;
  if (typeof s !== 'object' || s === null || !LOSSES.includes(s.type as LossType)) {
    throw new InputError(`loss: unknown loss ${JSON.stringify((s as { type?: unknown })?.type ?? s)}; known: ${LOSSES.join(', ')}`);
  }
  const allowed = s.type === 'softmax_xent' ? ['type', 'labelSmoothing'] : ['type'];
  for (const k of Object.keys(s)) if (!allowed.includes(k)) throw new InputError(`loss: unknown key '${k}' for ${s.type}; its keys: ${allowed.join(', ')}`);
  switch (s.type as LossType) {
    case 'softmax_xent': {
      const eps = s.labelSmoothing as number | undefined;
      if (eps !== undefined && !(typeof eps === 'number' && eps >= 0 && eps < 1)) {
        throw new InputError(`loss: labelSmoothing must be in [0, 1), got ${JSON.stringify(eps)}`);
      }
      // ε = 0 keeps the op's plain path: the same bits as a loss without smoothing
      const attrs = eps ? { labelSmoothing: eps } : {};
      return { spec: spec as LossSpec, targets: 'labels', accuracy: true, apply: (tape, out, y) => tape.apply('softmax_xent', [out, y], attrs) };
    }
    case 'mse':
      return { spec: spec as LossSpec, targets: 'tensor', accuracy: false, apply: (tape, out, y) => tape.apply('mse', [out, y], {}) };
    case 'bce_logits':
      return { spec: spec as LossSpec, targets: 'tensor', accuracy: false, apply: (tape, out, y) => tape.apply('bce_logits', [out, y], {}) };
  }
}

/** Checks that a model's output per sample fits the targets a loss gets; throws InputError naming both shapes. */
export function checkLossFits(loss: Loss, outShape: Shape, target: { kind: 'labels'; classes: number } | { kind: 'tensor'; shape: Shape }): void {
  const name = loss.spec.type;
  if (loss.targets === 'labels') {
    if (target.kind !== 'labels') throw new InputError(`loss ${name} needs class labels, but the dataset's targets are tensors; use --loss mse or bce_logits`);
    if (outShape.length !== 1) throw new InputError(`loss ${name} needs a model output [classes] per sample, the model gives ${shapeStr(outShape)}`);
    if (target.classes > outShape[0]) {
      throw new InputError(`the dataset has labels up to ${target.classes - 1} but the model outputs ${outShape[0]} classes; labels outside the class count`);
    }
    return;
  }
  if (target.kind !== 'tensor') throw new InputError(`loss ${name} needs tensor targets, but the dataset's targets are class labels; use --loss softmax_xent`);
  if (sizeOf(target.shape) !== sizeOf(outShape)) {
    throw new InputError(`loss ${name}: the model gives ${shapeStr(outShape)} per sample, the targets are ${shapeStr(target.shape)}`);
  }
}

/** The default loss for a dataset's targets: softmax cross-entropy for labels, mean squared error otherwise. */
export function defaultLoss(targets: 'labels' | 'tensor'): LossSpec {
  return targets === 'labels' ? { type: 'softmax_xent' } : { type: 'mse' };
}
