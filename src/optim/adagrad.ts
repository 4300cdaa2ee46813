import type { Core } from '../core/load.js';
import type { Buf } from '../core/heap.js';
import type { AdagradHyper } from '../core/kernels/optim.js';
import { KernelOptimizer } from './optimizer.js';
import { OPTIM, type FixedHyper } from './registry.js';

/** AdaGrad: h += g⊙g; w -= η g / (√h + ε). */
export class AdaGrad extends KernelOptimizer<AdagradHyper> {
  constructor(core: Core, params: Buf, grads: Buf, opts: FixedHyper<AdagradHyper> = {}) {
    super('adagrad', OPTIM.adagrad, core, params, grads, opts);
  }
}
