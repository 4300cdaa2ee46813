// Setting a model's parameters and buffers from decoded safetensors by PyTorch name, and the
// reverse (a state_dict to encode), free of Node built-ins (browsers fetch the bytes and call
// decodeSafetensors + applyWeights).
import { expectTensor, type SafeTensor, type TensorIn } from './safetensors_codec.js';
import type { ParamEntry, Params } from '../nn/params.js';

/** PyTorch stores counts (num_batches_tracked) as int64; everything else is f32. */
function dtypeOf(e: ParamEntry): 'I64' | 'F32' {
  return e.kind === 'int' ? 'I64' : 'F32';
}

/**
 * Copies tensor `<name>` into each parameter and buffer after checking every name, shape and
 * dtype first, so a bad file leaves the model as it was. Other tensors (optimizer state) are
 * ignored.
 */
export function applyWeights(tensors: Map<string, SafeTensor>, params: Params, source: string): void {
  const staged = params.entries.map((e) => ({ e, t: expectTensor(tensors, e.name, [...e.shape], source, dtypeOf(e)) }));
  for (const { e, t } of staged) {
    const view = params.view(e);
    if (t.data instanceof BigInt64Array) for (let i = 0; i < view.length; i++) view[i] = Number(t.data[i]);
    else view.set(t.data as Float32Array);
  }
}

/** The model's parameters and buffers by name, as safetensors tensors (a PyTorch state_dict). */
export function stateTensors(params: Params): Record<string, TensorIn> {
  const out: Record<string, TensorIn> = {};
  for (const e of params.entries) {
    const v = params.view(e);
    out[e.name] = { shape: [...e.shape], data: e.kind === 'int' ? BigInt64Array.from(v, (x) => BigInt(x)) : v.slice() };
  }
  return out;
}
