// The reference LeNet (a Keras model that reached 0.9908 test accuracy):
// conv 5x5x20 'same' + ReLU → maxpool 2 → conv 5x5x50 'valid' + ReLU → maxpool 2 → flatten
// 1250 → dense 500 + ReLU → dense 10 (softmax lives in the loss). Parameter names and layouts
// are PyTorch's, so a state_dict saved as safetensors loads directly. The spec is the same as
// models/lenet.json (a test keeps them equal); it lives here too so that code without a file
// system (a browser) has it.
import { buildModel, withInit, type Model, type ModelSpec } from './spec.js';
import type { InitScheme } from './params.js';

export const MNIST_SHAPE = [1, 28, 28] as const;

export const LENET_SPEC: ModelSpec = {
  format: 'iruka-model-1',
  name: 'lenet',
  input: [1, 28, 28],
  init: 'lecun',
  layers: [
    { type: 'conv2d', name: 'conv1', filters: 20, kernel: 5, padding: 'same' },
    { type: 'relu', name: 'relu1' },
    { type: 'maxpool2d', name: 'pool1', kernel: 2 },
    { type: 'conv2d', name: 'conv2', filters: 50, kernel: 5, padding: 'valid' },
    { type: 'relu', name: 'relu2' },
    { type: 'maxpool2d', name: 'pool2', kernel: 2 },
    { type: 'flatten', name: 'flatten' },
    { type: 'linear', name: 'fc1', units: 500 },
    { type: 'relu', name: 'relu3' },
    { type: 'linear', name: 'fc2', units: 10 },
  ],
};

/** The reference LeNet, its weights initialised by `init` (PyTorch's scheme also for biases, zeros otherwise). */
export function lenet(init: InitScheme = 'lecun'): Model {
  return buildModel(withInit(LENET_SPEC, init));
}
