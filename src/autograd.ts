// Reverse-mode autograd as a tape (STYLE 13). Each op call records {op, inputs, output, attrs,
// saved}; backward() walks the tape in reverse and asks each op for the gradients of only
// those inputs that need one. Gradient buffers accumulate (+=), so fan-out needs nothing
// special. The tape also owns the tensors its ops created, so `tape.dispose()` after a step
// frees every activation and keeps memory flat across millions of steps.
import type { Core } from './core/load.js';
import { fill } from './core/kernels/elementwise.js';
import { Tensor, sizeOf, shapeStr } from './tensor.js';
import { opDef, type OpName, type AttrsOf, type Saved } from './ops/table.js';
import { SegmentsUnsupported, type Segments } from './ops/segments.js';

interface Node {
  op: OpName;
  inputs: Tensor[];
  out: Tensor;
  attrs: unknown;
  saved: Saved;
}

export class Tape {
  private nodes: Node[] = [];
  private owned: Tensor[] = [];
  private savedBufs: Saved[] = [];
  /** false inside noGrad(): ops run but record nothing */
  recording = true;
  /** set while chunks run as segments of one batch (BoundModel.gradSegments): ops without a segment mode refuse */
  segments: Segments | null = null;

  constructor(readonly core: Core) {}

  /** Runs `op` on `inputs`, records it if any input needs a gradient, returns the output. */
  apply<K extends OpName>(op: K, inputs: Tensor[], attrs: AttrsOf<K>): Tensor {
    const def = opDef(op);
    if (this.segments) {
      if (!def.segments) throw new SegmentsUnsupported(op);
      if (def.segments === 'split') attrs = { ...(attrs as object), segments: this.segments } as AttrsOf<K>;
    }
    if (inputs.length !== def.inputs.length) {
      throw new Error(`${op}: expected ${def.inputs.length} inputs (${def.inputs.join(', ')}), got ${inputs.length}`);
    }
    for (let i = 0; i < inputs.length; i++) {
      if (inputs[i].isDisposed) throw new Error(`${op}: input ${def.inputs[i]} was disposed`);
    }
    const shapes = inputs.map((t) => t.shape);
    const outShape = def.outShape(shapes, attrs);
    const out = def.alias
      ? new Tensor(this.core, inputs[0].buf, outShape, { base: inputs[0] })
      : new Tensor(this.core, this.core.heap.alloc(sizeOf(outShape), 'f32', false), outShape); // forward overwrites it
    this.owned.push(out);
    const saved = def.forward(this.core, out, inputs, attrs);
    const needs = inputs.map((t, i) => def.differentiable[i] && t.requiresGrad);
    if (this.recording && needs.some(Boolean)) {
      out.requiresGrad = true;
      this.nodes.push({ op, inputs, out, attrs, saved });
    } else if (saved) {
      this.savedBufs.push(saved);
    }
    return out;
  }

  /**
   * Backpropagates from a scalar `loss` (seeded with d loss = `seed`, 1 by default), or from
   * any output given its gradient as an array, through the recorded ops.
   * Gradients accumulate into each tensor's `.grad` (parameters: their slot in the flat
   * gradient buffer, which the trainer zeroes once per step).
   */
  backward(loss: Tensor, seed: number | ArrayLike<number> = 1): void {
    if (typeof seed === 'number' && loss.size !== 1) {
      throw new Error(`backward: loss must be a scalar (or pass the output gradient), got shape ${shapeStr(loss.shape)}`);
    }
    if (!loss.requiresGrad) throw new Error('backward: the loss does not depend on anything that requires a gradient');
    if (typeof seed === 'number') fill(this.core, loss.ensureGrad(), seed);
    else {
      if (seed.length !== loss.size) throw new Error(`backward: output gradient has ${seed.length} values for ${loss.size} outputs`);
      loss.ensureGrad().set(seed);
    }
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const node = this.nodes[i];
      if (!node.out.grad) continue; // nothing flowed into this op's output
      const def = opDef(node.op);
      const needs = node.inputs.map((t, j) => def.differentiable[j] && t.requiresGrad);
      def.backward(this.core, node, needs);
    }
  }

  /** Frees every tensor the tape's ops created and whatever they saved; the tape can be reused. */
  dispose(): void {
    for (const node of this.nodes) freeSaved(node.saved);
    for (const s of this.savedBufs) freeSaved(s);
    for (const t of this.owned) t.dispose();
    this.nodes = [];
    this.owned = [];
    this.savedBufs = [];
  }

  /** Runs fn without recording (evaluation); outputs are still owned by the tape. */
  noGrad<T>(fn: () => T): T {
    const was = this.recording;
    this.recording = false;
    try {
      return fn();
    } finally {
      this.recording = was;
    }
  }

  get size(): number {
    return this.nodes.length;
  }

  /** FLOPs of the recorded forward ops and of their backward for the inputs that need one. */
  flops(): { forward: number; backward: number } {
    let forward = 0;
    let backward = 0;
    for (const n of this.nodes) {
      const def = opDef(n.op);
      const shapes = n.inputs.map((t) => t.shape);
      const needs = n.inputs.map((t, j) => def.differentiable[j] && t.requiresGrad);
      const f = def.flops(shapes, n.attrs);
      forward += f;
      backward += def.backwardFlops ? def.backwardFlops(shapes, n.attrs, needs) : f;
    }
    return { forward, backward };
  }
}

function freeSaved(saved: Saved): void {
  if (!saved) return;
  for (const b of Object.values(saved)) if (b && b.alive && b.owner === b.ptr) b.free();
}

export type { Node as TapeNode };
