// Loads a safetensors checkpoint into a model's parameters in the browser, with the library's
// own Node-free modules: decodeSafetensors parses and validates the file (header, dtypes,
// offsets), applyWeights checks every parameter's name, shape and dtype before copying any,
// so a bad file leaves the model as it was.
import { decodeSafetensors } from '../../dist/src/io/safetensors_codec.js';
import { applyWeights } from '../../dist/src/io/weights.js';

/** Sets `params` from the bytes of a .safetensors file; returns the file's metadata. */
export function loadWeightsFromBytes(bytes, params, source = 'checkpoint') {
  const { tensors, metadata } = decodeSafetensors(bytes, source);
  applyWeights(tensors, params, source);
  return metadata;
}
