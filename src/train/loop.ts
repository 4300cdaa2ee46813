// The training loop without Node: minibatches in a seeded order per epoch (permutation(seed,
// epoch)), gradients from an engine, one optimizer step per minibatch, the learning-rate
// schedule, BatchNorm statistics from the chunks, evaluation and metrics after every epoch,
// the callbacks, and the checkpoint as bytes. fit() in Node (src/train/fit.ts) runs this same
// loop and only adds its files (folder, checkpoint files, metrics.jsonl, resume), so a page
// that calls fitWith() with the same spec, data and options gets the same bits by
// construction. What differs between the two is passed in as a LoopEnv.
import type { Core } from '../core/load.js';
import { permutation } from '../data/batches.js';
import { backgroundFill, type Dataset } from '../data/dataset.js';
import { makeOptimizer, lrAt, type Optimizer } from '../optim/index.js';
import { encodeCheckpoint, type CheckpointMeta, type DataInfo } from '../io/checkpoint_codec.js';
import { bestAfter, nanAdvice, clampBatch } from './rules.js';
import { checkFitsWasm } from './memory.js';
import { parseModelSpec, withInit, Model, type ModelSpec } from '../nn/spec.js';
import { sumSq } from '../core/kernels/elementwise.js';
import { InputError } from '../errors.js';
import { shapeStr } from '../tensor.js';
import { describePreprocess, preprocessTensors } from '../data/preprocess.js';
import { BoundModel, type ChunkResult } from './model.js';
import { checkLossFits, defaultLoss, lossOf, type LossSpec } from './losses.js';
import { LocalEngine, type GradEngine, type StepOptions } from './engine.js';
import { resolveFitOptions, batchWarnings, checkInitStd, TRAJECTORY_KEYS, type FitOptions, type ResolvedOptions } from './options.js';
import type { EpochMetrics } from './metrics.js';
import type { PinMode } from './options.js';
import { Progress, fmtTime } from './progress.js';

export interface FitData {
  train: Dataset;
  /** evaluated after every epoch (optional) */
  test?: Dataset;
}

/** What the engine factory gets: everything a pool needs to rebuild the model in its workers. */
export interface EngineContext {
  core: Core;
  model: BoundModel;
  spec: ModelSpec;
  cfg: { workers: number; chunkSize: number; batchSize: number; pin?: PinMode };
  opts: StepOptions;
  data: Dataset;
  log: (line: string) => void;
  warn?: (line: string) => void;
}

/** Where the loop runs: what Node and a page do differently. Every field has a Node-free default. */
export interface LoopEnv {
  /** the gradient engine (default: LocalEngine, every chunk on this thread) */
  engine?: (ctx: EngineContext) => Promise<GradEngine>;
  /** evaluates the test set in batches of `batch` (default: model.evaluate on this thread; a pool must give the same sums) */
  evaluate?: (model: BoundModel, test: Dataset, batch: number, onBatch: (done: number) => void) => Promise<ChunkResult>;
  /** keeps a checkpoint (at epoch ends, `best` when the epoch improved; every checkpointEvery steps; on a stop); absent: none is kept */
  save?: (bytes: Uint8Array, best: boolean) => void;
  /** the last good checkpoint's name, for the messages when training fails */
  lastCheckpoint?: () => string | null;
  /** called with each finished epoch's metrics before options.onEpoch (Node appends metrics.jsonl) */
  record?: (m: EpochMetrics) => void;
  /** lets other work run between steps (default: a macrotask turn) */
  pause?: () => Promise<void>;
  /** resident memory in MiB for the metrics (default 0) */
  rssMib?: () => number;
  /** why flavor 'auto' chose the build it did, for the first log line (Node measures; see choose_build.ts) */
  whyBuild?: () => string;
}

export interface LoopResult {
  metrics: EpochMetrics[];
  /** of the last finished epoch (NaN/null when there was none or no test set) */
  testLoss: number;
  testAcc: number | null;
  /** the run stopped early (stop requested) */
  interrupted: boolean;
  seconds: number;
  /** the spec actually trained (with options.init applied) */
  spec: ModelSpec;
  /** the trained model, ready for predict(); free() it when done */
  model: BoundModel;
}

export type LoopOptions = Partial<FitOptions> & { stopAtStep?: number };

const DISPLAY: Record<string, string> = { mnist: 'MNIST', 'fashion-mnist': 'Fashion-MNIST', cifar10: 'CIFAR-10' };

/**
 * Trains `spec` on `data` with `core` (or the core `core(flavor)` loads once the options are
 * checked); see FitOptions for the options. `before` sees the loop once it is set up and before
 * the first step (fit() makes its folder and resumes there).
 */
export async function fitWith(
  core: Core | ((flavor: ResolvedOptions['flavor']) => Core),
  specIn: ModelSpec | unknown,
  data: FitData,
  options: LoopOptions = {},
  env: LoopEnv = {},
  before?: (loop: TrainLoop) => void,
): Promise<LoopResult> {
  const t0 = Date.now();
  const { stopAtStep, ...rest } = options;
  const o = resolveFitOptions(rest);
  const log = o.log ?? (() => {});
  const chunkAuto = rest.chunkSize === undefined || rest.chunkSize === 'auto';
  clampBatch(o, data.train.n, chunkAuto, log);
  let spec = parseModelSpec(specIn);
  if (o.init) spec = withInit(spec, o.init);
  checkInitStd(o, spec);
  const net = new Model(spec);
  const lossSpec = o.loss ?? defaultLoss(data.train.targets.kind === 'labels' ? 'labels' : 'tensor');
  checkData(net, lossSpec, data);

  const c = typeof core === 'function' ? core(o.flavor) : core;
  const test = data.test;
  log(`${DISPLAY[data.train.name] ?? data.train.name}: ${data.train.n} training${test ? ` and ${test.n} test` : ''} images; kernels: ${c.flavor} build${o.flavor === 'auto' && env.whyBuild ? ` (auto: ${env.whyBuild()})` : ''}`);
  log(net.summary());
  checkFitsWasm(net, net.paramSpecs().reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0), { ...o, chunkAuto });
  for (const w of batchWarnings(o, data.train.n)) log(`warning: ${w}`);
  const model = new BoundModel(c, net, spec.input, lossSpec);
  model.params.init(o.seed, o.initStd);
  const optimizer = makeOptimizer(c, model.params.data, model.params.grad, {
    name: o.optimizer,
    momentum: o.momentum,
    nesterov: o.nesterov,
    weightDecay: o.weightDecay,
  });
  const loop = new TrainLoop(o, c, model, optimizer, spec, lossSpec, data, log, env);
  try {
    before?.(loop);
    const interrupted = await loop.run(stopAtStep);
    const last = loop.metrics[loop.metrics.length - 1];
    return { metrics: loop.metrics, testLoss: last?.test_loss ?? NaN, testAcc: last?.test_acc ?? null, interrupted, seconds: (Date.now() - t0) / 1000, spec, model };
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

/** A macrotask turn: setImmediate where there is one (Node), else a message to ourselves (browsers clamp nested timers to 4 ms). */
function nextTurn(): Promise<void> {
  const g = globalThis as { setImmediate?: (f: () => void) => void };
  if (g.setImmediate) return new Promise((r) => g.setImmediate!(r));
  return new Promise((r) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => {
      ch.port1.close();
      r();
    };
    ch.port2.postMessage(0);
  });
}

/** One training run's state (position, metrics, best epoch) and its loop. */
export class TrainLoop {
  epoch = 0;
  step = 0;
  stepInEpoch = 0;
  partial = { lossSum: 0, correct: 0, seen: 0 };
  metrics: EpochMetrics[] = [];
  best: CheckpointMeta['best'];
  readonly stepsPerEpoch: number;
  private readonly schedule;
  private tEpoch = 0;
  private seenThisRun = 0;

  constructor(
    readonly o: ResolvedOptions,
    readonly core: Core,
    readonly model: BoundModel,
    readonly optimizer: Optimizer,
    readonly spec: ModelSpec,
    readonly lossSpec: LossSpec,
    readonly data: FitData,
    readonly log: (line: string) => void,
    private readonly env: LoopEnv,
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

  private dataInfo(): DataInfo {
    const d = this.data.train;
    return { name: d.name, sampleShape: [...d.sampleShape], n: d.n, ...(this.data.test ? { testN: this.data.test.n } : {}), ...(d.normalization ? { normalization: d.normalization } : {}), ...(d.classNames ? { classNames: d.classNames } : {}), ...(d.preprocess ? { preprocess: describePreprocess(d.preprocess) } : {}) };
  }

  /** The checkpoint's metadata at this point of the run. */
  checkpointMeta(): CheckpointMeta {
    // only what decides the trajectory and the results: two runs that differ in workers, --out,
    // the machine (Node or a browser) or speed write the same bytes
    const flags = Object.fromEntries(TRAJECTORY_KEYS.map((k) => [k, k === 'loss' ? this.lossSpec : this.o[k]]));
    const last = this.metrics[this.metrics.length - 1];
    return {
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
  }

  /** The checkpoint file's bytes now: weights, optimizer state, preprocessing tensors and metadata. */
  checkpointBytes(): Uint8Array {
    const pre = this.data.train.preprocess;
    return encodeCheckpoint(this.model.params, this.optimizer, this.checkpointMeta(), pre ? preprocessTensors(pre) : {});
  }

  /** Hands the checkpoint to env.save (and `best` when the epoch improved), unless the weights are no longer finite. */
  private save(best = false): void {
    if (!this.env.save) return;
    if (!Number.isFinite(sumSq(this.core, this.model.params.data))) {
      const kept = this.env.lastCheckpoint?.();
      throw new Error(`the weights became NaN/Inf at epoch ${this.epoch + 1}, step ${this.step}; the last good checkpoint ${kept ?? '(none)'} was kept; try a lower --lr`);
    }
    this.env.save(this.checkpointBytes(), best);
  }

  private async engine(): Promise<GradEngine> {
    const { o, model, data } = this;
    const opts: StepOptions = { seed: o.seed, augment: o.augment, fill: backgroundFill(data.train) };
    if (o.workers <= 1 || !this.env.engine) return new LocalEngine(model, data.train, o.chunkSize, opts);
    return this.env.engine({ core: this.core, model, spec: this.spec, cfg: o, opts, data: data.train, log: this.log, warn: o.warn });
  }

  /** Trains until the last epoch or a stop; returns whether it stopped early. */
  async run(stopAtStep?: number): Promise<boolean> {
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
        await this.endEpoch(engine);
        if (stopped) return this.epoch < o.epochs;
      }
      return false;
    } finally {
      await engine.close();
    }
  }

  /** Steps through the rest of the epoch; returns true when a stop was requested. */
  private async trainEpoch(engine: GradEngine, stopAtStep?: number): Promise<boolean> {
    const { o, data, model } = this;
    const train = data.train;
    const perm = permutation(train.n, o.seed, this.epoch);
    const progress = o.progressOut ? new Progress(`Epoch ${this.epoch + 1}/${o.epochs}`, o.progressOut) : null;
    const pause = this.env.pause ?? nextTurn;
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
              nanAdvice({ o, step: this.step, train, idx, ckpt: this.env.lastCheckpoint?.() ?? null, resumed: Boolean(o.resume) }),
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
        // the local engine never leaves the microtask queue: let signal handlers, I/O and the page run
        await pause();
        if (o.stop?.requested) return true;
      }
      return false;
    } finally {
      progress?.finish();
    }
  }

  /** Evaluates, records the epoch's metrics and saves the checkpoint. */
  private async endEpoch(engine: GradEngine): Promise<void> {
    const { o, model, data } = this;
    const seconds = (Date.now() - this.tEpoch) / 1000;
    const ev = data.test ? await this.evaluate(data.test, engine) : null;
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
      rss_mib: this.env.rssMib?.() ?? 0,
      wasm_live_mib: Math.round((this.core.heap.liveBytes / 2 ** 20) * 10) / 10,
      kernels: this.core.flavor,
    };
    if (m.test_loss !== null && !Number.isFinite(m.test_loss)) {
      throw new Error(`test loss became ${m.test_loss} after epoch ${this.epoch + 1}; the last good checkpoint ${this.env.lastCheckpoint?.() ?? '(none: no --out)'} was kept`);
    }
    this.metrics.push(m);
    this.env.record?.(m);
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

  /** The test set in batches, with a progress line (evaluation takes seconds on a large set), on the engine's workers where it has them. */
  private async evaluate(test: Dataset, engine: GradEngine): Promise<ChunkResult> {
    const { o } = this;
    const progress = o.progressOut ? new Progress(`Epoch ${this.epoch + 1}/${o.epochs} test`, o.progressOut) : null;
    const t = Date.now();
    const onBatch = (done: number) => {
      const stats = { done, total: test.n, imagesPerSec: (done * 1000) / Math.max(1, Date.now() - t) };
      progress?.update(stats);
      o.onProgress?.({ ...stats, phase: 'eval', epoch: this.epoch + 1 });
    };
    try {
      if (engine.evaluate) return await engine.evaluate(test, o.evalBatch, onBatch);
      if (this.env.evaluate) return await this.env.evaluate(this.model, test, o.evalBatch, onBatch);
      return this.model.evaluate(test, test.n, o.evalBatch, undefined, onBatch);
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
