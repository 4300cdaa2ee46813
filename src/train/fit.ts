// The one trainer: fit(spec, data, options) trains any model spec on any dataset with any loss,
// on this thread or on the worker pool. Minibatches come in a seeded order per epoch; gradients
// come from an engine; one optimizer step per minibatch runs in WASM; BatchNorm's running
// statistics are updated from the chunks' statistics; after each epoch the test set is
// evaluated and a checkpoint written (and every N steps), with metrics.jsonl beside it. A stop
// request (Ctrl-C) and a loss that turns NaN/Inf end the run cleanly, keeping the last good
// checkpoint.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadCoreSync, type Core } from '../core/load.js';
import { autoBuildChoice } from '../core/choose_build.js';
import { permutation } from '../data/batches.js';
import { backgroundFill, type Dataset } from '../data/dataset.js';
import { makeOptimizer, lrAt, type Optimizer } from '../optim/index.js';
import { loadCheckpoint, checkpointInfo, type CheckpointMeta, type DataInfo } from '../io/checkpoint.js';
import { readSafetensors } from '../io/safetensors.js';
import { saveRunCheckpoint, cleanFolder, makeRunFolder, bestAfter, checkEpochsChange, nanAdvice, clampBatch } from './reliability.js';
import { checkFitsWasm } from './memory.js';
import { parseModelSpec, withInit, specKey, Model, type ModelSpec } from '../nn/spec.js';
import { sumSq } from '../core/kernels/elementwise.js';
import { InputError, asInput } from '../errors.js';
import { shapeStr } from '../tensor.js';
import { describePreprocess, preprocessTensors } from '../data/preprocess.js';
import { BoundModel } from './model.js';
import { checkLossFits, defaultLoss, lossOf, type LossSpec } from './losses.js';
import { LocalEngine, type GradEngine, type StepOptions } from './engine.js';
import { resolveFitOptions, batchWarnings, checkInitStd, TRAJECTORY_KEYS, type FitOptions, type ResolvedOptions } from './options.js';
import { archivePreviousRun, readMetrics, MetricsFile, type EpochMetrics } from './metrics.js';
import { Progress, fmtTime } from './progress.js';

export interface FitData {
  train: Dataset;
  /** evaluated after every epoch (optional) */
  test?: Dataset;
}

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

const DISPLAY: Record<string, string> = { mnist: 'MNIST', 'fashion-mnist': 'Fashion-MNIST', cifar10: 'CIFAR-10' };

/** Trains `spec` on `data`; see FitOptions for every option and FIT_DEFAULTS for the defaults. */
export async function fit(specIn: ModelSpec | unknown, data: FitData, options: Partial<FitOptions> & { stopAtStep?: number } = {}): Promise<FitResult> {
  const t0 = Date.now();
  const { stopAtStep, ...rest } = options;
  const o = resolveFitOptions(rest);
  const log = o.log ?? (() => {});
  clampBatch(o, data.train.n, rest.chunkSize === undefined || rest.chunkSize === 'auto', log);
  let spec = parseModelSpec(specIn);
  if (o.init) spec = withInit(spec, o.init);
  checkInitStd(o, spec);
  const net = new Model(spec);
  const lossSpec = o.loss ?? defaultLoss(data.train.targets.kind === 'labels' ? 'labels' : 'tensor');
  checkData(net, lossSpec, data);

  const core = loadCoreSync({ flavor: o.flavor });
  const test = data.test;
  log(`${DISPLAY[data.train.name] ?? data.train.name}: ${data.train.n} training${test ? ` and ${test.n} test` : ''} images; kernels: ${core.flavor} build${o.flavor === 'auto' ? ` (auto: ${autoBuildChoice()?.reason ?? 'the module given'})` : ''}`);
  log(net.summary());
  checkFitsWasm(net, net.paramSpecs().reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0), { ...o, chunkAuto: rest.chunkSize === undefined || rest.chunkSize === 'auto' });
  for (const w of batchWarnings(o, data.train.n)) log(`warning: ${w}`);
  const model = new BoundModel(core, net, spec.input, lossSpec);
  model.params.init(o.seed, o.initStd);
  const optimizer = makeOptimizer(core, model.params.data, model.params.grad, {
    name: o.optimizer,
    momentum: o.momentum,
    nesterov: o.nesterov,
    weightDecay: o.weightDecay,
  });
  const run = new Run(o, core, model, optimizer, spec, lossSpec, data, log);
  try {
    run.prepareFolder();
    if (o.resume) run.resume(o.resume);
    const interrupted = await run.loop(stopAtStep);
    const last = run.metrics[run.metrics.length - 1];
    return {
      metrics: run.metrics,
      testLoss: last?.test_loss ?? NaN,
      testAcc: last?.test_acc ?? null,
      checkpoint: run.ckptPath,
      interrupted,
      seconds: (Date.now() - t0) / 1000,
      spec,
      model,
    };
  } catch (e) {
    model.free();
    throw e;
  } finally {
    optimizer.free();
  }
}

/** The dataset fits the model (sample shape) and the loss (targets), and the test set matches the training set. */
function checkData(net: Model, lossSpec: LossSpec, data: FitData): void {
  const loss = lossOf(lossSpec);
  for (const [which, d] of [['training', data.train], ['test', data.test]] as const) {
    if (!d) continue;
    const s = d.sampleShape;
    if (s.length !== net.inputShape.length || s.some((v, i) => v !== net.inputShape[i])) {
      throw new InputError(`the ${which} set ${d.name} has samples ${shapeStr(s)}, the model expects ${shapeStr(net.inputShape)} (its spec's input)`);
    }
    if (d.n < 1) throw new InputError(`the ${which} set ${d.name} is empty`);
    if (d.preprocess !== data.train.preprocess) throw new InputError(`the ${which} set must carry the training set's preprocessing (apply the transform fitted on the training set to both)`);
    const t = d.targets;
    checkLossFits(loss, net.outputShape, t.kind === 'labels' ? { kind: 'labels', classes: t.classes } : { kind: 'tensor', shape: t.kind === 'tensor' ? t.shape : s });
  }
}

/** One training run's state: position, metrics, folder, engine. */
class Run {
  epoch = 0;
  step = 0;
  stepInEpoch = 0;
  partial = { lossSum: 0, correct: 0, seen: 0 };
  metrics: EpochMetrics[] = [];
  ckptPath: string | null = null;
  bestPath: string | null = null;
  best: CheckpointMeta['best'];
  private metricsFile: MetricsFile | null = null;
  private readonly stepsPerEpoch: number;
  private readonly schedule;

  constructor(
    private readonly o: ResolvedOptions,
    private readonly core: Core,
    private readonly model: BoundModel,
    private readonly optimizer: Optimizer,
    private readonly spec: ModelSpec,
    private readonly lossSpec: LossSpec,
    private readonly data: FitData,
    private readonly log: (line: string) => void,
  ) {
    this.stepsPerEpoch = Math.ceil(data.train.n / o.batchSize);
    this.schedule = {
      kind: o.schedule,
      lr: o.lr,
      totalSteps: this.stepsPerEpoch * o.epochs,
      stepsPerEpoch: this.stepsPerEpoch,
      gamma: o.gamma,
      stepEpochs: o.stepEpochs,
      warmupSteps: Math.round(o.warmupEpochs * this.stepsPerEpoch),
    };
  }

  /** Creates --out (words, not errno, when it cannot) and moves an earlier run aside. */
  prepareFolder(): void {
    const out = this.o.out;
    if (!out) return;
    makeRunFolder(out);
    this.ckptPath = join(out, 'checkpoint.safetensors');
    this.bestPath = join(out, 'best.safetensors');
    cleanFolder(out, this.log);
    this.metricsFile = new MetricsFile(join(out, 'metrics.jsonl'));
    if (!this.o.resume) {
      const moved = archivePreviousRun(out);
      if (moved) this.log(`The earlier run in ${out} was moved to ${moved}`);
    }
  }

  resume(path: string): void {
    // the spec first: a checkpoint of another model is named as such, not as missing tensors
    const info = asInput(() => checkpointInfo(readSafetensors(path).metadata, path));
    if (info.model && specKey(info.model) !== specKey(this.spec)) {
      throw new InputError(`--resume: the checkpoint's model spec (${info.model.name ?? 'unnamed'}) differs from this run's (${this.spec.name ?? 'unnamed'}); resume with the model it was trained with`);
    }
    const meta = asInput(() => loadCheckpoint(path, this.model.params, this.optimizer, { allowNonfinite: this.o.allowNonfinite }));
    const flags = meta.flags as Record<string, unknown>;
    checkEpochsChange(flags.epochs, meta, this.o, this.log);
    for (const k of TRAJECTORY_KEYS) {
      if (k === 'epochs') continue;
      const was = JSON.stringify(flags[k] ?? null);
      const now = JSON.stringify((this.o as unknown as Record<string, unknown>)[k] ?? (k === 'loss' ? this.lossSpec : null));
      if (was !== now) throw new InputError(`--resume: the checkpoint was trained with ${k}=${was}, this run has ${now}; resume with the same settings`);
    }
    if (meta.data && meta.data.n !== this.data.train.n) {
      throw new InputError(`--resume: the checkpoint was trained on ${meta.data.n} training examples, this run has ${this.data.train.n}; use the same data and --limit-train`);
    }
    const pre = (p: unknown) => JSON.stringify(p ?? 'none');
    const mine = this.data.train.preprocess ? describePreprocess(this.data.train.preprocess) : undefined;
    if (pre(meta.data?.preprocess) !== pre(mine)) {
      throw new InputError(`--resume: the checkpoint's data was preprocessed with ${pre(meta.data?.preprocess)}, this run's with ${pre(mine)}; resume with the same preprocessing`);
    }
    if (meta.kernels && meta.kernels !== this.core.flavor) {
      this.log(`note: the checkpoint was trained with the ${meta.kernels} kernels, this run uses ${this.core.flavor}: the continuation will not be bit-identical`);
    }
    ({ epoch: this.epoch, step: this.step, stepInEpoch: this.stepInEpoch } = meta);
    this.partial = meta.partial ?? this.partial;
    this.best = meta.best;
    const file = this.metricsFile;
    if (file && existsSync(file.path)) {
      this.metrics.push(...readMetrics(file.path).filter((m) => m.epoch <= this.epoch));
      file.reset(this.metrics);
    }
    this.log(`Resumed from ${path}: epoch ${this.epoch + 1}, step ${this.step} (${this.stepInEpoch}/${this.stepsPerEpoch} into the epoch)`);
  }

  private dataInfo(): DataInfo {
    const d = this.data.train;
    return { name: d.name, sampleShape: [...d.sampleShape], n: d.n, ...(this.data.test ? { testN: this.data.test.n } : {}), ...(d.normalization ? { normalization: d.normalization } : {}), ...(d.classNames ? { classNames: d.classNames } : {}), ...(d.preprocess ? { preprocess: describePreprocess(d.preprocess) } : {}) };
  }

  /** Writes the checkpoint (and best.safetensors when `best`), unless the weights are no longer finite (then the last good one stays). */
  save(best = false): void {
    if (!this.ckptPath) return;
    if (!Number.isFinite(sumSq(this.core, this.model.params.data))) {
      throw new Error(`the weights became NaN/Inf at epoch ${this.epoch + 1}, step ${this.step}; the last good checkpoint ${this.ckptPath} was kept; try a lower --lr`);
    }
    // only what decides the trajectory and the results: two runs that differ in workers, --out or
    // speed write the same bytes
    const flags = Object.fromEntries(TRAJECTORY_KEYS.map((k) => [k, k === 'loss' ? this.lossSpec : this.o[k]]));
    const last = this.metrics[this.metrics.length - 1];
    const meta: CheckpointMeta = {
      epoch: this.epoch,
      step: this.step,
      stepInEpoch: this.stepInEpoch,
      seed: this.o.seed,
      optimizer: this.optimizer.name,
      flags,
      metrics: last ? resultsOf(last) : {},
      partial: this.partial,
      kernels: this.core.flavor,
      model: this.spec,
      loss: this.lossSpec,
      data: this.dataInfo(),
      ...(this.best ? { best: this.best } : {}),
    };
    const pre = this.data.train.preprocess;
    saveRunCheckpoint({ latest: this.ckptPath, best: best ? this.bestPath : null }, this.model.params, this.optimizer, meta, pre ? preprocessTensors(pre) : {});
  }

  private async engine(): Promise<GradEngine> {
    const { o, model, data } = this;
    const opts: StepOptions = { seed: o.seed, augment: o.augment, fill: backgroundFill(data.train) };
    if (o.workers <= 1) return new LocalEngine(model, data.train, o.chunkSize, opts);
    const { makePoolEngine } = await import('./pool.js');
    this.log(`Workers: ${o.workers} (chunks of ${o.chunkSize})`);
    return makePoolEngine({ core: this.core, model, spec: this.spec, cfg: o, opts, data: data.train, log: o.warn });
  }

  /** Trains until the last epoch or a stop; returns whether it stopped early. */
  async loop(stopAtStep?: number): Promise<boolean> {
    const { o } = this;
    const engine = await this.engine();
    o.onStart?.({ core: this.core, engine });
    try {
      while (this.epoch < o.epochs) {
        const stopped = await this.trainEpoch(engine, stopAtStep);
        if (stopped && this.stepInEpoch < this.stepsPerEpoch) {
          this.save();
          return true;
        }
        this.endEpoch();
        if (stopped) return this.epoch < o.epochs;
      }
      return false;
    } finally {
      await engine.close();
    }
  }

  private tEpoch = 0;
  private seenThisRun = 0;

  /** Steps through the rest of the epoch; returns true when a stop was requested. */
  private async trainEpoch(engine: GradEngine, stopAtStep?: number): Promise<boolean> {
    const { o, data, model } = this;
    const train = data.train;
    const perm = permutation(train.n, o.seed, this.epoch);
    const progress = o.progressOut ? new Progress(`Epoch ${this.epoch + 1}/${o.epochs}`, o.progressOut) : null;
    this.tEpoch = Date.now();
    this.seenThisRun = 0;
    try {
      while (this.stepInEpoch < this.stepsPerEpoch) {
        const idx = perm.subarray(this.stepInEpoch * o.batchSize, Math.min(train.n, (this.stepInEpoch + 1) * o.batchSize));
        const lr = lrAt(this.schedule, this.step);
        const r = await engine.minibatch(idx, this.step);
        if (!Number.isFinite(r.lossSum)) {
          throw new Error(
            `training loss became ${r.lossSum} at epoch ${this.epoch + 1}, step ${this.step}; stopped without updating the weights. ` +
              nanAdvice({ o, step: this.step, train, idx, ckpt: this.ckptPath && existsSync(this.ckptPath) ? this.ckptPath : null, resumed: Boolean(o.resume) }),
          );
        }
        this.optimizer.step(lr);
        model.applyBatchStats(r.stats);
        this.step++;
        this.stepInEpoch++;
        this.partial.lossSum += r.lossSum;
        this.partial.correct += r.correct;
        this.partial.seen += idx.length;
        this.seenThisRun += idx.length;
        const stats = {
          done: this.partial.seen,
          total: train.n,
          imagesPerSec: (this.seenThisRun * 1000) / Math.max(1, Date.now() - this.tEpoch),
          loss: this.partial.lossSum / this.partial.seen,
          ...(model.loss.accuracy ? { acc: this.partial.correct / this.partial.seen } : {}),
        };
        progress?.update(stats);
        o.onProgress?.({ ...stats, phase: 'train', epoch: this.epoch + 1 });
        if (o.checkpointEvery > 0 && this.step % o.checkpointEvery === 0) this.save();
        if (o.stop && this.step === stopAtStep) o.stop.requested = true;
        // the local engine never leaves the microtask queue: let signal handlers and I/O run
        await new Promise<void>((r) => setImmediate(r));
        if (o.stop?.requested) return true;
      }
      return false;
    } finally {
      progress?.finish();
    }
  }

  /** Evaluates, records the epoch's metrics and writes the checkpoint. */
  private endEpoch(): void {
    const { o, model, data } = this;
    const seconds = (Date.now() - this.tEpoch) / 1000;
    const ev = data.test ? this.evaluate(data.test) : null;
    const acc = model.loss.accuracy;
    const m: EpochMetrics = {
      epoch: this.epoch + 1,
      step: this.step,
      lr: lrAt(this.schedule, Math.max(0, this.step - 1)),
      train_loss: this.partial.lossSum / this.partial.seen,
      train_acc: acc ? this.partial.correct / this.partial.seen : null,
      test_loss: ev ? ev.lossSum / data.test!.n : null,
      test_acc: ev && acc ? ev.correct / data.test!.n : null,
      seconds,
      images_per_sec: this.seenThisRun / seconds,
      rss_mib: Math.round(process.memoryUsage().rss / 2 ** 20),
      wasm_live_mib: Math.round((this.core.heap.liveBytes / 2 ** 20) * 10) / 10,
      kernels: this.core.flavor,
    };
    if (m.test_loss !== null && !Number.isFinite(m.test_loss)) {
      throw new Error(`test loss became ${m.test_loss} after epoch ${this.epoch + 1}; the last good checkpoint ${this.ckptPath ?? '(none: no --out)'} was kept`);
    }
    this.metrics.push(m);
    this.metricsFile?.append(m);
    o.onEpoch?.(m);
    const f = (v: number | null) => (v === null ? '-' : v.toFixed(4));
    const testPart = ev ? ` | test loss ${f(m.test_loss)}${acc ? ` acc ${f(m.test_acc)}` : ''}` : '';
    this.log(
      `Epoch ${m.epoch}/${o.epochs}: train loss ${f(m.train_loss)}${acc ? ` acc ${f(m.train_acc)}` : ''}${testPart} | ` +
        `lr ${m.lr.toPrecision(3)} | ${Math.round(m.images_per_sec)} img/s, ${fmtTime(seconds)}`,
    );
    this.epoch++;
    this.stepInEpoch = 0;
    this.partial = { lossSum: 0, correct: 0, seen: 0 };
    const best = bestAfter(this.best, m);
    const improved = best !== this.best;
    this.best = best;
    this.save(improved);
  }

  /** The test set in batches, with a progress line (evaluation takes seconds on a large set). */
  private evaluate(test: Dataset) {
    const { o } = this;
    const progress = o.progressOut ? new Progress(`Epoch ${this.epoch + 1}/${o.epochs} test`, o.progressOut) : null;
    const t = Date.now();
    try {
      return this.model.evaluate(test, test.n, o.evalBatch, undefined, (done) => {
        const stats = { done, total: test.n, imagesPerSec: (done * 1000) / Math.max(1, Date.now() - t) };
        progress?.update(stats);
        o.onProgress?.({ ...stats, phase: 'eval', epoch: this.epoch + 1 });
      });
    } finally {
      progress?.finish();
    }
  }
}

/** An epoch's results without its timing and memory figures (those stay in metrics.jsonl). */
function resultsOf(m: EpochMetrics): Record<string, unknown> {
  const { seconds: _s, images_per_sec: _i, rss_mib: _r, wasm_live_mib: _w, ...rest } = m;
  void [_s, _i, _r, _w];
  return rest;
}
