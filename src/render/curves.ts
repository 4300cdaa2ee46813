// Training curves: loss and accuracy per epoch, train and test, as one PNG of two charts.
//
// Input is what the trainer appends to metrics.jsonl, one JSON object per epoch:
//   { "epoch": 1, "train_loss": 0.21, "train_acc": 0.94, "test_loss": 0.07, "test_acc": 0.978, ... }
// (extra keys are ignored; train_acc may be missing). Accuracies in 0..1 are drawn as percent.
// The plan (axis ranges, ticks, points in pixels) is plain code; canvas only draws it.
import { font, loadCanvas, writePng, titledCanvas } from './canvas.js';
import { plotSeries, legendEntry } from './plot.js';

export interface EpochMetrics {
  epoch: number;
  train_loss: number;
  train_acc?: number;
  test_loss: number;
  test_acc: number;
}

/**
 * Parses metrics.jsonl text. Lines without an `epoch` (a run header, per-step records) are
 * skipped; an epoch line missing train_loss, test_loss or test_acc, or not JSON, is an error
 * naming the line. When the epochs restart (several runs appended), the last run is kept.
 */
export function parseMetricsJsonl(text: string, source = 'metrics'): EpochMetrics[] {
  let runs: EpochMetrics[][] = [[]];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line) return;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch (e) {
      throw new Error(`${source}:${i + 1}: not JSON (${(e as Error).message})`);
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw new Error(`${source}:${i + 1}: expected a JSON object per line`);
    const o = obj as Record<string, unknown>;
    if (o.epoch === undefined) return;
    const need = (k: string, optional = false): number | undefined => {
      const v = o[k];
      if (v === undefined && optional) return undefined;
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new Error(`${source}:${i + 1}: ${k} must be a finite number, got ${JSON.stringify(v)}`);
      }
      return v;
    };
    const m: EpochMetrics = {
      epoch: need('epoch')!,
      train_loss: need('train_loss')!,
      test_loss: need('test_loss')!,
      test_acc: need('test_acc')!,
    };
    const ta = need('train_acc', true);
    if (ta !== undefined) m.train_acc = ta;
    const run = runs[runs.length - 1];
    if (run.length && m.epoch <= run[run.length - 1].epoch) runs.push([m]);
    else run.push(m);
  });
  runs = runs.filter((r) => r.length);
  if (!runs.length) throw new Error(`${source}: no epoch records (lines with "epoch", "train_loss", "test_loss", "test_acc")`);
  return runs[runs.length - 1];
}

/** A step of 1, 2, 2.5 or 5 times a power of ten giving about `target` intervals over [lo, hi]. */
export function niceStep(lo: number, hi: number, target = 5): number {
  const span = hi - lo;
  if (!(span > 0) || !Number.isFinite(span)) return 1;
  const raw = span / target;
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

/** Axis range widened to whole steps, and its tick values. */
export function niceAxis(lo: number, hi: number, target = 5, minStep = 0): { lo: number; hi: number; step: number; ticks: number[] } {
  if (!(hi > lo)) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const step = Math.max(niceStep(lo, hi, target), minStep);
  // k*step, rounded so that 6*0.1 is 0.6 and labels and tests see clean values
  const at = (k: number) => Number((k * step).toPrecision(12)) || 0;
  const ka = Math.floor(lo / step + 1e-9), kb = Math.ceil(hi / step - 1e-9);
  const ticks: number[] = [];
  for (let k = ka; k <= kb; k++) ticks.push(at(k));
  return { lo: at(ka), hi: at(kb), step, ticks };
}

/** A tick label with as many decimals as the step needs (0.25 -> 2, 0.5 -> 1, 5 -> 0). */
export function formatTick(v: number, step: number): string {
  let d = 0;
  while (d < 8 && Math.abs(step * 10 ** d - Math.round(step * 10 ** d)) > 1e-6 * Math.max(1, step * 10 ** d)) d++;
  return v.toFixed(d);
}

/** A value shown alone (legend ends): three significant digits, no exponent for ordinary sizes. */
export function formatValue(v: number): string {
  if (v === 0 || !Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 1e-3 && a < 1e5) return String(Number(v.toPrecision(3)));
  return v.toExponential(2);
}

export interface Series {
  label: string;
  color: string;
  /** [epoch, value] */
  points: [number, number][];
}

export interface ChartPlan {
  title: string;
  yLabel: string;
  /** plot area in image pixels */
  x: number;
  y: number;
  w: number;
  h: number;
  xAxis: { lo: number; hi: number; step: number; ticks: number[] };
  yAxis: { lo: number; hi: number; step: number; ticks: number[] };
  series: Series[];
  /** where the legend box sits: away from where the curves usually run */
  legend: 'top' | 'bottom';
  /** maps data to image pixels */
  px(ex: number): number;
  py(v: number): number;
}

export interface CurvesPlan {
  width: number;
  height: number;
  title: string;
  charts: ChartPlan[];
}

export const TRAIN_COLOR = '#1f77b4';
export const TEST_COLOR = '#e8710a';

export interface CurvesOptions {
  /** one chart's plot area (default 380 x 260 pixels) */
  plotWidth?: number;
  plotHeight?: number;
  title?: string;
}

const M = { left: 62, right: 18, top: 64, bottom: 52, gap: 24 };

/** Lays out the loss and accuracy charts side by side. Pure. */
export function planCurves(metrics: EpochMetrics[], opts: CurvesOptions = {}): CurvesPlan {
  if (!Array.isArray(metrics) || metrics.length === 0) throw new Error('renderCurves: no epochs to plot (metrics is empty)');
  for (const [i, m] of metrics.entries()) {
    for (const k of ['epoch', 'train_loss', 'test_loss', 'test_acc'] as const) {
      if (typeof m[k] !== 'number' || !Number.isFinite(m[k])) throw new Error(`renderCurves: metrics[${i}].${k} must be a finite number, got ${JSON.stringify(m[k])}`);
    }
  }
  const ms = [...metrics].sort((a, b) => a.epoch - b.epoch);
  const pw = opts.plotWidth ?? 380, ph = opts.plotHeight ?? 260;
  const accs = ms.flatMap((m) => [m.test_acc, ...(m.train_acc !== undefined ? [m.train_acc] : [])]);
  const percent = accs.every((a) => a >= 0 && a <= 1);
  const pct = (a: number) => (percent ? 100 * a : a);
  const e0 = ms[0].epoch, e1 = ms[ms.length - 1].epoch;
  const xAxis = e1 > e0 ? niceAxis(e0, e1, Math.min(8, e1 - e0), 1) : { lo: e0 - 1, hi: e0 + 1, step: 1, ticks: [e0 - 1, e0, e0 + 1] };
  // keep the end markers off the frame: a data point on the axis end gets 3% room
  const room = 0.03 * (xAxis.hi - xAxis.lo);
  if (e0 - xAxis.lo < room) xAxis.lo = e0 - room;
  if (xAxis.hi - e1 < room) xAxis.hi = e1 + room;
  // a little headroom, so a curve never runs along the frame
  const axisFor = (vals: number[], cap?: number) => {
    const min = Math.min(...vals), max = Math.max(...vals);
    const pad = (max - min) * 0.05;
    const a = niceAxis(min - pad, max + pad, 5);
    // losses and accuracies are never negative, and accuracy never passes its cap (100 %):
    // the padding must not push the axis past those
    if (min >= 0 && a.lo < 0) {
      a.lo = 0;
      a.ticks = a.ticks.filter((t) => t >= -1e-9);
    }
    if (cap !== undefined && a.hi > cap && max <= cap) {
      a.hi = cap;
      a.ticks = a.ticks.filter((t) => t <= cap + 1e-9);
    }
    return a;
  };
  const chart = (i: number, title: string, yLabel: string, series: Series[], legend: 'top' | 'bottom', cap?: number): ChartPlan => {
    const x = M.left + i * (pw + M.right + M.gap + M.left), y = M.top;
    const yAxis = axisFor(series.flatMap((s) => s.points.map((p) => p[1])), cap);
    return {
      title, yLabel, x, y, w: pw, h: ph, xAxis, yAxis, series, legend,
      px: (ex) => x + ((ex - xAxis.lo) / (xAxis.hi - xAxis.lo)) * pw,
      py: (v) => y + ph - ((v - yAxis.lo) / (yAxis.hi - yAxis.lo)) * ph,
    };
  };
  const lossSeries: Series[] = [
    { label: 'train', color: TRAIN_COLOR, points: ms.map((m) => [m.epoch, m.train_loss]) },
    { label: 'test', color: TEST_COLOR, points: ms.map((m) => [m.epoch, m.test_loss]) },
  ];
  const accSeries: Series[] = [];
  const withTrainAcc = ms.filter((m) => m.train_acc !== undefined);
  if (withTrainAcc.length) accSeries.push({ label: 'train', color: TRAIN_COLOR, points: withTrainAcc.map((m) => [m.epoch, pct(m.train_acc!)]) });
  accSeries.push({ label: 'test', color: TEST_COLOR, points: ms.map((m) => [m.epoch, pct(m.test_acc)]) });
  const charts = [
    chart(0, 'Loss', 'cross-entropy loss', lossSeries, 'top'),
    chart(1, 'Accuracy', percent ? 'accuracy (%)' : 'accuracy', accSeries, 'bottom', percent ? 100 : undefined),
  ];
  const last = ms[ms.length - 1];
  const title = opts.title ?? `Training: ${ms.length} epoch${ms.length === 1 ? '' : 's'}, final test accuracy ${percent ? (100 * last.test_acc).toFixed(2) + '%' : formatValue(last.test_acc)}, test loss ${formatValue(last.test_loss)}`;
  return { width: 2 * (M.left + pw + M.right) + M.gap, height: M.top + ph + M.bottom, title, charts };
}

/** Where the plot areas landed (tests and callers that check the picture). */
export interface CurvesInfo {
  path: string;
  width: number;
  height: number;
  plots: { title: string; x: number; y: number; w: number; h: number }[];
}

/**
 * Renders loss and accuracy curves per epoch (train and test) to a PNG at `outPath`. Needs
 * node-canvas (throws its install hint when missing).
 */
export async function renderCurves(metrics: EpochMetrics[], outPath: string, opts: CurvesOptions = {}): Promise<CurvesInfo> {
  const plan = planCurves(metrics, opts);
  const cv = await loadCanvas();
  const { canvas, ctx } = titledCanvas(cv, plan.width, plan.height, plan.title, { top: 14, px: 15 });
  for (const c of plan.charts) drawChart(ctx, c);
  writePng(canvas, outPath);
  return { path: outPath, width: plan.width, height: plan.height, plots: plan.charts.map(({ title, x, y, w, h }) => ({ title, x, y, w, h })) };
}

function drawChart(ctx: CanvasRenderingContext2D, c: ChartPlan): void {
  const { x, y, w, h } = c;
  // light grid at the ticks, then the frame
  ctx.strokeStyle = '#e6e6e6';
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (const t of c.yAxis.ticks) {
    const py = Math.round(c.py(t)) + 0.5;
    ctx.moveTo(x, py);
    ctx.lineTo(x + w, py);
  }
  for (const t of c.xAxis.ticks) {
    const px = Math.round(c.px(t)) + 0.5;
    ctx.moveTo(px, y);
    ctx.lineTo(px, y + h);
  }
  ctx.stroke();
  ctx.strokeStyle = '#333333';
  ctx.strokeRect(x + 0.5, y + 0.5, w - 1, h - 1);

  // ticks and tick labels
  ctx.fillStyle = '#333333';
  ctx.font = font(11);
  ctx.beginPath();
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (const t of c.yAxis.ticks) {
    const py = Math.round(c.py(t)) + 0.5;
    ctx.moveTo(x - 5, py);
    ctx.lineTo(x, py);
    ctx.fillText(formatTick(t, c.yAxis.step), x - 8, py);
  }
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  for (const t of c.xAxis.ticks) {
    const px = Math.round(c.px(t)) + 0.5;
    ctx.moveTo(px, y + h);
    ctx.lineTo(px, y + h + 5);
    ctx.fillText(formatTick(t, c.xAxis.step), px, y + h + 8);
  }
  ctx.stroke();

  // axis labels and chart title
  ctx.font = font(12);
  ctx.fillText('epoch', x + w / 2, y + h + 26);
  ctx.save();
  ctx.translate(x - 48, y + h / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textBaseline = 'bottom';
  ctx.fillText(c.yLabel, 0, 6);
  ctx.restore();
  ctx.font = font(13, true);
  ctx.textBaseline = 'bottom';
  ctx.fillText(c.title, x + w / 2, y - 8);

  // the series, clipped to the plot area
  plotSeries(ctx, { x, y, w, h }, c.series, c.px, c.py, 3);

  // legend in the right corner where the curves usually are not (loss falls, accuracy rises)
  ctx.font = font(11);
  ctx.textAlign = 'left';
  ctx.textBaseline = 'middle';
  const lw = 70, lh = 8 + 16 * c.series.length;
  const lx = x + w - lw - 8, ly = c.legend === 'top' ? y + 8 : y + h - lh - 8;
  ctx.fillStyle = 'rgba(255,255,255,0.85)';
  ctx.fillRect(lx, ly, lw, lh);
  ctx.strokeStyle = '#cccccc';
  ctx.lineWidth = 1;
  ctx.strokeRect(lx + 0.5, ly + 0.5, lw - 1, lh - 1);
  c.series.forEach((s, i) => {
    legendEntry(ctx, lx + 8, ly + 12 + 16 * i, s.color, s.label, 6);
  });
}
