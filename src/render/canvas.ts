// The one place that loads node-canvas. It is an optional dependency (a native module that
// needs cairo and pango), so it is imported lazily, inside a function, and only by the render
// modules: training, inference and checkpoints run without it. A missing module becomes one
// Error that says how to install it.
//
// The specifier goes through a variable so that TypeScript does not resolve 'canvas' at build
// time either: the project compiles where canvas is absent. The few canvas calls we make are
// typed by the structural interfaces below (the DOM lib's 2-D context matches node-canvas's).
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** The part of a node-canvas `Canvas` that the renderers use. */
export interface CanvasLike {
  readonly width: number;
  readonly height: number;
  getContext(kind: '2d'): CanvasRenderingContext2D;
  toBuffer(mime: 'image/png'): Uint8Array; // a Node Buffer, typed without @types/node
}

/** The part of the node-canvas module that the renderers use. */
export interface CanvasModule {
  createCanvas(width: number, height: number): CanvasLike;
  loadImage(src: string | Uint8Array): Promise<CanvasImageSource & { width: number; height: number }>;
}

export const CANVAS_MISSING =
  'node-canvas is not installed: run `apt-get install -y libcairo2-dev libpango1.0-dev libjpeg-dev libgif-dev librsvg2-dev` then `npm install canvas`';

let cached: Promise<CanvasModule> | undefined;

/**
 * Loads node-canvas once. Throws Error(CANVAS_MISSING) when the package is not installed, and
 * an Error carrying the loader's message plus the same hint when it is installed but its
 * native part does not load (built for another Node, system libraries missing).
 */
export function loadCanvas(): Promise<CanvasModule> {
  cached ??= loadCanvasFrom(() => {
    const name = 'canvas';
    return import(name) as Promise<unknown>;
  });
  // a failed load is not cached: installing canvas in a long-lived process then works
  cached.catch(() => {
    cached = undefined;
  });
  return cached;
}

/** `loadCanvas` with the import injected, so tests can simulate a missing module. */
export async function loadCanvasFrom(importer: () => Promise<unknown>): Promise<CanvasModule> {
  let mod: unknown;
  try {
    mod = await importer();
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    // the package itself missing, not a file inside it (canvas.node unbuilt); bundlers and test
    // runners may wrap the resolver's error, so the cause chain is searched too
    for (let c: unknown = e, depth = 0; c instanceof Error && depth < 5; c = c.cause, depth++) {
      const code = (c as NodeJS.ErrnoException).code;
      if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && /['"]canvas['"]/.test(c.message)) {
        throw new Error(CANVAS_MISSING);
      }
    }
    throw new Error(`node-canvas is installed but failed to load (${err.message.split('\n')[0]}); ` +
      'rebuild it with `npm rebuild canvas`, or reinstall: ' + CANVAS_MISSING.replace(/^node-canvas is not installed: /, ''));
  }
  // ESM import of a CommonJS module: the functions may sit on `default`
  const m = mod as Partial<CanvasModule> & { default?: Partial<CanvasModule> };
  const api = typeof m.createCanvas === 'function' ? m : m.default;
  if (!api || typeof api.createCanvas !== 'function' || typeof api.loadImage !== 'function') {
    throw new Error('node-canvas loaded but has no createCanvas/loadImage: is the installed `canvas` package node-canvas?');
  }
  return api as CanvasModule;
}

/** Whether node-canvas loads here (for optional features and tests). */
export async function hasCanvas(): Promise<boolean> {
  return loadCanvas().then(() => true, () => false);
}

/** An RGBA raster made by the pure layout code, painted onto a canvas as it is. */
export interface Raster {
  width: number;
  height: number;
  /** width*height*4 bytes, RGBA, row-major */
  data: Uint8ClampedArray;
}

/** A new opaque raster filled with one colour. */
export function newRaster(width: number, height: number, rgb: RGB): Raster {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < data.length; i += 4) {
    data[i] = rgb[0];
    data[i + 1] = rgb[1];
    data[i + 2] = rgb[2];
    data[i + 3] = 255;
  }
  return { width, height, data };
}

/** Fills the rectangle [x, x+w) x [y, y+h) of a raster (clipped to it). */
export function fillRect(r: Raster, x: number, y: number, w: number, h: number, rgb: RGB): void {
  const x0 = Math.max(0, x), y0 = Math.max(0, y);
  const x1 = Math.min(r.width, x + w), y1 = Math.min(r.height, y + h);
  for (let yy = y0; yy < y1; yy++) {
    for (let xx = x0; xx < x1; xx++) {
      const o = (yy * r.width + xx) * 4;
      r.data[o] = rgb[0];
      r.data[o + 1] = rgb[1];
      r.data[o + 2] = rgb[2];
      r.data[o + 3] = 255;
    }
  }
}

export type RGB = readonly [number, number, number];

/** `#rrggbb` for a canvas fillStyle. */
export function css(rgb: RGB): string {
  return '#' + rgb.map((v) => Math.round(v).toString(16).padStart(2, '0')).join('');
}

/** Copies a raster onto the context at (x, y), pixel for pixel (no smoothing, no scaling). */
export function putRaster(ctx: CanvasRenderingContext2D, r: Raster, x: number, y: number): void {
  const img = ctx.createImageData(r.width, r.height);
  img.data.set(r.data);
  ctx.putImageData(img, x, y);
}

/** The font every sheet uses; DejaVu Sans is what Debian-based images ship. */
export function font(px: number, bold = false): string {
  return `${bold ? 'bold ' : ''}${px}px "DejaVu Sans", "Helvetica", "Arial", sans-serif`;
}

/**
 * Encodes the canvas as PNG and writes it to `outPath`, creating the folder. Writes a
 * temporary file first and renames it, so a reader never sees half a PNG.
 */
export function writePng(canvas: CanvasLike, outPath: string): void {
  const png = canvas.toBuffer('image/png');
  mkdirSync(dirname(outPath) || '.', { recursive: true });
  const tmp = `${outPath}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, png);
    renameSync(tmp, outPath);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new Error(`cannot write ${outPath}: ${(e as Error).message}`);
  }
}

/** Reads a PNG back into RGBA pixels (tests and tools that check what was drawn). */
export async function readPng(path: string): Promise<Raster> {
  const cv = await loadCanvas();
  const img = await cv.loadImage(path);
  const c = cv.createCanvas(img.width, img.height);
  const ctx = c.getContext('2d');
  ctx.drawImage(img, 0, 0);
  const data = ctx.getImageData(0, 0, img.width, img.height).data;
  return { width: img.width, height: img.height, data: new Uint8ClampedArray(data) };
}

/** The RGB at (x, y) of a raster. */
export function pixel(r: Raster, x: number, y: number): [number, number, number] {
  if (x < 0 || y < 0 || x >= r.width || y >= r.height) {
    throw new Error(`pixel (${x}, ${y}) is outside the ${r.width}x${r.height} image`);
  }
  const o = (y * r.width + x) * 4;
  return [r.data[o], r.data[o + 1], r.data[o + 2]];
}

/** A white canvas with `title` in bold at (16, top): how the sheets and charts start. */
export function titledCanvas(cv: CanvasModule, width: number, height: number, title: string, style: { top?: number; px?: number } = {}): { canvas: CanvasLike; ctx: CanvasRenderingContext2D } {
  const canvas = cv.createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, width, height);
  ctx.fillStyle = '#1a1a1a';
  ctx.font = font(style.px ?? 14, true);
  ctx.textBaseline = 'top';
  ctx.fillText(title, 16, style.top ?? 16);
  return { canvas, ctx };
}
