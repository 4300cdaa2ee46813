// Up-front memory checks: a WebAssembly instance addresses at most 4 GiB, and a run whose chunk
// (or evaluation batch) needs more fails deep inside Memory.grow() after minutes of work. The
// estimate is from the model's shapes alone: every layer's output per example, kept for the
// backward pass with its gradient and the layer's scratch (masks, arg-max, im2col columns), and
// the parameters with their gradient, accumulator and optimizer state. It errs on the high side
// (test/reliability_edges.test.ts checks it against the heap's real peak).
import type { Model } from '../nn/spec.js';
import { InputError } from '../errors.js';
import { sizeOf } from '../tensor.js';
import { FOLD } from './reduce_tree.js';
import { SEGMENT_MAX_ROWS } from '../ops/segments.js';

export const WASM_MAX_BYTES = 4 * 2 ** 30;

/** Floats per example the forward pass produces: the input and every layer's output. */
export function activationFloats(net: Model): number {
  let n = sizeOf(net.inputShape);
  for (const row of net.net.rows([1, ...net.inputShape])) n += sizeOf(row.outShape);
  return n;
}

/**
 * Estimated WebAssembly bytes of one instance training chunks of `chunk` and evaluating batches
 * of `evalBatch`. A worker may run a group of chunks as segments of one batch (up to
 * SEGMENT_MAX_ROWS examples), and keeps a buffer of P floats per further chunk of a group and
 * the dense weights packed (at most 2 P).
 */
export function estimateWasmBytes(net: Model, params: number, chunk: number, evalBatch: number): { train: number; eval: number } {
  const a = activationFloats(net);
  const inFlight = Math.max(chunk, Math.min(FOLD * chunk, SEGMENT_MAX_ROWS));
  return { train: 4 * ((5 + FOLD - 1 + 2) * params + 4 * inFlight * a), eval: 4 * (2 * params + 2 * evalBatch * a) };
}

const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;

/** Refuses a chunk or evaluation batch that cannot fit in one WebAssembly instance, naming the flag and the estimate. */
export function checkFitsWasm(net: Model, params: number, o: { batchSize: number; chunkSize: number; evalBatch: number; chunkAuto: boolean }): void {
  const chunk = Math.min(o.chunkSize, o.batchSize);
  const est = estimateWasmBytes(net, params, chunk, o.evalBatch);
  const perExample = 16 * activationFloats(net);
  if (est.train > WASM_MAX_BYTES) {
    const fits = Math.max(1, Math.floor((WASM_MAX_BYTES - 4 * (5 + FOLD - 1 + 2) * params) / perExample));
    const how = o.chunkAuto ? `--chunk-size auto gives ${chunk} for --batch-size ${o.batchSize}` : `--chunk-size ${chunk}`;
    throw new InputError(
      `--batch-size/--chunk-size: a gradient chunk of ${chunk} examples (${how}) needs about ${gib(est.train)} of WebAssembly memory, ` +
        `more than the 4 GiB one instance can address; use --chunk-size ${Math.min(fits, 4096)} or less (chunks are what one worker computes at once; the batch may stay larger)`,
    );
  }
  if (est.eval > WASM_MAX_BYTES) {
    const fits = Math.max(1, Math.floor((WASM_MAX_BYTES - 8 * params) / (8 * activationFloats(net))));
    throw new InputError(`--eval-batch ${o.evalBatch}: evaluating that many examples at once needs about ${gib(est.eval)} of WebAssembly memory, more than 4 GiB; use --eval-batch ${Math.min(fits, 4096)} or less`);
  }
}
