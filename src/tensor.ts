// Tensor: a shape over an f32 (or i32) buffer in the core's WASM memory, with an optional
// gradient buffer of the same size. Data lives in WASM memory so kernels read it in place;
// `.data` is a fresh Float32Array view each time (memory growth detaches old views).
import type { Core } from './core/load.js';
import type { Buf, DType } from './core/heap.js';
import { fill } from './core/kernels/elementwise.js';

export type Shape = readonly number[];

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function shapeStr(shape: Shape): string {
  return `[${shape.join(',')}]`;
}

/** Open scopes: each collects the tensors created while it is the innermost (see scope()). */
const scopes: Tensor[][] = [];

export class Tensor {
  grad: Buf | null = null;
  /** set by ops: true when a gradient must flow back into this tensor */
  requiresGrad: boolean;
  /** a reshape of another tensor: shares its data and its gradient */
  readonly base: Tensor | null;
  /** whether dispose() frees the data (false for windows of the flat parameters and reshapes) */
  readonly owned: boolean;
  private disposed = false;
  private ownsGrad = false;
  /**
   * The gradient buffer holds garbage (markGradUnwritten): the first op to write it either
   * overwrites it (gradForWrite) or zeroes it first (ensureGrad), so nothing zeroes it up front.
   */
  private gradUnwritten = false;

  constructor(
    readonly core: Core,
    readonly buf: Buf,
    readonly shape: Shape,
    opts: { requiresGrad?: boolean; base?: Tensor | null; owned?: boolean } = {},
  ) {
    if (sizeOf(shape) !== buf.length) {
      throw new Error(`Tensor: shape ${shapeStr(shape)} holds ${sizeOf(shape)} elements, buffer holds ${buf.length}`);
    }
    this.requiresGrad = opts.requiresGrad ?? false;
    this.base = opts.base ?? null;
    this.owned = opts.owned ?? this.base === null;
    scopes[scopes.length - 1]?.push(this);
  }

  /** A zero-filled tensor. */
  static zeros(core: Core, shape: Shape, dtype: DType = 'f32'): Tensor {
    return new Tensor(core, core.heap.alloc(sizeOf(shape), dtype), shape);
  }

  /** A tensor holding a copy of `values`. */
  static from(core: Core, values: ArrayLike<number>, shape: Shape, dtype: DType = 'f32'): Tensor {
    if (values.length !== sizeOf(shape)) {
      throw new Error(`Tensor.from: ${values.length} values do not fill shape ${shapeStr(shape)}`);
    }
    return new Tensor(core, core.heap.from(values, dtype), shape);
  }

  get size(): number {
    return this.buf.length;
  }

  get dtype(): DType {
    return this.buf.dtype;
  }

  /** A fresh view of the data (do not keep it across calls that allocate). */
  get data(): Float32Array {
    return this.buf.view();
  }

  /** A copy of the gradient, or null when none was computed. */
  gradArray(): Float32Array | null {
    return this.grad ? Float32Array.from(this.grad.view()) : null;
  }

  /** The gradient buffer, allocated (zeroed) on first use; a reshape shares its base's. Ops call it to write the gradient. */
  ensureGrad(): Buf {
    return this.gradBuffer();
  }

  private gradBuffer(): Buf {
    if (!this.grad) {
      this.grad = this.base ? this.base.ensureGrad() : this.core.heap.alloc(this.size);
      this.ownsGrad = !this.base;
    }
    if (this.gradUnwritten) {
      fill(this.core, this.grad, 0, this.size);
      this.gradUnwritten = false;
    }
    return this.grad;
  }

  /**
   * The gradient buffer for a kernel that either accumulates into it or overwrites it:
   * `overwrite` is true when nothing has been written to it since markGradUnwritten.
   */
  gradForWrite(): { buf: Buf; overwrite: boolean } {
    if (this.gradUnwritten && this.grad) {
      this.gradUnwritten = false;
      return { buf: this.grad, overwrite: true };
    }
    if (!this.grad && !this.base) {
      // an activation's first gradient: the kernel fills it, so it is not zeroed first
      this.grad = this.core.heap.alloc(this.size, 'f32', false);
      this.ownsGrad = true;
      return { buf: this.grad, overwrite: true };
    }
    return { buf: this.gradBuffer(), overwrite: false };
  }

  /** Declares the (existing) gradient buffer's contents garbage (see gradUnwritten). */
  markGradUnwritten(): void {
    if (!this.grad) throw new Error('markGradUnwritten: the tensor has no gradient buffer');
    this.gradUnwritten = true;
  }

  /** Zeroes the gradient if nothing wrote it since markGradUnwritten (a parameter no gradient reached). */
  settleGrad(): void {
    if (this.gradUnwritten) this.gradBuffer();
  }

  /** Frees the data (if this tensor owns it) and the gradient (if it owns one). Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.owned && this.buf.alive) this.buf.free();
    if (this.grad && this.ownsGrad && this.grad.alive && this.grad.owner === this.grad.ptr) this.grad.free();
    this.grad = null;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }
}

type Kept = Tensor | readonly Kept[] | { readonly [k: string]: Kept } | number | string | boolean | null | undefined | void;

/**
 * Runs `fn` and disposes every tensor created during it, except those reachable from its
 * result (a tensor, or arrays/objects of them), which move to the enclosing scope. A training
 * loop that wraps each step in scope() runs any number of steps in constant memory.
 */
export function scope<T extends Kept>(fn: () => T): T {
  const mine: Tensor[] = [];
  scopes.push(mine);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    for (const t of mine) t.dispose();
    throw e;
  }
  scopes.pop();
  const keep = new Set<Tensor>();
  const visit = (v: Kept): void => {
    if (v instanceof Tensor) {
      for (let t: Tensor | null = v; t; t = t.base) keep.add(t); // a reshape keeps its base alive
    } else if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === 'object') Object.values(v).forEach(visit);
  };
  visit(result);
  const outer = scopes[scopes.length - 1];
  for (const t of mine) {
    if (keep.has(t)) outer?.push(t);
    else t.dispose();
  }
  return result;
}
