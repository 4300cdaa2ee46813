// SIGKILL at seeded moments, with and without the worker pool, including between the fsynced
// temporary and the rename of a checkpoint write: every resumed run ends with checkpoint and
// best files byte for byte those of a run that was never interrupted. Also: a finished run
// extended with a larger --epochs (constant schedule) equals the longer run; a cosine one is refused.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensors } from '../src/io/safetensors.js';
import { rng } from './helpers/index.js';

const CLI = join(__dirname, '..', 'dist', 'src', 'cli', 'train_mnist.js');
// 12 steps per epoch, 24 in all; a checkpoint every 3 steps and at each epoch's end: 10 writes (+2 best)
const BASE = ['--limit-train', '600', '--limit-test', '100', '--batch-size', '50', '--epochs', '2', '--checkpoint-every', '3'];
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'iruka-crash-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runSync(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

type Kill = { kind: 'in-save'; write: number } | { kind: 'timed'; ms: number };

/** Runs once; kills it with SIGKILL at the planned moment. Resolves with how it ended. */
function runAndKill(args: string[], kill: Kill | null): Promise<{ killed: boolean; code: number | null; out: string; err: string; tmpAtKill: boolean }> {
  const env = { ...process.env, ...(kill?.kind === 'in-save' ? { IRUKA_TEST_PAUSE_IN_SAVE: String(kill.write) } : {}) };
  const child = spawn(process.execPath, [CLI, ...args], { env });
  let out = '';
  let err = '';
  let killed = false;
  let tmpAtKill = false;
  const doKill = () => {
    if (killed || child.exitCode !== null) return;
    killed = true;
    child.kill('SIGKILL');
  };
  child.stdout.on('data', (d) => {
    out += d;
    if (kill?.kind === 'timed' && out.includes('Total params') && !killed) setTimeout(doKill, kill.ms);
  });
  child.stderr.on('data', (d) => {
    err += d;
    const m = /IRUKA_TEST_PAUSED_IN_SAVE (\S+)/.exec(err);
    if (m && !killed) {
      tmpAtKill = existsSync(m[1]);
      doKill();
    }
  });
  return new Promise((res) => child.on('close', (code) => res({ killed, code, out, err, tmpAtKill })));
}

function bytesOf(folder: string) {
  return { latest: readFileSync(join(folder, 'checkpoint.safetensors')), best: readFileSync(join(folder, 'best.safetensors')) };
}

let reference: ReturnType<typeof bytesOf>;

describe('exact resume after SIGKILL', () => {
  it('an uninterrupted reference run', () => {
    const r = runSync([...BASE, '--workers', '1', '--out', join(dir, 'ref')]);
    expect(r.code, r.err).toBe(0);
    reference = bytesOf(join(dir, 'ref'));
    expect(readSafetensors(join(dir, 'ref', 'best.safetensors')).metadata.best).toMatch(/"by":"test_acc"/);
  });

  it.each([1, 2])('killed at 5 seeded moments (2 inside a checkpoint write) with %i worker(s), resumed each time: the same bytes', async (workers) => {
    const random = rng(1100 + workers);
    // writes are numbered per process: 1..10 are the latest-file writes and best copies of a fresh run
    const plan: Kill[] = [
      { kind: 'in-save', write: 2 + Math.floor(random() * 4) },
      { kind: 'timed', ms: Math.floor(random() * 600) },
      { kind: 'in-save', write: 1 + Math.floor(random() * 3) },
      { kind: 'timed', ms: Math.floor(random() * 600) },
      { kind: 'timed', ms: Math.floor(random() * 600) },
    ];
    const out = join(dir, `kill-${workers}`);
    const ckpt = join(out, 'checkpoint.safetensors');
    const args = () => [...BASE, '--workers', String(workers), '--out', out, ...(existsSync(ckpt) ? ['--resume', ckpt] : [])];
    const steps: string[] = [];
    let inSave = 0;
    let finished = false;
    for (const kill of plan) {
      const r = await runAndKill(args(), kill);
      if (!r.killed) {
        // the run finished before the moment came: nothing left to interrupt
        expect(r.code, r.err).toBe(0);
        finished = true;
        break;
      }
      if (kill.kind === 'in-save') {
        expect(r.tmpAtKill, 'the temporary was on disk when killed').toBe(true);
        inSave++;
      }
      steps.push(existsSync(ckpt) ? readSafetensors(ckpt).metadata.step : 'none');
    }
    console.log(`kills with ${workers} worker(s): checkpoint at steps ${steps.join(", ")}`);
    expect(inSave).toBe(2);
    if (!finished) {
      const r = await runAndKill(args(), null);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toMatch(/removed .*\.safetensors\.tmp-\d+.*left by a run that was killed|Resumed from/);
    }
    expect(readdirSync(out).filter((f) => f.includes('.tmp-'))).toEqual([]);
    const got = bytesOf(out);
    expect(got.latest.equals(reference.latest), `checkpoint after kills at steps ${steps.join(', ')}`).toBe(true);
    expect(got.best.equals(reference.best), 'best.safetensors').toBe(true);
  });
});

describe('--resume with a different --epochs', () => {
  const CONST = ['--limit-train', '300', '--limit-test', '100', '--batch-size', '50', '--checkpoint-every', '0', '--workers', '1', '--schedule', 'constant', '--lr', '0.02'];

  it('extends a finished constant-schedule run: 1 epoch + 1 more = 2 epochs straight, byte for byte', () => {
    const straight = join(dir, 'ext-straight');
    const ext = join(dir, 'ext');
    expect(runSync([...CONST, '--epochs', '2', '--out', straight]).code).toBe(0);
    expect(runSync([...CONST, '--epochs', '1', '--out', ext]).code).toBe(0);
    const r = runSync(['--resume', join(ext, 'checkpoint.safetensors'), '--out', ext, '--epochs', '2', '--workers', '1']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/note: --epochs 1 -> 2: the constant schedule does not depend on the run's length/);
    expect(readFileSync(join(ext, 'checkpoint.safetensors')).equals(readFileSync(join(straight, 'checkpoint.safetensors')))).toBe(true);
    expect(readFileSync(join(ext, 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(2);
  });

  it('refuses to extend a cosine run, saying why', () => {
    const out = join(dir, 'ext-cos');
    expect(runSync([...CONST, '--schedule', 'cosine', '--epochs', '1', '--limit-train', '100', '--out', out]).code).toBe(0);
    const r = runSync(['--resume', join(out, 'checkpoint.safetensors'), '--out', out, '--epochs', '3']);
    expect(r.code).toBe(2);
    expect(r.err.split('\n')[0]).toMatch(/--epochs 1, this run 3; its cosine schedule's length is part of its shape .*--schedule constant, step or exp/);
  });
});
