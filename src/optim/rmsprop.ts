import type { Core } from '../core/load.js';
import type { Buf } from '../core/heap.js';
import { rmspropStep } from '../core/kernels/optim.js';
import { StateBuffers, type Optimizer } from './optimizer.js';

/** RMSProp: s = α s + (1-α) g²; w -= η g / (√s + ε). */
export class RMSProp implements Optimizer {
  readonly name = 'rmsprop';
  steps = 0;
  private readonly st: StateBuffers;
  constructor(
    private readonly core: Core,
    private readonly params: Buf,
    private readonly grads: Buf,
    readonly opts: { alpha?: number; eps?: number; weightDecay?: number } = {},
  ) {
    this.st = new StateBuffers(core, params.length);
  }
  step(lr: number): void {
    rmspropStep(this.core, this.params, this.grads, this.st.get('square_avg'), {
      lr,
      alpha: this.opts.alpha ?? 0.99,
      eps: this.opts.eps ?? 1e-8,
      weightDecay: this.opts.weightDecay ?? 0,
    });
    this.steps++;
  }
  state(): Record<string, Buf> {
    this.st.get('square_avg');
    return this.st.all();
  }
  free(): void {
    this.st.free();
  }
}
