import type { Core } from '../core/load.js';
import type { Buf } from '../core/heap.js';
import { SGD } from './sgd.js';
import { AdaGrad } from './adagrad.js';
import { RMSProp } from './rmsprop.js';
import { Adam } from './adam.js';
import { KernelOptimizer, type Optimizer } from './optimizer.js';
import { OPTIM_LIST, type OptimizerName, type OptimizerConfig as KernelConfig } from './registry.js';

export { SGD, AdaGrad, RMSProp, Adam, KernelOptimizer };
export type { Optimizer, OptimizerName };
export { OPTIM, OPTIM_LIST, type OptimKernel, type OptimState } from './registry.js';
export { lrAt, type Schedule, type ScheduleKind } from './schedule.js';

/** The public optimizers, simplest first: every name an entry of the optimizer registry runs. */
export const OPTIMIZERS: readonly OptimizerName[] = OPTIM_LIST.flatMap(([, k]) => Object.keys(k.optimizers)) as OptimizerName[];

export interface OptimizerConfig extends KernelConfig {
  name: OptimizerName;
}

/** Builds an optimizer over the flat parameter and gradient buffers from its registry entry. */
export function makeOptimizer(core: Core, params: Buf, grads: Buf, c: OptimizerConfig): Optimizer {
  for (const [, k] of OPTIM_LIST) {
    if (Object.hasOwn(k.optimizers, c.name)) return new KernelOptimizer(c.name, k, core, params, grads, k.optimizers[c.name](c));
  }
  throw new Error(`makeOptimizer: unknown optimizer ${JSON.stringify(c.name)}, expected one of ${OPTIMIZERS.join(', ')}`);
}
