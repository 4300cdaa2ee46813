// The optimizer classes over flat buffers (the kernels themselves are checked against
// formulas, hand derivations and PyTorch in test/kernels and test/torch) and the schedules.
import { describe, it, expect } from 'vitest';
import { makeOptimizer, lrAt, OPTIMIZERS, OPTIM_LIST, SGD, AdaGrad, RMSProp, Adam, type OptimizerName, type Schedule } from '../src/optim/index.js';
import { core } from './helpers/index.js';

/** learning rates for 100 steps on Σx² (a new optimizer runs at its registry entry's benchmark lr) */
const LR: Partial<Record<OptimizerName, number>> = { sgd: 0.05, adagrad: 0.5, rmsprop: 0.05, adam: 0.1, adamw: 0.1 };
const KEYS: Partial<Record<OptimizerName, string[]>> = {
  sgd: ['momentum'],
  adagrad: ['sum_sq'],
  rmsprop: ['square_avg'],
  adam: ['exp_avg', 'exp_avg_sq'],
  adamw: ['exp_avg', 'exp_avg_sq'],
};

describe('optimizers', () => {
  it.each(OPTIMIZERS)('%s minimises f(x) = Σx² and names its state for checkpoints', (name) => {
    const entry = OPTIM_LIST.find(([, k]) => Object.hasOwn(k.optimizers, name))![1];
    const c = core('simd');
    const x = c.heap.from([1, -2, 3, 0.5, -0.25]);
    const g = c.heap.alloc(5);
    const opt = makeOptimizer(c, x, g, { name, momentum: 0.9, weightDecay: 1e-4 });
    const f = () => x.view().reduce((s, v) => s + v * v, 0);
    const f0 = f();
    for (let i = 0; i < 100; i++) {
      g.set(x.view().map((v) => 2 * v)); // ∇Σx² = 2x
      opt.step(LR[name] ?? entry.bench.hyper.lr);
    }
    expect(f()).toBeLessThan(f0 * 0.05);
    expect(opt.steps).toBe(100);
    const keys = Object.keys(opt.state()).sort();
    // the shipped optimizers' checkpoint names are pinned here (old checkpoints must load);
    // a new registry entry's come from the entry
    expect(keys).toEqual(KEYS[name] ?? entry.states({ momentum: 0.9, weightDecay: 1e-4 }).map((st) => st.key).sort());
    expect(opt.name).toBe(name);
    opt.free();
    x.free();
    g.free();
  });
  it('OPTIMIZERS derives from the registry: the public names, simplest first; an unknown name is refused', () => {
    expect(OPTIMIZERS).toEqual(['sgd', 'adagrad', 'rmsprop', 'adam', 'adamw']);
    const c = core('simd');
    const x = c.heap.from([1, 2]);
    const g = c.heap.from([0.5, -0.5]);
    expect(() => makeOptimizer(c, x, g, { name: 'lion' as OptimizerName })).toThrow(/makeOptimizer: unknown optimizer "lion", expected one of sgd, adagrad, rmsprop, adam, adamw/);
    expect(() => makeOptimizer(c, x, g, { name: 'constructor' as OptimizerName })).toThrow(/unknown optimizer "constructor"/);
    x.free();
    g.free();
  });
  it('work with no options (PyTorch defaults)', () => {
    const c = core('simd');
    const x = c.heap.from([1, 2]);
    const g = c.heap.from([0.5, -0.5]);
    for (const opt of [new SGD(c, x, g), new AdaGrad(c, x, g), new RMSProp(c, x, g), new Adam(c, x, g)]) {
      opt.step(0.01);
      expect(opt.steps).toBe(1);
      opt.free();
    }
    expect(Array.from(x.view()).every(Number.isFinite)).toBe(true);
    x.free();
    g.free();
  });
});

describe('learning-rate schedules', () => {
  const base: Schedule = { kind: 'constant', lr: 0.1, totalSteps: 1000, stepsPerEpoch: 100 };
  it('constant, step and exponential decay per epoch', () => {
    expect(lrAt(base, 0)).toBe(0.1);
    expect(lrAt(base, 999)).toBe(0.1);
    const step = { ...base, kind: 'step' as const, gamma: 0.5, stepEpochs: 3 };
    expect(lrAt(step, 299)).toBeCloseTo(0.1, 12);
    expect(lrAt(step, 300)).toBeCloseTo(0.05, 12);
    expect(lrAt(step, 650)).toBeCloseTo(0.025, 12);
    const exp = { ...base, kind: 'exp' as const, gamma: 0.9 };
    expect(lrAt(exp, 250)).toBeCloseTo(0.1 * 0.81, 12);
  });
  it('cosine from lr to 0 over the run, after a linear warm-up', () => {
    const cos = { ...base, kind: 'cosine' as const, warmupSteps: 50 };
    expect(lrAt(cos, 0)).toBeCloseTo(0.1 / 50, 12);
    expect(lrAt(cos, 24)).toBeCloseTo(0.1 * (25 / 50), 12);
    expect(lrAt(cos, 50)).toBeCloseTo(0.1, 12);
    expect(lrAt(cos, 525)).toBeCloseTo(0.05, 12); // half way through the cosine part
    expect(lrAt(cos, 1000)).toBeCloseTo(0, 12);
  });
});
