// Turns a drawing into an MNIST-style input, the way the MNIST digits themselves were made:
// the ink's bounding box is scaled (aspect ratio kept) to fit a 20x20 box, and the result is
// placed in a 28x28 field so that its centre of mass sits at the centre (LeCun, Cortes and
// Burges describe this on the MNIST page). Pure JavaScript over a grey-level array, so the page
// gets the same result in every browser (canvas resampling differs between engines) and the
// Node test can check it without a browser.
import { normalizeImages } from '../../dist/src/data/normalize.js';

/** MNIST's side length and the box the digit's longer side is scaled to. */
export const SIDE = 28;
const BOX = 20;
// MNIST digits have their centre of mass near pixel (14, 14), i.e. 14.5 in continuous coordinates
const CENTRE = 14.5;

/**
 * `grey` holds `width*height` ink levels, row-major (0 = background, 255 = full ink), e.g. the red
 * channel of a canvas drawn white on black. Returns 28x28 u8 pixels, or null when nothing is
 * drawn. `threshold`: levels at or below it do not count as ink for the bounding box.
 */
export function toMnist(grey, width, height, threshold = 32) {
  let x0 = width, y0 = height, x1 = -1, y1 = -1;
  let mass = 0, mx = 0, my = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = grey[y * width + x];
      if (v === 0) continue;
      mass += v;
      mx += v * (x + 0.5);
      my += v * (y + 0.5);
      if (v > threshold) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  if (x1 < 0) return null;
  const scale = BOX / Math.max(x1 - x0 + 1, y1 - y0 + 1);
  // the centre of mass scales with the image, so it can be taken in source coordinates
  const cx = mx / mass;
  const cy = my / mass;
  // each output pixel averages k x k point samples of the source: an area average when
  // shrinking (a stroke 20 px wide becomes 2 px of grey, not a dotted line), and plain
  // nearest-neighbour when enlarging a tiny drawing
  const k = Math.max(4, Math.ceil(1 / scale));
  const out = new Uint8Array(SIDE * SIDE);
  for (let ty = 0; ty < SIDE; ty++) {
    for (let tx = 0; tx < SIDE; tx++) {
      let sum = 0;
      for (let j = 0; j < k; j++) {
        const sy = Math.floor((ty + (j + 0.5) / k - CENTRE) / scale + cy);
        if (sy < 0 || sy >= height) continue;
        for (let i = 0; i < k; i++) {
          const sx = Math.floor((tx + (i + 0.5) / k - CENTRE) / scale + cx);
          if (sx >= 0 && sx < width) sum += grey[sy * width + sx];
        }
      }
      out[ty * SIDE + tx] = Math.min(255, Math.round(sum / (k * k)));
    }
  }
  return out;
}

/** u8 pixels → the network's input, (v/255 - mean)/std: the library's normalizeImages(). */
export function normalize(pixels, out = new Float32Array(pixels.length)) {
  return normalizeImages(pixels, out);
}

/** Pearson correlation of two equally long arrays (the self-test's round-trip measure). */
export function correlation(a, b) {
  const n = a.length;
  let ma = 0, mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i] - ma;
    const db = b[i] - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return sab / Math.sqrt(saa * sbb || 1);
}
