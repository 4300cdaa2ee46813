// Optimizers over the flat parameter and gradient buffers (STYLE 15): a step is one kernel
// call over every parameter at once; state buffers are allocated lazily, once; L2 weight decay
// (E(w) + λ/2·||w||², so the gradient gains λ·w) lives in the kernel.
import type { Core } from '../core/load.js';
import type { Buf } from '../core/heap.js';
import type { FixedHyper, OptimKernel, StepHyper } from './registry.js';

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

/**
 * What every optimizer here shares: flat parameter and gradient buffers, a step counter, and
 * named state buffers of the parameters' size, allocated on first use.
 */
export abstract class FlatOptimizer<O> implements Optimizer {
  abstract readonly name: string;
  steps = 0;
  protected readonly st: StateBuffers;
  /** the state buffers this optimizer keeps (a checkpoint holds each as `optim.<key>`) */
  protected abstract get stateKeys(): readonly string[];

  constructor(
    protected readonly core: Core,
    protected readonly params: Buf,
    protected readonly grads: Buf,
    readonly opts: O = {} as O,
  ) {
    this.st = new StateBuffers(core, params.length);
  }

  abstract step(lr: number): void;

  state(): Record<string, Buf> {
    for (const k of this.stateKeys) this.st.get(k);
    return this.st.all();
  }

  free(): void {
    this.st.free();
  }
}

/**
 * An optimizer whose step is one call of a registry kernel (src/optim/registry.ts) over every
 * parameter, with its state buffers allocated on first use: what makeOptimizer builds for each
 * registry entry, and what SGD, AdaGrad, RMSProp and Adam are.
 */
export class KernelOptimizer<H extends { lr: number }> extends FlatOptimizer<FixedHyper<H>> {
  constructor(
    readonly name: string,
    private readonly kernel: OptimKernel<H>,
    core: Core,
    params: Buf,
    grads: Buf,
    opts?: FixedHyper<H>,
  ) {
    super(core, params, grads, opts);
  }

  protected get stateKeys(): readonly string[] {
    return this.kernel.states(this.opts).map((s) => s.key);
  }

  step(lr: number): void {
    const step = this.steps + 1;
    const states = this.kernel.states(this.opts).map((s) => this.st.get(s.key));
    this.kernel.run(this.core, this.params, this.grads, states, { ...this.opts, lr } as StepHyper<H>, step);
    this.steps = step;
  }
}
