// The trainer's crash-safety and rough-edge rules, kept out of fit.ts's loop: the two checkpoint
// files (latest and best) written from one encoding, stale temporaries of a killed run cleared,
// which run lengths a resumed run may change to, what to say when the loss turns NaN, and a batch
// larger than the training set.
import { existsSync, mkdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { encodeCheckpoint, type BestInfo, type CheckpointMeta, type ExtraTensors } from '../io/checkpoint.js';
import { writeFileAtomic, removeStaleTemporaries } from '../io/safetensors.js';
import { InputError } from '../errors.js';
import { defaultChunkSize } from './engine.js';
import type { Params } from '../nn/params.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { Dataset } from '../data/dataset.js';
import type { EpochMetrics } from './metrics.js';
import type { ResolvedOptions } from './options.js';

/**
 * Writes the checkpoint to `latest` and, when given, the same bytes to `best` first: a crash
 * between the two leaves an older `latest`, whose resumed run repeats the epoch and writes the
 * same `best` again, so the two files never disagree about a finished run.
 */
export function saveRunCheckpoint(paths: { latest: string; best: string | null }, params: Params, optimizer: Optimizer, meta: CheckpointMeta, extra: ExtraTensors = {}): void {
  const bytes = encodeCheckpoint(params, optimizer, meta, extra);
  if (paths.best) writeFileAtomic(paths.best, bytes);
  writeFileAtomic(paths.latest, bytes);
}

/** Removes the temporaries a killed run left in its folder, saying so. */
export function cleanFolder(out: string, log: (line: string) => void): void {
  const removed = removeStaleTemporaries(out);
  if (removed.length) log(`note: removed ${removed.join(', ')} in ${out}, left by a run that was killed while writing a checkpoint`);
}

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

/**
 * Creates the run folder and its missing parents, one at a time (Node's recursive mkdir loops
 * forever under /proc), and says in words what is wrong when it cannot: a file in the way, no
 * permission, a read-only file system.
 */
export function makeRunFolder(out: string): void {
  const missing: string[] = [];
  let at = out;
  while (!existsSync(at)) {
    missing.unshift(at);
    const up = dirname(at);
    if (up === at) break;
    at = up;
  }
  if (existsSync(at) && !statSync(at).isDirectory()) {
    throw new InputError(at === out ? `--out ${out} is a file, not a folder; name a folder for the run` : `--out ${out}: ${at} is a file, so no folder can be made under it`);
  }
  for (const dir of missing) {
    try {
      mkdirSync(dir);
    } catch (e) {
      const code = (e as { code?: string }).code;
      const why =
        code === 'EACCES' || code === 'EPERM' ? `permission denied in ${dirname(dir)}` : code === 'EROFS' ? 'the file system is read-only' : code === 'ENOSPC' ? 'the disk is full' : code === 'ENOENT' ? `${dirname(dir)} does not accept folders` : (e as Error).message;
      throw new InputError(`--out ${out}: cannot create the folder (${why})`);
    }
  }
  // a folder that exists but takes no files would fail only at the first checkpoint, minutes in
  const probe = join(out, `.iruka-write-test-${process.pid}`);
  try {
    writeFileSync(probe, '');
    unlinkSync(probe);
  } catch (e) {
    const code = (e as { code?: string }).code;
    const why = code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EROFS' ? 'the file system is read-only' : code === 'ENOSPC' ? 'the disk is full' : (e as Error).message;
    throw new InputError(`--out ${out}: cannot write files in the folder (${why})`);
  }
}
