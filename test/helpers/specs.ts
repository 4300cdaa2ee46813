// Model specs shared by several suites.
import type { ModelSpec } from '../../src/nn/spec.js';

/** A small network with BatchNorm, a residual block and dropout: ops that mix a batch's examples. */
export const BN_NET: ModelSpec = {
  name: 'bn_net',
  input: [1, 28, 28],
  init: 'he',
  layers: [
    { type: 'conv2d', name: 'c1', filters: 4, kernel: 3, stride: 2, padding: 1 },
    { type: 'batchnorm', name: 'bn1' },
    { type: 'relu' },
    { type: 'residual', name: 'res', body: [{ type: 'conv2d', name: 'c', filters: 4, kernel: 3, padding: 'same' }, { type: 'batchnorm', name: 'bn' }] },
    { type: 'relu' },
    { type: 'maxpool2d', kernel: 2 },
    { type: 'flatten' },
    { type: 'dropout', p: 0.2 },
    { type: 'linear', name: 'fc', units: 10 },
  ],
};
