// npm run bench:kernels — single-thread GFLOP/s of the GEMM, linear and conv2d kernels for the
// plain-SIMD and the relaxed-SIMD builds, each against that build's f32x4 multiply-add peak
// (assembly/peak.ts) measured in the same run (STYLE 27). Every kernel is first verified
// against its naive reference, timed once cold, warmed up (V8 runs a wasm function in its
// baseline tier until it is tiered up between calls), then timed in repeats interleaved with
// peak samples, so a busy machine slows both sides of the ratio alike. Reports the median and
// spread of the repeats; prints a table and writes the same numbers as JSON.
// FLOPs: 2*M*N*K for GEMM (XNNPACK's OPS), 2*n*oc*oh*ow*c*kh*kw per conv pass.
import '../src/cli/relaxed_simd.js';
import { cpus } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { loadCoreSync, type Core, type Flavor } from '../src/core/load.js';
import type { Buf } from '../src/core/heap.js';
import { gemm, type GemmDims } from '../src/core/kernels/gemm.js';
import { linearForward, linearBackwardData, linearBackwardWeight } from '../src/core/kernels/linear.js';
import { linearForwardRef, linearBackwardDataRef, linearBackwardWeightRef } from '../src/ref/linear.js';
import { helpText, parseFlags, runCli } from '../src/cli/common.js';
import { peakSample, peakGflops } from './peak.js';

const FLAGS = {
  quick: { type: 'boolean', default: false, help: 'fewer and shorter repeats (a smoke run; numbers are noisier)' },
  flavors: { type: 'string', arg: 'LIST', default: 'simd,relaxed', help: 'kernel builds, comma separated' },
  filter: { type: 'string', arg: 'TEXT', help: 'only kernels whose name or shape contains TEXT' },
  json: { type: 'string', arg: 'FILE', default: 'bench/results/kernels.json', help: 'where to write the results' },
} as const;

const HELP = helpText(
  'npm run bench:kernels -- [options]',
  'GFLOP/s of the GEMM, linear and conv2d kernels and their fraction of the measured multiply-add peak, per kernel build.',
  FLAGS,
);

/** One benchmark: what it is, its FLOPs per call, and how to set it up on a core. */
interface Spec {
  kernel: string;
  shape: string;
  flops: number;
  /** allocates and fills buffers; returns the call to time, a verifier and a cleanup */
  setup(core: Core): { run(): void; verify(): void; free(): void };
}

interface Result {
  kernel: string;
  shape: string;
  flops: number;
  gflops: number;
  min: number;
  max: number;
  /** (max - min) / median of the repeats */
  spread: number;
  /** median of the peak samples interleaved with this kernel's repeats */
  peak: number;
  fraction: number;
  firstMs: number;
  repeats: number;
  callsPerRepeat: number;
}

// ---------------------------------------------------------------------------------------------
// data and checks

function rand(n: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
  }
  return out;
}

/** Throws unless |got - want| <= rtol * max(|want|, scale) everywhere. */
function close(what: string, got: ArrayLike<number>, want: ArrayLike<number>, scale: number, rtol = 1e-4): void {
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]) / Math.max(Math.abs(want[i]), scale);
    if (!(err <= rtol)) {
      throw new Error(`${what}: verification failed at ${i}: got ${got[i]}, expected ${want[i]} (relative error ${err.toExponential(2)})`);
    }
  }
}

function maxAbs(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s = Math.max(s, Math.abs(x[i]));
  return s;
}

// ---------------------------------------------------------------------------------------------
// the kernels

function gemmSpec(kernel: 'gemm_nn' | 'gemm_nt' | 'gemm_tn', m: number, n: number, k: number, note = ''): Spec {
  const transA = kernel === 'gemm_tn';
  const transB = kernel === 'gemm_nt';
  const dims: GemmDims = { m, n, k, transA, transB };
  return {
    kernel,
    shape: `M=${m} N=${n} K=${k}${note ? ` (${note})` : ''}`,
    flops: 2 * m * n * k,
    setup(core) {
      const a = rand(m * k, 1), b = rand(k * n, 2);
      const A = core.heap.from(a), B = core.heap.from(b), C = core.heap.alloc(m * n);
      return {
        run: () => gemm(core, C, A, B, dims),
        verify() {
          // 256 sampled elements against f64 dot products (a full reference of the big shapes
          // would take seconds of JS)
          const c = C.view();
          const got: number[] = [], want: number[] = [];
          let scale = 0;
          for (let s = 0; s < 256; s++) {
            const i = (s * 7919) % m, j = (s * 104729) % n;
            let sum = 0, sabs = 0;
            for (let p = 0; p < k; p++) {
              const av = transA ? a[p * m + i] : a[i * k + p];
              const bv = transB ? b[j * k + p] : b[p * n + j];
              sum += av * bv;
              sabs += Math.abs(av * bv);
            }
            got.push(c[i * n + j]);
            want.push(sum);
            scale = Math.max(scale, sabs);
          }
          close(`${kernel} ${m}x${n}x${k}`, got, want, scale * 1e-2);
        },
        free() {
          A.free();
          B.free();
          C.free();
        },
      };
    },
  };
}

function linearSpecs(m: number, inF: number, outF: number, note: string): Spec[] {
  const d = { m, inF, outF };
  const shape = `x=[${m},${inF}] w=[${outF},${inF}] (${note})`;
  const flops = 2 * m * inF * outF;
  const data = () => ({ x: rand(m * inF, 3), w: rand(outF * inF, 4), b: rand(outF, 5), dy: rand(m * outF, 6) });
  return [
    {
      kernel: 'linear_forward',
      shape,
      flops,
      setup(core) {
        const { x, w, b } = data();
        const X = core.heap.from(x), W = core.heap.from(w), B = core.heap.from(b), Y = core.heap.alloc(m * outF);
        return {
          run: () => linearForward(core, Y, X, W, B, d),
          verify: () => close('linear_forward', Y.view(), linearForwardRef(x, w, b, d), 1e-2 * maxAbs(linearForwardRef(x, w, b, d))),
          free: () => [X, W, B, Y].forEach((t) => t.free()),
        };
      },
    },
    {
      kernel: 'linear_backward_data',
      shape,
      flops,
      setup(core) {
        const { w, dy } = data();
        const W = core.heap.from(w), DY = core.heap.from(dy), DX = core.heap.alloc(m * inF);
        return {
          run: () => linearBackwardData(core, DX, DY, W, d),
          verify() {
            const want = linearBackwardDataRef(dy, w, d);
            close('linear_backward_data', DX.view(), want, 1e-2 * maxAbs(want));
          },
          free: () => [W, DY, DX].forEach((t) => t.free()),
        };
      },
    },
    {
      kernel: 'linear_backward_weight',
      shape,
      flops,
      setup(core) {
        const { x, dy } = data();
        const X = core.heap.from(x), DY = core.heap.from(dy), DW = core.heap.alloc(outF * inF);
        return {
          run: () => linearBackwardWeight(core, DW, DY, X, d),
          verify() {
            const want = linearBackwardWeightRef(dy, x, d);
            close('linear_backward_weight', DW.view(), want, 1e-2 * maxAbs(want));
          },
          free: () => [X, DY, DW].forEach((t) => t.free()),
        };
      },
    },
  ];
}

/** The conv2d wrappers (src/core/kernels/conv2d.ts), if that module exports them. */
interface ConvApi {
  fwd: (core: Core, y: Buf, x: Buf, w: Buf, b: Buf | null, g: ConvGeom) => void;
  bwdData: (core: Core, dx: Buf, dy: Buf, w: Buf, g: ConvGeom) => void;
  bwdFilter: (core: Core, dw: Buf, dy: Buf, x: Buf, g: ConvGeom) => void;
  fwdRef?: (x: Float32Array, w: Float32Array, b: Float32Array | null, g: ConvGeom) => Float32Array;
  dataRef?: (dy: Float32Array, w: Float32Array, g: ConvGeom) => Float32Array;
  filterRef?: (dy: Float32Array, x: Float32Array, g: ConvGeom) => Float32Array;
}

interface ConvGeom {
  n: number; c: number; h: number; w: number; oc: number;
  kh: number; kw: number; sh: number; sw: number; ph: number; pw: number;
}

async function loadConv(): Promise<ConvApi | null> {
  try {
    const k = (await import('../src/core/kernels/conv2d.js')) as Record<string, unknown>;
    const r = (await import('../src/ref/conv2d.js').catch(() => ({}))) as Record<string, unknown>;
    if (typeof k.conv2dForward !== 'function' || typeof k.conv2dBackwardData !== 'function' || typeof k.conv2dBackwardFilter !== 'function') return null;
    return {
      fwd: k.conv2dForward as ConvApi['fwd'],
      bwdData: k.conv2dBackwardData as ConvApi['bwdData'],
      bwdFilter: k.conv2dBackwardFilter as ConvApi['bwdFilter'],
      fwdRef: r.conv2dForwardRef as ConvApi['fwdRef'],
      dataRef: r.conv2dBackwardDataRef as ConvApi['dataRef'],
      filterRef: r.conv2dBackwardFilterRef as ConvApi['filterRef'],
    };
  } catch {
    return null;
  }
}

function convSpecs(api: ConvApi, g: ConvGeom, note: string): Spec[] {
  const oh = Math.floor((g.h + 2 * g.ph - g.kh) / g.sh) + 1;
  const ow = Math.floor((g.w + 2 * g.pw - g.kw) / g.sw) + 1;
  const shape = `x=[${g.n},${g.c},${g.h},${g.w}] w=[${g.oc},${g.c},${g.kh},${g.kw}] p=${g.ph} (${note})`;
  const flops = 2 * g.n * g.oc * oh * ow * g.c * g.kh * g.kw;
  const xs = g.n * g.c * g.h * g.w, ws = g.oc * g.c * g.kh * g.kw, ys = g.n * g.oc * oh * ow;
  const check = (what: string, got: Float32Array, want: Float32Array | undefined) => {
    if (want) close(what, got, want, 1e-2 * maxAbs(want));
  };
  return [
    {
      kernel: 'conv2d_forward',
      shape,
      flops,
      setup(core) {
        const x = rand(xs, 7), w = rand(ws, 8), b = rand(g.oc, 9);
        const X = core.heap.from(x), W = core.heap.from(w), B = core.heap.from(b), Y = core.heap.alloc(ys);
        return {
          run: () => api.fwd(core, Y, X, W, B, g),
          verify: () => check('conv2d_forward', Y.view(), api.fwdRef?.(x, w, b, g)),
          free: () => [X, W, B, Y].forEach((t) => t.free()),
        };
      },
    },
    {
      kernel: 'conv2d_backward_data',
      shape,
      flops,
      setup(core) {
        const dy = rand(ys, 10), w = rand(ws, 11);
        const DY = core.heap.from(dy), W = core.heap.from(w), DX = core.heap.alloc(xs);
        return {
          run: () => api.bwdData(core, DX, DY, W, g),
          verify: () => check('conv2d_backward_data', DX.view(), api.dataRef?.(dy, w, g)),
          free: () => [DY, W, DX].forEach((t) => t.free()),
        };
      },
    },
    {
      kernel: 'conv2d_backward_filter',
      shape,
      flops,
      setup(core) {
        const dy = rand(ys, 12), x = rand(xs, 13);
        const DY = core.heap.from(dy), X = core.heap.from(x), DW = core.heap.alloc(ws);
        return {
          run: () => api.bwdFilter(core, DW, DY, X, g),
          verify: () => check('conv2d_backward_filter', DW.view(), api.filterRef?.(dy, x, g)),
          free: () => [DY, X, DW].forEach((t) => t.free()),
        };
      },
    },
  ];
}

async function specs(): Promise<{ list: Spec[]; notes: string[] }> {
  const notes: string[] = [];
  const list: Spec[] = [
    ...[128, 256, 512, 1024].map((s) => gemmSpec('gemm_nn', s, s, s, 'square')),
    // LeNet at batch 64, as GEMMs over the whole batch
    gemmSpec('gemm_nn', 50, 6400, 500, 'conv2 forward'),
    gemmSpec('gemm_nt', 50, 500, 6400, 'conv2 backward-filter'),
    gemmSpec('gemm_tn', 500, 6400, 50, 'conv2 backward-data'),
    gemmSpec('gemm_nn', 64, 500, 1250, 'dense1 x.W'),
    gemmSpec('gemm_nt', 64, 500, 1250, 'dense1 forward, W [out,in]'),
    gemmSpec('gemm_nn', 64, 1250, 500, 'dense1 backward-data'),
    gemmSpec('gemm_tn', 500, 1250, 64, 'dense1 backward-weight'),
    gemmSpec('gemm_tn', 1250, 500, 64, 'dense1 backward-weight, transposed'),
    ...linearSpecs(64, 1250, 500, 'LeNet fc1'),
    ...linearSpecs(64, 500, 10, 'LeNet fc2'),
  ];
  const conv = await loadConv();
  if (conv) {
    list.push(...convSpecs(conv, { n: 64, c: 20, h: 14, w: 14, oc: 50, kh: 5, kw: 5, sh: 1, sw: 1, ph: 0, pw: 0 }, 'LeNet conv2'));
    list.push(...convSpecs(conv, { n: 64, c: 1, h: 28, w: 28, oc: 20, kh: 5, kw: 5, sh: 1, sw: 1, ph: 2, pw: 2 }, 'LeNet conv1'));
  } else {
    notes.push('conv2d: src/core/kernels/conv2d.ts does not export conv2dForward/BackwardData/BackwardFilter yet; skipped');
  }
  return { list, notes };
}

// ---------------------------------------------------------------------------------------------
// timing

const now = () => performance.now();

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

function bench(core: Core, spec: Spec, quick: boolean, peakIters: { n: number }): Result {
  const target = quick ? 15 : 60; // ms per repeat
  const repeats = quick ? 3 : 9;
  const s = spec.setup(core);
  try {
    let t = now();
    s.run();
    const firstMs = now() - t;
    s.verify();
    // warm-up: enough calls for tier-up, at least ~3 repeats' worth of time
    const warmEnd = now() + 3 * target;
    let calls = 1;
    for (let i = 0; i < 5 || now() < warmEnd; i++) {
      t = now();
      s.run();
      calls = Math.max(1, Math.ceil(target / Math.max(now() - t, 1e-3)));
    }
    const rates: number[] = [];
    const peaks: number[] = [];
    for (let r = 0; r < repeats; r++) {
      peaks.push(peakSample(core, target / 2, peakIters));
      t = now();
      for (let i = 0; i < calls; i++) s.run();
      rates.push((spec.flops * calls) / (now() - t) / 1e6);
    }
    const g = median(rates);
    const p = median(peaks);
    return {
      kernel: spec.kernel,
      shape: spec.shape,
      flops: spec.flops,
      gflops: g,
      min: Math.min(...rates),
      max: Math.max(...rates),
      spread: (Math.max(...rates) - Math.min(...rates)) / g,
      peak: p,
      fraction: g / p,
      firstMs,
      repeats,
      callsPerRepeat: calls,
    };
  } finally {
    s.free();
    core.releaseScratch();
  }
}

// ---------------------------------------------------------------------------------------------

async function main(argv: string[]) {
  const f = parseFlags(argv, FLAGS);
  const quick = f.quick;
  const flavors = (f.flavors ?? 'simd,relaxed').split(',').map((s) => s.trim()) as Flavor[];
  const { list: all, notes } = await specs();
  const list = f.filter ? all.filter((s) => `${s.kernel} ${s.shape}`.includes(f.filter as string)) : all;
  const out: Array<{ flavor: Flavor; peak: { median: number; min: number; max: number; chained: number }; results: Result[] }> = [];
  for (const flavor of flavors) {
    let core: Core;
    try {
      core = loadCoreSync({ flavor });
    } catch (e) {
      notes.push(`${flavor}: not run: ${(e as Error).message}`);
      process.stderr.write(`bench:kernels: ${flavor}: ${(e as Error).message}\n`);
      continue;
    }
    const peakIters = { n: 10_000 };
    for (let i = 0; i < 10; i++) core.exports.peak_madd(1000, 1); // tier up
    const p0 = Array.from({ length: quick ? 3 : 7 }, () => peakSample(core, 30, peakIters));
    const chained = peakGflops(core, 3, 30, true);
    process.stdout.write(
      `\n${flavor} build: madd peak ${median(p0).toFixed(1)} GFLOP/s (min ${Math.min(...p0).toFixed(1)}, max ${Math.max(...p0).toFixed(1)}; ` +
        `GEMM-tile probe, ${core.exports.peak_madds_per_iter()} madds/iteration; the latency-bound chained probe gives ${chained.toFixed(1)})\n`,
    );
    const head = `${'kernel'.padEnd(24)} ${'shape'.padEnd(56)} ${'GFLOP/s'.padStart(8)} ${'spread'.padStart(7)} ${'peak'.padStart(6)} ${'%peak'.padStart(6)} ${'first ms'.padStart(9)}`;
    process.stdout.write(`${head}\n${'-'.repeat(head.length)}\n`);
    const results: Result[] = [];
    for (const spec of list) {
      const r = bench(core, spec, quick, peakIters);
      results.push(r);
      process.stdout.write(
        `${r.kernel.padEnd(24)} ${r.shape.padEnd(56)} ${r.gflops.toFixed(1).padStart(8)} ${`±${(r.spread * 50).toFixed(0)}%`.padStart(7)} ` +
          `${r.peak.toFixed(1).padStart(6)} ${`${(r.fraction * 100).toFixed(0)}%`.padStart(6)} ${r.firstMs.toFixed(1).padStart(9)}\n`,
      );
    }
    out.push({ flavor, peak: { median: median(p0), min: Math.min(...p0), max: Math.max(...p0), chained }, results });
  }
  for (const n of notes) process.stdout.write(`note: ${n}\n`);
  const file = resolve(f.json ?? 'bench/results/kernels.json');
  mkdirSync(dirname(file), { recursive: true });
  const doc = {
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    quick,
    notes,
    columns: 'gflops = median of repeats; spread = (max-min)/median; fraction = gflops / median of the peak samples interleaved with the repeats',
    flavors: out,
  };
  writeFileSync(file, JSON.stringify(doc, null, 2) + '\n');
  process.stdout.write(`wrote ${file}\n`);
}

await runCli('bench:kernels', HELP, process.argv.slice(2), main);
