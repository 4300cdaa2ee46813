// The order in which a minibatch's K chunk gradients are summed: a fixed binary tree over the
// chunk indices that depends on K alone. The chunks fall in groups of FOLD (4) consecutive ones,
// each summed left to right (((g0 + g1) + g2) + g3), and the groups are summed along a balanced
// tree ([0, 8) is [0, 4) + [4, 8); [0, 12) is [0, 8) + [8, 12)). Because every node is one f32
// addition of its two children, it has the same bits wherever it is computed: a worker that owns
// chunks 0..3 sums them into node [0, 4) before anything leaves its memory, the parallel reduce
// sums the nodes the workers sent, and this thread's engine walks the whole tree; any split of
// the chunks between workers gives the minibatch gradient the same bits (STYLE 19). Only the
// nodes that no single task covers cross shared memory, so a worker with four chunks sends one
// gradient instead of four. A group's chunks can run as segments of one batch (engine.ts).

/** Chunks per left-folded group. */
export const FOLD = 4;

/** Where node [lo, hi) (hi - lo >= 2) splits: inside a group, before its last chunk; across groups, at the largest power-of-two count of groups below its size. */
export function splitPoint(lo: number, hi: number): number {
  const first = Math.floor(lo / FOLD);
  const groups = Math.floor((hi - 1) / FOLD) - first + 1;
  if (groups === 1) return hi - 1;
  let half = 1;
  while (half * 2 < groups) half *= 2;
  return (first + half) * FOLD;
}

/** A node of the tree: chunks [lo, hi). */
export type TreeNode = readonly [lo: number, hi: number];

/**
 * The largest nodes of the tree over [0, k) that lie inside chunks [a, b), left to right: what a
 * task owning those chunks computes whole and hands on. They partition [a, b).
 */
export function nodesWithin(k: number, a: number, b: number): TreeNode[] {
  const out: TreeNode[] = [];
  const visit = (lo: number, hi: number): void => {
    if (hi <= a || lo >= b) return;
    if (lo >= a && hi <= b) {
      out.push([lo, hi]);
      return;
    }
    const mid = splitPoint(lo, hi);
    visit(lo, mid);
    visit(mid, hi);
  };
  if (k > 0 && a < b) visit(0, k);
  return out;
}

/** Chunks [0, k) in `tasks` contiguous runs of near-equal length (the first ones longer). */
export function taskRanges(k: number, tasks: number): TreeNode[] {
  const n = Math.max(1, Math.min(k, tasks));
  const out: TreeNode[] = [];
  for (let t = 0, lo = 0; t < n; t++) {
    const hi = lo + Math.floor(k / n) + (t < k % n ? 1 : 0);
    out.push([lo, hi]);
    lo = hi;
  }
  return out;
}

/** How a tree walk gets values into buffers and adds them. */
export interface TreeOps<B> {
  /**
   * Writes node [lo, hi) into `into` and returns true when the node is at hand as it is (a chunk
   * to compute, a node another task sent); false makes the walk sum its two children.
   */
  direct(lo: number, hi: number, into: B): boolean;
  /** into = into + right, elementwise in f32 */
  addInto(into: B, right: B): void;
}

/** Buffers a walk of node [lo, hi) down to its chunks needs (for the tree's nodes, the same as node [0, hi - lo)). */
export function stackDepth(lo: number, hi: number): number {
  return walkDepth(lo, hi, () => false);
}

/** Buffers a walk of node [lo, hi) needs when the nodes `atHand` says yes to are not descended into. */
export function walkDepth(lo: number, hi: number, atHand: (lo: number, hi: number) => boolean): number {
  if (atHand(lo, hi) || hi - lo < 2) return 1;
  const mid = splitPoint(lo, hi);
  return Math.max(walkDepth(lo, mid, atHand), 1 + walkDepth(mid, hi, atHand));
}

/** Computes node [lo, hi) into stack[depth], using stack[depth + 1 ...] for right subtrees. */
export function sumNode<B>(lo: number, hi: number, ops: TreeOps<B>, stack: readonly B[], depth = 0): void {
  if (ops.direct(lo, hi, stack[depth])) return;
  if (hi - lo < 2) throw new Error(`reduction tree: node [${lo}, ${hi}) is neither at hand nor divisible`);
  const mid = splitPoint(lo, hi);
  sumNode(lo, mid, ops, stack, depth);
  sumNode(mid, hi, ops, stack, depth + 1);
  ops.addInto(stack[depth], stack[depth + 1]);
}
