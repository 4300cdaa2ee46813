import { rmspropStep } from '../core/kernels/optim.js';
import { FlatOptimizer } from './optimizer.js';

/** RMSProp: s = α s + (1-α) g²; w -= η g / (√s + ε). */
export class RMSProp extends FlatOptimizer<{ alpha?: number; eps?: number; weightDecay?: number }> {
  readonly name = 'rmsprop';
  protected readonly stateKeys = ['square_avg'];
  step(lr: number): void {
    rmspropStep(this.core, this.params, this.grads, this.st.get('square_avg'), {
      lr,
      alpha: this.opts.alpha ?? 0.99,
      eps: this.opts.eps ?? 1e-8,
      weightDecay: this.opts.weightDecay ?? 0,
    });
    this.steps++;
  }
}
