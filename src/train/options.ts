// fit()'s options: their defaults (the recipe that takes the reference LeNet to 99.5 % on MNIST)
// and their validation, one clear error naming the option for anything out of range, unknown or
// of the wrong type. The CLIs map their flags onto these and so share every check.
import { InputError } from '../errors.js';
import { OPTIMIZERS, type OptimizerName, type ScheduleKind } from '../optim/index.js';
import type { InitScheme } from '../nn/params.js';
import type { Core, Flavor } from '../core/load.js';
import type { GradEngine } from './engine.js';
import type { LossSpec } from './losses.js';
import type { Augment } from '../data/dataset.js';
import type { EpochMetrics } from './metrics.js';
import type { ProgressStats, TextOut } from './progress.js';
import { defaultChunkSize } from './engine.js';

export const SCHEDULES: readonly ScheduleKind[] = ['constant', 'step', 'exp', 'cosine'];
export const FLAVORS = ['auto', 'simd', 'relaxed', 'debug'] as const;
export const INITS: readonly InitScheme[] = ['lecun', 'he', 'xavier', 'torch'];
/** How the Node pool places its worker threads (src/train/affinity.ts): never changes results, only speed. */
export const PIN_MODES = ['auto', 'on', 'off'] as const;
export type PinMode = (typeof PIN_MODES)[number];

export interface FitOptions {
  epochs: number;
  batchSize: number;
  /** examples per gradient chunk: the unit of work for workers, fixed for determinism ('auto': max(8, ceil(batch/16))) */
  chunkSize: number | 'auto';
  /** gradient worker threads (1: all in this thread) */
  workers: number;
  /** Node pool: pin each worker thread to a CPU of its own (Linux); 'auto' when the workers take every CPU */
  pin: PinMode;
  seed: number;
  /** the loss (default: softmax cross-entropy for labelled data, mean squared error otherwise) */
  loss?: LossSpec;
  optimizer: OptimizerName;
  lr: number;
  momentum: number;
  nesterov: boolean;
  /** L2 weight decay λ: minimises E(w) + λ/2·‖w‖² (BatchNorm buffers are never decayed) */
  weightDecay: number;
  schedule: ScheduleKind;
  /** linear warm-up, in epochs (may be fractional) */
  warmupEpochs: number;
  /** step/exp decay factor and the step schedule's period in epochs */
  gamma: number;
  stepEpochs: number;
  /** weight initialisation of every conv and linear layer (default: the spec's own) */
  init?: InitScheme;
  /**
   * σ_u, the note's standard deviation of a unit's total input: the normal schemes draw weights
   * with σ = σ_u/√M (lecun; M the fan-in), σ_u·√(2/M) (he), σ_u·√(2/(M+N)) (xavier). Default 1.
   */
  initStd?: number;
  augment: Augment;
  /** examples per batch when evaluating */
  evalBatch: number;
  /** folder for checkpoint.safetensors and metrics.jsonl (absent: nothing is written) */
  out?: string;
  /** continue exactly from this checkpoint */
  resume?: string;
  /** load a --resume checkpoint even if it holds NaN/Inf weights (refused by default) */
  allowNonfinite: boolean;
  /** also write the checkpoint every N optimizer steps (0: at epoch ends only) */
  checkpointEvery: number;
  flavor: Flavor | 'auto';
  /** called with each progress update during an epoch and during evaluation */
  onProgress?: (p: ProgressStats & { phase: 'train' | 'eval'; epoch: number }) => void;
  /** called once before the first step with the core and the gradient engine (monitoring: the soak samples memory through them) */
  onStart?: (run: { core: Core; engine: GradEngine }) => void;
  /** called after each epoch with its metrics */
  onEpoch?: (m: EpochMetrics) => void;
  /** log lines (default: none from the library; the CLIs print them) */
  log?: (line: string) => void;
  /** warnings, e.g. a worker task that failed and is retried (default: standard error) */
  warn?: (line: string) => void;
  /** a progress bar on this stream (the CLIs pass process.stdout) */
  progressOut?: TextOut;
  /** set requested = true (e.g. from a SIGINT handler) to stop after the current step, with a checkpoint */
  stop?: { requested: boolean };
}

export const FIT_DEFAULTS: Readonly<Omit<FitOptions, 'loss' | 'init' | 'out' | 'resume' | 'onProgress' | 'onStart' | 'onEpoch' | 'log' | 'warn' | 'progressOut' | 'stop'>> = Object.freeze({
  epochs: 15,
  batchSize: 64,
  chunkSize: 'auto',
  workers: 1,
  pin: 'auto',
  seed: 1,
  optimizer: 'sgd',
  lr: 0.05,
  momentum: 0.9,
  nesterov: true,
  weightDecay: 0.0005,
  schedule: 'cosine',
  warmupEpochs: 0.5,
  gamma: 0.5,
  stepEpochs: 4,
  augment: Object.freeze({ shift: 0 }),
  evalBatch: 500,
  checkpointEvery: 500,
  flavor: 'auto',
  allowNonfinite: false,
});

/** The settings that decide the trajectory: a resumed run must have the same, or it would not continue exactly. */
export const TRAJECTORY_KEYS = [
  'epochs',
  'batchSize',
  'chunkSize',
  'lr',
  'schedule',
  'warmupEpochs',
  'gamma',
  'stepEpochs',
  'optimizer',
  'momentum',
  'nesterov',
  'weightDecay',
  'seed',
  'augment',
  'loss',
] as const satisfies readonly (keyof FitOptions)[];

/** The options with every default filled in and chunkSize resolved. */
export type ResolvedOptions = Omit<FitOptions, 'chunkSize'> & { chunkSize: number };

/** A bad option (InputError: the CLIs exit 2). */
export class OptionsError extends InputError {}

const KNOWN = new Set<string>([
  ...Object.keys(FIT_DEFAULTS),
  'loss', 'init', 'initStd', 'out', 'resume', 'onProgress', 'onStart', 'onEpoch', 'log', 'warn', 'progressOut', 'stop',
]);

function bad(key: string, msg: string): never {
  throw new OptionsError(`fit: option ${key} ${msg}`);
}

/** A numeric option's bounds, and what they protect (said after the rule when a value breaks it). */
export interface Bound {
  int?: boolean;
  min?: number;
  gt?: number;
  max?: number;
  why?: string;
}

/** The bounds of fit()'s numeric options; the CLIs check their flags against the same table. */
export const OPTION_BOUNDS = {
  epochs: { int: true, min: 1, max: 100_000, why: 'passes over the training set, at least one; more than 100,000 is taken for a typo' },
  batchSize: { int: true, min: 1, max: 1 << 20, why: 'examples per step; a batch larger than the training set is clamped to it, and none here exceeds 1,048,576' },
  chunkSize: { int: true, min: 1, max: 1 << 20, why: 'examples one worker computes at once; their activations must fit in one 4 GiB WebAssembly instance' },
  workers: { int: true, min: 1, max: 256, why: 'threads, each with its own WebAssembly instance and copy of the model' },
  seed: { int: true, min: 0, max: 2 ** 31 - 1, why: 'seeds are 31-bit integers' },
  lr: { gt: 0, max: 1e6, why: 'a step along the negative gradient needs a positive rate; rates above 1e6 only produce NaN' },
  momentum: { min: 0, max: 0.999, why: 'in [0, 1): at 1 the velocity never decays and training diverges' },
  weightDecay: { min: 0, max: 1, why: 'L2 decay λ in [0, 1]: above 1 each step shrinks the weights by more than the rate times their size' },
  warmupEpochs: { min: 0, max: 1e4, why: 'epochs of linear warm-up, 0 for none' },
  gamma: { gt: 0, max: 1, why: 'a decay factor in (0, 1]: above 1 the rate would grow, at 0 it would vanish' },
  stepEpochs: { int: true, min: 1, max: 1e5, why: 'the step schedule decays every N whole epochs' },
  initStd: { gt: 0, max: 100, why: 'the standard deviation σ_u of the initial weights' },
  evalBatch: { int: true, min: 1, max: 1 << 16, why: 'examples evaluated at once; larger batches gain nothing and risk the 4 GiB WebAssembly limit' },
  checkpointEvery: { int: true, min: 0, why: 'optimizer steps between checkpoints, 0 for epoch ends only' },
  shift: { int: true, min: 0, max: 64, why: 'pixels of random translation; 64 is wider than the images' },
  noise: { min: 0, max: 100, why: 'the standard deviation of the Gaussian noise added to the inputs' },
} as const satisfies Record<string, Bound>;

/** Checks option `key` against its bounds in OPTION_BOUNDS; `name` is how the message calls it. */
function bounded(o: Record<string, unknown>, key: keyof typeof OPTION_BOUNDS, name: string = key): void {
  const r: Bound = OPTION_BOUNDS[key];
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) bad(name, `must be a finite number, got ${JSON.stringify(v)}`);
  const because = r.why ? `; ${r.why}` : '';
  if (r.int && !Number.isSafeInteger(v)) bad(name, `must be an integer, got ${v}${because}`);
  if (r.min !== undefined && v < r.min) bad(name, `must be >= ${r.min}, got ${v}${because}`);
  if (r.gt !== undefined && !(v > r.gt)) bad(name, `must be > ${r.gt}, got ${v}${because}`);
  if (r.max !== undefined && v > r.max) bad(name, `must be <= ${r.max}, got ${v}${because}`);
}

function oneOf(o: Record<string, unknown>, key: string, list: readonly string[]): void {
  if (!list.includes(o[key] as string)) bad(key, `must be one of ${list.join(', ')}, got ${JSON.stringify(o[key])}`);
}

/** Fills in the defaults and checks every option; throws OptionsError naming the first bad one. */
export function resolveFitOptions(given: Partial<FitOptions> = {}): ResolvedOptions {
  for (const k of Object.keys(given)) if (!KNOWN.has(k)) bad(k, `is not an option of fit(); options: ${[...KNOWN].join(', ')}`);
  const defined = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
  const o = { ...FIT_DEFAULTS, ...defined } as Record<string, unknown>;
  bounded(o, 'epochs');
  bounded(o, 'batchSize');
  if (o.chunkSize === 'auto') o.chunkSize = defaultChunkSize(o.batchSize as number);
  bounded(o, 'chunkSize');
  bounded(o, 'workers');
  oneOf(o, 'pin', PIN_MODES);
  bounded(o, 'seed');
  oneOf(o, 'optimizer', OPTIMIZERS);
  bounded(o, 'lr');
  bounded(o, 'momentum');
  if (typeof o.nesterov !== 'boolean') bad('nesterov', `must be true or false, got ${JSON.stringify(o.nesterov)}`);
  bounded(o, 'weightDecay');
  oneOf(o, 'schedule', SCHEDULES);
  bounded(o, 'warmupEpochs');
  bounded(o, 'gamma');
  bounded(o, 'stepEpochs');
  if (o.init !== undefined) oneOf(o, 'init', INITS);
  if (o.initStd !== undefined) bounded(o, 'initStd');
  bounded(o, 'evalBatch');
  bounded(o, 'checkpointEvery');
  oneOf(o, 'flavor', FLAVORS);
  if (typeof o.allowNonfinite !== 'boolean') bad('allowNonfinite', `must be true or false, got ${JSON.stringify(o.allowNonfinite)}`);
  const aug = o.augment as Record<string, unknown>;
  if (typeof aug !== 'object' || aug === null) bad('augment', `must be an object like { shift: 2, hflip: true }, got ${JSON.stringify(aug)}`);
  for (const k of Object.keys(aug)) if (k !== 'shift' && k !== 'hflip' && k !== 'noise') bad('augment', `has an unknown key '${k}' (keys: shift, hflip, noise)`);
  if (aug.shift !== undefined) bounded(aug, 'shift', 'augment.shift');
  if (aug.noise !== undefined) bounded(aug, 'noise', 'augment.noise');
  if (aug.hflip !== undefined && typeof aug.hflip !== 'boolean') bad('augment.hflip', 'must be true or false');
  for (const k of ['onProgress', 'onStart', 'onEpoch', 'log', 'warn'] as const) if (o[k] !== undefined && typeof o[k] !== 'function') bad(k, 'must be a function');
  if (o.nesterov && o.optimizer === 'sgd' && o.momentum === 0) o.nesterov = false; // Nesterov needs momentum
  return o as unknown as ResolvedOptions;
}

/** --init-std scales the normal schemes only: refused when the weights would be drawn by 'torch' (uniform). */
export function checkInitStd(o: Pick<ResolvedOptions, 'init' | 'initStd'>, spec: { init?: InitScheme; layers: unknown[] }): void {
  if (o.initStd === undefined) return;
  const scheme = o.init ?? spec.init ?? 'lecun';
  const own = o.init === undefined && JSON.stringify(spec.layers).includes('"init":"torch"');
  if (scheme === 'torch' || own) bad('initStd', `applies to the normal initialisations (lecun, he, xavier), not to torch's uniform one`);
}

/**
 * What is impractical about a batch size, in words (empty when nothing is): batch 1 on the pool
 * makes every step one chunk on one worker plus a round trip, and a batch above the training set
 * is the full set (one step per epoch, plain batch gradient descent).
 */
export function batchWarnings(o: Pick<ResolvedOptions, 'batchSize' | 'workers' | 'chunkSize'>, n: number): string[] {
  const out: string[] = [];
  const chunks = Math.ceil(Math.min(o.batchSize, n) / o.chunkSize);
  if (o.workers > 1 && chunks < o.workers) {
    const what = o.batchSize === 1 ? 'batch size 1 (pure SGD)' : `batch size ${o.batchSize} in chunks of ${o.chunkSize}`;
    out.push(`${what} on ${o.workers} workers: each step has ${chunks} chunk${chunks === 1 ? '' : 's'}, so ${o.workers - chunks} worker${o.workers - chunks === 1 ? ' waits' : 's wait'} and every step pays a round trip to the pool; --workers 1 is faster here`);
  }
  if (o.batchSize > n) out.push(`batch size ${o.batchSize} exceeds the ${n} training examples: every step uses the full set (batch gradient descent, one step per epoch)`);
  else if (o.batchSize === n) out.push(`batch size ${n} is the full training set: one step per epoch (batch gradient descent)`);
  return out;
}
