// Typed, validating wrappers over the batchnorm family (assembly/batchnorm.ts). x, y, dx, dy
// are (N,C,S) (S = 1 for [N,C], H*W for NCHW); weight, bias and every statistic are (C,).
// The forward wrappers overwrite y and the statistics they write; backwardReduce overwrites its
// two sums; the data-gradient wrappers accumulate (+=) into dx.
import type { Core } from '../load.js';
import type { Buf } from '../heap.js';
import * as check from '../check.js';
import type { KernelOpts } from './elementwise.js';

/** Batch-norm dimensions: n samples, c channels, s values per channel and sample. */
export interface BatchnormDims {
  n: number;
  c: number;
  s: number;
}

type TrainFwd = (y: number, mean: number, invstd: number, vr: number, x: number, w: number, b: number, n: number, c: number, s: number, eps: number) => void;
type EvalFwd = (y: number, invstd: number, x: number, w: number, b: number, rm: number, rv: number, n: number, c: number, s: number, eps: number) => void;
type Reduce = (sdy: number, sdyx: number, dy: number, x: number, mean: number, invstd: number, n: number, c: number, s: number) => void;
type DataTrain = (dx: number, dy: number, x: number, w: number, mean: number, invstd: number, sdy: number, sdyx: number, n: number, c: number, s: number) => void;
type DataEval = (dx: number, dy: number, w: number, invstd: number, n: number, c: number, s: number) => void;

/** The batchnorm family's WASM exports. */
export interface BatchnormExports {
  batchnorm_forward_train: TrainFwd;
  batchnorm_forward_train_scalar: TrainFwd;
  batchnorm_forward_eval: EvalFwd;
  batchnorm_forward_eval_scalar: EvalFwd;
  batchnorm_backward_reduce: Reduce;
  batchnorm_backward_reduce_scalar: Reduce;
  batchnorm_backward_data_train: DataTrain;
  batchnorm_backward_data_train_scalar: DataTrain;
  batchnorm_backward_data_eval: DataEval;
  batchnorm_backward_data_eval_scalar: DataEval;
}

function pick<K extends keyof BatchnormExports>(core: Core, name: K, opts?: KernelOpts): BatchnormExports[K] {
  const f = core.fns<BatchnormExports>();
  return (opts?.scalar ? f[`${name}_scalar` as K] : f[name]) as BatchnormExports[K];
}

/** Checks the dims and returns the element count n*c*s. */
function checkDims(op: string, d: BatchnormDims): number {
  if (d == null || typeof d !== 'object') throw new Error(`${op}: dims must be an object {n, c, s}, got ${d}`);
  check.int(op, 'n', d.n, 1);
  check.int(op, 'c', d.c, 1);
  check.int(op, 's', d.s, 1);
  const total = d.n * d.c * d.s;
  if (total > 0x7fffffff) throw new Error(`${op}: ${total} elements exceed the kernel's 32-bit index range`);
  return total;
}

function checkEps(op: string, eps: number): void {
  check.finite(op, 'eps', eps);
  if (eps < 0) throw new Error(`${op}: eps must be >= 0, got ${eps}`);
}

/** Checks each named buffer holds `n` f32 values. */
function bufs(op: string, n: number, list: Array<[string, Buf]>): void {
  for (const [name, b] of list) check.buf(op, name, b, n);
}

/**
 * Training forward: per channel the batch mean and biased variance over n*s values, then
 * y = (x - mean)*invstd*weight + bias. Writes mean, invstd = 1/sqrt(var + eps) and the biased
 * var (all [c]). y must not overlap x or the statistics.
 */
export function batchnormForwardTrain(
  core: Core, y: Buf, mean: Buf, invstd: Buf, variance: Buf, x: Buf, weight: Buf, bias: Buf,
  d: BatchnormDims, eps: number, opts?: KernelOpts,
): void {
  const op = 'batchnormForwardTrain';
  const total = checkDims(op, d);
  checkEps(op, eps);
  bufs(op, total, [['y', y], ['x', x]]);
  bufs(op, d.c, [['mean', mean], ['invstd', invstd], ['var', variance], ['weight', weight], ['bias', bias]]);
  check.disjoint(op, ['y', y.sub(0, total)], ['x', x.sub(0, total)]);
  for (const [name, b] of [['mean', mean], ['invstd', invstd], ['var', variance]] as const) {
    check.disjoint(op, ['y', y.sub(0, total)], [name, b.sub(0, d.c)]);
  }
  pick(core, 'batchnorm_forward_train', opts)(y.ptr, mean.ptr, invstd.ptr, variance.ptr, x.ptr, weight.ptr, bias.ptr, d.n, d.c, d.s, eps);
}

/**
 * Eval forward: y = (x - runningMean)/sqrt(runningVar + eps)*weight + bias; writes
 * invstd = 1/sqrt(runningVar + eps) [c]. May run in place (y == x).
 */
export function batchnormForwardEval(
  core: Core, y: Buf, invstd: Buf, x: Buf, weight: Buf, bias: Buf, runningMean: Buf, runningVar: Buf,
  d: BatchnormDims, eps: number, opts?: KernelOpts,
): void {
  const op = 'batchnormForwardEval';
  const total = checkDims(op, d);
  checkEps(op, eps);
  bufs(op, total, [['y', y], ['x', x]]);
  bufs(op, d.c, [['invstd', invstd], ['weight', weight], ['bias', bias], ['runningMean', runningMean], ['runningVar', runningVar]]);
  if (y.ptr !== x.ptr) check.disjoint(op, ['y', y.sub(0, total)], ['x', x.sub(0, total)]);
  check.disjoint(op, ['y', y.sub(0, total)], ['invstd', invstd.sub(0, d.c)]);
  pick(core, 'batchnorm_forward_eval', opts)(y.ptr, invstd.ptr, x.ptr, weight.ptr, bias.ptr, runningMean.ptr, runningVar.ptr, d.n, d.c, d.s, eps);
}

/**
 * Per channel: sumDy = sum of dy (the bias gradient) and sumDyXhat = sum of dy*(x - mean)*invstd
 * (the weight gradient). Overwrites both [c]. In eval mode pass the running mean and its invstd.
 */
export function batchnormBackwardReduce(
  core: Core, sumDy: Buf, sumDyXhat: Buf, dy: Buf, x: Buf, mean: Buf, invstd: Buf, d: BatchnormDims, opts?: KernelOpts,
): void {
  const op = 'batchnormBackwardReduce';
  const total = checkDims(op, d);
  bufs(op, total, [['dy', dy], ['x', x]]);
  bufs(op, d.c, [['sumDy', sumDy], ['sumDyXhat', sumDyXhat], ['mean', mean], ['invstd', invstd]]);
  check.disjoint(op, ['sumDy', sumDy.sub(0, d.c)], ['sumDyXhat', sumDyXhat.sub(0, d.c)]);
  pick(core, 'batchnorm_backward_reduce', opts)(sumDy.ptr, sumDyXhat.ptr, dy.ptr, x.ptr, mean.ptr, invstd.ptr, d.n, d.c, d.s);
}

/**
 * Training data gradient: dx += weight*invstd*(dy - sumDy/m - xhat*sumDyXhat/m), m = n*s,
 * from batchnormBackwardReduce's sums. dx must not overlap dy or x.
 */
export function batchnormBackwardDataTrain(
  core: Core, dx: Buf, dy: Buf, x: Buf, weight: Buf, mean: Buf, invstd: Buf, sumDy: Buf, sumDyXhat: Buf,
  d: BatchnormDims, opts?: KernelOpts,
): void {
  const op = 'batchnormBackwardDataTrain';
  const total = checkDims(op, d);
  bufs(op, total, [['dx', dx], ['dy', dy], ['x', x]]);
  bufs(op, d.c, [['weight', weight], ['mean', mean], ['invstd', invstd], ['sumDy', sumDy], ['sumDyXhat', sumDyXhat]]);
  check.disjoint(op, ['dx', dx.sub(0, total)], ['dy', dy.sub(0, total)]);
  check.disjoint(op, ['dx', dx.sub(0, total)], ['x', x.sub(0, total)]);
  pick(core, 'batchnorm_backward_data_train', opts)(dx.ptr, dy.ptr, x.ptr, weight.ptr, mean.ptr, invstd.ptr, sumDy.ptr, sumDyXhat.ptr, d.n, d.c, d.s);
}

/** Eval data gradient: dx += dy*weight*invstd. dx and dy are the same buffer or disjoint. */
export function batchnormBackwardDataEval(
  core: Core, dx: Buf, dy: Buf, weight: Buf, invstd: Buf, d: BatchnormDims, opts?: KernelOpts,
): void {
  const op = 'batchnormBackwardDataEval';
  const total = checkDims(op, d);
  bufs(op, total, [['dx', dx], ['dy', dy]]);
  bufs(op, d.c, [['weight', weight], ['invstd', invstd]]);
  if (dx.ptr !== dy.ptr) check.disjoint(op, ['dx', dx.sub(0, total)], ['dy', dy.sub(0, total)]);
  pick(core, 'batchnorm_backward_data_eval', opts)(dx.ptr, dy.ptr, weight.ptr, invstd.ptr, d.n, d.c, d.s);
}
