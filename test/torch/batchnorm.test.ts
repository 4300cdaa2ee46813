// The batchnorm, add and relu ops against PyTorch 1.13 (fixtures from
// scripts/make_torch_fixtures.py: batchnorm, batchnorm_running, residual; float64 references
// rounded once to float32; the files and tolerances are the op table's `batchnorm.torch`),
// through the tape on every flavour:
// - F.batch_norm for BatchNorm1d and BatchNorm2d inputs, training and eval: y and the batch
//   statistics 1e-5 relative (expectClose's default floor, 1e-3 of the max), gradients of x,
//   weight and bias 1e-4 of the tensor's max;
// - nn.BatchNorm1d / nn.BatchNorm2d running_mean, running_var and num_batches_tracked after
//   each of three training steps, reproduced with the op's stats and updateRunningStats (1e-5);
// - a residual block relu(bn(conv(x)) + x): y 1e-5 relative with entries below 1% of the max
//   judged against 1% of it (as conv2d's in kernels.test.ts: an output is the sum of two O(1)
//   terms, bn(conv(x)) and x, that can cancel, so its error is ~1e-7 of the operands, not of
//   itself), gradients 1e-4 of the max. The conv bias
//   gradient is zero in exact arithmetic (a training batch norm removes any per-channel shift),
//   so it is judged against the conv weight gradient's size.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readSafetensors } from '../../src/io/safetensors.js';
import { Tape } from '../../src/autograd.js';
import { Tensor } from '../../src/tensor.js';
import { updateRunningStats } from '../../src/nn/batchnorm_stats.js';
import type { Core } from '../../src/core/load.js';
import { FLAVORS, core, expectClose } from '../helpers/index.js';
import { OPS } from '../../src/ops/table.js';

/** The op table's batchnorm fixtures and tolerances (`batchnorm.batchnorm.torch`). */
const T = OPS.batchnorm.batchnorm.torch;

function load(file: string) {
  const { tensors, metadata } = readSafetensors(fileURLToPath(new URL(`../fixtures/torch/${file}`, import.meta.url)));
  const get = (name: string) => {
    const t = tensors.get(name);
    if (!t) throw new Error(`${file}: no tensor '${name}'`);
    return t;
  };
  return {
    f32(name: string): Float32Array {
      const d = get(name).data;
      if (!(d instanceof Float32Array)) throw new Error(`${file}: ${name} is not F32`);
      return d;
    },
    i64(name: string): bigint {
      const d = get(name).data;
      if (!(d instanceof BigInt64Array)) throw new Error(`${file}: ${name} is not I64`);
      return d[0];
    },
    shape: (name: string) => [...get(name).shape],
    meta: metadata,
  };
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

function expectGrad(actual: Float32Array | null, expected: Float32Array, what: string, scale = maxAbs(expected)): void {
  expect(actual, what).not.toBeNull();
  expectClose(actual!, expected, T.rtol.backward, what, scale);
}

/** Runs body with a fresh tape; checks everything it allocated was freed. */
function balanced(c: Core, body: (tape: Tape, tensor: (v: Float32Array, shape: number[], grad?: boolean) => Tensor) => void): void {
  c.releaseScratch();
  const base = c.heap.liveBytes;
  const tape = new Tape(c);
  const made: Tensor[] = [];
  const tensor = (v: Float32Array, shape: number[], grad = false) => {
    const t = Tensor.from(c, v, shape);
    t.requiresGrad = grad;
    made.push(t);
    return t;
  };
  try {
    body(tape, tensor);
  } finally {
    tape.dispose();
    for (const t of made) t.dispose();
    c.releaseScratch();
  }
  expect(c.heap.liveBytes).toBe(base);
}

const bn = load(T.file);
const running = load(T.running);
const res = load(T.residual);

for (const flavor of FLAVORS) {
  describe(`torch batchnorm fixtures: ${flavor}`, () => {
    const eps = Number(bn.meta.eps);
    for (const name of JSON.parse(bn.meta.cases) as string[]) {
      const training = JSON.parse(bn.meta[`${name}.training`]) as boolean;
      it(`${name} x=[${bn.shape(`${name}.x`).join(',')}]: y${training ? ', batch statistics' : ''} and the gradients of x, weight, bias`, () => {
        const c = core(flavor);
        balanced(c, (tape, tensor) => {
          const xs = bn.shape(`${name}.x`);
          const ch = xs[1];
          const x = tensor(bn.f32(`${name}.x`), xs, true);
          const w = tensor(bn.f32(`${name}.weight`), [ch], true);
          const b = tensor(bn.f32(`${name}.bias`), [ch], true);
          const rm = tensor(bn.f32(`${name}.running_mean`), [ch]);
          const rv = tensor(bn.f32(`${name}.running_var`), [ch]);
          const stats = training ? new Float32Array(2 * ch) : undefined;
          const y = tape.apply('batchnorm', [x, w, b, rm, rv], { training, eps, stats });
          expectClose(y.data, bn.f32(`${name}.y`), T.rtol.forward, `${name} y`);
          if (stats) expectClose(stats, bn.f32(`${name}.stats`), T.rtol.forward, `${name} stats (mean, unbiased var)`);
          tape.backward(y, bn.f32(`${name}.gy`));
          expectGrad(x.gradArray(), bn.f32(`${name}.gx`), `${name} gx`);
          expectGrad(w.gradArray(), bn.f32(`${name}.gw`), `${name} gw`);
          expectGrad(b.gradArray(), bn.f32(`${name}.gb`), `${name} gb`);
          expect(rm.grad, 'no gradient into running_mean').toBeNull();
          // the op never writes its running statistics
          expect(Array.from(rm.data)).toEqual(Array.from(bn.f32(`${name}.running_mean`)));
          expect(Array.from(rv.data)).toEqual(Array.from(bn.f32(`${name}.running_var`)));
        });
      });
    }

    for (const model of JSON.parse(running.meta.models) as string[]) {
      it(`${model}: running_mean, running_var, num_batches_tracked after each of 3 training steps (momentum 0.1)`, () => {
        const c = core(flavor);
        const ch = running.shape(`${model}.running_mean1`)[0];
        const runMean = new Float32Array(ch); // PyTorch's init: 0 and 1
        const runVar = new Float32Array(ch).fill(1);
        let tracked = 0n;
        for (let step = 1; step <= 3; step++) {
          balanced(c, (tape, tensor) => {
            const x = tensor(running.f32(`${model}.x${step}`), running.shape(`${model}.x${step}`));
            const w = tensor(new Float32Array(ch).fill(1), [ch]);
            const b = tensor(new Float32Array(ch), [ch]);
            const rm = tensor(runMean, [ch]);
            const rv = tensor(runVar, [ch]);
            const stats = new Float32Array(2 * ch);
            tape.apply('batchnorm', [x, w, b, rm, rv], { training: true, eps: Number(running.meta.eps), stats });
            updateRunningStats(runMean, runVar, stats, Number(running.meta.momentum));
            tracked++;
          });
          expectClose(runMean, running.f32(`${model}.running_mean${step}`), T.rtol.forward, `${model} running_mean after step ${step}`);
          expectClose(runVar, running.f32(`${model}.running_var${step}`), T.rtol.forward, `${model} running_var after step ${step}`);
          expect(tracked, `num_batches_tracked after step ${step}`).toBe(running.i64(`${model}.num_batches_tracked${step}`));
        }
      });
    }

    it('residual block relu(bn(conv(x)) + x): y and the gradients of x and every parameter', () => {
      const c = core(flavor);
      balanced(c, (tape, tensor) => {
        const xs = res.shape('x');
        const ch = xs[1];
        const x = tensor(res.f32('x'), xs, true);
        const cw = tensor(res.f32('conv.weight'), res.shape('conv.weight'), true);
        const cb = tensor(res.f32('conv.bias'), [ch], true);
        const bw = tensor(res.f32('bn.weight'), [ch], true);
        const bb = tensor(res.f32('bn.bias'), [ch], true);
        const rm = tensor(new Float32Array(ch), [ch]);
        const rv = tensor(new Float32Array(ch).fill(1), [ch]);
        const z = tape.apply('conv2d', [x, cw, cb], { stride: [1, 1], pad: [1, 1] });
        const n = tape.apply('batchnorm', [z, bw, bb, rm, rv], { training: true, eps: Number(res.meta.eps) });
        const y = tape.apply('relu', [tape.apply('add', [n, x], {})], {});
        expectClose(y.data, res.f32('y'), T.rtol.forward, 'residual y', 1e-2 * maxAbs(res.f32('y')));
        tape.backward(y, res.f32('gy'));
        expectGrad(x.gradArray(), res.f32('grad.x'), 'grad x');
        expectGrad(cw.gradArray(), res.f32('grad.conv.weight'), 'grad conv.weight');
        expectGrad(cb.gradArray(), res.f32('grad.conv.bias'), 'grad conv.bias (zero up to rounding)', maxAbs(res.f32('grad.conv.weight')));
        expectGrad(bw.gradArray(), res.f32('grad.bn.weight'), 'grad bn.weight');
        expectGrad(bb.gradArray(), res.f32('grad.bn.bias'), 'grad bn.bias');
      });
    });
  });
}
