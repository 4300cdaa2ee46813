// The reference LeNet (a Keras model that reached 0.9908 test accuracy):
// conv 5x5x20 'same' + ReLU → maxpool 2 → conv 5x5x50 'valid' + ReLU → maxpool 2 → flatten
// 1250 → dense 500 + ReLU → dense 10 (softmax lives in the loss). Parameter names and layouts
// are PyTorch's, so a state_dict saved as safetensors loads directly.
import { Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential } from './layers.js';
import type { InitScheme } from './params.js';

export const MNIST_SHAPE = [1, 28, 28] as const;

export function lenet(init: InitScheme = 'lecun'): Sequential {
  // PyTorch initialises biases like weights; the other schemes start them at zero (Keras)
  const biasInit: InitScheme = init === 'torch' ? 'torch' : 'zeros';
  return new Sequential([
    ['conv1', new Conv2d(1, 20, 5, { padding: 'same', init, biasInit })],
    ['relu1', new ReLU()],
    ['pool1', new MaxPool2d(2)],
    ['conv2', new Conv2d(20, 50, 5, { padding: 'valid', init, biasInit })],
    ['relu2', new ReLU()],
    ['pool2', new MaxPool2d(2)],
    ['flatten', new Flatten()],
    ['fc1', new Linear(1250, 500, { init, biasInit })],
    ['relu3', new ReLU()],
    ['fc2', new Linear(500, 10, { init, biasInit })],
  ]);
}
