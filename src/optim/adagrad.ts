import { adagradStep } from '../core/kernels/optim.js';
import { FlatOptimizer } from './optimizer.js';

/** AdaGrad: h += g⊙g; w -= η g / (√h + ε). */
export class AdaGrad extends FlatOptimizer<{ eps?: number; weightDecay?: number }> {
  readonly name = 'adagrad';
  protected readonly stateKeys = ['sum_sq'];
  step(lr: number): void {
    adagradStep(this.core, this.params, this.grads, this.st.get('sum_sq'), { lr, eps: this.opts.eps ?? 1e-10, weightDecay: this.opts.weightDecay ?? 0 });
    this.steps++;
  }
}
