// A sheet of misclassified test digits: each image upscaled by nearest neighbour (as stored:
// white ink on black), captioned with its true label and the prediction. The tile raster is
// plain code; canvas adds the captions and encodes the PNG.
import { font, loadCanvas, newRaster, fillRect, putRaster, writePng, type Raster, titledCanvas } from './canvas.js';

export interface Misclassified {
  /** side*side grey values, row-major (28x28 for MNIST) */
  image: Uint8Array;
  label: number;
  pred: number;
}

export interface DigitsOptions {
  /** columns (default 10) */
  cols?: number;
  /** pixels per image pixel (default 3: a 28x28 digit becomes 84x84) */
  scale?: number;
  /** at most this many digits are drawn, the first ones (default 100) */
  max?: number;
  /** how many were misclassified in all, for the title (default items.length) */
  total?: number;
  /** class names (default the label numbers) */
  labels?: string[];
  title?: string;
}

export interface DigitsPlan {
  side: number;
  scale: number;
  cols: number;
  rows: number;
  shown: number;
  /** one tile: the image plus the caption below it */
  tileW: number;
  tileH: number;
  captionH: number;
  gap: number;
}

const CAPTION_H = 18;
const GAP = 8;

/** Checks the items (square images of one size, integer labels) and lays out the grid. Pure. */
export function planDigits(items: Misclassified[], opts: DigitsOptions = {}): DigitsPlan {
  if (!Array.isArray(items)) throw new Error('renderMisclassified: items must be an array');
  const cols = opts.cols ?? 10, scale = opts.scale ?? 3, max = opts.max ?? 100;
  for (const [k, v] of Object.entries({ cols, scale, max })) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`renderMisclassified: ${k} must be an integer >= 1, got ${v}`);
  }
  const shown = Math.min(items.length, max);
  let side = 28;
  items.slice(0, shown).forEach((it, i) => {
    if (!(it?.image instanceof Uint8Array)) throw new Error(`renderMisclassified: items[${i}].image must be a Uint8Array`);
    const s = Math.round(Math.sqrt(it.image.length));
    if (s * s !== it.image.length || s === 0) throw new Error(`renderMisclassified: items[${i}].image has ${it.image.length} pixels, not a square image`);
    if (i === 0) side = s;
    else if (s !== side) throw new Error(`renderMisclassified: items[${i}].image is ${s}x${s}, items[0] is ${side}x${side}`);
    for (const k of ['label', 'pred'] as const) {
      if (!Number.isInteger(it[k]) || it[k] < 0) throw new Error(`renderMisclassified: items[${i}].${k} must be an integer >= 0, got ${it[k]}`);
    }
  });
  const c = Math.max(1, Math.min(cols, shown));
  return {
    side, scale, cols: c, rows: Math.ceil(shown / c), shown,
    tileW: side * scale, tileH: side * scale + CAPTION_H, captionH: CAPTION_H, gap: GAP,
  };
}

/** One image upscaled by nearest neighbour, grey. */
export function digitRaster(image: Uint8Array, side: number, scale: number): Raster {
  const r = newRaster(side * scale, side * scale, [0, 0, 0]);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const v = image[y * side + x];
      fillRect(r, x * scale, y * scale, scale, scale, [v, v, v]);
    }
  }
  return r;
}

export interface DigitsInfo {
  path: string;
  width: number;
  height: number;
  /** grid origin; tile k's image is at (x + col*(tileW+gap), y + row*(tileH+gap)) */
  x: number;
  y: number;
  plan: DigitsPlan;
}

/**
 * Renders misclassified digits with "true → predicted" captions to a PNG at `outPath`. Needs
 * node-canvas. An empty list gives a sheet that says so.
 */
export async function renderMisclassified(items: Misclassified[], outPath: string, opts: DigitsOptions = {}): Promise<DigitsInfo> {
  const p = planDigits(items, opts);
  const names = (k: number) => opts.labels?.[k] ?? String(k);
  const total = opts.total ?? items.length;
  const title =
    opts.title ??
    (total === 0
      ? 'Misclassified test digits: none'
      : `Misclassified test digits: ${p.shown === total ? `all ${total}` : `first ${p.shown} of ${total}`} (caption: true → predicted)`);
  const cv = await loadCanvas();
  const measure = cv.createCanvas(1, 1).getContext('2d');
  measure.font = font(14, true);
  const x = 16, y = 16 + 30;
  const gridW = p.shown ? p.cols * p.tileW + (p.cols - 1) * p.gap : 0;
  const gridH = p.shown ? p.rows * p.tileH + (p.rows - 1) * p.gap : 0;
  const width = Math.max(x + gridW + 16, 32 + Math.ceil(measure.measureText(title).width));
  const height = y + gridH + 16;

  const { canvas, ctx } = titledCanvas(cv, width, height, title);
  ctx.textBaseline = 'middle';
  for (let k = 0; k < p.shown; k++) {
    const it = items[k];
    const tx = x + (k % p.cols) * (p.tileW + p.gap), ty = y + Math.floor(k / p.cols) * (p.tileH + p.gap);
    putRaster(ctx, digitRaster(it.image, p.side, p.scale), tx, ty);
    // "3 → 5": the true label in ink, the wrong prediction in red
    const a = names(it.label), arrow = ' → ', b = names(it.pred);
    ctx.font = font(12, true);
    const wa = ctx.measureText(a).width, wb = ctx.measureText(b).width;
    ctx.font = font(12);
    const wr = ctx.measureText(arrow).width;
    let cx = tx + (p.tileW - (wa + wr + wb)) / 2;
    const cy = ty + p.tileW + p.captionH / 2 + 1;
    ctx.textAlign = 'left';
    ctx.font = font(12, true);
    ctx.fillStyle = '#1a1a1a';
    ctx.fillText(a, cx, cy);
    cx += wa;
    ctx.font = font(12);
    ctx.fillStyle = '#777777';
    ctx.fillText(arrow, cx, cy);
    cx += wr;
    ctx.font = font(12, true);
    ctx.fillStyle = '#c62828';
    ctx.fillText(b, cx, cy);
  }
  writePng(canvas, outPath);
  return { path: outPath, width, height, x, y, plan: p };
}
