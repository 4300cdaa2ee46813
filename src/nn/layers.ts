// Layers are thin (STYLE 14): a constructor declares parameters, forward is a line or two of
// tape ops. No layer has its own backward: the op table does. Models are lists of layers.
import type { Tape } from '../autograd.js';
import type { Tensor, Shape } from '../tensor.js';
import { sizeOf } from '../tensor.js';
import { padFor, windowOut } from '../ops/shapes.js';
import type { PlainActivation } from '../ops/table.js';
import type { InitScheme, ParamSpec, Params } from './params.js';
import type { SummaryRow } from './sequential.js';
import type { PackedWeights } from '../core/kernels/linear.js';
import type { WeightRows } from '../ops/weight_rows.js';

/** What a forward pass needs besides the input. */
export interface Ctx {
  tape: Tape;
  params: Params;
  training: boolean;
  /** uniform [0,1) draws (one per Dropout layer call seeds its mask; seeded by the trainer per step and chunk) */
  random: () => number;
  /** BatchNorm layers in training append their batch statistics here; the trainer updates the running ones */
  batchStats?: BatchStat[];
  /** where dense layers find their weights packed while they are fixed (BoundModel's WeightPacks) */
  packs?: PackedWeights;
  /** where dense layers leave their weight gradients as rows, when an engine takes them (src/ops/weight_rows.ts) */
  weightRows?: WeightRows;
}

/** One BatchNorm layer's statistics over one chunk: mean then unbiased variance per channel. */
export interface BatchStat {
  /** the layer's full name (its buffers are `<name>.running_mean`, ...) */
  name: string;
  stats: Float32Array;
  momentum: number;
}

export interface Layer {
  /** the type shown by summary(), e.g. 'Conv2d' */
  readonly kind: string;
  /** parameter and buffer specs with names relative to the layer ('weight', 'bias') */
  paramSpecs(inShape: Shape): LocalSpec[];
  outShape(inShape: Shape): Shape;
  forward(ctx: Ctx, x: Tensor, prefix: string): Tensor;
  /** a block's inner layers, for summary() */
  rows?(inShape: Shape, prefix: string, depth: number): SummaryRow[];
}

export type LocalSpec = Omit<ParamSpec, 'name'> & { local: string };

/** A size given once for both axes or as [height, width]. */
export type Pair = number | [number, number];
/** Zero padding: a size (or [h, w]), or Keras-style 'same' (stride 1, odd kernel) / 'valid' (0). */
export type Padding = 'same' | 'valid' | Pair;

/** Resolves a Pair argument to [h, w]; throws naming the layer and the argument. */
function pairArg(layer: string, name: string, v: unknown, min: number): [number, number] {
  const ok = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= min;
  if (ok(v)) return [v, v];
  if (Array.isArray(v) && v.length === 2 && ok(v[0]) && ok(v[1])) return [v[0], v[1]];
  const what = min === 0 ? 'an integer >= 0' : `an integer >= ${min}`;
  throw new Error(`${layer}: ${name} must be ${what} or a pair [h, w] of them, got ${JSON.stringify(v)}`);
}

/** Resolves padding to [h, w] for kernel [kh, kw] and stride [sh, sw]. */
function paddingArg(layer: string, v: unknown, k: [number, number], st: [number, number]): [number, number] {
  if (v === 'valid') return [0, 0];
  if (v === 'same') {
    if (st[0] !== 1 || st[1] !== 1) throw new Error(`${layer}: padding 'same' needs stride 1, got stride ${JSON.stringify(st[0] === st[1] ? st[0] : st)}`);
    if (k[0] % 2 === 0 || k[1] % 2 === 0) throw new Error(`${layer}: padding 'same' needs an odd kernel size, got kernel ${JSON.stringify(k[0] === k[1] ? k[0] : k)}`);
    return [padFor('same', k[0]), padFor('same', k[1])];
  }
  if (typeof v === 'string') throw new Error(`${layer}: padding must be 'same', 'valid', an integer >= 0 or a pair [h, w] of them, got ${JSON.stringify(v)}`);
  return pairArg(layer, 'padding', v, 0);
}

/** [h, w] as the number it was when both agree (what summary() and older callers read), else the pair. */
function compact(p: [number, number]): Pair {
  return p[0] === p[1] ? p[0] : p;
}

/** Output height and width of a window layer; throws when the kernel is larger than the padded input. */
function windowShape(layer: string, s: Shape, k: [number, number], st: [number, number], p: [number, number]): [number, number] {
  const oh = windowOut(s[2], k[0], st[0], p[0]);
  const ow = windowOut(s[3], k[1], st[1], p[1]);
  if (oh < 1 || ow < 1) {
    throw new Error(`${layer}: kernel ${k[0]}x${k[1]} is larger than the padded input ${s[2] + 2 * p[0]}x${s[3] + 2 * p[1]}`);
  }
  return [oh, ow];
}

export interface ConvOptions {
  /** default 1 */
  stride?: Pair;
  /** default 'valid' */
  padding?: Padding;
  init?: InitScheme;
  biasInit?: InitScheme;
}

export class Conv2d implements Layer {
  readonly kind = 'Conv2d';
  /** resolved stride: a number when the same on both axes, else [h, w] */
  readonly stride: Pair;
  /** resolved zero padding per side: a number when the same on both axes, else [h, w] */
  readonly pad: Pair;
  private readonly k: [number, number];
  private readonly st: [number, number];
  private readonly p: [number, number];
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernel: Pair,
    readonly opts: ConvOptions = {},
  ) {
    for (const [name, v] of [['inChannels', inChannels], ['outChannels', outChannels]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`Conv2d: ${name} must be an integer >= 1, got ${v}`);
    }
    this.k = pairArg('Conv2d', 'kernel', kernel, 1);
    this.st = pairArg('Conv2d', 'stride', opts.stride ?? 1, 1);
    this.p = paddingArg('Conv2d', opts.padding ?? 'valid', this.k, this.st);
    this.stride = compact(this.st);
    this.pad = compact(this.p);
  }
  paramSpecs(): LocalSpec[] {
    const [kh, kw] = this.k;
    const fanIn = this.inChannels * kh * kw;
    const fanOut = this.outChannels * kh * kw;
    return [
      { local: 'weight', shape: [this.outChannels, this.inChannels, kh, kw], init: this.opts.init ?? 'he', fanIn, fanOut },
      { local: 'bias', shape: [this.outChannels], init: this.opts.biasInit ?? 'zeros', fanIn, fanOut },
    ];
  }
  outShape(s: Shape): Shape {
    if (s.length !== 4 || s[1] !== this.inChannels) {
      throw new Error(`Conv2d: expected input [N,${this.inChannels},H,W], got [${s.join(',')}]`);
    }
    const [oh, ow] = windowShape('Conv2d', s, this.k, this.st, this.p);
    return [s[0], this.outChannels, oh, ow];
  }
  forward(ctx: Ctx, x: Tensor, prefix: string): Tensor {
    const { params } = ctx;
    return ctx.tape.apply('conv2d', [x, params.get(`${prefix}.weight`), params.get(`${prefix}.bias`)], {
      stride: [...this.st],
      pad: [...this.p],
    });
  }
}

export class Linear implements Layer {
  readonly kind = 'Linear';
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    readonly opts: { init?: InitScheme; biasInit?: InitScheme } = {},
  ) {}
  paramSpecs(): LocalSpec[] {
    const fanIn = this.inFeatures;
    const fanOut = this.outFeatures;
    return [
      { local: 'weight', shape: [this.outFeatures, this.inFeatures], init: this.opts.init ?? 'he', fanIn, fanOut },
      { local: 'bias', shape: [this.outFeatures], init: this.opts.biasInit ?? 'zeros', fanIn, fanOut },
    ];
  }
  outShape(s: Shape): Shape {
    if (s.length !== 2 || s[1] !== this.inFeatures) {
      throw new Error(`Linear: expected input [N,${this.inFeatures}], got [${s.join(',')}]`);
    }
    return [s[0], this.outFeatures];
  }
  forward(ctx: Ctx, x: Tensor, prefix: string): Tensor {
    return ctx.tape.apply('linear', [x, ctx.params.get(`${prefix}.weight`), ctx.params.get(`${prefix}.bias`)], ctx.weightRows ? { packs: ctx.packs, weightRows: ctx.weightRows } : ctx.packs ? { packs: ctx.packs } : {});
  }
}

abstract class Pool implements Layer {
  abstract readonly kind: string;
  protected abstract readonly op: 'maxpool2d' | 'avgpool2d';
  /** resolved stride (default: the kernel): a number when the same on both axes, else [h, w] */
  readonly stride: Pair;
  /** resolved zero padding per side (default 0) */
  readonly pad: Pair;
  private readonly k: [number, number];
  private readonly st: [number, number];
  private readonly p: [number, number];
  constructor(
    readonly kernel: Pair,
    stride?: Pair,
    pad: Padding = 0,
  ) {
    // new.target.name: the subclass's kind is not assigned yet while this constructor runs
    const layer = new.target.name;
    this.k = pairArg(layer, 'kernel', kernel, 1);
    this.st = pairArg(layer, 'stride', stride ?? kernel, 1);
    this.p = paddingArg(layer, pad, this.k, this.st);
    if (2 * this.p[0] > this.k[0] || 2 * this.p[1] > this.k[1]) {
      throw new Error(`${layer}: padding ${JSON.stringify(compact(this.p))} is more than half the kernel ${JSON.stringify(kernel)} (a window would hold only padding)`);
    }
    this.stride = compact(this.st);
    this.pad = compact(this.p);
  }
  paramSpecs(): LocalSpec[] {
    return [];
  }
  outShape(s: Shape): Shape {
    if (s.length !== 4) throw new Error(`${this.kind}: expected input [N,C,H,W], got [${s.join(',')}]`);
    const [oh, ow] = windowShape(this.kind, s, this.k, this.st, this.p);
    return [s[0], s[1], oh, ow];
  }
  forward(ctx: Ctx, x: Tensor): Tensor {
    return ctx.tape.apply(this.op, [x], { kernel: [...this.k], stride: [...this.st], pad: [...this.p] });
  }
}

export class MaxPool2d extends Pool {
  readonly kind = 'MaxPool2d';
  protected readonly op = 'maxpool2d' as const;
}

export class AvgPool2d extends Pool {
  readonly kind = 'AvgPool2d';
  protected readonly op = 'avgpool2d' as const;
}

abstract class Elementwise implements Layer {
  abstract readonly kind: string;
  protected abstract readonly op: PlainActivation;
  paramSpecs(): LocalSpec[] {
    return [];
  }
  outShape(s: Shape): Shape {
    return s;
  }
  forward(ctx: Ctx, x: Tensor): Tensor {
    return ctx.tape.apply(this.op, [x], {});
  }
}

/** Any activation of the op table that takes no attrs (softplus, ...), by its op name. */
export class Activation extends Elementwise {
  readonly kind: string;
  constructor(protected readonly op: PlainActivation) {
    super();
    this.kind = op.charAt(0).toUpperCase() + op.slice(1);
  }
}

export class ReLU extends Elementwise {
  readonly kind = 'ReLU';
  protected readonly op = 'relu' as const;
}
export class Sigmoid extends Elementwise {
  readonly kind = 'Sigmoid';
  protected readonly op = 'sigmoid' as const;
}
export class Tanh extends Elementwise {
  readonly kind = 'Tanh';
  protected readonly op = 'tanh' as const;
}

/** y = x > 0 ? x : slope*x (PyTorch's LeakyReLU; slope in [0, 1), default 0.01). */
export class LeakyReLU implements Layer {
  readonly kind = 'LeakyReLU';
  constructor(readonly slope = 0.01) {
    if (typeof slope !== 'number' || !(slope >= 0 && slope < 1)) throw new Error(`LeakyReLU: slope must be a number in [0, 1), got ${slope}`);
  }
  paramSpecs(): LocalSpec[] {
    return [];
  }
  outShape(s: Shape): Shape {
    return s;
  }
  forward(ctx: Ctx, x: Tensor): Tensor {
    return ctx.tape.apply('leaky_relu', [x], { slope: this.slope });
  }
}

/** [N, C, H, W] → [N, C]: the mean of each channel's plane (PyTorch's AdaptiveAvgPool2d(1) + flatten). */
export class GlobalAvgPool2d implements Layer {
  readonly kind = 'GlobalAvgPool2d';
  paramSpecs(): LocalSpec[] {
    return [];
  }
  outShape(s: Shape): Shape {
    if (s.length !== 4) throw new Error(`GlobalAvgPool2d: expected input [N,C,H,W], got [${s.join(',')}]`);
    return [s[0], s[1]];
  }
  forward(ctx: Ctx, x: Tensor): Tensor {
    return ctx.tape.apply('global_avgpool', [x], {});
  }
}

/** [N, ...] → [N, prod(...)] in C order, so a conv's [N,C,H,W] flattens as C,H,W (PyTorch's order). */
export class Flatten implements Layer {
  readonly kind = 'Flatten';
  paramSpecs(): LocalSpec[] {
    return [];
  }
  outShape(s: Shape): Shape {
    return [s[0], sizeOf(s.slice(1))];
  }
  forward(ctx: Ctx, x: Tensor): Tensor {
    return ctx.tape.apply('reshape', [x], { shape: this.outShape(x.shape) });
  }
}

/** Inverted dropout: zeroes each element with probability p during training, scales the rest by 1/(1-p). */
export class Dropout implements Layer {
  readonly kind = 'Dropout';
  constructor(readonly p: number) {
    if (!(p >= 0 && p < 1)) throw new Error(`Dropout: p must be in [0, 1), got ${p}`);
  }
  paramSpecs(): LocalSpec[] {
    return [];
  }
  outShape(s: Shape): Shape {
    return s;
  }
  forward(ctx: Ctx, x: Tensor): Tensor {
    if (!ctx.training || this.p === 0) return x;
    // one draw seeds the kernel's counter-based mask, the same on every flavour and worker
    const seed = Math.floor(ctx.random() * 2 ** 32);
    return ctx.tape.apply('dropout', [x], { p: this.p, seed });
  }
}

export { Sequential } from './sequential.js';
