// The study note's flags on train:mnist: --preprocess (fitted on the training set, saved in the
// checkpoint, reapplied on --resume and by loadModel), --init-std and batch sizes from 1 to the
// full set; bad values are one line and exit 2 with nothing written.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensors, writeSafetensors } from '../src/io/safetensors.js';
import { loadModel } from '../src/io/model_file.js';
import { loadCoreSync } from '../src/core/load.js';
import { loadDataset } from '../src/data/datasets.js';
import { applyPreprocess } from '../src/data/preprocess.js';

const CLI = join(__dirname, '..', 'dist', 'src', 'cli', 'train_mnist.js');
let dir: string;

function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 240_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

// the issue's command line, on 1024 training and 500 test images
const ISSUE = ['--epochs', '1', '--limit-train', '1024', '--limit-test', '500', '--workers', '1', '--preprocess', 'zca', '--activation', 'sigmoid', '--optimizer', 'adagrad', '--init', 'lecun', '--weight-decay', '0.0001'];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'iruka-pre-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('train:mnist --preprocess zca', () => {
  it("runs the issue's command; a run stopped at step 5 and resumed writes the same checkpoint, byte for byte", () => {
    const a = join(dir, 'straight');
    const b = join(dir, 'split');
    const r = run([...ISSUE, '--checkpoint-every', '0', '--out', a]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Preprocessing: zca \(ε = 0\.1\) fitted on the 1024 training samples of 784 values/);
    expect(r.out).toMatch(/Test accuracy: 0\.\d{4}/);
    const stopped = run([...ISSUE, '--checkpoint-every', '0', '--out', b], { IRUKA_TEST_STOP_AT_STEP: '5' });
    expect(stopped.code).toBe(130);
    // no --preprocess on the resume line: the checkpoint's transform is taken, not refitted
    const resumed = run(['--resume', join(b, 'checkpoint.safetensors'), '--out', b, '--workers', '1', '--checkpoint-every', '0']);
    expect(resumed.err).toBe('');
    expect(resumed.code).toBe(0);
    expect(resumed.out).not.toContain('Preprocessing:');
    expect(resumed.out).toMatch(/Resumed from .*step 5/);
    const fa = readFileSync(join(a, 'checkpoint.safetensors'));
    const fb = readFileSync(join(b, 'checkpoint.safetensors'));
    expect(fb.equals(fa)).toBe(true);
    const ck = readSafetensors(join(a, 'checkpoint.safetensors'));
    expect(ck.tensors.get('preprocess.matrix')?.shape).toEqual([784, 784]);
    expect(JSON.parse(ck.metadata.data).preprocess).toEqual({ kind: 'zca', dims: 784, eps: 0.1 });
  });

  it('loadModel returns the transform: applying it and evaluating reproduces the run\'s test loss', () => {
    // a run that learns (the issue's AdaGrad + sigmoid line does not in 16 steps), so inputs matter
    const out = join(dir, 'learns');
    const r = run(['--epochs', '1', '--limit-train', '1024', '--limit-test', '500', '--workers', '1', '--checkpoint-every', '0', '--preprocess', 'zca', '--out', out]);
    expect(r.code).toBe(0);
    expect(Number(/Test accuracy: ([\d.]+)/.exec(r.out)![1])).toBeGreaterThan(0.6);
    const path = join(out, 'checkpoint.safetensors');
    const core = loadCoreSync();
    const m = loadModel(path, core);
    try {
      expect(m.preprocess?.kind).toBe('zca');
      const { test } = loadDataset('mnist', { limitTrain: 1, limitTest: 500 });
      const x = applyPreprocess(m.preprocess!, test.x, test.n, { core });
      const ev = m.model.evaluate({ ...test, x }, test.n, 250);
      const metrics = JSON.parse(readSafetensors(path).metadata.metrics);
      expect(ev.lossSum / test.n).toBeCloseTo(metrics.test_loss, 6);
      expect(ev.correct / test.n).toBe(metrics.test_acc);
      // without the transform the model sees other inputs: a different loss
      const raw = m.model.evaluate(test, test.n, 250);
      expect(Math.abs(raw.lossSum / test.n - metrics.test_loss)).toBeGreaterThan(1e-3);
    } finally {
      m.model.free();
    }
  });

  it("a checkpoint whose preprocessing does not fit the data's samples: one line, exit 2", () => {
    const src = readSafetensors(join(dir, 'straight', 'checkpoint.safetensors'));
    const tensors = Object.fromEntries([...src.tensors].filter(([k]) => !k.startsWith('preprocess.')).map(([k, t]) => [k, { shape: t.shape, data: t.data as Float32Array }]));
    tensors['preprocess.mean'] = { shape: [100], data: new Float32Array(100) };
    tensors['preprocess.matrix'] = { shape: [100, 100], data: new Float32Array(10000) };
    const data = JSON.parse(src.metadata.data);
    data.preprocess.dims = 100;
    const bad = join(dir, 'bad-dims.safetensors');
    writeSafetensors(bad, tensors, { ...src.metadata, data: JSON.stringify(data) });
    const out = join(dir, 'never');
    const r = run(['--resume', bad, '--out', out, '--workers', '1']);
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/--resume .*bad-dims\.safetensors: the preprocessing \(zca\) was fitted on samples of 100 values, the data's samples are \[1, 28, 28\] \(784 values\)/);
    expect(existsSync(out)).toBe(false);
    // and asking for another preprocessing than the checkpoint's is refused the same way
    const other = run(['--resume', join(dir, 'straight', 'checkpoint.safetensors'), '--out', out, '--preprocess', 'pca', '--workers', '1']);
    expect(other.code).toBe(2);
    expect(other.err).toMatch(/preprocessed with zca \(ε = 0\.1\), this run asks for pca/);
    expect(existsSync(out)).toBe(false);
  });
});

describe('bad values: one line, exit 2, nothing written', () => {
  const cases: [string, string[], RegExp][] = [
    ['--whiten-eps 0', ['--preprocess', 'zca', '--whiten-eps', '0'], /--whiten-eps must be > 0, got '0'/],
    ['--whiten-eps -1', ['--preprocess', 'pca', '--whiten-eps=-1'], /--whiten-eps must be > 0/],
    ['--preprocess pcaa', ['--preprocess', 'pcaa'], /--preprocess must be one of none, standardize, pca, zca, got 'pcaa'/],
    ['--init-std 0', ['--init-std', '0'], /--init-std must be > 0, got '0'/],
    ['--init-std -2', ['--init-std=-2'], /--init-std must be > 0/],
    ['--init torch --init-std 2', ['--init', 'torch', '--init-std', '2'], /initStd applies to the normal initialisations/],
    ['--activation relu6', ['--activation', 'relu6'], /--activation must be one of relu, sigmoid, tanh, softplus, leaky_relu, got 'relu6'/],
  ];
  for (const [name, args, msg] of cases) {
    it(name, () => {
      const out = join(dir, `bad-${name.replace(/\W+/g, '_')}`);
      const r = run([...args, '--limit-train', '64', '--limit-test', '10', '--epochs', '1', '--workers', '1', '--out', out]);
      expect(r.code).toBe(2);
      expect(r.err.split('\n')[0]).toMatch(msg);
      expect(r.err.split('\n').filter((l) => l && !l.startsWith('Try ')).length).toBe(1);
      expect(existsSync(out)).toBe(false);
    });
  }
});

describe('batch size from 1 to the full set', () => {
  const small = ['--limit-train', '40', '--limit-test', '20', '--epochs', '1', '--checkpoint-every', '0'];
  it('batch 1 takes one step per example; batch = n one step per epoch, with a warning saying so', () => {
    const one = run([...small, '--batch-size', '1', '--workers', '1', '--out', join(dir, 'b1')], {});
    expect(one.err).toBe('');
    expect(one.code).toBe(0);
    expect(readSafetensors(join(dir, 'b1', 'checkpoint.safetensors')).metadata.step).toBe('40');
    const full = run([...small, '--batch-size', '40', '--workers', '1', '--out', join(dir, 'b40')]);
    expect(full.code).toBe(0);
    expect(full.out).toContain('warning: batch size 40 is the full training set: one step per epoch (batch gradient descent)');
    expect(readSafetensors(join(dir, 'b40', 'checkpoint.safetensors')).metadata.step).toBe('1');
    const more = run([...small, '--batch-size', '1000', '--workers', '1', '--out', join(dir, 'b1000')]);
    expect(more.code).toBe(0);
    expect(more.out).toContain('note: --batch-size 1000 is larger than the 40 training examples; using 40 (one step per epoch)');
    expect(readSafetensors(join(dir, 'b1000', 'checkpoint.safetensors')).metadata.step).toBe('1');
  });

  it('batch 1 on the pool warns why it is slow, and gives the same weights as on one thread', () => {
    const pool = run([...small, '--limit-train', '12', '--batch-size', '1', '--workers', '2', '--out', join(dir, 'b1pool')]);
    expect(pool.err).toBe('');
    expect(pool.code).toBe(0);
    expect(pool.out).toMatch(/warning: batch size 1 \(pure SGD\) on 2 workers: each step has 1 chunk, so 1 worker waits and every step pays a round trip to the pool; --workers 1 is faster here/);
    const local = run([...small, '--limit-train', '12', '--batch-size', '1', '--workers', '1', '--out', join(dir, 'b1local')]);
    expect(local.code).toBe(0);
    const a = readSafetensors(join(dir, 'b1pool', 'checkpoint.safetensors')).tensors;
    const b = readSafetensors(join(dir, 'b1local', 'checkpoint.safetensors')).tensors;
    for (const [k, t] of a) if (!k.startsWith('optim.')) expect(Buffer.from((t.data as Float32Array).buffer).equals(Buffer.from((b.get(k)!.data as Float32Array).buffer)), k).toBe(true);
  });
});
