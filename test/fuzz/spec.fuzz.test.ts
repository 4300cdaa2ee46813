// Property-based tests of the model-spec checker and of a checkpoint's JSON metadata: any JSON
// value, and any mutation of a shipped spec, either builds (and then its shapes chain and its
// parameter names are unique) or throws a SpecError with one short message; a checkpoint's
// metadata strings either parse or throw an InputError naming the field; a loss spec either
// parses or throws an InputError. Never a TypeError, a hang or an allocation.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildModel, SpecError, LAYER_TYPES, type ModelSpec } from '../../src/nn/spec.js';
import { shippedSpec, SHIPPED_MODELS } from '../../src/nn/zoo.js';
import { checkpointInfo } from '../../src/io/checkpoint.js';
import { lossOf } from '../../src/train/losses.js';
import { InputError } from '../../src/errors.js';
import { budget, FUZZ_TIMEOUT_MS, loadsOrRefuses } from './budget.js';

const SHIPPED = SHIPPED_MODELS.map((n) => shippedSpec(n));
/** every layer type the spec checker knows, and two it does not */
const TYPES: string[] = [...LAYER_TYPES, 'conv3d', ''];
const KEYS = ['type', 'name', 'filters', 'kernel', 'stride', 'padding', 'units', 'p', 'slope', 'eps', 'momentum', 'body', 'shortcut', 'branches', 'init', 'biasInit', '__proto__', 'constructor'];
const value = fc.oneof(
  fc.integer({ min: -3, max: 70 }),
  fc.constantFrom(0, 1, 2, 3, 5, 0.5, -1, 1e9, 2 ** 53, Number.NaN, 'same', 'valid', 'he', 'torch', null, true, [], [1, 2], [0, 3], [3, 3, 3], {}),
  fc.string({ maxLength: 6 }),
  fc.jsonValue({ maxDepth: 3 }),
);

/** Every layer of a spec, nested ones too, as mutable objects. */
function layersOf(spec: ModelSpec): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const walk = (list: unknown) => {
    if (!Array.isArray(list)) return;
    for (const l of list) {
      if (!l || typeof l !== 'object') continue;
      out.push(l as Record<string, unknown>);
      const o = l as Record<string, unknown>;
      walk(o.body);
      walk(o.shortcut);
      if (Array.isArray(o.branches)) o.branches.forEach(walk);
    }
  };
  walk(spec.layers);
  return out;
}

type Mutation = { kind: 'set' | 'delete' | 'dup' | 'drop' | 'input'; at: number; key: string; v: unknown };
const mutation: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom('set', 'set', 'set', 'delete', 'dup', 'drop', 'input'),
  at: fc.nat(40),
  key: fc.constantFrom(...KEYS),
  v: fc.oneof(value, fc.constantFrom(...TYPES)),
});

function mutate(base: ModelSpec, ms: Mutation[]): unknown {
  const spec = JSON.parse(JSON.stringify(base)) as ModelSpec;
  for (const m of ms) {
    const layers = layersOf(spec);
    const l = layers[m.at % Math.max(1, layers.length)];
    if (m.kind === 'input') (spec as unknown as Record<string, unknown>).input = m.v;
    else if (!l) continue;
    else if (m.kind === 'set') Object.defineProperty(l, m.key, { value: m.v, enumerable: true, configurable: true, writable: true });
    else if (m.kind === 'delete') delete l[m.key];
    else if (m.kind === 'dup') spec.layers.splice(m.at % spec.layers.length, 0, JSON.parse(JSON.stringify(l)));
    else spec.layers.splice(m.at % spec.layers.length, 1);
  }
  return spec;
}

/** A spec that built: its parameter names are unique and every shape is positive. */
function checkBuilt(spec: unknown): void {
  const m = loadsOrRefuses(() => buildModel(spec), SpecError, 'model spec: ');
  if (!m) return;
  const names = m.paramSpecs().map((p) => p.name);
  expect(new Set(names).size).toBe(names.length);
  expect(m.outputShape.every((d) => Number.isInteger(d) && d >= 1)).toBe(true);
}

describe('model spec (fuzzed)', () => {
  it('any JSON value builds or is a SpecError', () => {
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 6 }), (j) => checkBuilt(j)), budget(0.2));
  }, FUZZ_TIMEOUT_MS);

  it('random layer lists on a small input build or are a SpecError', () => {
    const layer = fc.dictionary(fc.constantFrom(...KEYS), fc.oneof(value, fc.constantFrom(...TYPES)), { maxKeys: 5 });
    const spec = fc.record({ input: fc.oneof(fc.constant([1, 8, 8]), fc.constant([3, 5, 7]), fc.constant([6]), value), layers: fc.array(layer, { maxLength: 6 }) });
    fc.assert(fc.property(spec, (s) => checkBuilt(s)), budget(0.3));
  }, FUZZ_TIMEOUT_MS);

  it('mutated shipped specs build or are a SpecError', () => {
    fc.assert(fc.property(fc.constantFrom(...SHIPPED), fc.array(mutation, { minLength: 1, maxLength: 4 }), (base, ms) => checkBuilt(mutate(base, ms))), budget(0.3));
  }, FUZZ_TIMEOUT_MS);
});

describe('checkpoint metadata and loss specs (fuzzed)', () => {
  const field = fc.oneof(fc.string({ maxLength: 40 }), fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)), fc.constantFrom('{', '[1,', '{"a":', 'null', 'NaN', '1e999', '"x"'));
  it('the JSON fields parse or are an InputError naming the field; a loss parses or is an InputError', () => {
    const meta = fc.record({ flags: field, model: field, loss: field, data: field }, { requiredKeys: [] });
    fc.assert(
      fc.property(meta, (m) => {
        const info = loadsOrRefuses(() => checkpointInfo(m as Record<string, string>, 'ck.safetensors'), InputError, 'checkpoint ck.safetensors: metadata ');
        if (!info) return;
        if (info.model !== undefined) loadsOrRefuses(() => buildModel(info.model), SpecError);
        if (info.loss !== undefined) loadsOrRefuses(() => lossOf(info.loss), InputError, 'loss: ');
      }),
      budget(0.2),
    );
  }, FUZZ_TIMEOUT_MS);
});
