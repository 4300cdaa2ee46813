// `train`, the generic CLI: a shipped BatchNorm + residual spec on MNIST gives byte-identical
// checkpoints with 1 and 2 workers (holding the running statistics), the checkpoint rebuilds
// the model for render:filters --list, and bad specs, data and checkpoints get one clear line
// and exit code 2.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensors } from '../src/io/safetensors.js';

const DIST = join(__dirname, '..', 'dist', 'src', 'cli');
let dir: string;

function run(cli: string, args: string[]) {
  const r = spawnSync(process.execPath, [join(DIST, cli), ...args], { encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const BN_RUN = ['--model', 'resnet_mnist', '--dataset', 'mnist', '--epochs', '1', '--limit-train', '4096', '--limit-test', '1000', '--seed', '7', '--checkpoint-every', '0'];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'iruka-train-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('train', () => {
  it('--help names the model, dataset and loss flags', () => {
    const r = run('train.js', ['--help']);
    expect(r.code).toBe(0);
    for (const f of ['--model', '--dataset', '--loss', '--label-smoothing', '--activation', '--hflip', '--workers']) expect(r.out).toContain(f);
    expect(r.out).toContain('resnet_mnist');
  });

  it('the BatchNorm + residual spec writes byte-identical checkpoints with 1 and 2 workers', () => {
    const one = run('train.js', [...BN_RUN, '--workers', '1', '--out', join(dir, 'w1')]);
    expect(one.err).toBe('');
    expect(one.code).toBe(0);
    expect(one.out).toMatch(/res1\.conv_a \(Conv2d\)/);
    expect(one.out).toMatch(/Non-trainable params: [1-9]/);
    const two = run('train.js', [...BN_RUN, '--workers', '2', '--out', join(dir, 'w2')]);
    expect(two.code, two.err).toBe(0);
    expect(two.out).toContain('Workers: 2');
    const a = readFileSync(join(dir, 'w1', 'checkpoint.safetensors'));
    expect(a.equals(readFileSync(join(dir, 'w2', 'checkpoint.safetensors')))).toBe(true);
    const ck = readSafetensors(join(dir, 'w1', 'checkpoint.safetensors'));
    for (const name of ['stem_bn.running_mean', 'stem_bn.running_var', 'res1.bn_b.running_mean', 'res1.bn_b.num_batches_tracked']) expect(ck.tensors.has(name), name).toBe(true);
    expect(JSON.parse(ck.metadata.model).name).toBe('resnet_mnist');
    expect(Number(/Test accuracy: ([\d.]+)/.exec(one.out)![1])).toBeGreaterThan(0.5);
  });

  it('render:filters --list lists the conv layers of any checkpoint', () => {
    const r = run('render_filters.js', ['--weights', join(dir, 'w1', 'checkpoint.safetensors'), '--list']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/stem\s+\[16, 1, 3, 3\]\s+conv/);
    expect(r.out).toMatch(/res1\.conv_a\s+\[32, 32, 3, 3\]\s+conv/);
  });

  it('resumes a run from its checkpoint alone: the spec and dataset come from the file', () => {
    const out = join(dir, 'w1');
    const r = run('train.js', ['--resume', join(out, 'checkpoint.safetensors'), '--out', out, '--workers', '1']);
    // the run had finished: nothing left to do, the same weights
    expect(r.code, r.err).toBe(0);
  });

  it.each([
    ['an unknown layer type', { input: [1, 28, 28], layers: [{ type: 'conv3d' }] }, [], /unknown layer type "conv3d"; known types:/],
    ['a spec whose shapes do not chain', { input: [1, 28, 28], layers: [{ type: 'conv2d', name: 'c', filters: 4, kernel: 3 }, { type: 'linear', name: 'fc', units: 10 }] }, [], /layers\[1\] \(fc\): a linear layer needs a \[N,features\] input, but the layer before gives \[1,4,26,26\]/],
    ['stride 0', { input: [1, 28, 28], layers: [{ type: 'conv2d', name: 'c', filters: 4, kernel: 3, stride: 0 }] }, [], /layers\[0\] \(c\): stride must be an integer in \[1, 4096\], got 0/],
    ['a dataset whose samples do not fit', { input: [3, 32, 32], layers: [{ type: 'flatten' }, { type: 'linear', units: 10 }] }, [], /the training set mnist has samples \[1,28,28\], the model expects \[3,32,32\]/],
    ['too few outputs for the labels', { input: [1, 28, 28], layers: [{ type: 'flatten' }, { type: 'linear', units: 5 }] }, [], /labels up to 9 but the model outputs 5 classes; labels outside the class count/],
    ['an unknown loss', { input: [1, 28, 28], layers: [{ type: 'flatten' }, { type: 'linear', units: 10 }] }, ['--loss', 'hinge'], /--loss must be one of softmax_xent, mse, bce_logits, got 'hinge'/],
  ])('refuses %s: one line, exit 2, nothing written', (what, spec, extra, msg) => {
    const file = join(dir, `${what.replace(/\W+/g, '_')}.json`);
    writeFileSync(file, JSON.stringify(spec));
    const out = join(dir, `bad-${what.replace(/\W+/g, '_')}`);
    const r = run('train.js', ['--model', file, '--dataset', 'mnist', '--limit-train', '64', '--limit-test', '32', '--workers', '1', ...extra, '--out', out]);
    expect(r.code).toBe(2);
    expect(r.err.split('\n')[0]).toMatch(/^train: error: /);
    expect(r.err.split('\n')[0]).toMatch(msg);
    expect(() => readFileSync(join(out, 'checkpoint.safetensors'))).toThrow();
  });

  it('refuses to resume a checkpoint with another --model', () => {
    const r = run('train.js', ['--model', 'mlp', '--resume', join(dir, 'w1', 'checkpoint.safetensors'), '--out', join(dir, 'other'), '--workers', '1']);
    expect(r.code).toBe(2);
    expect(r.err.split('\n')[0]).toMatch(/--resume: the checkpoint's model spec \(resnet_mnist\) differs from this run's \(mlp\)/);
  });

  it('trains on CIFAR-10 binary files in --data-dir with the 3x32x32 spec', () => {
    const dd = join(dir, 'cifar');
    mkdirSync(dd);
    const record = (label: number, v: number) => {
      const r = new Uint8Array(3073);
      r[0] = label;
      r.fill(v, 1);
      return r;
    };
    const batch = (n: number) => Buffer.concat(Array.from({ length: n }, (_, i) => record(i % 10, (i * 37) % 256)));
    writeFileSync(join(dd, 'data_batch_1.bin'), batch(40));
    writeFileSync(join(dd, 'test_batch.bin'), batch(20));
    const r = run('train.js', ['--model', 'cifar_cnn', '--dataset', 'cifar10', '--data-dir', dd, '--epochs', '1', '--batch-size', '20', '--workers', '1', '--hflip', '--out', join(dir, 'cifar-run')]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('CIFAR-10: 40 training and 20 test images');
    expect(r.out).toMatch(/Test accuracy: [\d.]+/);
  });
});
