// Naive references for the conv2d family (assembly/conv2d.ts): direct loops with f64
// accumulation over NCHW Float32Arrays. x [n, c, h, w], weight [oc, c, kh, kw], bias [oc],
// y [n, oc, oh, ow]. Shared by the kernel tests and the benchmarks' verification step.
import { windowOut, type Geom2d } from '../ops/shapes.js';

type Geom = Geom2d & { oc: number };

function dims(g: Geom): { oh: number; ow: number } {
  return { oh: windowOut(g.h, g.kh, g.sh, g.ph), ow: windowOut(g.w, g.kw, g.sw, g.pw) };
}

/** y = conv(x, w) + b (b may be null), as a new array [n, oc, oh, ow]. */
export function conv2dForwardRef(x: Float32Array, w: Float32Array, b: Float32Array | null, g: Geom): Float32Array {
  const { n, c, h, w: W, oc, kh, kw, sh, sw, ph, pw } = g;
  const { oh, ow } = dims(g);
  const y = new Float32Array(n * oc * oh * ow);
  for (let i = 0; i < n; i++) {
    for (let o = 0; o < oc; o++) {
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          let s = b ? b[o] : 0;
          for (let ci = 0; ci < c; ci++) {
            for (let ki = 0; ki < kh; ki++) {
              const iy = oy * sh - ph + ki;
              if (iy < 0 || iy >= h) continue;
              for (let kj = 0; kj < kw; kj++) {
                const ix = ox * sw - pw + kj;
                if (ix < 0 || ix >= W) continue;
                s += x[((i * c + ci) * h + iy) * W + ix] * w[((o * c + ci) * kh + ki) * kw + kj];
              }
            }
          }
          y[((i * oc + o) * oh + oy) * ow + ox] = s;
        }
      }
    }
  }
  return y;
}

/**
 * dx += conv^T(dy, w), dx [n, c, h, w]. Accumulates into `dx` when given (a fresh zero array
 * otherwise) and returns it. Each dx element sums in f64 before the one f32 rounding.
 */
export function conv2dBackwardDataRef(dy: Float32Array, w: Float32Array, g: Geom, dx?: Float32Array): Float32Array {
  const { n, c, h, w: W, oc, kh, kw, sh, sw, ph, pw } = g;
  const { oh, ow } = dims(g);
  const acc = new Float64Array(n * c * h * W);
  for (let i = 0; i < n; i++) {
    for (let o = 0; o < oc; o++) {
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          const d = dy[((i * oc + o) * oh + oy) * ow + ox];
          for (let ci = 0; ci < c; ci++) {
            for (let ki = 0; ki < kh; ki++) {
              const iy = oy * sh - ph + ki;
              if (iy < 0 || iy >= h) continue;
              for (let kj = 0; kj < kw; kj++) {
                const ix = ox * sw - pw + kj;
                if (ix < 0 || ix >= W) continue;
                acc[((i * c + ci) * h + iy) * W + ix] += d * w[((o * c + ci) * kh + ki) * kw + kj];
              }
            }
          }
        }
      }
    }
  }
  return addInto(dx ?? new Float32Array(acc.length), acc);
}

/** dw += sum over the batch of the correlation of dy with x, dw [oc, c, kh, kw]; returns dw. */
export function conv2dBackwardFilterRef(dy: Float32Array, x: Float32Array, g: Geom, dw?: Float32Array): Float32Array {
  const { n, c, h, w: W, oc, kh, kw, sh, sw, ph, pw } = g;
  const { oh, ow } = dims(g);
  const acc = new Float64Array(oc * c * kh * kw);
  for (let o = 0; o < oc; o++) {
    for (let ci = 0; ci < c; ci++) {
      for (let ki = 0; ki < kh; ki++) {
        for (let kj = 0; kj < kw; kj++) {
          let s = 0;
          for (let i = 0; i < n; i++) {
            for (let oy = 0; oy < oh; oy++) {
              const iy = oy * sh - ph + ki;
              if (iy < 0 || iy >= h) continue;
              for (let ox = 0; ox < ow; ox++) {
                const ix = ox * sw - pw + kj;
                if (ix < 0 || ix >= W) continue;
                s += dy[((i * oc + o) * oh + oy) * ow + ox] * x[((i * c + ci) * h + iy) * W + ix];
              }
            }
          }
          acc[((o * c + ci) * kh + ki) * kw + kj] = s;
        }
      }
    }
  }
  return addInto(dw ?? new Float32Array(acc.length), acc);
}

/** db += sums of dy [n, oc, oh, ow] over the batch and pixels, db [oc]; returns db. */
export function conv2dBackwardBiasRef(dy: Float32Array, g: Geom, db?: Float32Array): Float32Array {
  const { oh, ow } = dims(g);
  const hw = oh * ow;
  const acc = new Float64Array(g.oc);
  for (let i = 0; i < g.n; i++) {
    for (let o = 0; o < g.oc; o++) {
      const base = (i * g.oc + o) * hw;
      for (let t = 0; t < hw; t++) acc[o] += dy[base + t];
    }
  }
  return addInto(db ?? new Float32Array(g.oc), acc);
}

function addInto(out: Float32Array, acc: Float64Array): Float32Array {
  if (out.length !== acc.length) throw new Error(`conv2d reference: output holds ${out.length} elements, needs ${acc.length}`);
  for (let i = 0; i < acc.length; i++) out[i] += acc[i];
  return out;
}
