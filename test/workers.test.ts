// The data-parallel trainer: bit-identical weights for any worker count, recovery from a
// worker that throws or dies mid-step, and a clean stop when the same chunk fails twice.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensors } from '../src/io/safetensors.js';

const CLI = join(__dirname, '..', 'dist', 'src', 'cli', 'train_mnist.js');
const ARGS = ['--limit-train', '640', '--limit-test', '200', '--batch-size', '64', '--chunk-size', '16', '--epochs', '1', '--checkpoint-every', '0', '--shift', '2'];
let dir: string;

function train(workers: number, name: string, env: Record<string, string> = {}, extra: string[] = []) {
  const out = join(dir, name);
  const r = spawnSync(process.execPath, [CLI, ...ARGS, ...extra, '--workers', String(workers), '--out', out], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 240_000,
  });
  return { ...r, ckpt: join(out, 'checkpoint.safetensors') };
}

function weights(path: string): Buffer {
  const t = readSafetensors(path).tensors;
  return Buffer.concat(['conv1.weight', 'conv1.bias', 'conv2.weight', 'conv2.bias', 'fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias', 'optim.momentum'].map((k) => Buffer.from((t.get(k)!.data as Float32Array).buffer)));
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'iruka-workers-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('worker pool', () => {
  let one: Buffer;

  it('gives the same weights, byte for byte, with 1, 2 and 3 workers', () => {
    const r1 = train(1, 'w1');
    expect(r1.status, r1.stderr).toBe(0);
    one = weights(r1.ckpt);
    for (const n of [2, 3]) {
      const r = train(n, `w${n}`);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain(`Workers: ${n}`);
      expect(weights(r.ckpt).equals(one), `${n} workers differ from 1`).toBe(true);
    }
  });

  it.each(['throw', 'exit'])('recomputes a chunk whose worker fails once (%s) and stays identical', (mode) => {
    const r = train(2, `fault-${mode}`, { IRUKA_TEST_FAULTS: JSON.stringify([{ step: 3, chunk: 1, mode, times: 1 }]) });
    expect(r.status, r.stderr).toBe(0);
    // 2 workers, 4 chunks: one task per worker, chunks 0-1 and 2-3
    expect(r.stderr).toMatch(/worker failed on step 3, chunks 0-1 .*retrying it/);
    expect(weights(r.ckpt).equals(one)).toBe(true);
  });

  it('stops with a clear error when the same chunk fails twice, keeping the last good checkpoint', () => {
    const r = train(2, 'fault-twice', { IRUKA_TEST_FAULTS: JSON.stringify([{ step: 4, chunk: 2, mode: 'exit', times: 2 }]) }, ['--checkpoint-every', '2']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/train:mnist: error: step 4, chunks 2-3 failed twice/);
    // the checkpoint written after step 4 (steps 0-3) is the last good one, and it is intact
    expect(readSafetensors(r.ckpt).metadata.step).toBe('4');
  });
});
