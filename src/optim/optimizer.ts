// Optimizers over the flat parameter and gradient buffers (STYLE 15): a step is one kernel
// call over every parameter at once; state buffers are allocated lazily, once; L2 weight decay
// (E(w) + λ/2·||w||², so the gradient gains λ·w) lives in the kernel.
import type { Core } from '../core/load.js';
import type { Buf } from '../core/heap.js';

export interface Optimizer {
  readonly name: string;
  /** steps taken so far (Adam's bias correction needs it; checkpoints keep it) */
  steps: number;
  /** one update of `params` from `grads` at learning rate `lr` */
  step(lr: number): void;
  /** named state buffers, for checkpoints: `optim.<key>` */
  state(): Record<string, Buf>;
  free(): void;
}

/** Lazily allocated, zero-initialised state buffers of the parameters' size. */
export class StateBuffers {
  private bufs = new Map<string, Buf>();
  constructor(
    private readonly core: Core,
    private readonly n: number,
  ) {}
  get(key: string): Buf {
    let b = this.bufs.get(key);
    if (!b) {
      b = this.core.heap.alloc(this.n);
      this.bufs.set(key, b);
    }
    return b;
  }
  all(): Record<string, Buf> {
    return Object.fromEntries(this.bufs);
  }
  free(): void {
    for (const b of this.bufs.values()) b.free();
    this.bufs.clear();
  }
}
