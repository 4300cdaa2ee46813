import { sgdStep } from '../core/kernels/optim.js';
import { FlatOptimizer } from './optimizer.js';

export interface SgdOptions {
  momentum?: number;
  nesterov?: boolean;
  weightDecay?: number;
}

/** SGD with optional (Nesterov) momentum and L2 weight decay, PyTorch's semantics. */
export class SGD extends FlatOptimizer<SgdOptions> {
  readonly name = 'sgd';
  protected get stateKeys(): readonly string[] {
    return this.opts.momentum ? ['momentum'] : [];
  }
  step(lr: number): void {
    const momentum = this.opts.momentum ?? 0;
    const v = momentum ? this.st.get('momentum') : null;
    sgdStep(this.core, this.params, this.grads, v, { lr, momentum, weightDecay: this.opts.weightDecay ?? 0, nesterov: this.opts.nesterov ?? false });
    this.steps++;
  }
}
