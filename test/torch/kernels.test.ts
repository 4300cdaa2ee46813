// Our WASM kernels against PyTorch (STYLE 23): conv2d (the op table's `conv.torch`), max/avg
// pooling (its `pool.torch` cases), linear, the op table's pointwise activations (their `pointwise.torch`
// cases, on the kernels and through the tape) and
// softmax cross-entropy, forward and every gradient, on every flavour and on both the SIMD
// bodies and the `_scalar` twins. The fixtures come from scripts/make_torch_fixtures.py
// (test/fixtures/torch/README.md says what each holds); this file never runs Python.
//
// Tolerances. The fixtures are PyTorch's float64 results rounded once to float32, so any error
// is ours. Forward results are compared element by element, relative to each expected value
// (with expectClose's floor of 1e-3 x the tensor's max for entries that cancel to near zero;
// conv2d's floor is 1e-2, see its entry).
// Gradients are compared relative to the tensor's max: each entry of gw, gx or gb is a sum of
// hundreds to thousands of products (conv1 gw sums 3x28x28 = 2352 of them) whose positive and
// negative terms cancel, so an entry's own size says nothing about the rounding in its sum,
// while the sum's magnitude, bounded by the tensor's max, does.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Buf } from '../../src/core/heap.js';
import type { Core } from '../../src/core/load.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { geomOut, type Geom2d } from '../../src/ops/shapes.js';
import { pointwiseBackward, pointwiseForward } from '../../src/core/kernels/activation.js';
import { OPS, POINTWISE_LIST, POOL_LIST } from '../../src/ops/table.js';

/** conv2d's kernels (the op table's `conv`) */
const CONV = OPS.conv2d.conv;
/** softmax_xent's plain kernel pair (the op table's `xent`) */
const XENT = OPS.softmax_xent.xent.variants.plain;
const XENT_RTOL = OPS.softmax_xent.xent.torch.rtol;
/** linear's kernels (the op table's `linear`) */
const LIN = OPS.linear.linear;
import { Tape } from '../../src/autograd.js';
import { Tensor } from '../../src/tensor.js';
import { FLAVORS, core, expectClose } from '../helpers/index.js';

interface Fixture {
  f32(name: string): Float32Array;
  i32(name: string): Int32Array;
  shape(name: string): number[];
  meta: Record<string, string>;
}

function fixture(file: string): Fixture {
  const { tensors, metadata } = readSafetensors(fileURLToPath(new URL(`../fixtures/torch/${file}`, import.meta.url)));
  const get = (name: string) => {
    const t = tensors.get(name);
    if (!t) throw new Error(`${file}: no tensor '${name}'`);
    return t;
  };
  return {
    f32(name) {
      const d = get(name).data;
      if (!(d instanceof Float32Array)) throw new Error(`${file}: ${name} is not F32`);
      return d;
    },
    i32(name) {
      const d = get(name).data;
      if (!(d instanceof Int32Array)) throw new Error(`${file}: ${name} is not I32`);
      return d;
    },
    shape: (name) => [...get(name).shape],
    meta: metadata,
  };
}

/** Both code paths of every kernel: the SIMD body and the plain-scalar twin. */
const PATHS = [
  { name: 'simd body', opt: undefined },
  { name: 'scalar twin', opt: { scalar: true } },
] as const;

const shape = (s: number[]) => `[${s.join(',')}]`;

/** Fills a forward output with junk first, so a kernel that skips an entry cannot pass. */
function junk(c: Core, n: number): Buf {
  return c.heap.from(new Float32Array(n).fill(-7.25));
}

function maxAbs(a: Float32Array): number {
  let max = 0;
  for (const v of a) max = Math.max(max, Math.abs(v));
  return max;
}

/** Gradients: error relative to the tensor's max (see the header). */
function expectGrad(actual: Float32Array, expected: Float32Array, rtol: number, what: string): void {
  expectClose(actual, expected, rtol, what, maxAbs(expected));
}

/** Runs `body` and checks that it freed everything it allocated (scratch included). */
function balanced(c: Core, body: () => void): void {
  c.releaseScratch();
  const base = c.heap.liveBytes;
  body();
  c.releaseScratch();
  expect(c.heap.liveBytes).toBe(base);
}

const loaded = new Map<string, Fixture>();
/** Each fixture file read once, for the table-driven cases that name it. */
function fixtures(file: string): Fixture {
  if (!loaded.has(file)) loaded.set(file, fixture(file));
  return loaded.get(file)!;
}

const conv = fixture(CONV.torch.file);
const lin = fixture(LIN.torch.file);
const xent = fixture(OPS.softmax_xent.xent.torch.file);

for (const flavor of FLAVORS) {
  for (const path of PATHS) {
    describe(`torch fixtures: ${flavor}, ${path.name}`, () => {
      // conv2d: the entry's `conv.torch` (tolerances and their reasons in src/ops/table.ts)
      for (const name of JSON.parse(conv.meta.cases) as string[]) {
        const g = JSON.parse(conv.meta[`${name}.geom`]) as Geom2d & { oc: number };
        it(`conv2d ${name} x=${shape(conv.shape(`${name}.x`))} w=${shape(conv.shape(`${name}.w`))} s=${g.sh},${g.sw} p=${g.ph},${g.pw}`, () => {
          const c = core(flavor);
          const { oh, ow } = geomOut('conv2d', g);
          expect(conv.shape(`${name}.y`)).toEqual([g.n, g.oc, oh, ow]);
          balanced(c, () => {
            const x = c.heap.from(conv.f32(`${name}.x`));
            const w = c.heap.from(conv.f32(`${name}.w`));
            const b = c.heap.from(conv.f32(`${name}.b`));
            const gy = c.heap.from(conv.f32(`${name}.gy`));
            const y = junk(c, g.n * g.oc * oh * ow);
            const gx = c.heap.alloc(x.length);
            const gw = c.heap.alloc(w.length);
            const gb = c.heap.alloc(b.length);
            const { rtol } = CONV.torch;
            CONV.run.forward(c, y, x, w, b, g, path.opt);
            const yRef = conv.f32(`${name}.y`);
            expectClose(y.view(), yRef, rtol.forward, `conv2d ${name} y`, rtol.floor * maxAbs(yRef));
            CONV.run.backwardData(c, gx, gy, w, g, path.opt);
            expectGrad(gx.view(), conv.f32(`${name}.gx`), rtol.backward, `conv2d ${name} gx`);
            CONV.run.backwardFilter(c, gw, gy, x, g, path.opt);
            expectGrad(gw.view(), conv.f32(`${name}.gw`), rtol.backward, `conv2d ${name} gw`);
            CONV.run.backwardBias(c, gb, gy, g, path.opt);
            expectGrad(gb.view(), conv.f32(`${name}.gb`), rtol.backward, `conv2d ${name} gb`);
            for (const bf of [x, w, b, gy, y, gx, gw, gb]) bf.free();
          });
        });
      }

      // Pooling: the entries' `pool.torch` (tolerances and their reasons in src/ops/table.ts).
      for (const [op, { pool: k }] of POOL_LIST) {
        const pool = fixtures(k.torch.file);
        for (const name of JSON.parse(pool.meta.cases) as string[]) {
          const g = JSON.parse(pool.meta[`${name}.geom`]) as Geom2d;
          const label = `x=${shape(pool.shape(`${name}.x`))} k=${g.kh}x${g.kw} s=${g.sh},${g.sw} p=${g.ph},${g.pw}`;
          const key = `${name}.${k.torch.key}`;
          it(`${op} ${name} ${label}${k.torch.note ? ` ${k.torch.note}` : ''}`, () => {
            const c = core(flavor);
            const { oh, ow } = geomOut(op, g);
            expect(pool.shape(`${key}.y`)).toEqual([g.n, g.c, oh, ow]);
            balanced(c, () => {
              const x = c.heap.from(pool.f32(`${name}.x`));
              const gy = c.heap.from(pool.f32(`${key}.gy`));
              const y = junk(c, gy.length);
              const argmax = k.argmax ? c.heap.alloc(gy.length, 'i32') : undefined;
              const gx = c.heap.alloc(x.length);
              k.run.forward(c, y, argmax, x, g, path.opt);
              expectClose(y.view(), pool.f32(`${key}.y`), k.torch.rtol.forward, `${op} ${name} y`);
              k.run.backward(c, gx, gy, argmax, g, path.opt);
              expectGrad(gx.view(), pool.f32(`${key}.gx`), k.torch.rtol.backward, `${op} ${name} gx`);
              for (const bf of [x, gy, y, gx, ...(argmax ? [argmax] : [])]) bf.free();
            });
          });
        }
      }

      for (const name of JSON.parse(lin.meta.cases) as string[]) {
        const d = JSON.parse(lin.meta[`${name}.dims`]) as { m: number; inF: number; outF: number };
        it(`linear ${name} x=[${d.m},${d.inF}] w=[${d.outF},${d.inF}]`, () => {
          const c = core(flavor);
          balanced(c, () => {
            const x = c.heap.from(lin.f32(`${name}.x`));
            const w = c.heap.from(lin.f32(`${name}.w`));
            const b = c.heap.from(lin.f32(`${name}.b`));
            const gy = c.heap.from(lin.f32(`${name}.gy`));
            const y = junk(c, d.m * d.outF);
            const gx = c.heap.alloc(x.length);
            const gw = c.heap.alloc(w.length);
            const gb = c.heap.alloc(b.length);
            LIN.run.forward(c, y, x, w, b, d, path.opt);
            expectClose(y.view(), lin.f32(`${name}.y`), LIN.torch.rtol.forward, `linear ${name} y`);
            LIN.run.backwardData(c, gx, gy, w, d, path.opt);
            expectGrad(gx.view(), lin.f32(`${name}.gx`), LIN.torch.rtol.backward, `linear ${name} gx`);
            LIN.run.backwardWeight(c, gw, gy, x, d, path.opt);
            expectGrad(gw.view(), lin.f32(`${name}.gw`), LIN.torch.rtol.backward, `linear ${name} gw`);
            LIN.run.backwardBias(c, gb, gy, d, path.opt);
            expectGrad(gb.view(), lin.f32(`${name}.gb`), LIN.torch.rtol.backward, `linear ${name} gb`);
            for (const bf of [x, w, b, gy, y, gx, gw, gb]) bf.free();
          });
        });
      }

      // Pointwise activations, from the op table's `pointwise.torch` cases: 1e-5 per element
      // forward (a few ulps of exp/tanh, and the floor absorbs sigmoid(-90) ~ 8e-40, a
      // subnormal); gradients 1e-6 of the max. The backward takes PyTorch's y, so it is judged
      // on its own.
      for (const [op, { pointwise: k }] of POINTWISE_LIST) {
        for (const { key, attrs } of k.torch?.cases ?? []) {
          const fx = fixtures(k.torch!.file);
          it(`${op} ${key} x=${shape(fx.shape(k.torch!.x))}`, () => {
            const c = core(flavor);
            const params = k.params(attrs);
            balanced(c, () => {
              const x = c.heap.from(fx.f32(k.torch!.x));
              const yRef = c.heap.from(fx.f32(`${key}.y`));
              const gy = c.heap.from(fx.f32(`${key}.gy`));
              const y = junk(c, x.length);
              const gx = c.heap.alloc(x.length);
              pointwiseForward(c, k.exports.forward, y, x, params, undefined, path.opt); // n: all of x
              expectClose(y.view(), fx.f32(`${key}.y`), 1e-5, `${op} ${key} y`);
              expect(y.view().every(Number.isFinite)).toBe(true);
              pointwiseBackward(c, k.exports.backward, gx, gy, yRef, params, undefined, path.opt);
              expectGrad(gx.view(), fx.f32(`${key}.gx`), 1e-6, `${op} ${key} gx`);
              for (const bf of [x, yRef, gy, y, gx]) bf.free();
            });
          });
        }
      }

      // Softmax cross-entropy, with a row of logits at +-30: loss and probs 1e-5 relative;
      // the gradient of the mean loss 1e-6 of its max.
      it(`softmax_xent logits=${shape(xent.shape('logits'))} with a row at +-30, mean loss`, () => {
        const c = core(flavor);
        const d = { n: Number(xent.meta.n), c: Number(xent.meta.c) };
        balanced(c, () => {
          const logits = c.heap.from(xent.f32('logits'));
          const labels = c.heap.from(xent.i32('labels'), 'i32');
          const probsRef = c.heap.from(xent.f32('probs'));
          const probs = junk(c, logits.length);
          const dlogits = c.heap.alloc(logits.length);
          const loss = XENT.run.forward(c, probs, logits, labels, d, 0, path.opt);
          expectClose([loss], xent.f32('loss'), XENT_RTOL.forward, 'softmax_xent loss');
          expectClose(probs.view(), xent.f32('probs'), XENT_RTOL.forward, 'softmax_xent probs');
          XENT.run.backward(c, dlogits, probsRef, labels, d, 0, 1, path.opt);
          expectGrad(dlogits.view(), xent.f32('dlogits'), XENT_RTOL.backward, 'softmax_xent dlogits');
          for (const bf of [logits, labels, probsRef, probs, dlogits]) bf.free();
        });
      });
    });
  }
}

// The same fixtures through the tape (the op's forward and backward as autograd runs them, on
// the SIMD kernels): forward 1e-5 relative; gradients 1e-4 of the tensor's max.
for (const flavor of FLAVORS) {
  describe(`torch fixtures through the tape: ${flavor}`, () => {
    for (const [op, { pointwise: k }] of POINTWISE_LIST) {
      for (const { key, attrs } of k.torch?.cases ?? []) {
        it(`${op} ${key}`, () => {
          const fx = fixtures(k.torch!.file);
          const c = core(flavor);
          balanced(c, () => {
            const tape = new Tape(c);
            const x = Tensor.from(c, fx.f32(k.torch!.x), fx.shape(k.torch!.x));
            x.requiresGrad = true;
            const out = tape.apply(op, [x], attrs as never);
            expect([...out.shape]).toEqual(fx.shape(`${key}.y`));
            expectClose(out.data, fx.f32(`${key}.y`), 1e-5, `${op} ${key} y`);
            tape.backward(out, fx.f32(`${key}.gy`));
            expectGrad(x.gradArray()!, fx.f32(`${key}.gx`), 1e-4, `${op} ${key} gx`);
            tape.dispose();
            x.dispose();
          });
        });
      }
    }
  });
}

describe('torch fixtures: every listed pointwise case has a table entry', () => {
  const listings = new Map(POINTWISE_LIST.flatMap(([, { pointwise: k }]) => (k.torch?.listed ? [[k.torch.file, k.torch.listed] as const] : [])));
  for (const [file, listed] of listings) {
    it(`${file} metadata '${listed}'`, () => {
      const keys = JSON.parse(fixtures(file).meta[listed]) as string[];
      const covered = POINTWISE_LIST.flatMap(([, d]) => (d.pointwise.torch?.file === file ? d.pointwise.torch.cases.map((t) => t.key) : []));
      expect(keys.length).toBeGreaterThan(0);
      expect(keys.filter((key) => !covered.includes(key)), 'fixture cases no table entry runs').toEqual([]);
    });
  }
});
