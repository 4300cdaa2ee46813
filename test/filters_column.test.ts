// render:filters --scale column (scikit-learn's MinMaxScaler on each kernel's columns, as the
// study note drew its figures) and dense first layers drawn as images of the input.
import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { minMaxColumns, planFilterSheet, asConvWeight, filterWeightFromCheckpoint } from '../src/render/filters.js';
import { writeSafetensors, readSafetensors } from '../src/io/safetensors.js';
import { hasCanvas } from '../src/render/canvas.js';
import * as filtersCli from '../src/cli/render_filters.js';

const canvasOk = await hasCanvas();
const dir = mkdtempSync(join(tmpdir(), 'iruka-colscale-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// rows are ky, columns kx, as W[:, :, 0, i] is in Keras and w[o, 0] here
const KERNEL = [
  [1, -2, 0.5, 7, 3],
  [3, -1, 0.5, 7, 1],
  [5, 0, 0.5, 7, 2],
  [2, 2, 0.5, 7, 0],
  [0, 4, 0.5, 7, 4],
];

describe('minMaxColumns (MinMaxScaler fitted on the columns)', () => {
  it('a hand-made 5x5 kernel: each column on its own range; a constant column goes to 0 as in scikit-learn', () => {
    const u = minMaxColumns(KERNEL.flat(), 5, 5);
    const col = (j: number) => [0, 1, 2, 3, 4].map((i) => u[i * 5 + j]);
    expect(col(0)).toEqual([0.2, 0.6, 1, 0.4, 0]); // (x - 0) / 5
    expect(col(1)).toEqual([0, 1 / 6, 2 / 6, 4 / 6, 1]); // (x + 2) / 6
    expect(col(2)).toEqual([0, 0, 0, 0, 0]); // constant: range 0 taken as 1
    expect(col(3)).toEqual([0, 0, 0, 0, 0]);
    expect(col(4)).toEqual([0.75, 0.25, 0.5, 0, 1]); // x / 4
  });

  it('differs from the per-kernel scale, and the plan uses it per tile', () => {
    const w = asConvWeight('conv1.weight', [2, 1, 5, 5], [...KERNEL.flat(), ...KERNEL.flat().map((v) => -v)]);
    const col = planFilterSheet(w, { scale: 'column' });
    const ker = planFilterSheet(w, { scale: 'kernel' });
    expect([...col.tiles[0].unit]).toEqual([...minMaxColumns(KERNEL.flat(), 5, 5)]);
    expect([...col.tiles[1].unit]).toEqual([...minMaxColumns(KERNEL.flat().map((v) => -v), 5, 5)]);
    expect(ker.tiles[0].unit[0]).toBeCloseTo(3 / 9, 12); // (1 + 2) / (7 + 2) on the whole kernel
    expect(col.tiles[0].unit[0]).toBeCloseTo(0.2, 12);
  });

  it('conv2 at input channel 0 with --scale column: the second figure of the note', () => {
    const data = Float32Array.from({ length: 50 * 20 * 25 }, (_, i) => Math.sin(i * 0.37));
    const w = asConvWeight('conv2.weight', [50, 20, 5, 5], data);
    const p = planFilterSheet(w, { scale: 'column', channel: 0, count: 20 });
    expect(p.mode).toBe('grid');
    expect(p.tiles).toHaveLength(20);
    const t = p.tiles[7];
    expect([...t.unit]).toEqual([...minMaxColumns(data.subarray(7 * 500, 7 * 500 + 25), 5, 5)]);
  });
});

describe('dense first layers', () => {
  it('a [n, 784] weight is drawn as 28x28 images (from the data sample shape or a square); others are refused', () => {
    const t = new Map([['fc1.weight', { dtype: 'F32', shape: [4, 784], data: new Float32Array(4 * 784) }], ['fc2.weight', { dtype: 'F32', shape: [3, 10], data: new Float32Array(30) }]]);
    expect(filterWeightFromCheckpoint(t, 'fc1', 'x').shape).toEqual([4, 1, 28, 28]);
    expect(filterWeightFromCheckpoint(t, 'fc1', 'x', [4, 14, 14]).shape).toEqual([4, 4, 14, 14]);
    expect(() => filterWeightFromCheckpoint(t, 'fc2', 'x')).toThrow(/fc2.weight in x has shape \[3, 10\]: not a conv layer/);
  });

  it.runIf(canvasOk)('render:filters draws a dense layer of a checkpoint', async () => {
    const ck = join(dir, 'ae.safetensors');
    const data = Float32Array.from({ length: 6 * 784 }, (_, i) => Math.cos(i));
    writeSafetensors(ck, { 'enc1.weight': { shape: [6, 784], data }, 'enc1.bias': { shape: [6], data: new Float32Array(6) } }, { data: JSON.stringify({ name: 'mnist', sampleShape: [1, 28, 28], n: 1 }) });
    const info = await filtersCli.run(['--weights', ck, '--layer', 'enc1', '--out', join(dir, 'enc1.png')], () => {});
    expect(info!.plan.shape).toEqual([6, 1, 28, 28]);
    expect(info!.plan.cell).toBe(3);
    expect(readSafetensors(ck).tensors.size).toBe(2);
  });
});
