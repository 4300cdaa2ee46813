// Faults under load: worker crashes (a throw, and a thread that exits) injected at seeded steps
// and chunks of a 3-epoch run with the pool; the run completes with the bytes of a fault-free
// run. A storm past the retry budget stops cleanly, and its last checkpoint, resumed, ends in
// those same bytes: nothing was lost.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensors } from '../src/io/safetensors.js';
import { rng } from './helpers/index.js';

const CLI = join(__dirname, '..', 'dist', 'src', 'cli', 'train_mnist.js');
// 10 steps per epoch of 4 chunks each: 120 chunk tasks in 3 epochs
const ARGS = ['--limit-train', '640', '--limit-test', '200', '--batch-size', '64', '--chunk-size', '16', '--epochs', '3', '--shift', '2', '--checkpoint-every', '4'];
const STEPS = 30;
const CHUNKS = 4;
let dir: string;

function train(name: string, extra: string[], env: Record<string, string> = {}) {
  const out = join(dir, name);
  const r = spawnSync(process.execPath, [CLI, ...ARGS, '--out', out, ...extra], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 240_000 });
  return { ...r, ckpt: join(out, 'checkpoint.safetensors') };
}

/**
 * `n` faults at distinct steps (a task carries a run of chunks, and two faults in one task would
 * fail it twice), each at a seeded chunk, half of them throws and half thread exits, from `seed`.
 */
function seededFaults(n: number, seed: number) {
  const random = rng(seed);
  const seen = new Set<number>();
  const out: Array<{ step: number; chunk: number; mode: 'throw' | 'exit'; times: number }> = [];
  while (out.length < n) {
    const step = Math.floor(random() * STEPS);
    const chunk = Math.floor(random() * CHUNKS);
    if (seen.has(step)) continue;
    seen.add(step);
    out.push({ step, chunk, mode: out.length % 2 ? 'exit' : 'throw', times: 1 });
  }
  return out;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'iruka-faults-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('faults under load', () => {
  let clean: Buffer;

  it('12 seeded worker crashes over 3 epochs: every one retried, the same bytes as a fault-free run', () => {
    const ref = train('clean', ['--workers', '1']);
    expect(ref.status, ref.stderr).toBe(0);
    clean = readFileSync(ref.ckpt);
    const faults = seededFaults(12, 20261202);
    const r = train('faulty', ['--workers', '2'], { IRUKA_TEST_FAULTS: JSON.stringify(faults) });
    expect(r.status, r.stderr).toBe(0);
    for (const f of faults) expect(r.stderr).toMatch(new RegExp(`worker failed on step ${f.step}, chunks ${f.chunk < 2 ? '0-1' : '2-3'} `));
    expect(r.stderr.match(/retrying it/g)).toHaveLength(faults.length);
    expect(readFileSync(r.ckpt).equals(clean)).toBe(true);
  });

  it('a storm past the retry budget stops cleanly; the last good checkpoint resumes to the same bytes', () => {
    const storm = [
      ...seededFaults(8, 7).filter((f) => f.step < 17),
      { step: 17, chunk: 0, mode: 'exit' as const, times: 2 },
      { step: 17, chunk: 3, mode: 'throw' as const, times: 5 },
    ];
    const r = train('storm', ['--workers', '2'], { IRUKA_TEST_FAULTS: JSON.stringify(storm) });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/train:mnist: error: step 17, chunks (0-1|2-3) failed twice/);
    // steps 0-15 done and written (every 4 steps); step 16 is done but not yet written
    expect(readSafetensors(r.ckpt).metadata.step).toBe('16');
    const resumed = spawnSync(process.execPath, [CLI, '--resume', r.ckpt, '--out', join(dir, 'storm'), '--workers', '2', '--checkpoint-every', '4'], { encoding: 'utf8', timeout: 240_000 });
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(readFileSync(r.ckpt).equals(clean)).toBe(true);
  });
});
