import type { Core } from '../core/load.js';
import type { Buf } from '../core/heap.js';
import type { SgdHyper } from '../core/kernels/optim.js';
import { KernelOptimizer } from './optimizer.js';
import { OPTIM, type FixedHyper } from './registry.js';

export type SgdOptions = FixedHyper<SgdHyper>;

/** SGD with optional (Nesterov) momentum and L2 weight decay, PyTorch's semantics. */
export class SGD extends KernelOptimizer<SgdHyper> {
  constructor(core: Core, params: Buf, grads: Buf, opts: SgdOptions = {}) {
    super('sgd', OPTIM.sgd, core, params, grads, opts);
  }
}
