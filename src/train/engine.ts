// Gradient engines: how a minibatch's gradient is computed. Every engine splits the minibatch
// into fixed-size chunks (independent of the number of workers), computes each chunk's
// gradient of (chunk mean loss × chunk/batch), and sums the chunk gradients along the fixed
// tree of reduce_tree.ts (this thread walks all of it; pool workers sum the subtrees inside
// their tasks and the parallel reduce the rest). Same chunks, same tree, same f32 additions:
// the same bits for any worker count (STYLE 19). Where the network allows, the chunks of a
// group run as segments of one batch (segmentedGroup), which gives those same bits too. Dense
// weights are the exception: their chunks leave x and dy rows instead of a gradient, and the
// minibatch's gradient of each is one GEMM over the whole batch after the tree
// (src/train/weight_rows.ts), the same whichever worker computed which rows.
import type { Buf } from '../core/heap.js';
import { add, fill } from '../core/kernels/elementwise.js';
import { combineStats, type BoundModel, type ChunkResult } from './model.js';
import type { Augment, Dataset } from '../data/dataset.js';
import { FOLD, stackDepth, sumNode, type TreeOps } from './reduce_tree.js';
import { SEGMENT_MAX_ROWS, SegmentsUnsupported } from '../ops/segments.js';
import type { Tensor } from '../tensor.js';
import type { ParamEntry } from '../nn/params.js';
import { findRowWeights, outside, rowsLayout, RowsCollector, weightGradRows, type FoundWeight } from './weight_rows.js';

export interface StepOptions {
  seed: number;
  augment: Augment;
  /** per channel: the value of the background after normalisation (what shifted-in pixels get) */
  fill: number[];
}

export interface GradEngine {
  /**
   * Computes the minibatch gradient into model.params.grad (overwritten); the result's stats
   * are the chunks' BatchNorm statistics combined in chunk order.
   */
  minibatch(idx: Uint32Array, step: number): Promise<ChunkResult>;
  /**
   * The test set's loss sum and correct count in batches of `batch` on the engine's workers,
   * to the bits of model.evaluate on this thread (absent: the loop evaluates on this thread).
   */
  evaluate?(test: Dataset, batch: number, onBatch: (done: number) => void): Promise<ChunkResult>;
  close(): Promise<void>;
}

/**
 * The default chunk size for a minibatch: a sixteenth of the batch, at least 8 examples. It
 * depends on the batch size only, never on the number of workers (that is what keeps results
 * identical for any worker count): batch 64 gives 8 chunks of 8, batch 256 gives 16 of 16, so
 * the default batch can feed 8 workers and batch 256 16. Each chunk still has its own
 * weight-gradient GEMMs (the reduction needs them apart), so on 2 cores a larger --chunk-size
 * is a little faster (README, "What a chunk costs now"); results depend on it.
 */
export function defaultChunkSize(batch: number): number {
  return Math.max(8, Math.ceil(batch / 16));
}

/** Splits n examples into chunks of `chunk` (the last may be shorter). */
export function chunkRanges(n: number, chunk: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let s = 0; s < n; s += chunk) out.push([s, Math.min(n, s + chunk)]);
  return out;
}

/** The seed of chunk k of step s: distinct per chunk, independent of which worker runs it. */
export function chunkSeed(seed: number, step: number, k: number): number {
  let h = (seed ^ Math.imul(step + 1, 0x9e3779b1) ^ Math.imul(k + 1, 0x85ebca77)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  return (h ^ (h >>> 15)) >>> 0;
}

/**
 * Chunk k's gradient computed into `into` (whatever it held): the leaf of the reduction tree.
 * Nothing zeroes `into` first: each parameter's first gradient write overwrites or zeroes its
 * window (Params.gradInto, unwritten), which spares the largest ones a pass. The model's
 * gradients stay pointed at `into` until the caller points them back.
 */
export function chunkGradient(model: BoundModel, data: Dataset, idx: Uint32Array, range: [number, number], k: number, step: number, opts: StepOptions, into: Buf, rows: RowsCollector | null = null): ChunkResult & { n: number } {
  model.params.gradInto(into, true);
  rows?.leaf(range[0]);
  const r = runChunk(model, data, idx, range, k, step, opts);
  model.params.settleGrads(rows?.tensors);
  return r;
}

/** Chunk k's forward and backward, its gradients accumulating wherever the parameters' point. */
function runChunk(model: BoundModel, data: Dataset, idx: Uint32Array, [s, e]: [number, number], k: number, step: number, opts: StepOptions): ChunkResult & { n: number } {
  const r = model.gradChunk(data, idx.subarray(s, e), (e - s) / idx.length, { seed: chunkSeed(opts.seed, step, k), augment: opts.augment, fill: opts.fill });
  return { ...r, n: e - s };
}

/** Gradient buffers for tree walks: the model's own gradient first, then spares allocated on demand. */
export class GradStack {
  private readonly spares: Buf[] = [];
  private readonly extra: Buf[] = [];

  constructor(private readonly model: BoundModel) {}

  /** `count` more buffers of P floats, apart from the walk's (a group's segments beyond the first). */
  extras(count: number): Buf[] {
    while (this.extra.length < count) this.extra.push(this.model.core.heap.alloc(this.model.params.size));
    return this.extra.slice(0, count);
  }

  /** Buffers for a walk of a node of `chunks` chunks (see stackDepth). */
  forNode(chunks: number): Buf[] {
    const need = stackDepth(0, chunks) - 1;
    while (this.spares.length < need) this.spares.push(this.model.core.heap.alloc(this.model.params.size));
    return [this.model.params.grad, ...this.spares.slice(0, need)];
  }

  free(): void {
    for (const b of [...this.spares.splice(0), ...this.extra.splice(0)]) b.free();
  }
}

/**
 * Tree operations whose leaves are chunk gradients computed here (chunk results go to `parts`);
 * a group's chunks run as segments of one batch where the network allows. With `rows`
 * (weight_rows.ts) the passes leave the row weights' gradients to the caller: their windows are
 * never written, zeroed or added here.
 */
export function leafOps(model: BoundModel, data: Dataset, idx: Uint32Array, ranges: Array<[number, number]>, step: number, opts: StepOptions, parts: Array<ChunkResult & { n: number }>, stack: GradStack, rows: RowsCollector | null = null): TreeOps<Buf> {
  const { core, params } = model;
  const later = rows?.entries ?? [];
  const summed = outside(later, params.size);
  const addInto = (into: Buf, right: Buf): void => {
    for (const [s, e] of summed) add(core, into.sub(s, e - s), into.sub(s, e - s), right.sub(s, e - s));
  };
  return {
    direct: (lo, hi, into) => {
      if (hi - lo > 1 && withinGroup(lo, hi) && ranges[hi - 1][1] - ranges[lo][0] <= SEGMENT_MAX_ROWS && model.segmentable !== false) {
        try {
          segmentedGroup(model, data, idx, ranges, lo, hi, step, opts, parts, into, stack.extras(hi - lo - 1), rows, addInto);
          model.segmentable = true;
          return true;
        } catch (e) {
          if (!(e instanceof SegmentsUnsupported)) throw e;
          model.segmentable = false; // the chunks one by one from now on (they rewrite `into` whole)
        }
      }
      if (hi - lo !== 1) return false;
      parts[lo] = chunkGradient(model, data, idx, ranges[lo], lo, step, opts, into, rows);
      return true;
    },
    addInto,
  };
}

/** Whether chunks [lo, hi) lie in one left-folded group of the reduction tree. */
function withinGroup(lo: number, hi: number): boolean {
  return Math.floor(lo / FOLD) === Math.floor((hi - 1) / FOLD);
}

/**
 * Node [lo, hi) of a group, its chunks run as segments of one batch (BoundModel.gradSegments):
 * the same additions as the tree's chunk-by-chunk fold. Segment 0's gradients go into `into`
 * as a chunk's do alone, segment k's into spares[k - 1], which are then added in, k in order,
 * by the tree's own addition (`addInto`: outside the row weights' windows).
 */
function segmentedGroup(model: BoundModel, data: Dataset, idx: Uint32Array, ranges: Array<[number, number]>, lo: number, hi: number, step: number, opts: StepOptions, parts: Array<ChunkResult & { n: number }>, into: Buf, spares: Buf[], rows: RowsCollector | null, addInto: TreeOps<Buf>['addInto']): void {
  const { core, params } = model;
  const later = rows?.entries ?? [];
  const entryOf = new Map(params.entries.filter((e) => e.trainable && !later.includes(e)).map((e) => [e.tensor, e]));
  const written = Array.from({ length: hi - lo }, () => new Set<ParamEntry>());
  const grad = (t: Tensor, k: number): { buf: Buf; overwrite: boolean } => {
    const e = entryOf.get(t);
    if (!e) throw new Error('a segment gradient asked for a tensor that is not a trainable parameter');
    // a second write of one parameter in a segment (a shared weight) would change the order of the additions
    if (written[k].has(e)) throw new SegmentsUnsupported(`parameter ${e.name} written twice`);
    written[k].add(e);
    const target = (k === 0 ? into : spares[k - 1]).sub(e.offset, e.size);
    fill(core, target, 0);
    return { buf: target, overwrite: false };
  };
  const chunks = ranges.slice(lo, hi).map(([s, e], j) => ({
    idx: idx.subarray(s, e),
    scale: (e - s) / idx.length,
    seed: chunkSeed(opts.seed, step, lo + j),
    augment: opts.augment,
    fill: opts.fill,
  }));
  rows?.leaf(ranges[lo][0]);
  const results = model.gradSegments(data, chunks, { grad });
  results.forEach((r, j) => (parts[lo + j] = { ...r, n: chunks[j].idx.length }));
  // what no gradient reached is zero, as settleGrads leaves it
  for (let k = 0; k < hi - lo; k++)
    for (const e of entryOf.values()) if (!written[k].has(e)) fill(core, (k === 0 ? into : spares[k - 1]).sub(e.offset, e.size), 0);
  for (let k = 1; k < hi - lo; k++) addInto(into, spares[k - 1]);
}

/** All chunks in this thread, summed along the whole tree into model.params.grad. */
export class LocalEngine implements GradEngine {
  private readonly stack: GradStack;
  /** the row weights (undefined: not looked for yet) and their store, for the largest batch so far */
  private found: FoundWeight[] | undefined;
  private rows: { collector: RowsCollector; store: Buf } | null = null;

  constructor(
    private readonly model: BoundModel,
    private readonly data: Dataset,
    private readonly chunk: number,
    private readonly opts: StepOptions,
  ) {
    this.stack = new GradStack(model);
  }

  async minibatch(idx: Uint32Array, step: number): Promise<ChunkResult> {
    const { model } = this;
    const ranges = chunkRanges(idx.length, this.chunk);
    const parts: Array<ChunkResult & { n: number }> = [];
    const rows = this.rowsFor(idx.length);
    model.weightRows = rows?.collector ?? null;
    try {
      // the weights are fixed for the whole minibatch: dense layers pack theirs once, not per chunk
      model.packs.during(() => sumNode(0, ranges.length, leafOps(model, this.data, idx, ranges, step, this.opts, parts, this.stack, rows?.collector), this.stack.forNode(ranges.length)));
      for (const w of rows?.collector.layout.weights ?? []) weightGradRows(model.core, rows!.store, w, idx.length, 0, w.outF, model.params.grad.sub(w.offset, w.outF * w.inF));
    } finally {
      model.weightRows = null;
      model.params.gradInto(model.params.grad);
    }
    return sumChunks(parts, idx.length);
  }

  /** The row weights' collector and store for a minibatch of `batch` examples (null when the model has none). */
  private rowsFor(batch: number): LocalEngine['rows'] {
    this.found ??= findRowWeights(this.model, this.data);
    if (this.found.length === 0) return null;
    if (!this.rows || this.rows.collector.layout.batch < batch) {
      this.rows?.store.free();
      const layout = rowsLayout(this.found, batch);
      const store = this.model.core.heap.alloc(layout.floats);
      this.rows = { collector: new RowsCollector(this.model, layout, () => store.view()), store };
    }
    return this.rows;
  }

  async close(): Promise<void> {
    this.stack.free();
    this.rows?.store.free();
    this.rows = null;
  }
}

/** The minibatch's result from its chunks' (in chunk order). */
export function sumChunks(parts: Array<ChunkResult & { n: number }>, total: number): ChunkResult {
  let lossSum = 0;
  let correct = 0;
  for (const r of parts) {
    lossSum += r.lossSum;
    correct += r.correct;
  }
  const stats = combineStats(parts, total);
  return { lossSum, correct, ...(stats ? { stats } : {}) };
}
