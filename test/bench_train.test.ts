// bench:train with tiny settings: not a timing (no speed is asserted), but the JSON's shape —
// every configuration against workers × the neighbouring 1-core peak, the configurations with
// the most workers also against the peak of that many threads running at once, and what those
// threads reached together over one.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BENCH = join(__dirname, '..', 'dist', 'bench', 'train.js');

describe('bench:train', () => {
  it('writes each row against the 1-core peak and the largest worker count against the gang peak', () => {
    const dir = mkdtempSync(join(tmpdir(), 'iruka-bench-train-'));
    try {
      const json = join(dir, 'train.json');
      const r = spawnSync(process.execPath, [BENCH, '--synthetic', '--flavors', 'simd', '--batches', '16', '--workers', '1,2', '--seconds', '0.2', '--rounds', '2', '--json', json], { encoding: 'utf8', timeout: 240_000 });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/2 threads running the probe at once reached/);
      const out = JSON.parse(readFileSync(json, 'utf8'));
      expect(out.rows.map((x: { workers: number }) => x.workers)).toEqual([1, 2]);
      const [one, two] = out.rows;
      for (const row of out.rows) {
        expect(row.windows).toBe(2);
        expect(row.fraction_of_peak).toBeGreaterThan(0);
        expect(row.peak_gflops_per_core).toBeGreaterThan(0);
      }
      expect(one.fraction_of_gang_peak).toBeUndefined();
      expect(two.gang_peak_gflops).toBeGreaterThan(0);
      expect(two.fraction_of_gang_peak).toBeGreaterThan(0);
      expect(two.fraction_of_gang_peak_min).toBeLessThanOrEqual(two.fraction_of_gang_peak_max);
      expect(out.gang_scale).toHaveLength(1);
      expect(out.gang_scale[0]).toMatchObject({ flavor: 'simd', batch: 16, threads: 2 });
      expect(out.gang_scale[0].median).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
