// Finite-difference checks of every differentiable op in the table (STYLE 22): central
// differences of a random projection f(x) = Σ r·op(x), compared with the tape's gradient for
// every differentiable input. Inputs of ops with kinks (ReLU at 0, tied maxima) are drawn away
// from them; inputs listed in `positive` (variances) are drawn in [0.5, 1.5). Runs on the debug build (assertions on) and the release build.
import { describe, it, expect } from 'vitest';
import { Tape } from '../src/autograd.js';
import { Tensor, sizeOf, shapeStr } from '../src/tensor.js';
import { OP_LIST } from '../src/ops/table.js';
import { core, rng } from './helpers/index.js';
import type { Flavor } from '../src/core/load.js';

const EPS = 1e-2;
const RTOL = 2e-2; // relative error |a-n| / max(|a|+|n|, 1e-2), as convnetjs's spec (f32 forward)
const PROBES = 24; // coordinates checked per input

function inputsFor(spec: (typeof OP_LIST)[number][1], shapes: number[][], seed: number): Float32Array[] {
  const r = rng(seed);
  return shapes.map((s, i) => {
    const n = sizeOf(s);
    if (spec.gradcheck.labels?.input === i) {
      const classes = spec.gradcheck.labels.classes(shapes);
      return Float32Array.from({ length: n }, () => Math.floor(r() * classes));
    }
    if (spec.gradcheck.positive?.includes(i)) return Float32Array.from({ length: n }, () => 0.5 + r());
    if (spec.gradcheck.awayFromKinks) {
      // distinct values with gaps >> EPS and magnitudes >= 0.1: no ReLU kink, no tied maxima
      const perm = Array.from({ length: n }, (_, j) => j).sort(() => r() - 0.5);
      return Float32Array.from(perm, (p) => (p - n / 2 + 0.5) * 0.1 + (p >= n / 2 ? 0.05 : -0.05));
    }
    return Float32Array.from({ length: n }, () => 2 * r() - 1);
  });
}

describe.each(['debug', 'simd'] as Flavor[])('gradient check (%s build)', (flavor) => {
  const c = core(flavor);
  for (const [name, spec] of OP_LIST) {
    spec.gradcheck.cases.forEach(({ shapes, attrs }, ci) => {
      it(`${name} ${shapes.map((s) => shapeStr(s)).join(' ')} case ${ci}`, () => {
        c.releaseScratch();
        const base = c.heap.liveBytes;
        const data = inputsFor(spec, shapes as number[][], 100 + ci);
        const labelsAt = spec.gradcheck.labels?.input;
        const make = (vals: Float32Array[]) =>
          vals.map((v, i) => {
            const t = Tensor.from(c, v, shapes[i], i === labelsAt ? 'i32' : 'f32');
            t.requiresGrad = spec.differentiable[i];
            return t;
          });
        const tape = new Tape(c);
        const outShape = spec.outShape(shapes, attrs);
        const r = Float32Array.from({ length: sizeOf(outShape) }, rng(7 + ci));
        const f = (vals: Float32Array[]): number => {
          const ins = make(vals);
          const out = tape.noGrad(() => tape.apply(name, ins, attrs as never));
          const y = out.data;
          let s = 0;
          for (let i = 0; i < y.length; i++) s += r[i] * y[i];
          tape.dispose();
          ins.forEach((t) => t.dispose());
          return s;
        };
        // analytic
        const ins = make(data);
        const out = tape.apply(name, ins, attrs as never);
        tape.backward(out, r);
        const grads = ins.map((t) => t.gradArray());
        tape.dispose();
        ins.forEach((t) => t.dispose());
        const pick = rng(3);
        for (let i = 0; i < data.length; i++) {
          if (!spec.differentiable[i]) continue;
          const g = grads[i];
          expect(g, `gradient of input ${spec.inputs[i]}`).not.toBeNull();
          for (let p = 0; p < Math.min(PROBES, data[i].length); p++) {
            const j = data[i].length <= PROBES ? p : Math.floor(pick() * data[i].length);
            const plus = data.map((d) => Float32Array.from(d));
            const minus = data.map((d) => Float32Array.from(d));
            plus[i][j] += EPS;
            minus[i][j] -= EPS;
            const num = (f(plus) - f(minus)) / (2 * EPS);
            const a = g![j];
            const err = Math.abs(a - num) / Math.max(Math.abs(a) + Math.abs(num), 1e-2);
            if (!(err <= RTOL)) {
              throw new Error(`${name}: d/d${spec.inputs[i]}[${j}] analytic ${a}, numeric ${num} (relative error ${err.toExponential(2)} > ${RTOL})`);
            }
          }
        }
        c.releaseScratch();
        expect(c.heap.liveBytes, 'bytes still allocated after the tape was disposed').toBe(base);
      });
    });
  }
});
