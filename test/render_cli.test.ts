// render:filters and render:curves, through their exported main(argv) (what the bin runs):
// --help, bad input with its exit code and one-line message, and real PNGs.
import { afterAll, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSafetensors } from '../src/io/safetensors.js';
import * as filtersCli from '../src/cli/render_filters.js';
import * as curvesCli from '../src/cli/render_curves.js';
import { hasCanvas, readPng, pixel, CANVAS_MISSING } from '../src/render/canvas.js';

const canvasOk = await hasCanvas();
const required = process.env.IRUKA_REQUIRE_CANVAS === '1';
const dir = mkdtempSync(join(tmpdir(), 'iruka-render-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs a CLI main with stdout/stderr captured; returns them and the exit code it set. */
async function capture(fn: () => Promise<void>): Promise<{ out: string; err: string; code: number }> {
  const out: string[] = [], err: string[] = [];
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => (out.push(String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (err.push(String(s)), true));
  const before = process.exitCode;
  process.exitCode = undefined;
  try {
    await fn();
    return { out: out.join(''), err: err.join(''), code: Number(process.exitCode ?? 0) };
  } finally {
    o.mockRestore();
    e.mockRestore();
    process.exitCode = before;
  }
}

// A LeNet-shaped checkpoint: conv1 kernel k has one hot pixel at position k (row-major) on a
// zero background; conv2 and fc1 have the reference shapes; optimizer state rides along.
const ckpt = join(dir, 'run', 'checkpoint.safetensors');
{
  const conv1 = new Float32Array(20 * 25);
  for (let k = 0; k < 20; k++) conv1[k * 25 + k] = 1;
  const conv2 = new Float32Array(50 * 20 * 25).map((_, i) => Math.sin(i * 0.37));
  mkdirSync(join(dir, 'run'));
  writeSafetensors(ckpt, {
    'conv1.weight': { shape: [20, 1, 5, 5], data: conv1 },
    'conv1.bias': { shape: [20], data: new Float32Array(20) },
    'conv2.weight': { shape: [50, 20, 5, 5], data: conv2 },
    'fc1.weight': { shape: [500, 1250], data: new Float32Array(500 * 1250) },
    'optim.momentum': { shape: [8], data: new Float32Array(8) },
  }, { format: 'test' });
}
const filters = (...argv: string[]) => capture(() => filtersCli.main(argv));
const curves = (...argv: string[]) => capture(() => curvesCli.main(argv));

describe('render:filters', () => {
  it('--help lists the flags and says where the PNG goes', async () => {
    const r = await filters('--help');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Usage: npm run render:filters/);
    for (const flag of ['--weights FILE', '--layer NAME', '--count', '--cols', '--cell', '--scale', '--cmap', '--channel', '--out FILE']) expect(r.out).toContain(flag);
    expect(r.out).toContain('filters-<layer>.png next to the checkpoint');
    expect(r.err).toBe('');
  });

  it('a layer the checkpoint lacks: exit 2, lists the layers it has', async () => {
    const r = await filters('--weights', ckpt, '--layer', 'conv3');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^render:filters: error: checkpoint .*checkpoint.safetensors has no layer 'conv3' \(tensor conv3.weight\); conv layers: conv1 \[20, 1, 5, 5\], conv2 \[50, 20, 5, 5\]; other layers: fc1 \[500, 1250\]\n$/);
  });

  it('a non-conv tensor is refused: exit 2', async () => {
    const r = await filters('--weights', ckpt, '--layer', 'fc1');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/fc1.weight in .* has shape \[500, 1250\]: not a conv layer, so it has no kernels to draw .*conv layers: conv1, conv2/);
    const s = await filters('--weights', ckpt, '--layer', 'optim.momentum');
    expect(s.err).toMatch(/optim.momentum in .* has shape \[8\]: not a conv layer/);
  });

  it('a missing checkpoint, a file that is not safetensors: exit 2 with the path', async () => {
    const missing = join(dir, 'nope.safetensors');
    const r = await filters('--weights', missing);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${missing}: cannot read checkpoint: no such file`);
    const junk = join(dir, 'junk.safetensors');
    writeFileSync(junk, 'hello');
    const j = await filters('--weights', junk);
    expect(j.code).toBe(2);
    expect(j.err).toMatch(/junk.safetensors: file is 5 bytes, too short/);
  });

  it('bad flags: exit 2 with a usage hint', async () => {
    for (const [argv, msg] of [
      [['--scale', 'row'], /--scale must be one of kernel, filter, layer, column, got 'row'/],
      [['--cmap', 'jet'], /--cmap must be one of grey, diverging/],
      [['--cols', '0'], /--cols must be >= 1/],
      [['--count', 'x'], /--count must be a number/],
      [['--layer', 'conv2', '--count', '51'], /--count 51 is more than the 50 kernels of conv2/],
      [['--layer', 'conv2', '--channel', '20'], /--channel 20 is out of range: conv2 has 20 input channels \(0..19\)/],
      [['--channel', 'max'], /--channel must be a number/],
      [['--bogus'], /unknown flag '--bogus'/],
    ] as const) {
      const r = await filters('--weights', ckpt, ...argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err).toMatch(msg);
      expect(r.err).toContain("Try 'render:filters --help'");
    }
  });

  it('--list prints the layers without drawing', async () => {
    const r = await filters('--weights', ckpt, '--list');
    expect(r.code).toBe(0);
    expect(r.out.split('\n').filter(Boolean).map((l) => l.replace(/\s+/g, ' ').trim())).toEqual([
      'conv1 [20, 1, 5, 5] conv', 'conv2 [50, 20, 5, 5] conv', 'fc1 [500, 1250]',
    ]);
  });

  it('without node-canvas: exit 1 and the install hint', async () => {
    vi.resetModules();
    vi.doMock('canvas', () => {
      throw Object.assign(new Error("Cannot find package 'canvas' imported from x"), { code: 'ERR_MODULE_NOT_FOUND' });
    });
    try {
      const fresh = await import('../src/cli/render_filters.js');
      const out = join(dir, 'nocanvas.png');
      const r = await capture(() => fresh.main(['--weights', ckpt, '--out', out]));
      expect(r.code).toBe(1);
      expect(r.err).toBe(`render:filters: error: ${CANVAS_MISSING}\n`);
      expect(existsSync(out)).toBe(false);
    } finally {
      vi.doUnmock('canvas');
      vi.resetModules();
    }
  });

  it.skipIf(!required)('node-canvas is installed (IRUKA_REQUIRE_CANVAS=1)', () => {
    expect(canvasOk, CANVAS_MISSING).toBe(true);
  });

  describe.skipIf(!canvasOk && !required)('sheets', () => {
    it('--layer conv1: the 20 kernels, 5 columns, next to the checkpoint; each hot pixel where it belongs', async () => {
      const r = await filters('--weights', ckpt, '--layer', 'conv1');
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      const path = join(dir, 'run', 'filters-conv1.png');
      expect(r.out).toContain(`${path}: 20 of 20 kernels of conv1.weight [20, 1, 5, 5]`);
      const img = await readPng(path);
      // the same sheet again through run(), for its geometry
      const info = (await filtersCli.run(['--weights', ckpt, '--out', join(dir, 'again.png')], () => {}))!;
      expect([img.width, img.height]).toEqual([info.width, info.height]);
      expect(info.plan).toMatchObject({ count: 20, rows: 4, cols: 5, cell: 12, tileW: 60 });
      for (let k = 0; k < 20; k++) {
        const tx = info.gridX + 2 + (k % 5) * 62, ty = info.gridY + 2 + Math.floor(k / 5) * 62;
        const hx = tx + (k % 5) * 12 + 6, hy = ty + Math.floor(k / 5) * 12 + 6;
        expect(pixel(img, hx, hy), `kernel ${k} hot pixel`).toEqual([255, 255, 255]);
        const ox = tx + ((k + 1) % 5) * 12 + 6; // a neighbour in the same kernel row
        expect(pixel(img, ox, hy), `kernel ${k} background`).toEqual([0, 0, 0]);
      }
    });

    it('--layer conv2: the first 20 of 50 kernels as a 20 x 20 mosaic; --channel mean --count all: 50 tiles', async () => {
      const out = join(dir, 'conv2.png');
      const info = (await filtersCli.run(['--weights', ckpt, '--layer', 'conv2', '--out', out], () => {}))!;
      expect(info.plan).toMatchObject({ mode: 'mosaic', count: 20, rows: 20, cols: 20 });
      const img = await readPng(out);
      expect([img.width, img.height]).toEqual([info.width, info.height]);
      expect(info.width).toBeGreaterThanOrEqual(info.gridX + 20 * 32 + 2);
      const mean = (await filtersCli.run(['--weights', ckpt, '--layer', 'conv2', '--channel', 'mean', '--count', 'all', '--cmap', 'diverging', '--scale', 'layer', '--out', join(dir, 'mean.png')], () => {}))!;
      expect(mean.plan).toMatchObject({ mode: 'grid', count: 50, rows: 10, cols: 5, cmap: 'diverging' });
      const one = (await filtersCli.run(['--weights', ckpt, '--layer', 'conv2', '--channel', '3', '--cols', '10', '--cell', '4', '--out', join(dir, 'ch3.png')], () => {}))!;
      expect(one.plan).toMatchObject({ mode: 'grid', count: 20, rows: 2, cols: 10, cell: 4, channel: 3 });
    });
  });
});

describe('render:curves', () => {
  const metrics = join(dir, 'run', 'metrics.jsonl');
  writeFileSync(metrics, [1, 2, 3].map((e) => JSON.stringify({ epoch: e, step: e * 100, lr: 0.05, train_loss: 0.5 / e, train_acc: 1 - 0.1 / e, test_loss: 0.3 / e, test_acc: 0.99 - 0.05 / e, seconds: 1 })).join('\n') + '\n');

  it('--help', async () => {
    const r = await curves('--help');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Usage: npm run render:curves/);
    expect(r.out).toContain('--metrics FILE');
    expect(r.out).toContain('curves.png next to the metrics file');
  });

  it('missing file, bad lines: exit 2 naming the file and line', async () => {
    const r = await curves('--metrics', join(dir, 'none.jsonl'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/none.jsonl: cannot read metrics: no such file/);
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, '{"epoch":1,"train_loss":0.1,"test_loss":0.1,"test_acc":0.9}\n{"epoch":2,"train_loss":"x"}\n');
    const b = await curves('--metrics', bad);
    expect(b.code).toBe(2);
    expect(b.err).toMatch(/bad.jsonl:2: train_loss must be a finite number, got "x"/);
  });

  it.skipIf(!canvasOk && !required)('writes curves.png next to metrics.jsonl', async () => {
    const r = await curves('--metrics', metrics);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const path = join(dir, 'run', 'curves.png');
    expect(r.out).toContain(`${path}: 3 epochs`);
    const img = await readPng(path);
    expect([img.width, img.height]).toEqual([944, 376]);
  });
});
