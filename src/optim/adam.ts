import { adamStep } from '../core/kernels/optim.js';
import { FlatOptimizer } from './optimizer.js';

export interface AdamOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /** AdamW: decay the weights directly instead of adding λw to the gradient */
  decoupled?: boolean;
}

/** Adam (and AdamW with `decoupled`), PyTorch 1.13's update. */
export class Adam extends FlatOptimizer<AdamOptions> {
  get name(): string {
    return this.opts.decoupled ? 'adamw' : 'adam';
  }
  protected readonly stateKeys = ['exp_avg', 'exp_avg_sq'];
  step(lr: number): void {
    this.steps++;
    adamStep(this.core, this.params, this.grads, this.st.get('exp_avg'), this.st.get('exp_avg_sq'), {
      lr,
      beta1: this.opts.beta1 ?? 0.9,
      beta2: this.opts.beta2 ?? 0.999,
      eps: this.opts.eps ?? 1e-8,
      weightDecay: this.opts.weightDecay ?? 0,
      decoupled: this.opts.decoupled ?? false,
      step: this.steps,
    });
  }
}
