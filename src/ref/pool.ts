// Naive references for the pool family (assembly/pool.ts): direct loops over NCHW
// Float32Arrays, sums in f64. x [n, c, h, w], y and argmax [n, c, oh, ow] (floor mode,
// symmetric zero padding). Max pooling: padding is -inf, the first max in row-major window
// order wins, NaN wins (PyTorch's rule); argmax is iy*w + ix inside the input plane.
// Average pooling divides by kh*kw (count_include_pad=True). Backward references accumulate
// (+=) into the given dx and return it.
import { windowOut, type Geom2d } from '../ops/shapes.js';

function dims(g: Geom2d): { oh: number; ow: number } {
  return { oh: windowOut(g.h, g.kh, g.sh, g.ph), ow: windowOut(g.w, g.kw, g.sw, g.pw) };
}

/** Max pooling: y [n, c, oh, ow] and the flat in-plane index of each max. */
export function maxpool2dForwardRef(x: Float32Array, g: Geom2d): { y: Float32Array; argmax: Int32Array } {
  const { n, c, h, w, kh, kw, sh, sw, ph, pw } = g;
  const { oh, ow } = dims(g);
  const y = new Float32Array(n * c * oh * ow);
  const argmax = new Int32Array(n * c * oh * ow);
  for (let p = 0; p < n * c; p++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        let m = -Infinity;
        let idx = -1;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh - ph + ky;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw - pw + kx;
            if (ix < 0 || ix >= w) continue;
            const v = x[p * h * w + iy * w + ix];
            if (idx < 0 || v > m || Number.isNaN(v)) {
              m = v;
              idx = iy * w + ix;
            }
          }
        }
        const o = p * oh * ow + oy * ow + ox;
        y[o] = m;
        argmax[o] = idx;
      }
    }
  }
  return { y, argmax };
}

/** dx += dy scattered to argmax (dx [n, c, h, w]). */
export function maxpool2dBackwardRef(dx: Float32Array, dy: Float32Array, argmax: Int32Array, g: Geom2d): Float32Array {
  const { oh, ow } = dims(g);
  const acc = Float64Array.from(dx);
  const plane = g.h * g.w;
  for (let p = 0; p < g.n * g.c; p++) {
    for (let o = 0; o < oh * ow; o++) acc[p * plane + argmax[p * oh * ow + o]] += dy[p * oh * ow + o];
  }
  dx.set(acc);
  return dx;
}

/** Average pooling: y [n, c, oh, ow] = window sum / (kh*kw). */
export function avgpool2dForwardRef(x: Float32Array, g: Geom2d): Float32Array {
  const { n, c, h, w, kh, kw, sh, sw, ph, pw } = g;
  const { oh, ow } = dims(g);
  const y = new Float32Array(n * c * oh * ow);
  for (let p = 0; p < n * c; p++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        let s = 0;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh - ph + ky;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw - pw + kx;
            if (ix >= 0 && ix < w) s += x[p * h * w + iy * w + ix];
          }
        }
        y[p * oh * ow + oy * ow + ox] = s / (kh * kw);
      }
    }
  }
  return y;
}

/** dx += dy / (kh*kw) over each window, summed in f64 (dx [n, c, h, w]). */
export function avgpool2dBackwardRef(dx: Float32Array, dy: Float32Array, g: Geom2d): Float32Array {
  const { n, c, h, w, kh, kw, sh, sw, ph, pw } = g;
  const { oh, ow } = dims(g);
  const acc = Float64Array.from(dx);
  for (let p = 0; p < n * c; p++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const d = dy[p * oh * ow + oy * ow + ox] / (kh * kw);
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh - ph + ky;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw - pw + kx;
            if (ix >= 0 && ix < w) acc[p * h * w + iy * w + ix] += d;
          }
        }
      }
    }
  }
  dx.set(acc);
  return dx;
}

/** Global average pooling: y [n*c] = mean of each (n, c) plane of s = h*w values, in f64. */
export function globalAvgpoolForwardRef(x: Float32Array, planes: number, s: number): Float32Array {
  const y = new Float32Array(planes);
  for (let p = 0; p < planes; p++) {
    let t = 0;
    for (let i = 0; i < s; i++) t += x[p * s + i];
    y[p] = t / s;
  }
  return y;
}

/** dx[p, i] += dy[p] / s; returns dx. */
export function globalAvgpoolBackwardRef(dx: Float32Array, dy: Float32Array, planes: number, s: number): Float32Array {
  for (let p = 0; p < planes; p++) for (let i = 0; i < s; i++) dx[p * s + i] += dy[p] / s;
  return dx;
}
