import type { Core } from '../core/load.js';
import type { Buf } from '../core/heap.js';
import type { RmspropHyper } from '../core/kernels/optim.js';
import { KernelOptimizer } from './optimizer.js';
import { OPTIM, type FixedHyper } from './registry.js';

/** RMSProp: s = α s + (1-α) g²; w -= η g / (√s + ε). */
export class RMSProp extends KernelOptimizer<RmspropHyper> {
  constructor(core: Core, params: Buf, grads: Buf, opts: FixedHyper<RmspropHyper> = {}) {
    super('rmsprop', OPTIM.rmsprop, core, params, grads, opts);
  }
}
