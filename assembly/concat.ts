// Concatenation along the channel axis (dim 1), forward and backward side by side.
//
// Layout: a is (N,CA,S), b is (N,CB,S), y and dy are (N,CA+CB,S), S the product of the
// trailing dims (1 for [N,C]). Sample n of y is a's sample n (CA*S floats) followed by b's
// (CB*S floats), so both copies are contiguous runs.
// concat_forward overwrites y (which must not overlap a or b); concat_backward accumulates
// (+=) one input's slice of dy into that input's gradient: the op calls it once per input
// that needs a gradient.
import { ldf, stf, ldv, stv } from './common';

// @ts-ignore: decorator
@inline function copyRun4(y: usize, x: usize, len: i32): void {
  let i = 0;
  for (; i + 8 <= len; i += 8) {
    const a = ldv(x, i), b = ldv(x, i + 4);
    stv(y, i, a); stv(y, i + 4, b);
  }
  for (; i + 4 <= len; i += 4) stv(y, i, ldv(x, i));
  for (; i < len; i++) stf(y, i, ldf(x, i));
}

// @ts-ignore: decorator
@inline function copyRun1(y: usize, x: usize, len: i32): void {
  for (let i = 0; i < len; i++) stf(y, i, ldf(x, i));
}

// @ts-ignore: decorator
@inline function addRun4(d: usize, g: usize, len: i32): void {
  let i = 0;
  for (; i + 4 <= len; i += 4) stv(d, i, f32x4.add(ldv(d, i), ldv(g, i)));
  for (; i < len; i++) stf(d, i, ldf(d, i) + ldf(g, i));
}

// @ts-ignore: decorator
@inline function addRun1(d: usize, g: usize, len: i32): void {
  for (let i = 0; i < len; i++) stf(d, i, ldf(d, i) + ldf(g, i));
}

// @ts-ignore: decorator
@inline function forward(y: usize, a: usize, b: usize, n: i32, ca: i32, cb: i32, s: i32, simd: bool): void {
  const la = ca * s, lb = cb * s;
  let yp = y, ap = a, bp = b;
  for (let j = 0; j < n; j++) {
    if (simd) { copyRun4(yp, ap, la); copyRun4(yp + (<usize>la << 2), bp, lb); }
    else { copyRun1(yp, ap, la); copyRun1(yp + (<usize>la << 2), bp, lb); }
    yp += <usize>(la + lb) << 2;
    ap += <usize>la << 2;
    bp += <usize>lb << 2;
  }
}

/** y = [a, b] along dim 1. Overwrites y. Called by the concat op. */
export function concat_forward(y: usize, a: usize, b: usize, n: i32, ca: i32, cb: i32, s: i32): void {
  assert(n >= 1 && ca >= 1 && cb >= 1 && s >= 1);
  forward(y, a, b, n, ca, cb, s, true);
}

/** Scalar twin of concat_forward. */
export function concat_forward_scalar(y: usize, a: usize, b: usize, n: i32, ca: i32, cb: i32, s: i32): void {
  assert(n >= 1 && ca >= 1 && cb >= 1 && s >= 1);
  forward(y, a, b, n, ca, cb, s, false);
}

// @ts-ignore: decorator
@inline function backward(d: usize, dy: usize, n: i32, cpart: i32, ctotal: i32, offset: i32, s: i32, simd: bool): void {
  const len = cpart * s;
  let dp = d, gp = dy + (<usize>(offset * s) << 2);
  for (let j = 0; j < n; j++) {
    if (simd) addRun4(dp, gp, len);
    else addRun1(dp, gp, len);
    dp += <usize>len << 2;
    gp += <usize>(ctotal * s) << 2;
  }
}

/**
 * d += dy[:, offset:offset+cpart] for one input of the concat (cpart of dy's ctotal channels,
 * starting at channel `offset`). Accumulates. Called by the concat op's backward.
 */
export function concat_backward(d: usize, dy: usize, n: i32, cpart: i32, ctotal: i32, offset: i32, s: i32): void {
  assert(n >= 1 && cpart >= 1 && s >= 1 && offset >= 0 && offset + cpart <= ctotal);
  backward(d, dy, n, cpart, ctotal, offset, s, true);
}

/** Scalar twin of concat_backward. */
export function concat_backward_scalar(d: usize, dy: usize, n: i32, cpart: i32, ctotal: i32, offset: i32, s: i32): void {
  assert(n >= 1 && cpart >= 1 && s >= 1 && offset >= 0 && offset + cpart <= ctotal);
  backward(d, dy, n, cpart, ctotal, offset, s, false);
}
