// npm run experiments on a tiny subset: each experiment writes its table and chart, the folder
// index lists them, and the gradient experiment shows the vanishing gradient (sigmoid's first
// layer gets far less gradient than its last; ReLU's does not).
import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, rmSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../src/cli/experiments.js';
import { hasCanvas } from '../src/render/canvas.js';
import { planLines } from '../src/render/lines.js';

const canvasOk = await hasCanvas();
const dir = mkdtempSync(join(tmpdir(), 'iruka-exp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('experiments', () => {
  it.runIf(canvasOk)('all six on 256 images, 1 epoch: tables, charts, index; the vanishing gradient is there', async () => {
    const lines: string[] = [];
    const done = await run(['--limit-train', '256', '--limit-test', '64', '--epochs', '1', '--out', dir], (l) => lines.push(l));
    expect(done).toEqual(['optimizers', 'batch', 'decay', 'gradients', 'init', 'whitening']);
    // batch 1 takes one step per example; λ = 0.01 leaves the smallest weights
    expect(readFileSync(join(dir, 'batch.md'), 'utf8')).toMatch(/^\| 1 \| 256 \|/m);
    const norms = [...readFileSync(join(dir, 'decay.md'), 'utf8').matchAll(/\| ([\d.]+) \|\n/g)].map((m) => Number(m[1]));
    expect(norms).toHaveLength(5);
    expect(Math.min(...norms)).toBe(norms[1]);
    for (const n of done) {
      expect(existsSync(join(dir, `${n}.png`))).toBe(true);
      expect(readFileSync(join(dir, 'README.md'), 'utf8')).toContain(readFileSync(join(dir, `${n}.md`), 'utf8'));
    }
    const opt = readFileSync(join(dir, 'optimizers.md'), 'utf8');
    for (const o of ['SGD', 'momentum', 'AdaGrad', 'Adam']) expect(opt).toMatch(new RegExp(`\\| ${o}[^|]*\\| \\d\\.\\d{4} \\| 0\\.\\d{4} \\|`));
    const g = readFileSync(join(dir, 'gradients.md'), 'utf8');
    const rows = [...g.matchAll(/^\| fc(\d) \| ([\d.e+-]+) \| ([\d.e+-]+) \|/gm)].map((m) => [Number(m[2]), Number(m[3])]);
    expect(rows).toHaveLength(7);
    expect(rows[6][0] / rows[0][0]).toBeGreaterThan(50); // sigmoid: the first layer's gradient vanishes
    expect(rows[6][1] / rows[0][1]).toBeLessThan(5); // ReLU: it does not
    expect(readFileSync(join(dir, 'whitening.md'), 'utf8')).toMatch(/\| zca ε=0\.1 \|/);
    // init: σ_u = 0.2 shrinks the signal layer by layer, σ_u = 5 saturates tanh, σ_u = 1 neither
    const init = [...readFileSync(join(dir, 'init.md'), 'utf8').matchAll(/^\| fc(\d) \| ([\d.e+-]+) \| ([\d.]+) % \| ([\d.e+-]+) \| ([\d.]+) % \| ([\d.e+-]+) \| ([\d.]+) % \|/gm)].map((m) => m.slice(2).map(Number));
    expect(init).toHaveLength(6);
    expect(init[5][0] / init[0][0]).toBeLessThan(0.01);
    expect(init[5][2]).toBeGreaterThan(0.2);
    expect(init[5][3]).toBeLessThan(1);
    expect(init[5][5]).toBeGreaterThan(30);
  });

  it('--only with an unknown name is a usage error', async () => {
    await expect(run(['--only', 'optimizers,bogus', '--out', dir], () => {})).rejects.toThrow(/--only: unknown experiment 'bogus'/);
  });

  it('line chart axes: a log axis spans the decades; a linear one of non-negative values stops at 0', () => {
    const p = planLines([{ label: 'a', points: [[1, 1e-3], [2, 0.5]] }], { title: '', xLabel: '', yLabel: '', logY: true });
    expect(p.yAxis.lo).toBeLessThanOrEqual(-3);
    expect(p.yAxis.hi).toBeGreaterThanOrEqual(0);
    expect(p.py(1e-3)).toBeGreaterThan(p.py(0.5));
    const q = planLines([{ label: 'a', points: [[1, 0.01], [2, 1]] }], { title: '', xLabel: '', yLabel: '' });
    expect(q.yAxis.lo).toBe(0);
    expect(() => planLines([{ label: 'a', points: [[1, 0]] }], { title: '', xLabel: '', yLabel: '', logY: true })).toThrow(/not plottable on a log axis/);
  });
});
