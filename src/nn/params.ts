// Flat parameters (STYLE 12): every trainable parameter lives in one f32 buffer and its gradient
// in a parallel one with the same offsets (llm.c's malloc_and_point_parameters). Layers hold
// named windows with PyTorch's names; the optimizer step, gradient zeroing and reduction, worker
// transfer and checkpoints each make one pass over the flat buffers. Non-trainable buffers
// (BatchNorm's running statistics) live in a third flat buffer of their own, so optimizers,
// weight decay and gradient reduction never see them, while checkpoints save them by name.
import type { Core } from '../core/load.js';
import type { Buf } from '../core/heap.js';
import { Tensor, sizeOf, type Shape } from '../tensor.js';
import { fill } from '../core/kernels/elementwise.js';

export type InitScheme = 'lecun' | 'he' | 'xavier' | 'torch' | 'zeros' | 'ones';

export interface ParamSpec {
  name: string;
  shape: Shape;
  init: InitScheme;
  /** inputs feeding one output (for a conv: in·kh·kw; for a linear: in) */
  fanIn: number;
  fanOut: number;
  /** false for a buffer (running statistics): no gradient, no optimizer step (default true) */
  trainable?: boolean;
  /** 'int': a count PyTorch stores as int64 (num_batches_tracked); kept exactly in f32 here */
  kind?: 'int';
}

export interface ParamEntry extends ParamSpec {
  trainable: boolean;
  /** offset into `data` (trainable) or `buffers` (not) */
  offset: number;
  size: number;
  tensor: Tensor;
}

export class Params {
  /** the trainable parameters, flat */
  readonly data: Buf;
  readonly grad: Buf;
  /** the non-trainable buffers, flat (null when the model has none) */
  readonly buffers: Buf | null;
  /** every parameter and buffer, in the model's order */
  readonly entries: ParamEntry[];
  readonly byName = new Map<string, ParamEntry>();

  constructor(
    readonly core: Core,
    specs: ParamSpec[],
  ) {
    let trainable = 0;
    let fixed = 0;
    for (const s of specs) {
      if (s.trainable === false) fixed += sizeOf(s.shape);
      else trainable += sizeOf(s.shape);
    }
    this.data = core.heap.alloc(trainable);
    this.grad = core.heap.alloc(trainable);
    this.buffers = fixed > 0 ? core.heap.alloc(fixed) : null;
    let dataOffset = 0;
    let bufOffset = 0;
    this.entries = specs.map((s) => {
      if (this.byName.has(s.name)) throw new Error(`Params: duplicate parameter name ${s.name}`);
      const size = sizeOf(s.shape);
      const isTrainable = s.trainable !== false;
      const offset = isTrainable ? dataOffset : bufOffset;
      const tensor = new Tensor(core, (isTrainable ? this.data : this.buffers!).sub(offset, size), s.shape, { requiresGrad: isTrainable, owned: false });
      if (isTrainable) tensor.grad = this.grad.sub(offset, size);
      const e = { ...s, trainable: isTrainable, offset, size, tensor };
      this.byName.set(s.name, e);
      if (isTrainable) dataOffset += size;
      else bufOffset += size;
      return e;
    });
  }

  /** trainable floats (what optimizers, gradients and workers handle) */
  get size(): number {
    return this.data.length;
  }

  /** non-trainable floats */
  get bufferSize(): number {
    return this.buffers?.length ?? 0;
  }

  /** A fresh view of one entry's values (in `data` or `buffers`). */
  view(e: ParamEntry): Float32Array {
    return (e.trainable ? this.data : this.buffers!).view().subarray(e.offset, e.offset + e.size);
  }

  get(name: string): Tensor {
    const e = this.byName.get(name);
    if (!e) throw new Error(`no parameter named ${name}; parameters: ${[...this.byName.keys()].join(', ')}`);
    return e.tensor;
  }

  zeroGrad(): void {
    fill(this.core, this.grad, 0);
  }

  /**
   * Points every trainable tensor's gradient at its window of `into` (same offsets as `grad`),
   * so that a backward pass accumulates there; `gradInto(grad)` points them back. The engines
   * use it to compute a chunk's gradient straight into a buffer of their reduction. With
   * `unwritten`, `into` may hold garbage: each gradient's first write overwrites or zeroes it
   * (Tensor.gradForWrite), and settleGrads() zeroes those no gradient reached.
   */
  gradInto(into: Buf, unwritten = false): void {
    if (into.length < this.grad.length) throw new Error(`Params.gradInto: a buffer of ${into.length} floats cannot hold the ${this.grad.length} trainable parameters' gradients`);
    for (const e of this.entries) {
      if (!e.trainable) continue;
      e.tensor.grad = into.sub(e.offset, e.size);
      if (unwritten) e.tensor.markGradUnwritten();
    }
  }

  /** After a backward pass into an `unwritten` buffer: zeroes the gradients nothing wrote, but those in `later` (an engine fills them afterwards). */
  settleGrads(later?: ReadonlySet<Tensor>): void {
    for (const e of this.entries) if (e.trainable && !later?.has(e.tensor)) e.tensor.settleGrad();
  }

  /**
   * Initialises every parameter from its scheme with a seeded PRNG (same seed, same weights).
   * `stdGain` (σ_u) multiplies the σ of the normal schemes: lecun draws σ_u/√M (M the fan-in).
   */
  init(seed: number, stdGain = 1): void {
    if (!(stdGain > 0) || !Number.isFinite(stdGain)) throw new Error(`Params.init: stdGain must be a finite number > 0, got ${stdGain}`);
    const rand = gaussian(seed);
    for (const e of this.entries) initInto(this.view(e), e, rand, stdGain);
  }

  free(): void {
    this.data.free();
    this.grad.free();
    this.buffers?.free();
  }
}

function initInto(w: Float32Array, e: ParamSpec, rand: { normal(): number; uniform(): number }, gain: number): void {
  switch (e.init) {
    case 'zeros':
      w.fill(0);
      return;
    case 'ones':
      w.fill(1);
      return;
    case 'lecun': // LeCun normal: σ = 1/√M, M the fan-in (the note's σ_u/√M with unit-variance inputs)
      return normal(w, gain / Math.sqrt(e.fanIn), rand);
    case 'he': // He normal, for ReLU: σ = √(2/M)
      return normal(w, gain * Math.sqrt(2 / e.fanIn), rand);
    case 'xavier': // Glorot normal: σ = √(2/(fan_in + fan_out))
      return normal(w, gain * Math.sqrt(2 / (e.fanIn + e.fanOut)), rand);
    case 'torch': {
      // PyTorch's default for Conv/Linear weights and biases: U(-1/√fan_in, 1/√fan_in)
      const b = 1 / Math.sqrt(e.fanIn);
      for (let i = 0; i < w.length; i++) w[i] = (2 * rand.uniform() - 1) * b;
      return;
    }
  }
}

function normal(w: Float32Array, sigma: number, rand: { normal(): number }): void {
  for (let i = 0; i < w.length; i++) w[i] = sigma * rand.normal();
}

/** splitmix32-seeded uniform and Box-Muller normal draws. */
export function gaussian(seed: number): { uniform(): number; normal(): number } {
  let s = seed >>> 0 || 0x9e3779b9;
  const uniform = (): number => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return ((z ^ (z >>> 16)) >>> 0) / 4294967296;
  };
  let spare: number | null = null;
  return {
    uniform,
    normal() {
      if (spare !== null) {
        const v = spare;
        spare = null;
        return v;
      }
      let u = 0;
      while (u === 0) u = uniform();
      const v = uniform();
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
  };
}
