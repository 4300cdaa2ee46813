// ONNX export of any model spec with its trained weights, for inference elsewhere (ONNX Runtime,
// in the browser or on a server). The graph is the spec walked in layer order, one ONNX node per
// layer (two for global average pooling), with the parameters as initializers under their
// PyTorch names; the batch dimension is symbolic ('N'). The protobuf is written by hand
// (src/io/protobuf.ts, field numbers from onnx.proto) and nothing here needs Node.
import { Message } from './protobuf.js';
import type { BoundModel } from '../train/model.js';
import { Model, layerNames, parseModelSpec, type LayerSpec, type ModelSpec } from '../nn/spec.js';
import { padFor } from '../ops/shapes.js';
import { InputError } from '../errors.js';

/** The operator set the graph is written against (every op used has had its present form since 13 or earlier). */
export const ONNX_OPSET = 13;
/** IR version 7 is the one that goes with opset 13. */
const IR_VERSION = 7;
/** TensorProto.DataType FLOAT */
const FLOAT = 1;
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_INTS = 7;

/** The ONNX op each spec layer type becomes. */
export const ONNX_OPS: Record<LayerSpec['type'], string> = {
  conv2d: 'Conv',
  linear: 'Gemm',
  maxpool2d: 'MaxPool',
  avgpool2d: 'AveragePool',
  global_avgpool: 'GlobalAveragePool + Flatten',
  relu: 'Relu',
  leaky_relu: 'LeakyRelu',
  sigmoid: 'Sigmoid',
  tanh: 'Tanh',
  softplus: 'Softplus',
  flatten: 'Flatten',
  dropout: 'Identity',
  batchnorm: 'BatchNormalization',
  residual: 'Add',
  concat: 'Concat',
};

type Attr = { name: string } & ({ int: number } | { ints: number[] } | { float: number });

interface OnnxNode {
  op: string;
  name: string;
  inputs: string[];
  output: string;
  attrs: Attr[];
}

type Pair = number | [number, number];
const pairOf = (p: Pair): [number, number] => (Array.isArray(p) ? [p[0], p[1]] : [p, p]);

/** The graph under construction: nodes in order, initializers by name, value names kept unique. */
class Graph {
  readonly nodes: OnnxNode[] = [];
  readonly initializers = new Map<string, { dims: number[]; data: Float32Array }>();
  private readonly values = new Set<string>(['input']);

  constructor(private readonly model: BoundModel) {}

  /** The initializer for parameter or buffer `name` of the model; the error names what the spec wanted. */
  param(name: string): string {
    if (this.initializers.has(name)) return name;
    const e = this.model.params.byName.get(name);
    if (!e) throw new InputError(`exportOnnx: the spec has a parameter '${name}' that the model lacks (is this model built from this spec?)`);
    this.initializers.set(name, { dims: [...e.shape], data: this.model.params.view(e) });
    return name;
  }

  /** Adds a node named after its layer; its output value gets the same name, made unique. */
  node(op: string, inputs: string[], name: string, attrs: Attr[] = []): string {
    let output = name;
    for (let k = 1; this.values.has(output); k++) output = `${name}_${k}`;
    this.values.add(output);
    this.nodes.push({ op, name: output, inputs, output, attrs });
    return output;
  }
}

function windowAttrs(kernel: Pair, stride: Pair, pad: [number, number]): Attr[] {
  return [
    { name: 'kernel_shape', ints: pairOf(kernel) },
    { name: 'strides', ints: pairOf(stride) },
    // ONNX lists the begin pads of every axis, then the end pads: ours are symmetric
    { name: 'pads', ints: [pad[0], pad[1], pad[0], pad[1]] },
  ];
}

function convPad(padding: 'same' | 'valid' | Pair | undefined, kernel: [number, number]): [number, number] {
  if (padding === undefined || padding === 'valid') return [0, 0];
  if (padding === 'same') return [padFor('same', kernel[0]), padFor('same', kernel[1])];
  return pairOf(padding);
}

/** Adds the nodes of one list of layers (`prefix` names a block's layers, as the model names their parameters). */
function addList(g: Graph, layers: LayerSpec[], x: string, prefix: string): string {
  const names = layerNames(layers);
  layers.forEach((l, i) => {
    x = addLayer(g, l, x, prefix ? `${prefix}.${names[i]}` : names[i]);
  });
  return x;
}

function addLayer(g: Graph, l: LayerSpec, x: string, full: string): string {
  switch (l.type) {
    case 'conv2d': {
      const k = pairOf(l.kernel);
      const attrs = windowAttrs(l.kernel, l.stride ?? 1, convPad(l.padding, k));
      return g.node('Conv', [x, g.param(`${full}.weight`), g.param(`${full}.bias`)], full, attrs);
    }
    case 'linear':
      // y = x·Wᵀ + b with W stored [out, in] as PyTorch stores it
      return g.node('Gemm', [x, g.param(`${full}.weight`), g.param(`${full}.bias`)], full, [{ name: 'transB', int: 1 }]);
    case 'maxpool2d':
      // ONNX's MaxPool never picks a padded position: the same as our -inf padding
      return g.node('MaxPool', [x], full, windowAttrs(l.kernel, l.stride ?? l.kernel, pairOf(l.padding ?? 0)));
    case 'avgpool2d':
      // ours divides by the whole window, padding included
      return g.node('AveragePool', [x], full, [...windowAttrs(l.kernel, l.stride ?? l.kernel, pairOf(l.padding ?? 0)), { name: 'count_include_pad', int: 1 }]);
    case 'global_avgpool':
      return g.node('Flatten', [g.node('GlobalAveragePool', [x], `${full}_pool`)], full, [{ name: 'axis', int: 1 }]);
    case 'relu':
      return g.node('Relu', [x], full);
    case 'leaky_relu':
      return g.node('LeakyRelu', [x], full, [{ name: 'alpha', float: l.slope ?? 0.01 }]);
    case 'sigmoid':
      return g.node('Sigmoid', [x], full);
    case 'tanh':
      return g.node('Tanh', [x], full);
    case 'softplus':
      return g.node('Softplus', [x], full);
    case 'flatten':
      return g.node('Flatten', [x], full, [{ name: 'axis', int: 1 }]);
    case 'dropout':
      // inference: dropout passes its input through
      return g.node('Identity', [x], full);
    case 'batchnorm': {
      const p = (k: string) => g.param(`${full}.${k}`);
      return g.node('BatchNormalization', [x, p('weight'), p('bias'), p('running_mean'), p('running_var')], full, [{ name: 'epsilon', float: l.eps ?? 1e-5 }]);
    }
    case 'residual': {
      const body = addList(g, l.body, x, full);
      const shortcut = addList(g, l.shortcut ?? [], x, full);
      return g.node('Add', [body, shortcut], full);
    }
    case 'concat':
      return g.node('Concat', l.branches.map((b, i) => addList(g, b, x, `${full}.${i}`)), full, [{ name: 'axis', int: 1 }]);
  }
}

// ---- encoding (field numbers: onnx.proto) -----------------------------------------------------

function encodeAttr(a: Attr): Message {
  const m = new Message().string(1, a.name);
  if ('int' in a) return m.int(3, a.int).int(20, ATTR_INT);
  if ('float' in a) return m.float(2, a.float).int(20, ATTR_FLOAT);
  return m.ints(8, a.ints).int(20, ATTR_INTS);
}

function encodeNode(n: OnnxNode): Message {
  const m = new Message();
  for (const i of n.inputs) m.string(1, i);
  m.string(2, n.output).string(3, n.name).string(4, n.op);
  for (const a of n.attrs) m.message(5, encodeAttr(a));
  return m;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** raw_data holds the floats little-endian whatever the host's order. */
function floatBytes(data: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(data.slice().buffer);
  const out = new Uint8Array(4 * data.length);
  const view = new DataView(out.buffer);
  data.forEach((v, i) => view.setFloat32(4 * i, v, true));
  return out;
}

function encodeTensor(name: string, dims: number[], data: Float32Array): Message {
  return new Message().ints(1, dims).int(2, FLOAT).string(8, name).bytes(9, floatBytes(data));
}

/** A float tensor's name and shape, with 'N' (symbolic) for the batch. */
function encodeValueInfo(name: string, dims: Array<number | string>): Message {
  const shape = new Message();
  for (const d of dims) shape.message(1, typeof d === 'string' ? new Message().string(2, d) : new Message().int(1, d));
  const tensorType = new Message().int(1, FLOAT).message(2, shape);
  return new Message().string(1, name).message(2, new Message().message(1, tensorType));
}

/** Every parameter the spec declares has the model's shape (names alone would let a wider layer through). */
function checkShapes(model: BoundModel, spec: ModelSpec): void {
  for (const p of new Model(spec).paramSpecs()) {
    const e = model.params.byName.get(p.name);
    if (e && e.shape.join(',') !== p.shape.join(',')) {
      throw new InputError(`exportOnnx: parameter '${p.name}' is [${e.shape.join(',')}] in the model but [${p.shape.join(',')}] in the spec (is this model built from this spec?)`);
    }
  }
}

/**
 * The model as an ONNX file (opset 13): inputs `input` [N, ...spec.input], outputs `output`
 * [N, ...the model's output], for any batch size N. Inference semantics: dropout is the
 * identity and BatchNorm uses the running statistics. `model` must be built from `spec`; a
 * parameter the spec names that the model lacks, or one the model has that the graph does
 * not use, is an InputError.
 */
export function exportOnnx(model: BoundModel, spec: ModelSpec): Uint8Array {
  const checked = parseModelSpec(spec);
  checkShapes(model, checked);
  const g = new Graph(model);
  const last = addList(g, checked.layers, 'input', '');
  const unused = model.params.entries.filter((e) => e.kind !== 'int' && !g.initializers.has(e.name)).map((e) => e.name);
  if (unused.length) throw new InputError(`exportOnnx: the model has parameters the spec does not use: ${unused.join(', ')} (is this model built from this spec?)`);
  // the last node's value becomes the graph's output
  const lastNode = g.nodes.find((n) => n.output === last)!;
  lastNode.output = 'output';
  for (const n of g.nodes) n.inputs = n.inputs.map((i) => (i === last ? 'output' : i));

  const graph = new Message();
  for (const n of g.nodes) graph.message(1, encodeNode(n));
  graph.string(2, checked.name ?? 'iruka');
  for (const [name, { dims, data }] of g.initializers) graph.message(5, encodeTensor(name, dims, data));
  graph.message(11, encodeValueInfo('input', ['N', ...checked.input]));
  graph.message(12, encodeValueInfo('output', ['N', ...model.outShape]));

  const spec_ = new Message().string(1, 'iruka_model').string(2, JSON.stringify(checked));
  return new Message()
    .int(1, IR_VERSION)
    .string(2, 'iruka')
    .message(7, graph)
    .message(8, new Message().string(1, '').int(2, ONNX_OPSET))
    .message(14, spec_)
    .finish();
}
