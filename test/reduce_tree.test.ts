// The reduction tree of the chunk gradients (src/train/reduce_tree.ts): its shape, the nodes a
// task owns, and the property the pools rest on: summing any split of the chunks into tasks
// gives the whole-tree sum bit for bit. Then the engines themselves: this thread's and the
// Piscina pool's minibatch gradients for splits that do not fall on tree nodes.
import { describe, it, expect, afterAll } from 'vitest';
import { FOLD, nodesWithin, splitPoint, stackDepth, sumNode, taskRanges, walkDepth, type TreeNode } from '../src/train/reduce_tree.js';
import { chunkRanges, chunkSeed, LocalEngine } from '../src/train/engine.js';
import { PoolEngine } from '../src/train/pool.js';
import { gradInit, SharedGradStep, type RunTask } from '../src/train/grad_step.js';
import { GradCompute, type ReduceTask, type StepTask } from '../src/train/grad_compute.js';
import { findRowWeights } from '../src/train/weight_rows.js';
import { BoundModel } from '../src/train/model.js';
import { lenet, LENET_SPEC, MNIST_SHAPE } from '../src/nn/lenet.js';
import { fromArrays } from '../src/data/dataset.js';
import { loadCoreSync } from '../src/core/load.js';
import { rng } from './helpers/index.js';

/** Every split of chunks [0, k) into contiguous runs. */
function splits(k: number): TreeNode[][] {
  if (k === 0) return [[]];
  const out: TreeNode[][] = [];
  for (let first = 1; first <= k; first++) for (const rest of splits(k - first)) out.push([[0, first], ...rest.map(([a, b]) => [a + first, b + first] as TreeNode)]);
  return out;
}

/** Sums one f32 per chunk along the tree, taking the given nodes as at hand (leaves when none are given). */
function treeSum(leaves: Float32Array, given?: Map<string, number>): number {
  const stack = new Float32Array(stackDepth(0, leaves.length));
  const cells = Array.from({ length: stack.length }, (_, d) => d);
  sumNode(0, leaves.length, {
    direct: (lo, hi, d) => {
      const v = given ? given.get(`${lo},${hi}`) : hi - lo === 1 ? leaves[lo] : undefined;
      if (v === undefined) return false;
      stack[d] = v;
      return true;
    },
    addInto: (d, r) => {
      stack[d] = stack[d] + stack[r];
    },
  }, cells);
  return stack[0];
}

describe('reduction tree', () => {
  it('splits a node inside a group of FOLD chunks before its last chunk, across groups at a power-of-two count of groups', () => {
    expect(FOLD).toBe(4);
    expect([2, 3, 4, 5, 6, 7, 8, 9, 16, 17].map((n) => splitPoint(0, n))).toEqual([1, 2, 3, 4, 4, 4, 4, 8, 8, 16]);
    expect(splitPoint(8, 14)).toBe(12);
    expect(splitPoint(4, 7)).toBe(6);
  });

  it('gives a task the largest tree nodes inside its chunks, which partition them', () => {
    expect(nodesWithin(8, 0, 4)).toEqual([[0, 4]]);
    expect(nodesWithin(8, 0, 3)).toEqual([[0, 3]]); // a prefix of a group's fold
    expect(nodesWithin(8, 3, 6)).toEqual([[3, 4], [4, 6]]);
    expect(nodesWithin(6, 0, 6)).toEqual([[0, 6]]);
    expect(nodesWithin(6, 4, 6)).toEqual([[4, 6]]);
    for (let k = 1; k <= 12; k++)
      for (let a = 0; a < k; a++)
        for (let b = a + 1; b <= k; b++) {
          const nodes = nodesWithin(k, a, b);
          expect(nodes[0][0]).toBe(a);
          expect(nodes[nodes.length - 1][1]).toBe(b);
          for (let i = 1; i < nodes.length; i++) expect(nodes[i][0]).toBe(nodes[i - 1][1]);
        }
  });

  it('knows how many buffers a walk needs: the whole depth from leaves, fewer from larger nodes', () => {
    const leaves = () => false;
    expect([1, 2, 3, 4, 5, 8, 16].map((k) => walkDepth(0, k, leaves))).toEqual([1, 2, 2, 2, 2, 3, 4]);
    for (let k = 1; k <= 17; k++) expect(stackDepth(4, 4 + k)).toBe(walkDepth(0, k, leaves));
    const two = new Set(['0,4', '4,8']);
    expect(walkDepth(0, 8, (lo, hi) => two.has(`${lo},${hi}`))).toBe(2);
  });

  it('splits k chunks into at most `tasks` near-equal runs', () => {
    expect(taskRanges(8, 2)).toEqual([[0, 4], [4, 8]]);
    expect(taskRanges(8, 3)).toEqual([[0, 3], [3, 6], [6, 8]]);
    expect(taskRanges(2, 16)).toEqual([[0, 1], [1, 2]]);
    expect(taskRanges(5, 1)).toEqual([[0, 5]]);
  });

  it('sums any split of the chunks into tasks to the bits of the whole tree, in stackDepth buffers', () => {
    const random = rng(3);
    for (let k = 1; k <= 9; k++) {
      // magnitudes far apart, so that a different order of additions changes the f32 result
      const leaves = Float32Array.from({ length: k }, () => (random() - 0.5) * 10 ** Math.floor(random() * 9));
      const whole = treeSum(leaves);
      for (const split of splits(k)) {
        const given = new Map<string, number>();
        for (const [a, b] of split)
          for (const [lo, hi] of nodesWithin(k, a, b)) {
            const sub = leaves.subarray(lo, hi);
            given.set(`${lo},${hi}`, hi - lo === 1 ? sub[0] : treeSumOfNode(leaves, lo, hi));
          }
        expect(Object.is(treeSum(leaves, given), whole), `k=${k} split ${JSON.stringify(split)}`).toBe(true);
      }
    }
  });

  it('folds inside a group of 4 and adds the groups as a tree: the order the engines promise', () => {
    // ((1e8 + 1) + -1e8) + 1 = 1 in f32, left to right; (1e8 + 1) + (-1e8 + 1) would be 0
    expect(treeSum(Float32Array.from([1e8, 1, -1e8, 1]))).toBe(1);
    // across groups: 1e8 + (((1 + -1e8) + 1) + 0) = 0, while the fold of all eight gives 1
    expect(treeSum(Float32Array.from([1e8, 0, 0, 0, 1, -1e8, 1, 0]))).toBe(0);
  });
});

/** Node [lo, hi) of the tree over all of `leaves`, computed alone (as a worker computes its own node). */
function treeSumOfNode(leaves: Float32Array, lo: number, hi: number): number {
  const stack = new Float32Array(stackDepth(lo, hi));
  sumNode(lo, hi, {
    direct: (l, h, d) => {
      if (h - l !== 1) return false;
      stack[d] = leaves[l];
      return true;
    },
    addInto: (d, r) => {
      stack[d] = stack[d] + stack[r];
    },
  }, Array.from({ length: stack.length }, (_, d) => d));
  return stack[0];
}

describe('engines on the tree', () => {
  const core = loadCoreSync({ flavor: 'simd' });
  const random = rng(11);
  const n = 256;
  const x = new Float32Array(new SharedArrayBuffer(n * 784 * 4)).map(() => random() - 0.5);
  const labels = new Uint8Array(new SharedArrayBuffer(n)).map(() => Math.floor(random() * 10));
  const data = fromArrays({ x, sampleShape: [...MNIST_SHAPE], labels, classes: 10 });
  const opts = { seed: 5, augment: { shift: 1 }, fill: [0] };
  const models: BoundModel[] = [];
  afterAll(() => models.forEach((m) => m.free()));

  function model(): BoundModel {
    const m = new BoundModel(core, lenet(), MNIST_SHAPE);
    m.params.init(2);
    models.push(m);
    return m;
  }

  // chunks of 11: run as segments of a group; chunks of 300 (over SEGMENT_MAX_ROWS): one by one.
  // The dense weights' gradients are not the tree's: one product over the whole batch
  // (src/train/weight_rows.ts), checked here against the f64 sum of the chunks' gradients.
  it.each([
    [60, 11],
    [600, 300],
  ])("this thread's engine sums the chunks' gradients along the tree, in f32 (batch %i, chunks of %i)", async (batch, chunk) => {
    const idx = Uint32Array.from({ length: batch }, (_, i) => (i * 37) % n);
    const local = model();
    const le = new LocalEngine(local, data, chunk, opts);
    await le.minibatch(idx, 3);
    await le.close();
    const single = model();
    const ranges = chunkRanges(batch, chunk);
    // each chunk's gradient the plain way: zeroed, then accumulated into (no unwritten-gradient overwrite)
    const chunks = ranges.map(([s, e], k) => {
      single.params.zeroGrad();
      single.gradChunk(data, idx.subarray(s, e), (e - s) / idx.length, { seed: chunkSeed(opts.seed, 3, k), augment: opts.augment, fill: opts.fill });
      return Float32Array.from(single.params.grad.view());
    });
    const got = local.params.grad.view();
    const rowWeights = findRowWeights(local, data);
    expect(rowWeights.map((w) => w.name)).toEqual(['fc1.weight', 'fc2.weight']);
    const f64Sum = (i: number) => chunks.reduce((a, c) => a + c[i], 0);
    // relative to the window's largest entry: an f32 sum over the batch errs by about eps × its terms' size
    const scale = rowWeights.map((w) => {
      let m = 0;
      for (let i = w.offset; i < w.offset + w.inF * w.outF; i++) m = Math.max(m, Math.abs(f64Sum(i)));
      return m;
    });
    const rowWeightAt = (i: number) => rowWeights.findIndex((w) => i >= w.offset && i < w.offset + w.inF * w.outF);
    const leaves = new Float32Array(ranges.length);
    let differ = 0;
    let far = 0;
    let rowFloats = 0;
    for (let i = 0; i < got.length; i++) {
      for (let k = 0; k < leaves.length; k++) leaves[k] = chunks[k][i];
      const w = rowWeightAt(i);
      if (w >= 0) {
        rowFloats++;
        if (Math.abs(got[i] - f64Sum(i)) > 1e-5 * scale[w]) far++;
      } else if (got[i] !== treeSum(leaves)) differ++; // equal values (an overwritten gradient may keep a -0 where zero + -0 gives +0)
    }
    expect(differ).toBe(0);
    expect(far).toBe(0);
    expect(rowFloats).toBe(500 * 1250 + 10 * 500);
    expect(chunks[0].some((v, i) => v !== got[i])).toBe(true);
  });

  // batch 60 in chunks of 11: 6 chunks (the last of 5); 4 workers split them 2+2+1+1, so the
  // reduce sums nodes [4, 5) and [5, 6) that no task owns whole
  it.each([1, 2, 3, 4, 6])('the pool with %i workers gives this thread\'s minibatch gradient, bit for bit', async (workers) => {
    const idx = Uint32Array.from({ length: 60 }, (_, i) => (i * 37) % n);
    const local = model();
    const le = new LocalEngine(local, data, 11, opts);
    const want = await le.minibatch(idx, 3);
    const pooled = model();
    const pe = new PoolEngine(core, pooled, LENET_SPEC, data, { workers, chunkSize: 11, batchSize: 60 }, opts);
    try {
      const got = await pe.minibatch(idx, 3);
      expect(got.lossSum).toBe(want.lossSum);
      expect(got.correct).toBe(want.correct);
      expect(Buffer.from(pooled.params.grad.view().buffer, pooled.params.grad.ptr, pooled.params.size * 4).equals(Buffer.from(local.params.grad.view().buffer, local.params.grad.ptr, local.params.size * 4))).toBe(true);
    } finally {
      await pe.close();
      await le.close();
    }
  }, 60_000);

  // the step tasks run here one after another, each on its own worker state, with no wait: the
  // first two find the others missing and leave their reduce slices to reduce tasks, the last
  // finds everyone and reduces its own
  it('a step task that waits in vain leaves its slice to a reduce task, to the same bits', async () => {
    const idx = Uint32Array.from({ length: 60 }, (_, i) => (i * 29) % n);
    const local = model();
    const le = new LocalEngine(local, data, 11, opts);
    const want = await le.minibatch(idx, 4);
    const pooled = model();
    const cfg = { workers: 3, chunkSize: 11, batchSize: 60 };
    const init = gradInit(core, pooled, LENET_SPEC, data, cfg, opts);
    const workers = Array.from({ length: 3 }, () => new GradCompute(init, () => loadCoreSync({ flavor: 'simd' })));
    const seen: string[] = [];
    let next = 0;
    const run = (async (task: unknown, name: string) => {
      seen.push(name);
      const w = workers[next++ % workers.length];
      if (name === 'step') return w.step({ ...(task as StepTask), waitMs: 0 });
      if (name === 'reduce') return w.reduce(task as ReduceTask);
      throw new Error(`unexpected task ${name}`);
    }) as RunTask;
    try {
      const got = await new SharedGradStep(pooled, cfg, init).minibatch(idx, 4, run);
      expect(seen).toEqual(['step', 'step', 'step', 'reduce', 'reduce']);
      expect(got.lossSum).toBe(want.lossSum);
      expect(Buffer.from(pooled.params.grad.view().buffer, pooled.params.grad.ptr, pooled.params.size * 4).equals(Buffer.from(local.params.grad.view().buffer, local.params.grad.ptr, local.params.size * 4))).toBe(true);
    } finally {
      await le.close();
    }
  }, 60_000);

  // 256 examples in batches of 60: five tasks, the last of 16, finishing in any order on 3 workers
  it('the pool evaluates a test set to the bits of this thread, with progress up to every example', async () => {
    const trained = model();
    const want = trained.evaluate(data, n, 60);
    const pe = new PoolEngine(core, trained, LENET_SPEC, data, { workers: 3, chunkSize: 11, batchSize: 60 }, opts);
    try {
      const seen: number[] = [];
      const got = await pe.evaluate(data, 60, (done) => seen.push(done));
      expect(got.lossSum).toBe(want.lossSum);
      expect(got.correct).toBe(want.correct);
      expect(seen).toHaveLength(5);
      expect(Math.max(...seen)).toBe(n);
      // new weights reach the workers: the next evaluation follows them
      const v = trained.params.data.view();
      for (let i = 0; i < v.length; i += 7) v[i] *= 0.5;
      const again = await pe.evaluate(data, 60, () => {});
      expect(again.lossSum).toBe(trained.evaluate(data, n, 60).lossSum);
      expect(again.lossSum).not.toBe(want.lossSum);
    } finally {
      await pe.close();
    }
  }, 60_000);

  it('a pool whose threads are pinned to CPUs of their own gives the same bits', async () => {
    const idx = Uint32Array.from({ length: 60 }, (_, i) => (i * 41) % n);
    const local = model();
    const le = new LocalEngine(local, data, 11, opts);
    const want = await le.minibatch(idx, 5);
    const pooled = model();
    const pe = new PoolEngine(core, pooled, LENET_SPEC, data, { workers: 2, chunkSize: 11, batchSize: 60, pin: 'on' }, opts);
    try {
      // pinned wherever the machine has two CPUs to give (a one-core runner runs unpinned)
      expect(pe.pinning).toMatch(/^(pinned, one CPU each: \d+, \d+|not pinned \(.+\))$/);
      const got = await pe.minibatch(idx, 5);
      expect(got.lossSum).toBe(want.lossSum);
      expect(Buffer.from(pooled.params.grad.view().buffer, pooled.params.grad.ptr, pooled.params.size * 4).equals(Buffer.from(local.params.grad.view().buffer, local.params.grad.ptr, local.params.size * 4))).toBe(true);
    } finally {
      await pe.close();
      await le.close();
    }
  }, 60_000);
});
