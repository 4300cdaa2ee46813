// train:autoencoder on a few hundred MNIST images: it learns (the test loss beats the best
// constant picture), its PNGs show the inputs and reconstructions where the plan puts them, and
// render:filters draws its first layer; the conv model runs on the worker pool.
import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { planReconstructions, reconstructionRaster, tileAt } from '../src/render/reconstructions.js';
import { hasCanvas, readPng, pixel } from '../src/render/canvas.js';
import { loadMnist } from '../src/data/mnist.js';
import { readSafetensors } from '../src/io/safetensors.js';
import * as filtersCli from '../src/cli/render_filters.js';

const canvasOk = await hasCanvas();
const CLI = join(__dirname, '..', 'dist', 'src', 'cli', 'train_autoencoder.js');
const dir = mkdtempSync(join(tmpdir(), 'iruka-ae-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 240_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** bce of predicting each pixel's training mean for every test image: what a net that learned nothing per image gets. */
function constantBaseline(nTrain: number, nTest: number): number {
  const { train, test } = loadMnist({ limitTrain: nTrain, limitTest: nTest });
  const mean = new Float64Array(784);
  for (let i = 0; i < nTrain * 784; i++) mean[i % 784] += train.images[i] / 255 / nTrain;
  let s = 0;
  for (let i = 0; i < nTest * 784; i++) {
    const p = Math.min(1 - 1e-7, Math.max(1e-7, mean[i % 784]));
    const t = test.images[i] / 255;
    s -= t * Math.log(p) + (1 - t) * Math.log(1 - p);
  }
  return s / (nTest * 784);
}

describe('reconstruction sheet layout', () => {
  it('image i: input tile above its reconstruction, pixels upscaled where tileAt says', () => {
    const p = planReconstructions(3, 4, { cols: 2, scale: 2 });
    expect(p).toMatchObject({ cols: 2, pairs: 2, tile: 8 });
    const inputs = new Float32Array(3 * 16), outputs = new Float32Array(3 * 16);
    inputs[2 * 16 + 5] = 1; // image 2, pixel (1, 1)
    outputs[1 * 16 + 15] = 0.5; // image 1, pixel (3, 3)
    const r = reconstructionRaster(inputs, outputs, p);
    const at = (x: number, y: number) => r.data[(y * r.width + x) * 4];
    const a = tileAt(p, 2, 0);
    expect(at(a.x + 2, a.y + 2)).toBe(255);
    expect(at(a.x + 3, a.y + 3)).toBe(255);
    expect(at(a.x + 4, a.y + 2)).toBe(0);
    const b = tileAt(p, 1, 1);
    expect(at(b.x + 6, b.y + 7)).toBe(128);
    expect(tileAt(p, 1, 1).y).toBe(tileAt(p, 1, 0).y + p.tile + p.gap);
    expect(() => reconstructionRaster(inputs.subarray(0, 10), outputs, p)).toThrow(/need 48 values/);
  });
});

describe('train:autoencoder', () => {
  it('dense, bce_logits, 4 epochs on 2,000 images: beats the constant-picture baseline; pictures and render:filters work', async () => {
    const out = join(dir, 'dense');
    const r = run(['--epochs', '4', '--limit-train', '2000', '--limit-test', '200', '--workers', '1', '--out', out, ...(canvasOk ? [] : ['--no-pictures'])]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const loss = Number(/Test reconstruction loss \(bce_logits, mean per pixel\): ([\d.]+)/.exec(r.out)![1]);
    const base = constantBaseline(2000, 200);
    expect(base).toBeGreaterThan(0.2);
    expect(loss).toBeLessThan(base * 0.8);
    const ck = readSafetensors(join(out, 'checkpoint.safetensors'));
    expect(ck.tensors.get('enc1.weight')?.shape).toEqual([256, 784]);
    expect(JSON.parse(ck.metadata.loss)).toEqual({ type: 'bce_logits' });
    if (!canvasOk) return;
    // the reconstruction of a digit is bright where its input is: ink pixels brighter than background pixels
    const png = await readPng(join(out, 'reconstructions.png'));
    const p = planReconstructions(20, 28, {});
    const gridX = 16 + 96, gridY = 16 + 30;
    let inkSum = 0, inkN = 0, bgSum = 0, bgN = 0;
    for (let i = 0; i < 20; i++) {
      const a = tileAt(p, i, 0), b = tileAt(p, i, 1);
      for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) {
        const vin = pixel(png, gridX + a.x + x * 3 + 1, gridY + a.y + y * 3 + 1)[0];
        const vout = pixel(png, gridX + b.x + x * 3 + 1, gridY + b.y + y * 3 + 1)[0];
        if (vin > 200) { inkSum += vout; inkN++; } else if (vin < 20) { bgSum += vout; bgN++; }
      }
    }
    expect(inkSum / inkN).toBeGreaterThan(bgSum / bgN + 60);
    expect(existsSync(join(out, 'filters-enc1.png'))).toBe(true);
    const info = await filtersCli.run(['--weights', join(out, 'checkpoint.safetensors'), '--layer', 'enc1', '--out', join(out, 'sheet.png')], () => {});
    expect(info!.plan.shape).toEqual([256, 1, 28, 28]);
  });

  it('conv, mse, denoising, on 2 workers: runs, and render:filters draws its 5x5 kernels with --scale column', async () => {
    const out = join(dir, 'conv');
    const r = run(['--model', 'conv', '--loss', 'mse', '--noise', '0.3', '--epochs', '1', '--limit-train', '256', '--limit-test', '64', '--workers', '2', '--out', out, ...(canvasOk ? [] : ['--no-pictures'])]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('denoising with input noise σ = 0.3');
    expect(r.out).toContain('Workers: 2');
    expect(Number(/Test reconstruction loss \(mse, mean per pixel\): ([\d.]+)/.exec(r.out)![1])).toBeLessThan(0.2);
    if (!canvasOk) return;
    const info = await filtersCli.run(['--weights', join(out, 'checkpoint.safetensors'), '--layer', 'enc1', '--scale', 'column', '--out', join(out, 'col.png')], () => {});
    expect(info!.plan.shape).toEqual([16, 1, 5, 5]);
    expect(info!.plan.scale).toBe('column');
  });

  it('bad flags: one line, exit 2', () => {
    for (const [args, msg] of [
      [['--model', 'rnn'], /--model must be one of dense, conv, got 'rnn'/],
      [['--loss', 'softmax_xent'], /--loss must be one of bce_logits, mse/],
      [['--noise=-1'], /--noise must be >= 0/],
    ] as const) {
      const r = run([...args, '--out', join(dir, 'never')]);
      expect(r.code).toBe(2);
      expect(r.err.split('\n')[0]).toMatch(msg);
      expect(existsSync(join(dir, 'never'))).toBe(false);
    }
  });
});
