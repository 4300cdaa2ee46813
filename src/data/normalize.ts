// Pixel normalisation, free of Node built-ins so browsers share it with training.

/** Mean and standard deviation of the MNIST training pixels scaled to [0, 1] (the usual torchvision values). */
export const MNIST_MEAN = 0.1307;
export const MNIST_STD = 0.3081;

/**
 * Maps u8 pixels to f32 as `(v / 255 - mean) / std` into `out` (allocated when omitted; it must
 * hold at least images.length values, the first images.length are written). A 256-entry table
 * computed in f64 makes every pixel value round exactly once.
 */
export function normalizeImages(images: Uint8Array, out?: Float32Array, mean = MNIST_MEAN, std = MNIST_STD): Float32Array {
  if (!Number.isFinite(mean)) throw new Error(`normalizeImages: mean must be a finite number, got ${mean}`);
  if (!Number.isFinite(std) || std <= 0) throw new Error(`normalizeImages: std must be a finite number > 0, got ${std}`);
  const dst = out ?? new Float32Array(images.length);
  if (dst.length < images.length) {
    throw new Error(`normalizeImages: out holds ${dst.length} values, needs ${images.length}`);
  }
  const table = new Float32Array(256);
  for (let v = 0; v < 256; v++) table[v] = (v / 255 - mean) / std;
  for (let i = 0; i < images.length; i++) dst[i] = table[images[i]];
  return dst;
}
