// The loss kernels and ops against PyTorch (STYLE 23): F.mse_loss, F.binary_cross_entropy_with_logits
// (with logits at +-30 and +-100, and a saturated case whose mean is only the tiny log1p terms)
// and F.cross_entropy(..., label_smoothing) for two eps, forward and the gradient of gy * loss,
// on every flavour, on both the SIMD bodies and the `_scalar` twins, and once through the tape
// (the op-table entries). mse and bce_logits come from their op-table entries (`loss`: wrappers
// and fixture cases). The fixture comes from scripts/make_torch_fixtures.py (`losses`).
//
// Tolerances: the loss 1e-5 relative, gradients 1e-5 relative per element (with expectClose's
// floor of 1e-3 of the tensor's max); every gradient here is elementwise, no long sums. In the
// saturated bce case PyTorch's own float32 run returns 0 (log(1 + 9.4e-14) rounds to log 1),
// 100% off the float64 reference; ours must be within 1e-5. Measured: everything within 2.3e-6.
// The floor matters in one place: PyTorch's float64 gradient at x = 30, t = 1 is sigmoid(30) - 1
// formed in float64, 1e-3 away from the exact -e^-30/(1 + e^-30) (an f64 ulp of 1 against
// 9.4e-14), while ours is within 1e-6 of the exact value (test/kernels/losses.test.ts checks
// that element by element against the reference's exact form).
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readSafetensors } from '../../src/io/safetensors.js';
import { Tape } from '../../src/autograd.js';
import { Tensor } from '../../src/tensor.js';
import { LOSS_LIST, OPS, type OpName } from '../../src/ops/table.js';

/** softmax_xent's kernel pairs (the op table's `xent`) */
const XENT = OPS.softmax_xent.xent.variants;
import { FLAVORS, core, expectClose, withBufs } from '../helpers/index.js';

const { tensors, metadata } = readSafetensors(fileURLToPath(new URL('../fixtures/torch/losses.safetensors', import.meta.url)));

function get(name: string): { data: Float32Array | Int32Array; shape: number[] } {
  const t = tensors.get(name);
  if (!t) throw new Error(`losses.safetensors: no tensor '${name}'`);
  if (!(t.data instanceof Float32Array || t.data instanceof Int32Array)) throw new Error(`losses.safetensors: ${name} is neither F32 nor I32`);
  return { data: t.data, shape: [...t.shape] };
}
const f32 = (name: string) => get(name).data as Float32Array;

const gy = Number(metadata.gy);
const smoothings = JSON.parse(metadata.smoothings) as number[];
const RTOL = 1e-5;

const PATHS = [
  { name: 'simd body', opt: { scalar: false } },
  { name: 'scalar twin', opt: { scalar: true } },
] as const;

for (const flavor of FLAVORS) {
  const c = core(flavor);
  for (const path of PATHS) {
    describe(`torch losses: ${flavor}, ${path.name}`, () => {
      for (const [op, { loss: k }] of LOSS_LIST) {
        for (const { key, f64Loss } of k.torch.cases) {
          it(`${op} ${key} ${k.torch.pred}=[${get(`${key}.${k.torch.pred}`).shape}] loss and gradient of ${gy} * loss`, () => {
            const x = f32(`${key}.${k.torch.pred}`);
            withBufs(c, [x, f32(`${key}.target`), new Float32Array(x.length), new Float32Array(x.length)], ([p, t, s, g]) => {
              const saved = k.saves ? s : undefined;
              const loss = k.run.forward(c, p, t, saved, path.opt);
              expectClose([loss], f32(`${key}.loss`), RTOL, `${key} loss`);
              if (f64Loss) expectClose([loss], [Number(metadata[`${key}.loss`])], RTOL, `${key} loss vs the float64 value`);
              k.run.backward(c, g, p, t, saved, gy, path.opt);
              expectClose(g.view(), f32(`${key}.${k.torch.grad}`), RTOL, `${key} ${k.torch.grad}`);
            });
          });
        }
      }

      for (const eps of smoothings) {
        it(`softmax_xent label_smoothing=${eps} logits=[${get('xent.logits').shape}] with a row at +-30`, () => {
          const x = f32('xent.logits');
          const [n, cl] = get('xent.logits').shape;
          const labels = get('xent.labels').data as Int32Array;
          withBufs(c, [x, labels, new Float32Array(x.length), new Float32Array(x.length)], ([l, lab, probs, g]) => {
            const loss = XENT.smooth.run.forward(c, probs, l, lab, { n, c: cl }, eps, path.opt);
            expectClose([loss], f32(`xent${eps}.loss`), RTOL, `xent eps ${eps} loss`);
            XENT.smooth.run.backward(c, g, probs, lab, { n, c: cl }, eps, gy, path.opt);
            expectClose(g.view(), f32(`xent${eps}.glogits`), RTOL, `xent eps ${eps} glogits`);
          });
        });
      }
    });
  }

  describe(`torch losses through the tape: ${flavor}`, () => {
    const cases: Array<{ op: OpName; x: string; t: string; loss: string; grad: string; attrs: object; labels?: boolean }> = [
      ...LOSS_LIST.flatMap(([op, { loss: k }]) =>
        k.torch.cases.map(({ key }) => ({
          op: op as OpName,
          x: `${key}.${k.torch.pred}`,
          t: `${key}.target`,
          loss: `${key}.loss`,
          grad: `${key}.${k.torch.grad}`,
          attrs: {},
        })),
      ),
      ...smoothings.map((eps) => ({
        op: 'softmax_xent' as OpName,
        x: 'xent.logits',
        t: 'xent.labels',
        loss: `xent${eps}.loss`,
        grad: `xent${eps}.glogits`,
        attrs: { labelSmoothing: eps },
        labels: true,
      })),
    ];
    for (const k of cases) {
      it(`${k.op} ${JSON.stringify(k.attrs)} on ${k.x}: loss and the gradient of ${gy} * loss`, () => {
        c.releaseScratch();
        const base = c.heap.liveBytes;
        const tape = new Tape(c);
        const x = Tensor.from(c, f32(k.x), get(k.x).shape);
        x.requiresGrad = true;
        const t = Tensor.from(c, get(k.t).data, get(k.t).shape, k.labels ? 'i32' : 'f32');
        const loss = tape.apply(k.op, [x, t], k.attrs as never);
        expectClose(loss.data, f32(k.loss), RTOL, `${k.op} loss`);
        tape.backward(loss, gy);
        expectClose(x.gradArray()!, f32(k.grad), RTOL, `${k.op} gradient`);
        tape.dispose();
        x.dispose();
        t.dispose();
        c.releaseScratch();
        expect(c.heap.liveBytes).toBe(base);
      });
    }
  });
}
