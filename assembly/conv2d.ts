// 2-D convolution over NCHW activations (forward, backward-data, backward-filter) and the bias
// pair. Layouts (llm.c notation):
//   x is (N,C,H,W)   weight is (OC,C,KH,KW)   bias is (OC)   y is (N,OC,OH,OW)
//   OH = (H + 2*PH - KH) / SH + 1, OW likewise (floor); zero padding PH/PW on each side.
// The column matrix of one image is col (K,P) with K = C*KH*KW (row r = (ci*KH + ki)*KW + kj)
// and P = OH*OW (column j = oy*OW + ox): col[r, j] = x[ci, oy*SH - PH + ki, ox*SW - PW + kj], or 0
// in the padding. With it the three passes are GEMMs:
//   forward          y (OC,P)    = W (OC,K) . col (K,P)
//   backward-data    dcol (K,P)  = W^T (K,OC) . dy (OC,P), then col2im adds dcol into dx
//   backward-filter  dW (OC,K)  += dy (OC,P) . col^T (P,K)
// Every non-1x1 pass runs as implicit GEMM (section "Implicit GEMM" below, tiles in
// conv2d_tiles.ts): forward and backward-filter never write col, their tiles splat-load x where
// it lies; backward-data computes dcol one input-channel block at a time into L1 and adds it
// back at once. A short-depth forward (K < IMPLICIT_MIN_K) at stride 1 along rows of 8 or more
// pixels swaps the roles (forwardLanes: channels as tile rows, pixels as lanes, stored straight
// into y); any other short-depth forward keeps the im2col + GEMM path, which puts the columns
// of G images side by side (N = G*P >= GROUP_N) so small images still make long GEMMs. A 1x1,
// stride-1, unpadded conv needs no columns at all: x_i (C,H*W) is col_i, and all three passes
// call gemm.ts on it. Forward kernels overwrite y; backward kernels accumulate
// (+=) into dx, dW and db. Scratch (conv2d_scratch_floats) is the largest any path needs.
import { ldf, stf, ldv, stv } from './common';
import { gemm_nn, gemm_nt, gemm_tn, gemm_scratch_floats } from './gemm';
import { GEMM_MR, gemm_5x8, gemm_6x8 } from './gemm_tiles';
import { pack_a_t, pack_b_n, pack_b_t } from './pack';
import { conv_tile_5x8, conv_tile_6x8, conv_tile_6x4, conv_run_tile, conv_lane_row } from './conv2d_tiles';

// ---------------------------------------------------------------------------------------------
// Geometry helpers

// @ts-ignore: decorator
@inline function outSize(size: i32, k: i32, s: i32, p: i32): i32 {
  return (size + 2 * p - k) / s + 1;
}

/** First output index o >= 0 whose input index o*s - p + k is >= 0 (ceil((p - k) / s)). */
// @ts-ignore: decorator
@inline function firstValid(k: i32, s: i32, p: i32): i32 {
  const d = p - k;
  return d <= 0 ? 0 : (d + s - 1) / s;
}

/** One past the last output index (clamped to `out`) whose input index o*s - p + k is < size. */
// @ts-ignore: decorator
@inline function endValid(size: i32, k: i32, s: i32, p: i32, out: i32): i32 {
  const d = size - 1 + p - k;
  if (d < 0) return 0;
  const e = d / s + 1;
  return e < out ? e : out;
}

/** A 1x1 kernel, stride 1, no padding: the input image is its own column matrix. */
// @ts-ignore: decorator
@inline function isPointwise(kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32): bool {
  return (kh | kw | sh | sw) == 1 && (ph | pw) == 0;
}

// @ts-ignore: decorator
@inline function align16(n: i32): i32 {
  return (n + 15) & ~15;
}

// ---------------------------------------------------------------------------------------------
// Row moves used by im2col / col2im (spans are short: OW is 10 for LeNet's conv2)

// @ts-ignore: decorator
@inline function zeroSpan(dst: usize, len: i32): void {
  const z = f32x4.splat(0);
  let t = 0;
  for (; t + 4 <= len; t += 4) stv(dst, t, z);
  for (; t < len; t++) stf(dst, t, 0);
}

/** dst[t] = src[t], t < len. Spans of 4 or more end with one overlapping vector, not a scalar tail. */
// @ts-ignore: decorator
@inline function copySpan(dst: usize, src: usize, len: i32): void {
  if (len >= 4) {
    let t = 0;
    for (; t + 4 <= len; t += 4) stv(dst, t, ldv(src, t));
    if (t < len) stv(dst, len - 4, ldv(src, len - 4));
  } else {
    for (let t = 0; t < len; t++) stf(dst, t, ldf(src, t));
  }
}

/** dst[t] = src[2t], t < len. The vector loop stops where its second load would pass src[2(len-1)]. */
// @ts-ignore: decorator
@inline function copySpan2(dst: usize, src: usize, len: i32): void {
  let t = 0;
  for (; t + 5 <= len; t += 4) {
    const a = ldv(src, 2 * t);
    const b = ldv(src, 2 * t + 4);
    stv(dst, t, f32x4.shuffle(a, b, 0, 2, 4, 6));
  }
  for (; t < len; t++) stf(dst, t, ldf(src, 2 * t));
}

/** dst[t*s] += src[t], t < len. */
// @ts-ignore: decorator
@inline function addSpan(dst: usize, src: usize, len: i32, s: i32): void {
  if (s == 1 && len >= 4 && len <= 12) {
    // up to three vectors, the last overlapping: all loaded before any store, so the overlap
    // is written twice with the same sum (no scalar tail)
    const e = len - 4;
    const m = min(4, e);
    const a = f32x4.add(ldv(dst, 0), ldv(src, 0));
    const b = f32x4.add(ldv(dst, m), ldv(src, m));
    const c = f32x4.add(ldv(dst, e), ldv(src, e));
    stv(dst, 0, a);
    stv(dst, m, b);
    stv(dst, e, c);
  } else if (s == 1) {
    let t = 0;
    for (; t + 4 <= len; t += 4) stv(dst, t, f32x4.add(ldv(dst, t), ldv(src, t)));
    for (; t < len; t++) stf(dst, t, ldf(dst, t) + ldf(src, t));
  } else {
    let d = dst;
    const step = <usize>s << 2;
    for (let t = 0; t < len; t++) {
      store<f32>(d, load<f32>(d) + ldf(src, t));
      d += step;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// im2col / col2im for one image

/**
 * Writes the column matrix of one image x (C,H,W) into col (K, P) with row stride ldcol
 * (>= P). Divisions happen once per (ci, ki, kj) row, never per element; stride-1 rows are
 * vector copies and stride-2 rows vector gathers (shuffles of two loads).
 */
function im2col(col: usize, ldcol: i32, x: usize, c: i32, h: i32, w: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, oh: i32, ow: i32): void {
  const hw = h * w;
  let row = col;
  const rowStep = <usize>ldcol << 2;
  for (let ci = 0; ci < c; ci++) {
    const xc = x + (<usize>(ci * hw) << 2);
    for (let ki = 0; ki < kh; ki++) {
      const oy0 = firstValid(ki, sh, ph);
      const oy1 = max(oy0, endValid(h, ki, sh, ph, oh));
      for (let kj = 0; kj < kw; kj++) {
        const ox0 = firstValid(kj, sw, pw);
        const ox1 = max(ox0, endValid(w, kj, sw, pw, ow));
        const len = ox1 - ox0;
        zeroSpan(row, oy0 * ow);
        let dst = row + (<usize>(oy0 * ow) << 2);
        let src = xc + (<usize>((oy0 * sh - ph + ki) * w + ox0 * sw - pw + kj) << 2);
        const dstStep = <usize>ow << 2;
        const srcStep = <usize>(sh * w) << 2;
        if (ox0 == 0 && ox1 == ow) {
          // no horizontal padding on this row (every valid conv): pure copies
          if (sw == 1) {
            for (let oy = oy0; oy < oy1; oy++) { copySpan(dst, src, len); dst += dstStep; src += srcStep; }
          } else if (sw == 2) {
            for (let oy = oy0; oy < oy1; oy++) { copySpan2(dst, src, len); dst += dstStep; src += srcStep; }
          } else {
            for (let oy = oy0; oy < oy1; oy++) { copyStrided(dst, src, len, sw); dst += dstStep; src += srcStep; }
          }
        } else {
          const tail = dst + (<usize>ox1 << 2);
          const mid = dst + (<usize>ox0 << 2);
          for (let oy = oy0; oy < oy1; oy++) {
            const o = <usize>(oy - oy0) * dstStep;
            for (let t = 0; t < ox0; t++) stf(dst + o, t, 0);
            if (sw == 1) copySpan(mid + o, src, len);
            else if (sw == 2) copySpan2(mid + o, src, len);
            else copyStrided(mid + o, src, len, sw);
            for (let t = 0; t < ow - ox1; t++) stf(tail + o, t, 0);
            src += srcStep;
          }
        }
        zeroSpan(row + (<usize>(oy1 * ow) << 2), (oh - oy1) * ow);
        row += rowStep;
      }
    }
  }
}

// @ts-ignore: decorator
@inline function copyStrided(dst: usize, src: usize, len: i32, s: i32): void {
  let p = src;
  const step = <usize>s << 2;
  for (let t = 0; t < len; t++) {
    stf(dst, t, load<f32>(p));
    p += step;
  }
}

/**
 * Adds the column matrix dcol (K,P) (row stride ldcol) back onto one image dx (C,H,W): each
 * column entry goes to the input pixel it was read from; padding entries are dropped.
 */
function col2im(dx: usize, dcol: usize, ldcol: i32, c: i32, h: i32, w: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, oh: i32, ow: i32): void {
  const hw = h * w;
  let row = dcol;
  const rowStep = <usize>ldcol << 2;
  const srcStep = <usize>ow << 2;
  const dstStep = <usize>(sh * w) << 2;
  for (let ci = 0; ci < c; ci++) {
    const xc = dx + (<usize>(ci * hw) << 2);
    for (let ki = 0; ki < kh; ki++) {
      const oy0 = firstValid(ki, sh, ph);
      const oy1 = max(oy0, endValid(h, ki, sh, ph, oh));
      for (let kj = 0; kj < kw; kj++) {
        const ox0 = firstValid(kj, sw, pw);
        const ox1 = max(ox0, endValid(w, kj, sw, pw, ow));
        const len = ox1 - ox0;
        let src = row + (<usize>(oy0 * ow + ox0) << 2);
        let dst = xc + (<usize>((oy0 * sh - ph + ki) * w + ox0 * sw - pw + kj) << 2);
        for (let oy = oy0; oy < oy1; oy++) {
          addSpan(dst, src, len, sw);
          src += srcStep;
          dst += dstStep;
        }
        row += rowStep;
      }
    }
  }
}

/** dst[t] = src[t] + bo, t < len. */
// @ts-ignore: decorator
@inline function copyBiasSpan(dst: usize, src: usize, len: i32, bo: f32): void {
  const v = f32x4.splat(bo);
  let t = 0;
  for (; t + 4 <= len; t += 4) stv(dst, t, f32x4.add(ldv(src, t), v));
  for (; t < len; t++) stf(dst, t, ldf(src, t) + bo);
}

/** y[o, :] += b[o] over hw elements per channel, for oc channels. */
// @ts-ignore: decorator
@inline function biasAddImage(y: usize, b: usize, oc: i32, hw: i32): void {
  let p = y;
  for (let o = 0; o < oc; o++) {
    const bo = ldf(b, o);
    const v = f32x4.splat(bo);
    let t = 0;
    for (; t + 4 <= hw; t += 4) stv(p, t, f32x4.add(ldv(p, t), v));
    for (; t < hw; t++) stf(p, t, ldf(p, t) + bo);
    p += <usize>hw << 2;
  }
}

// ---------------------------------------------------------------------------------------------
// Implicit GEMM (conv2d_tiles.ts): the splat operand is read from x itself through offset
// tables, so neither forward nor backward-filter writes a column matrix; backward-data keeps
// gemm_tiles.ts's packed tiles but computes one input channel's columns at a time (they stay
// in L1 for col2im) from W^T packed once per call. Channels ride the vector lanes in panels of
// 8 and, for a remainder of 1..4, one panel of 4.

/**
 * Shortest depth the implicit forward takes: below it the transposed store of each tile (its
 * rows are pixels, y's rows are channels) outweighs the gather it saves (LeNet's conv1, K = 25,
 * ran ~25% slower than im2col + GEMM; conv2, K = 500, ~7% faster). Below it forwardLanes
 * takes what it can (conv1: ~1.2x the im2col + GEMM path in the relaxed build, ~1.08x in the
 * plain one; bench/conv_ab.ts, this machine).
 */
const IMPLICIT_MIN_K: i32 = 64;
/** Steps a backward-filter tile runs over (pixels of whole images): long enough that its scatter into dW is noise. */
const FILTER_STEPS: i32 = 1024;
/** Entries of the tile-row address array (the widest tile's rows). */
const BASES: i32 = 8;
/** Floats of the tile output buffer (6 rows x 8). */
const TILE_FLOATS: i32 = 64;

/** Width of the channel panel starting o0 channels into oc: 8, or 4 for a remainder of 1..4. */
// @ts-ignore: decorator
@inline function panelWidth(oc: i32, o0: i32): i32 {
  return oc - o0 <= 4 ? 4 : 8;
}

/** Lane slots the channel panels of oc channels take. */
// @ts-ignore: decorator
@inline function channelSlots(oc: i32): i32 {
  const r = oc & 7;
  return r == 0 ? oc : r <= 4 ? oc - r + 4 : oc - r + 8;
}

/**
 * Rows of a `rows`-row loop that go to MR-row tiles before the rest go to (MR-1)-row tiles
 * (gemm.ts's rule: the relaxed build covers 25 with 5 x 5, not 5 x 6 with 5 rows of waste).
 */
// @ts-ignore: decorator
@inline function tallRows(rows: i32): i32 {
  if (GEMM_MR != 6) return rows;
  const t = (rows + 5) / 6;
  return 5 * t > rows ? rows : 6 * (rows - 5 * t);
}

/** Height of the tile starting at row r0 (tall: tallRows of the row count); 8- and 4-wide alike. */
// @ts-ignore: decorator
@inline function tileHeight(wide: bool, r0: i32, tall: i32): i32 {
  return r0 < tall ? GEMM_MR : GEMM_MR - 1;
}

// @ts-ignore: decorator
@inline function splatTile(wide: bool, hgt: i32, steps: i32, tab: usize, bases: usize, b: usize, c: usize): void {
  if (!wide) conv_tile_6x4(steps, tab, bases, b, c, 8);
  else if (hgt == 6) conv_tile_6x8(steps, tab, bases, b, c, 8);
  else conv_tile_5x8(steps, tab, bases, b, c, 8);
}

/**
 * Where a chunk of `rows` consecutive rows starting `at` positions into a line of `len` (pixels
 * of an output row, taps of a kernel row) breaks: the row count before the break (rows when it
 * does not), or 0 when it would break twice or is under 4 rows (then a pointer tile runs it).
 */
// @ts-ignore: decorator
@inline function runBreak(rows: i32, at: i32, len: i32): i32 {
  const first = min(rows, len - at);
  return rows < 4 || rows - first > len ? 0 : first;
}

/** tab[r] = byte offset of tap r = (ci, ki, kj) from a window's origin in a (c, hp, wp) image. */
function tapOffsets(tab: usize, c: i32, kh: i32, kw: i32, hp: i32, wp: i32): void {
  let r = 0;
  for (let ci = 0; ci < c; ci++) {
    for (let ki = 0; ki < kh; ki++) {
      for (let kj = 0; kj < kw; kj++) {
        store<u32>(tab + (<usize>r << 2), <u32>(((ci * hp + ki) * wp + kj) << 2));
        r++;
      }
    }
  }
}

// @ts-ignore: decorator
@inline function storeT4(d: usize, stride: usize, x0: v128, x1: v128, x2: v128, x3: v128): void {
  const u0 = f32x4.shuffle(x0, x1, 0, 4, 1, 5), u1 = f32x4.shuffle(x0, x1, 2, 6, 3, 7);
  const u2 = f32x4.shuffle(x2, x3, 0, 4, 1, 5), u3 = f32x4.shuffle(x2, x3, 2, 6, 3, 7);
  v128.store(d, f32x4.shuffle(u0, u2, 0, 1, 4, 5));
  v128.store(d + stride, f32x4.shuffle(u0, u2, 2, 3, 6, 7));
  v128.store(d + 2 * stride, f32x4.shuffle(u1, u3, 0, 1, 4, 5));
  v128.store(d + 3 * stride, f32x4.shuffle(u1, u3, 2, 3, 6, 7));
}

/** The image at xi as the tiles read it: itself when unpadded, else its zero-padded copy in ximg. */
// @ts-ignore: decorator
@inline function paddedImage(ximg: usize, xi: usize, c: i32, h: i32, w: i32, ph: i32, pw: i32): usize {
  if ((ph | pw) == 0) return xi;
  padImages(ximg, xi, 1, c, h, w, ph, pw);
  return ximg;
}

/** Copies g images (c, h, w) into (c, h + 2ph, w + 2pw) with zero borders. */
function padImages(dst: usize, x: usize, g: i32, c: i32, h: i32, w: i32, ph: i32, pw: i32): void {
  const wp = w + 2 * pw;
  const hp = h + 2 * ph;
  let d = dst;
  let s = x;
  for (let t = 0; t < g * c; t++) {
    zeroSpan(d, ph * wp);
    d += <usize>(ph * wp) << 2;
    for (let iy = 0; iy < h; iy++) {
      zeroSpan(d, pw);
      copySpan(d + (<usize>pw << 2), s, w);
      zeroSpan(d + (<usize>(pw + w) << 2), pw);
      d += <usize>wp << 2;
      s += <usize>w << 2;
    }
    zeroSpan(d, ph * wp);
    d += <usize>(ph * wp) << 2;
  }
  assert(d == dst + (<usize>(g * c * hp * wp) << 2));
}

/**
 * One channel panel of width wq: dst[s][j] = src[j*ld + s] for s < count, j < valid, zeros for
 * the lanes past valid. 8-wide panels are pack.ts's transposing B packer.
 */
function packPanelT(dst: usize, src: usize, ld: i32, count: i32, wq: i32, valid: i32): void {
  if (wq == 8) {
    pack_b_t(dst, src, ld, valid, count, false);
    return;
  }
  let d = dst;
  let s = 0;
  if (valid == 4) {
    const row = <usize>ld << 2;
    for (; s + 4 <= count; s += 4) {
      const a = src + (<usize>s << 2);
      storeT4(d, 16, v128.load(a), v128.load(a + row), v128.load(a + 2 * row), v128.load(a + 3 * row));
      d += 64;
    }
  }
  for (; s < count; s++) {
    for (let j = 0; j < 4; j++) stf(d, j, j < valid ? ldf(src, j * ld + s) : 0);
    d += 16;
  }
}

/** Writes the tile's row addresses: base_r = x + the window origin of output pixel j0 + r (rows past `rows` repeat the last). */
function pixelBases(bases: usize, x: usize, j0: i32, rows: i32, ow: i32, sh: i32, sw: i32, wp: i32): void {
  let oy = j0 / ow;
  let ox = j0 - oy * ow;
  let a: usize = 0;
  // six entries whatever hgt: the 4-wide pointer tile always reads six
  for (let r = 0; r < 6; r++) {
    if (r < rows) {
      a = x + (<usize>(oy * sh * wp + ox * sw) << 2);
      if (++ox == ow) { ox = 0; oy++; }
    }
    store<u32>(bases + (<usize>r << 2), <u32>a);
  }
}

/** Scratch floats of forwardImplicit. */
function forwardImplicitFloats(c: i32, h: i32, w: i32, oc: i32, kh: i32, kw: i32, ph: i32, pw: i32): i32 {
  const k = c * kh * kw;
  const img = (ph | pw) != 0 ? c * (h + 2 * ph) * (w + 2 * pw) : 0;
  return align16(k * channelSlots(oc)) + align16(k) + BASES + TILE_FLOATS + align16(img);
}

/**
 * y = conv(x, w) + b with output pixels as tile rows and 8 (or 4) output channels as lanes:
 * each tile row splat-loads its pixel's window from x (a zero-padded copy when padded) through
 * the tap table, against W^T panels packed once per call. The bias joins on the store.
 */
function forwardImplicit(y: usize, x: usize, w: usize, b: usize, scratch: usize, n: i32, c: i32, h: i32, w_: i32, oc: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, oh: i32, ow: i32): void {
  const k = c * kh * kw;
  const p = oh * ow;
  const hp = h + 2 * ph, wp = w_ + 2 * pw;
  const panels = scratch;
  const tab = panels + (<usize>align16(k * channelSlots(oc)) << 2);
  const bases = tab + (<usize>align16(k) << 2);
  const tbuf = bases + (<usize>BASES << 2);
  const ximg = tbuf + (<usize>TILE_FLOATS << 2);
  for (let o0 = 0; o0 < oc; o0 += 8) {
    packPanelT(panels + (<usize>(o0 * k) << 2), w + (<usize>(o0 * k) << 2), k, k, panelWidth(oc, o0), min(8, oc - o0));
  }
  tapOffsets(tab, c, kh, kw, hp, wp);
  const tall = tallRows(p);
  const xStep = <usize>(c * h * w_) << 2;
  const yStep = <usize>(oc * p) << 2;
  let xi = x;
  let yi = y;
  for (let i = 0; i < n; i++) {
    const src = paddedImage(ximg, xi, c, h, w_, ph, pw);
    for (let o0 = 0; o0 < oc; o0 += 8) {
      const wq = panelWidth(oc, o0);
      const valid = min(wq, oc - o0);
      const panel = panels + (<usize>(o0 * k) << 2);
      const bias = b != 0 ? b + (<usize>o0 << 2) : 0;
      const yo = yi + (<usize>(o0 * p) << 2);
      for (let j0 = 0; j0 < p; ) {
        const hgt = tileHeight(wq == 8, j0, tall);
        const rows = min(hgt, p - j0);
        const oy = j0 / ow;
        const ox = j0 - oy * ow;
        const cut = sw == 1 ? runBreak(rows, ox, ow) : 0;
        if (cut > 0) {
          // pixels along an output row are consecutive floats of x
          const base = src + (<usize>(oy * sh * wp + ox) << 2);
          const next = src + (<usize>((oy + 1) * sh * wp) << 2);
          conv_run_tile(wq == 8, rows, cut, k, tab, base, next - base - (<usize>cut << 2), panel, tbuf);
        } else {
          pixelBases(bases, src, j0, rows, ow, sh, sw, wp);
          splatTile(wq == 8, hgt, k, tab, bases, panel, tbuf);
        }
        storePixelsT(yo + (<usize>j0 << 2), p, tbuf, rows, valid, bias);
        j0 += hgt;
      }
    }
    xi += xStep;
    yi += yStep;
  }
}

/** Whether the lane-tile forward runs a geometry: short depth, stride 1 along rows, rows of 8 pixels or more. */
// @ts-ignore: decorator
@inline function lanesApply(k: i32, sw: i32, ow: i32): bool {
  return k < IMPLICIT_MIN_K && sw == 1 && ow >= 8;
}

/** Output channels per lane tile (conv_lane_row). */
const LANE_ROWS: i32 = 4;

/** Scratch floats of forwardLanes. */
function forwardLanesFloats(c: i32, h: i32, w: i32, oc: i32, kh: i32, kw: i32, ph: i32, pw: i32): i32 {
  const k = c * kh * kw;
  const img = (ph | pw) != 0 ? c * (h + 2 * ph) * (w + 2 * pw) : 0;
  return align16(k * (oc + LANE_ROWS)) + align16(k) + align16(LANE_ROWS * (w + 2 * pw)) + align16(oc + LANE_ROWS) + align16(img);
}

/**
 * y = conv(x, w) + b for a short depth at stride 1 (lanesApply), blocks of 4 output channels as
 * tile rows and 8 pixels of an output row as lanes (conv_lane_row): W and the biases (zeros
 * past oc) packed once per call, W into panels [k][4], x read where it lies (a zero-padded copy when padded). A row's last tile
 * starts at ow - 8, overlapping the one before: the pixels both cover get the same sums.
 */
function forwardLanes(y: usize, x: usize, w: usize, b: usize, scratch: usize, n: i32, c: i32, h: i32, w_: i32, oc: i32, kh: i32, kw: i32, sh: i32, ph: i32, pw: i32, oh: i32, ow: i32): void {
  const k = c * kh * kw;
  const p = oh * ow;
  const hp = h + 2 * ph, wp = w_ + 2 * pw;
  const panels = scratch;
  const tab = panels + (<usize>align16(k * (oc + LANE_ROWS)) << 2);
  const tbuf = tab + (<usize>align16(k) << 2);
  const bpad = tbuf + (<usize>align16(LANE_ROWS * wp) << 2);
  const ximg = bpad + (<usize>align16(oc + LANE_ROWS) << 2);
  // the tile reads four biases: zeros past oc (and everywhere without a bias)
  for (let o = 0; o < oc + LANE_ROWS; o++) stf(bpad, o, b != 0 && o < oc ? ldf(b, o) : 0);
  for (let o0 = 0; o0 < oc; o0 += LANE_ROWS) packLanePanel(panels + (<usize>(o0 * k) << 2), w + (<usize>(o0 * k) << 2), k, min(LANE_ROWS, oc - o0));
  tapOffsets(tab, c, kh, kw, hp, wp);
  const ldy = <usize>p << 2;
  const xStep = <usize>(c * h * w_) << 2;
  let xi = x;
  let yi = y;
  for (let i = 0; i < n; i++) {
    const src = paddedImage(ximg, xi, c, h, w_, ph, pw);
    for (let o0 = 0; o0 < oc; o0 += LANE_ROWS) {
      const valid = min(LANE_ROWS, oc - o0);
      const panel = panels + (<usize>(o0 * k) << 2);
      const bias = bpad + (<usize>o0 << 2);
      const yo = yi + <usize>o0 * ldy;
      for (let oy = 0; oy < oh; oy++) {
        const row = src + (<usize>(oy * sh * wp) << 2);
        const yr = yo + (<usize>(oy * ow) << 2);
        if (valid == LANE_ROWS) {
          conv_lane_row(ow, k, tab, panel, row, bias, yr, ldy);
        } else {
          // a short block: the row into a 4-row buffer, then its valid rows
          conv_lane_row(ow, k, tab, panel, row, bias, tbuf, <usize>ow << 2);
          for (let r = 0; r < valid; r++) copySpan(yr + <usize>r * ldy, tbuf + (<usize>(r * ow) << 2), ow);
        }
      }
    }
    xi += xStep;
    yi += <usize>oc * ldy;
  }
}

/** dst[s*4 + r] = w[r*k + s] for r < valid, zeros for the rows past it: one block's panel. */
function packLanePanel(dst: usize, w: usize, k: i32, valid: i32): void {
  for (let s = 0; s < k; s++) {
    for (let r = 0; r < LANE_ROWS; r++) stf(dst, s * LANE_ROWS + r, r < valid ? ldf(w, r * k + s) : 0);
  }
}

/** y[j*p + r] = t[r][j] (+ bias[j]) for r < rows, j < valid: the tile's pixel rows become channel rows of y. */
// @ts-ignore: decorator
@inline function storePixelsT(y: usize, p: i32, t: usize, rows: i32, valid: i32, bias: usize): void {
  if (rows >= 4 && (valid & 3) == 0) {
    // 4 pixels x 4 channels per transpose, the bias added on the channel lanes first
    const pb = <usize>p << 2;
    for (let j = 0; j < valid; j += 4) {
      const bj = bias != 0 ? v128.load(bias + (<usize>j << 2)) : f32x4.splat(0);
      const tj = t + (<usize>j << 2);
      const yj = y + <usize>j * pb;
      storeT4(yj, pb, f32x4.add(v128.load(tj), bj), f32x4.add(v128.load(tj, 32), bj), f32x4.add(v128.load(tj, 64), bj), f32x4.add(v128.load(tj, 96), bj));
      for (let r = 4; r < rows; r++) {
        const v = f32x4.add(v128.load(tj + (<usize>(r * 8) << 2)), bj);
        const yr = yj + (<usize>r << 2);
        v128.store32_lane(yr, v, 0);
        v128.store32_lane(yr + pb, v, 1);
        v128.store32_lane(yr + 2 * pb, v, 2);
        v128.store32_lane(yr + 3 * pb, v, 3);
      }
    }
    return;
  }
  for (let j = 0; j < valid; j++) {
    const bj: f32 = bias != 0 ? ldf(bias, j) : 0;
    const yj = y + (<usize>(j * p) << 2);
    for (let r = 0; r < rows; r++) stf(yj, r, ldf(t, r * 8 + j) + bj);
  }
}

/** dw[j*k + r] += t[r][j] for r < rows, j < valid: a tile of taps x channels into dW (OC, K). */
// @ts-ignore: decorator
@inline function addTapsT(dw: usize, k: i32, t: usize, rows: i32, valid: i32): void {
  for (let j = 0; j < valid; j++) {
    const d = dw + (<usize>(j * k) << 2);
    for (let r = 0; r < rows; r++) stf(d, r, ldf(d, r) + ldf(t, r * 8 + j));
  }
}

/** Images per backward-filter block and the scratch floats it needs. */
// @ts-ignore: decorator
@inline function filterBlock(n: i32, p: i32): i32 {
  return max(1, min(n, FILTER_STEPS / p));
}

function filterImplicitFloats(n: i32, c: i32, h: i32, w: i32, oc: i32, kh: i32, kw: i32, ph: i32, pw: i32, p: i32): i32 {
  const g = filterBlock(n, p);
  const img = (ph | pw) != 0 ? g * c * (h + 2 * ph) * (w + 2 * pw) : 0;
  return align16(g * p * channelSlots(oc)) + align16(c * kh * kw) + align16(g * p) + BASES + TILE_FLOATS + align16(img);
}

/**
 * dw += dy . col^T with taps as tile rows and output channels as lanes: each tile row is one
 * tap (its base is x plus the tap's offset), the depth runs over every pixel of a block of
 * images through the pixel table, against dy^T panels packed per block. One scatter into dw
 * per tile per block.
 */
function filterImplicit(dw: usize, dy: usize, x: usize, scratch: usize, n: i32, c: i32, h: i32, w_: i32, oc: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, oh: i32, ow: i32): void {
  const k = c * kh * kw;
  const p = oh * ow;
  const padded = (ph | pw) != 0;
  const hp = h + 2 * ph, wp = w_ + 2 * pw;
  const gmax = filterBlock(n, p);
  const panels = scratch;
  const taps = panels + (<usize>align16(gmax * p * channelSlots(oc)) << 2);
  const pix = taps + (<usize>align16(k) << 2);
  const bases = pix + (<usize>align16(gmax * p) << 2);
  const tbuf = bases + (<usize>BASES << 2);
  const xblk = tbuf + (<usize>TILE_FLOATS << 2);
  tapOffsets(taps, c, kh, kw, hp, wp);
  const imgBytes = <usize>(c * hp * wp) << 2;
  const tall = tallRows(k);
  let built = 0;
  for (let i0 = 0; i0 < n; i0 += gmax) {
    const g = min(gmax, n - i0);
    const steps = g * p;
    let src = x + (<usize>i0 * (<usize>(c * h * w_) << 2));
    if (padded) {
      padImages(xblk, src, g, c, h, w_, ph, pw);
      src = xblk;
    }
    // the table depends only on g: every block but a short last one reuses it
    let e = pix + (<usize>(built * p) << 2);
    for (let t = built; t < g; t++) {
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          store<u32>(e, <u32>(<usize>t * imgBytes + (<usize>(oy * sh * wp + ox * sw) << 2)));
          e += 4;
        }
      }
    }
    built = max(built, g);
    const dyb = dy + (<usize>i0 * (<usize>(oc * p) << 2));
    for (let o0 = 0; o0 < oc; o0 += 8) {
      const wq = panelWidth(oc, o0);
      const valid = min(wq, oc - o0);
      const panel = panels + (<usize>(o0 * steps) << 2);
      for (let t = 0; t < g; t++) {
        packPanelT(panel + (<usize>(t * p * wq) << 2), dyb + (<usize>((t * oc + o0) * p) << 2), p, p, wq, valid);
      }
      for (let r0 = 0; r0 < k; ) {
        const hgt = tileHeight(wq == 8, r0, tall);
        const rows = min(hgt, k - r0);
        const cut = runBreak(rows, r0 % kw, kw);
        if (cut > 0) {
          // the taps along a kernel row are consecutive floats of x
          const base = src + <usize>load<u32>(taps + (<usize>r0 << 2));
          const next = cut < rows ? src + <usize>load<u32>(taps + (<usize>(r0 + cut) << 2)) : base + (<usize>cut << 2);
          conv_run_tile(wq == 8, rows, cut, steps, pix, base, next - base - (<usize>cut << 2), panel, tbuf);
        } else {
          for (let r = 0; r < 6; r++) {
            const tap = load<u32>(taps + (<usize>min(r0 + r, k - 1) << 2));
            store<u32>(bases + (<usize>r << 2), <u32>(src + <usize>tap));
          }
          splatTile(wq == 8, hgt, steps, pix, bases, panel, tbuf);
        }
        addTapsT(dw + (<usize>(o0 * k + r0) << 2), k, tbuf, rows, valid);
        r0 += hgt;
      }
    }
  }
}

/**
 * Input channels per backward-data block: 2 in the relaxed build, whose 6-row tiles cover
 * 2 x 25 taps exactly (5 x 6 + 4 x 5) where one channel's 25 leave a 1-row remainder.
 */
// @ts-ignore: decorator
@inline function dataChannels(c: i32): i32 {
  return GEMM_MR == 6 ? min(2, c) : 1;
}

/** Images per backward-data block: enough that their pixels fill whole 8-column panels (2 for P = 100). */
// @ts-ignore: decorator
@inline function dataImages(n: i32, p: i32): i32 {
  const g = (p & 7) == 0 ? 1 : (p & 3) == 0 ? 2 : (p & 1) == 0 ? 4 : 8;
  return min(n, g);
}

/** Floats of packed W^T for a block of `rows` taps (MR- then (MR-1)-row panels, depth oc). */
// @ts-ignore: decorator
@inline function blockPanelFloats(rows: i32, oc: i32): i32 {
  const tall = tallRows(rows);
  const MR = GEMM_MR;
  return (((tall + MR - 1) / MR) * MR + ((rows - tall + MR - 2) / (MR - 1)) * (MR - 1)) * oc;
}

/** Scratch floats of dataImplicit. */
function dataImplicitFloats(n: i32, c: i32, oc: i32, kh: i32, kw: i32, p: i32): i32 {
  const rows = dataChannels(c) * kh * kw;
  const blocks = (c + dataChannels(c) - 1) / dataChannels(c);
  const np = dataImages(n, p) * p;
  return align16(blocks * blockPanelFloats(rows, oc)) + align16(((np + 7) & ~7) * oc) + align16(rows * np) + TILE_FLOATS;
}

/**
 * dx += col2im(W^T . dy) one block of input channels at a time: W^T packed once per call (the
 * A side), the dy of a few images packed once (the B side, whole 8-column panels), then per
 * channel block its column rows (in L1) from gemm_tiles.ts's tiles and straight into col2im.
 * Nothing round-trips through L3.
 */
function dataImplicit(dx: usize, dy: usize, w: usize, scratch: usize, n: i32, c: i32, h: i32, w_: i32, oc: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, oh: i32, ow: i32): void {
  const kk = kh * kw;
  const k = c * kk;
  const p = oh * ow;
  const MR = GEMM_MR;
  const cb = dataChannels(c);
  const gmax = dataImages(n, p);
  const blockFloats = blockPanelFloats(cb * kk, oc);
  const blocks = (c + cb - 1) / cb;
  const ap = scratch;
  const bp = ap + (<usize>align16(blocks * blockFloats) << 2);
  const dcol = bp + (<usize>align16(((gmax * p + 7) & ~7) * oc) << 2);
  const tbuf = dcol + (<usize>align16(cb * kk * gmax * p) << 2);
  for (let q = 0; q < blocks; q++) {
    const rows = min(cb, c - q * cb) * kk;
    const tall = tallRows(rows);
    const dst = ap + (<usize>(q * blockFloats) << 2);
    const src = w + (<usize>(q * cb * kk) << 2);
    pack_a_t(dst, src, k, tall, oc, MR, 1, false);
    pack_a_t(dst + (<usize>(((tall + MR - 1) / MR) * MR * oc) << 2), src + (<usize>tall << 2), k, rows - tall, oc, MR - 1, 1, false);
  }
  const xStep = <usize>(c * h * w_) << 2;
  const yStep = <usize>(oc * p) << 2;
  const planeBytes = <usize>(h * w_) << 2;
  for (let i = 0; i < n; i += gmax) {
    const g = min(gmax, n - i);
    const np = g * p;
    const dxi = dx + <usize>i * xStep;
    const dyi = dy + <usize>i * yStep;
    for (let t = 0; t < g; t++) {
      // the g images' pixels side by side as one (OC, g*P) B operand
      packDyPanels(bp, dyi + <usize>t * yStep, p, oc, t * p, np);
    }
    for (let q = 0; q < blocks; q++) {
      const cq = min(cb, c - q * cb);
      const rows = cq * kk;
      const tall = tallRows(rows);
      const apq = ap + (<usize>(q * blockFloats) << 2);
      for (let jr = 0; jr < np; jr += 8) {
        const nr = min(8, np - jr);
        const bpanel = bp + (<usize>(jr * oc) << 2);
        let apanel = apq;
        for (let ir = 0; ir < rows; ) {
          const hh = ir < tall ? MR : MR - 1;
          const mr = min(hh, rows - ir);
          const ctile = dcol + (<usize>(ir * np + jr) << 2);
          if (mr == hh && nr == 8) {
            if (hh == 6) gemm_6x8(oc, apanel, bpanel, ctile, np, 0);
            else gemm_5x8(oc, apanel, bpanel, ctile, np, 0);
          } else {
            if (hh == 6) gemm_6x8(oc, apanel, bpanel, tbuf, 8, 0);
            else gemm_5x8(oc, apanel, bpanel, tbuf, 8, 0);
            for (let r = 0; r < mr; r++) {
              for (let j = 0; j < nr; j++) stf(ctile + (<usize>(r * np) << 2), j, ldf(tbuf, r * 8 + j));
            }
          }
          apanel += <usize>(hh * oc) << 2;
          ir += hh;
        }
      }
      for (let t = 0; t < g; t++) {
        col2im(dxi + <usize>t * xStep + <usize>(q * cb) * planeBytes, dcol + (<usize>(t * p) << 2), np, cq, h, w_, kh, kw, sh, sw, ph, pw, oh, ow);
      }
    }
  }
}

/**
 * Packs one image's dy (OC, P) as columns j0 .. j0+P-1 of the 8-column panels of an (OC, np)
 * B operand (pack.ts's layout: panel q at q*8*oc floats, [oc][8], zero past np).
 */
function packDyPanels(bp: usize, dy: usize, p: i32, oc: i32, j0: i32, np: i32): void {
  for (let j = j0; j < j0 + p; ) {
    const q = j >> 3;
    const lane = j & 7;
    const len = min(8 - lane, j0 + p - j);
    const panel = bp + (<usize>(q * 8 * oc) << 2);
    if (lane == 0 && len == 8) {
      let s = dy + (<usize>(j - j0) << 2);
      let d = panel;
      for (let o = 0; o < oc; o++) {
        v128.store(d, v128.load(s));
        v128.store(d, v128.load(s, 16), 16);
        s += <usize>p << 2;
        d += 32;
      }
    } else {
      for (let o = 0; o < oc; o++) {
        const s = dy + (<usize>(o * p + j - j0) << 2);
        const d = panel + (<usize>(o * 8 + lane) << 2);
        for (let l = 0; l < len; l++) stf(d, l, ldf(s, l));
        // lanes past the last image's pixels stay zero
        if (j + len == np) for (let l = lane + len; l < 8; l++) stf(panel + (<usize>(o * 8) << 2), l, 0);
      }
    }
    j += len;
  }
}

// ---------------------------------------------------------------------------------------------
// Scratch

/**
 * Output columns a forward / backward-data GEMM should reach by batching images. A GEMM of
 * N = 100 columns (LeNet's conv2, one image) spends a visible share on per-call work (packing
 * W again, the 4-column edge panel): batching measured ~5% faster forward and ~7% faster
 * backward-data there, flat from 200 to 800 columns. The batch's columns leave L2, but each
 * column element feeds OC multiply-adds, so re-reading them from L3 costs little.
 */
const GROUP_N: i32 = 512;
/** Cap on one batch's column matrix, in floats (16 MiB). */
const GROUP_COL_CAP: i32 = 4 << 20;

/** Images whose columns share one GEMM (forward, backward-data). */
function imagesPerGemm(n: i32, k: i32, p: i32, pointwise: bool): i32 {
  if (pointwise || p >= GROUP_N) return 1;
  let g = (GROUP_N + p - 1) / p;
  if (g > n) g = n;
  const cap = max(1, GROUP_COL_CAP / max(1, k * p));
  return g < cap ? g : cap;
}

/**
 * Floats of scratch that conv2d_forward, conv2d_backward_data and conv2d_backward_filter need
 * for this geometry (one size serves all three). Called by the TS wrappers before each pass.
 */
export function conv2d_scratch_floats(n: i32, c: i32, h: i32, w_: i32, oc: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32): i32 {
  const oh = outSize(h, kh, sh, ph);
  const ow = outSize(w_, kw, sw, pw);
  const k = c * kh * kw;
  const p = oh * ow;
  const g = imagesPerGemm(n, k, p, isPointwise(kh, kw, sh, sw, ph, pw));
  const col = align16(k * p * g);
  const prod = g > 1 ? align16(oc * p * g) : 0;
  // forward (OC, G*P, K), backward-filter (OC, K, P), backward-data (K, G*P, OC)
  const gemm = max(gemm_scratch_floats(oc, p * g, k), max(gemm_scratch_floats(oc, k, p), gemm_scratch_floats(k, p * g, oc)));
  const lanes = forwardLanesFloats(c, h, w_, oc, kh, kw, ph, pw);
  const implicit = max(max(lanes, forwardImplicitFloats(c, h, w_, oc, kh, kw, ph, pw)), max(filterImplicitFloats(n, c, h, w_, oc, kh, kw, ph, pw, p), dataImplicitFloats(n, c, oc, kh, kw, p)));
  return max(col + prod + align16(gemm), implicit);
}

// ---------------------------------------------------------------------------------------------
// Forward

/**
 * y (N,OC,OH,OW) = conv(x (N,C,H,W), w (OC,C,KH,KW)) + b (OC); b == 0 means no bias.
 * Overwrites y. Per batch of G images: im2col, one gemm_nn (M=OC, N=G*OH*OW, K=C*KH*KW),
 * then the product goes to NCHW with the bias added on the way.
 * Called by conv2dForward (src/core/kernels/conv2d.ts).
 */
export function conv2d_forward(y: usize, x: usize, w: usize, b: usize, scratch: usize, n: i32, c: i32, h: i32, w_: i32, oc: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32): void {
  assert(n > 0 && c > 0 && h > 0 && w_ > 0 && oc > 0 && kh > 0 && kw > 0 && sh > 0 && sw > 0 && ph >= 0 && pw >= 0);
  assert(kh <= h + 2 * ph && kw <= w_ + 2 * pw);
  assert(scratch != 0);
  const oh = outSize(h, kh, sh, ph);
  const ow = outSize(w_, kw, sw, pw);
  const k = c * kh * kw;
  const p = oh * ow;
  const direct = isPointwise(kh, kw, sh, sw, ph, pw);
  if (!direct && k >= IMPLICIT_MIN_K) {
    forwardImplicit(y, x, w, b, scratch, n, c, h, w_, oc, kh, kw, sh, sw, ph, pw, oh, ow);
    return;
  }
  if (!direct && lanesApply(k, sw, ow)) {
    forwardLanes(y, x, w, b, scratch, n, c, h, w_, oc, kh, kw, sh, ph, pw, oh, ow);
    return;
  }
  const gmax = imagesPerGemm(n, k, p, direct);
  const col = scratch;
  const prod = col + (<usize>align16(k * p * gmax) << 2);
  const prodFloats: i32 = gmax > 1 ? align16(oc * p * gmax) : 0;
  const gs = prod + (<usize>prodFloats << 2);
  const xStep = <usize>(c * h * w_) << 2;
  const yStep = <usize>(oc * p) << 2;
  const pBytes = <usize>p << 2;
  let xi = x;
  let yi = y;
  for (let i = 0; i < n; ) {
    const g = min(gmax, n - i);
    if (g == 1) {
      let src = xi;
      if (!direct) {
        im2col(col, p, xi, c, h, w_, kh, kw, sh, sw, ph, pw, oh, ow);
        src = col;
      }
      gemm_nn(yi, w, src, gs, oc, p, k, k, p, p, 1, 0);
      // while y_i is still in cache
      if (b != 0) biasAddImage(yi, b, oc, p);
    } else {
      // columns of g images side by side: col (K, g*P), then prod (OC, g*P) -> y (g, OC, P)
      const ng = g * p;
      for (let t = 0; t < g; t++) im2col(col + <usize>t * pBytes, ng, xi + <usize>t * xStep, c, h, w_, kh, kw, sh, sw, ph, pw, oh, ow);
      gemm_nn(prod, w, col, gs, oc, ng, k, k, ng, ng, 1, 0);
      let src = prod;
      for (let o = 0; o < oc; o++) {
        const bo: f32 = b != 0 ? ldf(b, o) : 0;
        let dst = yi + <usize>o * pBytes;
        for (let t = 0; t < g; t++) {
          copyBiasSpan(dst, src, p, bo);
          src += pBytes;
          dst += yStep;
        }
      }
    }
    i += g;
    xi += <usize>g * xStep;
    yi += <usize>g * yStep;
  }
}

/** Scalar twin of conv2d_forward: a direct convolution, no scratch used (the test oracle). */
export function conv2d_forward_scalar(y: usize, x: usize, w: usize, b: usize, scratch: usize, n: i32, c: i32, h: i32, w_: i32, oc: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32): void {
  assert(n > 0 && c > 0 && h > 0 && w_ > 0 && oc > 0 && kh > 0 && kw > 0 && sh > 0 && sw > 0 && ph >= 0 && pw >= 0);
  assert(kh <= h + 2 * ph && kw <= w_ + 2 * pw);
  const oh = outSize(h, kh, sh, ph);
  const ow = outSize(w_, kw, sw, pw);
  for (let i = 0; i < n; i++) {
    for (let o = 0; o < oc; o++) {
      const bo: f32 = b != 0 ? ldf(b, o) : 0;
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          let s: f32 = 0;
          for (let ci = 0; ci < c; ci++) {
            for (let ki = 0; ki < kh; ki++) {
              const iy = oy * sh - ph + ki;
              if (iy < 0 || iy >= h) continue;
              for (let kj = 0; kj < kw; kj++) {
                const ix = ox * sw - pw + kj;
                if (ix < 0 || ix >= w_) continue;
                s += ldf(x, ((i * c + ci) * h + iy) * w_ + ix) * ldf(w, ((o * c + ci) * kh + ki) * kw + kj);
              }
            }
          }
          stf(y, ((i * oc + o) * oh + oy) * ow + ox, s + bo);
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Backward-data

/**
 * dx (N,C,H,W) += conv^T(dy (N,OC,OH,OW), w (OC,C,KH,KW)). Per batch of G images: dy gathered
 * to (OC, G*OH*OW), one gemm_tn (M=C*KH*KW, N=G*OH*OW, K=OC) into the column area, then col2im
 * adds each image's columns onto its dx_i.
 * Called by conv2dBackwardData.
 */
export function conv2d_backward_data(dx: usize, dy: usize, w: usize, scratch: usize, n: i32, c: i32, h: i32, w_: i32, oc: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32): void {
  assert(n > 0 && c > 0 && h > 0 && w_ > 0 && oc > 0 && kh > 0 && kw > 0 && sh > 0 && sw > 0 && ph >= 0 && pw >= 0);
  assert(kh <= h + 2 * ph && kw <= w_ + 2 * pw);
  assert(scratch != 0);
  const oh = outSize(h, kh, sh, ph);
  const ow = outSize(w_, kw, sw, pw);
  const k = c * kh * kw;
  const p = oh * ow;
  const direct = isPointwise(kh, kw, sh, sw, ph, pw);
  if (!direct) {
    dataImplicit(dx, dy, w, scratch, n, c, h, w_, oc, kh, kw, sh, sw, ph, pw, oh, ow);
    return;
  }
  const gmax = imagesPerGemm(n, k, p, direct);
  const col = scratch;
  const dyg = col + (<usize>align16(k * p * gmax) << 2);
  const dygFloats: i32 = gmax > 1 ? align16(oc * p * gmax) : 0;
  const gs = dyg + (<usize>dygFloats << 2);
  const xStep = <usize>(c * h * w_) << 2;
  const yStep = <usize>(oc * p) << 2;
  const pBytes = <usize>p << 2;
  let dxi = dx;
  let dyi = dy;
  for (let i = 0; i < n; ) {
    const g = min(gmax, n - i);
    if (direct) {
      gemm_tn(dxi, w, dyi, gs, k, p, oc, k, p, p, 1, 1);
    } else if (g == 1) {
      gemm_tn(col, w, dyi, gs, k, p, oc, k, p, p, 1, 0);
      col2im(dxi, col, p, c, h, w_, kh, kw, sh, sw, ph, pw, oh, ow);
    } else {
      // dy of g images side by side: dyg (OC, g*P), then dcol (K, g*P), then col2im per image
      const ng = g * p;
      let dst = dyg;
      for (let o = 0; o < oc; o++) {
        let src = dyi + <usize>o * pBytes;
        for (let t = 0; t < g; t++) {
          copySpan(dst, src, p);
          dst += pBytes;
          src += yStep;
        }
      }
      gemm_tn(col, w, dyg, gs, k, ng, oc, k, ng, ng, 1, 0);
      for (let t = 0; t < g; t++) col2im(dxi + <usize>t * xStep, col + <usize>t * pBytes, ng, c, h, w_, kh, kw, sh, sw, ph, pw, oh, ow);
    }
    i += g;
    dxi += <usize>g * xStep;
    dyi += <usize>g * yStep;
  }
}

/** Scalar twin of conv2d_backward_data: direct scatter of each dy entry, no scratch used. */
export function conv2d_backward_data_scalar(dx: usize, dy: usize, w: usize, scratch: usize, n: i32, c: i32, h: i32, w_: i32, oc: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32): void {
  assert(n > 0 && c > 0 && h > 0 && w_ > 0 && oc > 0 && kh > 0 && kw > 0 && sh > 0 && sw > 0 && ph >= 0 && pw >= 0);
  assert(kh <= h + 2 * ph && kw <= w_ + 2 * pw);
  const oh = outSize(h, kh, sh, ph);
  const ow = outSize(w_, kw, sw, pw);
  for (let i = 0; i < n; i++) {
    for (let o = 0; o < oc; o++) {
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          const g = ldf(dy, ((i * oc + o) * oh + oy) * ow + ox);
          for (let ci = 0; ci < c; ci++) {
            for (let ki = 0; ki < kh; ki++) {
              const iy = oy * sh - ph + ki;
              if (iy < 0 || iy >= h) continue;
              for (let kj = 0; kj < kw; kj++) {
                const ix = ox * sw - pw + kj;
                if (ix < 0 || ix >= w_) continue;
                const j = ((i * c + ci) * h + iy) * w_ + ix;
                stf(dx, j, ldf(dx, j) + g * ldf(w, ((o * c + ci) * kh + ki) * kw + kj));
              }
            }
          }
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Backward-filter

/**
 * dw (OC,C,KH,KW) += sum over images of dy_i (OC,P) . col_i^T: per image im2col, then one
 * gemm_nt (M=OC, N=C*KH*KW, K=OH*OW) with beta = 1. Called by conv2dBackwardFilter.
 */
export function conv2d_backward_filter(dw: usize, dy: usize, x: usize, scratch: usize, n: i32, c: i32, h: i32, w_: i32, oc: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32): void {
  assert(n > 0 && c > 0 && h > 0 && w_ > 0 && oc > 0 && kh > 0 && kw > 0 && sh > 0 && sw > 0 && ph >= 0 && pw >= 0);
  assert(kh <= h + 2 * ph && kw <= w_ + 2 * pw);
  assert(scratch != 0);
  const oh = outSize(h, kh, sh, ph);
  const ow = outSize(w_, kw, sw, pw);
  const k = c * kh * kw;
  const p = oh * ow;
  const direct = isPointwise(kh, kw, sh, sw, ph, pw);
  if (!direct) {
    filterImplicit(dw, dy, x, scratch, n, c, h, w_, oc, kh, kw, sh, sw, ph, pw, oh, ow);
    return;
  }
  const col = scratch;
  const gs = scratch + (<usize>align16(k * p) << 2);
  const xStep = <usize>(c * h * w_) << 2;
  const yStep = <usize>(oc * p) << 2;
  let xi = x;
  let dyi = dy;
  for (let i = 0; i < n; i++) {
    let src = xi;
    if (!direct) {
      im2col(col, p, xi, c, h, w_, kh, kw, sh, sw, ph, pw, oh, ow);
      src = col;
    }
    gemm_nt(dw, dyi, src, gs, oc, k, p, p, p, k, 1, 1);
    xi += xStep;
    dyi += yStep;
  }
}

/** Scalar twin of conv2d_backward_filter: direct correlation of dy with x, no scratch used. */
export function conv2d_backward_filter_scalar(dw: usize, dy: usize, x: usize, scratch: usize, n: i32, c: i32, h: i32, w_: i32, oc: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32): void {
  assert(n > 0 && c > 0 && h > 0 && w_ > 0 && oc > 0 && kh > 0 && kw > 0 && sh > 0 && sw > 0 && ph >= 0 && pw >= 0);
  assert(kh <= h + 2 * ph && kw <= w_ + 2 * pw);
  const oh = outSize(h, kh, sh, ph);
  const ow = outSize(w_, kw, sw, pw);
  for (let o = 0; o < oc; o++) {
    for (let ci = 0; ci < c; ci++) {
      for (let ki = 0; ki < kh; ki++) {
        for (let kj = 0; kj < kw; kj++) {
          let s: f32 = 0;
          for (let i = 0; i < n; i++) {
            for (let oy = 0; oy < oh; oy++) {
              const iy = oy * sh - ph + ki;
              if (iy < 0 || iy >= h) continue;
              for (let ox = 0; ox < ow; ox++) {
                const ix = ox * sw - pw + kj;
                if (ix < 0 || ix >= w_) continue;
                s += ldf(dy, ((i * oc + o) * oh + oy) * ow + ox) * ldf(x, ((i * c + ci) * h + iy) * w_ + ix);
              }
            }
          }
          const j = ((o * c + ci) * kh + ki) * kw + kj;
          stf(dw, j, ldf(dw, j) + s);
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Bias pair

/**
 * y (N,OC,HW) += b (OC), broadcast over images and pixels. Overwrites nothing else; used by
 * conv2d_forward (per image) and callable alone after a bias-free forward. Called by
 * conv2dBiasForward.
 */
export function conv2d_bias_forward(y: usize, b: usize, n: i32, oc: i32, hw: i32): void {
  assert(n > 0 && oc > 0 && hw > 0);
  const step = <usize>(oc * hw) << 2;
  let yi = y;
  for (let i = 0; i < n; i++) {
    biasAddImage(yi, b, oc, hw);
    yi += step;
  }
}

/** Scalar twin of conv2d_bias_forward. */
export function conv2d_bias_forward_scalar(y: usize, b: usize, n: i32, oc: i32, hw: i32): void {
  assert(n > 0 && oc > 0 && hw > 0);
  for (let i = 0; i < n; i++) {
    for (let o = 0; o < oc; o++) {
      const bo = ldf(b, o);
      const base = (i * oc + o) * hw;
      for (let t = 0; t < hw; t++) stf(y, base + t, ldf(y, base + t) + bo);
    }
  }
}

/**
 * db (OC) += sum of dy (N,OC,HW) over images and pixels. Four-lane partial sums per channel
 * (and per image), reduced once. Called by conv2dBackwardBias.
 */
export function conv2d_backward_bias(db: usize, dy: usize, n: i32, oc: i32, hw: i32): void {
  assert(n > 0 && oc > 0 && hw > 0);
  let p = dy;
  for (let i = 0; i < n; i++) {
    for (let o = 0; o < oc; o++) {
      let a0 = f32x4.splat(0);
      let a1 = f32x4.splat(0);
      let t = 0;
      // two accumulators: the add latency, not the loads, bounds one
      for (; t + 8 <= hw; t += 8) {
        a0 = f32x4.add(a0, ldv(p, t));
        a1 = f32x4.add(a1, ldv(p, t + 4));
      }
      for (; t + 4 <= hw; t += 4) a0 = f32x4.add(a0, ldv(p, t));
      const a = f32x4.add(a0, a1);
      let s: f32 = f32x4.extract_lane(a, 0) + f32x4.extract_lane(a, 1) + (f32x4.extract_lane(a, 2) + f32x4.extract_lane(a, 3));
      for (; t < hw; t++) s += ldf(p, t);
      stf(db, o, ldf(db, o) + s);
      p += <usize>hw << 2;
    }
  }
}

/** Scalar twin of conv2d_backward_bias. */
export function conv2d_backward_bias_scalar(db: usize, dy: usize, n: i32, oc: i32, hw: i32): void {
  assert(n > 0 && oc > 0 && hw > 0);
  for (let i = 0; i < n; i++) {
    for (let o = 0; o < oc; o++) {
      let s: f32 = 0;
      const base = (i * oc + o) * hw;
      for (let t = 0; t < hw; t++) s += ldf(dy, base + t);
      stf(db, o, ldf(db, o) + s);
    }
  }
}
