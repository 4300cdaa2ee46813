// Drawing shared by the line charts (training curves, experiment charts): series as polylines
// with a dot per point, clipped to the plot area, and legend entries (a short stroke + label).
export interface PlotRect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface PlotSeries {
  color: string;
  points: Array<[number, number]>;
}

/** Draws every series clipped to `rect`, mapping data to pixels with px/py. */
export function plotSeries(ctx: CanvasRenderingContext2D, rect: PlotRect, series: PlotSeries[], px: (v: number) => number, py: (v: number) => number, dotRadius: number): void {
  ctx.save();
  ctx.beginPath();
  ctx.rect(rect.x, rect.y, rect.w, rect.h);
  ctx.clip();
  for (const s of series) {
    ctx.strokeStyle = s.color;
    ctx.fillStyle = s.color;
    ctx.lineWidth = 2;
    ctx.beginPath();
    s.points.forEach(([a, b], i) => (i ? ctx.lineTo(px(a), py(b)) : ctx.moveTo(px(a), py(b))));
    ctx.stroke();
    for (const [a, b] of s.points) {
      ctx.beginPath();
      ctx.arc(px(a), py(b), dotRadius, 0, 2 * Math.PI);
      ctx.fill();
    }
  }
  ctx.restore();
}

/** One legend entry at (x, y): a 20-pixel stroke in `color`, then the label `gap` pixels after it. */
export function legendEntry(ctx: CanvasRenderingContext2D, x: number, y: number, color: string, label: string, gap: number): void {
  ctx.strokeStyle = color;
  ctx.lineWidth = 2;
  ctx.beginPath();
  ctx.moveTo(x, y);
  ctx.lineTo(x + 20, y);
  ctx.stroke();
  ctx.fillStyle = '#333333';
  ctx.fillText(label, x + 20 + gap, y);
}
