#!/usr/bin/env node
// `npm run train:mnist` / `iruka-train-mnist`: trains the reference LeNet on MNIST with the
// recipe that reaches 99.5 % (the generic `train` command with the LeNet and MNIST fixed).
import './relaxed_simd.js';
import { helpText, runCli, isMain } from './common.js';
import { trainFlags, runTrain, type TrainCommand } from './train_run.js';

const { model: _m, dataset: _d, ...FLAGS } = trainFlags({ out: 'runs/mnist', epochs: '15', shift: '2' });
void [_m, _d];
export { FLAGS };

export const HELP = helpText(
  'npm run train:mnist -- [options]   (or: iruka-train-mnist [options])',
  'Trains the reference LeNet (conv 5x5x20 same, pool, conv 5x5x50 valid, pool, dense 500, dense 10)\n' +
    'on MNIST, evaluates on the 10,000 test images after every epoch, and writes a checkpoint\n' +
    '(safetensors, PyTorch names) and metrics.jsonl to --out. Ctrl-C stops cleanly with a checkpoint.\n' +
    'Any other model or dataset: npm run train -- --model SPEC --dataset NAME.',
  FLAGS,
);

const COMMAND: TrainCommand = { name: 'train:mnist', flags: FLAGS };

export async function main(argv: string[], hooks: Parameters<typeof runTrain>[2] = {}): Promise<void> {
  await runTrain(COMMAND, argv, hooks);
}

if (isMain(import.meta.url)) {
  await runCli('train:mnist', HELP, process.argv.slice(2), (argv) => main(argv));
}
