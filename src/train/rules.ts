// The trainer's rules that need no files, shared by fit() in Node and the Node-free loop the
// browser runs (src/train/loop.ts): the best epoch so far, which run lengths a resumed run may
// change to, what to say when the loss turns NaN, and a batch larger than the training set.
import type { BestInfo, CheckpointMeta } from '../io/checkpoint_codec.js';
import { InputError } from '../errors.js';
import { defaultChunkSize } from './engine.js';
import type { Dataset } from '../data/dataset.js';
import type { EpochMetrics } from './metrics.js';
import type { ResolvedOptions } from './options.js';

/** The best epoch after epoch `m`: by test accuracy where the loss has one, else by lowest test loss; unchanged without a test set. */
export function bestAfter(prev: BestInfo | undefined, m: EpochMetrics): BestInfo | undefined {
  if (m.test_acc !== null) {
    return prev && prev.by === 'test_acc' && prev.value >= m.test_acc ? prev : { epoch: m.epoch, by: 'test_acc', value: m.test_acc };
  }
  if (m.test_loss !== null) {
    return prev && prev.by === 'test_loss' && prev.value <= m.test_loss ? prev : { epoch: m.epoch, by: 'test_loss', value: m.test_loss };
  }
  return prev;
}

/**
 * A resumed run may change --epochs when the schedule's rate at a step does not depend on the
 * run's length (constant, step, exp: the first N epochs of a longer run are exactly the shorter
 * run), so a finished run can be extended. A cosine schedule spans the whole run: every step's
 * rate depends on the total, so the steps taken followed a curve that a different length does
 * not continue; that is refused.
 */
export function checkEpochsChange(was: unknown, at: Pick<CheckpointMeta, 'epoch' | 'stepInEpoch'>, o: ResolvedOptions, log: (line: string) => void): void {
  if (was === undefined || was === o.epochs) return;
  if (o.schedule === 'cosine') {
    throw new InputError(
      `--resume: the checkpoint's run has --epochs ${was}, this run ${o.epochs}; its cosine schedule's length is part of its shape ` +
        `(the rate at every step depends on the total number of steps), so a run of ${o.epochs} epochs would not continue the same trajectory; ` +
        `resume with --epochs ${was}, or train runs you mean to extend with --schedule constant, step or exp`,
    );
  }
  const done = at.epoch + (at.stepInEpoch > 0 ? 1 : 0);
  if (o.epochs < done) throw new InputError(`--resume: the checkpoint has already trained ${at.stepInEpoch > 0 ? 'into ' : ''}epoch ${done}, past --epochs ${o.epochs}`);
  log(`note: --epochs ${was} -> ${o.epochs}: the ${o.schedule} schedule does not depend on the run's length, so this continues the same run`);
}

/** What to say when the loss becomes NaN/Inf: what is known, the likely cause, the last good checkpoint. */
export function nanAdvice(a: { o: ResolvedOptions; step: number; train: Dataset; idx: Uint32Array; ckpt: string | null; resumed: boolean }): string {
  const { o, train, idx } = a;
  const per = train.x.length / train.n;
  let badInput = -1;
  for (let j = 0; j < idx.length && badInput < 0; j++) {
    const x = train.x.subarray(idx[j] * per, (idx[j] + 1) * per);
    for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i])) { badInput = idx[j]; break; }
  }
  const where = a.ckpt ? `The last good checkpoint is ${a.ckpt}.` : 'No checkpoint was written yet.';
  if (badInput >= 0) return `${where} Training example ${badInput} holds NaN/Inf inputs: the data is at fault, not the settings; fix or drop it.`;
  if (a.resumed && o.allowNonfinite) return `${where} The run was resumed with --allow-nonfinite from weights that were not finite: that is the likely cause.`;
  const warm = o.warmupEpochs > 0 ? `the warm-up (${o.warmupEpochs} epochs)` : 'no warm-up';
  return (
    `${where} The likely cause is a learning rate too high for this model and loss: --lr is ${o.lr} (${o.optimizer}) with ${warm}; ` +
    `try --lr ${(o.lr / 10).toPrecision(2)}${o.warmupEpochs < 1 ? ' and --warmup 1' : ''}`
  );
}

/** A batch larger than the training set is the whole set: clamped with a note (the chunk size follows when it is auto). */
export function clampBatch(o: ResolvedOptions, n: number, chunkAuto: boolean, log: (line: string) => void): void {
  if (n < 1 || o.batchSize <= n) return;
  log(`note: --batch-size ${o.batchSize} is larger than the ${n} training examples; using ${n} (one step per epoch)`);
  o.batchSize = n;
  if (chunkAuto) o.chunkSize = defaultChunkSize(n);
}
