// Confusion matrix of a test set: matrix[true][pred] counts as a grid of cells, rows the true
// class, columns the prediction, each cell showing its count. A cell's colour is its share of
// the row (of the true class), through a square root so that a few errors out of a thousand
// still show as a light tint; the diagonal is dark. Layout and colours are plain code.
import { css, font, loadCanvas, writePng, type RGB, titledCanvas } from './canvas.js';

/** Checks a square matrix of non-negative integer counts; returns its size. */
export function checkConfusion(matrix: number[][], labels?: string[]): number {
  if (!Array.isArray(matrix) || matrix.length === 0) throw new Error('renderConfusion: matrix must be a non-empty array of rows');
  const n = matrix.length;
  matrix.forEach((row, i) => {
    if (!Array.isArray(row) || row.length !== n) {
      throw new Error(`renderConfusion: matrix must be square ${n}x${n} ([true][pred]); row ${i} has ${Array.isArray(row) ? row.length : 'no'} entries`);
    }
    row.forEach((v, j) => {
      if (!Number.isInteger(v) || v < 0) throw new Error(`renderConfusion: matrix[${i}][${j}] must be a count (integer >= 0), got ${v}`);
    });
  });
  if (labels !== undefined && labels.length !== n) throw new Error(`renderConfusion: ${labels.length} labels for a ${n}x${n} matrix`);
  return n;
}

/** Accuracy (trace / total) and per-class recall (diagonal / row sum; NaN for an empty row). */
export function confusionStats(matrix: number[][]): { total: number; correct: number; accuracy: number; recall: number[] } {
  let total = 0, correct = 0;
  const recall = matrix.map((row, i) => {
    const s = row.reduce((a, b) => a + b, 0);
    total += s;
    correct += row[i];
    return s ? row[i] / s : NaN;
  });
  return { total, correct, accuracy: total ? correct / total : NaN, recall };
}

const LIGHT: RGB = [255, 255, 255];
const DARK: RGB = [8, 69, 148];

/** A cell's colour from its share of the row, white (0) to dark blue (1) through sqrt. */
export function cellColor(share: number): RGB {
  const t = Math.sqrt(Math.min(1, Math.max(0, share)));
  return [0, 1, 2].map((k) => Math.round(LIGHT[k] + (DARK[k] - LIGHT[k]) * t)) as unknown as RGB;
}

export interface ConfusionOptions {
  /** pixels per cell (default 44) */
  cell?: number;
  title?: string;
}

export interface ConfusionInfo {
  path: string;
  width: number;
  height: number;
  /** the matrix block's top-left; cell (i, j) spans [x + j*cell, y + i*cell] */
  x: number;
  y: number;
  cell: number;
}

/**
 * Renders `matrix` ([true][pred] counts) to a PNG at `outPath`, with class labels (default
 * 0..n-1), axis titles, the overall accuracy and per-class recall in a right-hand column.
 * Needs node-canvas.
 */
export async function renderConfusion(matrix: number[][], outPath: string, labels?: string[], opts: ConfusionOptions = {}): Promise<ConfusionInfo> {
  const n = checkConfusion(matrix, labels);
  const names = labels ?? matrix.map((_, i) => String(i));
  const cell = opts.cell ?? 44;
  const stats = confusionStats(matrix);
  const cv = await loadCanvas();
  const measure = cv.createCanvas(1, 1).getContext('2d');
  measure.font = font(12);
  const labelW = Math.max(...names.map((s) => measure.measureText(s).width));
  const x = 16 + 18 + Math.ceil(labelW) + 8; // "true" axis title, labels
  const y = 16 + 24 + 18 + 20; // title, "predicted", labels
  const recallW = 56;
  const width = x + n * cell + 10 + recallW + 16;
  const height = y + n * cell + 16;
  const title = opts.title ?? `Confusion matrix: ${stats.correct} of ${stats.total} correct (${(100 * stats.accuracy).toFixed(2)}%)`;
  measure.font = font(14, true);
  const W = Math.max(width, 32 + Math.ceil(measure.measureText(title).width));

  const { canvas, ctx } = titledCanvas(cv, W, height, title);

  for (let i = 0; i < n; i++) {
    const rowSum = matrix[i].reduce((a, b) => a + b, 0);
    for (let j = 0; j < n; j++) {
      const v = matrix[i][j];
      const share = rowSum ? v / rowSum : 0;
      const rgb = cellColor(share);
      ctx.fillStyle = css(rgb);
      ctx.fillRect(x + j * cell, y + i * cell, cell, cell);
      if (v === 0) continue;
      // dark text on light cells, white on dark ones
      const lum = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2];
      ctx.fillStyle = lum < 140 ? '#ffffff' : i === j ? '#1a1a1a' : '#b3261e';
      ctx.font = font(v >= 10000 ? 9 : v >= 1000 ? 10 : 11, i === j);
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      ctx.fillText(String(v), x + j * cell + cell / 2, y + i * cell + cell / 2);
    }
  }
  // thin separators and a frame
  ctx.strokeStyle = '#d0d0d0';
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (let k = 1; k < n; k++) {
    ctx.moveTo(x + k * cell + 0.5, y);
    ctx.lineTo(x + k * cell + 0.5, y + n * cell);
    ctx.moveTo(x, y + k * cell + 0.5);
    ctx.lineTo(x + n * cell, y + k * cell + 0.5);
  }
  ctx.stroke();
  ctx.strokeStyle = '#333333';
  ctx.strokeRect(x + 0.5, y + 0.5, n * cell - 1, n * cell - 1);

  // class labels and axis titles
  ctx.fillStyle = '#333333';
  ctx.font = font(12);
  ctx.textAlign = 'center';
  ctx.textBaseline = 'bottom';
  for (let j = 0; j < n; j++) ctx.fillText(names[j], x + j * cell + cell / 2, y - 4);
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (let i = 0; i < n; i++) ctx.fillText(names[i], x - 6, y + i * cell + cell / 2);
  ctx.font = font(12, true);
  ctx.textAlign = 'center';
  ctx.textBaseline = 'bottom';
  ctx.fillText('predicted', x + (n * cell) / 2, y - 22);
  ctx.save();
  ctx.translate(16, y + (n * cell) / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textBaseline = 'top';
  ctx.fillText('true', 0, 0);
  ctx.restore();

  // recall per true class
  const rx = x + n * cell + 10;
  ctx.textAlign = 'left';
  ctx.textBaseline = 'bottom';
  ctx.font = font(11, true);
  ctx.fillText('recall', rx, y - 4);
  ctx.font = font(11);
  ctx.textBaseline = 'middle';
  stats.recall.forEach((r, i) => ctx.fillText(Number.isNaN(r) ? '–' : `${(100 * r).toFixed(1)}%`, rx, y + i * cell + cell / 2));

  writePng(canvas, outPath);
  return { path: outPath, width: W, height, x, y, cell };
}
