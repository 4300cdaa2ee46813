import type { Core } from '../core/load.js';
import type { Buf } from '../core/heap.js';
import type { AdamHyper } from '../core/kernels/optim.js';
import { KernelOptimizer } from './optimizer.js';
import { OPTIM, type FixedHyper } from './registry.js';

/** beta1, beta2, eps, weightDecay and, for AdamW, `decoupled`: decay the weights directly instead of adding λw to the gradient. */
export type AdamOptions = FixedHyper<AdamHyper>;

/** Adam (and AdamW with `decoupled`), PyTorch 1.13's update. */
export class Adam extends KernelOptimizer<AdamHyper> {
  constructor(core: Core, params: Buf, grads: Buf, opts: AdamOptions = {}) {
    super(opts.decoupled ? 'adamw' : 'adam', OPTIM.adam, core, params, grads, opts);
  }
}
