import type { Core } from '../core/load.js';
import type { Buf } from '../core/heap.js';
import { sgdStep } from '../core/kernels/optim.js';
import { StateBuffers, type Optimizer } from './optimizer.js';

export interface SgdOptions {
  momentum?: number;
  nesterov?: boolean;
  weightDecay?: number;
}

/** SGD with optional (Nesterov) momentum and L2 weight decay, PyTorch's semantics. */
export class SGD implements Optimizer {
  readonly name = 'sgd';
  steps = 0;
  private readonly st: StateBuffers;
  constructor(
    private readonly core: Core,
    private readonly params: Buf,
    private readonly grads: Buf,
    readonly opts: SgdOptions = {},
  ) {
    this.st = new StateBuffers(core, params.length);
  }
  step(lr: number): void {
    const momentum = this.opts.momentum ?? 0;
    const v = momentum ? this.st.get('momentum') : null;
    sgdStep(this.core, this.params, this.grads, v, { lr, momentum, weightDecay: this.opts.weightDecay ?? 0, nesterov: this.opts.nesterov ?? false });
    this.steps++;
  }
  state(): Record<string, Buf> {
    if (this.opts.momentum) this.st.get('momentum');
    return this.st.all();
  }
  free(): void {
    this.st.free();
  }
}
