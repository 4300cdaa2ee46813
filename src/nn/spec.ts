// Models as data: a JSON description of a network (its input shape and a tree of layers) that
// any part of the system can rebuild — the trainer, each worker of the pool, a checkpoint's
// reader, the browser. `parseModelSpec` checks a spec strictly (unknown types and keys, values
// out of range: one error naming the layer's path); `buildModel` makes the layers and chains
// the shapes, naming the layer and both shapes where they do not fit.
import type { Shape, Tensor } from '../tensor.js';
import { shapeStr, sizeOf } from '../tensor.js';
import { InputError } from '../errors.js';
import type { InitScheme, ParamSpec } from './params.js';
import { Conv2d, Linear, MaxPool2d, AvgPool2d, GlobalAvgPool2d, ReLU, LeakyReLU, Sigmoid, Tanh, Activation as ActivationLayer, Flatten, Dropout, type Ctx, type Layer } from './layers.js';
import { PLAIN_ACTIVATIONS, type PlainActivation } from '../ops/table.js';
import { BatchNorm, Concat, Residual } from './blocks.js';
import { Sequential, summaryTable } from './sequential.js';

export const MODEL_FORMAT = 'iruka-model-1';

type Pair = number | [number, number];
type Padding = 'same' | 'valid' | Pair;

export interface Conv2dSpec { type: 'conv2d'; name?: string; filters: number; kernel: Pair; stride?: Pair; padding?: Padding; init?: InitScheme; biasInit?: InitScheme }
export interface LinearSpec { type: 'linear'; name?: string; units: number; init?: InitScheme; biasInit?: InitScheme }
export interface PoolSpec { type: 'maxpool2d' | 'avgpool2d'; name?: string; kernel: Pair; stride?: Pair; padding?: Pair }
export interface PlainSpec { type: PlainActivation | 'flatten' | 'global_avgpool'; name?: string }
export interface LeakyReluSpec { type: 'leaky_relu'; name?: string; slope?: number }
export interface DropoutSpec { type: 'dropout'; name?: string; p: number }
export interface BatchNormSpec { type: 'batchnorm'; name?: string; eps?: number; momentum?: number }
export interface ResidualSpec { type: 'residual'; name?: string; body: LayerSpec[]; shortcut?: LayerSpec[] }
export interface ConcatSpec { type: 'concat'; name?: string; branches: LayerSpec[][] }

export type LayerSpec =
  | Conv2dSpec
  | LinearSpec
  | PoolSpec
  | PlainSpec
  | LeakyReluSpec
  | DropoutSpec
  | BatchNormSpec
  | ResidualSpec
  | ConcatSpec;

export type LayerType = LayerSpec['type'];

export interface ModelSpec {
  format?: typeof MODEL_FORMAT;
  /** shown in logs and summaries */
  name?: string;
  /** one sample's shape: [C,H,W] for images, [F] for vectors */
  input: number[];
  /** weight initialisation of every conv and linear layer that does not set its own (default lecun) */
  init?: InitScheme;
  layers: LayerSpec[];
}

/** A spec that does not describe a network we can build (InputError: the CLIs exit 2). */
export class SpecError extends InputError {}

const INITS: readonly InitScheme[] = ['lecun', 'he', 'xavier', 'torch', 'zeros'];
/** Every activation a spec (and --activation) can name: the op table's plain ones, and leaky_relu with its slope. */
export type Activation = PlainActivation | 'leaky_relu';
export const ACTIVATIONS: readonly Activation[] = [...PLAIN_ACTIVATIONS, 'leaky_relu'];

/** Per layer type: its allowed keys (besides type and name) and which of them are required. */
const KEYS: Record<LayerType, { required: string[]; optional: string[] }> = {
  conv2d: { required: ['filters', 'kernel'], optional: ['stride', 'padding', 'init', 'biasInit'] },
  linear: { required: ['units'], optional: ['init', 'biasInit'] },
  maxpool2d: { required: ['kernel'], optional: ['stride', 'padding'] },
  avgpool2d: { required: ['kernel'], optional: ['stride', 'padding'] },
  flatten: { required: [], optional: [] },
  global_avgpool: { required: [], optional: [] },
  leaky_relu: { required: [], optional: ['slope'] },
  dropout: { required: ['p'], optional: [] },
  batchnorm: { required: [], optional: ['eps', 'momentum'] },
  residual: { required: ['body'], optional: ['shortcut'] },
  concat: { required: ['branches'], optional: [] },
  ...(Object.fromEntries(PLAIN_ACTIVATIONS.map((a) => [a, { required: [], optional: [] }])) as unknown as Record<PlainActivation, { required: string[]; optional: string[] }>),
};
export const LAYER_TYPES = Object.keys(KEYS) as LayerType[];

// ---- checking a spec ------------------------------------------------------------------------

/** A value as JSON for an error message, cut short (a spec can be any size). */
function show(v: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(v);
  } catch {
    text = String(v);
  }
  if (text === undefined) return String(v);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function fail(where: string, msg: string): never {
  throw new SpecError(`model spec: ${where}: ${msg}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function int(where: string, key: string, v: unknown, min: number, max = 1 << 20): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) fail(where, `${key} must be an integer in [${min}, ${max}], got ${show(v)}`);
}

function pair(where: string, key: string, v: unknown, min: number): void {
  if (Array.isArray(v)) {
    if (v.length !== 2) fail(where, `${key} must be a number or a [height, width] pair, got ${show(v)}`);
    v.forEach((x, i) => int(where, `${key}[${i}]`, x, min, 4096));
  } else int(where, key, v, min, 4096);
}

function real(where: string, key: string, v: unknown, ok: (x: number) => boolean, range: string): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) fail(where, `${key} must be ${range}, got ${show(v)}`);
}

function checkLayer(l: unknown, where: string, names: Set<string>, depth: number): void {
  if (!isObject(l)) fail(where, `a layer must be an object like {"type": "conv2d", ...}, got ${show(l)}`);
  const type = l.type;
  if (typeof type !== 'string' || !Object.hasOwn(KEYS, type)) {
    fail(where, `unknown layer type ${show(type)}; known types: ${LAYER_TYPES.join(', ')}`);
  }
  const t = type as LayerType;
  const at = typeof l.name === 'string' ? `${where} (${l.name})` : where;
  if (l.name !== undefined) {
    if (typeof l.name !== 'string' || !/^[A-Za-z0-9_]{1,64}$/.test(l.name)) fail(where, `name must be 1-64 letters, digits or _, got ${show(l.name)}`);
    if (names.has(l.name)) fail(at, `the name '${l.name}' is used twice in the same list`);
    names.add(l.name);
  }
  const { required, optional } = KEYS[t];
  for (const k of Object.keys(l)) {
    if (k !== 'type' && k !== 'name' && !required.includes(k) && !optional.includes(k)) {
      fail(at, `unknown key '${k}' for a ${t} layer; its keys: ${[...required, ...optional].join(', ') || '(none)'}`);
    }
  }
  for (const k of required) if (l[k] === undefined) fail(at, `a ${t} layer needs '${k}'`);
  switch (t) {
    case 'conv2d':
      int(at, 'filters', l.filters, 1);
      pair(at, 'kernel', l.kernel, 1);
      if (l.stride !== undefined) pair(at, 'stride', l.stride, 1);
      if (l.padding !== undefined && l.padding !== 'same' && l.padding !== 'valid') pair(at, 'padding', l.padding, 0);
      if (l.padding === 'same' && l.stride !== undefined && JSON.stringify(l.stride) !== '1' && JSON.stringify(l.stride) !== '[1,1]') {
        fail(at, "padding 'same' needs stride 1 (give the padding as a number for a strided conv)");
      }
      checkInit(at, l);
      return;
    case 'linear':
      int(at, 'units', l.units, 1);
      checkInit(at, l);
      return;
    case 'maxpool2d':
    case 'avgpool2d':
      pair(at, 'kernel', l.kernel, 1);
      if (l.stride !== undefined) pair(at, 'stride', l.stride, 1);
      if (l.padding !== undefined) pair(at, 'padding', l.padding, 0);
      return;
    case 'leaky_relu':
      if (l.slope !== undefined) real(at, 'slope', l.slope, (x) => x >= 0 && x < 1, 'in [0, 1)');
      return;
    case 'dropout':
      real(at, 'p', l.p, (x) => x >= 0 && x < 1, 'in [0, 1)');
      return;
    case 'batchnorm':
      if (l.eps !== undefined) real(at, 'eps', l.eps, (x) => x > 0 && x < 1, 'in (0, 1)');
      if (l.momentum !== undefined) real(at, 'momentum', l.momentum, (x) => x > 0 && x <= 1, 'in (0, 1]');
      return;
    case 'residual':
      checkList(l.body, `${at}.body`, depth + 1, false);
      if (l.shortcut !== undefined) checkList(l.shortcut, `${at}.shortcut`, depth + 1, true, names);
      return;
    case 'concat':
      if (!Array.isArray(l.branches) || l.branches.length < 2) fail(at, `branches must be a list of at least 2 layer lists, got ${show(l.branches)}`);
      (l.branches as unknown[]).forEach((b, i) => checkList(b, `${at}.branches[${i}]`, depth + 1, true));
      return;
    default:
      return;
  }
}

function checkInit(at: string, l: Record<string, unknown>): void {
  for (const k of ['init', 'biasInit']) {
    if (l[k] !== undefined && !INITS.includes(l[k] as InitScheme)) fail(at, `${k} must be one of ${INITS.join(', ')}, got ${show(l[k])}`);
  }
}

function checkList(list: unknown, where: string, depth: number, mayBeEmpty: boolean, names = new Set<string>()): void {
  if (depth > 16) fail(where, 'blocks nest more than 16 deep');
  if (!Array.isArray(list)) fail(where, `must be a list of layers, got ${show(list)}`);
  if (!mayBeEmpty && list.length === 0) fail(where, 'must hold at least one layer');
  if (list.length > 1000) fail(where, `holds ${list.length} layers; at most 1000`);
  list.forEach((l, i) => checkLayer(l, `${where}[${i}]`, names, depth));
}

/**
 * Checks that `json` (a parsed spec file, or an object an app made) is a model spec; returns it
 * typed. Throws SpecError naming the first problem and where it is (`layers[3] (conv2)`).
 */
export function parseModelSpec(json: unknown): ModelSpec {
  if (!isObject(json)) fail('top level', `a model spec must be an object with "input" and "layers", got ${show(json)}`);
  for (const k of Object.keys(json)) {
    if (!['format', 'name', 'input', 'init', 'layers', 'description'].includes(k)) fail('top level', `unknown key '${k}'; keys: format, name, description, input, init, layers`);
  }
  if (json.format !== undefined && json.format !== MODEL_FORMAT) fail('format', `must be '${MODEL_FORMAT}', got ${show(json.format)}`);
  if (json.name !== undefined && typeof json.name !== 'string') fail('name', 'must be a string');
  const input = json.input;
  if (!Array.isArray(input) || input.length < 1 || input.length > 3) fail('input', `must be one sample's shape, [C,H,W] or [F], got ${show(input)}`);
  input.forEach((d, i) => int('input', `input[${i}]`, d, 1, 1 << 16));
  if (sizeOf(input as number[]) > 1 << 24) fail('input', `${shapeStr(input as number[])} is too large a sample`);
  if (json.init !== undefined && !INITS.includes(json.init as InitScheme)) fail('init', `must be one of ${INITS.join(', ')}, got ${show(json.init)}`);
  checkList(json.layers, 'layers', 0, false);
  return json as unknown as ModelSpec;
}

// ---- building -------------------------------------------------------------------------------

/** A network built from a spec: its layers, shapes and parameter specs. */
export class Model {
  readonly net: Sequential;
  /** one sample's shape, in and out */
  readonly inputShape: Shape;
  readonly outputShape: Shape;

  constructor(readonly spec: ModelSpec) {
    this.inputShape = spec.input;
    const init = spec.init ?? 'lecun';
    this.net = buildList(spec.layers, init, 'layers');
    this.outputShape = chainShapes(spec.layers, this.net, [1, ...spec.input], 'layers').slice(1);
  }

  paramSpecs(batchShape: Shape = [1, ...this.inputShape]): ParamSpec[] {
    return this.net.paramSpecs(batchShape);
  }

  outShape(batchShape: Shape): Shape {
    return this.net.outShape(batchShape);
  }

  forward(ctx: Ctx, x: Tensor): Tensor {
    return this.net.forward(ctx, x);
  }

  /** The Keras-style table for this model's input shape. */
  summary(): string {
    return summaryTable(this.net.rows([1, ...this.inputShape]));
  }
}

/** Checks and builds a spec (a parsed JSON value or a typed object). */
export function buildModel(spec: ModelSpec | unknown): Model {
  return new Model(parseModelSpec(spec));
}

/** Each layer's name in a list: its own, else the type and a count per type (conv2d_1, conv2d_2, relu_1, ...). */
export function layerNames(list: LayerSpec[]): string[] {
  const counts = new Map<string, number>();
  const taken = new Set(list.map((l) => l.name).filter(Boolean));
  return list.map((l) => {
    if (l.name) return l.name;
    let name: string;
    do {
      const k = (counts.get(l.type) ?? 0) + 1;
      counts.set(l.type, k);
      name = `${l.type}_${k}`;
    } while (taken.has(name));
    taken.add(name);
    return name;
  });
}

function buildList(list: LayerSpec[], init: InitScheme, where: string): Sequential {
  const names = layerNames(list);
  return new Sequential(list.map((l, i) => [names[i], buildLayer(l, init, `${where}[${i}] (${names[i]})`)]));
}

/** The layer's constructor needs the input channels/features, so layers are made while shapes chain (see chainShapes). */
function buildLayer(l: LayerSpec, init: InitScheme, where: string): Layer {
  try {
    return makeLayer(l, init, where);
  } catch (e) {
    if (e instanceof SpecError) throw e;
    fail(where, (e as Error).message);
  }
}

function makeLayer(l: LayerSpec, init: InitScheme, where: string): Layer {
  switch (l.type) {
    case 'conv2d':
    case 'linear':
    case 'batchnorm':
      return new Lazy(l, init, where); // needs the input's channels
    case 'maxpool2d':
      return new MaxPool2d(l.kernel, l.stride, l.padding);
    case 'avgpool2d':
      return new AvgPool2d(l.kernel, l.stride, l.padding);
    case 'relu':
      return new ReLU();
    case 'sigmoid':
      return new Sigmoid();
    case 'tanh':
      return new Tanh();
    default:
      if ((PLAIN_ACTIVATIONS as readonly string[]).includes(l.type)) return new ActivationLayer(l.type as PlainActivation);
      throw new SpecError(`model spec: ${where}: unknown layer type ${l.type}`);
    case 'flatten':
      return new Flatten();
    case 'global_avgpool':
      return new GlobalAvgPool2d();
    case 'leaky_relu':
      return new LeakyReLU(l.slope);
    case 'dropout':
      return new Dropout(l.p);
    case 'residual':
      return new Residual(buildList(l.body, init, `${where}.body`), buildList(l.shortcut ?? [], init, `${where}.shortcut`));
    case 'concat':
      return new Concat(l.branches.map((b, i) => buildList(b, init, `${where}.branches[${i}]`)));
  }
}

/**
 * A conv, linear or batchnorm layer whose input channels come from the shape before it: the
 * concrete layer is made on first sight of the input shape and checked on every later one.
 */
class Lazy implements Layer {
  private inner: Layer | null = null;
  private inAxis = -1;
  constructor(
    private readonly l: Conv2dSpec | LinearSpec | BatchNormSpec,
    private readonly init: InitScheme,
    private readonly where: string,
  ) {}
  get kind(): string {
    return this.inner?.kind ?? { conv2d: 'Conv2d', linear: 'Linear', batchnorm: 'BatchNorm' }[this.l.type];
  }
  private of(s: Shape): Layer {
    const l = this.l;
    const need = l.type === 'conv2d' ? 4 : l.type === 'linear' ? 2 : 0;
    if (need && s.length !== need) {
      const hint = l.type === 'linear' ? '; add a flatten layer before it' : '';
      fail(this.where, `a ${l.type} layer needs a ${need === 4 ? '[N,C,H,W]' : '[N,features]'} input, but the layer before gives ${shapeStr(s)}${hint}`);
    }
    if (l.type === 'batchnorm' && s.length !== 2 && s.length !== 4) fail(this.where, `batchnorm needs a [N,C] or [N,C,H,W] input, got ${shapeStr(s)}`);
    if (!this.inner) {
      this.inAxis = s[1];
      this.inner = this.make(s);
    } else if (s[1] !== this.inAxis) {
      fail(this.where, `was built for ${this.inAxis} input channels, got ${shapeStr(s)}`);
    }
    return this.inner;
  }
  private make(s: Shape): Layer {
    const l = this.l;
    const w = (l as Conv2dSpec).init ?? this.init;
    const b = (l as Conv2dSpec).biasInit ?? (w === 'torch' ? 'torch' : 'zeros');
    try {
      if (l.type === 'conv2d') {
        return new Conv2d(s[1], l.filters, l.kernel, { stride: l.stride, padding: l.padding, init: w, biasInit: b });
      }
      if (l.type === 'linear') return new Linear(s[1], l.units, { init: w, biasInit: b });
      return new BatchNorm(s[1], l.eps, l.momentum, s.length as 2 | 4);
    } catch (e) {
      fail(this.where, (e as Error).message);
    }
  }
  paramSpecs(s: Shape) {
    return this.of(s).paramSpecs(s);
  }
  outShape(s: Shape): Shape {
    const inner = this.of(s);
    try {
      return inner.outShape(s);
    } catch (e) {
      fail(this.where, `input ${shapeStr(s)}: ${(e as Error).message}`);
    }
  }
  forward(ctx: Ctx, x: Tensor, prefix: string): Tensor {
    return this.of(x.shape).forward(ctx, x, prefix);
  }
}

/** Walks the shapes through the layers once, so a spec that does not chain fails at build time, naming the layer. */
function chainShapes(list: LayerSpec[], net: Sequential, s: Shape, where: string): Shape {
  const names = layerNames(list);
  net.layers.forEach(({ layer }, i) => {
    const at = `${where}[${i}] (${names[i]})`;
    try {
      const next = layer.outShape(s);
      layer.paramSpecs(s);
      if (next.some((d) => !Number.isInteger(d) || d < 1)) fail(at, `turns ${shapeStr(s)} into ${shapeStr(next)}`);
      s = next;
    } catch (e) {
      if (e instanceof SpecError) throw e;
      fail(at, `input ${shapeStr(s)}: ${(e as Error).message}`);
    }
  });
  return s;
}

// ---- spec transforms (the CLI's --init and --activation) ------------------------------------

function mapLayers(list: LayerSpec[], f: (l: LayerSpec) => LayerSpec): LayerSpec[] {
  return list.map((l) => {
    const m = f(l);
    if (m.type === 'residual') return { ...m, body: mapLayers(m.body, f), ...(m.shortcut ? { shortcut: mapLayers(m.shortcut, f) } : {}) };
    if (m.type === 'concat') return { ...m, branches: m.branches.map((b) => mapLayers(b, f)) };
    return m;
  });
}

/** The spec with every hidden activation (relu, sigmoid, tanh, leaky_relu) replaced by `act`; names kept. */
export function withActivation(spec: ModelSpec, act: Activation): ModelSpec {
  const isAct = (t: string) => (ACTIVATIONS as readonly string[]).includes(t);
  return {
    ...spec,
    layers: mapLayers(spec.layers, (l) => (isAct(l.type) ? ({ type: act, ...(l.name ? { name: l.name } : {}) } as LayerSpec) : l)),
  };
}

/** The spec with one initialisation for every conv and linear layer (their own init keys removed). */
export function withInit(spec: ModelSpec, init: InitScheme): ModelSpec {
  return {
    ...spec,
    init,
    layers: mapLayers(spec.layers, (l) => {
      if (l.type !== 'conv2d' && l.type !== 'linear') return l;
      const { init: _w, biasInit: _b, ...rest } = l;
      void _w;
      void _b;
      return rest as LayerSpec;
    }),
  };
}

/** A canonical JSON form (sorted keys), for comparing two specs. */
export function specKey(spec: ModelSpec): string {
  const sort = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(sort) : isObject(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort(v[k])])) : v;
  const { format: _f, name: _n, ...rest } = spec as ModelSpec & { description?: string };
  void _f;
  void _n;
  delete (rest as { description?: string }).description;
  return JSON.stringify(sort(rest));
}
