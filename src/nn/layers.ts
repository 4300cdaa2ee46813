// Layers are thin (STYLE 14): a constructor declares parameters, forward is a line or two of
// tape ops. No layer has its own backward: the op table does. Models are lists of layers.
import type { Tape } from '../autograd.js';
import type { Tensor, Shape } from '../tensor.js';
import { sizeOf } from '../tensor.js';
import { padFor, windowOut } from '../ops/shapes.js';
import type { InitScheme, ParamSpec, Params } from './params.js';
import type { SummaryRow } from './sequential.js';

/** What a forward pass needs besides the input. */
export interface Ctx {
  tape: Tape;
  params: Params;
  training: boolean;
  /** uniform [0,1) draws (one per Dropout layer call seeds its mask; seeded by the trainer per step and chunk) */
  random: () => number;
  /** BatchNorm layers in training append their batch statistics here; the trainer updates the running ones */
  batchStats?: BatchStat[];
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

export interface ConvOptions {
  stride?: number;
  padding?: 'same' | 'valid' | number;
  init?: InitScheme;
  biasInit?: InitScheme;
}

export class Conv2d implements Layer {
  readonly kind = 'Conv2d';
  readonly stride: number;
  readonly pad: number;
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernel: number,
    readonly opts: ConvOptions = {},
  ) {
    this.stride = opts.stride ?? 1;
    if (opts.padding === 'same' && this.stride !== 1) throw new Error("Conv2d: padding 'same' needs stride 1");
    this.pad = padFor(opts.padding ?? 'valid', kernel);
  }
  paramSpecs(): LocalSpec[] {
    const fanIn = this.inChannels * this.kernel * this.kernel;
    const fanOut = this.outChannels * this.kernel * this.kernel;
    return [
      { local: 'weight', shape: [this.outChannels, this.inChannels, this.kernel, this.kernel], init: this.opts.init ?? 'he', fanIn, fanOut },
      { local: 'bias', shape: [this.outChannels], init: this.opts.biasInit ?? 'zeros', fanIn, fanOut },
    ];
  }
  outShape(s: Shape): Shape {
    if (s.length !== 4 || s[1] !== this.inChannels) {
      throw new Error(`Conv2d: expected input [N,${this.inChannels},H,W], got [${s.join(',')}]`);
    }
    const oh = windowOut(s[2], this.kernel, this.stride, this.pad);
    const ow = windowOut(s[3], this.kernel, this.stride, this.pad);
    if (oh < 1 || ow < 1) throw new Error(`Conv2d: kernel ${this.kernel} is larger than the padded input ${s[2]}x${s[3]}`);
    return [s[0], this.outChannels, oh, ow];
  }
  forward(ctx: Ctx, x: Tensor, prefix: string): Tensor {
    const { params } = ctx;
    return ctx.tape.apply('conv2d', [x, params.get(`${prefix}.weight`), params.get(`${prefix}.bias`)], {
      stride: [this.stride, this.stride],
      pad: [this.pad, this.pad],
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
    return ctx.tape.apply('linear', [x, ctx.params.get(`${prefix}.weight`), ctx.params.get(`${prefix}.bias`)], {});
  }
}

abstract class Pool implements Layer {
  abstract readonly kind: string;
  protected abstract readonly op: 'maxpool2d' | 'avgpool2d';
  readonly stride: number;
  constructor(
    readonly kernel: number,
    stride?: number,
    readonly pad = 0,
  ) {
    this.stride = stride ?? kernel;
  }
  paramSpecs(): LocalSpec[] {
    return [];
  }
  outShape(s: Shape): Shape {
    if (s.length !== 4) throw new Error(`${this.kind}: expected input [N,C,H,W], got [${s.join(',')}]`);
    return [s[0], s[1], windowOut(s[2], this.kernel, this.stride, this.pad), windowOut(s[3], this.kernel, this.stride, this.pad)];
  }
  forward(ctx: Ctx, x: Tensor): Tensor {
    const k = this.kernel;
    return ctx.tape.apply(this.op, [x], { kernel: [k, k], stride: [this.stride, this.stride], pad: [this.pad, this.pad] });
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
  protected abstract readonly op: 'relu' | 'sigmoid' | 'tanh';
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
