// Dense weight gradients over the whole minibatch. A dense layer's weight gradient is dyᵀx summed
// over the examples. Summed chunk by chunk along the reduction tree it costs one GEMM per chunk
// whose K is the chunk (8 examples by default: 2.4× the time of the same FLOPs with a long K) and
// a full weight gradient per tree node to store, copy and add (2.5 MB for LeNet's fc1). Instead,
// the backward leaves each chunk's x and dy rows in a store at the chunk's examples
// (src/ops/weight_rows.ts), and once every chunk is done the gradient is one GEMM over the whole
// batch, K = the batch in example order: on this thread (LocalEngine) or in the pool's reduce,
// each task a block of the weight's output rows (linearBackwardWeightRows: any split gives the
// bits of the whole product). The rows of an example do not depend on which worker computed
// them, so the gradient has the same bits for any worker count (STYLE 19), like the tree's.
import type { Core } from '../core/load.js';
import type { Buf } from '../core/heap.js';
import { linearBackwardWeightRows, type LinearDims } from '../core/kernels/linear.js';
import type { WeightRows } from '../ops/weight_rows.js';
import type { Tensor } from '../tensor.js';
import type { ParamEntry } from '../nn/params.js';
import type { Dataset } from '../data/dataset.js';
import type { BoundModel } from './model.js';

/** A dense weight whose minibatch gradient is formed from rows. */
export interface RowWeight {
  name: string;
  /** its gradient's window in the flat parameters: outF × inF floats from here */
  offset: number;
  inF: number;
  outF: number;
  /** float offsets in the store of its x rows (batch × inF) and its dy rows (batch × outF) */
  x: number;
  dy: number;
}

/** The weights a model's engines form from rows, and a store laid out for `batch` examples. */
export interface RowsLayout {
  batch: number;
  /** floats the store holds */
  floats: number;
  weights: RowWeight[];
}

export type FoundWeight = Pick<RowWeight, 'name' | 'offset' | 'inF' | 'outF'>;

/**
 * The dense weights whose gradient the engines form from rows: those the backward offers exactly
 * once per pass (a weight used twice keeps its chunk-by-chunk gradient). Found by one forward and
 * backward of example 0 with a recorder that takes nothing; in parameter order.
 */
export function findRowWeights(model: BoundModel, data: Dataset): FoundWeight[] {
  const offers = new Map<Tensor, { count: number; d: LinearDims }>();
  const recorder: WeightRows = {
    take(w, _x, _dy, d) {
      offers.set(w, { count: (offers.get(w)?.count ?? 0) + 1, d });
      return false;
    },
  };
  const { params } = model;
  const scratch = model.core.heap.alloc(params.size);
  const was = model.weightRows;
  model.weightRows = recorder;
  try {
    params.gradInto(scratch, true);
    model.gradChunk(data, [0], 1, { seed: 0 });
    params.settleGrads();
  } finally {
    model.weightRows = was;
    params.gradInto(params.grad);
    scratch.free();
  }
  return params.entries
    .filter((e) => e.trainable && offers.get(e.tensor)?.count === 1)
    .map((e) => ({ name: e.name, offset: e.offset, inF: offers.get(e.tensor)!.d.inF, outF: offers.get(e.tensor)!.d.outF }));
}

/** The found weights with a store for `batch` examples: each weight's x rows, then its dy rows. */
export function rowsLayout(found: readonly FoundWeight[], batch: number): RowsLayout {
  let at = 0;
  const weights = found.map((f) => {
    const w = { ...f, x: at, dy: at + batch * f.inF };
    at += batch * (f.inF + f.outF);
    return w;
  });
  return { batch, floats: at, weights };
}

/** The output rows of a weight that reduce task t of `tasks` forms: near-equal blocks of whole 8-row groups (empty when r1 <= r0). */
export function rowBlock(outF: number, t: number, tasks: number): [r0: number, r1: number] {
  const per = Math.ceil(outF / tasks / 8) * 8;
  return [Math.min(outF, t * per), Math.min(outF, (t + 1) * per)];
}

/** The ranges of [0, size) outside the given windows, in order. */
export function outside(windows: ReadonlyArray<{ offset: number; size: number }>, size: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let at = 0;
  for (const w of [...windows].sort((a, b) => a.offset - b.offset)) {
    if (w.offset > at) out.push([at, w.offset]);
    at = Math.max(at, w.offset + w.size);
  }
  if (at < size) out.push([at, size]);
  return out;
}

/** The ranges of [0, size) outside the row weights' gradient windows, in order: what the reduction tree still sums. */
export function treeRanges(layout: RowsLayout | null, size: number): Array<[number, number]> {
  return outside((layout?.weights ?? []).map((w) => ({ offset: w.offset, size: w.outF * w.inF })), size);
}

/**
 * The engines' side of WeightRows: takes the rows of the layout's weights into a store (heap or
 * shared memory), at the examples of the pass under way (leaf()).
 */
export class RowsCollector implements WeightRows {
  /** the row weights' tensors: their gradients are left unwritten by the passes */
  readonly tensors: ReadonlySet<Tensor>;
  readonly entries: readonly ParamEntry[];
  private readonly byTensor = new Map<Tensor, RowWeight>();
  private readonly taken = new Set<RowWeight>();
  private base = 0;

  constructor(
    model: BoundModel,
    readonly layout: RowsLayout,
    /** the store's floats (a fresh view: a heap store moves when the memory grows) */
    private readonly store: () => Float32Array,
  ) {
    const entries: ParamEntry[] = [];
    for (const w of layout.weights) {
      const e = model.params.byName.get(w.name);
      if (!e || !e.trainable || e.offset !== w.offset || e.size !== w.inF * w.outF) {
        throw new Error(`weight rows: the model has no trainable ${w.inF * w.outF}-float parameter ${w.name} at offset ${w.offset} (the layout was made for another model)`);
      }
      this.byTensor.set(e.tensor, w);
      entries.push(e);
    }
    this.tensors = new Set(this.byTensor.keys());
    this.entries = entries;
  }

  /** Starts a pass over the examples of the minibatch from `base` on (a chunk, or a group of chunks as segments). */
  leaf(base: number): void {
    this.base = base;
    this.taken.clear();
  }

  take(w: Tensor, x: Buf, dy: Buf, d: LinearDims): boolean {
    const rw = this.byTensor.get(w);
    if (!rw) return false;
    if (this.taken.has(rw)) throw new Error(`weight rows: ${rw.name} was offered twice in one pass, once when the engine looked`);
    if (d.inF !== rw.inF || d.outF !== rw.outF) throw new Error(`weight rows: ${rw.name} offered as ${d.outF}×${d.inF}, laid out as ${rw.outF}×${rw.inF}`);
    if (this.base + d.m > this.layout.batch) throw new Error(`weight rows: examples [${this.base}, ${this.base + d.m}) exceed the store's ${this.layout.batch}`);
    this.taken.add(rw);
    const s = this.store();
    s.set(x.view().subarray(0, d.m * d.inF), rw.x + this.base * rw.inF);
    s.set(dy.view().subarray(0, d.m * d.outF), rw.dy + this.base * rw.outF);
    return true;
  }
}

/** Rows [r0, r1) of weight `w`'s gradient over examples [0, n) of a store in the core's heap, written over `out` ((r1 - r0) × inF). */
export function weightGradRows(core: Core, store: Buf, w: RowWeight, n: number, r0: number, r1: number, out: Buf): void {
  linearBackwardWeightRows(core, out, store.sub(w.dy, n * w.outF), store.sub(w.x, n * w.inF), { m: n, inF: w.inF, outF: w.outF }, r0, r1);
}
