// Render library: the pure layout/scaling/colour code without canvas, then PNGs written with
// node-canvas and read back pixel by pixel. Canvas tests skip only where node-canvas is absent,
// and fail instead when IRUKA_REQUIRE_CANVAS=1 (CI).
import { afterAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSafetensors, readSafetensors } from '../src/io/safetensors.js';
import {
  asConvWeight, convWeightFromCheckpoint, checkpointLayers, planFilterSheet, filterGridRaster, valueRange, toUnit,
  colorize, tileOrigin, filterSheetTitle, renderFilterSheet, gridLineColor, BACKGROUND, type ConvWeight,
} from '../src/render/filters.js';
import { niceAxis, niceStep, formatTick, formatValue, parseMetricsJsonl, planCurves, renderCurves, TRAIN_COLOR, TEST_COLOR } from '../src/render/curves.js';
import { checkConfusion, confusionStats, cellColor, renderConfusion } from '../src/render/confusion.js';
import { planDigits, digitRaster, renderMisclassified } from '../src/render/digits.js';
import { hasCanvas, loadCanvasFrom, readPng, pixel, CANVAS_MISSING, type Raster } from '../src/render/canvas.js';

const canvasOk = await hasCanvas();
const required = process.env.IRUKA_REQUIRE_CANVAS === '1';
const dir = mkdtempSync(join(tmpdir(), 'iruka-render-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Known kernels, conv1-like [3, 1, 5, 5]:
//   0: one hot pixel 0.7 at (ky=1, kx=3), zeros elsewhere
//   1: ramp 0, 1/32, ..., 24/32 in row-major order
//   2: ramp 0, 4, ..., 96 (128 times kernel 1)
// (all exact in f32, so t = x / max is the same double as i / 24)
const HOT = { ky: 1, kx: 3 };
function knownConv(): ConvWeight {
  const d = new Float32Array(3 * 25);
  d[HOT.ky * 5 + HOT.kx] = 0.7;
  for (let i = 0; i < 25; i++) {
    d[25 + i] = i / 32;
    d[50 + i] = i * 4;
  }
  return asConvWeight('conv1.weight', [3, 1, 5, 5], d);
}
/** conv2-like [2, 3, 2, 2]: value = 100*out + 10*in + position, so every slice is recognisable. */
function multiInput(): ConvWeight {
  const d = new Float32Array(2 * 3 * 4);
  for (let o = 0; o < 2; o++) for (let i = 0; i < 3; i++) for (let k = 0; k < 4; k++) d[o * 12 + i * 4 + k] = 100 * o + 10 * i + k;
  return asConvWeight('conv2.weight', [2, 3, 2, 2], d);
}
const rampGrey = (i: number) => Math.round(255 * (i / 24));

describe('filter sheet plan (no canvas)', () => {
  it('value ranges: min-max for grey, symmetric ±max|w| for diverging; flat and NaN map to 0.5', () => {
    expect(valueRange([-1, 3, 2], 'grey')).toEqual([-1, 3]);
    expect(valueRange([-1, 3, 2], 'diverging')).toEqual([-3, 3]);
    expect(toUnit(2, 0, 4)).toBe(0.5);
    expect(toUnit(-5, 0, 4)).toBe(0);
    expect(toUnit(9, 0, 4)).toBe(1);
    expect(toUnit(1, 1, 1)).toBe(0.5);
    expect(toUnit(NaN, 0, 1)).toBe(0.5);
  });

  it('colour maps: grey is (v,v,v) with v = round(255 t); diverging runs blue, white at 0.5, red', () => {
    expect(colorize(0, 'grey')).toEqual([0, 0, 0]);
    expect(colorize(1, 'grey')).toEqual([255, 255, 255]);
    expect(colorize(0.5, 'grey')).toEqual([128, 128, 128]);
    expect(colorize(0, 'diverging')).toEqual([33, 102, 172]);
    expect(colorize(0.5, 'diverging')).toEqual([247, 247, 247]);
    expect(colorize(1, 'diverging')).toEqual([178, 24, 43]);
    const [r, , b] = colorize(0.25, 'diverging');
    expect(b).toBeGreaterThan(r);
  });

  it('grid geometry: conv1 [20,1,5,5], 5 columns, 12 px per weight, 2 px lines', () => {
    const w = asConvWeight('conv1.weight', [20, 1, 5, 5], new Float32Array(500).map((_, i) => Math.sin(i)));
    const p = planFilterSheet(w);
    expect(p).toMatchObject({ mode: 'grid', count: 20, rows: 4, cols: 5, cell: 12, line: 2, tileW: 60, tileH: 60 });
    expect([p.gridW, p.gridH]).toEqual([5 * 62 + 2, 4 * 62 + 2]);
    const t7 = p.tiles[7];
    expect([t7.row, t7.col, t7.x, t7.y]).toEqual([1, 2, 2 + 2 * 62, 2 + 62]);
    expect(tileOrigin(p, 3, 4)).toEqual({ x: 2 + 4 * 62, y: 2 + 3 * 62 });
    expect(filterSheetTitle(p)).toEqual(['conv1.weight  [20, 1, 5, 5]', '20 kernels, 5×5']);
  });

  it('conv2 [50,20,5,5]: the first 20 kernels by default, as a mosaic of 20 x 20 input channels', () => {
    const w = asConvWeight('conv2.weight', [50, 20, 5, 5], new Float32Array(50 * 20 * 25).map((_, i) => Math.cos(i)));
    const p = planFilterSheet(w);
    expect(p).toMatchObject({ mode: 'mosaic', count: 20, rows: 20, cols: 20, cell: 6, tileW: 30 });
    expect(p.tiles).toHaveLength(400);
    expect(filterSheetTitle(p)[1]).toMatch(/first 20 of 50 kernels × 20 input channels/);
    expect(planFilterSheet(w, { count: 50, channel: 'mean' })).toMatchObject({ mode: 'grid', rows: 10, cols: 5 });
  });

  it('slices: mosaic tile (out, in), one input channel, and the mean over input channels', () => {
    const w = multiInput();
    const mosaic = planFilterSheet(w);
    const t = mosaic.tiles.find((x) => x.out === 1 && x.in === 2)!;
    expect([t.row, t.col]).toEqual([1, 2]);
    expect([...t.values]).toEqual([120, 121, 122, 123]);
    const one = planFilterSheet(w, { channel: 1 });
    expect(one.mode).toBe('grid');
    expect(one.tiles.map((x) => [...x.values])).toEqual([[10, 11, 12, 13], [110, 111, 112, 113]]);
    const mean = planFilterSheet(w, { channel: 'mean' });
    expect(mean.tiles.map((x) => [...x.values])).toEqual([[10, 11, 12, 13], [110, 111, 112, 113]]);
    expect(mean.tiles[0].in).toBe('mean');
    expect(() => planFilterSheet(w, { channel: 3 })).toThrow(/input channel 3 is out of range: conv2.weight has 3 input channels \(0..2\)/);
  });

  it('scaling: per kernel, per output kernel (filter) and one scale for the layer', () => {
    const k = planFilterSheet(knownConv(), { cols: 3 });
    expect(k.tiles.map((t) => [t.lo, t.hi])).toEqual([[0, Math.fround(0.7)], [0, 0.75], [0, 96]]);
    // ramps of different size look the same on their own scale
    k.tiles[1].unit.forEach((u, i) => expect(u).toBeCloseTo(k.tiles[2].unit[i], 6));
    const l = planFilterSheet(knownConv(), { scale: 'layer' });
    expect(l.layerRange).toEqual([0, 96]);
    expect(l.tiles[1].unit[24]).toBeCloseTo(0.75 / 96, 6);
    expect(l.tiles[2].unit[24]).toBe(1);
    const f = planFilterSheet(multiInput(), { scale: 'filter' });
    expect(f.tiles.filter((t) => t.out === 1).every((t) => t.lo === 100 && t.hi === 123)).toBe(true);
    const d = planFilterSheet(multiInput(), { scale: 'layer', cmap: 'diverging' });
    expect(d.layerRange).toEqual([-123, 123]);
  });

  it('raster: hot pixel and ramp land at their upscaled positions; lines and empty cells', () => {
    const p = planFilterSheet(knownConv(), { cols: 2, cell: 3, line: 1 });
    const r = filterGridRaster(p);
    expect([r.width, r.height]).toEqual([2 * 16 + 1, 2 * 16 + 1]);
    const at = (x: number, y: number) => pixel(r, x, y);
    // tile 0 (row 0, col 0) at (1, 1): the hot pixel's 3x3 block is white, the rest black
    for (let dy = 0; dy < 3; dy++) for (let dx = 0; dx < 3; dx++) expect(at(1 + HOT.kx * 3 + dx, 1 + HOT.ky * 3 + dy)).toEqual([255, 255, 255]);
    expect(at(1, 1)).toEqual([0, 0, 0]);
    expect(at(1 + 3 * 3 - 1, 1 + 3)).toEqual([0, 0, 0]);
    // tile 1 (row 0, col 1) at (17, 1): weight (ky, kx) -> round(255 * (5 ky + kx) / 24)
    for (let ky = 0; ky < 5; ky++) for (let kx = 0; kx < 5; kx++) {
      const v = rampGrey(ky * 5 + kx);
      expect(at(17 + kx * 3 + 1, 1 + ky * 3 + 2)).toEqual([v, v, v]);
    }
    expect(at(0, 5)).toEqual([...gridLineColor('grey')]);
    expect(at(16, 5)).toEqual([...gridLineColor('grey')]);
    expect(at(5, 16)).toEqual([...gridLineColor('grey')]);
    // row 1 holds one kernel: cell (1, 1) is background
    expect(at(17 + 7, 17 + 7)).toEqual([...BACKGROUND]);
  });

  it('bad input: non-conv shapes, sizes, counts, options', () => {
    expect(() => asConvWeight('fc1.weight', [500, 1250], new Float32Array(1))).toThrow(/fc1.weight has shape \[500, 1250\]: not a conv layer/);
    expect(() => asConvWeight('c', [2, 1, 3, 3], new Float32Array(17))).toThrow(/holds 18 values, data has 17/);
    expect(() => asConvWeight('c', [2, 0, 3, 3], new Float32Array(0))).toThrow(/must be >= 1/);
    expect(() => planFilterSheet(knownConv(), { count: 4 })).toThrow(/count must be an integer in 1..3, got 4/);
    expect(() => planFilterSheet(knownConv(), { cell: 0 })).toThrow(/cell must be/);
    expect(() => planFilterSheet(knownConv(), { scale: 'row' as never })).toThrow(/scale must be one of kernel, filter, layer/);
    const huge = asConvWeight('big.weight', [600, 600, 3, 3], new Float32Array(600 * 600 * 9));
    expect(() => planFilterSheet(huge, { count: 600, cell: 12 })).toThrow(/the grid would be 22802x22802 pixels \(at most 16384 a side\); draw fewer kernels/);
    expect(planFilterSheet(huge, { count: 600, channel: 'mean', cell: 12 }).gridH).toBe(120 * 38 + 2);
  });
});

describe('checkpoint layers (no canvas)', () => {
  const path = join(dir, 'ckpt.safetensors');
  const w = knownConv();
  writeSafetensors(path, {
    'conv1.weight': { shape: w.shape, data: w.data },
    'conv1.bias': { shape: [3], data: new Float32Array(3) },
    'fc1.weight': { shape: [4, 6], data: new Float32Array(24) },
    'optim.m': { shape: [10], data: new Float32Array(10) },
  });
  const { tensors } = readSafetensors(path);

  it('conv1 means conv1.weight; a full tensor name works too', () => {
    expect([...convWeightFromCheckpoint(tensors, 'conv1', path).data]).toEqual([...w.data]);
    expect(convWeightFromCheckpoint(tensors, 'conv1.weight', path).shape).toEqual([3, 1, 5, 5]);
    expect(checkpointLayers(tensors).map((l) => l.layer)).toEqual(['conv1', 'fc1']);
  });

  it('a layer the checkpoint lacks lists the layers it has', () => {
    expect(() => convWeightFromCheckpoint(tensors, 'conv2', path)).toThrow(
      /has no layer 'conv2' \(tensor conv2.weight\); conv layers: conv1 \[3, 1, 5, 5\]; other layers: fc1 \[4, 6\]/,
    );
  });

  it('a non-conv tensor is refused', () => {
    expect(() => convWeightFromCheckpoint(tensors, 'fc1', path)).toThrow(/fc1.weight .* has shape \[4, 6\]: not a conv layer.*conv layers: conv1/);
    expect(() => convWeightFromCheckpoint(tensors, 'conv1.bias', path)).toThrow(/shape \[3\]: not a conv layer/);
  });
});

describe('curves, confusion, digits: plain parts (no canvas)', () => {
  it('nice axes and tick labels', () => {
    expect(niceStep(0, 1)).toBe(0.2);
    expect(niceStep(87.5, 100)).toBe(2.5);
    expect(niceAxis(0.031, 0.52)).toMatchObject({ lo: 0, hi: 0.6, step: 0.1 });
    expect(niceAxis(1, 15, 8, 1).ticks).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16]);
    expect(formatTick(97.5, 2.5)).toBe('97.5');
    expect(formatTick(0.25, 0.25)).toBe('0.25');
    expect(formatTick(4, 2)).toBe('4');
    expect(formatValue(-0.447381)).toBe('-0.447');
    expect(formatValue(2.4e-7)).toBe('2.40e-7');
  });

  it('metrics.jsonl: skips lines without epoch, keeps the last run, names bad lines', () => {
    const text = [
      '{"run":"header"}',
      '{"epoch":1,"train_loss":0.5,"test_loss":0.3,"test_acc":0.9,"lr":0.05}',
      '{"epoch":2,"train_loss":0.3,"test_loss":0.2,"test_acc":0.95,"train_acc":0.93}',
      '{"epoch":1,"train_loss":0.4,"test_loss":0.25,"test_acc":0.92}',
      '',
    ].join('\n');
    const m = parseMetricsJsonl(text, 'm.jsonl');
    expect(m).toEqual([{ epoch: 1, train_loss: 0.4, test_loss: 0.25, test_acc: 0.92 }]);
    expect(parseMetricsJsonl(text.split('\n').slice(0, 3).join('\n'))[1].train_acc).toBe(0.93);
    expect(() => parseMetricsJsonl('{"epoch":1,"train_loss":0.5}\n', 'm.jsonl')).toThrow(/m.jsonl:1: test_loss must be a finite number, got undefined/);
    expect(() => parseMetricsJsonl('{"epoch":1}\nnot json', 'm.jsonl')).toThrow(/m.jsonl:1: train_loss/);
    expect(() => parseMetricsJsonl('{}\n{oops\n', 'm.jsonl')).toThrow(/m.jsonl:2: not JSON/);
    expect(() => parseMetricsJsonl('{"a":1}\n', 'm.jsonl')).toThrow(/no epoch records/);
  });

  it('curves plan: two plots side by side, accuracy in percent capped at 100', () => {
    const p = planCurves([
      { epoch: 1, train_loss: 0.5, train_acc: 0.9, test_loss: 0.3, test_acc: 0.95 },
      { epoch: 2, train_loss: 0.2, train_acc: 0.97, test_loss: 0.1, test_acc: 0.99 },
    ]);
    expect(p.charts.map((c) => c.title)).toEqual(['Loss', 'Accuracy']);
    expect(p.charts[1].yLabel).toBe('accuracy (%)');
    expect(p.charts[1].yAxis.hi).toBeLessThanOrEqual(100);
    expect(p.charts[0].x + p.charts[0].w).toBeLessThan(p.charts[1].x);
    expect(() => planCurves([])).toThrow(/no epochs/);
    expect(() => planCurves([{ epoch: 1, train_loss: NaN, test_loss: 0, test_acc: 0 }])).toThrow(/metrics\[0\].train_loss must be a finite number/);
  });

  it('confusion: checks, accuracy, recall, colours', () => {
    expect(checkConfusion([[1, 0], [2, 3]])).toBe(2);
    expect(() => checkConfusion([[1, 0], [2]])).toThrow(/square 2x2.*row 1 has 1 entries/);
    expect(() => checkConfusion([[1, -1], [0, 0]])).toThrow(/matrix\[0\]\[1\] must be a count/);
    expect(() => checkConfusion([[1]], ['a', 'b'])).toThrow(/2 labels for a 1x1 matrix/);
    const s = confusionStats([[8, 2], [0, 0]]);
    expect(s).toMatchObject({ total: 10, correct: 8, accuracy: 0.8 });
    expect(s.recall[0]).toBe(0.8);
    expect(s.recall[1]).toBeNaN();
    expect(cellColor(0)).toEqual([255, 255, 255]);
    expect(cellColor(1)).toEqual([8, 69, 148]);
  });

  it('digits: plan and upscaled raster', () => {
    const img = new Uint8Array(784);
    img[3 * 28 + 5] = 200;
    const p = planDigits(Array.from({ length: 23 }, () => ({ image: img, label: 1, pred: 7 })), { cols: 10 });
    expect(p).toMatchObject({ side: 28, scale: 3, cols: 10, rows: 3, shown: 23, tileW: 84 });
    const r = digitRaster(img, 28, 3);
    expect(pixel(r, 5 * 3 + 2, 3 * 3)).toEqual([200, 200, 200]);
    expect(pixel(r, 5 * 3 + 3, 3 * 3)).toEqual([0, 0, 0]);
    expect(() => planDigits([{ image: new Uint8Array(783), label: 1, pred: 2 }])).toThrow(/783 pixels, not a square image/);
    expect(() => planDigits([{ image: img, label: 1.5, pred: 2 }])).toThrow(/items\[0\].label must be an integer/);
  });
});

describe('loading node-canvas', () => {
  it('a missing package gives the install hint; a broken native build says so', async () => {
    const missing = Object.assign(new Error("Cannot find package 'canvas' imported from /app/x.js"), { code: 'ERR_MODULE_NOT_FOUND' });
    await expect(loadCanvasFrom(() => Promise.reject(missing))).rejects.toThrow(CANVAS_MISSING);
    // wrapped by a bundler or test runner
    await expect(loadCanvasFrom(() => Promise.reject(new Error('failed to load', { cause: missing })))).rejects.toThrow(CANVAS_MISSING);
    const cjs = Object.assign(new Error("Cannot find module 'canvas'\nRequire stack: ..."), { code: 'MODULE_NOT_FOUND' });
    await expect(loadCanvasFrom(() => Promise.reject(cjs))).rejects.toThrow(CANVAS_MISSING);
    const native = Object.assign(new Error("Cannot find module '../build/Release/canvas.node'"), { code: 'MODULE_NOT_FOUND' });
    await expect(loadCanvasFrom(() => Promise.reject(native))).rejects.toThrow(/installed but failed to load \(Cannot find module '..\/build\/Release\/canvas.node'\); rebuild it with `npm rebuild canvas`/);
    expect(CANVAS_MISSING).toMatch(/^node-canvas is not installed: run `apt-get install -y libcairo2-dev .*` then `npm install canvas`$/);
  });

  it('a render function without canvas fails with the install hint', async () => {
    vi.resetModules();
    vi.doMock('canvas', () => {
      throw Object.assign(new Error("Cannot find package 'canvas' imported from x"), { code: 'ERR_MODULE_NOT_FOUND' });
    });
    try {
      const fresh = await import('../src/render/filters.js');
      const out = join(dir, 'never.png');
      await expect(fresh.renderFilterSheet(knownConv(), out)).rejects.toThrow(CANVAS_MISSING);
      expect(existsSync(out)).toBe(false);
    } finally {
      vi.doUnmock('canvas');
      vi.resetModules();
    }
  });

  it.skipIf(!required)('node-canvas is installed (IRUKA_REQUIRE_CANVAS=1)', () => {
    expect(canvasOk, CANVAS_MISSING).toBe(true);
  });
});

const same = (a: number[], b: readonly number[]) => a.length === b.length && a.every((v, i) => Math.abs(v - b[i]) <= 1);
const hex = (s: string) => [1, 3, 5].map((i) => parseInt(s.slice(i, i + 2), 16));
function countColor(img: Raster, rgb: number[], x0: number, y0: number, w: number, h: number, tol = 40): number {
  let n = 0;
  for (let y = y0; y < y0 + h; y++) {
    for (let x = x0; x < x0 + w; x++) {
      const p = pixel(img, x, y);
      if (Math.abs(p[0] - rgb[0]) + Math.abs(p[1] - rgb[1]) + Math.abs(p[2] - rgb[2]) <= tol) n++;
    }
  }
  return n;
}

describe.skipIf(!canvasOk && !required)('PNGs (node-canvas)', () => {
  it('filter sheet from a checkpoint: size, grid lines, hot pixel, ramp, per-kernel scaling', async () => {
    const path = join(dir, 'known.safetensors');
    const w = knownConv();
    writeSafetensors(path, { 'conv1.weight': { shape: w.shape, data: w.data } });
    const conv = convWeightFromCheckpoint(readSafetensors(path).tensors, 'conv1', path);
    const out = join(dir, 'known.png');
    const info = await renderFilterSheet(conv, out, { cols: 2, cell: 4 });
    const img = await readPng(out);
    expect([img.width, img.height]).toEqual([info.width, info.height]);
    const { gridX: gx, gridY: gy, plan } = info;
    // 4 px per weight: 20 px tiles, 2 px lines; 2 columns, 2 rows
    expect([plan.tileW, plan.gridW, plan.gridH]).toEqual([20, 2 * 22 + 2, 2 * 22 + 2]);
    expect(gx + plan.gridW).toBeLessThanOrEqual(img.width);
    expect(gy).toBeGreaterThanOrEqual(40); // a title sits above the grid
    const tile = (k: number) => ({ x: gx + 2 + (k % 2) * 22, y: gy + 2 + Math.floor(k / 2) * 22 });
    const line = [...gridLineColor('grey')];
    expect(pixel(img, gx, gy)).toEqual(line);
    expect(pixel(img, gx + 1, gy + 10)).toEqual(line);
    expect(pixel(img, gx + 22, gy + 10)).toEqual(line); // between columns
    expect(pixel(img, gx + 10, gy + 23)).toEqual(line); // between rows
    expect(pixel(img, gx + plan.gridW - 1, gy + 10)).toEqual(line); // right border
    expect(pixel(img, gx + 10, gy + plan.gridH - 1)).toEqual(line); // bottom border
    // kernel 0: the hot pixel's 4x4 block white, everything else black
    const t0 = tile(0);
    for (let ky = 0; ky < 5; ky++) for (let kx = 0; kx < 5; kx++) {
      const v = ky === HOT.ky && kx === HOT.kx ? 255 : 0;
      expect(pixel(img, t0.x + kx * 4, t0.y + ky * 4)).toEqual([v, v, v]);
      expect(pixel(img, t0.x + kx * 4 + 3, t0.y + ky * 4 + 3)).toEqual([v, v, v]);
    }
    // kernels 1 and 2: ramps to 0.75 and to 96 both span black..white on their own scales
    for (const k of [1, 2]) {
      const t = tile(k);
      for (let i = 0; i < 25; i++) {
        const v = rampGrey(i);
        expect(pixel(img, t.x + (i % 5) * 4 + 2, t.y + Math.floor(i / 5) * 4 + 1), `kernel ${k} weight ${i}`).toEqual([v, v, v]);
      }
    }
    // the empty fourth cell is background
    const t3 = tile(3);
    expect(pixel(img, t3.x + 10, t3.y + 10)).toEqual([...BACKGROUND]);
    // title text: dark pixels above the grid
    expect(countColor(img, [26, 26, 26], 0, 0, img.width, gy - 20, 120)).toBeGreaterThan(50);
  });

  it('one scale for the layer: the small ramp stays dark', async () => {
    const out = join(dir, 'layer.png');
    const info = await renderFilterSheet(knownConv(), out, { cols: 3, cell: 4, scale: 'layer' });
    const img = await readPng(out);
    const x1 = info.gridX + 2 + 22, x2 = info.gridX + 2 + 44, y = info.gridY + 2;
    for (const i of [0, 7, 24]) {
      const small = Math.round(255 * ((i / 32) / 96));
      const big = Math.round(255 * ((i * 4) / 96));
      expect(pixel(img, x1 + (i % 5) * 4 + 1, y + Math.floor(i / 5) * 4 + 1)).toEqual([small, small, small]);
      expect(pixel(img, x2 + (i % 5) * 4 + 1, y + Math.floor(i / 5) * 4 + 1)).toEqual([big, big, big]);
    }
    expect(pixel(img, x1 + 4 * 4 + 1, y + 4 * 4 + 1)).toEqual([2, 2, 2]); // 0.75 of 96: nearly black
  });

  it('diverging colours: zero is near-white, the extremes are blue and red', async () => {
    const d = new Float32Array(4);
    d.set([-2, 0, 1, 2]);
    const out = join(dir, 'div.png');
    const info = await renderFilterSheet(asConvWeight('c.weight', [1, 1, 2, 2], d), out, { cell: 5, cmap: 'diverging' });
    const img = await readPng(out);
    const x = info.gridX + 2, y = info.gridY + 2;
    expect(pixel(img, x + 2, y + 2)).toEqual([33, 102, 172]);
    expect(pixel(img, x + 7, y + 2)).toEqual([247, 247, 247]);
    expect(pixel(img, x + 2, y + 7)).toEqual([...colorize(0.75, 'diverging')]);
    expect(pixel(img, x + 7, y + 7)).toEqual([178, 24, 43]);
  });

  it('mosaic of output x input kernels, and the mean over input channels', async () => {
    const out = join(dir, 'mosaic.png');
    const info = await renderFilterSheet(multiInput(), out, { cell: 3 });
    const img = await readPng(out);
    expect(info.plan).toMatchObject({ mode: 'mosaic', rows: 2, cols: 3 });
    expect([img.width, img.height]).toEqual([info.width, info.height]);
    // tile (out 1, in 2) at row 1, col 2: values 120..123, on its own scale 0, 85, 170, 255
    const x = info.gridX + 2 + 2 * 8, y = info.gridY + 2 + 8;
    expect([pixel(img, x, y), pixel(img, x + 3, y), pixel(img, x, y + 3), pixel(img, x + 5, y + 5)]).toEqual([
      [0, 0, 0], [85, 85, 85], [170, 170, 170], [255, 255, 255],
    ]);
    const meanOut = join(dir, 'mean.png');
    const mean = await renderFilterSheet(multiInput(), meanOut, { cell: 3, channel: 'mean', scale: 'layer' });
    const m = await readPng(meanOut);
    expect(mean.plan).toMatchObject({ mode: 'grid', rows: 1, cols: 2 });
    // means are 10..13 and 110..113 on one scale [10, 113]
    expect(pixel(m, mean.gridX + 2, mean.gridY + 2)).toEqual([0, 0, 0]);
    expect(pixel(m, mean.gridX + 2 + 8 + 5, mean.gridY + 2 + 5)).toEqual([255, 255, 255]);
  });

  it('curves: expected size, both series drawn inside the plot areas', async () => {
    const metrics = [1, 2, 3, 4].map((e) => ({ epoch: e, train_loss: 0.6 / e, train_acc: 1 - 0.1 / e, test_loss: 0.4 / e, test_acc: 0.99 - 0.05 / e, lr: 0.1 }));
    const out = join(dir, 'curves.png');
    const info = await renderCurves(metrics, out);
    const img = await readPng(out);
    expect([img.width, img.height]).toEqual([info.width, info.height]);
    expect([info.width, info.height]).toEqual([2 * (62 + 380 + 18) + 24, 64 + 260 + 52]);
    for (const p of info.plots) {
      // inside the frame: both colours present, and plenty of non-background pixels
      const inner = [p.x + 2, p.y + 2, p.w - 4, p.h - 4] as const;
      expect(countColor(img, hex(TRAIN_COLOR), ...inner), `${p.title} train`).toBeGreaterThan(100);
      expect(countColor(img, hex(TEST_COLOR), ...inner), `${p.title} test`).toBeGreaterThan(100);
      expect(countColor(img, [255, 255, 255], ...inner, 0)).toBeLessThan((p.w - 4) * (p.h - 4));
      // the frame is drawn, and the margin left of it carries tick labels
      expect(same(pixel(img, p.x, p.y + p.h / 2), [51, 51, 51])).toBe(true);
      expect(countColor(img, [51, 51, 51], p.x - 45, p.y, 40, p.h, 150)).toBeGreaterThan(20);
    }
    // no series colour outside the plot areas (apart from the legend swatches, which are inside)
    const left = info.plots[0];
    expect(countColor(img, hex(TRAIN_COLOR), 0, left.y + left.h + 2, img.width, img.height - left.y - left.h - 2)).toBe(0);
  });

  it('confusion matrix: size and cell colours', async () => {
    const m = [[50, 0, 0], [5, 45, 0], [0, 10, 40]];
    const out = join(dir, 'conf.png');
    const info = await renderConfusion(m, out, ['a', 'b', 'c'], { cell: 40 });
    const img = await readPng(out);
    expect([img.width, img.height]).toEqual([info.width, info.height]);
    const at = (i: number, j: number) => pixel(img, info.x + j * 40 + 4, info.y + i * 40 + 4);
    expect(at(0, 0)).toEqual([...cellColor(1)]);
    expect(at(0, 1)).toEqual([255, 255, 255]);
    expect(at(1, 0)).toEqual([...cellColor(0.1)]);
    expect(at(2, 2)).toEqual([...cellColor(0.8)]);
  });

  it('misclassified digits: pixels of the upscaled digits and a caption under each', async () => {
    const img = new Uint8Array(784);
    for (let y = 4; y < 24; y++) img[y * 28 + 14] = 255;
    const items = [0, 1, 2].map((k) => ({ image: img, label: k, pred: k + 1 }));
    const out = join(dir, 'wrong.png');
    const info = await renderMisclassified(items, out, { cols: 2, total: 40 });
    const png = await readPng(out);
    expect([png.width, png.height]).toEqual([info.width, info.height]);
    expect(info.plan).toMatchObject({ cols: 2, rows: 2, tileW: 84 });
    const { tileW, tileH, gap } = info.plan;
    for (let k = 0; k < 3; k++) {
      const x = info.x + (k % 2) * (tileW + gap), y = info.y + Math.floor(k / 2) * (tileH + gap);
      expect(pixel(png, x + 14 * 3 + 1, y + 10 * 3)).toEqual([255, 255, 255]);
      expect(pixel(png, x + 3, y + 3)).toEqual([0, 0, 0]);
      // caption: red prediction text below the image
      expect(countColor(png, [198, 40, 40], x, y + tileW, tileW, tileH - tileW, 90)).toBeGreaterThan(3);
    }
    const none = await renderMisclassified([], join(dir, 'none.png'));
    expect(none.height).toBeGreaterThan(30);
  });
});
