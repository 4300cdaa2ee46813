// The rough edges a user hits: corrupt and non-finite checkpoints, batches too large for the data
// or for WebAssembly memory, --out that cannot be used, what a NaN stop says, and a second Ctrl-C.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensors, encodeSafetensors } from '../src/io/safetensors.js';
import { crc32, tensorsChecksum, verifyChecksum, CHECKSUM_KEY } from '../src/io/integrity.js';
import { checkFitsWasm, estimateWasmBytes } from '../src/train/memory.js';
import { defaultChunkSize } from '../src/train/engine.js';
import { fit } from '../src/train/fit.js';
import { loadDataset } from '../src/data/datasets.js';
import { LENET_SPEC } from '../src/nn/lenet.js';
import { Model } from '../src/nn/spec.js';
import type { Core } from '../src/core/load.js';

const CLI = join(__dirname, '..', 'dist', 'src', 'cli', 'train_mnist.js');
const QUICK = ['--limit-train', '300', '--limit-test', '100', '--batch-size', '50', '--workers', '1', '--checkpoint-every', '0', '--epochs', '2'];
let dir: string;

function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** A checkpoint of a run stopped after 2 steps. */
function midRunCheckpoint(name: string): string {
  const out = join(dir, name);
  expect(run([...QUICK, '--out', out], { IRUKA_TEST_STOP_AT_STEP: '2' }).code).toBe(130);
  return join(out, 'checkpoint.safetensors');
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'iruka-edges-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('verifiable checkpoints', () => {
  it('CRC-32 is the standard one', () => {
    expect(crc32(new TextEncoder().encode('123456789')).toString(16)).toBe('cbf43926');
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it('a flipped bit in the tensor data is refused on --resume, naming the file; the file stays as it was', () => {
    const ck = midRunCheckpoint('crc');
    const bytes = readFileSync(ck);
    expect(readSafetensors(ck).metadata[CHECKSUM_KEY]).toMatch(/^crc32:[0-9a-f]{8}$/);
    const bad = Buffer.from(bytes);
    bad[bad.length - 5] ^= 0x10;
    const p = join(dir, 'flipped.safetensors');
    writeFileSync(p, bad);
    const r = run(['--resume', p, '--out', join(dir, 'crc-out')]);
    expect(r.code).toBe(2);
    expect(r.err.split('\n')[0]).toMatch(/flipped\.safetensors: the tensor data does not match its checksum \(stored crc32:[0-9a-f]{8}, computed crc32:[0-9a-f]{8}\); the file is corrupt/);
    expect(readFileSync(p).equals(bad)).toBe(true);
    // the intact file verifies
    const { tensors, metadata } = readSafetensors(ck);
    expect(() => verifyChecksum(tensors, metadata, ck)).not.toThrow();
  });

  it('NaN weights are refused on --resume unless --allow-nonfinite; then the NaN stop says why', () => {
    const ck = midRunCheckpoint('nonfinite');
    const { tensors, metadata } = readSafetensors(ck);
    const bias = tensors.get('fc2.bias')!.data as Float32Array;
    bias[3] = NaN;
    bias[4] = Infinity;
    const meta = { ...metadata, [CHECKSUM_KEY]: tensorsChecksum(tensors) };
    const p = join(dir, 'nan.safetensors');
    writeFileSync(p, encodeSafetensors(Object.fromEntries(tensors), meta));
    const refused = run(['--resume', p, '--out', join(dir, 'nan-out')]);
    expect(refused.code).toBe(2);
    expect(refused.err.split('\n')[0]).toMatch(/nan\.safetensors: non-finite \(NaN\/Inf\) values in fc2\.bias \(2 of 10\); .*pass --allow-nonfinite/);
    const allowed = run(['--resume', p, '--out', join(dir, 'nan-out'), '--allow-nonfinite']);
    expect(allowed.code).toBe(1);
    expect(allowed.err).toMatch(/training loss became NaN at epoch 1, step 2; .*resumed with --allow-nonfinite from weights that were not finite/);
  });

  it('a NaN stop from a learning rate too high says so, with the rate and a lower one to try', () => {
    const r = run([...QUICK, '--lr', '1e5', '--warmup', '0', '--checkpoint-every', '1', '--out', join(dir, 'nan-lr')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/The likely cause is a learning rate too high .*--lr is 100000 \(sgd\) with no warm-up; try --lr 1\.0e\+4 and --warmup 1/);
    // stopped inside epoch 1: no epoch finished, so no metrics.jsonl at all (not an empty one)
    expect(existsSync(join(dir, 'nan-lr', 'metrics.jsonl'))).toBe(false);
    expect(existsSync(join(dir, 'nan-lr', 'checkpoint.safetensors'))).toBe(true);
  });
});

describe('batch sizes', () => {
  it('a batch larger than the training set is clamped with a note', () => {
    const r = run([...QUICK, '--batch-size', '1000000', '--epochs', '1', '--out', join(dir, 'clamp')]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('note: --batch-size 1000000 is larger than the 300 training examples; using 300 (one step per epoch)');
    expect(JSON.parse(readSafetensors(join(dir, 'clamp', 'checkpoint.safetensors')).metadata.flags).batchSize).toBe(300);
  });

  it('a chunk that cannot fit in WebAssembly memory is refused up front, naming the flags and the estimate', () => {
    const out = join(dir, 'huge');
    // the default rule's largest chunk for MNIST (3,750 at batch 60,000) fits, so name a chunk that does not
    const r = run(['--batch-size', '60000', '--chunk-size', '15000', '--epochs', '1', '--workers', '1', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.err.split('\n')[0]).toMatch(/--batch-size\/--chunk-size: a gradient chunk of 15000 examples \(--chunk-size 15000\) needs about [\d.]+ GiB .*more than the 4 GiB .*use --chunk-size \d+ or less/);
    // a chunk the auto rule chose is named as such
    expect(() => checkFitsWasm(new Model(LENET_SPEC), 656_080, { batchSize: 160_000, chunkSize: defaultChunkSize(160_000), evalBatch: 500, chunkAuto: true })).toThrow(
      /a gradient chunk of 10000 examples \(--chunk-size auto gives 10000 for --batch-size 160000\) needs about [\d.]+ GiB/,
    );
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
    const big = run(['--eval-batch', '65536', '--limit-train', '100', '--epochs', '1', '--workers', '1', '--out', out]);
    expect(big.code).toBe(2);
    expect(big.err.split('\n')[0]).toMatch(/--eval-batch 65536: evaluating that many examples at once needs about [\d.]+ GiB/);
  });

  it('the estimate is above the heap peak of a real run, and not wildly so', async () => {
    const { train, test } = loadDataset('mnist', { limitTrain: 128, limitTest: 64 });
    let core: Core | null = null;
    const r = await fit(LENET_SPEC, { train, test }, { epochs: 1, batchSize: 64, chunkSize: 32, evalBatch: 64, workers: 1, onStart: (s) => (core = s.core) });
    const peak = core!.heap.peakBytes;
    r.model.free();
    const est = estimateWasmBytes(new Model(LENET_SPEC), 656_080, 32, 64);
    expect(peak).toBeLessThanOrEqual(Math.max(est.train, est.eval));
    expect(peak).toBeGreaterThan(Math.max(est.train, est.eval) / 4);
  });
});

describe('numeric flags say which flag, which bound and why', () => {
  it.each([
    [['--momentum', '1'], /^train:mnist: error: --momentum must be <= 0\.999, got '1'; in \[0, 1\): at 1 the velocity never decays/],
    [['--gamma', '1.5'], /^train:mnist: error: --gamma must be <= 1, got '1\.5'; a decay factor in \(0, 1\]: above 1 the rate would grow/],
    [['--workers', '1000'], /^train:mnist: error: --workers must be <= 256, got '1000'; threads, each with its own WebAssembly instance/],
    [['--lr', '1e9'], /^train:mnist: error: --lr must be <= 1000000, got '1e9'; .*rates above 1e6 only produce NaN/],
    [['--batch-size', '1e9'], /^train:mnist: error: --batch-size must be <= 1048576, got '1e9'; examples per step; a batch larger than the training set is clamped/],
  ])('%j', (args, msg) => {
    const r = run([...QUICK, ...args, '--out', join(dir, 'flags')]);
    expect(r.code).toBe(2);
    expect(r.err.split('\n')[0]).toMatch(msg);
  });
});

describe('--out problems in words', () => {
  it.each([
    ['a file', (f: string) => f, /--out .*afile is a file, not a folder; name a folder for the run/],
    ['under a file', (f: string) => join(f, 'sub'), /--out .*afile\/sub: .*afile is a file, so no folder can be made under it/],
    ['not creatable', () => '/sys/iruka-test-out', /--out \/sys\/iruka-test-out: cannot create the folder \(permission denied in \/sys\)/],
    ['not writable', () => '/sys', /--out \/sys: cannot write files in the folder \(permission denied\)/],
  ])('--out %s', (_name, path, msg) => {
    const file = join(dir, 'afile');
    writeFileSync(file, 'x');
    const r = run([...QUICK, '--out', path(file)]);
    expect(r.code).toBe(2);
    expect(r.err.split('\n')[0]).toMatch(msg);
  });
});

describe('a second Ctrl-C', () => {
  it('stops at once, names the last complete checkpoint and prints the resume line', async () => {
    const out = join(dir, 'sigint2');
    const ck = join(out, 'checkpoint.safetensors');
    const child = spawn(process.execPath, [CLI, '--limit-train', '6000', '--limit-test', '100', '--batch-size', '500', '--epochs', '1', '--workers', '2', '--checkpoint-every', '1', '--out', out]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    let second = false;
    child.stderr.on('data', (d) => {
      stderr += d;
      if (stderr.includes('Interrupted') && !second) {
        second = true;
        child.kill('SIGINT');
      }
    });
    const poll = setInterval(() => {
      if (existsSync(ck)) {
        clearInterval(poll);
        child.kill('SIGINT');
      }
    }, 20);
    const code = await new Promise<number | null>((res) => child.on('close', res));
    clearInterval(poll);
    expect(code).toBe(130);
    expect(stderr).toMatch(/Stopped at once \(second Ctrl-C\)/);
    const step = /Last complete checkpoint: .*checkpoint\.safetensors \(step (\d+)\)/.exec(stdout)?.[1];
    expect(step).toBeDefined();
    expect(stdout).toMatch(/Resume with: npm run train:mnist -- .*--resume .*checkpoint\.safetensors/);
    const { tensors, metadata } = readSafetensors(ck);
    expect(metadata.step).toBe(step);
    expect(() => verifyChecksum(tensors, metadata, ck)).not.toThrow();
  });
});
