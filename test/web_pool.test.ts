// WebWorkerPool's dispatch and error handling, in Node with a stand-in for the browser's Worker
// (the real workers run in test/browser_train.test.ts, in Chromium): tasks go to idle workers,
// one at a time each, in order; a task that throws rejects with its name and the worker's
// message; a worker that fails rejects what it ran and what was queued, and every later call;
// a worker that cannot start rejects start(); webWorkersAvailable() says why a page cannot.
import { describe, it, expect, afterEach } from 'vitest';
import { WebWorkerPool, webWorkersAvailable } from '../src/train/web_pool.js';
import type { WebWorkerInit } from '../workers/web_worker.js';

type Listener = ((e: { data: unknown }) => void) | null;

/** A Worker stand-in: answers init with ready (or an error), tasks with task.value * 2 after task.ms, or task.fail's message. */
class FakeWorker {
  static all: FakeWorker[] = [];
  static startError: string | null = null;
  onmessage: Listener = null;
  onerror: ((e: { message: string; preventDefault(): void }) => void) | null = null;
  running = 0;
  maxRunning = 0;
  handled: number[] = [];
  terminated = false;
  constructor(
    readonly url: string | URL,
    readonly opts: { type: string; name: string },
  ) {
    FakeWorker.all.push(this);
  }
  postMessage(m: { role?: string; id?: number; name?: string; task?: { value: number; ms: number; fail?: string } }): void {
    if (m.role) {
      setTimeout(() => this.onmessage?.({ data: FakeWorker.startError ? { error: `could not start: ${FakeWorker.startError}` } : { ready: true } }), 1);
      return;
    }
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    const { id, task } = m;
    setTimeout(() => {
      this.running--;
      this.handled.push(task!.value);
      this.onmessage?.({ data: task!.fail ? { id, error: task!.fail } : { id, result: task!.value * 2 } });
    }, task!.ms);
  }
  crash(message: string): void {
    this.onerror?.({ message, preventDefault() {} });
  }
  terminate(): void {
    this.terminated = true;
  }
}

const g = globalThis as { Worker?: unknown; crossOriginIsolated?: boolean };
const INIT = { role: 'predict', coreUrl: 'http://x/build/', flavor: 'simd', init: {} } as unknown as WebWorkerInit;

afterEach(() => {
  delete g.Worker;
  delete g.crossOriginIsolated;
  FakeWorker.all = [];
  FakeWorker.startError = null;
});

describe('WebWorkerPool', () => {
  it('hands tasks to idle workers, one at a time each, in order, as module workers', async () => {
    g.Worker = FakeWorker;
    const pool = await WebWorkerPool.start(2, 'http://x/worker.js', INIT);
    expect(FakeWorker.all.map((w) => w.opts.type)).toEqual(['module', 'module']);
    const results = await Promise.all([5, 1, 1, 1, 1].map((ms, i) => pool.run<number>({ value: i, ms }, 'predict')));
    expect(results).toEqual([0, 2, 4, 6, 8]);
    expect(FakeWorker.all.map((w) => w.maxRunning)).toEqual([1, 1]);
    // the second worker took the next tasks while the first ran its long one
    expect(FakeWorker.all[1].handled.slice(0, 2)).toEqual([1, 2]);
    await pool.destroy();
    expect(FakeWorker.all.every((w) => w.terminated)).toBe(true);
    await expect(pool.run({ value: 1, ms: 1 }, 'predict')).rejects.toThrow(/the pool is closed/);
  });

  it("a task that throws rejects with the task's name and the worker's message; the worker serves on", async () => {
    g.Worker = FakeWorker;
    const pool = await WebWorkerPool.start(1, 'http://x/worker.js', INIT);
    await expect(pool.run({ value: 1, ms: 1, fail: 'no such layer' }, 'grad', 'step 3, chunk 1')).rejects.toThrow('step 3, chunk 1 failed in a web worker: no such layer');
    expect(await pool.run<number>({ value: 4, ms: 1 }, 'grad')).toBe(8);
    await pool.destroy();
  });

  it('a worker that fails rejects its task, the queued ones and every later call', async () => {
    g.Worker = FakeWorker;
    const pool = await WebWorkerPool.start(1, 'http://x/worker.js', INIT);
    const running = pool.run({ value: 1, ms: 50 }, 'grad', 'step 0, chunk 0');
    const queued = pool.run({ value: 2, ms: 1 }, 'grad', 'step 0, chunk 1');
    FakeWorker.all[0].crash('out of memory');
    await expect(running).rejects.toThrow('step 0, chunk 0: web worker 0 failed: out of memory');
    await expect(queued).rejects.toThrow('step 0, chunk 1: web worker 0 failed: out of memory');
    await expect(pool.run({ value: 3, ms: 1 }, 'grad', 'step 1, chunk 0')).rejects.toThrow('step 1, chunk 0: the web worker pool failed: web worker 0 failed: out of memory');
    await pool.destroy();
  });

  it('start() rejects when a worker cannot load the core, and ends the others', async () => {
    g.Worker = FakeWorker;
    FakeWorker.startError = 'loadCore: fetching http://x/build/iruka.wasm failed: HTTP 404';
    await expect(WebWorkerPool.start(2, 'http://x/worker.js', INIT)).rejects.toThrow('web worker 0 could not start: loadCore: fetching http://x/build/iruka.wasm failed: HTTP 404');
    expect(FakeWorker.all.every((w) => w.terminated)).toBe(true);
    await expect(WebWorkerPool.start(0, 'http://x/worker.js', INIT)).rejects.toThrow(/workers must be an integer >= 1, got 0/);
  });

  it('webWorkersAvailable names what a page lacks: workers, or cross-origin isolation', async () => {
    expect(webWorkersAvailable()).toEqual({ ok: false, why: 'this environment has no Web Workers' });
    g.Worker = FakeWorker;
    expect(webWorkersAvailable()).toEqual({ ok: true });
    g.crossOriginIsolated = false;
    expect(webWorkersAvailable().why).toMatch(/not cross-origin isolated \(it needs the headers Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp\)/);
    await expect(WebWorkerPool.start(1, 'http://x/worker.js', INIT)).rejects.toThrow(/web worker pool: the page is not cross-origin isolated/);
  });
});
