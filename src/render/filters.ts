// Filter sheets: a conv layer's learned kernels as a picture.
//
// A conv weight is (out, in, kh, kw), PyTorch's layout. Each drawn tile is one kh x kw slice,
// scaled to 0..1 and coloured, then upscaled by nearest neighbour (`cell` pixels per weight) so
// a 5x5 kernel is legible, as convnetjs's `draw_activations` does (per-map min-max to 0..255).
//   grid   (in = 1, or one input channel, or the mean over inputs): tiles in `cols` columns
//   mosaic (in > 1, the default there): one row per output kernel, one column per input channel
// Tiles sit in a grid of `line`-pixel lines (outer border included), so tile (row, col) has its
// top-left corner at grid origin + (line + col*(tileW+line), line + row*(tileH+line)).
//
// Everything up to the RGBA raster is plain code (planFilterSheet, filterGridRaster, legend
// colours); only renderFilterSheet needs node-canvas, to add the text and encode the PNG.
import { css, fillRect, font, loadCanvas, newRaster, putRaster, writePng, type Raster, type RGB } from './canvas.js';
import { formatValue } from './curves.js';

export type ScaleMode = 'kernel' | 'filter' | 'layer' | 'column';
export type ColorMapName = 'grey' | 'diverging';
/** Which input channels a tile shows: all of them (mosaic), their mean, or one index. */
export type ChannelView = 'all' | 'mean' | number;

export const SCALE_MODES: readonly ScaleMode[] = ['kernel', 'filter', 'layer', 'column'];
export const COLOR_MAPS: readonly ColorMapName[] = ['grey', 'diverging'];

/** A conv weight checked to be 4-D (out, in, kh, kw), with f32 data. */
export interface ConvWeight {
  name: string;
  shape: [number, number, number, number];
  data: Float32Array;
}

export interface FilterSheetOptions {
  /** output kernels shown, the first ones (default min(20, out), as the reference sheet did) */
  count?: number;
  /** grid columns (default 5); a mosaic has one column per input channel instead */
  cols?: number;
  /** pixels per weight, the nearest-neighbour upscale (default 12 in a grid, 6 in a mosaic) */
  cell?: number;
  /** 'kernel': each tile min-max on its own (default); 'filter': one scale per output kernel
   * (all its input channels); 'layer': one scale for the whole layer; 'column': each column of
   * each tile min-max on its own (scikit-learn's MinMaxScaler fitted on the kernel matrix, as the
   * study note drew its figures) */
  scale?: ScaleMode;
  /** 'grey' (default): black = low, white = high; 'diverging': blue < 0 < red, white at 0 */
  cmap?: ColorMapName;
  /** for in > 1: 'all' (mosaic, default), 'mean' over input channels, or one channel index */
  channel?: ChannelView;
  /** grid line width in pixels (default 2) */
  line?: number;
}

/** One drawn tile: which slice it shows, where it sits, its values and the range that scaled them. */
export interface PlannedTile {
  out: number;
  /** input channel index, or 'mean' */
  in: number | 'mean';
  row: number;
  col: number;
  /** top-left corner relative to the grid origin */
  x: number;
  y: number;
  /** kh*kw values, row-major */
  values: Float32Array;
  /** values mapped to 0..1 with [lo, hi] */
  unit: Float64Array;
  lo: number;
  hi: number;
}

export interface FilterSheetPlan {
  name: string;
  shape: [number, number, number, number];
  mode: 'grid' | 'mosaic';
  channel: ChannelView;
  scale: ScaleMode;
  cmap: ColorMapName;
  /** output kernels shown */
  count: number;
  rows: number;
  cols: number;
  kh: number;
  kw: number;
  cell: number;
  line: number;
  tileW: number;
  tileH: number;
  /** size of the grid block, lines included */
  gridW: number;
  gridH: number;
  tiles: PlannedTile[];
  /** the one range of a 'layer' scale, else null */
  layerRange: [number, number] | null;
}

const fmtShape = (s: readonly number[]) => `[${s.join(', ')}]`;

/**
 * Checks that a tensor is a conv weight (4-D, (out, in, kh, kw), sizes >= 1, data length
 * matching) and returns it with f32 data. Throws an Error that names the tensor and its shape.
 */
export function asConvWeight(name: string, shape: readonly number[], data: ArrayLike<number>): ConvWeight {
  if (shape.length !== 4) {
    throw new Error(`${name} has shape ${fmtShape(shape)}: not a conv layer; a filter sheet needs a 4-D conv weight [out, in, kh, kw]`);
  }
  if (!shape.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new Error(`${name} has shape ${fmtShape(shape)}: every size of a conv weight must be >= 1`);
  }
  const n = shape[0] * shape[1] * shape[2] * shape[3];
  if (data.length !== n) throw new Error(`${name}: shape ${fmtShape(shape)} holds ${n} values, data has ${data.length}`);
  const f32 = data instanceof Float32Array ? data : Float32Array.from(data);
  return { name, shape: [shape[0], shape[1], shape[2], shape[3]], data: f32 };
}

/** A tensor as the safetensors reader returns it (only what we look at). */
export interface TensorLike {
  dtype?: string;
  shape: number[];
  data: ArrayLike<number | bigint>;
}

/** Layer names of a checkpoint: tensors named `<layer>.weight`, optimizer state (`optim.*`) left out. */
export function checkpointLayers(tensors: Map<string, TensorLike>): { layer: string; shape: number[]; conv: boolean }[] {
  const out: { layer: string; shape: number[]; conv: boolean }[] = [];
  for (const [name, t] of tensors) {
    if (!name.endsWith('.weight') || name.startsWith('optim.')) continue;
    out.push({ layer: name.slice(0, -'.weight'.length), shape: t.shape, conv: t.shape.length === 4 });
  }
  return out;
}

/**
 * Picks layer `layer` (`conv1` means tensor `conv1.weight`; a full tensor name works too) from a
 * checkpoint's tensors. Throws when the checkpoint lacks it (listing the layers it has, conv
 * layers first) or when it is not a conv weight.
 */
export function convWeightFromCheckpoint(tensors: Map<string, TensorLike>, layer: string, source: string): ConvWeight {
  const layers = checkpointLayers(tensors);
  const convs = layers.filter((l) => l.conv);
  const describe = (ls: typeof layers) => ls.map((l) => `${l.layer} ${fmtShape(l.shape)}`).join(', ');
  const has = () => {
    if (layers.length === 0) return `it has no layer weights (tensors: ${[...tensors.keys()].slice(0, 10).join(', ') || 'none'})`;
    const others = layers.filter((l) => !l.conv);
    return `conv layers: ${convs.length ? describe(convs) : 'none'}` + (others.length ? `; other layers: ${describe(others)}` : '');
  };
  const name = tensors.has(layer) ? layer : `${layer}.weight`;
  const t = tensors.get(name);
  if (!t) throw new Error(`checkpoint ${source} has no layer '${layer}' (tensor ${name}); ${has()}`);
  if (t.shape.length !== 4) {
    throw new Error(`${name} in ${source} has shape ${fmtShape(t.shape)}: not a conv layer, so it has no kernels to draw ` +
      `(a filter sheet needs a 4-D [out, in, kh, kw] weight); conv layers: ${convs.length ? convs.map((l) => l.layer).join(', ') : 'none'}`);
  }
  if (t.dtype !== undefined && t.dtype !== 'F32' && t.dtype !== 'F64') {
    throw new Error(`${name} in ${source} has dtype ${t.dtype}: a conv weight must be F32 (or F64)`);
  }
  return asConvWeight(name, t.shape, t.data as ArrayLike<number>);
}

/**
 * Like convWeightFromCheckpoint, but a dense layer's weight [out, in] is drawn too: each row as
 * an image of the input's shape (`sampleShape` [C, H, W] or [H, W], e.g. from the checkpoint's
 * data; else a square when `in` is one), as a conv weight [out, C, H, W].
 */
export function filterWeightFromCheckpoint(tensors: Map<string, TensorLike>, layer: string, source: string, sampleShape?: readonly number[]): ConvWeight {
  const name = tensors.has(layer) ? layer : `${layer}.weight`;
  const t = tensors.get(name);
  if (!t || t.shape.length !== 2) return convWeightFromCheckpoint(tensors, layer, source);
  const [nOut, nIn] = t.shape;
  const side = Math.round(Math.sqrt(nIn));
  const img = sampleShape && sampleShape.reduce((a, b) => a * b, 1) === nIn && (sampleShape.length === 3 || sampleShape.length === 2)
    ? (sampleShape.length === 3 ? [sampleShape[0], sampleShape[1], sampleShape[2]] : [1, sampleShape[0], sampleShape[1]])
    : side * side === nIn ? [1, side, side] : null;
  if (!img) return convWeightFromCheckpoint(tensors, layer, source); // rows that are no image: the conv-only refusal
  return asConvWeight(name, [nOut, img[0], img[1], img[2]], t.data as ArrayLike<number>);
}

/** The range that maps to 0..1: [min, max] for grey, [-m, m] with m = max |x| for diverging. */
export function valueRange(values: ArrayLike<number>, cmap: ColorMapName): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!(lo <= hi)) return [0, 0]; // empty, or NaN only
  if (cmap === 'diverging') {
    const m = Math.max(Math.abs(lo), Math.abs(hi));
    return [-m, m];
  }
  return [lo, hi];
}

/** x in [lo, hi] to 0..1, clamped; a flat range (lo == hi) maps everything to 0.5, NaN too. */
export function toUnit(x: number, lo: number, hi: number): number {
  if (!(hi > lo) || Number.isNaN(x)) return 0.5;
  const t = (x - lo) / (hi - lo);
  return t < 0 ? 0 : t > 1 ? 1 : t;
}

// ColorBrewer RdBu (9 classes), reversed so that negative is blue and positive red; the middle
// is near-white, so zero weights fade into the background of a diverging sheet.
const RDBU: RGB[] = [
  [33, 102, 172],
  [67, 147, 195],
  [146, 197, 222],
  [209, 229, 240],
  [247, 247, 247],
  [253, 219, 199],
  [244, 165, 130],
  [214, 96, 77],
  [178, 24, 43],
];

/** The colour of t in 0..1: grey is (v, v, v) with v = round(255 t); diverging interpolates RdBu. */
export function colorize(t: number, cmap: ColorMapName): RGB {
  if (cmap === 'grey') {
    const v = Math.round(255 * t);
    return [v, v, v];
  }
  const p = t * (RDBU.length - 1);
  const i = Math.min(RDBU.length - 2, Math.floor(p));
  const f = p - i;
  const a = RDBU[i], b = RDBU[i + 1];
  return [0, 1, 2].map((k) => Math.round(a[k] + (b[k] - a[k]) * f)) as unknown as RGB;
}

/**
 * scikit-learn's MinMaxScaler on a rows x cols matrix (row-major): each column j mapped to [0, 1]
 * by its own min and max over the rows. A constant column maps to 0, as there (its range of 0 is
 * replaced by 1).
 */
export function minMaxColumns(values: ArrayLike<number>, rows: number, cols: number): Float64Array<ArrayBuffer> {
  const out = new Float64Array(rows * cols);
  for (let j = 0; j < cols; j++) {
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < rows; i++) {
      const v = values[i * cols + j];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const range = hi - lo > 0 ? hi - lo : 1;
    for (let i = 0; i < rows; i++) out[i * cols + j] = (values[i * cols + j] - lo) / range;
  }
  return out;
}

/** Grid geometry: the top-left of tile (row, col) relative to the grid origin. */
export function tileOrigin(p: Pick<FilterSheetPlan, 'tileW' | 'tileH' | 'line'>, row: number, col: number): { x: number; y: number } {
  return { x: p.line + col * (p.tileW + p.line), y: p.line + row * (p.tileH + p.line) };
}

/** Canvas (cairo) surfaces stop at 32767 pixels a side; a sheet this big is unreadable anyway. */
const MAX_SIDE = 16384;

function positiveInt(what: string, v: number, max = Infinity): void {
  if (!Number.isInteger(v) || v < 1 || v > max) {
    throw new Error(`filter sheet: ${what} must be an integer in 1..${max === Infinity ? 'inf' : max}, got ${v}`);
  }
}

/**
 * Lays out a filter sheet: which slices are drawn (first `count` output kernels; for in > 1 all
 * input channels, one, or their mean), their scaling, and the grid geometry. Pure: no canvas.
 */
export function planFilterSheet(w: ConvWeight, opts: FilterSheetOptions = {}): FilterSheetPlan {
  const [nOut, nIn, kh, kw] = w.shape;
  const scale = opts.scale ?? 'kernel';
  const cmap = opts.cmap ?? 'grey';
  if (!SCALE_MODES.includes(scale)) throw new Error(`filter sheet: scale must be one of ${SCALE_MODES.join(', ')}, got '${scale}'`);
  if (!COLOR_MAPS.includes(cmap)) throw new Error(`filter sheet: cmap must be one of ${COLOR_MAPS.join(', ')}, got '${cmap}'`);
  let channel: ChannelView = opts.channel ?? 'all';
  if (typeof channel === 'number') {
    if (!Number.isInteger(channel) || channel < 0 || channel >= nIn) {
      throw new Error(`filter sheet: input channel ${channel} is out of range: ${w.name} has ${nIn} input channel${nIn === 1 ? '' : 's'} (0..${nIn - 1})`);
    }
  } else if (channel !== 'all' && channel !== 'mean') {
    throw new Error(`filter sheet: channel must be 'all', 'mean' or an index, got '${channel}'`);
  }
  if (nIn === 1) channel = 'all'; // one input channel: all, mean and 0 are the same picture
  const mode = channel === 'all' && nIn > 1 ? 'mosaic' : 'grid';
  const count = opts.count ?? Math.min(20, nOut);
  positiveInt('count', count, nOut);
  const cols = mode === 'mosaic' ? nIn : Math.min(opts.cols ?? 5, count);
  positiveInt('cols', opts.cols ?? 5);
  const cell = opts.cell ?? (mode === 'mosaic' ? 6 : 12);
  positiveInt('cell', cell, 256);
  const line = opts.line ?? 2;
  if (!Number.isInteger(line) || line < 0 || line > 16) throw new Error(`filter sheet: line must be an integer in 0..16, got ${line}`);
  const tileW = kw * cell, tileH = kh * cell;
  const rows = mode === 'mosaic' ? count : Math.ceil(count / cols);
  const gridW = cols * (tileW + line) + line, gridH = rows * (tileH + line) + line;
  if (gridW > MAX_SIDE || gridH > MAX_SIDE) {
    throw new Error(`filter sheet: the grid would be ${gridW}x${gridH} pixels (at most ${MAX_SIDE} a side); draw fewer kernels (count), a smaller cell, fewer columns, or one/mean input channel`);
  }
  const k2 = kh * kw;

  // the slices to draw, for all output kernels (a 'layer' scale spans the whole layer)
  const slicesOf = (o: number): { in: number | 'mean'; values: Float32Array }[] => {
    const base = o * nIn * k2;
    if (mode === 'mosaic') {
      return Array.from({ length: nIn }, (_, i) => ({ in: i, values: w.data.slice(base + i * k2, base + (i + 1) * k2) }));
    }
    if (channel === 'mean') {
      const m = new Float32Array(k2);
      for (let i = 0; i < nIn; i++) for (let j = 0; j < k2; j++) m[j] += w.data[base + i * k2 + j];
      for (let j = 0; j < k2; j++) m[j] /= nIn;
      return [{ in: 'mean', values: m }];
    }
    const c = channel === 'all' ? 0 : channel;
    return [{ in: c, values: w.data.slice(base + c * k2, base + (c + 1) * k2) }];
  };

  let layerRange: [number, number] | null = null;
  if (scale === 'layer') {
    let lo = Infinity, hi = -Infinity;
    for (let o = 0; o < nOut; o++) {
      for (const s of slicesOf(o)) {
        const [a, b] = valueRange(s.values, 'grey');
        if (a < lo) lo = a;
        if (b > hi) hi = b;
      }
    }
    layerRange = valueRange([lo, hi], cmap);
  }

  const tiles: PlannedTile[] = [];
  const geom = { tileW, tileH, line };
  for (let o = 0; o < count; o++) {
    const slices = slicesOf(o);
    let filterRange: [number, number] | null = null;
    if (scale === 'filter') {
      const all = new Float32Array(slices.length * k2);
      slices.forEach((s, i) => all.set(s.values, i * k2));
      filterRange = valueRange(all, cmap);
    }
    slices.forEach((s, i) => {
      const [lo, hi] = layerRange ?? filterRange ?? valueRange(s.values, cmap);
      const unit = scale === 'column' ? minMaxColumns(s.values, kh, kw) : new Float64Array(k2);
      if (scale !== 'column') for (let j = 0; j < k2; j++) unit[j] = toUnit(s.values[j], lo, hi);
      const row = mode === 'mosaic' ? o : Math.floor(o / cols);
      const col = mode === 'mosaic' ? i : o % cols;
      tiles.push({ out: o, in: s.in, row, col, ...tileOrigin(geom, row, col), values: s.values, unit, lo, hi });
    });
  }
  return {
    name: w.name, shape: w.shape, mode, channel, scale, cmap, count, rows, cols, kh, kw, cell, line,
    tileW, tileH, gridW, gridH, tiles, layerRange,
  };
}

/** Grid line colour: a steel blue that no grey tile has (and that stands apart from RdBu's ends). */
export function gridLineColor(cmap: ColorMapName): RGB {
  return cmap === 'grey' ? [70, 110, 160] : [90, 90, 90];
}

/** Paints the grid block (lines and upscaled tiles) into an RGBA raster. Empty cells stay line-coloured. */
export function filterGridRaster(p: FilterSheetPlan): Raster {
  const r = newRaster(p.gridW, p.gridH, gridLineColor(p.cmap));
  for (const t of p.tiles) {
    for (let ky = 0; ky < p.kh; ky++) {
      for (let kx = 0; kx < p.kw; kx++) {
        fillRect(r, t.x + kx * p.cell, t.y + ky * p.cell, p.cell, p.cell, colorize(t.unit[ky * p.kw + kx], p.cmap));
      }
    }
  }
  // cells of an unfilled last row are blanked to the background, not left as a solid block
  const filled = new Set(p.tiles.map((t) => `${t.row},${t.col}`));
  for (let row = 0; row < p.rows; row++) {
    for (let col = 0; col < p.cols; col++) {
      if (filled.has(`${row},${col}`)) continue;
      const o = tileOrigin(p, row, col);
      fillRect(r, o.x, o.y, p.tileW + p.line, p.tileH + p.line, BACKGROUND);
    }
  }
  return r;
}

/** A horizontal colour bar, low on the left, with a 1-pixel dark border. */
export function legendRaster(cmap: ColorMapName, width: number, height: number): Raster {
  const r = newRaster(width, height, [64, 64, 64]);
  for (let x = 1; x < width - 1; x++) {
    fillRect(r, x, 1, 1, height - 2, colorize((x - 1) / Math.max(1, width - 3), cmap));
  }
  return r;
}

export const BACKGROUND: RGB = [255, 255, 255];
const INK = '#1a1a1a';
const MUTED = '#555555';
const MARGIN = 16;

/** Title lines: the layer, its shape and how many kernels are drawn of how many. */
export function filterSheetTitle(p: FilterSheetPlan): [string, string] {
  const [nOut, nIn, kh, kw] = p.shape;
  const which = p.count === nOut ? `${nOut} kernel${nOut === 1 ? '' : 's'}` : `first ${p.count} of ${nOut} kernels`;
  let detail: string;
  if (nIn === 1) detail = `${which}, ${kh}×${kw}`;
  else if (p.mode === 'mosaic') detail = `${which} × ${nIn} input channels, ${kh}×${kw} (row: kernel, column: input channel)`;
  else if (p.channel === 'mean') detail = `${which}, ${kh}×${kw}, mean over ${nIn} input channels`;
  else detail = `${which}, ${kh}×${kw}, input channel ${p.channel} of ${nIn}`;
  return [`${p.name}  ${fmtShape(p.shape)}`, detail];
}

/** What the legend says about the scaling. */
export function scaleCaption(p: FilterSheetPlan): string {
  const unit = p.mode === 'mosaic' ? 'tile' : 'kernel';
  const how = p.cmap === 'grey' ? 'min–max' : '±max|w|';
  if (p.scale === 'layer') return `one scale for the whole layer (${how})`;
  if (p.scale === 'filter') return `${how} per output kernel`;
  if (p.scale === 'column') return `min–max per column of each ${unit} (MinMaxScaler)`;
  return `${how} per ${unit}`;
}

/** Where things landed in the written PNG (tests and callers that crop or annotate). */
export interface FilterSheetInfo {
  path: string;
  width: number;
  height: number;
  /** the grid block's top-left in the image; tile positions in plan.tiles are relative to it */
  gridX: number;
  gridY: number;
  plan: FilterSheetPlan;
}

/**
 * Renders a conv weight's filter sheet to a PNG at `outPath` (needs node-canvas; throws its
 * install hint when it is missing). Returns the geometry.
 */
export async function renderFilterSheet(w: ConvWeight, outPath: string, opts: FilterSheetOptions = {}): Promise<FilterSheetInfo> {
  const plan = planFilterSheet(w, opts);
  const cv = await loadCanvas();
  const [title, detail] = filterSheetTitle(plan);
  const caption = scaleCaption(plan);
  const labels = plan.mode === 'mosaic';
  const labelPx = 10;
  const measure = cv.createCanvas(1, 1).getContext('2d');
  const textW = (s: string, f: string) => {
    measure.font = f;
    return Math.ceil(measure.measureText(s).width);
  };
  // row labels (output kernel index) to the left of a mosaic, column labels (input channel) on top
  const rowLabelW = labels ? textW(String(plan.count - 1), font(labelPx)) + 6 : 0;
  const colLabelH = labels ? labelPx + 6 : 0;
  const titleH = 46;
  const gridX = MARGIN + rowLabelW;
  const gridY = MARGIN + titleH + colLabelH;
  const legendW = Math.max(120, Math.min(240, plan.gridW));
  const legendH = 10;
  const legendY = gridY + plan.gridH + 14;
  const legendLabelsY = legendY + legendH + 4;
  const captionW = textW(caption, font(11));
  const width = Math.max(
    gridX + plan.gridW + MARGIN,
    MARGIN + textW(title, font(15, true)) + MARGIN,
    MARGIN + textW(detail, font(12)) + MARGIN,
    MARGIN + legendW + 12 + captionW + MARGIN,
  );
  const height = legendLabelsY + 12 + MARGIN;

  const canvas = cv.createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = css(BACKGROUND);
  ctx.fillRect(0, 0, width, height);
  ctx.textBaseline = 'top';
  ctx.fillStyle = INK;
  ctx.font = font(15, true);
  ctx.fillText(title, MARGIN, MARGIN);
  ctx.fillStyle = MUTED;
  ctx.font = font(12);
  ctx.fillText(detail, MARGIN, MARGIN + 22);

  putRaster(ctx, filterGridRaster(plan), gridX, gridY);

  if (labels) {
    ctx.font = font(labelPx);
    ctx.fillStyle = MUTED;
    // label every column/row when they are wide enough, else every 5th
    const every = (size: number) => (size >= 2.2 * labelPx ? 1 : 5);
    ctx.textAlign = 'center';
    ctx.textBaseline = 'bottom';
    const ce = every(plan.tileW);
    for (let c = 0; c < plan.cols; c += 1) {
      if (c % ce) continue;
      ctx.fillText(String(c), gridX + tileOrigin(plan, 0, c).x + plan.tileW / 2, gridY - 3);
    }
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    const re = every(plan.tileH + 8);
    for (let r = 0; r < plan.rows; r++) {
      if (r % re) continue;
      ctx.fillText(String(r), gridX - 4, gridY + tileOrigin(plan, r, 0).y + plan.tileH / 2);
    }
    ctx.textAlign = 'left';
    ctx.textBaseline = 'top';
  }

  // legend: a colour bar with the values (or min/max words) at its ends, and the scaling
  putRaster(ctx, legendRaster(plan.cmap, legendW, legendH), MARGIN, legendY);
  ctx.font = font(10);
  ctx.fillStyle = MUTED;
  const [lo, hi] = plan.layerRange ?? [NaN, NaN];
  const numeric = plan.layerRange !== null;
  const ends =
    plan.cmap === 'grey'
      ? [numeric ? formatValue(lo) : 'min', numeric ? formatValue(hi) : 'max']
      : [numeric ? formatValue(lo) : '−max|w|', numeric ? formatValue(hi) : '+max|w|'];
  ctx.textAlign = 'left';
  ctx.fillText(ends[0], MARGIN, legendLabelsY);
  ctx.textAlign = 'right';
  ctx.fillText(ends[1], MARGIN + legendW, legendLabelsY);
  if (plan.cmap === 'diverging') {
    ctx.textAlign = 'center';
    ctx.fillText('0', MARGIN + legendW / 2, legendLabelsY);
  }
  ctx.textAlign = 'left';
  ctx.textBaseline = 'middle';
  ctx.font = font(11);
  ctx.fillText(caption, MARGIN + legendW + 12, legendY + legendH / 2);

  writePng(canvas, outPath);
  return { path: outPath, width, height, gridX, gridY, plan };
}
