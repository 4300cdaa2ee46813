// The soak in CI: 6,000 pool steps (npm run soak does 20,000) with WASM heaps and JS heaps flat
// after the warm-up (bounds in bench/soak.ts); and the same check fails on a deliberate leak of 1 KiB per step,
// so a passing soak means something.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const SOAK = join(__dirname, '..', 'dist', 'bench', 'soak.js');

function soak(args: string[]) {
  const r = spawnSync(process.execPath, ['--expose-gc', SOAK, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('soak', () => {
  it('6,000 steps with 2 workers: every thread sampled, no series beyond its bound', () => {
    const r = soak(['--steps', '6000']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    for (const thread of ['main', 'worker 1', 'worker 2']) {
      for (const series of ['wasmLive', 'wasmBytes', 'heapUsed']) expect(r.out).toMatch(new RegExp(`ok   ${thread}\\s+${series} .*(grew \\d+ B after the warm-up|per 10k steps)`));
    }
    expect(r.out).toMatch(/ok   main\s+rss/);
    expect(r.out).toContain('soak: no growth beyond the bounds');
  });

  it('fails on a leak of 1 KiB per step on the main thread, naming the series', () => {
    const r = soak(['--steps', '2000', '--warmup-steps', '1000', '--leak-bytes', '1024']);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/FAIL main\s+heapUsed/);
    expect(r.err).toMatch(/soak: memory grew beyond its bound: main heapUsed/);
  });
});
