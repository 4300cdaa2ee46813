// Shape inference shared by the kernel wrappers, the op table and the layers.

/** Output length of a sliding window (floor mode, as PyTorch and Keras compute it). */
export function windowOut(size: number, kernel: number, stride: number, pad: number): number {
  return Math.floor((size + 2 * pad - kernel) / stride) + 1;
}

/** Geometry of a 2-D window op over an NCHW input. */
export interface Geom2d {
  n: number; // batch
  c: number; // input channels
  h: number;
  w: number;
  kh: number;
  kw: number;
  sh: number; // stride
  sw: number;
  ph: number; // zero padding, each side
  pw: number;
}

/** Checks a window geometry and returns its output height and width; throws a clear Error. */
export function geomOut(op: string, g: Geom2d): { oh: number; ow: number } {
  for (const k of ['n', 'c', 'h', 'w', 'kh', 'kw', 'sh', 'sw'] as const) {
    if (!Number.isInteger(g[k]) || g[k] < 1) throw new Error(`${op}: ${k} must be an integer >= 1, got ${g[k]}`);
  }
  for (const k of ['ph', 'pw'] as const) {
    if (!Number.isInteger(g[k]) || g[k] < 0) throw new Error(`${op}: ${k} must be an integer >= 0, got ${g[k]}`);
  }
  if (g.kh > g.h + 2 * g.ph || g.kw > g.w + 2 * g.pw) {
    throw new Error(
      `${op}: kernel ${g.kh}x${g.kw} is larger than the padded input ${g.h + 2 * g.ph}x${g.w + 2 * g.pw}`,
    );
  }
  return { oh: windowOut(g.h, g.kh, g.sh, g.ph), ow: windowOut(g.w, g.kw, g.sw, g.pw) };
}

/** Symmetric zero padding for Keras-style 'same' (stride 1, odd kernel) or 'valid'. */
export function padFor(mode: 'same' | 'valid' | number, kernel: number): number {
  if (typeof mode === 'number') return mode;
  if (mode === 'valid') return 0;
  if (kernel % 2 === 0) throw new Error(`padding 'same' needs an odd kernel size, got ${kernel}`);
  return (kernel - 1) / 2;
}
