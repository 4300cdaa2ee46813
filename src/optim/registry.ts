// The optimizer registry: the one list of optimizer kernels (assembly/optim.ts), as the op
// table (src/ops/table.ts) is the one list of ops. Each entry names its WASM export (its
// `_scalar` twin by name), runs its typed wrapper (src/core/kernels/optim.ts), holds its f64
// reference step (src/ref/optim.ts), the state buffers it keeps, its tolerance, the
// hyper-parameters the kernel tests run, its benchmark row, the PyTorch fixture configs it
// answers for, and the public optimizers (makeOptimizer's names) that run it.
// test/kernels/optim.test.ts, test/torch/optim.test.ts and bench/kernels.ts iterate it, and
// OPTIMIZERS and makeOptimizer derive from it: a new optimizer is its kernel, its reference,
// one entry here and a fixture line.
import type { Core } from '../core/load.js';
import type { Buf } from '../core/heap.js';
import type { KernelOpts } from '../core/kernels/elementwise.js';
import {
  sgdStep,
  adagradStep,
  rmspropStep,
  adamStep,
  type SgdHyper,
  type AdagradHyper,
  type RmspropHyper,
  type AdamHyper,
} from '../core/kernels/optim.js';
import { sgdStepRef, adagradStepRef, rmspropStepRef, adamStepRef } from '../ref/optim.js';

/** One state buffer of an optimizer, of the parameters' size, zero at the start. */
export interface OptimState {
  /** the checkpoint's name for it (`optim.<key>`, PyTorch's state key) */
  key: string;
  /** the wrapper's argument name, which the PyTorch fixture's tensors use too */
  arg: string;
  /** can be negative (a velocity, a first moment): judged against its max, not entry by entry */
  signed: boolean;
}

/** A step's hyper-parameters as an optimizer holds them: all but the learning rate and the step count. */
export type FixedHyper<H> = Omit<H, 'lr' | 'step'>;
/** A step's hyper-parameters with the learning rate: what the tests and the benchmark pass. */
export type StepHyper<H> = Omit<H, 'step'>;

/** What makeOptimizer passes on: the public optimizer's name and the options it reads. */
export interface OptimizerConfig {
  name: string;
  momentum?: number;
  nesterov?: boolean;
  weightDecay?: number;
}

/**
 * One optimizer kernel. The kernel tests run the export and its `_scalar` twin on every build
 * against `ref` for every hyper-parameter set of `test.cases` over several steps (w and every
 * state buffer within `tolerance.rtol`: w and signed state against their max, the others per
 * entry); bench/kernels.ts times one step with `bench.hyper`; test/torch runs the fixture
 * configs whose `kernel` is this entry's name.
 */
export interface OptimKernel<H extends { lr: number }> {
  /** the WASM export (w, g, ...states, n, ...f64 hyper-parameters); its twin is `<export>_scalar` */
  export: string;
  /** the state buffers a step with these hyper-parameters reads and writes, in the wrapper's order */
  states(h: FixedHyper<H>): readonly OptimState[];
  /** the typed wrapper: one step at 1-based `step` over the first n floats (default: all of w) */
  run(core: Core, w: Buf, g: Buf, states: readonly Buf[], h: StepHyper<H>, step: number, n?: number, opts?: KernelOpts): void;
  /** the f64 reference: one step, updating w and the states in place */
  ref(w: Float64Array, g: ArrayLike<number>, states: Float64Array[], h: StepHyper<H>, step: number): void;
  tolerance: { rtol: number };
  /** kernel-test hyper-parameters (each run for several steps on several sizes) */
  test: { cases: readonly StepHyper<H>[] };
  /**
   * benchmark row: one step (step 1) over the LeNet's parameters with `hyper`, described by
   * `label`; FLOPs (what the SIMD body computes: a madd is 2, a sqrt or a division 1) and
   * bytes (every buffer read plus every buffer written, 4 per f32) per element
   */
  bench: { hyper: StepHyper<H>; label: string; perElement: { flops: number; bytes: number } };
  /** the public optimizers that run this kernel, each with its hyper-parameters from a config */
  optimizers: Record<string, (c: OptimizerConfig) => FixedHyper<H>>;
}

/** The trainer's defaults (src/cli/train_mnist.ts) for the benchmark rows: lr 0.05, weight decay 5e-4. */
const BENCH = { lr: 0.05, weightDecay: 5e-4 } as const;
const WD = `wd=${BENCH.weightDecay}`;
// f32 kernel vs an f64 run of the same formulas over several steps, both given the same f64
// hyper-parameters: 1e-6 holds (measured <= 3.7e-7 on every flavour and path) and catches a
// kernel that forms 1 - beta from f32(beta) (Adam's v moves by 1.3e-5)
const RTOL = 1e-6;

export const OPTIM = {
  /** SGD with weight decay, momentum (dampening 0) and Nesterov, PyTorch's semantics */
  sgd: {
    export: 'sgd_step',
    states: (h) => ((h.momentum ?? 0) > 0 ? [{ key: 'momentum', arg: 'v', signed: true }] : []),
    run: (core, w, g, [v], h, _step, n, opts) => sgdStep(core, w, g, v ?? null, h, n, opts),
    ref: (w, g, [v], h) => sgdStepRef(w, g, v ?? null, h),
    tolerance: { rtol: RTOL },
    test: {
      cases: [
        { lr: 0.1 },
        { lr: 0.1, weightDecay: 0.1 },
        { lr: 0.1, momentum: 0.9 },
        { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01 },
      ],
    },
    // g + wd*w, v = m*v + g, g + m*v, w - lr*g (4 madds); reads w, g, v, writes w, v
    bench: { hyper: { ...BENCH, momentum: 0.9, nesterov: true }, label: `momentum 0.9 nesterov ${WD}`, perElement: { flops: 8, bytes: 20 } },
    optimizers: { sgd: (c) => ({ momentum: c.momentum ?? 0, nesterov: c.nesterov ?? false, weightDecay: c.weightDecay ?? 0 }) },
  } satisfies OptimKernel<SgdHyper>,

  /** AdaGrad (lr_decay 0): h += g⊙g; w -= η g / (√h + ε) */
  adagrad: {
    export: 'adagrad_step',
    states: () => [{ key: 'sum_sq', arg: 'h', signed: false }],
    run: (core, w, g, [h], hp, _step, n, opts) => adagradStep(core, w, g, h, hp, n, opts),
    ref: (w, g, [h], hp) => adagradStepRef(w, g, h, hp),
    tolerance: { rtol: RTOL },
    test: { cases: [{ lr: 0.1 }, { lr: 0.05, eps: 1e-6, weightDecay: 0.1 }] },
    // g + wd*w, h += g*g (2 madds), lr*g, sqrt, + eps, /, w + (5); reads w, g, h, writes w, h
    bench: { hyper: BENCH, label: WD, perElement: { flops: 9, bytes: 20 } },
    optimizers: { adagrad: (c) => ({ weightDecay: c.weightDecay ?? 0 }) },
  } satisfies OptimKernel<AdagradHyper>,

  /** RMSprop (no momentum, not centered): s = α s + (1-α) g²; w -= η g / (√s + ε) */
  rmsprop: {
    export: 'rmsprop_step',
    states: () => [{ key: 'square_avg', arg: 's', signed: false }],
    run: (core, w, g, [s], h, _step, n, opts) => rmspropStep(core, w, g, s, h, n, opts),
    ref: (w, g, [s], h) => rmspropStepRef(w, g, s, h),
    tolerance: { rtol: RTOL },
    test: { cases: [{ lr: 0.01 }, { lr: 0.01, alpha: 0.9, eps: 1e-6, weightDecay: 0.1 }] },
    // g + wd*w (madd), s = (1-a)*g*g + a*s (2 muls, madd), lr*g, sqrt, + eps, /, w + (5); reads w, g, s, writes w, s
    bench: { hyper: BENCH, label: `alpha 0.99 ${WD}`, perElement: { flops: 11, bytes: 20 } },
    optimizers: { rmsprop: (c) => ({ weightDecay: c.weightDecay ?? 0 }) },
  } satisfies OptimKernel<RmspropHyper>,

  /** Adam, and AdamW with `decoupled` (PyTorch 1.13's updates) */
  adam: {
    export: 'adam_step',
    states: () => [
      { key: 'exp_avg', arg: 'm', signed: true },
      { key: 'exp_avg_sq', arg: 'v', signed: false },
    ],
    run: (core, w, g, [m, v], h, step, n, opts) => adamStep(core, w, g, m, v, { ...h, step }, n, opts),
    ref: (w, g, [m, v], h, step) => adamStepRef(w, g, m, v, { ...h, step }),
    tolerance: { rtol: RTOL },
    test: {
      cases: [
        { lr: 0.01 },
        { lr: 0.01, weightDecay: 0.1 },
        { lr: 0.01, weightDecay: 0.1, decoupled: true },
        { lr: 0.002, beta1: 0, beta2: 0.5, eps: 1e-6 },
      ],
    },
    // g + wd*w (madd), m = (1-b1)*g + b1*m (mul, madd), v = (1-b2)*g*g + b2*v (2 muls, madd),
    // sqrt(v) / bc2 + eps (3), step*m, /, w + (3); reads w, g, m, v, writes w, m, v
    bench: { hyper: BENCH, label: `${WD} step 1`, perElement: { flops: 15, bytes: 28 } },
    optimizers: {
      adam: (c) => ({ weightDecay: c.weightDecay ?? 0 }),
      adamw: (c) => ({ weightDecay: c.weightDecay ?? 0, decoupled: true }),
    },
  } satisfies OptimKernel<AdamHyper>,
};

export type OptimKernelName = keyof typeof OPTIM;

/** Every entry seen as an OptimKernel: what the tests and the benchmark iterate. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const OPTIM_LIST: ReadonlyArray<[OptimKernelName, OptimKernel<any>]> = Object.entries(OPTIM) as [OptimKernelName, OptimKernel<any>][];

/** The public optimizers' names (makeOptimizer, the CLIs' --optimizer), from the entries. */
export type OptimizerName = { [K in OptimKernelName]: keyof (typeof OPTIM)[K]['optimizers'] & string }[OptimKernelName];
