// Dense layers' weights packed once per step instead of once per GEMM call. The forward and
// backward-data GEMMs of a linear layer pack its weight into tile panels on every call; with
// chunks of 8 rows that packing is about a fifth of the LeNet fc1 GEMMs' time, and every chunk
// of a step packs the same weights again. While the weights are fixed (an engine's minibatch or
// task: open() ... close()), the first call packs into a buffer kept per weight and later calls
// read it. The packed kernels give the bits of the unpacked ones. Outside open() nothing is
// cached, so a weight changed between calls (an optimizer step) is never read stale.
import type { Core } from '../core/load.js';
import type { Buf } from '../core/heap.js';
import { linearPackWeight, linearPackedWeightFloats, type LinearDims, type PackedFor, type PackedWeights } from '../core/kernels/linear.js';

export class WeightPacks implements PackedWeights {
  /** packed buffers by weight address and use, kept across steps (the weights' addresses do not move) */
  private readonly bufs = new Map<string, Buf>();
  /** the buffers packed since open() */
  private readonly current = new Set<Buf>();
  private isOpen = false;

  constructor(private readonly core: Core) {}

  /** The weights stay fixed until close(): packs made from now on are reused. */
  open(): void {
    this.isOpen = true;
    this.current.clear();
  }

  close(): void {
    this.isOpen = false;
    this.current.clear();
  }

  /** Runs `fn` with the weights declared fixed. */
  during<T>(fn: () => T): T {
    this.open();
    try {
      return fn();
    } finally {
      this.close();
    }
  }

  packed(w: Buf, d: Pick<LinearDims, 'inF' | 'outF'>, which: PackedFor): Buf | null {
    if (!this.isOpen) return null;
    const key = `${w.ptr}:${d.outF}x${d.inF}:${which}`;
    let buf = this.bufs.get(key);
    if (!buf) {
      buf = this.core.heap.alloc(linearPackedWeightFloats(this.core, d, which));
      this.bufs.set(key, buf);
    }
    if (!this.current.has(buf)) {
      linearPackWeight(this.core, buf, w, d, which);
      this.current.add(buf);
    }
    return buf;
  }

  /** Floats held in packed weights. */
  get floats(): number {
    let n = 0;
    for (const b of this.bufs.values()) n += b.length;
    return n;
  }

  free(): void {
    for (const b of this.bufs.values()) b.free();
    this.bufs.clear();
    this.close();
  }
}
