// Two steps of each optimizer kernel against torch.optim (STYLE 23): SGD (plain, weight decay,
// momentum, Nesterov), Adagrad, RMSprop, Adam with L2 weight decay and AdamW, every one from
// the same w0 with gradients g1 then g2 (g1 has exact zeros, where Adagrad and RMSprop divide
// 0 by eps). The fixture (scripts/make_torch_fixtures.py) holds w after each step and the state
// buffers after each step under our argument names (v, h, s, m), so a wrong state layout shows
// up at step 1 rather than as a wrong step 2.
//
// Tolerance: 1e-6 of the tensor's max. The references are PyTorch's float64 runs rounded to
// float32; a float32 step loses about half an ulp of w per step (w - lr*update), and an ulp of
// w is ~1.2e-7 of |w|, so two steps stay well inside 1e-6 of max|w|. Relative to each entry
// instead, an entry near zero would be judged by the rounding of its larger neighbours.
// The state buffers are held to the same 1e-6: the kernels take their hyper-parameters as f64
// and form 1 - beta, 1 - alpha and the bias corrections in f64 before rounding each once, as
// PyTorch does in Python floats. (Forming 1 - beta from f32(0.999) = 0.999 + 1.3e-8 instead put
// Adam's v 1.3e-5 off, RMSprop's s 1e-6 and Adam's m 2.6e-7.) Measured on every flavour and
// path: w, m, v, s, h and the SGD velocity all within 1.5e-7 of their max.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Buf } from '../../src/core/heap.js';
import type { Core } from '../../src/core/load.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { adagradStep, adamStep, rmspropStep, sgdStep } from '../../src/core/kernels/optim.js';
import { FLAVORS, core, expectClose } from '../helpers/index.js';

const { tensors, metadata } = readSafetensors(fileURLToPath(new URL('../fixtures/torch/optim.safetensors', import.meta.url)));

function f32(name: string): Float32Array {
  const t = tensors.get(name);
  if (!t) throw new Error(`optim.safetensors: no tensor '${name}'`);
  if (!(t.data instanceof Float32Array)) throw new Error(`optim.safetensors: ${name} is not F32`);
  return t.data;
}
const has = (name: string) => tensors.has(name);

type Hyper =
  | { kernel: 'sgd'; lr: number; momentum: number; weightDecay: number; nesterov: boolean }
  | { kernel: 'adagrad'; lr: number; eps: number; weightDecay: number }
  | { kernel: 'rmsprop'; lr: number; alpha: number; eps: number; weightDecay: number }
  | { kernel: 'adam'; lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; decoupled: boolean };

/** Our state buffers per kernel, named as the wrappers' arguments (and the fixture's tensors). */
const STATE: Record<Hyper['kernel'], string[]> = { sgd: ['v'], adagrad: ['h'], rmsprop: ['s'], adam: ['m', 'v'] };

const PATHS = [
  { name: 'simd body', opt: undefined },
  { name: 'scalar twin', opt: { scalar: true } },
] as const;

type Opt = (typeof PATHS)[number]['opt'];

function step(c: Core, hp: Hyper, w: Buf, g: Buf, st: Record<string, Buf | null>, t: number, opt: Opt): void {
  switch (hp.kernel) {
    case 'sgd': {
      const { lr, momentum, weightDecay, nesterov } = hp;
      sgdStep(c, w, g, st.v, { lr, momentum, weightDecay, nesterov }, undefined, opt);
      return;
    }
    case 'adagrad': {
      const { lr, eps, weightDecay } = hp;
      adagradStep(c, w, g, st.h!, { lr, eps, weightDecay }, undefined, opt);
      return;
    }
    case 'rmsprop': {
      const { lr, alpha, eps, weightDecay } = hp;
      rmspropStep(c, w, g, st.s!, { lr, alpha, eps, weightDecay }, undefined, opt);
      return;
    }
    case 'adam': {
      const { lr, beta1, beta2, eps, weightDecay, decoupled } = hp;
      adamStep(c, w, g, st.m!, st.v!, { lr, beta1, beta2, eps, weightDecay, decoupled, step: t }, undefined, opt);
      return;
    }
  }
}

function expectRel(actual: Float32Array, expected: Float32Array, rtol: number, what: string): void {
  let max = 0;
  for (const v of expected) max = Math.max(max, Math.abs(v));
  expectClose(actual, expected, rtol, what, max);
}

const RTOL = 1e-6;
const n = Number(metadata.n);

for (const flavor of FLAVORS) {
  for (const path of PATHS) {
    describe(`torch.optim fixtures: ${flavor}, ${path.name}`, () => {
      for (const name of JSON.parse(metadata.configs) as string[]) {
        const hp = JSON.parse(metadata[name]) as Hyper;
        const { kernel, ...rest } = hp;
        it(`${name}: ${kernel} ${JSON.stringify(rest)}, two steps, n=${n}`, () => {
          const c = core(flavor);
          c.releaseScratch();
          const base = c.heap.liveBytes;
          const w = c.heap.from(f32('w0'));
          const g = c.heap.alloc(n);
          // plain SGD keeps no velocity: the fixture has none, and the kernel gets null
          const st: Record<string, Buf | null> = {};
          for (const k of STATE[kernel]) st[k] = has(`${name}.${k}1`) ? c.heap.alloc(n) : null;
          for (const t of [1, 2]) {
            g.set(f32(`g${t}`));
            step(c, hp, w, g, st, t, path.opt);
            expectRel(w.view(), f32(`${name}.w${t}`), RTOL, `${name} w after step ${t}`);
            for (const [k, b] of Object.entries(st)) {
              if (b) expectRel(b.view(), f32(`${name}.${k}${t}`), RTOL, `${name} ${k} after step ${t}`);
            }
          }
          w.free();
          g.free();
          for (const b of Object.values(st)) b?.free();
          c.releaseScratch();
          expect(c.heap.liveBytes).toBe(base);
        });
      }
    });
  }
}
