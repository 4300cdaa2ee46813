// Flat parameters (STYLE 12): every parameter lives in one f32 buffer and its gradient in a
// parallel one with the same offsets (llm.c's malloc_and_point_parameters). Layers hold named
// windows with PyTorch's names; the optimizer step, gradient zeroing and reduction, worker
// transfer and checkpoints each make one pass over the flat buffers.
import type { Core } from '../core/load.js';
import type { Buf } from '../core/heap.js';
import { Tensor, sizeOf, type Shape } from '../tensor.js';
import { fill } from '../core/kernels/elementwise.js';

export type InitScheme = 'lecun' | 'he' | 'xavier' | 'torch' | 'zeros';

export interface ParamSpec {
  name: string;
  shape: Shape;
  init: InitScheme;
  /** inputs feeding one output (for a conv: in·kh·kw; for a linear: in) */
  fanIn: number;
  fanOut: number;
}

export interface ParamEntry extends ParamSpec {
  offset: number;
  size: number;
  tensor: Tensor;
}

export class Params {
  readonly data: Buf;
  readonly grad: Buf;
  readonly entries: ParamEntry[];
  readonly byName = new Map<string, ParamEntry>();

  constructor(
    readonly core: Core,
    specs: ParamSpec[],
  ) {
    let total = 0;
    for (const s of specs) total += sizeOf(s.shape);
    this.data = core.heap.alloc(total);
    this.grad = core.heap.alloc(total);
    let offset = 0;
    this.entries = specs.map((s) => {
      if (this.byName.has(s.name)) throw new Error(`Params: duplicate parameter name ${s.name}`);
      const size = sizeOf(s.shape);
      const tensor = new Tensor(core, this.data.sub(offset, size), s.shape, { requiresGrad: true, owned: false });
      tensor.grad = this.grad.sub(offset, size);
      const e = { ...s, offset, size, tensor };
      this.byName.set(s.name, e);
      offset += size;
      return e;
    });
  }

  get size(): number {
    return this.data.length;
  }

  get(name: string): Tensor {
    const e = this.byName.get(name);
    if (!e) throw new Error(`no parameter named ${name}; parameters: ${[...this.byName.keys()].join(', ')}`);
    return e.tensor;
  }

  zeroGrad(): void {
    fill(this.core, this.grad, 0);
  }

  /** Initialises every parameter from its scheme with a seeded PRNG (same seed, same weights). */
  init(seed: number): void {
    const rand = gaussian(seed);
    const view = this.data.view();
    for (const e of this.entries) {
      const w = view.subarray(e.offset, e.offset + e.size);
      initInto(w, e, rand);
    }
  }

  free(): void {
    this.data.free();
    this.grad.free();
  }
}

function initInto(w: Float32Array, e: ParamSpec, rand: { normal(): number; uniform(): number }): void {
  switch (e.init) {
    case 'zeros':
      w.fill(0);
      return;
    case 'lecun': // LeCun normal: σ = 1/√M, M the fan-in (the note's σ_u/√M with unit-variance inputs)
      return normal(w, 1 / Math.sqrt(e.fanIn), rand);
    case 'he': // He normal, for ReLU: σ = √(2/M)
      return normal(w, Math.sqrt(2 / e.fanIn), rand);
    case 'xavier': // Glorot normal: σ = √(2/(fan_in + fan_out))
      return normal(w, Math.sqrt(2 / (e.fanIn + e.fanOut)), rand);
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
