import type { Core } from '../core/load.js';
import type { Buf } from '../core/heap.js';
import { adamStep } from '../core/kernels/optim.js';
import { StateBuffers, type Optimizer } from './optimizer.js';

export interface AdamOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /** AdamW: decay the weights directly instead of adding λw to the gradient */
  decoupled?: boolean;
}

/** Adam (and AdamW with `decoupled`), PyTorch 1.13's update. */
export class Adam implements Optimizer {
  readonly name: string;
  steps = 0;
  private readonly st: StateBuffers;
  constructor(
    private readonly core: Core,
    private readonly params: Buf,
    private readonly grads: Buf,
    readonly opts: AdamOptions = {},
  ) {
    this.name = opts.decoupled ? 'adamw' : 'adam';
    this.st = new StateBuffers(core, params.length);
  }
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
  state(): Record<string, Buf> {
    this.st.get('exp_avg');
    this.st.get('exp_avg_sq');
    return this.st.all();
  }
  free(): void {
    this.st.free();
  }
}
