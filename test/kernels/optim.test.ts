// optim family: SGD (weight decay, momentum, Nesterov), Adagrad, RMSprop, Adam/AdamW steps,
// against the f64 references in src/ref/optim.ts over several steps, and against two steps
// worked out by hand on f(x) = sum(x^2) (tfjs adam_optimizer_test style), on every flavour
// and on both the SIMD kernels and their _scalar twins. The reference runs iterate the
// optimizer registry (src/optim/registry.ts: each entry's export, wrapper, reference, state
// buffers, tolerance and hyper-parameter cases); the hand-worked steps and the bad-input
// cases are the family's own.
import { describe, it, expect } from 'vitest';
import { core, FLAVORS, randn, expectClose } from '../helpers/index.js';
import { sgdStep, adagradStep, rmspropStep, adamStep, type AdamHyper } from '../../src/core/kernels/optim.js';
import { OPTIM_LIST, type OptimKernel, type StepHyper } from '../../src/optim/registry.js';
import type { Core } from '../../src/core/load.js';
import type { Buf } from '../../src/core/heap.js';

// sizes: one element (tail only), below a vector, odd, and a large odd buffer
const NS = [1, 3, 7, 1001];
const STEPS = 4;
// hand-derived values are printed to 9-10 digits; f32 holds about 7
const HAND_TOL = 1e-6;

const PATHS = [
  { name: 'simd', scalar: false },
  { name: 'scalar', scalar: true },
];

function show(h: object): string {
  return Object.entries(h)
    .map(([k, v]) => (v === true ? k : `${k}=${v}`))
    .join(' ');
}

/** Every registry entry's kernel-test hyper-parameters, in registry order. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const CASES: { label: string; k: OptimKernel<any>; h: StepHyper<any> }[] = OPTIM_LIST.flatMap(([name, k]) =>
  k.test.cases.map((h) => ({ label: `${name} ${show(h)}`, k, h })),
);

describe('optim: every registry entry names an export (and its _scalar twin) that every build has', () => {
  for (const flavor of FLAVORS) {
    it(flavor, () => {
      const f = core(flavor).fns<Record<string, unknown>>();
      expect(OPTIM_LIST.length).toBeGreaterThanOrEqual(4);
      for (const [, k] of OPTIM_LIST) {
        expect(typeof f[k.export], k.export).toBe('function');
        expect(typeof f[`${k.export}_scalar`], `${k.export}_scalar`).toBe('function');
      }
    });
  }
});

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** Runs `body` with an allocator whose buffers are freed after it; checks nothing leaks. */
function leakFree(c: Core, body: (alloc: (src: ArrayLike<number>, dtype?: 'f32' | 'i32') => Buf) => void): void {
  const base = c.heap.liveBytes;
  const bufs: Buf[] = [];
  try {
    body((src, dtype = 'f32') => {
      const b = c.heap.from(src, dtype);
      bufs.push(b);
      return b;
    });
  } finally {
    for (const b of bufs) if (b.alive) b.free();
  }
  expect(c.heap.liveBytes).toBe(base);
}

/** Two steps on f(x) = sum(x^2) from x0 = [1, 2], tiled to 9 elements so the SIMD body and the tail both run. */
function twoSteps(
  c: Core,
  step: (w: Buf, g: Buf, state: Buf[], t: number) => void,
  states: number,
  want1: [number, number],
  want2: [number, number],
  what: string,
): void {
  const N = 9;
  const tile = (p: [number, number]) => Float32Array.from({ length: N }, (_, i) => p[i % 2]);
  leakFree(c, (alloc) => {
    const w = alloc(tile([1, 2]));
    const g = alloc(new Float32Array(N));
    const s = Array.from({ length: states }, () => alloc(new Float32Array(N)));
    for (const [t, want] of [
      [1, want1],
      [2, want2],
    ] as const) {
      g.set(w.view().map((x) => 2 * x)); // df/dx = 2x
      step(w, g, s, t);
      expectClose(w.view(), tile(want), HAND_TOL, `${what} x${t}`, 1);
    }
  });
}

for (const flavor of FLAVORS) {
  for (const path of PATHS) {
    const opts = { scalar: path.scalar };
    describe(`optim ${flavor} ${path.name}`, () => {
      for (const { label, k, h } of CASES) {
        const states = k.states(h);
        it(`${label}: ${STEPS} steps vs reference, n=${NS.join(',')} (rtol ${k.tolerance.rtol})`, () => {
          const c = core(flavor);
          const rtol = k.tolerance.rtol;
          for (const n of NS) {
            leakFree(c, (alloc) => {
              const w0 = randn(n, 1000 + n, -1, 1);
              const w = alloc(w0);
              const g = alloc(new Float32Array(n));
              const s = states.map(() => alloc(new Float32Array(n)));
              const rw = Float64Array.from(w0);
              const rs = states.map(() => new Float64Array(n));
              for (let t = 1; t <= STEPS; t++) {
                const gt = randn(n, 7 * n + t, -1, 1);
                g.set(gt);
                k.run(c, w, g, s, h, t, n, opts);
                k.ref(rw, gt, rs, h, t);
                const at = `${label} n=${n} step ${t}`;
                expectClose(w.view(), rw, rtol, `${at} w`, maxAbs(rw));
                states.forEach(({ arg, signed }, i) =>
                  expectClose(s[i].view(), rs[i], rtol, `${at} ${arg}`, signed ? maxAbs(rs[i]) : undefined),
                );
                expectClose(g.view(), gt, 0, `${at} g unchanged`);
              }
            });
          }
        });
      }

      it('sgd without momentum needs no state buffer and leaves a given one alone', () => {
        const c = core(flavor);
        leakFree(c, (alloc) => {
          const w = alloc([1, 2, 3, 4, 5]);
          const g = alloc([1, 1, 1, 1, 1]);
          const v = alloc([7, 7, 7, 7, 7]);
          sgdStep(c, w, g, null, { lr: 0.5 }, undefined, opts);
          sgdStep(c, w, g, v, { lr: 0.5 }, undefined, opts);
          expectClose(w.view(), [0, 1, 2, 3, 4], 0, 'w');
          expectClose(v.view(), [7, 7, 7, 7, 7], 0, 'v untouched');
        });
      });

      it('n smaller than the buffers updates only the first n', () => {
        const c = core(flavor);
        leakFree(c, (alloc) => {
          const w = alloc([1, 1, 1, 1, 1, 1]);
          const g = alloc([1, 1, 1, 1, 1, 1]);
          const m = alloc(new Float32Array(6));
          const v = alloc(new Float32Array(6));
          adamStep(c, w, g, m, v, { lr: 0.1, step: 1 }, 5, opts);
          expectClose(w.view(), [0.9, 0.9, 0.9, 0.9, 0.9, 1], 1e-6, 'w');
          expect(m.view()[5]).toBe(0);
        });
      });

      describe('two steps by hand on f(x) = sum(x^2), g = 2x, x0 = [1, 2]', () => {
        const c = () => core(flavor);

        it('sgd lr=0.1', () => {
          // step 1: g = [2, 4]; x1 = x0 - 0.1 g = [0.8, 1.6]
          // step 2: g = [1.6, 3.2]; x2 = [0.8 - 0.16, 1.6 - 0.32] = [0.64, 1.28]
          const h = { lr: 0.1 };
          twoSteps(c(), (w, g) => sgdStep(c(), w, g, null, h, undefined, opts), 0, [0.8, 1.6], [0.64, 1.28], 'sgd');
        });

        it('sgd lr=0.1 weightDecay=0.1', () => {
          // g' = 2x + 0.1x = 2.1x, so each step scales x by 1 - 0.1 * 2.1 = 0.79
          // step 1: x1 = 0.79 x0 = [0.79, 1.58]
          // step 2: x2 = 0.79^2 x0 = 0.6241 x0 = [0.6241, 1.2482]
          const h = { lr: 0.1, weightDecay: 0.1 };
          twoSteps(c(), (w, g) => sgdStep(c(), w, g, null, h, undefined, opts), 0, [0.79, 1.58], [0.6241, 1.2482], 'sgd wd');
        });

        it('sgd lr=0.1 momentum=0.9', () => {
          // step 1: v = g = [2, 4] (torch's first buffer is a copy of g); x1 = [1 - 0.2, 2 - 0.4] = [0.8, 1.6]
          // step 2: g = [1.6, 3.2]; v = 0.9 [2, 4] + g = [3.4, 6.8]; x2 = [0.8 - 0.34, 1.6 - 0.68] = [0.46, 0.92]
          const h = { lr: 0.1, momentum: 0.9 };
          twoSteps(c(), (w, g, s) => sgdStep(c(), w, g, s[0], h, undefined, opts), 1, [0.8, 1.6], [0.46, 0.92], 'momentum');
        });

        it('sgd lr=0.1 momentum=0.9 nesterov', () => {
          // step 1: v = g = [2, 4]; g' = g + 0.9 v = [3.8, 7.6]; x1 = [1 - 0.38, 2 - 0.76] = [0.62, 1.24]
          // step 2: g = [1.24, 2.48]; v = 0.9 [2, 4] + g = [3.04, 6.08];
          //   g' = g + 0.9 v = [1.24 + 2.736, 2.48 + 5.472] = [3.976, 7.952];
          //   x2 = [0.62 - 0.3976, 1.24 - 0.7952] = [0.2224, 0.4448]
          const h = { lr: 0.1, momentum: 0.9, nesterov: true };
          twoSteps(c(), (w, g, s) => sgdStep(c(), w, g, s[0], h, undefined, opts), 1, [0.62, 1.24], [0.2224, 0.4448], 'nesterov');
        });

        it('adagrad lr=0.1 (eps 1e-10)', () => {
          // step 1: g = [2, 4]; h = [4, 16]; sqrt h = [2, 4]; x1 = x0 - 0.1 [2/2, 4/4] = [0.9, 1.9]
          // step 2: g = [1.8, 3.8]; h = [4 + 3.24, 16 + 14.44] = [7.24, 30.44];
          //   sqrt h = [2.690724809, 5.517245690];
          //   x2 = [0.9 - 0.18/2.690724809, 1.9 - 0.38/5.517245690]
          //      = [0.9 - 0.0668964732, 1.9 - 0.0688749460] = [0.8331035268, 1.8311250540]
          const h = { lr: 0.1 };
          twoSteps(c(), (w, g, s) => adagradStep(c(), w, g, s[0], h, undefined, opts), 1, [0.9, 1.9], [0.8331035268, 1.831125054], 'adagrad');
        });

        it('rmsprop lr=0.01 (alpha 0.99, eps 1e-8)', () => {
          // step 1: g = [2, 4]; s = 0.01 g^2 = [0.04, 0.16]; sqrt s = [0.2, 0.4];
          //   x1 = x0 - 0.01 [2/0.2, 4/0.4] = [0.9, 1.9]  (eps moves it by 5e-9)
          // step 2: g = [1.8, 3.8]; s = 0.99 [0.04, 0.16] + 0.01 [3.24, 14.44]
          //   = [0.0396 + 0.0324, 0.1584 + 0.1444] = [0.072, 0.3028]; sqrt s = [0.2683281573, 0.5502726597];
          //   x2 = [0.9 - 0.018/0.2683281573, 1.9 - 0.038/0.5502726597]
          //      = [0.9 - 0.0670820393, 1.9 - 0.0690566705] = [0.8329179607, 1.8309433295]
          const h = { lr: 0.01 };
          twoSteps(c(), (w, g, s) => rmspropStep(c(), w, g, s[0], h, undefined, opts), 1, [0.9, 1.9], [0.8329179607, 1.8309433295], 'rmsprop');
        });

        it('adam lr=0.1 (betas 0.9, 0.999, eps 1e-8)', () => {
          // step 1: g = [2, 4]; m = 0.1 g = [0.2, 0.4]; v = 0.001 g^2 = [0.004, 0.016];
          //   corrections 1 - 0.9 = 0.1 and 1 - 0.999 = 0.001: m^ = [2, 4], v^ = [4, 16], sqrt v^ = [2, 4];
          //   x1 = x0 - 0.1 [2/2, 4/4] = [0.9, 1.9]
          // step 2: g = [1.8, 3.8]; m = 0.9 [0.2, 0.4] + 0.1 [1.8, 3.8] = [0.36, 0.74];
          //   v = 0.999 [0.004, 0.016] + 0.001 [3.24, 14.44] = [0.007236, 0.030424];
          //   corrections 1 - 0.81 = 0.19 and 1 - 0.998001 = 0.001999:
          //   m^ = [1.894736842, 3.894736842]; v^ = [3.619809905, 15.219609805];
          //   sqrt v^ = [1.902579803, 3.901231832];
          //   x2 = [0.9 - 0.1 * 1.894736842/1.902579803, 1.9 - 0.1 * 3.894736842/3.901231832]
          //      = [0.9 - 0.0995877713, 1.9 - 0.0998335144] = [0.8004122287, 1.8001664856]
          const step = (w: Buf, g: Buf, s: Buf[], t: number) => adamStep(c(), w, g, s[0], s[1], { lr: 0.1, step: t }, undefined, opts);
          twoSteps(c(), step, 2, [0.9, 1.9], [0.8004122287, 1.8001664856], 'adam');
        });

        it('adamw lr=0.1 weightDecay=0.1 decoupled', () => {
          // step 1: x *= 1 - 0.1 * 0.1 = 0.99 -> [0.99, 1.98]; the moments see g = 2 x0 = [2, 4],
          //   exactly as in Adam, so the update is again -0.1 [1, 1]: x1 = [0.89, 1.88]
          // step 2: g = [1.78, 3.76]; x *= 0.99 -> [0.8811, 1.8612];
          //   m = 0.9 [0.2, 0.4] + 0.1 [1.78, 3.76] = [0.358, 0.736];
          //   v = 0.999 [0.004, 0.016] + 0.001 [3.1684, 14.1376] = [0.0071644, 0.0301216];
          //   m^ = m / 0.19 = [1.884210526, 3.873684211]; sqrt v^ = sqrt(v / 0.001999) = [1.893143417, 3.881795225];
          //   x2 = [0.8811 - 0.1 * 1.884210526/1.893143417, 1.8612 - 0.1 * 3.873684211/3.881795225]
          //      = [0.8811 - 0.0995281441, 1.8612 - 0.0997910490] = [0.7815718559, 1.7614089510]
          const h = { lr: 0.1, weightDecay: 0.1, decoupled: true };
          const step = (w: Buf, g: Buf, s: Buf[], t: number) => adamStep(c(), w, g, s[0], s[1], { ...h, step: t }, undefined, opts);
          twoSteps(c(), step, 2, [0.89, 1.88], [0.7815718559, 1.761408951], 'adamw');
        });
      });
    });
  }

  describe(`optim ${flavor} rejects bad hyper-parameters and buffers`, () => {
    it('names the op, the argument, what it expected and what came', () => {
      const c = core(flavor);
      leakFree(c, (alloc) => {
        const w = alloc(randn(8, 1));
        const g = alloc(randn(8, 2));
        const s1 = alloc(new Float32Array(8));
        const s2 = alloc(new Float32Array(8));
        const short = alloc(new Float32Array(5));
        const ints = alloc(new Int32Array(8), 'i32');
        const bad: Array<[() => void, RegExp]> = [
          [() => sgdStep(c, w, g, null, { lr: 0 }), /sgdStep: lr must be a finite number > 0, got 0/],
          [() => sgdStep(c, w, g, null, { lr: -0.1 }), /sgdStep: lr must be a finite number > 0, got -0.1/],
          [() => sgdStep(c, w, g, null, { lr: Number.NaN }), /sgdStep: lr must be a finite number > 0, got NaN/],
          [() => sgdStep(c, w, g, null, { lr: Infinity }), /sgdStep: lr must be a finite number > 0, got Infinity/],
          [() => sgdStep(c, w, g, s1, { lr: 0.1, momentum: 1 }), /sgdStep: momentum must be in \[0, 1\), got 1/],
          [() => sgdStep(c, w, g, s1, { lr: 0.1, momentum: -0.5 }), /sgdStep: momentum must be in \[0, 1\), got -0.5/],
          [() => sgdStep(c, w, g, s1, { lr: 0.1, nesterov: true }), /sgdStep: nesterov needs momentum > 0/],
          [() => sgdStep(c, w, g, null, { lr: 0.1, weightDecay: -1 }), /sgdStep: weightDecay must be a finite number >= 0, got -1/],
          [() => sgdStep(c, w, g, null, { lr: 0.1, momentum: 0.9 }), /sgdStep: v \(momentum buffer\) is null/],
          [() => sgdStep(c, w, g, short, { lr: 0.1, momentum: 0.9 }), /sgdStep: v \(momentum buffer\) holds 5 elements, needs 8/],
          [() => sgdStep(c, w, g, null, { lr: 0.1 }, 9), /sgdStep: w holds 8 elements, needs 9/],
          [() => sgdStep(c, w, g, null, { lr: 0.1 }, 2.5), /sgdStep: n must be an integer >= 1, got 2.5/],
          [() => sgdStep(c, w, ints, null, { lr: 0.1 }), /sgdStep: g must hold f32, got i32/],
          [() => sgdStep(c, w, w, null, { lr: 0.1 }), /sgdStep: w and g overlap/],
          [() => adagradStep(c, w, g, s1, { lr: 0.1, eps: 0 }), /adagradStep: eps must be a finite number > 0, got 0/],
          [() => adagradStep(c, w, g, null as unknown as Buf, { lr: 0.1 }), /adagradStep: h \(sum of squares\) is null/],
          [() => rmspropStep(c, w, g, s1, { lr: 0.01, alpha: 1 }), /rmspropStep: alpha must be in \[0, 1\), got 1/],
          [() => rmspropStep(c, w, g, s1, { lr: 0.01, eps: -1e-8 }), /rmspropStep: eps must be a finite number > 0, got -1e-8/],
          [() => rmspropStep(c, w, g, g, { lr: 0.01 }), /rmspropStep: g and s \(mean square\) overlap/],
          [() => adamStep(c, w, g, s1, s2, { lr: 0.1, step: 0 }), /adamStep: step must be an integer >= 1 \(the 1-based step count\), got 0/],
          [() => adamStep(c, w, g, s1, s2, { lr: 0.1, step: 1.5 }), /adamStep: step must be an integer >= 1.*got 1.5/],
          [() => adamStep(c, w, g, s1, s2, { lr: 0.1 } as AdamHyper), /adamStep: step must be an integer >= 1.*got undefined/],
          [() => adamStep(c, w, g, s1, s2, { lr: 0.1, beta1: 1, step: 1 }), /adamStep: beta1 must be in \[0, 1\), got 1/],
          [() => adamStep(c, w, g, s1, s2, { lr: 0.1, beta2: -0.1, step: 1 }), /adamStep: beta2 must be in \[0, 1\), got -0.1/],
          [() => adamStep(c, w, g, s1, s2, { lr: 0.1, eps: 0, step: 1 }), /adamStep: eps must be a finite number > 0, got 0/],
          [() => adamStep(c, w, g, s1, s1, { lr: 0.1, step: 1 }), /adamStep: m \(first moment\) and v \(second moment\) overlap/],
        ];
        for (const [call, msg] of bad) expect(call).toThrow(msg);
        const gone = c.heap.from(randn(8, 3));
        gone.free();
        expect(() => adamStep(c, w, g, gone, s2, { lr: 0.1, step: 1 })).toThrow(/adamStep: m \(first moment\) was freed/);
        // nothing was touched by the rejected calls
        expectClose(w.view(), randn(8, 1), 0, 'w untouched');
      });
    });
  });
}
