// Seeded minibatch order. Each epoch's order is a pure function of (seed, epoch), so a resumed
// run recomputes epoch e's permutation directly, without replaying epochs 0..e-1, and gets the
// same bits as an uninterrupted run. The algorithm is fixed here so other implementations can
// reproduce it:
//   1. Split the seed (a safe integer) into 32-bit words lo = seed mod 2^32, hi = floor(seed / 2^32) mod 2^32.
//   2. state = fmix32(fmix32(fmix32(lo + 0x9e3779b9) ^ hi) ^ (epoch + 0x632be5ab)), all mod 2^32,
//      where fmix32 is MurmurHash3's 32-bit finalizer.
//   3. The generator is splitmix32: state += 0x9e3779b9; output fmix32(state).
//   4. Fisher-Yates from the end: for i = n-1 down to 1, draw j uniform in 0..i by rejection
//      (redraw while r >= 2^32 - (2^32 mod (i+1)), then j = r mod (i+1)), swap p[i] and p[j].
//      Rejection keeps the draw exactly uniform; it changes nothing for MNIST-sized n in practice.

const GOLDEN = 0x9e3779b9;
const TWO32 = 4294967296;

/** MurmurHash3's fmix32 finalizer: a bijection on u32 with good avalanche. */
function fmix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** A splitmix32 stream seeded from (seed, epoch); returns u32 values. */
function stream(seed: number, epoch: number): () => number {
  const lo = seed >>> 0;
  const hi = Math.floor(seed / TWO32) >>> 0;
  let state = fmix32(fmix32(fmix32((lo + GOLDEN) >>> 0) ^ hi) ^ ((epoch + 0x632be5ab) >>> 0));
  return () => {
    state = (state + GOLDEN) >>> 0;
    return fmix32(state);
  };
}

function checkArgs(op: string, n: number, seed: number, epoch: number): void {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`${op}: n must be an integer in 0..2^32-1, got ${n}`);
  if (!Number.isSafeInteger(seed)) throw new Error(`${op}: seed must be a safe integer, got ${seed}`);
  if (!Number.isInteger(epoch) || epoch < 0 || epoch > 0xffffffff) throw new Error(`${op}: epoch must be an integer in 0..2^32-1, got ${epoch}`);
}

/**
 * The order of examples 0..n-1 in epoch `epoch` of a run seeded with `seed`: a uniformly random
 * permutation, identical for identical arguments on every machine (algorithm in the file header).
 */
export function permutation(n: number, seed: number, epoch: number): Uint32Array {
  checkArgs('permutation', n, seed, epoch);
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  const next = stream(seed, epoch);
  for (let i = n - 1; i > 0; i--) {
    const m = i + 1;
    const limit = TWO32 - (TWO32 % m);
    let r = next();
    while (r >= limit) r = next();
    const j = r % m;
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

/** How many batches {@link batches} yields for these arguments. */
export function batchCount(n: number, batchSize: number, dropLast = false): number {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batches: batchSize must be an integer >= 1, got ${batchSize}`);
  return dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
}

/**
 * Yields the example indices of each minibatch of epoch `epoch`: consecutive `batchSize` slices
 * of `permutation(n, seed, epoch)`. The last batch is shorter when batchSize does not divide n,
 * or left out when `dropLast`. `startBatch` skips the first batches (resuming mid-epoch).
 * The slices are views of one array: read them, do not write them. Arguments are checked at the
 * call, not at the first `next()`.
 */
export function batches(
  n: number,
  batchSize: number,
  seed: number,
  epoch: number,
  dropLast = false,
  startBatch = 0,
): Generator<Uint32Array> {
  checkArgs('batches', n, seed, epoch);
  const count = batchCount(n, batchSize, dropLast);
  if (!Number.isInteger(startBatch) || startBatch < 0) throw new Error(`batches: startBatch must be an integer >= 0, got ${startBatch}`);
  const p = permutation(n, seed, epoch);
  return (function* () {
    for (let b = startBatch; b < count; b++) yield p.subarray(b * batchSize, Math.min(n, (b + 1) * batchSize));
  })();
}
