// Learning-rate schedules as pure functions of the step, so a resumed run recomputes the same
// rate without replaying history.

export type ScheduleKind = 'constant' | 'step' | 'exp' | 'cosine';

export interface Schedule {
  kind: ScheduleKind;
  /** base learning rate */
  lr: number;
  /** total optimizer steps of the run (cosine) */
  totalSteps: number;
  /** steps per epoch (step and exp decay per epoch) */
  stepsPerEpoch: number;
  /** step: multiply by gamma every `stepEpochs` epochs; exp: multiply by gamma every epoch */
  gamma?: number;
  stepEpochs?: number;
  /** linear warm-up from lr/warmupSteps to lr over this many steps */
  warmupSteps?: number;
  /** cosine floor, as a fraction of lr */
  minFactor?: number;
}

export function lrAt(s: Schedule, step: number): number {
  const warm = s.warmupSteps ?? 0;
  const warmFactor = warm > 0 && step < warm ? (step + 1) / warm : 1;
  const epoch = s.stepsPerEpoch > 0 ? step / s.stepsPerEpoch : 0;
  let f = 1;
  switch (s.kind) {
    case 'constant':
      break;
    case 'step':
      f = Math.pow(s.gamma ?? 0.1, Math.floor(epoch / (s.stepEpochs ?? 1)));
      break;
    case 'exp':
      f = Math.pow(s.gamma ?? 0.9, Math.floor(epoch));
      break;
    case 'cosine': {
      const t = Math.min(1, Math.max(0, (step - warm) / Math.max(1, s.totalSteps - warm)));
      const floor = s.minFactor ?? 0;
      f = floor + (1 - floor) * 0.5 * (1 + Math.cos(Math.PI * t));
      break;
    }
  }
  return s.lr * f * warmFactor;
}
