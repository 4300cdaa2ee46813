// Running statistics of batch normalisation, updated outside the op (the batchnorm op never
// changes its running_mean / running_var inputs; in training mode it hands back the batch
// mean and unbiased variance through attrs.stats). PyTorch's rule, in f32 as PyTorch's float
// buffers: running = (1 - momentum)*running + momentum*batch.

/**
 * Updates runMean and runVar (each [C]) in place from stats = [batch mean (C), unbiased batch
 * variance (C)] (what the batchnorm op wrote into attrs.stats). momentum in [0, 1], default 0.1
 * as PyTorch's. The caller counts num_batches_tracked.
 */
export function updateRunningStats(runMean: Float32Array, runVar: Float32Array, stats: Float32Array, momentum = 0.1): void {
  const c = runMean.length;
  if (runVar.length !== c) throw new Error(`updateRunningStats: runVar has ${runVar.length} values, runMean ${c}`);
  if (stats.length !== 2 * c) throw new Error(`updateRunningStats: stats must hold 2*C = ${2 * c} values (mean, then variance), got ${stats.length}`);
  if (typeof momentum !== 'number' || !(momentum >= 0 && momentum <= 1)) throw new Error(`updateRunningStats: momentum must be a number in [0, 1], got ${momentum}`);
  const m = Math.fround(momentum);
  const keep = Math.fround(1 - m);
  for (let k = 0; k < c; k++) {
    runMean[k] = Math.fround(Math.fround(keep * runMean[k]) + Math.fround(m * stats[k]));
    runVar[k] = Math.fround(Math.fround(keep * runVar[k]) + Math.fround(m * stats[c + k]));
  }
}
