// Fully connected layer, PyTorch layout, built on the GEMM family (gemm.ts).
//   x is (M, IN), weight w is (OUT, IN), bias b is (OUT), y is (M, OUT)     [M = batch rows]
//   forward:          y  = x w^T + b          (OVERWRITES y; b == 0 means no bias)  gemm_nt
//   backward_data:    dx += dy w              (ACCUMULATES)                         gemm_nn
//   backward_weight:  dw += dy^T x            (ACCUMULATES; OVERWRITES with accumulate 0) gemm_tn
//   backward_bias:    db += column sums of dy (ACCUMULATES)
// Scratch: linear_scratch_floats(m, in_f, out_f) floats, enough for any of the three GEMMs.
// Packed weights: the forward and backward-data GEMMs pack w on every call; a caller that runs
// several calls with the same w (the chunks of one step) packs it once with linear_pack_weight
// and calls the *_packed kernels, which give the same bits.
import {
  gemm_nn, gemm_nt, gemm_tn, gemm_nn_scalar, gemm_nt_scalar, gemm_tn_scalar, gemm_scratch_floats,
  gemm_packed_b_floats, gemm_pack_b, gemm_pack_b_scalar, gemm_prepacked, gemm_prepacked_scalar,
} from './gemm';

/** Floats of scratch linear_forward / linear_backward_data / linear_backward_weight need. */
export function linear_scratch_floats(m: i32, in_f: i32, out_f: i32): i32 {
  return max(
    gemm_scratch_floats(m, out_f, in_f),
    max(gemm_scratch_floats(m, in_f, out_f), gemm_scratch_floats(out_f, in_f, m)),
  );
}

// Every row of y gets the bias, so the GEMM can then accumulate onto it (beta = 1).
// @ts-ignore: decorator
@inline function fillBias(y: usize, b: usize, m: i32, out_f: i32, scalar: bool): void {
  for (let i = 0; i < m; i++) {
    const row = y + ((<usize>i * <usize>out_f) << 2);
    let j = 0;
    if (!scalar) {
      for (; j + 4 <= out_f; j += 4) v128.store(row + (<usize>j << 2), v128.load(b + (<usize>j << 2)));
    }
    for (; j < out_f; j++) store<f32>(row + (<usize>j << 2), load<f32>(b + (<usize>j << 2)));
  }
}

/**
 * y = x w^T + b: x (m, in_f), w (out_f, in_f), b (out_f) or 0 for none, y (m, out_f), overwritten.
 * Called by the Linear layer's forward (src/core/kernels/linear.ts).
 */
export function linear_forward(y: usize, x: usize, w: usize, b: usize, scratch: usize, m: i32, in_f: i32, out_f: i32): void {
  assert(m > 0 && in_f > 0 && out_f > 0);
  if (b != 0) fillBias(y, b, m, out_f, false);
  gemm_nt(y, x, w, scratch, m, out_f, in_f, in_f, in_f, out_f, 1, b != 0 ? 1 : 0);
}

/** Scalar twin of linear_forward. */
export function linear_forward_scalar(y: usize, x: usize, w: usize, b: usize, scratch: usize, m: i32, in_f: i32, out_f: i32): void {
  assert(m > 0 && in_f > 0 && out_f > 0);
  if (b != 0) fillBias(y, b, m, out_f, true);
  gemm_nt_scalar(y, x, w, scratch, m, out_f, in_f, in_f, in_f, out_f, 1, b != 0 ? 1 : 0);
}

/** Which GEMM a packed weight is for: the forward's w^T or backward-data's w. */
const FOR_FORWARD: i32 = 0;

/** Floats linear_pack_weight writes: `which` 0 for the forward (w^T), 1 for backward-data (w). */
export function linear_packed_weight_floats(in_f: i32, out_f: i32, which: i32): i32 {
  return which == FOR_FORWARD ? gemm_packed_b_floats(out_f, in_f) : gemm_packed_b_floats(in_f, out_f);
}

/** Packs w (out_f, in_f) for linear_forward_packed (which 0) or linear_backward_data_packed (which 1). */
export function linear_pack_weight(wp: usize, w: usize, in_f: i32, out_f: i32, which: i32): void {
  assert(in_f > 0 && out_f > 0);
  if (which == FOR_FORWARD) gemm_pack_b(wp, w, out_f, in_f, in_f, 1);
  else gemm_pack_b(wp, w, in_f, out_f, in_f, 0);
}

/** Scalar twin of linear_pack_weight (the same layout). */
export function linear_pack_weight_scalar(wp: usize, w: usize, in_f: i32, out_f: i32, which: i32): void {
  assert(in_f > 0 && out_f > 0);
  if (which == FOR_FORWARD) gemm_pack_b_scalar(wp, w, out_f, in_f, in_f, 1);
  else gemm_pack_b_scalar(wp, w, in_f, out_f, in_f, 0);
}

/** linear_forward with w packed by linear_pack_weight(wp, w, in_f, out_f, 0): the same bits. */
export function linear_forward_packed(y: usize, x: usize, wp: usize, b: usize, scratch: usize, m: i32, in_f: i32, out_f: i32): void {
  assert(m > 0 && in_f > 0 && out_f > 0);
  if (b != 0) fillBias(y, b, m, out_f, false);
  gemm_prepacked(y, x, wp, scratch, m, out_f, in_f, in_f, out_f, 1, b != 0 ? 1 : 0);
}

/** Scalar twin of linear_forward_packed. */
export function linear_forward_packed_scalar(y: usize, x: usize, wp: usize, b: usize, scratch: usize, m: i32, in_f: i32, out_f: i32): void {
  assert(m > 0 && in_f > 0 && out_f > 0);
  if (b != 0) fillBias(y, b, m, out_f, true);
  gemm_prepacked_scalar(y, x, wp, scratch, m, out_f, in_f, in_f, out_f, 1, b != 0 ? 1 : 0);
}

/** linear_backward_data with w packed by linear_pack_weight(wp, w, in_f, out_f, 1): the same bits. */
export function linear_backward_data_packed(dx: usize, dy: usize, wp: usize, scratch: usize, m: i32, in_f: i32, out_f: i32): void {
  assert(m > 0 && in_f > 0 && out_f > 0);
  gemm_prepacked(dx, dy, wp, scratch, m, in_f, out_f, out_f, in_f, 1, 1);
}

/** Scalar twin of linear_backward_data_packed. */
export function linear_backward_data_packed_scalar(dx: usize, dy: usize, wp: usize, scratch: usize, m: i32, in_f: i32, out_f: i32): void {
  assert(m > 0 && in_f > 0 && out_f > 0);
  gemm_prepacked_scalar(dx, dy, wp, scratch, m, in_f, out_f, out_f, in_f, 1, 1);
}

/** dx += dy w: dy (m, out_f), w (out_f, in_f), dx (m, in_f). Linear backward to the input. */
export function linear_backward_data(dx: usize, dy: usize, w: usize, scratch: usize, m: i32, in_f: i32, out_f: i32): void {
  assert(m > 0 && in_f > 0 && out_f > 0);
  gemm_nn(dx, dy, w, scratch, m, in_f, out_f, out_f, in_f, in_f, 1, 1);
}

/** Scalar twin of linear_backward_data. */
export function linear_backward_data_scalar(dx: usize, dy: usize, w: usize, scratch: usize, m: i32, in_f: i32, out_f: i32): void {
  assert(m > 0 && in_f > 0 && out_f > 0);
  gemm_nn_scalar(dx, dy, w, scratch, m, in_f, out_f, out_f, in_f, in_f, 1, 1);
}

/**
 * dw += dy^T x: dy (m, out_f), x (m, in_f), dw (out_f, in_f). Linear backward to the weight.
 * accumulate 0 overwrites dw (never reading it): the first gradient written into a buffer that
 * holds garbage, which saves zeroing the largest gradient and reading it back.
 */
export function linear_backward_weight(dw: usize, dy: usize, x: usize, scratch: usize, m: i32, in_f: i32, out_f: i32, accumulate: i32): void {
  assert(m > 0 && in_f > 0 && out_f > 0);
  gemm_tn(dw, dy, x, scratch, out_f, in_f, m, out_f, in_f, in_f, 1, accumulate != 0 ? 1 : 0);
}

/** Scalar twin of linear_backward_weight. */
export function linear_backward_weight_scalar(dw: usize, dy: usize, x: usize, scratch: usize, m: i32, in_f: i32, out_f: i32, accumulate: i32): void {
  assert(m > 0 && in_f > 0 && out_f > 0);
  gemm_tn_scalar(dw, dy, x, scratch, out_f, in_f, m, out_f, in_f, in_f, 1, accumulate != 0 ? 1 : 0);
}

/**
 * db += sum over rows of dy: dy (m, out_f), db (out_f). Linear backward to the bias.
 * Four columns per vector, rows summed in order (same order as the scalar twin).
 */
export function linear_backward_bias(db: usize, dy: usize, m: i32, out_f: i32): void {
  assert(m > 0 && out_f > 0);
  const rowBytes = <usize>out_f << 2;
  let j = 0;
  for (; j + 4 <= out_f; j += 4) {
    let p = dy + (<usize>j << 2);
    let s = v128.load(p);
    for (let i = 1; i < m; i++) {
      p += rowBytes;
      s = f32x4.add(s, v128.load(p));
    }
    const d = db + (<usize>j << 2);
    v128.store(d, f32x4.add(v128.load(d), s));
  }
  for (; j < out_f; j++) {
    let p = dy + (<usize>j << 2);
    let s = load<f32>(p);
    for (let i = 1; i < m; i++) {
      p += rowBytes;
      s += load<f32>(p);
    }
    const d = db + (<usize>j << 2);
    store<f32>(d, load<f32>(d) + s);
  }
}

/** Scalar twin of linear_backward_bias. */
export function linear_backward_bias_scalar(db: usize, dy: usize, m: i32, out_f: i32): void {
  assert(m > 0 && out_f > 0);
  const rowBytes = <usize>out_f << 2;
  for (let j = 0; j < out_f; j++) {
    let p = dy + (<usize>j << 2);
    let s = load<f32>(p);
    for (let i = 1; i < m; i++) {
      p += rowBytes;
      s += load<f32>(p);
    }
    const d = db + (<usize>j << 2);
    store<f32>(d, load<f32>(d) + s);
  }
}
