// The loss entries of the op table through the tape: softmax_xent without smoothing (absent or
// 0) runs the plain kernels bit for bit, with smoothing the smooth kernels; mse and
// bce_logits on tensors of several ranks give the kernels' loss and gradient and leave the
// target without one; shape and attribute mistakes are rejected with messages that name the
// op, the input and both shapes.
import { describe, it, expect } from 'vitest';
import { Tape } from '../src/autograd.js';
import { Tensor, type Shape } from '../src/tensor.js';
import { LOSS_LIST, type OpName, type LossOpName, type LossKernels } from '../src/ops/table.js';
import { softmaxXentForward, softmaxXentBackward, softmaxXentSmoothForward } from '../src/core/kernels/softmax_xent.js';
import { core, randn, rng, expectClose, expectBits } from './helpers/index.js';

const c = core('simd');

/** Runs `body` with a tape, then disposes it and the given tensors and checks nothing leaked. */
function balanced(body: (tape: Tape, keep: (t: Tensor) => Tensor) => void): void {
  c.releaseScratch();
  const base = c.heap.liveBytes;
  const tape = new Tape(c);
  const mine: Tensor[] = [];
  try {
    body(tape, (t) => (mine.push(t), t));
  } finally {
    tape.dispose();
    for (const t of mine) t.dispose();
    c.releaseScratch();
  }
  expect(c.heap.liveBytes).toBe(base);
}

describe('softmax_xent op and labelSmoothing', () => {
  const [n, k] = [9, 10];
  const x = randn(n * k, 5, -4, 4);
  const r = rng(6);
  const lab = Int32Array.from({ length: n }, () => Math.floor(r() * k));

  /** loss and dlogits (backward seeded with 0.8) from the op with `attrs`. */
  function viaOp(attrs: object): { loss: Float32Array; grad: Float32Array } {
    let out: { loss: Float32Array; grad: Float32Array } | undefined;
    balanced((tape, keep) => {
      const logits = keep(Tensor.from(c, x, [n, k]));
      logits.requiresGrad = true;
      const labels = keep(Tensor.from(c, lab, [n], 'i32'));
      const loss = tape.apply('softmax_xent', [logits, labels], attrs as never);
      tape.backward(loss, 0.8);
      out = { loss: Float32Array.from(loss.data), grad: logits.gradArray()! };
    });
    return out!;
  }

  it('absent and 0 give the plain kernels\' bits (loss and gradient)', () => {
    const probs = c.heap.alloc(n * k);
    const lx = c.heap.from(x);
    const ll = c.heap.from(lab, 'i32');
    const dl = c.heap.alloc(n * k);
    const loss = Float32Array.of(softmaxXentForward(c, probs, lx, ll, { n, c: k }));
    softmaxXentBackward(c, dl, probs, ll, { n, c: k }, 0.8);
    const grad = Float32Array.from(dl.view());
    for (const b of [probs, lx, ll, dl]) b.free();
    for (const attrs of [{}, { labelSmoothing: 0 }]) {
      const op = viaOp(attrs);
      expectBits(op.loss, loss, `loss ${JSON.stringify(attrs)}`);
      expectBits(op.grad, grad, `gradient ${JSON.stringify(attrs)}`);
    }
  });

  it('eps = 0.2 runs the smoothing kernels: a different loss, equal to softmaxXentSmoothForward', () => {
    const probs = c.heap.alloc(n * k);
    const lx = c.heap.from(x);
    const ll = c.heap.from(lab, 'i32');
    const want = softmaxXentSmoothForward(c, probs, lx, ll, { n, c: k }, 0.2);
    for (const b of [probs, lx, ll]) b.free();
    const op = viaOp({ labelSmoothing: 0.2 });
    expectBits(op.loss, Float32Array.of(want), 'smoothed loss');
    expect(op.loss[0]).not.toBe(viaOp({}).loss[0]);
    // each row's gradient sums to 0 (probs and the smoothed target both sum to 1)
    for (let i = 0; i < n; i++) {
      const row = op.grad.subarray(i * k, (i + 1) * k).reduce((s, v) => s + v, 0);
      expect(Math.abs(row)).toBeLessThan(1e-7);
    }
  });

  it('rejects labelSmoothing outside [0, 1) at shape inference, naming the op', () => {
    balanced((tape, keep) => {
      const logits = keep(Tensor.from(c, x, [n, k]));
      const labels = keep(Tensor.from(c, lab, [n], 'i32'));
      for (const eps of [1, -0.5, Number.NaN, 2]) {
        expect(() => tape.apply('softmax_xent', [logits, labels], { labelSmoothing: eps })).toThrow(
          new RegExp(`^softmax_xent: labelSmoothing must be a number in \\[0, 1\\), got ${eps}$`),
        );
      }
    });
  });
});

describe('mse and bce_logits ops', () => {
  // the table's mean losses (LOSS_LIST), through the tape, against their entries' references and tolerances
  const cases: Array<{ op: LossOpName; k: LossKernels; shape: Shape }> = [];
  for (const [op, { loss: k }] of LOSS_LIST) for (const shape of [[7], [3, 5], [2, 3, 5], [2, 1, 3, 3]]) cases.push({ op, k, shape });

  for (const { op, k, shape } of cases) {
    it(`${op} x=[${shape}]: the loss and gradient of 1.5 * loss; the target gets no gradient`, () => {
      const size = shape.reduce((a, b) => a * b, 1);
      const xs = randn(size, 11 + size, -3, 3);
      const ts = k.test.forward.target === 'targets01' ? randn(size, 13 + size, 0, 1) : randn(size, 13 + size, -3, 3);
      balanced((tape, keep) => {
        const x = keep(Tensor.from(c, xs, shape));
        const t = keep(Tensor.from(c, ts, shape));
        x.requiresGrad = true;
        t.requiresGrad = true; // not differentiable: must stay without a gradient
        const loss = tape.apply(op, [x, t], {});
        expect(loss.shape).toEqual([1]);
        tape.backward(loss, 1.5);
        const want = new Float64Array(size);
        const ref = k.ref.forward(xs, ts);
        expectClose(loss.data, [ref.loss], k.tolerance.loss.rtol, `${op} loss`);
        k.ref.backward(want, xs, ts, ref.saved, 1.5);
        expectClose(x.gradArray()!, want, 1e-5, `${op} gradient`);
        expect(t.gradArray()).toBeNull();
      });
    });
  }

  const mismatches: Array<[OpName, string, Shape, Shape]> = [
    ['mse', 'mse: target [3,4] must have the shape of pred [3,5]', [3, 5], [3, 4]],
    ['mse', 'mse: target [15] must have the shape of pred [3,5]', [3, 5], [15]],
    ['bce_logits', 'bce_logits: target [2,3,4] must have the shape of logits [2,3]', [2, 3], [2, 3, 4]],
    ['bce_logits', 'bce_logits: target [5,1] must have the shape of logits [1,5]', [1, 5], [5, 1]],
  ];
  for (const [op, message, a, b] of mismatches) {
    it(`${op} rejects ${JSON.stringify(a)} against a target ${JSON.stringify(b)}`, () => {
      balanced((tape, keep) => {
        const x = keep(Tensor.zeros(c, a));
        const t = keep(Tensor.zeros(c, b));
        expect(() => tape.apply(op, [x, t], {} as never)).toThrow(message);
      });
    });
  }

  it('an i32 target is rejected by the kernel wrapper, naming it', () => {
    balanced((tape, keep) => {
      const x = keep(Tensor.zeros(c, [4]));
      const t = keep(Tensor.from(c, [0, 1, 0, 1], [4], 'i32'));
      expect(() => tape.apply('bce_logits', [x, t], {})).toThrow(/bceLogitsForward: target must hold f32, got i32/);
      expect(() => tape.apply('mse', [x, t], {})).toThrow(/mseForward: target must hold f32, got i32/);
    });
  });
});
