// The training loop: minibatches in a seeded order per epoch, gradients from an engine (this
// thread, or a worker pool), one optimizer step per minibatch in WASM, evaluation and a
// checkpoint after each epoch (and every N steps), metrics.jsonl, a clean stop on Ctrl-C and
// on a loss that turns NaN/Inf (the last good checkpoint is kept).
import { existsSync, mkdirSync, readFileSync, writeFileSync, appendFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { loadCoreSync, type Flavor, type Core } from '../core/load.js';
import { loadMnist, normalizeImages, MNIST_MEAN, MNIST_STD } from '../data/mnist.js';
import { permutation } from '../data/batches.js';
import { lenet, MNIST_SHAPE } from '../nn/lenet.js';
import { makeOptimizer, lrAt, type OptimizerName, type ScheduleKind, type Optimizer } from '../optim/index.js';
import { saveCheckpoint, loadCheckpoint, type CheckpointMeta } from '../io/checkpoint.js';
import { BoundModel } from './model.js';
import type { InitScheme } from '../nn/params.js';
import { InputError, asInput } from '../errors.js';
import { sumSq } from '../core/kernels/elementwise.js';
import { LocalEngine, type Dataset, type GradEngine, type StepOptions } from './engine.js';
import { Progress, fmtTime } from './progress.js';

export interface TrainConfig {
  epochs: number;
  batchSize: number;
  /** examples per gradient chunk: the unit of work for workers, fixed for determinism */
  chunkSize: number;
  lr: number;
  schedule: ScheduleKind;
  warmupEpochs: number;
  /** step/exp decay factor and the step schedule's period in epochs */
  gamma: number;
  stepEpochs: number;
  optimizer: OptimizerName;
  momentum: number;
  nesterov: boolean;
  weightDecay: number;
  seed: number;
  /** random translation of training images by up to ±shift pixels */
  shift: number;
  /** weight initialisation scheme */
  init: InitScheme;
  limitTrain?: number;
  limitTest?: number;
  dataDir?: string;
  out: string;
  resume?: string;
  checkpointEvery: number;
  workers: number;
  flavor: Flavor | 'auto';
  plots: boolean;
  evalBatch: number;
}

export interface EpochMetrics {
  epoch: number;
  step: number;
  lr: number;
  train_loss: number;
  train_acc: number;
  test_loss: number;
  test_acc: number;
  seconds: number;
  images_per_sec: number;
  /** the process's resident set and the core's live WASM heap after the epoch (flat across epochs) */
  rss_mib: number;
  wasm_live_mib: number;
}

export interface TrainResult {
  metrics: EpochMetrics[];
  testLoss: number;
  testAcc: number;
  checkpoint: string;
  /** the run stopped early on Ctrl-C */
  interrupted: boolean;
  seconds: number;
}

export interface TrainIO {
  log(line: string): void;
  progressOut?: NodeJS.WriteStream;
  /** builds a worker-pool engine (src/train/pool.ts); absent or workers=1: this thread */
  makePoolEngine?: (args: { core: Core; model: BoundModel; cfg: TrainConfig; opts: StepOptions; data: Dataset }) => Promise<GradEngine>;
  /** set to true (e.g. by a SIGINT handler) to stop after the current step */
  stop?: { requested: boolean };
  /** behave as if stop were requested once this many steps are done (tests) */
  stopAtStep?: number;
}

/** The settings that decide the trajectory: a resumed run must have the same, or it would not continue exactly. */
export const TRAJECTORY_KEYS = [
  'epochs',
  'batchSize',
  'chunkSize',
  'lr',
  'schedule',
  'warmupEpochs',
  'gamma',
  'stepEpochs',
  'optimizer',
  'momentum',
  'nesterov',
  'weightDecay',
  'seed',
  'shift',
  'init',
  'limitTrain',
] as const satisfies readonly (keyof TrainConfig)[];

export async function train(cfg: TrainConfig, io: TrainIO): Promise<TrainResult> {
  const t0 = Date.now();
  const core = loadCoreSync({ flavor: cfg.flavor });
  const { train: tr, test: te } = asInput(() => loadMnist({ dataDir: cfg.dataDir, limitTrain: cfg.limitTrain, limitTest: cfg.limitTest }));
  if (tr.rows !== MNIST_SHAPE[1] || tr.cols !== MNIST_SHAPE[2]) {
    throw new InputError(`MNIST images must be ${MNIST_SHAPE[1]}x${MNIST_SHAPE[2]}, these are ${tr.rows}x${tr.cols}`);
  }
  // in shared memory, so a worker pool reads it without a copy
  const trainImages = new Float32Array(new SharedArrayBuffer(tr.images.length * 4));
  const trainSet: Dataset = { images: normalizeImages(tr.images, trainImages), labels: tr.labels, n: tr.n };
  const testSet: Dataset = { images: normalizeImages(te.images), labels: te.labels, n: te.n };
  io.log(`MNIST: ${tr.n} training and ${te.n} test images; kernels: ${core.flavor} build`);

  const net = lenet(cfg.init);
  const model = new BoundModel(core, net, MNIST_SHAPE);
  io.log(net.summary([1, ...MNIST_SHAPE]));
  model.params.init(cfg.seed);
  const optimizer = makeOptimizer(core, model.params.data, model.params.grad, {
    name: cfg.optimizer,
    momentum: cfg.momentum,
    nesterov: cfg.nesterov,
    weightDecay: cfg.weightDecay,
  });

  mkdirSync(cfg.out, { recursive: true });
  const ckptPath = join(cfg.out, 'checkpoint.safetensors');
  const metricsPath = join(cfg.out, 'metrics.jsonl');
  if (!cfg.resume) {
    const moved = archivePreviousRun(cfg.out);
    if (moved) io.log(`The earlier run in ${cfg.out} was moved to ${moved}`);
  }
  const stepsPerEpoch = Math.ceil(trainSet.n / cfg.batchSize);
  const schedule = {
    kind: cfg.schedule,
    lr: cfg.lr,
    totalSteps: stepsPerEpoch * cfg.epochs,
    stepsPerEpoch,
    gamma: cfg.gamma,
    stepEpochs: cfg.stepEpochs,
    warmupSteps: Math.round(cfg.warmupEpochs * stepsPerEpoch),
  };

  let epoch = 0;
  let step = 0;
  let stepInEpoch = 0;
  let partial = { lossSum: 0, correct: 0, seen: 0 };
  const metrics: EpochMetrics[] = [];
  if (cfg.resume) {
    const meta = asInput(() => loadCheckpoint(cfg.resume!, model.params, optimizer));
    for (const k of TRAJECTORY_KEYS) {
      if ((meta.flags[k] ?? null) !== (cfg[k] ?? null)) {
        throw new InputError(
          `--resume: the checkpoint was trained with ${k}=${JSON.stringify(meta.flags[k] ?? null)}, this run has ${JSON.stringify(cfg[k] ?? null)}; resume with the same settings`,
        );
      }
    }
    if (meta.kernels && meta.kernels !== core.flavor) {
      io.log(`note: the checkpoint was trained with the ${meta.kernels} kernels, this run uses ${core.flavor}: the continuation will not be bit-identical`);
    }
    ({ epoch, step, stepInEpoch } = meta);
    partial = meta.partial ?? partial;
    if (existsSync(metricsPath)) metrics.push(...readMetrics(metricsPath).filter((m) => m.epoch <= epoch));
    io.log(`Resumed from ${cfg.resume}: epoch ${epoch + 1}, step ${step} (${stepInEpoch}/${stepsPerEpoch} into the epoch)`);
  }
  writeFileSync(metricsPath, metrics.map((m) => JSON.stringify(m) + '\n').join(''));

  const stepOpts: StepOptions = { shift: cfg.shift, fillValue: (0 - MNIST_MEAN) / MNIST_STD, seed: cfg.seed };
  const engine: GradEngine =
    cfg.workers > 1 && io.makePoolEngine
      ? await io.makePoolEngine({ core, model, cfg, opts: stepOpts, data: trainSet })
      : new LocalEngine(model, trainSet, cfg.chunkSize, stepOpts);
  if (cfg.workers > 1 && io.makePoolEngine) io.log(`Workers: ${cfg.workers} (chunks of ${cfg.chunkSize})`);

  const save = (extra: Partial<CheckpointMeta> = {}) => {
    // a step can blow the weights up even though the loss before it was finite: never let such
    // weights replace the last good checkpoint
    if (!Number.isFinite(sumSq(core, model.params.data))) {
      throw new Error(`the weights became NaN/Inf at epoch ${epoch + 1}, step ${step}; the last good checkpoint ${ckptPath} was kept; try a lower --lr`);
    }
    saveCheckpoint(ckptPath, model.params, optimizer, {
      epoch,
      step,
      stepInEpoch,
      seed: cfg.seed,
      optimizer: optimizer.name,
      flags: { ...cfg },
      metrics: metrics.length ? { ...metrics[metrics.length - 1] } : {},
      partial,
      kernels: core.flavor,
      ...extra,
    });
  };

  let interrupted = false;
  try {
    while (epoch < cfg.epochs) {
      const perm = permutation(trainSet.n, cfg.seed, epoch);
      const progress = new Progress(`Epoch ${epoch + 1}/${cfg.epochs}`, io.progressOut ?? process.stdout);
      const tEpoch = Date.now();
      let seenThisRun = 0;
      while (stepInEpoch < stepsPerEpoch) {
        const idx = perm.subarray(stepInEpoch * cfg.batchSize, Math.min(trainSet.n, (stepInEpoch + 1) * cfg.batchSize));
        const lr = lrAt(schedule, step);
        const r = await engine.minibatch(idx, step);
        if (!Number.isFinite(r.lossSum)) {
          progress.finish();
          throw new Error(
            `training loss became ${r.lossSum} at epoch ${epoch + 1}, step ${step}; stopped without updating the weights. ` +
              `The last good checkpoint is ${existsSync(ckptPath) ? ckptPath : '(none written yet)'}; try a lower --lr`,
          );
        }
        optimizer.step(lr);
        step++;
        stepInEpoch++;
        partial.lossSum += r.lossSum;
        partial.correct += r.correct;
        partial.seen += idx.length;
        seenThisRun += idx.length;
        progress.update({
          done: partial.seen,
          total: trainSet.n,
          imagesPerSec: (seenThisRun * 1000) / Math.max(1, Date.now() - tEpoch),
          loss: partial.lossSum / partial.seen,
          acc: partial.correct / partial.seen,
        });
        if (cfg.checkpointEvery > 0 && step % cfg.checkpointEvery === 0) save();
        if (io.stop && step === io.stopAtStep) io.stop.requested = true;
        // the local engine never leaves the microtask queue: let signal handlers and I/O run
        await new Promise<void>((r) => setImmediate(r));
        if (io.stop?.requested) break;
      }
      progress.finish();
      if (io.stop?.requested && stepInEpoch < stepsPerEpoch) {
        save();
        interrupted = true;
        break;
      }
      const seconds = (Date.now() - tEpoch) / 1000;
      const ev = model.evaluate(testSet.images, testSet.labels, testSet.n, cfg.evalBatch);
      const m: EpochMetrics = {
        epoch: epoch + 1,
        step,
        lr: lrAt(schedule, Math.max(0, step - 1)),
        train_loss: partial.lossSum / partial.seen,
        train_acc: partial.correct / partial.seen,
        test_loss: ev.lossSum / testSet.n,
        test_acc: ev.correct / testSet.n,
        seconds,
        images_per_sec: seenThisRun / seconds,
        rss_mib: Math.round(process.memoryUsage().rss / 2 ** 20),
        wasm_live_mib: Math.round((core.heap.liveBytes / 2 ** 20) * 10) / 10,
      };
      if (!Number.isFinite(m.test_loss)) {
        throw new Error(`test loss became ${m.test_loss} after epoch ${epoch + 1}; the last good checkpoint ${ckptPath} was kept`);
      }
      metrics.push(m);
      appendFileSync(metricsPath, JSON.stringify(m) + '\n');
      io.log(
        `Epoch ${m.epoch}/${cfg.epochs}: train loss ${m.train_loss.toFixed(4)} acc ${m.train_acc.toFixed(4)} | ` +
          `test loss ${m.test_loss.toFixed(4)} acc ${m.test_acc.toFixed(4)} | lr ${m.lr.toPrecision(3)} | ${Math.round(m.images_per_sec)} img/s, ${fmtTime(seconds)}`,
      );
      epoch++;
      stepInEpoch = 0;
      partial = { lossSum: 0, correct: 0, seen: 0 };
      save();
      if (io.stop?.requested) {
        interrupted = epoch < cfg.epochs;
        break;
      }
    }
  } finally {
    await engine.close();
  }

  const last = metrics[metrics.length - 1];
  const result: TrainResult = {
    metrics,
    testLoss: last?.test_loss ?? NaN,
    testAcc: last?.test_acc ?? NaN,
    checkpoint: ckptPath,
    interrupted,
    seconds: (Date.now() - t0) / 1000,
  };
  if (cfg.plots && !interrupted) await renderPlots(cfg, model, testSet, metrics, io);
  model.free();
  optimizer.free();
  return result;
}

/** The files a run writes into --out (a fresh run moves an earlier run's aside, never over them). */
const RUN_FILES = ['checkpoint.safetensors', 'metrics.jsonl', 'curves.png', 'confusion.png', 'misclassified.png'];

/** Moves an earlier run's files into `<out>/previous-<time>/`; returns that folder, or null if there were none. */
function archivePreviousRun(out: string): string | null {
  const present = RUN_FILES.filter((f) => existsSync(join(out, f)));
  if (present.length === 0) return null;
  const dest = join(out, `previous-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  mkdirSync(dest, { recursive: true });
  for (const f of present) renameSync(join(out, f), join(dest, f));
  return dest;
}

/**
 * The epochs in a metrics.jsonl; a last line cut short by a crash is dropped, any other line
 * that does not parse is an error naming the file and line.
 */
function readMetrics(path: string): EpochMetrics[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  const out: EpochMetrics[] = [];
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    try {
      out.push(JSON.parse(line) as EpochMetrics);
    } catch {
      const last = lines.slice(i + 1).every((l) => !l.trim());
      if (!last) throw new InputError(`${path}:${i + 1}: not a JSON line; fix or remove the file to resume`);
    }
  });
  return out;
}

async function renderPlots(cfg: TrainConfig, model: BoundModel, test: Dataset, metrics: EpochMetrics[], io: TrainIO): Promise<void> {
  const render = await import('../render/index.js');
  const preds = new Uint8Array(test.n);
  model.evaluate(test.images, test.labels, test.n, cfg.evalBatch, preds);
  const confusion = Array.from({ length: 10 }, () => new Array<number>(10).fill(0));
  const wrong: { image: Uint8Array; label: number; pred: number }[] = [];
  for (let i = 0; i < test.n; i++) {
    confusion[test.labels[i]][preds[i]]++;
    if (preds[i] !== test.labels[i] && wrong.length < 100) {
      const img = new Uint8Array(784);
      for (let j = 0; j < 784; j++) img[j] = Math.max(0, Math.min(255, Math.round((test.images[i * 784 + j] * MNIST_STD + MNIST_MEAN) * 255)));
      wrong.push({ image: img, label: test.labels[i], pred: preds[i] });
    }
  }
  const files = [join(cfg.out, 'curves.png'), join(cfg.out, 'confusion.png'), join(cfg.out, 'misclassified.png')];
  await render.renderCurves(metrics, files[0]);
  await render.renderConfusion(confusion, files[1]);
  await render.renderMisclassified(wrong, files[2]);
  io.log(`Plots: ${files.join(', ')}`);
}

export type { Optimizer };
