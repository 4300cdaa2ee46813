// Conv2d test data shared by the kernel suites: a readable name per geometry and its seeded
// random inputs (the same on every flavour and path).
import { randn } from './index.js';
import { conv2dOutShape, type Conv2dGeom } from '../../src/core/kernels/conv2d.js';

export function convLabel(g: Conv2dGeom): string {
  const pair = (a: number, b: number) => (a === b ? `${a}` : `${a},${b}`);
  return `x=[${g.n},${g.c},${g.h},${g.w}] w=[${g.oc},${g.c},${g.kh},${g.kw}] s=${pair(g.sh, g.sw)} p=${pair(g.ph, g.pw)}`;
}

/** x [n,c,h,w], w [oc,c,kh,kw], stride [sh,sw], pad [ph,pw]. */
export function geom(x: number[], w: number[], s: [number, number] = [1, 1], p: [number, number] = [0, 0]): Conv2dGeom {
  if (x[1] !== w[1]) throw new Error('test case: channel mismatch');
  return { n: x[0], c: x[1], h: x[2], w: x[3], oc: w[0], kh: w[2], kw: w[3], sh: s[0], sw: s[1], ph: p[0], pw: p[1] };
}


/** x, w, b and dy, and the starting values of the accumulated dx, dw, db, from `seed` on. */
export function convInputs(g: Conv2dGeom, seed: number) {
  const [, , oh, ow] = conv2dOutShape(g);
  const nx = g.n * g.c * g.h * g.w;
  const nw = g.oc * g.c * g.kh * g.kw;
  return {
    x: randn(nx, seed),
    w: randn(nw, seed + 1),
    b: randn(g.oc, seed + 2),
    dy: randn(g.n * g.oc * oh * ow, seed + 3),
    dx0: randn(nx, seed + 4),
    dw0: randn(nw, seed + 5),
    db0: randn(g.oc, seed + 6),
  };
}
