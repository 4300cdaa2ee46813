// An autoencoder's test inputs above their reconstructions: rows of inputs, each followed by a
// row of the network's outputs for them, pixels in [0, 1] drawn as grey (white ink on black, as
// MNIST stores digits), upscaled by nearest neighbour. The raster is plain code; canvas adds the
// title and row labels and encodes the PNG.
import { css, fillRect, font, loadCanvas, newRaster, putRaster, writePng, type Raster } from './canvas.js';

export interface ReconstructionOptions {
  /** images per row (default 10) */
  cols?: number;
  /** pixels per image pixel (default 3) */
  scale?: number;
  title?: string;
}

export interface ReconstructionPlan {
  n: number;
  side: number;
  cols: number;
  /** pairs of rows: inputs, then their reconstructions */
  pairs: number;
  scale: number;
  tile: number;
  gap: number;
  width: number;
  height: number;
}

/** Geometry of the grid block: n images of side x side in `cols` columns, each row pair separated by a wider gap. */
export function planReconstructions(n: number, side: number, opts: ReconstructionOptions = {}): ReconstructionPlan {
  const cols = Math.min(opts.cols ?? 10, n);
  const scale = opts.scale ?? 3;
  if (!Number.isInteger(n) || n < 1) throw new Error(`reconstructions: need at least one image, got ${n}`);
  if (!Number.isInteger(side) || side < 1) throw new Error(`reconstructions: side must be an integer >= 1, got ${side}`);
  if (!Number.isInteger(cols) || cols < 1 || !Number.isInteger(scale) || scale < 1 || scale > 32) throw new Error(`reconstructions: cols and scale must be integers >= 1 (scale <= 32)`);
  const pairs = Math.ceil(n / cols);
  const tile = side * scale;
  const gap = 2;
  return { n, side, cols, pairs, scale, tile, gap, width: cols * (tile + gap) + gap, height: pairs * (2 * (tile + gap) + 3 * gap) + gap };
}

/** Top-left of image i's input (which = 0) or reconstruction (which = 1) tile in the grid block. */
export function tileAt(p: ReconstructionPlan, i: number, which: 0 | 1): { x: number; y: number } {
  const row = Math.floor(i / p.cols), col = i % p.cols;
  return { x: p.gap + col * (p.tile + p.gap), y: p.gap + row * (2 * (p.tile + p.gap) + 3 * p.gap) + which * (p.tile + p.gap) };
}

const grey = (v: number): number => Math.round(255 * (v < 0 ? 0 : v > 1 ? 1 : Number.isNaN(v) ? 0 : v));

/** The grid block: inputs and reconstructions (n * side² values each, in [0, 1]; clamped). */
export function reconstructionRaster(inputs: ArrayLike<number>, outputs: ArrayLike<number>, p: ReconstructionPlan): Raster {
  const per = p.side * p.side;
  if (inputs.length < p.n * per || outputs.length < p.n * per) throw new Error(`reconstructions: ${p.n} images of ${p.side}x${p.side} need ${p.n * per} values each`);
  const r = newRaster(p.width, p.height, [255, 255, 255]);
  for (let i = 0; i < p.n; i++) {
    for (const [which, src] of [[0, inputs], [1, outputs]] as const) {
      const { x, y } = tileAt(p, i, which);
      for (let py = 0; py < p.side; py++) {
        for (let px = 0; px < p.side; px++) {
          const v = grey(src[i * per + py * p.side + px]);
          fillRect(r, x + px * p.scale, y + py * p.scale, p.scale, p.scale, [v, v, v]);
        }
      }
    }
  }
  return r;
}

/** Writes the PNG (needs node-canvas). Returns the plan and where the grid block sits. */
export async function renderReconstructions(inputs: ArrayLike<number>, outputs: ArrayLike<number>, n: number, side: number, outPath: string, opts: ReconstructionOptions = {}): Promise<ReconstructionPlan & { gridX: number; gridY: number }> {
  const p = planReconstructions(n, side, opts);
  const cv = await loadCanvas();
  const margin = 16, labelW = 96, titleH = 30;
  const width = margin + labelW + p.width + margin;
  const height = margin + titleH + p.height + margin;
  const canvas = cv.createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = css([255, 255, 255]);
  ctx.fillRect(0, 0, width, height);
  ctx.fillStyle = '#1a1a1a';
  ctx.textBaseline = 'top';
  ctx.font = font(14, true);
  ctx.fillText(opts.title ?? `Test inputs (upper row of each pair) and their reconstructions`, margin, margin);
  const gridX = margin + labelW, gridY = margin + titleH;
  putRaster(ctx, reconstructionRaster(inputs, outputs, p), gridX, gridY);
  ctx.font = font(11);
  ctx.fillStyle = '#555555';
  ctx.textBaseline = 'middle';
  for (let row = 0; row < p.pairs; row++) {
    for (const which of [0, 1] as const) {
      const { y } = tileAt(p, row * p.cols, which);
      ctx.fillText(which === 0 ? 'input' : 'reconstruction', margin, gridY + y + p.tile / 2);
    }
  }
  writePng(canvas, outPath);
  return { ...p, gridX, gridY };
}
