// Layers beyond a plain chain: BatchNorm (with non-trainable running statistics) and the two
// blocks that make a network a graph: a residual sum
// body(x) + shortcut(x) and a channel concatenation of branches. Blocks hold Sequentials, so a
// block's parameters are named `<block>.<layer>.<param>`, nested as deep as the spec nests.
import type { Tensor, Shape } from '../tensor.js';
import { shapeStr } from '../tensor.js';
import type { Ctx, Layer, LocalSpec } from './layers.js';
import { Sequential, type SummaryRow } from './sequential.js';

/**
 * BatchNorm1d over [N,C] and BatchNorm2d over [N,C,H,W] (PyTorch's parameters weight, bias and
 * buffers running_mean, running_var, num_batches_tracked). In training it normalises with the
 * batch statistics and reports them in ctx.batchStats; the running statistics are updated by the
 * trainer once per step, from the chunks' statistics combined in chunk order.
 */
export class BatchNorm implements Layer {
  readonly kind: string;
  constructor(
    readonly channels: number,
    readonly eps = 1e-5,
    readonly momentum = 0.1,
    rank: 2 | 4 = 4,
  ) {
    if (!Number.isInteger(channels) || channels < 1) throw new Error(`BatchNorm: channels must be an integer >= 1, got ${channels}`);
    if (!(eps > 0)) throw new Error(`BatchNorm: eps must be > 0, got ${eps}`);
    if (!(momentum > 0 && momentum <= 1)) throw new Error(`BatchNorm: momentum must be in (0, 1], got ${momentum}`);
    this.kind = rank === 2 ? 'BatchNorm1d' : 'BatchNorm2d';
  }
  paramSpecs(): LocalSpec[] {
    const c = this.channels;
    const one = { fanIn: 1, fanOut: 1 };
    return [
      { local: 'weight', shape: [c], init: 'ones', ...one },
      { local: 'bias', shape: [c], init: 'zeros', ...one },
      { local: 'running_mean', shape: [c], init: 'zeros', trainable: false, ...one },
      { local: 'running_var', shape: [c], init: 'ones', trainable: false, ...one },
      { local: 'num_batches_tracked', shape: [], init: 'zeros', trainable: false, kind: 'int', ...one },
    ];
  }
  outShape(s: Shape): Shape {
    if ((s.length !== 2 && s.length !== 4) || s[1] !== this.channels) {
      throw new Error(`${this.kind}: expected input [N,${this.channels}] or [N,${this.channels},H,W], got ${shapeStr(s)}`);
    }
    return s;
  }
  forward(ctx: Ctx, x: Tensor, prefix: string): Tensor {
    const p = (k: string) => ctx.params.get(`${prefix}.${k}`);
    const stats = ctx.training ? new Float32Array(2 * this.channels) : undefined;
    const y = ctx.tape.apply('batchnorm', [x, p('weight'), p('bias'), p('running_mean'), p('running_var')], {
      training: ctx.training,
      eps: this.eps,
      stats,
    });
    if (stats) ctx.batchStats?.push({ name: prefix, stats, momentum: this.momentum });
    return y;
  }
}

/** y = body(x) + shortcut(x); an empty (absent) shortcut is the identity. */
export class Residual implements Layer {
  readonly kind = 'Residual';
  constructor(
    readonly body: Sequential,
    readonly shortcut: Sequential = new Sequential([]),
  ) {
    const dup = body.layers.find((b) => shortcut.layers.some((s) => s.name === b.name));
    if (dup) throw new Error(`Residual: the body and the shortcut both have a layer named '${dup.name}'`);
  }
  paramSpecs(s: Shape): LocalSpec[] {
    return [...this.body.localSpecs(s), ...this.shortcut.localSpecs(s)];
  }
  outShape(s: Shape): Shape {
    const a = this.body.outShape(s);
    const b = this.shortcut.outShape(s);
    if (a.length !== b.length || a.some((d, i) => d !== b[i])) {
      throw new Error(`Residual: the body gives ${shapeStr(a)} but the shortcut gives ${shapeStr(b)}; they must match to be added`);
    }
    return a;
  }
  forward(ctx: Ctx, x: Tensor, prefix: string): Tensor {
    const a = this.body.forward(ctx, x, prefix);
    const b = this.shortcut.forward(ctx, x, prefix);
    return ctx.tape.apply('add', [a, b], {});
  }
  rows(s: Shape, prefix: string, depth: number): SummaryRow[] {
    return [...this.body.rows(s, prefix, depth), ...this.shortcut.rows(s, prefix, depth)];
  }
}

/** Concatenates the branches' outputs along the channel axis; branch i's layers are named `<block>.<i>.<layer>`. */
export class Concat implements Layer {
  readonly kind = 'Concat';
  constructor(readonly branches: Sequential[]) {
    if (branches.length < 2) throw new Error(`Concat: needs at least 2 branches, got ${branches.length}`);
  }
  paramSpecs(s: Shape): LocalSpec[] {
    return this.branches.flatMap((b, i) => b.localSpecs(s).map((p) => ({ ...p, local: `${i}.${p.local}` })));
  }
  outShape(s: Shape): Shape {
    const outs = this.branches.map((b) => b.outShape(s));
    const first = outs[0];
    let channels = 0;
    outs.forEach((o, i) => {
      const fits = o.length === first.length && o.length >= 2 && o.every((d, j) => j === 1 || d === first[j]);
      if (!fits) throw new Error(`Concat: branch ${i} gives ${shapeStr(o)}, branch 0 gives ${shapeStr(first)}; all but the channel axis must match`);
      channels += o[1];
    });
    return [first[0], channels, ...first.slice(2)];
  }
  forward(ctx: Ctx, x: Tensor, prefix: string): Tensor {
    let y = this.branches[0].forward(ctx, x, `${prefix}.0`);
    for (let i = 1; i < this.branches.length; i++) y = ctx.tape.apply('concat', [y, this.branches[i].forward(ctx, x, `${prefix}.${i}`)], {});
    return y;
  }
  rows(s: Shape, prefix: string, depth: number): SummaryRow[] {
    return this.branches.flatMap((b, i) => b.rows(s, `${prefix}.${i}`, depth));
  }
}
