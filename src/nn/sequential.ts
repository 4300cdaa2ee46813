// Containers: a named list of layers, and the Keras-style summary of any layer tree. Parameter
// names are `<layer name>.<local name>` as in PyTorch; a block nests its layers' names under its
// own (`res1.conv_a.weight`), so a state_dict of the same network in PyTorch has the same keys.
import type { Tensor, Shape } from '../tensor.js';
import { sizeOf } from '../tensor.js';
import type { ParamSpec } from './params.js';
import type { Ctx, Layer, LocalSpec } from './layers.js';

/** One line of a summary: the layer's full name and type, its output shape per sample, its counts. */
export interface SummaryRow {
  name: string;
  kind: string;
  outShape: Shape;
  trainable: number;
  fixed: number;
  /** nesting depth (a block's layers are one deeper than the block) */
  depth: number;
}

export class Sequential {
  readonly layers: Array<{ name: string; layer: Layer }>;
  constructor(layers: Array<[string, Layer]>) {
    const seen = new Set<string>();
    for (const [name] of layers) {
      if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error(`Sequential: layer name '${name}' must be letters, digits and _ only`);
      if (seen.has(name)) throw new Error(`Sequential: two layers are named '${name}'`);
      seen.add(name);
    }
    this.layers = layers.map(([name, layer]) => ({ name, layer }));
  }

  /** Parameter and buffer specs for a batch input of shape `inShape`, in layer order, names relative to this list. */
  localSpecs(inShape: Shape): LocalSpec[] {
    const specs: LocalSpec[] = [];
    let s = inShape;
    for (const { name, layer } of this.layers) {
      for (const p of layer.paramSpecs(s)) specs.push({ ...p, local: `${name}.${p.local}` });
      s = layer.outShape(s);
    }
    return specs;
  }

  /** All parameter specs for a batch input of shape `inShape`, in layer order. */
  paramSpecs(inShape: Shape): ParamSpec[] {
    return this.localSpecs(inShape).map(({ local, ...rest }) => ({ ...rest, name: local }));
  }

  outShape(inShape: Shape): Shape {
    return this.layers.reduce((s, { layer }) => layer.outShape(s), inShape);
  }

  /** Runs the layers in order; `prefix` names this list's parameters inside a block ('' at the top). */
  forward(ctx: Ctx, x: Tensor, prefix = ''): Tensor {
    let h = x;
    for (const { name, layer } of this.layers) h = layer.forward(ctx, h, prefix ? `${prefix}.${name}` : name);
    return h;
  }

  /** Summary rows of every layer (blocks list their inner layers first, then themselves). */
  rows(inShape: Shape, prefix = '', depth = 0): SummaryRow[] {
    const out: SummaryRow[] = [];
    let s = inShape;
    for (const { name, layer } of this.layers) {
      const full = prefix ? `${prefix}.${name}` : name;
      if (layer.rows) out.push(...layer.rows(s, full, depth + 1));
      const next = layer.outShape(s);
      const specs = layer.paramSpecs(s);
      out.push({
        name: full,
        kind: layer.kind,
        outShape: next.slice(1),
        trainable: specs.filter((p) => p.trainable !== false).reduce((a, p) => a + sizeOf(p.shape), 0),
        fixed: specs.filter((p) => p.trainable === false).reduce((a, p) => a + sizeOf(p.shape), 0),
        depth,
      });
      s = next;
    }
    return out;
  }

  /** The Keras-style table for inputs of `sampleShape` (one sample, no batch dimension). */
  summary(sampleShape: Shape): string {
    return summaryTable(this.rows([1, ...sampleShape]));
  }
}

/**
 * A table in the familiar Keras form: layer (type), output shape, parameter count; totals. A
 * block's own row counts only what is not already on its inner layers' rows (nothing), so the
 * column sums to the total.
 */
export function summaryTable(rows: SummaryRow[]): string {
  const own = rows.map((r) => {
    const inner = rows.filter((o) => o.depth === r.depth + 1 && o.name.startsWith(r.name + '.'));
    return { ...r, trainable: r.trainable - sum(inner, 'trainable'), fixed: r.fixed - sum(inner, 'fixed') };
  });
  const fmt = (n: number) => n.toLocaleString('en-US');
  const table: [string, string, string][] = own.map((r) => [
    `${'  '.repeat(r.depth)}${r.name} (${r.kind})`,
    `(None, ${r.outShape.join(', ')})`,
    fmt(r.trainable + r.fixed),
  ]);
  const trainable = sum(own, 'trainable');
  const fixed = sum(own, 'fixed');
  const head: [string, string, string] = ['Layer (type)', 'Output Shape', 'Param #'];
  const w = [0, 1, 2].map((i) => Math.max(head[i].length, ...table.map((r) => r[i].length)) + 4);
  const line = (r: [string, string, string]) => (r[0].padEnd(w[0]) + r[1].padEnd(w[1]) + r[2]).trimEnd();
  const rule = (c: string) => c.repeat(w[0] + w[1] + w[2] - 4);
  return [
    rule('_'),
    line(head),
    rule('='),
    ...table.flatMap((r, i) => (i ? [rule('_'), line(r)] : [line(r)])),
    rule('='),
    `Total params: ${fmt(trainable + fixed)}`,
    `Trainable params: ${fmt(trainable)}`,
    `Non-trainable params: ${fmt(fixed)}`,
    rule('_'),
  ].join('\n');
}

function sum(rows: SummaryRow[], key: 'trainable' | 'fixed'): number {
  return rows.reduce((a, r) => a + r[key], 0);
}
