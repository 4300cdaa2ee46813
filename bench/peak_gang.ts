// The madd peak of several threads at once. On a VM two "cores" may be two hyperthreads of one
// physical core, or share it with another tenant's vCPU: then each thread's peak is the 1-core
// peak when it runs alone but much less when both run (on the 2-vCPU hosts here, two threads
// together read anywhere from 1.05x to 1.95x one thread, minute to minute). A trainer with
// `threads` workers can at most reach this gang's peak, so bench:train sets its windows against
// it as well as against `threads` x the 1-core peak. Each thread has its own core and runs
// peak_madd (assembly/peak.ts) on a shared start signal; a sample is their FLOPs over the wall
// time from the first start to the last end.
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import '../src/cli/relaxed_simd.js';
import { loadCoreSync, type Flavor } from '../src/core/load.js';

/** Control words: the sample's generation (-1: stop), threads done, iterations per thread. */
const GEN = 0;
const DONE = 1;
const ITERS = 2;

interface GangData {
  peakGang: true;
  flavor: Flavor;
  ctl: SharedArrayBuffer;
  /** per thread: start and end, ms on the common clock (performance.timeOrigin + now) */
  times: SharedArrayBuffer;
  index: number;
}

if (!isMainThread && (workerData as GangData | null)?.peakGang) member(workerData as GangData);

function member({ flavor, ctl: ctlBuf, times: timesBuf, index }: GangData): void {
  const core = loadCoreSync({ flavor });
  const ctl = new Int32Array(ctlBuf);
  const times = new Float64Array(timesBuf);
  // V8 tiers a WASM function up between calls
  for (let i = 0; i < 20; i++) core.exports.peak_madd(1000, 1);
  parentPort!.postMessage('ready');
  for (let seen = 0; ; ) {
    Atomics.wait(ctl, GEN, seen);
    seen = Atomics.load(ctl, GEN);
    if (seen < 0) return;
    const n = Atomics.load(ctl, ITERS);
    const t0 = performance.timeOrigin + performance.now();
    core.exports.peak_madd(n, 1);
    times[2 * index] = t0;
    times[2 * index + 1] = performance.timeOrigin + performance.now();
    Atomics.add(ctl, DONE, 1);
    Atomics.notify(ctl, DONE);
  }
}

/** `threads` threads that run the madd probe together on demand. */
export class PeakGang {
  private readonly ctl = new Int32Array(new SharedArrayBuffer(3 * 4));
  private readonly times: Float64Array;
  private readonly workers: Worker[] = [];

  private constructor(
    readonly threads: number,
    /** FLOPs of one probe iteration of the build */
    private readonly flopsPerIter: number,
  ) {
    this.times = new Float64Array(new SharedArrayBuffer(threads * 2 * 8));
  }

  static async start(flavor: Flavor, threads: number): Promise<PeakGang> {
    const probe = loadCoreSync({ flavor });
    const gang = new PeakGang(threads, probe.exports.peak_madds_per_iter() * 8);
    const ready: Promise<unknown>[] = [];
    for (let index = 0; index < threads; index++) {
      const data: GangData = { peakGang: true, flavor, ctl: gang.ctl.buffer as SharedArrayBuffer, times: gang.times.buffer as SharedArrayBuffer, index };
      const w = new Worker(new URL(import.meta.url), { workerData: data });
      gang.workers.push(w);
      ready.push(new Promise((res, rej) => { w.once('message', res); w.once('error', rej); }));
    }
    await Promise.all(ready);
    return gang;
  }

  /**
   * One sample of about `ms` milliseconds: the gang's GFLOP/s, all threads' FLOPs over the wall
   * time from the first start to the last end. `iters` carries the calibrated count between samples.
   */
  sample(ms: number, iters: { n: number }): number {
    for (;;) {
      const wall = this.round(iters.n);
      if (wall >= ms * 0.5 || iters.n > 1e9) return (this.threads * iters.n * this.flopsPerIter) / wall / 1e6;
      iters.n = Math.ceil(iters.n * Math.min(16, (ms / Math.max(wall, 0.01)) * 1.2));
    }
  }

  /** Runs every thread on n iterations at once; the wall time in ms. */
  private round(n: number): number {
    Atomics.store(this.ctl, DONE, 0);
    Atomics.store(this.ctl, ITERS, n);
    Atomics.add(this.ctl, GEN, 1);
    Atomics.notify(this.ctl, GEN);
    const deadline = performance.now() + 60_000;
    for (let done = Atomics.load(this.ctl, DONE); done < this.threads; done = Atomics.load(this.ctl, DONE)) {
      if (performance.now() > deadline) throw new Error(`peak gang: ${this.threads - done} of ${this.threads} threads did not finish a sample within a minute`);
      Atomics.wait(this.ctl, DONE, done, 1000);
    }
    let first = Infinity;
    let last = -Infinity;
    for (let t = 0; t < this.threads; t++) {
      first = Math.min(first, this.times[2 * t]);
      last = Math.max(last, this.times[2 * t + 1]);
    }
    return last - first;
  }

  async stop(): Promise<void> {
    Atomics.store(this.ctl, GEN, -1);
    Atomics.notify(this.ctl, GEN);
    await Promise.all(this.workers.map((w) => new Promise((res) => w.once('exit', res))));
  }
}
