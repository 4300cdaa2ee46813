// A plain line chart (several labelled series over one x axis, linear or log10 y) for the
// experiments' results. Layout is plain code (planLines); canvas draws and encodes the PNG.
import { loadCanvas, font, writePng, titledCanvas } from './canvas.js';
import { niceAxis, formatTick } from './curves.js';
import { plotSeries, legendEntry } from './plot.js';

export interface LineSeries {
  label: string;
  points: [number, number][];
}

export interface LinesOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  /** plot log10(y) (every y must be > 0) */
  logY?: boolean;
  width?: number;
  height?: number;
}

export const PALETTE = ['#1f77b4', '#e8710a', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];

export interface LinesPlan {
  width: number;
  height: number;
  plot: { x: number; y: number; w: number; h: number };
  xAxis: ReturnType<typeof niceAxis>;
  yAxis: ReturnType<typeof niceAxis>;
  px(v: number): number;
  py(v: number): number;
}

/** Axes and plot area; y in log10 units when logY. Throws on empty or non-finite data. */
export function planLines(series: LineSeries[], opts: LinesOptions): LinesPlan {
  const pts = series.flatMap((s) => s.points);
  if (pts.length === 0) throw new Error('line chart: no points');
  const ty = (v: number) => (opts.logY ? Math.log10(v) : v);
  for (const [x, y] of pts) {
    if (!Number.isFinite(x) || !Number.isFinite(ty(y))) throw new Error(`line chart: point (${x}, ${y}) is not plottable${opts.logY ? ' on a log axis' : ''}`);
  }
  const xs = pts.map((p) => p[0]), ys = pts.map((p) => ty(p[1]));
  const span = (lo: number, hi: number) => (hi > lo ? [lo, hi] : [lo - 1, hi + 1]);
  const [x0, x1] = span(Math.min(...xs), Math.max(...xs));
  const [y0, y1] = span(Math.min(...ys), Math.max(...ys));
  const xAxis = niceAxis(x0, x1, 6);
  const pad = (y1 - y0) * 0.05;
  const yAxis = niceAxis(y0 - pad, y1 + pad, 5, opts.logY ? 1 : 0);
  // values that are never negative (losses, accuracies) keep the axis at 0, not below
  if (!opts.logY && y0 >= 0 && yAxis.lo < 0) {
    yAxis.lo = 0;
    yAxis.ticks = yAxis.ticks.filter((t) => t >= -1e-9);
  }
  const width = opts.width ?? 720, height = opts.height ?? 420;
  const plot = { x: 72, y: 48, w: width - 72 - 180, h: height - 48 - 56 };
  return {
    width, height, plot, xAxis, yAxis,
    px: (v) => plot.x + ((v - xAxis.lo) / (xAxis.hi - xAxis.lo)) * plot.w,
    py: (v) => plot.y + plot.h - ((ty(v) - yAxis.lo) / (yAxis.hi - yAxis.lo)) * plot.h,
  };
}

/** Writes the chart to `outPath` (needs node-canvas). */
export async function renderLines(series: LineSeries[], outPath: string, opts: LinesOptions): Promise<LinesPlan> {
  const p = planLines(series, opts);
  const cv = await loadCanvas();
  const { canvas, ctx } = titledCanvas(cv, p.width, p.height, opts.title, { top: 14 });
  const { x, y, w, h } = p.plot;
  ctx.strokeStyle = '#e6e6e6';
  ctx.lineWidth = 1;
  ctx.beginPath();
  const yToPx = (t: number) => y + h - ((t - p.yAxis.lo) / (p.yAxis.hi - p.yAxis.lo)) * h;
  for (const t of p.yAxis.ticks) {
    ctx.moveTo(x, Math.round(yToPx(t)) + 0.5);
    ctx.lineTo(x + w, Math.round(yToPx(t)) + 0.5);
  }
  ctx.stroke();
  ctx.strokeStyle = '#333333';
  ctx.strokeRect(x + 0.5, y + 0.5, w - 1, h - 1);
  ctx.fillStyle = '#333333';
  ctx.font = font(11);
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (const t of p.yAxis.ticks) ctx.fillText(opts.logY ? `1e${Math.round(t)}` : formatTick(t, p.yAxis.step), x - 6, yToPx(t));
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  for (const t of p.xAxis.ticks) ctx.fillText(formatTick(t, p.xAxis.step), p.px(t), y + h + 6);
  ctx.font = font(12);
  ctx.fillText(opts.xLabel, x + w / 2, y + h + 26);
  ctx.save();
  ctx.translate(18, y + h / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.fillText(opts.yLabel, 0, 0);
  ctx.restore();
  plotSeries(ctx, { x, y, w, h }, series.map((s, i) => ({ color: PALETTE[i % PALETTE.length], points: s.points })), p.px, p.py, 2.5);
  ctx.font = font(11);
  ctx.textAlign = 'left';
  ctx.textBaseline = 'middle';
  series.forEach((s, i) => {
    legendEntry(ctx, x + w + 12, y + 10 + 18 * i, PALETTE[i % PALETTE.length], s.label, 6);
  });
  writePng(canvas, outPath);
  return p;
}
