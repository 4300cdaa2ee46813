import type { Core } from '../core/load.js';
import type { Buf } from '../core/heap.js';
import { SGD } from './sgd.js';
import { AdaGrad } from './adagrad.js';
import { RMSProp } from './rmsprop.js';
import { Adam } from './adam.js';
import type { Optimizer } from './optimizer.js';

export { SGD, AdaGrad, RMSProp, Adam };
export type { Optimizer };
export { lrAt, type Schedule, type ScheduleKind } from './schedule.js';

export const OPTIMIZERS = ['sgd', 'adagrad', 'rmsprop', 'adam', 'adamw'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

export interface OptimizerConfig {
  name: OptimizerName;
  momentum?: number;
  nesterov?: boolean;
  weightDecay?: number;
}

/** Builds an optimizer (simplest first) over the flat parameter and gradient buffers. */
export function makeOptimizer(core: Core, params: Buf, grads: Buf, c: OptimizerConfig): Optimizer {
  const weightDecay = c.weightDecay ?? 0;
  switch (c.name) {
    case 'sgd':
      return new SGD(core, params, grads, { momentum: c.momentum ?? 0, nesterov: c.nesterov ?? false, weightDecay });
    case 'adagrad':
      return new AdaGrad(core, params, grads, { weightDecay });
    case 'rmsprop':
      return new RMSProp(core, params, grads, { weightDecay });
    case 'adam':
      return new Adam(core, params, grads, { weightDecay });
    case 'adamw':
      return new Adam(core, params, grads, { weightDecay, decoupled: true });
  }
}
