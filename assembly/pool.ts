// 2-D max and average pooling, forward and backward side by side.
//
// Layout NCHW: x is (N,C,H,W), y and argmax are (N,C,OH,OW) with floor-mode output sizes
// OH = (H + 2*PH - KH)/SH + 1, OW = (W + 2*PW - KW)/SW + 1 and symmetric zero padding.
// Every (n, c) plane is pooled on its own; argmax holds, per output, the flat index
// iy*W + ix of the max inside its input plane (i32).
// Max pooling treats padding as -inf (it never wins), breaks ties by the first position in
// window order (row-major), and lets NaN win (as PyTorch). Average pooling counts padding in
// the divisor (PyTorch's count_include_pad=True): y = window sum / (KH*KW).
// Forward kernels overwrite y (and argmax); backward kernels accumulate (+=) into dx.
//
// The 2x2 stride 2 unpadded case (LeNet's pools) has a SIMD fast path: eight adjacent inputs
// of a row split into even and odd columns with one shuffle each, giving four windows per
// pair of rows. Everything else takes the general scalar path, which is also the scalar twin.
import { ldf, stf, runSum4, runSum1 } from './common';

// @ts-ignore: decorator
@inline function outSize(size: i32, k: i32, s: i32, p: i32): i32 {
  return (size + 2 * p - k) / s + 1;
}

// @ts-ignore: decorator
@inline function isFast(kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32): bool {
  return kh == 2 && kw == 2 && sh == 2 && sw == 2 && ph == 0 && pw == 0;
}

// ---- max pooling --------------------------------------------------------------------------

/** One output of the general path: max over the window clipped to the plane. */
// @ts-ignore: decorator
@inline function maxWindow(
  yp: usize, ap: usize, xp: usize, o: i32, w: i32, y0: i32, y1: i32, x0: i32, x1: i32,
): void {
  let m = f32.NEGATIVE_INFINITY;
  let idx = y0 * w + x0; // an all -inf window still points at a real input, as PyTorch
  for (let iy = y0; iy < y1; iy++) {
    for (let ix = x0; ix < x1; ix++) {
      const j = iy * w + ix;
      const v = ldf(xp, j);
      if (v > m || v != v) {
        m = v;
        idx = j;
      }
    }
  }
  stf(yp, o, m);
  store<i32>(ap + (<usize>o << 2), idx);
}

/** The general path over `planes` planes; also the scalar twin. */
// @ts-ignore: decorator
@inline function maxpoolGeneral(
  y: usize, argmax: usize, x: usize, planes: i32, h: i32, w: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32,
): void {
  const oh = outSize(h, kh, sh, ph), ow = outSize(w, kw, sw, pw);
  const inBytes = <usize>(h * w) << 2, outBytes = <usize>(oh * ow) << 2;
  let xp = x, yp = y, ap = argmax;
  for (let p = 0; p < planes; p++) {
    for (let oy = 0; oy < oh; oy++) {
      const ys = oy * sh - ph;
      const y0 = max(ys, 0), y1 = min(ys + kh, h);
      for (let ox = 0; ox < ow; ox++) {
        const xs = ox * sw - pw;
        maxWindow(yp, ap, xp, oy * ow + ox, w, y0, y1, max(xs, 0), min(xs + kw, w));
      }
    }
    xp += inBytes; yp += outBytes; ap += outBytes;
  }
}

/** Four 2x2 windows of rows r0, r1 starting at output column ox (see maxpool2x2). */
// @ts-ignore: decorator
@inline function max2x2x4(
  yr: usize, ar: usize, r0: usize, r1: usize, ox: i32, rowBase: i32, off1: v128, offW: v128, offW1: v128, lane2: v128,
): void {
  const c = <usize>(2 * ox) << 2;
  const a0 = v128.load(r0 + c), b0 = v128.load(r0 + c, 16);
  const a1 = v128.load(r1 + c), b1 = v128.load(r1 + c, 16);
  const e0 = i32x4.shuffle(a0, b0, 0, 2, 4, 6), o0 = i32x4.shuffle(a0, b0, 1, 3, 5, 7);
  const e1 = i32x4.shuffle(a1, b1, 0, 2, 4, 6), o1 = i32x4.shuffle(a1, b1, 1, 3, 5, 7);
  let m = e0;
  let idx = i32x4.splat(0);
  let t = v128.or(f32x4.gt(o0, m), f32x4.ne(o0, o0));
  m = v128.bitselect(o0, m, t); idx = v128.bitselect(off1, idx, t);
  t = v128.or(f32x4.gt(e1, m), f32x4.ne(e1, e1));
  m = v128.bitselect(e1, m, t); idx = v128.bitselect(offW, idx, t);
  t = v128.or(f32x4.gt(o1, m), f32x4.ne(o1, o1));
  m = v128.bitselect(o1, m, t); idx = v128.bitselect(offW1, idx, t);
  const base = i32x4.add(i32x4.splat(rowBase + 2 * ox), lane2);
  v128.store(yr + (<usize>ox << 2), m);
  v128.store(ar + (<usize>ox << 2), i32x4.add(base, idx));
}

/**
 * 2x2 stride 2 fast path. Per pair of input rows, four outputs at a time: the window's
 * candidates (0,0), (0,1), (1,0), (1,1) are the even/odd columns of the two rows; each later
 * candidate replaces the running max only if strictly greater (or NaN), so the first max wins.
 * argmax = window origin + the winner's offset (0, 1, W, W+1).
 */
// @ts-ignore: decorator
@inline function maxpool2x2(y: usize, argmax: usize, x: usize, planes: i32, h: i32, w: i32): void {
  const oh = h >> 1, ow = w >> 1;
  const inBytes = <usize>(h * w) << 2, outBytes = <usize>(oh * ow) << 2;
  const rowBytes = <usize>w << 2;
  const off1 = i32x4.splat(1), offW = i32x4.splat(w), offW1 = i32x4.splat(w + 1);
  const lane2 = i32x4(0, 2, 4, 6);
  let xp = x, yp = y, ap = argmax;
  for (let p = 0; p < planes; p++) {
    for (let oy = 0; oy < oh; oy++) {
      const r0 = xp + <usize>(2 * oy) * rowBytes, r1 = r0 + rowBytes;
      const rowBase = 2 * oy * w;
      const yr = yp + (<usize>(oy * ow) << 2), ar = ap + (<usize>(oy * ow) << 2);
      // four outputs per step; columns 2*ox .. 2*ox+7 <= 2*ow-1 <= w-1: never past the row.
      // The last (ow % 4) outputs are redone by one overlapping step at ow-4, which rewrites
      // the same values: a scalar tail's data-dependent branches cost more than the whole row.
      if (ow >= 4) {
        for (let ox = 0; ; ox += 4) {
          if (ox + 4 > ow) ox = ow - 4;
          max2x2x4(yr, ar, r0, r1, ox, rowBase, off1, offW, offW1, lane2);
          if (ox + 4 >= ow) break;
        }
      } else {
        for (let ox = 0; ox < ow; ox++) maxWindow(yp, ap, xp, oy * ow + ox, w, 2 * oy, 2 * oy + 2, 2 * ox, 2 * ox + 2);
      }
    }
    xp += inBytes; yp += outBytes; ap += outBytes;
  }
}

/**
 * Max pooling forward: y[n,c,oy,ox] = max over the window, argmax = its flat index in the
 * (n,c) input plane. Overwrites y and argmax. Called by the MaxPool2d layer; the backward
 * needs only argmax.
 */
export function maxpool2d_forward(
  y: usize, argmax: usize, x: usize, n: i32, c: i32, h: i32, w: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32,
): void {
  assert(n >= 1 && c >= 1 && kh >= 1 && kw >= 1 && sh >= 1 && sw >= 1);
  assert(2 * ph <= kh && 2 * pw <= kw && h + 2 * ph >= kh && w + 2 * pw >= kw);
  if (isFast(kh, kw, sh, sw, ph, pw)) maxpool2x2(y, argmax, x, n * c, h, w);
  else maxpoolGeneral(y, argmax, x, n * c, h, w, kh, kw, sh, sw, ph, pw);
}

/** Scalar twin of maxpool2d_forward: the general path for every shape. */
export function maxpool2d_forward_scalar(
  y: usize, argmax: usize, x: usize, n: i32, c: i32, h: i32, w: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32,
): void {
  assert(n >= 1 && c >= 1 && kh >= 1 && kw >= 1 && sh >= 1 && sw >= 1);
  assert(2 * ph <= kh && 2 * pw <= kw && h + 2 * ph >= kh && w + 2 * pw >= kw);
  maxpoolGeneral(y, argmax, x, n * c, h, w, kh, kw, sh, sw, ph, pw);
}

// @ts-ignore: decorator
@inline function maxpoolBack(dx: usize, dy: usize, argmax: usize, planes: i32, h: i32, w: i32, oh: i32, ow: i32, acc: bool): void {
  const hw = h * w, ohw = oh * ow;
  const inBytes = <usize>hw << 2, outBytes = <usize>ohw << 2;
  let dxp = dx, dyp = dy, ap = argmax;
  for (let p = 0; p < planes; p++) {
    // overwriting: the plane is zeroed just before its scatter, while it is in cache
    if (!acc) memory.fill(dxp, 0, inBytes);
    for (let o = 0; o < ohw; o++) {
      const j = load<i32>(ap + (<usize>o << 2));
      assert(<u32>j < <u32>hw); // an argmax from another geometry would write outside the plane
      stf(dxp, j, ldf(dxp, j) + ldf(dyp, o));
    }
    dxp += inBytes; dyp += outBytes; ap += outBytes;
  }
}

/**
 * Max pooling backward: dx[n,c][argmax] += dy, in output order (overlapping windows that
 * share a max add up deterministically); acc 0 overwrites dx instead (each plane zeroed, then
 * the same scatter: the bits of accumulating into zeros). A scatter has no SIMD form in wasm,
 * so this is a scalar loop; the _scalar twin exists so every export has one. Called by
 * MaxPool2d's backward.
 */
export function maxpool2d_backward(
  dx: usize, dy: usize, argmax: usize, n: i32, c: i32, h: i32, w: i32, oh: i32, ow: i32, acc: i32,
): void {
  assert(n >= 1 && c >= 1 && h >= 1 && w >= 1 && oh >= 1 && ow >= 1);
  if (acc) maxpoolBack(dx, dy, argmax, n * c, h, w, oh, ow, true);
  else maxpoolBack(dx, dy, argmax, n * c, h, w, oh, ow, false);
}

/** Scalar twin of maxpool2d_backward (the same loop). */
export function maxpool2d_backward_scalar(
  dx: usize, dy: usize, argmax: usize, n: i32, c: i32, h: i32, w: i32, oh: i32, ow: i32, acc: i32,
): void {
  assert(n >= 1 && c >= 1 && h >= 1 && w >= 1 && oh >= 1 && ow >= 1);
  if (acc) maxpoolBack(dx, dy, argmax, n * c, h, w, oh, ow, true);
  else maxpoolBack(dx, dy, argmax, n * c, h, w, oh, ow, false);
}

// ---- average pooling ----------------------------------------------------------------------

// @ts-ignore: decorator
@inline function avgpoolGeneral(
  y: usize, x: usize, planes: i32, h: i32, w: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32,
): void {
  const oh = outSize(h, kh, sh, ph), ow = outSize(w, kw, sw, pw);
  const inBytes = <usize>(h * w) << 2, outBytes = <usize>(oh * ow) << 2;
  const div = <f32>(kh * kw);
  let xp = x, yp = y;
  for (let p = 0; p < planes; p++) {
    for (let oy = 0; oy < oh; oy++) {
      const ys = oy * sh - ph;
      const y0 = max(ys, 0), y1 = min(ys + kh, h);
      for (let ox = 0; ox < ow; ox++) {
        const xs = ox * sw - pw;
        const x0 = max(xs, 0), x1 = min(xs + kw, w);
        let s: f32 = 0;
        for (let iy = y0; iy < y1; iy++) {
          for (let ix = x0; ix < x1; ix++) s += ldf(xp, iy * w + ix);
        }
        stf(yp, oy * ow + ox, s / div);
      }
    }
    xp += inBytes; yp += outBytes;
  }
}

/**
 * 2x2 stride 2 fast path: ((x00 + x01) + x10) + x11, times 0.25, the general path's order
 * and (power-of-two scaling) the same bits.
 */
// @ts-ignore: decorator
@inline function avgpool2x2(y: usize, x: usize, planes: i32, h: i32, w: i32): void {
  const oh = h >> 1, ow = w >> 1;
  const inBytes = <usize>(h * w) << 2, outBytes = <usize>(oh * ow) << 2;
  const rowBytes = <usize>w << 2;
  const q = f32x4.splat(0.25);
  let xp = x, yp = y;
  for (let p = 0; p < planes; p++) {
    for (let oy = 0; oy < oh; oy++) {
      const r0 = xp + <usize>(2 * oy) * rowBytes, r1 = r0 + rowBytes;
      const yr = yp + (<usize>(oy * ow) << 2);
      let ox = 0;
      for (; ox + 4 <= ow; ox += 4) {
        const c = <usize>(2 * ox) << 2;
        const a0 = v128.load(r0 + c), b0 = v128.load(r0 + c, 16);
        const a1 = v128.load(r1 + c), b1 = v128.load(r1 + c, 16);
        let s = f32x4.add(i32x4.shuffle(a0, b0, 0, 2, 4, 6), i32x4.shuffle(a0, b0, 1, 3, 5, 7));
        s = f32x4.add(s, i32x4.shuffle(a1, b1, 0, 2, 4, 6));
        s = f32x4.add(s, i32x4.shuffle(a1, b1, 1, 3, 5, 7));
        v128.store(yr + (<usize>ox << 2), f32x4.mul(s, q));
      }
      for (; ox < ow; ox++) {
        const c = <usize>(2 * ox) << 2;
        const s = ((load<f32>(r0 + c) + load<f32>(r0 + c, 4)) + load<f32>(r1 + c)) + load<f32>(r1 + c, 4);
        store<f32>(yr + (<usize>ox << 2), s * 0.25);
      }
    }
    xp += inBytes; yp += outBytes;
  }
}

/**
 * Average pooling forward: y = window sum / (KH*KW), padding counted as zeros. Overwrites y.
 * Called by the AvgPool2d layer.
 */
export function avgpool2d_forward(
  y: usize, x: usize, n: i32, c: i32, h: i32, w: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32,
): void {
  assert(n >= 1 && c >= 1 && kh >= 1 && kw >= 1 && sh >= 1 && sw >= 1);
  assert(2 * ph <= kh && 2 * pw <= kw && h + 2 * ph >= kh && w + 2 * pw >= kw);
  if (isFast(kh, kw, sh, sw, ph, pw)) avgpool2x2(y, x, n * c, h, w);
  else avgpoolGeneral(y, x, n * c, h, w, kh, kw, sh, sw, ph, pw);
}

/** Scalar twin of avgpool2d_forward: the general path for every shape. */
export function avgpool2d_forward_scalar(
  y: usize, x: usize, n: i32, c: i32, h: i32, w: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32,
): void {
  assert(n >= 1 && c >= 1 && kh >= 1 && kw >= 1 && sh >= 1 && sw >= 1);
  assert(2 * ph <= kh && 2 * pw <= kw && h + 2 * ph >= kh && w + 2 * pw >= kw);
  avgpoolGeneral(y, x, n * c, h, w, kh, kw, sh, sw, ph, pw);
}

// @ts-ignore: decorator
@inline function avgpoolBackGeneral(
  dx: usize, dy: usize, planes: i32, h: i32, w: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32,
): void {
  const oh = outSize(h, kh, sh, ph), ow = outSize(w, kw, sw, pw);
  const inBytes = <usize>(h * w) << 2, outBytes = <usize>(oh * ow) << 2;
  const div = <f32>(kh * kw);
  let dxp = dx, dyp = dy;
  for (let p = 0; p < planes; p++) {
    for (let oy = 0; oy < oh; oy++) {
      const ys = oy * sh - ph;
      const y0 = max(ys, 0), y1 = min(ys + kh, h);
      for (let ox = 0; ox < ow; ox++) {
        const xs = ox * sw - pw;
        const x0 = max(xs, 0), x1 = min(xs + kw, w);
        const g = ldf(dyp, oy * ow + ox) / div;
        for (let iy = y0; iy < y1; iy++) {
          for (let ix = x0; ix < x1; ix++) {
            const j = iy * w + ix;
            stf(dxp, j, ldf(dxp, j) + g);
          }
        }
      }
    }
    dxp += inBytes; dyp += outBytes;
  }
}

/**
 * 2x2 stride 2 fast path: windows do not overlap, so each input gets at most one share
 * dy*0.25; four outputs' shares are duplicated into pairs ([g0 g0 g1 g1], [g2 g2 g3 g3]) and
 * added to two vectors of each input row.
 */
// @ts-ignore: decorator
@inline function avgpoolBack2x2(dx: usize, dy: usize, planes: i32, h: i32, w: i32): void {
  const oh = h >> 1, ow = w >> 1;
  const inBytes = <usize>(h * w) << 2, outBytes = <usize>(oh * ow) << 2;
  const rowBytes = <usize>w << 2;
  const q = f32x4.splat(0.25);
  let dxp = dx, dyp = dy;
  for (let p = 0; p < planes; p++) {
    for (let oy = 0; oy < oh; oy++) {
      const r0 = dxp + <usize>(2 * oy) * rowBytes, r1 = r0 + rowBytes;
      const gr = dyp + (<usize>(oy * ow) << 2);
      let ox = 0;
      for (; ox + 4 <= ow; ox += 4) {
        const g = f32x4.mul(v128.load(gr + (<usize>ox << 2)), q);
        const lo = i32x4.shuffle(g, g, 0, 0, 1, 1), hi = i32x4.shuffle(g, g, 2, 2, 3, 3);
        const c = <usize>(2 * ox) << 2;
        v128.store(r0 + c, f32x4.add(v128.load(r0 + c), lo));
        v128.store(r0 + c, f32x4.add(v128.load(r0 + c, 16), hi), 16);
        v128.store(r1 + c, f32x4.add(v128.load(r1 + c), lo));
        v128.store(r1 + c, f32x4.add(v128.load(r1 + c, 16), hi), 16);
      }
      for (; ox < ow; ox++) {
        const g = load<f32>(gr + (<usize>ox << 2)) * 0.25;
        const c = <usize>(2 * ox) << 2;
        store<f32>(r0 + c, load<f32>(r0 + c) + g);
        store<f32>(r0 + c, load<f32>(r0 + c, 4) + g, 4);
        store<f32>(r1 + c, load<f32>(r1 + c) + g);
        store<f32>(r1 + c, load<f32>(r1 + c, 4) + g, 4);
      }
    }
    dxp += inBytes; dyp += outBytes;
  }
}

/**
 * Average pooling backward: every input of a window gets dy / (KH*KW); padding's share is
 * dropped. Accumulates into dx, in output order. Called by AvgPool2d's backward.
 */
export function avgpool2d_backward(
  dx: usize, dy: usize, n: i32, c: i32, h: i32, w: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32,
): void {
  assert(n >= 1 && c >= 1 && kh >= 1 && kw >= 1 && sh >= 1 && sw >= 1);
  assert(2 * ph <= kh && 2 * pw <= kw && h + 2 * ph >= kh && w + 2 * pw >= kw);
  if (isFast(kh, kw, sh, sw, ph, pw)) avgpoolBack2x2(dx, dy, n * c, h, w);
  else avgpoolBackGeneral(dx, dy, n * c, h, w, kh, kw, sh, sw, ph, pw);
}

/** Scalar twin of avgpool2d_backward: the general path for every shape. */
export function avgpool2d_backward_scalar(
  dx: usize, dy: usize, n: i32, c: i32, h: i32, w: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32,
): void {
  assert(n >= 1 && c >= 1 && kh >= 1 && kw >= 1 && sh >= 1 && sw >= 1);
  assert(2 * ph <= kh && 2 * pw <= kw && h + 2 * ph >= kh && w + 2 * pw >= kw);
  avgpoolBackGeneral(dx, dy, n * c, h, w, kh, kw, sh, sw, ph, pw);
}

// ---- global average pooling ---------------------------------------------------------------
// x is (P,S) as P = N*C planes of S = H*W values, y is (P,): each plane's mean, summed in f64
// in a fixed order (the shape's alone).

/** y[p] = mean of plane p. Overwrites y. Called by the global_avgpool op. */
export function global_avgpool_forward(y: usize, x: usize, planes: i32, s: i32): void {
  assert(planes >= 1 && s >= 1);
  const bytes = <usize>s << 2;
  for (let p = 0; p < planes; p++) stf(y, p, <f32>(runSum4(x + <usize>p * bytes, s) / <f64>s));
}

/** Scalar twin of global_avgpool_forward. */
export function global_avgpool_forward_scalar(y: usize, x: usize, planes: i32, s: i32): void {
  assert(planes >= 1 && s >= 1);
  const bytes = <usize>s << 2;
  for (let p = 0; p < planes; p++) stf(y, p, <f32>(runSum1(x + <usize>p * bytes, s) / <f64>s));
}

/** dx[p, i] += dy[p] / S: each value's share of its plane's mean. Accumulates. */
export function global_avgpool_backward(dx: usize, dy: usize, planes: i32, s: i32): void {
  assert(planes >= 1 && s >= 1);
  for (let p = 0; p < planes; p++) {
    const g = <f32>(<f64>ldf(dy, p) / <f64>s);
    const gv = f32x4.splat(g);
    const row = dx + (<usize>p * <usize>s << 2);
    let i = 0;
    for (; i + 4 <= s; i += 4) v128.store(row + (<usize>i << 2), f32x4.add(v128.load(row + (<usize>i << 2)), gv));
    for (; i < s; i++) stf(row, i, ldf(row, i) + g);
  }
}

/** Scalar twin of global_avgpool_backward. */
export function global_avgpool_backward_scalar(dx: usize, dy: usize, planes: i32, s: i32): void {
  assert(planes >= 1 && s >= 1);
  for (let p = 0; p < planes; p++) {
    const g = <f32>(<f64>ldf(dy, p) / <f64>s);
    const row = dx + (<usize>p * <usize>s << 2);
    for (let i = 0; i < s; i++) stf(row, i, ldf(row, i) + g);
  }
}
