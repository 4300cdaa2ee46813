// The only allocator over the core's linear memory (STYLE 11). TypeScript owns memory: kernels
// take pointers and never allocate. Blocks are 64-byte aligned (a cache line, and a multiple of
// the 16 bytes a v128 wants). Views are made fresh from memory.buffer at every use because
// memory.grow detaches the old ArrayBuffer (AssemblyScript issue #2942).

const ALIGN = 64;
const PAGE = 65536;

export type DType = 'f32' | 'i32';

/** A block of f32 or i32 elements in WASM memory. `ptr` is a byte address. */
export class Buf {
  constructor(
    readonly heap: Heap,
    readonly ptr: number,
    readonly length: number,
    readonly dtype: DType = 'f32',
    /** the allocation this is a window of (itself for an allocation) */
    readonly owner: number = ptr,
  ) {}

  get bytes(): number {
    return this.length * 4;
  }

  /** A fresh Float32Array (or Int32Array) view; do not keep it across a call that may allocate. */
  view(): Float32Array {
    if (this.dtype !== 'f32') throw new Error(`Buf.view: buffer holds ${this.dtype}; use viewI32()`);
    this.heap.check(this);
    return new Float32Array(this.heap.memory.buffer, this.ptr, this.length);
  }

  viewI32(): Int32Array {
    if (this.dtype !== 'i32') throw new Error(`Buf.viewI32: buffer holds ${this.dtype}; use view()`);
    this.heap.check(this);
    return new Int32Array(this.heap.memory.buffer, this.ptr, this.length);
  }

  /** Copies `src` in at element `offset`. */
  set(src: ArrayLike<number>, offset = 0): this {
    if (offset + src.length > this.length) {
      throw new Error(`Buf.set: ${src.length} values at offset ${offset} overflow a buffer of ${this.length}`);
    }
    if (this.dtype === 'f32') this.view().set(src, offset);
    else this.viewI32().set(src, offset);
    return this;
  }

  /** A copy of the contents in a JS-owned array. */
  toArray(): Float32Array {
    return Float32Array.from(this.view());
  }

  /** A window of `length` elements starting at element `offset`; shares the allocation. */
  sub(offset: number, length: number): Buf {
    if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > this.length) {
      throw new Error(`Buf.sub: window [${offset}, ${offset + length}) is outside a buffer of ${this.length}`);
    }
    return new Buf(this.heap, this.ptr + offset * 4, length, this.dtype, this.owner);
  }

  get alive(): boolean {
    return this.heap.isLive(this.owner);
  }

  free(): void {
    if (this.owner !== this.ptr) throw new Error('Buf.free: cannot free a window; free the buffer it came from');
    this.heap.free(this);
  }
}

export class Heap {
  private top: number;
  private readonly live = new Map<number, number>(); // ptr -> bytes
  private free_: Array<[number, number]> = []; // [ptr, bytes], sorted by ptr, coalesced
  private liveBytes_ = 0;
  private peakBytes_ = 0;

  constructor(
    readonly memory: WebAssembly.Memory,
    base: number,
  ) {
    this.top = alignUp(base, ALIGN);
  }

  get liveBytes(): number {
    return this.liveBytes_;
  }

  get peakBytes(): number {
    return this.peakBytes_;
  }

  get liveBlocks(): number {
    return this.live.size;
  }

  /**
   * Allocates `length` elements, zero-filled unless `zero` is false (for outputs a kernel
   * overwrites entirely: forward results, saved arg-max and probabilities).
   */
  alloc(length: number, dtype: DType = 'f32', zero = true): Buf {
    if (!Number.isInteger(length) || length <= 0) {
      throw new Error(`Heap.alloc: length must be a positive integer, got ${length}`);
    }
    const bytes = alignUp(length * 4, ALIGN);
    let ptr = -1;
    for (let i = 0; i < this.free_.length; i++) {
      const [p, size] = this.free_[i];
      if (size >= bytes) {
        ptr = p;
        if (size === bytes) this.free_.splice(i, 1);
        else this.free_[i] = [p + bytes, size - bytes];
        break;
      }
    }
    if (ptr < 0) {
      ptr = this.top;
      this.ensure(ptr + bytes);
      this.top = ptr + bytes;
    }
    this.live.set(ptr, bytes);
    this.liveBytes_ += bytes;
    this.peakBytes_ = Math.max(this.peakBytes_, this.liveBytes_);
    if (zero) new Uint8Array(this.memory.buffer, ptr, bytes).fill(0);
    return new Buf(this, ptr, length, dtype);
  }

  /** Allocates and fills from a JS array. */
  from(src: ArrayLike<number>, dtype: DType = 'f32'): Buf {
    return this.alloc(Math.max(1, src.length), dtype).set(src);
  }

  free(buf: Buf): void {
    const bytes = this.live.get(buf.ptr);
    if (bytes === undefined) throw new Error(`Heap.free: ${buf.ptr} is not a live allocation (double free?)`);
    this.live.delete(buf.ptr);
    this.liveBytes_ -= bytes;
    this.release(buf.ptr, bytes);
  }

  isLive(ptr: number): boolean {
    return this.live.has(ptr);
  }

  /** Throws if `buf` (or the allocation it is a window of) was freed. */
  check(buf: Buf): void {
    if (!this.live.has(buf.owner)) throw new Error(`use of a freed buffer at ${buf.ptr}`);
  }

  /** Makes sure memory reaches byte `end`, growing it (and detaching old views) if needed. */
  private ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    const pages = Math.ceil((end - have) / PAGE);
    // grow at least by a quarter of what we have, so a training run grows a few times, not often
    const grow = Math.max(pages, Math.ceil(have / PAGE / 4));
    try {
      this.memory.grow(grow);
    } catch {
      this.memory.grow(pages); // the generous request may exceed the maximum; the exact one may not
    }
  }

  private release(ptr: number, bytes: number): void {
    const list = this.free_;
    let i = 0;
    while (i < list.length && list[i][0] < ptr) i++;
    list.splice(i, 0, [ptr, bytes]);
    // coalesce with the next block, then the previous one
    if (i + 1 < list.length && list[i][0] + list[i][1] === list[i + 1][0]) {
      list[i][1] += list[i + 1][1];
      list.splice(i + 1, 1);
    }
    if (i > 0 && list[i - 1][0] + list[i - 1][1] === list[i][0]) {
      list[i - 1][1] += list[i][1];
      list.splice(i, 1);
      i--;
    }
    // a free block at the top returns to the bump region
    const last = list[list.length - 1];
    if (last && last[0] + last[1] === this.top) {
      this.top = last[0];
      list.pop();
    }
  }
}

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}
