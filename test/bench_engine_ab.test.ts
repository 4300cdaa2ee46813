// bench/engine_ab.ts with tiny settings: not a timing (no speed is asserted), but that it trains
// both checkouts side by side and prints each side's rate and the pairwise ratio; bad --roots are
// usage errors.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');
const BENCH = join(ROOT, 'dist', 'bench', 'engine_ab.js');

describe('bench engine_ab', () => {
  it('alternates two checkouts (here the same one twice) and prints their rates and the ratio', () => {
    const r = spawnSync(process.execPath, [BENCH, '--roots', `${ROOT},${ROOT}`, '--rounds', '2', '--steps', '1', '--batch', '16', '--chunk-size', '8,16', '--pin', 'off,auto'], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/workers 2, batch 16, 2 rounds of 1 steps each/);
    expect(r.stdout).toMatch(/A .* \(simd build, chunk 8, pin off\)/);
    expect(r.stdout).toMatch(/B .* \(simd build, chunk 16, pin auto\)/);
    expect(r.stdout.match(/median \d+ img\/s, best \d+/g)).toHaveLength(2);
    const ratio = Number(/median of the pairwise ratios ([\d.]+)/.exec(r.stdout)?.[1]);
    expect(ratio).toBeGreaterThan(0);
  });

  it('refuses anything but two built checkouts, with exit 2', () => {
    expect(spawnSync(process.execPath, [BENCH, '--roots', ROOT], { encoding: 'utf8' }).status).toBe(2);
    const r = spawnSync(process.execPath, [BENCH, '--roots', `${ROOT},/nonexistent`], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/\/nonexistent has no built dist/);
    expect(spawnSync(process.execPath, [BENCH, '--roots', `${ROOT},${ROOT}`, '--chunk-size', '8,8,8'], { encoding: 'utf8' }).status).toBe(2);
    expect(spawnSync(process.execPath, [BENCH, '--roots', `${ROOT},${ROOT}`, '--pin', 'always'], { encoding: 'utf8' }).status).toBe(2);
  });
});
