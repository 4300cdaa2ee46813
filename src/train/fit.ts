// The one trainer in Node: fit(spec, data, options) trains any model spec on any dataset with
// any loss, on this thread or on the worker pool. The loop itself (seeded minibatch order,
// engine, optimizer steps, schedule, evaluation, metrics, checkpoint bytes) is fitWith() in
// src/train/loop.ts, which a browser runs as it is; this file adds what needs Node: the run
// folder with checkpoint.safetensors (and best.safetensors) written atomically, metrics.jsonl,
// --resume from a checkpoint file, the Piscina pool, and a yield to signal handlers so that a
// stop request (Ctrl-C) ends the run cleanly with a checkpoint. A loss that turns NaN/Inf ends
// it too, keeping the last good checkpoint.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadCoreSync } from '../core/load.js';
import { autoBuildChoice } from '../core/choose_build.js';
import { loadCheckpoint, checkpointInfo } from '../io/checkpoint.js';
import { readSafetensors } from '../io/safetensors.js';
import { writeRunCheckpoint, cleanFolder, makeRunFolder, checkEpochsChange } from './reliability.js';
import { specKey, type ModelSpec } from '../nn/spec.js';
import { InputError, asInput } from '../errors.js';
import { describePreprocess } from '../data/preprocess.js';
import type { BoundModel } from './model.js';
import { TRAJECTORY_KEYS, type FitOptions } from './options.js';
import { archivePreviousRun, readMetrics, MetricsFile, type EpochMetrics } from './metrics.js';
import { fitWith, type FitData, type LoopEnv, type TrainLoop } from './loop.js';

export type { FitData } from './loop.js';

export interface FitResult {
  metrics: EpochMetrics[];
  /** of the last finished epoch (NaN/null when there was none or no test set) */
  testLoss: number;
  testAcc: number | null;
  checkpoint: string | null;
  /** the run stopped early (stop requested) */
  interrupted: boolean;
  seconds: number;
  /** the spec actually trained (with --init applied) */
  spec: ModelSpec;
  /** the trained model, ready for predict(); free() it when done */
  model: BoundModel;
}

/** Trains `spec` on `data`; see FitOptions for every option and FIT_DEFAULTS for the defaults. */
export async function fit(specIn: ModelSpec | unknown, data: FitData, options: Partial<FitOptions> & { stopAtStep?: number } = {}): Promise<FitResult> {
  const files = new RunFiles(options.out, options.log ?? (() => {}));
  const env: LoopEnv = {
    engine: async (ctx) => {
      const { makePoolEngine } = await import('./pool.js');
      const engine = await makePoolEngine({ ...ctx, log: ctx.warn });
      ctx.log(`Workers: ${ctx.cfg.workers} (chunks of ${ctx.cfg.chunkSize}; threads ${engine.pinning})`);
      return engine;
    },
    save: files.ckptPath ? (bytes, best) => writeRunCheckpoint({ latest: files.ckptPath!, best: best ? files.bestPath : null }, bytes) : undefined,
    lastCheckpoint: () => (files.ckptPath && existsSync(files.ckptPath) ? files.ckptPath : null),
    record: (m) => files.metricsFile?.append(m),
    pause: () => new Promise<void>((r) => setImmediate(r)),
    rssMib: () => Math.round(process.memoryUsage().rss / 2 ** 20),
    whyBuild: () => autoBuildChoice()?.reason ?? 'the module given',
  };
  const r = await fitWith((flavor) => loadCoreSync({ flavor }), specIn, data, options, env, (loop) => {
    files.prepare(loop.o.resume);
    if (loop.o.resume) resume(loop, loop.o.resume, files.metricsFile);
  });
  return { ...r, checkpoint: files.ckptPath };
}

/** The run folder's files (--out); none without it. */
class RunFiles {
  readonly ckptPath: string | null;
  readonly bestPath: string | null;
  metricsFile: MetricsFile | null = null;

  constructor(
    private readonly out: string | undefined,
    private readonly log: (line: string) => void,
  ) {
    this.ckptPath = out ? join(out, 'checkpoint.safetensors') : null;
    this.bestPath = out ? join(out, 'best.safetensors') : null;
  }

  /** Creates --out (words, not errno, when it cannot) and moves an earlier run aside. */
  prepare(resuming: string | undefined): void {
    const out = this.out;
    if (!out) return;
    makeRunFolder(out);
    cleanFolder(out, this.log);
    this.metricsFile = new MetricsFile(join(out, 'metrics.jsonl'));
    if (!resuming) {
      const moved = archivePreviousRun(out);
      if (moved) this.log(`The earlier run in ${out} was moved to ${moved}`);
    }
  }
}

/** Puts the loop where the checkpoint at `path` left off (weights, optimizer state, position, metrics), refusing settings that would not continue it exactly. */
function resume(loop: TrainLoop, path: string, file: MetricsFile | null): void {
  // the spec first: a checkpoint of another model is named as such, not as missing tensors
  const info = asInput(() => checkpointInfo(readSafetensors(path).metadata, path));
  if (info.model && specKey(info.model) !== specKey(loop.spec)) {
    throw new InputError(`--resume: the checkpoint's model spec (${info.model.name ?? 'unnamed'}) differs from this run's (${loop.spec.name ?? 'unnamed'}); resume with the model it was trained with`);
  }
  const meta = asInput(() => loadCheckpoint(path, loop.model.params, loop.optimizer, { allowNonfinite: loop.o.allowNonfinite }));
  const flags = meta.flags as Record<string, unknown>;
  checkEpochsChange(flags.epochs, meta, loop.o, loop.log);
  for (const k of TRAJECTORY_KEYS) {
    if (k === 'epochs') continue;
    const was = JSON.stringify(flags[k] ?? null);
    const now = JSON.stringify((loop.o as unknown as Record<string, unknown>)[k] ?? (k === 'loss' ? loop.lossSpec : null));
    if (was !== now) throw new InputError(`--resume: the checkpoint was trained with ${k}=${was}, this run has ${now}; resume with the same settings`);
  }
  if (meta.data && meta.data.n !== loop.data.train.n) {
    throw new InputError(`--resume: the checkpoint was trained on ${meta.data.n} training examples, this run has ${loop.data.train.n}; use the same data and --limit-train`);
  }
  const pre = (p: unknown) => JSON.stringify(p ?? 'none');
  const mine = loop.data.train.preprocess ? describePreprocess(loop.data.train.preprocess) : undefined;
  if (pre(meta.data?.preprocess) !== pre(mine)) {
    throw new InputError(`--resume: the checkpoint's data was preprocessed with ${pre(meta.data?.preprocess)}, this run's with ${pre(mine)}; resume with the same preprocessing`);
  }
  if (meta.kernels && meta.kernels !== loop.core.flavor) {
    loop.log(`note: the checkpoint was trained with the ${meta.kernels} kernels, this run uses ${loop.core.flavor}: the continuation will not be bit-identical`);
  }
  ({ epoch: loop.epoch, step: loop.step, stepInEpoch: loop.stepInEpoch } = meta);
  loop.partial = meta.partial ?? loop.partial;
  loop.best = meta.best;
  if (file && existsSync(file.path)) {
    loop.metrics.push(...readMetrics(file.path).filter((m) => m.epoch <= loop.epoch));
    file.reset(loop.metrics);
  }
  loop.log(`Resumed from ${path}: epoch ${loop.epoch + 1}, step ${loop.step} (${loop.stepInEpoch}/${loop.stepsPerEpoch} into the epoch)`);
}
