// Two steps of each optimizer kernel against torch.optim (STYLE 23): SGD (plain, weight decay,
// momentum, Nesterov), Adagrad, RMSprop, Adam with L2 weight decay and AdamW, every one from
// the same w0 with gradients g1 then g2 (g1 has exact zeros, where Adagrad and RMSprop divide
// 0 by eps). The fixture (scripts/make_torch_fixtures.py) holds w after each step and the state
// buffers after each step under our argument names (v, h, s, m), so a wrong state layout shows
// up at step 1 rather than as a wrong step 2. Each config runs the optimizer registry entry
// (src/optim/registry.ts) its `kernel` names: its wrapper and its state buffers.
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
import { readSafetensors } from '../../src/io/safetensors.js';
import { OPTIM, OPTIM_LIST, type OptimKernelName } from '../../src/optim/registry.js';
import { FLAVORS, core, expectClose } from '../helpers/index.js';

const { tensors, metadata } = readSafetensors(fileURLToPath(new URL('../fixtures/torch/optim.safetensors', import.meta.url)));

function f32(name: string): Float32Array {
  const t = tensors.get(name);
  if (!t) throw new Error(`optim.safetensors: no tensor '${name}'`);
  if (!(t.data instanceof Float32Array)) throw new Error(`optim.safetensors: ${name} is not F32`);
  return t.data;
}

/** A fixture config: the registry entry it runs (`kernel`) and its hyper-parameters under the wrappers' names. */
type Config = { kernel: OptimKernelName; lr: number } & Record<string, number | boolean | string>;

const PATHS = [
  { name: 'simd body', opt: undefined },
  { name: 'scalar twin', opt: { scalar: true } },
] as const;

function expectRel(actual: Float32Array, expected: Float32Array, rtol: number, what: string): void {
  let max = 0;
  for (const v of expected) max = Math.max(max, Math.abs(v));
  expectClose(actual, expected, rtol, what, max);
}

const RTOL = 1e-6;
const n = Number(metadata.n);
const CONFIGS = JSON.parse(metadata.configs) as string[];
const config = (name: string) => JSON.parse(metadata[name]) as Config;

describe('torch.optim fixtures: the registry and the fixture cover each other', () => {
  it('every fixture config runs a registry entry, and every entry has a fixture config', () => {
    const kernels = CONFIGS.map((name) => config(name).kernel);
    expect(kernels.filter((k) => !Object.hasOwn(OPTIM, k)), 'fixture configs without a registry entry').toEqual([]);
    expect(OPTIM_LIST.map(([name]) => name).filter((k) => !kernels.includes(k)), 'registry entries without a fixture config').toEqual([]);
  });
  it('the fixture holds exactly the state buffers each entry keeps', () => {
    for (const name of CONFIGS) {
      const { kernel, ...hp } = config(name);
      const args = OPTIM[kernel].states(hp as never).map((s) => s.arg).sort();
      const held = [...tensors.keys()].filter((t) => t.startsWith(`${name}.`) && t.endsWith('1') && t !== `${name}.w1`).map((t) => t.slice(name.length + 1, -1));
      expect(held.sort(), name).toEqual(args);
    }
  });
});

for (const flavor of FLAVORS) {
  for (const path of PATHS) {
    describe(`torch.optim fixtures: ${flavor}, ${path.name}`, () => {
      for (const name of CONFIGS) {
        const { kernel, ...rest } = config(name);
        const k = OPTIM_LIST.find(([key]) => key === kernel)![1];
        it(`${name}: ${kernel} ${JSON.stringify(rest)}, two steps, n=${n}`, () => {
          const c = core(flavor);
          c.releaseScratch();
          const base = c.heap.liveBytes;
          const w = c.heap.from(f32('w0'));
          const g = c.heap.alloc(n);
          // plain SGD keeps no velocity: the entry lists none, the fixture has none
          const states = k.states(rest);
          const st: Buf[] = states.map(() => c.heap.alloc(n));
          for (const t of [1, 2]) {
            g.set(f32(`g${t}`));
            k.run(c, w, g, st, rest, t, undefined, path.opt);
            expectRel(w.view(), f32(`${name}.w${t}`), RTOL, `${name} w after step ${t}`);
            states.forEach(({ arg }, i) => expectRel(st[i].view(), f32(`${name}.${arg}${t}`), RTOL, `${name} ${arg} after step ${t}`));
          }
          w.free();
          g.free();
          for (const b of st) b.free();
          c.releaseScratch();
          expect(c.heap.liveBytes).toBe(base);
        });
      }
    });
  }
}
