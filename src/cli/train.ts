#!/usr/bin/env node
// `npm run train` / `iruka-train`: trains any model spec on any dataset, on the worker pool.
import './relaxed_simd.js';
import { helpText, runCli, isMain } from './common.js';
import { trainFlags, runTrain, type TrainCommand } from './train_run.js';

export const FLAGS = trainFlags({ out: 'runs/train', epochs: '10', shift: '2' });

export const HELP = helpText(
  'npm run train -- --model SPEC --dataset NAME [options]   (or: iruka-train ...)',
  'Trains a model spec (a JSON file, or one shipped in models/: see docs/models.md) on a dataset,\n' +
    'evaluates on its test set after every epoch, and writes a checkpoint (safetensors, PyTorch\n' +
    'names, with the spec inside) and metrics.jsonl to --out. Ctrl-C stops cleanly with a checkpoint.\n' +
    'Examples:\n' +
    '  npm run train -- --model resnet_mnist --dataset mnist --epochs 5\n' +
    '  npm run train -- --model cifar_cnn --dataset cifar10 --data-dir ~/cifar-10-batches-bin --hflip\n' +
    '  npm run train -- --model my_net.json --dataset fashion-mnist --data-dir ~/fashion',
  FLAGS,
);

const COMMAND: TrainCommand = { name: 'train', flags: FLAGS };

export async function main(argv: string[]): Promise<void> {
  await runTrain(COMMAND, argv);
}

if (isMain(import.meta.url)) {
  await runCli('train', HELP, process.argv.slice(2), (argv) => main(argv));
}
