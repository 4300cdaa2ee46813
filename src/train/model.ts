// A model bound to one core: the network, its flat parameters and buffers, its loss, a reusable
// tape and input buffers. The trainer's local path and every worker run the same gradChunk,
// which is what makes training bit-identical for any worker count.
import type { Core } from '../core/load.js';
import type { Buf } from '../core/heap.js';
import { Tape } from '../autograd.js';
import { WeightPacks } from '../nn/weight_packs.js';
import { SegmentsUnsupported, type Segments } from '../ops/segments.js';
import type { WeightRows } from '../ops/weight_rows.js';
import { Tensor, sizeOf, type Shape } from '../tensor.js';
import { Params, gaussian, type ParamSpec } from '../nn/params.js';
import type { Ctx, BatchStat } from '../nn/layers.js';
import { updateRunningStats } from '../nn/batchnorm_stats.js';
import { lossOf, type Loss, type LossSpec } from './losses.js';
import { augmentInto, type Augment, type Dataset } from '../data/dataset.js';

/** What BoundModel needs of a network: a Sequential, or a Model built from a spec. */
export interface Net {
  paramSpecs(batchShape: Shape): ParamSpec[];
  outShape(batchShape: Shape): Shape;
  forward(ctx: Ctx, x: Tensor): Tensor;
}

export interface ChunkResult {
  /** sum of the per-example losses in the chunk */
  lossSum: number;
  /** examples whose arg-max output is the label (0 for losses without accuracy) */
  correct: number;
  /** each BatchNorm layer's statistics over the chunk, in layer order (absent without BatchNorm) */
  stats?: BatchStat[];
}

export interface ChunkOptions {
  /** drives dropout and augmentation for this chunk */
  seed: number;
  augment?: Augment;
  /** per channel: what pixels shifted in get (the normalised background) */
  fill?: number[];
}

export class BoundModel {
  readonly params: Params;
  readonly tape: Tape;
  readonly sampleShape: Shape;
  /** the network's output per sample */
  readonly outShape: Shape;
  readonly loss: Loss;
  /** dense weights packed while an engine holds them fixed (packs.during) */
  readonly packs: WeightPacks;
  /** whether gradSegments runs this network (undefined: not tried yet; false: an op or the loss mixes examples) */
  segmentable: boolean | undefined = undefined;
  /** set by an engine while it forms dense weight gradients over the whole batch (src/train/weight_rows.ts) */
  weightRows: WeightRows | null = null;
  private xBuf: Buf | null = null;
  private yBuf: Buf | null = null;

  constructor(
    readonly core: Core,
    readonly net: Net,
    sampleShape: Shape,
    loss: LossSpec = { type: 'softmax_xent' },
  ) {
    // a page that builds its model before `await loadCore(...)` resolves gets words, not "cannot read properties of undefined"
    if (!core || !(core as { heap?: unknown }).heap) throw new Error('BoundModel: no core: the WebAssembly core is not loaded yet; await loadCore({ url }) (or loadCoreSync in Node) and pass the Core it returns');
    this.sampleShape = sampleShape;
    this.params = new Params(core, net.paramSpecs([1, ...sampleShape]));
    this.outShape = net.outShape([1, ...sampleShape]).slice(1);
    this.loss = lossOf(loss);
    this.tape = new Tape(core);
    this.packs = new WeightPacks(core);
  }

  get sampleSize(): number {
    return sizeOf(this.sampleShape);
  }

  /** classes of a classifier (its output size) */
  get classes(): number {
    return sizeOf(this.outShape);
  }

  /** Input and target buffers large enough for `n` examples, reused across calls. */
  private buffers(n: number): { x: Buf; y: Buf } {
    const ySize = this.loss.targets === 'labels' ? n : n * this.classes;
    if (!this.xBuf || this.xBuf.length < n * this.sampleSize || this.yBuf!.length < ySize) {
      this.xBuf?.free();
      this.yBuf?.free();
      this.xBuf = this.core.heap.alloc(n * this.sampleSize);
      this.yBuf = this.core.heap.alloc(ySize, this.loss.targets === 'labels' ? 'i32' : 'f32');
    }
    return { x: this.xBuf, y: this.yBuf! };
  }

  /**
   * Loads examples `idx` of `data` into the input and target tensors, augmenting each input
   * (random draws from `random`, in example order) when `augment` asks for it.
   */
  private load(data: Dataset, idx: ArrayLike<number>, augment?: Augment, fill?: number[], random?: () => number) {
    const n = idx.length;
    const size = this.sampleSize;
    const { x, y } = this.buffers(n);
    const xs = x.sub(0, n * size);
    const xv = xs.view();
    const plain = !augment || !random || (!augment.shift && !augment.hflip);
    for (let i = 0; i < n; i++) {
      const src = idx[i] * size;
      if (plain) xv.set(data.x.subarray(src, src + size), i * size);
      else augmentInto(xv, i * size, data.x, src, [...this.sampleShape], augment!, fill ?? [0], random!);
    }
    const targets = this.loadTargets(data, idx, y, xv);
    // noise last, after an input target took its clean copy
    if (augment?.noise && random) addNoise(xv, augment.noise, gaussian(Math.floor(random() * 2 ** 32)));
    return { x: new Tensor(this.core, xs, [n, ...this.sampleShape], { owned: false }), y: targets };
  }

  /**
   * The chunks' examples one after another in one batch, each chunk loaded (and augmented) with
   * its own draws, as load() would for it alone; class labels only.
   */
  private loadSegments(data: Dataset, chunks: ReadonlyArray<{ idx: ArrayLike<number>; augment?: Augment; fill?: number[]; random: () => number }>) {
    const n = chunks.reduce((a, c) => a + c.idx.length, 0);
    const size = this.sampleSize;
    const { x, y } = this.buffers(n);
    const t = data.targets;
    if (this.loss.targets !== 'labels' || t.kind !== 'labels') throw new SegmentsUnsupported(`loss ${this.loss.spec.type}`);
    const xs = x.sub(0, n * size);
    const ys = y.sub(0, n);
    const xv = xs.view();
    const yv = ys.viewI32();
    let at = 0;
    for (const c of chunks) {
      const plain = !c.augment || (!c.augment.shift && !c.augment.hflip);
      for (let i = 0; i < c.idx.length; i++) {
        const src = c.idx[i] * size;
        if (plain) xv.set(data.x.subarray(src, src + size), (at + i) * size);
        else augmentInto(xv, (at + i) * size, data.x, src, [...this.sampleShape], c.augment!, c.fill ?? [0], c.random);
        yv[at + i] = t.data[c.idx[i]];
      }
      if (c.augment?.noise) addNoise(xv.subarray(at * size, (at + c.idx.length) * size), c.augment.noise, gaussian(Math.floor(c.random() * 2 ** 32)));
      at += c.idx.length;
    }
    return { x: new Tensor(this.core, xs, [n, ...this.sampleShape], { owned: false }), y: new Tensor(this.core, ys, [n], { owned: false }) };
  }

  private loadTargets(data: Dataset, idx: ArrayLike<number>, y: Buf, inputs: Float32Array): Tensor {
    const n = idx.length;
    const t = data.targets;
    if (this.loss.targets === 'labels') {
      if (t.kind !== 'labels') throw new Error(`loss ${this.loss.spec.type} needs class labels, dataset ${data.name} has ${t.kind} targets`);
      const ys = y.sub(0, n);
      const yv = ys.viewI32();
      for (let i = 0; i < n; i++) yv[i] = t.data[idx[i]];
      return new Tensor(this.core, ys, [n], { owned: false });
    }
    const per = this.classes;
    const ys = y.sub(0, n * per);
    const yv = ys.view();
    if (t.kind === 'input') yv.set(inputs.subarray(0, n * per)); // the (augmented) input itself
    else if (t.kind === 'tensor') for (let i = 0; i < n; i++) yv.set(t.data.subarray(idx[i] * per, (idx[i] + 1) * per), i * per);
    else throw new Error(`loss ${this.loss.spec.type} needs tensor targets, dataset ${data.name} has class labels`);
    return new Tensor(this.core, ys, [n, ...this.outShape], { owned: false });
  }

  private ctx(training: boolean, seed: number, batchStats?: BatchStat[]): Ctx {
    return { tape: this.tape, params: this.params, training, random: gaussian(seed).uniform, batchStats, packs: this.packs, ...(this.weightRows ? { weightRows: this.weightRows } : {}) };
  }

  /**
   * Forward and backward over one chunk. Gradients of (mean chunk loss × `scale`) ACCUMULATE into
   * params.grad: the caller zeroes it. The running statistics are not touched: the chunk's
   * batch statistics come back in the result for the caller to combine.
   */
  gradChunk(data: Dataset, idx: ArrayLike<number>, scale: number, opts: ChunkOptions): ChunkResult {
    const batchStats: BatchStat[] = [];
    const ctx = this.ctx(true, opts.seed, batchStats);
    const rand = gaussian(opts.seed ^ 0x5bd1e995).uniform;
    const { x, y } = this.load(data, idx, opts.augment, opts.fill, rand);
    try {
      const out = this.net.forward(ctx, x);
      const loss = this.loss.apply(this.tape, out, y);
      const lossMean = loss.data[0];
      const correct = this.loss.accuracy ? countCorrect(out.data, y.buf.viewI32(), this.classes) : 0;
      this.tape.backward(loss, scale);
      return { lossSum: lossMean * idx.length, correct, ...(batchStats.length ? { stats: batchStats } : {}) };
    } finally {
      this.tape.dispose();
    }
  }

  /**
   * Forward and backward over several chunks as segments of one batch: chunk k is the examples
   * `chunks[k].idx`, its loss (mean over its examples) scaled by `chunks[k].scale`, its parameter
   * gradients written where `grad` says (src/ops/segments.ts). The same per-chunk results and
   * gradients as gradChunk on each chunk alone, with the convolution and dense GEMMs run over all
   * of them at once. Throws SegmentsUnsupported when the network or the loss mixes examples (the
   * forward is then the first to refuse, before any gradient is written).
   */
  gradSegments(data: Dataset, chunks: ReadonlyArray<{ idx: ArrayLike<number>; scale: number } & ChunkOptions>, where: Omit<Segments, 'bounds'>): ChunkResult[] {
    const bounds = [0];
    for (const c of chunks) bounds.push(bounds[bounds.length - 1] + c.idx.length);
    const ctx = this.ctx(true, chunks[0].seed, []);
    try {
      const { x, y } = this.loadSegments(data, chunks.map((c) => ({ idx: c.idx, augment: c.augment, fill: c.fill, random: gaussian(c.seed ^ 0x5bd1e995).uniform })));
      this.tape.segments = { bounds, ...where };
      const out = this.net.forward(ctx, x);
      const loss = this.loss.apply(this.tape, out, y);
      const means = loss.data;
      const logits = out.data;
      const labels = y.buf.viewI32();
      const c = this.classes;
      const results = chunks.map((ch, k) => ({
        lossSum: means[k] * ch.idx.length,
        correct: countCorrect(logits.subarray(bounds[k] * c, bounds[k + 1] * c), labels.subarray(bounds[k], bounds[k + 1]), c),
      }));
      this.tape.backward(loss, chunks.map((ch) => ch.scale));
      return results;
    } finally {
      this.tape.segments = null;
      this.tape.dispose();
    }
  }

  /**
   * Updates every BatchNorm layer's running statistics from one step's statistics (the chunks'
   * combined in chunk order), with PyTorch's momentum rule, and counts the batch.
   */
  applyBatchStats(stats: BatchStat[] | undefined): void {
    for (const { name, momentum, stats: s } of stats ?? []) {
      const view = (k: string) => this.params.view(this.params.byName.get(`${name}.${k}`)!);
      updateRunningStats(view('running_mean'), view('running_var'), s, momentum);
      view('num_batches_tracked')[0] += 1;
    }
  }

  /** Inference over the first `n` examples in batches: loss sum, correct count and predictions. */
  evaluate(data: Dataset, n: number, batch: number, preds?: Uint8Array | Int32Array, onBatch?: (done: number) => void): ChunkResult {
    let lossSum = 0;
    let correct = 0;
    const ctx = this.ctx(false, 0);
    const idx = new Uint32Array(batch);
    for (let start = 0; start < n; start += batch) {
      const m = Math.min(batch, n - start);
      for (let i = 0; i < m; i++) idx[i] = start + i;
      const { x, y } = this.load(data, idx.subarray(0, m));
      try {
        this.tape.noGrad(() => {
          const out = this.net.forward(ctx, x);
          lossSum += this.loss.apply(this.tape, out, y).data[0] * m;
          if (this.loss.accuracy) correct += countCorrect(out.data, y.buf.viewI32(), this.classes, preds, start);
        });
      } finally {
        this.tape.dispose();
      }
      onBatch?.(start + m);
    }
    return { lossSum, correct };
  }

  /** Outputs (logits) for a batch of `n` already-normalised inputs (inference API). */
  predict(input: Float32Array, n: number): Float32Array {
    if (input.length !== n * this.sampleSize) {
      throw new Error(`predict: ${n} samples of [${this.sampleShape.join(',')}] need ${n * this.sampleSize} floats, got ${input.length}`);
    }
    const xs = this.core.heap.from(input);
    try {
      const x = new Tensor(this.core, xs, [n, ...this.sampleShape], { owned: false });
      return this.tape.noGrad(() => Float32Array.from(this.net.forward(this.ctx(false, 0), x).data));
    } finally {
      this.tape.dispose();
      xs.free();
    }
  }

  free(): void {
    this.tape.dispose();
    this.xBuf?.free();
    this.yBuf?.free();
    this.xBuf = this.yBuf = null;
    this.packs.free();
    this.params.free();
  }
}

/**
 * Combines the chunks' BatchNorm statistics of one step in chunk order, each weighted by its
 * share of the batch; with one chunk it is that chunk's statistics unchanged.
 */
export function combineStats(parts: Array<{ stats?: BatchStat[]; n: number }>, total: number): BatchStat[] | undefined {
  if (!parts[0]?.stats) return undefined;
  if (parts.length === 1) return parts[0].stats;
  return parts[0].stats.map(({ name, momentum, stats: first }, layer) => {
    const out = new Float32Array(first.length);
    for (let j = 0; j < out.length; j++) {
      let s = 0;
      for (const p of parts) s += (p.n / total) * p.stats![layer].stats[j];
      out[j] = s;
    }
    return { name, momentum, stats: out };
  });
}

function addNoise(x: Float32Array, sigma: number, rand: { normal(): number }): void {
  for (let i = 0; i < x.length; i++) x[i] += sigma * rand.normal();
}

function countCorrect(logits: Float32Array, labels: Int32Array, classes: number, preds?: Uint8Array | Int32Array, offset = 0): number {
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    let best = 0;
    for (let j = 1; j < classes; j++) if (logits[i * classes + j] > logits[i * classes + best]) best = j;
    if (best === labels[i]) correct++;
    if (preds) preds[offset + i] = best;
  }
  return correct;
}
