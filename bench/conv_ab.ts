// node dist/bench/conv_ab.js A.wasm[,B.wasm...] [rounds] [filter] — the LeNet conv2d rows of
// several builds of the core side by side, as a fraction of each build's own madd peak.
//
// For A/B work on a machine shared by other tenants: each round runs, for every module in turn,
// a ~1 ms sample of its peak probe and then one call of the kernel (conv2 ~3 ms, conv1 ~1 ms),
// and the figure is the best call rate over the best peak sample. Best-of pairs the quietest
// windows of both sides, which a median over long repeats (bench:kernels) cannot do when the
// load moves faster than its repeats; interleaving the modules call by call keeps them under the
// same load. Each module is loaded from its bytes (a relaxed build needs relaxed SIMD enabled).
import { readFileSync } from 'node:fs';
import { enableRelaxedSimd } from '../src/relaxed_simd.js';
import { loadCoreSync, type Core } from '../src/core/load.js';
import { conv2dForward, conv2dBackwardData, conv2dBackwardFilter, type Conv2dGeom } from '../src/core/kernels/conv2d.js';

interface PeakExports {
  peak_madd(iters: number, seed: number): number;
  peak_madds_per_iter(): number;
}

/** n values in [-1, 1) from a seeded xorshift (the kernels' speed does not depend on them). */
function randn(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    out[i] = s / 2147483648 - 1;
  }
  return out;
}

const SHAPES: [string, Conv2dGeom][] = [
  ['conv2', { n: 64, c: 20, h: 14, w: 14, oc: 50, kh: 5, kw: 5, sh: 1, sw: 1, ph: 0, pw: 0 }],
  ['conv1', { n: 64, c: 1, h: 28, w: 28, oc: 20, kh: 5, kw: 5, sh: 1, sw: 1, ph: 2, pw: 2 }],
];
const PASSES = ['forward', 'backward-data', 'backward-filter'] as const;

function setup(core: Core, g: Conv2dGeom): { flops: number; run: Record<(typeof PASSES)[number], () => void> } {
  const oh = Math.floor((g.h + 2 * g.ph - g.kh) / g.sh) + 1;
  const ow = Math.floor((g.w + 2 * g.pw - g.kw) / g.sw) + 1;
  const nx = g.n * g.c * g.h * g.w, nw = g.oc * g.c * g.kh * g.kw, ny = g.n * g.oc * oh * ow;
  const X = core.heap.from(randn(nx, 1)), W = core.heap.from(randn(nw, 2)), B = core.heap.from(randn(g.oc, 3));
  const DY = core.heap.from(randn(ny, 4)), Y = core.heap.alloc(ny), DX = core.heap.alloc(nx), DW = core.heap.alloc(nw);
  return {
    flops: 2 * g.n * g.oc * oh * ow * g.c * g.kh * g.kw,
    run: {
      forward: () => conv2dForward(core, Y, X, W, B, g),
      'backward-data': () => conv2dBackwardData(core, DX, DY, W, g),
      'backward-filter': () => conv2dBackwardFilter(core, DW, DY, X, g),
    },
  };
}

/** GFLOP/s of one ~1 ms peak sample. */
function peak(core: Core): number {
  const e = core.fns<PeakExports>();
  const iters = 200_000;
  const t = performance.now();
  e.peak_madd(iters, 1);
  return (iters * e.peak_madds_per_iter() * 8) / (performance.now() - t) / 1e6;
}

function main(): void {
  const [files, roundsArg, filter = ''] = process.argv.slice(2);
  if (!files) throw new Error('usage: node dist/bench/conv_ab.js A.wasm[,B.wasm...] [rounds] [filter]');
  const rounds = Number(roundsArg ?? 100);
  enableRelaxedSimd();
  const paths = files.split(',');
  const cores = paths.map((f) => loadCoreSync({ bytes: readFileSync(f) }));
  console.log(`% of each module's own madd peak (best call / best peak sample over ${rounds} interleaved rounds): ${paths.join('  |  ')}`);
  for (const [name, g] of SHAPES) {
    for (const pass of PASSES) {
      if (!`${name} ${pass}`.includes(filter)) continue;
      const runs = cores.map((c) => setup(c, g));
      for (const r of runs) for (let i = 0; i < 5; i++) r.run[pass]();
      const best = cores.map(() => 0);
      const bestPeak = cores.map(() => 0);
      for (let k = 0; k < rounds; k++) {
        cores.forEach((c, i) => {
          bestPeak[i] = Math.max(bestPeak[i], peak(c));
          const t = performance.now();
          runs[i].run[pass]();
          best[i] = Math.max(best[i], runs[i].flops / (performance.now() - t) / 1e6);
        });
      }
      const cells = cores.map((_, i) => `${((100 * best[i]) / bestPeak[i]).toFixed(1)} % (${best[i].toFixed(1)} / ${bestPeak[i].toFixed(1)})`);
      console.log(`${name} ${pass.padEnd(15)} ${cells.join('   ')}`);
    }
  }
}

main();
