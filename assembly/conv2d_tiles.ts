// Implicit-GEMM register tiles for conv2d (called by conv2d.ts), after gemm_tiles.ts but with
// the splat operand read straight from an unpacked tensor through an offset table:
//   C[r, 0:NR] = sum over s < steps of  f32 at (base_r + tab[s])  *  B[s][0:NR]
// `tab` holds `steps` u32 byte offsets, `b` a packed [steps][NR] panel (NR = 8 or 4; its lanes
// are output channels). C (row stride ldc, 8 for the run tiles) is OVERWRITTEN.
//   forward:          rows = output pixels (base = the pixel's window origin in x),
//                     tab = the window offsets of the K = (ci, ki, kj) taps, B = W^T panels
//   backward-filter:  rows = taps (base = x + the tap's offset), tab = the pixels' window
//                     origins, B = dy^T panels: the depth is every pixel of a block of images
// So no column matrix is ever written: the gather is the load's address. The table costs one
// scalar load per step against 10 (12) vector multiply-adds. The register budget is
// gemm_tiles.ts's: 5x8 plain, 6x8 relaxed; the 4-wide tiles serve an output-channel remainder
// of 1..4 (LeNet's 50 = 6 x 8 + 2) at half the waste of an 8-wide one, though at ~60% of the
// peak (one splat load per multiply-add). Measured alone on L1 data (kc = 500, this machine):
// run tiles 5x8 ~100% of the plain probe, 6x8 ~98% of the relaxed one; pointer tiles 5x8 ~87%.
import { madd } from './common';

// @ts-ignore: decorator
@inline function row8(c: usize, v0: v128, v1: v128): void {
  v128.store(c, v0);
  v128.store(c, v1, 16);
}

/** Pointer tiles: `bases` holds one byte address per row (any layout, any stride). 5 rows x 8 columns. */
export function conv_tile_5x8(steps: i32, tab: usize, bases: usize, b: usize, c: usize, ldc: i32): void {
  const p0 = <usize>load<u32>(bases), p1 = <usize>load<u32>(bases, 4), p2 = <usize>load<u32>(bases, 8);
  const p3 = <usize>load<u32>(bases, 12), p4 = <usize>load<u32>(bases, 16);
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  let c30 = c00, c31 = c00, c40 = c00, c41 = c00;
  for (let s = 0; s < steps; s++) {
    const o = <usize>load<u32>(tab);
    const b0 = v128.load(b), b1 = v128.load(b, 16);
    let av = v128.load32_splat(p0 + o);
    c00 = madd(av, b0, c00); c01 = madd(av, b1, c01);
    av = v128.load32_splat(p1 + o);
    c10 = madd(av, b0, c10); c11 = madd(av, b1, c11);
    av = v128.load32_splat(p2 + o);
    c20 = madd(av, b0, c20); c21 = madd(av, b1, c21);
    av = v128.load32_splat(p3 + o);
    c30 = madd(av, b0, c30); c31 = madd(av, b1, c31);
    av = v128.load32_splat(p4 + o);
    c40 = madd(av, b0, c40); c41 = madd(av, b1, c41);
    tab += 4;
    b += 32;
  }
  const st = <usize>ldc << 2;
  row8(c, c00, c01); c += st;
  row8(c, c10, c11); c += st;
  row8(c, c20, c21); c += st;
  row8(c, c30, c31); c += st;
  row8(c, c40, c41);
}

/** 6 rows x 8 columns: the relaxed build's tile (fused madd frees the sixth row's registers). */
export function conv_tile_6x8(steps: i32, tab: usize, bases: usize, b: usize, c: usize, ldc: i32): void {
  const p0 = <usize>load<u32>(bases), p1 = <usize>load<u32>(bases, 4), p2 = <usize>load<u32>(bases, 8);
  const p3 = <usize>load<u32>(bases, 12), p4 = <usize>load<u32>(bases, 16), p5 = <usize>load<u32>(bases, 20);
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  let c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  for (let s = 0; s < steps; s++) {
    const o = <usize>load<u32>(tab);
    const b0 = v128.load(b), b1 = v128.load(b, 16);
    let av = v128.load32_splat(p0 + o);
    c00 = madd(av, b0, c00); c01 = madd(av, b1, c01);
    av = v128.load32_splat(p1 + o);
    c10 = madd(av, b0, c10); c11 = madd(av, b1, c11);
    av = v128.load32_splat(p2 + o);
    c20 = madd(av, b0, c20); c21 = madd(av, b1, c21);
    av = v128.load32_splat(p3 + o);
    c30 = madd(av, b0, c30); c31 = madd(av, b1, c31);
    av = v128.load32_splat(p4 + o);
    c40 = madd(av, b0, c40); c41 = madd(av, b1, c41);
    av = v128.load32_splat(p5 + o);
    c50 = madd(av, b0, c50); c51 = madd(av, b1, c51);
    tab += 4;
    b += 32;
  }
  const st = <usize>ldc << 2;
  row8(c, c00, c01); c += st;
  row8(c, c10, c11); c += st;
  row8(c, c20, c21); c += st;
  row8(c, c30, c31); c += st;
  row8(c, c40, c41); c += st;
  row8(c, c50, c51);
}

/** 6 rows x 4 columns (both builds; rows past the caller's count repeat a base and are dropped). */
export function conv_tile_6x4(steps: i32, tab: usize, bases: usize, b: usize, c: usize, ldc: i32): void {
  const p0 = <usize>load<u32>(bases), p1 = <usize>load<u32>(bases, 4), p2 = <usize>load<u32>(bases, 8);
  const p3 = <usize>load<u32>(bases, 12), p4 = <usize>load<u32>(bases, 16), p5 = <usize>load<u32>(bases, 20);
  let c0 = f32x4.splat(0), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
  for (let s = 0; s < steps; s++) {
    const o = <usize>load<u32>(tab);
    const b0 = v128.load(b);
    c0 = madd(v128.load32_splat(p0 + o), b0, c0);
    c1 = madd(v128.load32_splat(p1 + o), b0, c1);
    c2 = madd(v128.load32_splat(p2 + o), b0, c2);
    c3 = madd(v128.load32_splat(p3 + o), b0, c3);
    c4 = madd(v128.load32_splat(p4 + o), b0, c4);
    c5 = madd(v128.load32_splat(p5 + o), b0, c5);
    tab += 4;
    b += 16;
  }
  const st = <usize>ldc << 2;
  v128.store(c, c0); c += st;
  v128.store(c, c1); c += st;
  v128.store(c, c2); c += st;
  v128.store(c, c3); c += st;
  v128.store(c, c4); c += st;
  v128.store(c, c5);
}

// Run tiles: row r reads q + 4r with q = base + tab[s], so one address per step feeds every
// row (the pointer tiles above keep 5-6 bases live and lose ~13% to general-register spills).
// A run is up to 6 consecutive floats of x: pixels along an output row at stride 1 (forward),
// or taps along a kernel row (backward-filter). A run may break once, at row S: rows from S on
// read q + e + 4r, where e is the jump at the break (the next output row, kernel row or input
// channel). H (rows) and S (S == H: no break) are compile-time; what they rule out folds away.

// @ts-ignore: decorator
@inline function runTile8(H: i32, S: i32, steps: i32, tab: usize, base: usize, e: usize, b: usize, c: usize, ldc: i32): void {
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  let c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  const end = tab + (<usize>steps << 2);
  while (tab < end) {
    const q = base + <usize>load<u32>(tab);
    const u = q + e;
    const b0 = v128.load(b), b1 = v128.load(b, 16);
    let av = v128.load32_splat(0 < S ? q : u);
    c00 = madd(av, b0, c00); c01 = madd(av, b1, c01);
    if (H > 1) {
      av = v128.load32_splat(1 < S ? q : u, 4);
      c10 = madd(av, b0, c10); c11 = madd(av, b1, c11);
    }
    if (H > 2) {
      av = v128.load32_splat(2 < S ? q : u, 8);
      c20 = madd(av, b0, c20); c21 = madd(av, b1, c21);
    }
    if (H > 3) {
      av = v128.load32_splat(3 < S ? q : u, 12);
      c30 = madd(av, b0, c30); c31 = madd(av, b1, c31);
    }
    if (H > 4) {
      av = v128.load32_splat(4 < S ? q : u, 16);
      c40 = madd(av, b0, c40); c41 = madd(av, b1, c41);
    }
    if (H > 5) {
      av = v128.load32_splat(5 < S ? q : u, 20);
      c50 = madd(av, b0, c50); c51 = madd(av, b1, c51);
    }
    tab += 4;
    b += 32;
  }
  const st = <usize>ldc << 2;
  row8(c, c00, c01);
  if (H > 1) { c += st; row8(c, c10, c11); }
  if (H > 2) { c += st; row8(c, c20, c21); }
  if (H > 3) { c += st; row8(c, c30, c31); }
  if (H > 4) { c += st; row8(c, c40, c41); }
  if (H > 5) { c += st; row8(c, c50, c51); }
}

// @ts-ignore: decorator
@inline function runTile4(H: i32, S: i32, steps: i32, tab: usize, base: usize, e: usize, b: usize, c: usize, ldc: i32): void {
  let c0 = f32x4.splat(0), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
  const end = tab + (<usize>steps << 2);
  while (tab < end) {
    const q = base + <usize>load<u32>(tab);
    const u = q + e;
    const b0 = v128.load(b);
    c0 = madd(v128.load32_splat(0 < S ? q : u), b0, c0);
    if (H > 1) c1 = madd(v128.load32_splat(1 < S ? q : u, 4), b0, c1);
    if (H > 2) c2 = madd(v128.load32_splat(2 < S ? q : u, 8), b0, c2);
    if (H > 3) c3 = madd(v128.load32_splat(3 < S ? q : u, 12), b0, c3);
    if (H > 4) c4 = madd(v128.load32_splat(4 < S ? q : u, 16), b0, c4);
    if (H > 5) c5 = madd(v128.load32_splat(5 < S ? q : u, 20), b0, c5);
    tab += 4;
    b += 16;
  }
  const st = <usize>ldc << 2;
  v128.store(c, c0);
  if (H > 1) { c += st; v128.store(c, c1); }
  if (H > 2) { c += st; v128.store(c, c2); }
  if (H > 3) { c += st; v128.store(c, c3); }
  if (H > 4) { c += st; v128.store(c, c4); }
  if (H > 5) { c += st; v128.store(c, c5); }
}

// One instance per (rows, break, width); each writes its H x W tile at row stride 8.
function run4x8s1(n: i32, t: usize, q: usize, e: usize, b: usize, c: usize): void { runTile8(4, 1, n, t, q, e, b, c, 8); }
function run4x8s2(n: i32, t: usize, q: usize, e: usize, b: usize, c: usize): void { runTile8(4, 2, n, t, q, e, b, c, 8); }
function run4x8s3(n: i32, t: usize, q: usize, e: usize, b: usize, c: usize): void { runTile8(4, 3, n, t, q, e, b, c, 8); }
function run4x8s4(n: i32, t: usize, q: usize, e: usize, b: usize, c: usize): void { runTile8(4, 4, n, t, q, e, b, c, 8); }
function run5x8s1(n: i32, t: usize, q: usize, e: usize, b: usize, c: usize): void { runTile8(5, 1, n, t, q, e, b, c, 8); }
function run5x8s2(n: i32, t: usize, q: usize, e: usize, b: usize, c: usize): void { runTile8(5, 2, n, t, q, e, b, c, 8); }
function run5x8s3(n: i32, t: usize, q: usize, e: usize, b: usize, c: usize): void { runTile8(5, 3, n, t, q, e, b, c, 8); }
function run5x8s4(n: i32, t: usize, q: usize, e: usize, b: usize, c: usize): void { runTile8(5, 4, n, t, q, e, b, c, 8); }
function run5x8s5(n: i32, t: usize, q: usize, e: usize, b: usize, c: usize): void { runTile8(5, 5, n, t, q, e, b, c, 8); }
function run6x8s1(n: i32, t: usize, q: usize, e: usize, b: usize, c: usize): void { runTile8(6, 1, n, t, q, e, b, c, 8); }
function run6x8s2(n: i32, t: usize, q: usize, e: usize, b: usize, c: usize): void { runTile8(6, 2, n, t, q, e, b, c, 8); }
function run6x8s3(n: i32, t: usize, q: usize, e: usize, b: usize, c: usize): void { runTile8(6, 3, n, t, q, e, b, c, 8); }
function run6x8s4(n: i32, t: usize, q: usize, e: usize, b: usize, c: usize): void { runTile8(6, 4, n, t, q, e, b, c, 8); }
function run6x8s5(n: i32, t: usize, q: usize, e: usize, b: usize, c: usize): void { runTile8(6, 5, n, t, q, e, b, c, 8); }
function run6x8s6(n: i32, t: usize, q: usize, e: usize, b: usize, c: usize): void { runTile8(6, 6, n, t, q, e, b, c, 8); }
function run4x4s1(n: i32, t: usize, q: usize, e: usize, b: usize, c: usize): void { runTile4(4, 1, n, t, q, e, b, c, 8); }
function run4x4s2(n: i32, t: usize, q: usize, e: usize, b: usize, c: usize): void { runTile4(4, 2, n, t, q, e, b, c, 8); }
function run4x4s3(n: i32, t: usize, q: usize, e: usize, b: usize, c: usize): void { runTile4(4, 3, n, t, q, e, b, c, 8); }
function run4x4s4(n: i32, t: usize, q: usize, e: usize, b: usize, c: usize): void { runTile4(4, 4, n, t, q, e, b, c, 8); }
function run5x4s1(n: i32, t: usize, q: usize, e: usize, b: usize, c: usize): void { runTile4(5, 1, n, t, q, e, b, c, 8); }
function run5x4s2(n: i32, t: usize, q: usize, e: usize, b: usize, c: usize): void { runTile4(5, 2, n, t, q, e, b, c, 8); }
function run5x4s3(n: i32, t: usize, q: usize, e: usize, b: usize, c: usize): void { runTile4(5, 3, n, t, q, e, b, c, 8); }
function run5x4s4(n: i32, t: usize, q: usize, e: usize, b: usize, c: usize): void { runTile4(5, 4, n, t, q, e, b, c, 8); }
function run5x4s5(n: i32, t: usize, q: usize, e: usize, b: usize, c: usize): void { runTile4(5, 5, n, t, q, e, b, c, 8); }
function run6x4s1(n: i32, t: usize, q: usize, e: usize, b: usize, c: usize): void { runTile4(6, 1, n, t, q, e, b, c, 8); }
function run6x4s2(n: i32, t: usize, q: usize, e: usize, b: usize, c: usize): void { runTile4(6, 2, n, t, q, e, b, c, 8); }
function run6x4s3(n: i32, t: usize, q: usize, e: usize, b: usize, c: usize): void { runTile4(6, 3, n, t, q, e, b, c, 8); }
function run6x4s4(n: i32, t: usize, q: usize, e: usize, b: usize, c: usize): void { runTile4(6, 4, n, t, q, e, b, c, 8); }
function run6x4s5(n: i32, t: usize, q: usize, e: usize, b: usize, c: usize): void { runTile4(6, 5, n, t, q, e, b, c, 8); }
function run6x4s6(n: i32, t: usize, q: usize, e: usize, b: usize, c: usize): void { runTile4(6, 6, n, t, q, e, b, c, 8); }

/**
 * A run tile of H rows (4..6; 6 x 8 only in the relaxed build, it spills under mul + add) and 8
 * (wide) or 4 columns, broken at row S (S == H: unbroken), into c with row stride 8.
 */
export function conv_run_tile(wide: bool, H: i32, S: i32, steps: i32, tab: usize, base: usize, e: usize, b: usize, c: usize): void {
  if (wide) {
    if (H == 4) {
      if (S == 1) run4x8s1(steps, tab, base, e, b, c);
      else if (S == 2) run4x8s2(steps, tab, base, e, b, c);
      else if (S == 3) run4x8s3(steps, tab, base, e, b, c);
      else if (S == 4) run4x8s4(steps, tab, base, e, b, c);
      return;
    }
    if (H == 5) {
      if (S == 1) run5x8s1(steps, tab, base, e, b, c);
      else if (S == 2) run5x8s2(steps, tab, base, e, b, c);
      else if (S == 3) run5x8s3(steps, tab, base, e, b, c);
      else if (S == 4) run5x8s4(steps, tab, base, e, b, c);
      else if (S == 5) run5x8s5(steps, tab, base, e, b, c);
      return;
    }
    if (H == 6) {
      if (S == 1) run6x8s1(steps, tab, base, e, b, c);
      else if (S == 2) run6x8s2(steps, tab, base, e, b, c);
      else if (S == 3) run6x8s3(steps, tab, base, e, b, c);
      else if (S == 4) run6x8s4(steps, tab, base, e, b, c);
      else if (S == 5) run6x8s5(steps, tab, base, e, b, c);
      else if (S == 6) run6x8s6(steps, tab, base, e, b, c);
      return;
    }
  }
  if (!wide) {
    if (H == 4) {
      if (S == 1) run4x4s1(steps, tab, base, e, b, c);
      else if (S == 2) run4x4s2(steps, tab, base, e, b, c);
      else if (S == 3) run4x4s3(steps, tab, base, e, b, c);
      else if (S == 4) run4x4s4(steps, tab, base, e, b, c);
      return;
    }
    if (H == 5) {
      if (S == 1) run5x4s1(steps, tab, base, e, b, c);
      else if (S == 2) run5x4s2(steps, tab, base, e, b, c);
      else if (S == 3) run5x4s3(steps, tab, base, e, b, c);
      else if (S == 4) run5x4s4(steps, tab, base, e, b, c);
      else if (S == 5) run5x4s5(steps, tab, base, e, b, c);
      return;
    }
    if (H == 6) {
      if (S == 1) run6x4s1(steps, tab, base, e, b, c);
      else if (S == 2) run6x4s2(steps, tab, base, e, b, c);
      else if (S == 3) run6x4s3(steps, tab, base, e, b, c);
      else if (S == 4) run6x4s4(steps, tab, base, e, b, c);
      else if (S == 5) run6x4s5(steps, tab, base, e, b, c);
      else if (S == 6) run6x4s6(steps, tab, base, e, b, c);
      return;
    }
  }
  unreachable();
}

// Lane tiles: the forward of a short-depth, stride-1 conv (LeNet's conv1, K = 25). The roles
// swap: tile rows are 4 output channels, splat-loaded from a packed W panel [steps][4], and the
// 8 lanes are 8 consecutive output pixels of one output row, two vectors loaded from x itself
// at each tap's offset (tab). The tile is already in y's layout (a channel's pixels side by
// side), so it stores straight into y with the bias: no transposed store, which is what made
// the pixels-as-rows tiles lose to im2col + GEMM at this depth. Four rows, not five or six:
// TurboFan loads every splat of a step before its multiply-adds, and with 5 or 6 rows that
// leaves too few xmm registers, so two accumulators went to the stack and the tile ran at
// less than half the speed of this one (~100% of the probe on L1 data).

/**
 * One output row of a block of 4 channels: for each tile of 8 pixels starting at ox (0, 8, ...,
 * the last at ow - 8, overlapping), c[r][ox:ox+8] = bias[r] + sum over s < steps of
 * a[s][r] * src[tab[s] + 4 ox:...] (tab in bytes), rows ldc bytes apart. OVERWRITES c; reads 4
 * biases (the caller pads a short block's). The row loop lives here so that a tile's stores
 * overlap the next tile's multiply-adds (at K = 25 a tile is only 25 steps).
 */
export function conv_lane_row(ow: i32, steps: i32, tab: usize, a: usize, src: usize, bias: usize, c: usize, ldc: usize): void {
  const bv0 = v128.load32_splat(bias), bv1 = v128.load32_splat(bias, 4), bv2 = v128.load32_splat(bias, 8), bv3 = v128.load32_splat(bias, 12);
  const end = tab + (<usize>steps << 2);
  for (let ox0 = 0; ox0 < ow; ox0 += 8) {
    const ox = <usize>min(ox0, ow - 8) << 2;
    const s0 = src + ox;
    let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
    let t = tab;
    let ap = a;
    while (t < end) {
      const q = s0 + <usize>load<u32>(t);
      const b0 = v128.load(q), b1 = v128.load(q, 16);
      let av = v128.load32_splat(ap);
      c00 = madd(av, b0, c00); c01 = madd(av, b1, c01);
      av = v128.load32_splat(ap, 4);
      c10 = madd(av, b0, c10); c11 = madd(av, b1, c11);
      av = v128.load32_splat(ap, 8);
      c20 = madd(av, b0, c20); c21 = madd(av, b1, c21);
      av = v128.load32_splat(ap, 12);
      c30 = madd(av, b0, c30); c31 = madd(av, b1, c31);
      t += 4;
      ap += 16;
    }
    let d = c + ox;
    row8(d, f32x4.add(c00, bv0), f32x4.add(c01, bv0)); d += ldc;
    row8(d, f32x4.add(c10, bv1), f32x4.add(c11, bv1)); d += ldc;
    row8(d, f32x4.add(c20, bv2), f32x4.add(c21, bv2)); d += ldc;
    row8(d, f32x4.add(c30, bv3), f32x4.add(c31, bv3));
  }
}
