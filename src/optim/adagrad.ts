import type { Core } from '../core/load.js';
import type { Buf } from '../core/heap.js';
import { adagradStep } from '../core/kernels/optim.js';
import { StateBuffers, type Optimizer } from './optimizer.js';

/** AdaGrad: h += g⊙g; w -= η g / (√h + ε). */
export class AdaGrad implements Optimizer {
  readonly name = 'adagrad';
  steps = 0;
  private readonly st: StateBuffers;
  constructor(
    private readonly core: Core,
    private readonly params: Buf,
    private readonly grads: Buf,
    readonly opts: { eps?: number; weightDecay?: number } = {},
  ) {
    this.st = new StateBuffers(core, params.length);
  }
  step(lr: number): void {
    adagradStep(this.core, this.params, this.grads, this.st.get('sum_sq'), { lr, eps: this.opts.eps ?? 1e-10, weightDecay: this.opts.weightDecay ?? 0 });
    this.steps++;
  }
  state(): Record<string, Buf> {
    this.st.get('sum_sq');
    return this.st.all();
  }
  free(): void {
    this.st.free();
  }
}
