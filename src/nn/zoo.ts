// The model specs shipped in the package's models/ folder (documented in docs/models.md), by
// name: `--model resnet_mnist` reads models/resnet_mnist.json.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseModelSpec, SpecError, type ModelSpec } from './spec.js';
import { LENET_SPEC } from './lenet.js';

export const SHIPPED_MODELS = ['lenet', 'mlp', 'resnet_mnist', 'cifar_cnn', 'autoencoder_dense', 'autoencoder_conv'] as const;

/** The package's models/ folder (from src/ under vitest, from dist/src/ when built). */
export function modelsDir(): string {
  for (const rel of ['../../models/', '../../../models/']) {
    const url = new URL(rel, import.meta.url);
    if (existsSync(url)) return fileURLToPath(url);
  }
  throw new Error('the models/ folder of the package is missing');
}

/** A shipped spec by name; an unknown name is a usage error listing the shipped ones. */
export function shippedSpec(name: string): ModelSpec {
  if (!(SHIPPED_MODELS as readonly string[]).includes(name)) {
    throw new SpecError(`model '${name}' is neither a .json file nor a shipped model (${SHIPPED_MODELS.join(', ')})`);
  }
  if (name === 'lenet') return LENET_SPEC; // the same as models/lenet.json (a test keeps them equal)
  return parseModelSpec(JSON.parse(readFileSync(`${modelsDir()}${name}.json`, 'utf8')));
}
