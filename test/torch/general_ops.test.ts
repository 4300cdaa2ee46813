// global_avgpool, concat and add against PyTorch 1.13 (general_ops.safetensors from
// scripts/make_torch_fixtures.py: adaptive_avg_pool2d(1) + flatten, torch.cat
// along dim 1, torch.add; float64 references rounded to float32) through the tape on every
// flavour, concat also on the kernels (SIMD and scalar twins, the op table's `concat` entry),
// plus the batchnorm fixtures on the kernels' scalar twins (the tape runs the SIMD
// kernels; test/torch/batchnorm.test.ts covers those).
// Tolerances: forward 1e-5 relative (expectClose's default floor); gradients 1e-4 of the
// tensor's max. concat and add are exact up to one f32 rounding, so they also pass far tighter
// bounds; the tolerance is the brief's, not a measure of slack. The file's leaky_relu cases
// (F.leaky_relu) are the op table's `pointwise.torch` cases: test/torch/kernels.test.ts runs
// them on the kernels and through the tape.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readSafetensors } from '../../src/io/safetensors.js';
import { Tape } from '../../src/autograd.js';
import { Tensor } from '../../src/tensor.js';
import { OPS, type OpName, type AttrsOf } from '../../src/ops/table.js';
import { FLAVORS, core, expectClose } from '../helpers/index.js';

function load(file: string) {
  const { tensors, metadata } = readSafetensors(fileURLToPath(new URL(`../fixtures/torch/${file}`, import.meta.url)));
  return {
    f32(name: string): Float32Array {
      const d = tensors.get(name)?.data;
      if (!(d instanceof Float32Array)) throw new Error(`${file}: no F32 tensor '${name}'`);
      return d;
    },
    shape: (name: string) => [...tensors.get(name)!.shape],
    meta: metadata,
  };
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** the op table's global_avgpool entry: its fixture key */
const GAP = OPS.global_avgpool.globalPool.torch;
const fx = load(GAP.file);
/** the op table's batchnorm entry: its fixture, wrappers and tolerances */
const BN = OPS.batchnorm.batchnorm;
const bn = load(BN.torch.file);
/** the op table's concat entry: its fixture cases and wrappers */
const CAT = OPS.concat.concat;

/** Runs one op on fixture inputs through the tape; checks y and every input's gradient. */
function check<K extends OpName>(flavor: (typeof FLAVORS)[number], op: K, inputs: string[], grads: string[], y: string, gy: string, attrs: AttrsOf<K>): void {
  const c = core(flavor);
  c.releaseScratch();
  const base = c.heap.liveBytes;
  const tape = new Tape(c);
  const ins = inputs.map((n) => {
    const t = Tensor.from(c, fx.f32(n), fx.shape(n));
    t.requiresGrad = true;
    return t;
  });
  const out = tape.apply(op, ins, attrs);
  expect([...out.shape]).toEqual(fx.shape(y));
  expectClose(out.data, fx.f32(y), 1e-5, `${op} ${y}`);
  tape.backward(out, fx.f32(gy));
  ins.forEach((t, i) => expectClose(t.gradArray()!, fx.f32(grads[i]), 1e-4, `${op} ${grads[i]}`, maxAbs(fx.f32(grads[i]))));
  tape.dispose();
  ins.forEach((t) => t.dispose());
  c.releaseScratch();
  expect(c.heap.liveBytes).toBe(base);
}

for (const flavor of FLAVORS) {
  describe(`torch general ops: ${flavor}`, () => {
    it('global_avgpool (adaptive_avg_pool2d(1) + flatten)', () => check(flavor, 'global_avgpool', [`${GAP.key}.x`], [`${GAP.key}.gx`], `${GAP.key}.y`, `${GAP.key}.gy`, {}));
    for (const name of JSON.parse(fx.meta[CAT.torch.listed]) as string[]) {
      it(`concat ${name}: torch.cat dim 1`, () => check(flavor, 'concat', [`${name}.a`, `${name}.b`], [`${name}.ga`, `${name}.gb`], `${name}.y`, `${name}.gy`, {}));
      for (const scalar of [false, true]) {
        it(`concat ${name}: torch.cat dim 1 on the ${scalar ? 'scalar twins' : 'SIMD kernels'}`, () => {
          const c = core(flavor);
          const [n, ca, ...rest] = fx.shape(`${name}.a`);
          const d = { n, ca, cb: fx.shape(`${name}.b`)[1], s: rest.reduce((p, q) => p * q, 1) };
          const [a, b, gy] = ['a', 'b', 'gy'].map((t) => c.heap.from(fx.f32(`${name}.${t}`)));
          const y = c.heap.from(new Float32Array(gy.length).fill(-7.25)), ga = c.heap.alloc(a.length), gb = c.heap.alloc(b.length);
          CAT.run.forward(c, y, a, b, d, { scalar });
          expectClose(y.view(), fx.f32(`${name}.y`), 1e-5, `concat ${name} y`);
          CAT.run.backward(c, ga, gy, 'a', d, { scalar });
          CAT.run.backward(c, gb, gy, 'b', d, { scalar });
          for (const [got, want] of [[ga, 'ga'], [gb, 'gb']] as const) {
            const e = fx.f32(`${name}.${want}`);
            expectClose(got.view(), e, 1e-4, `concat ${name} ${want}`, maxAbs(e));
          }
          for (const bf of [a, b, gy, y, ga, gb]) bf.free();
        });
      }
    }
    it('add', () => check(flavor, 'add', ['add.a', 'add.b'], ['add.ga', 'add.gb'], 'add.y', 'add.gy', {}));

    it('batchnorm fixtures on the scalar twins', () => {
      const c = core(flavor);
      const opts = { scalar: true };
      const eps = Number(bn.meta.eps);
      for (const name of JSON.parse(bn.meta.cases) as string[]) {
        const training = JSON.parse(bn.meta[`${name}.training`]) as boolean;
        const xs = bn.shape(`${name}.x`);
        const d = { n: xs[0], c: xs[1], s: xs.slice(2).reduce((a, b) => a * b, 1) };
        const b = (k: string) => c.heap.from(bn.f32(`${name}.${k}`));
        const [x, w, bias, rm, rv, gy] = ['x', 'weight', 'bias', 'running_mean', 'running_var', 'gy'].map(b);
        const y = c.heap.alloc(x.length), mean = c.heap.alloc(d.c), invstd = c.heap.alloc(d.c), vr = c.heap.alloc(d.c);
        const sdy = c.heap.alloc(d.c), sdyx = c.heap.alloc(d.c), gx = c.heap.alloc(x.length);
        if (training) BN.run.forwardTrain(c, y, mean, invstd, vr, x, w, bias, d, eps, opts);
        else BN.run.forwardEval(c, y, invstd, x, w, bias, rm, rv, d, eps, opts);
        expectClose(y.view(), bn.f32(`${name}.y`), BN.torch.rtol.forward, `${name} y`);
        const m = training ? mean : rm;
        BN.run.backwardReduce(c, sdy, sdyx, gy, x, m, invstd, d, opts);
        if (training) BN.run.backwardDataTrain(c, gx, gy, x, w, m, invstd, sdy, sdyx, d, opts);
        else BN.run.backwardDataEval(c, gx, gy, w, invstd, d, opts);
        for (const [got, want] of [[gx, 'gx'], [sdyx, 'gw'], [sdy, 'gb']] as const) {
          const e = bn.f32(`${name}.${want}`);
          expectClose(got.view(), e, BN.torch.rtol.backward, `${name} ${want}`, maxAbs(e));
        }
        for (const bf of [x, w, bias, rm, rv, gy, y, mean, invstd, vr, sdy, sdyx, gx]) bf.free();
      }
    });
  });
}
