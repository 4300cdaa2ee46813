// Setting a model's parameters from decoded safetensors by PyTorch name, free of Node
// built-ins (browsers fetch the bytes and call decodeSafetensors + applyWeights).
import { expectTensor, type SafeTensor } from './safetensors_codec.js';
import type { Params } from '../nn/params.js';

/**
 * Copies tensor `<name>` into each parameter after checking every name, shape and dtype first,
 * so a bad file leaves the model as it was. Other tensors (optimizer state) are ignored.
 */
export function applyWeights(tensors: Map<string, SafeTensor>, params: Params, source: string): void {
  const staged = params.entries.map((e) => ({ e, t: expectTensor(tensors, e.name, [...e.shape], source) }));
  const data = params.data.view();
  for (const { e, t } of staged) data.set(t.data as Float32Array, e.offset);
}
