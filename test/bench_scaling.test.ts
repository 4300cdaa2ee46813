// bench:scaling with tiny settings: not a timing (no speed is asserted), but the JSON's shape —
// the measured parts (the pool tasks by their work, one thread's minibatches), one projected row
// per rule, batch and worker count with its terms, and the 1- and 2-worker check points with
// their errors.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BENCH = join(__dirname, '..', 'dist', 'bench', 'scaling.js');

describe('bench:scaling', () => {
  it('writes the parts, the projections and the check points', () => {
    const dir = mkdtempSync(join(tmpdir(), 'iruka-scaling-'));
    try {
      const json = join(dir, 'scaling.json');
      const r = spawnSync(process.execPath, [BENCH, '--seconds', '0.02', '--check-seconds', '0.05', '--workers', '4,64', '--batches', '16,40', '--json', json], { encoding: 'utf8', timeout: 240_000 });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/limited by/);
      const out = JSON.parse(readFileSync(json, 'utf8'));
      expect(out.parts.P).toBeGreaterThan(0);
      // one thread's minibatches the baselines need: chunks of 8 (the default rule and chunk 8) and 32 (the previous rule)
      expect(Object.keys(out.parts.local).sort()).toEqual(['16/32', '16/8', '40/32', '40/8']);
      // the pool tasks, by their work: batch 40 in chunks of 8 on 2 workers is chunks 0-2 (a node of 3 inside group 0) and 3-4 (chunk 3, then group 1's 4)
      expect(out.parts.tasks['c8 8+8+8']).toBeGreaterThan(0);
      expect(out.parts.tasks['c8 8 8']).toBeGreaterThan(0);
      for (const [k, t] of Object.entries(out.parts.tasks)) expect(t, k).toBeGreaterThan(0);
      for (const k of ['copyP', 'reducePerFloat', 'optimizer', 'roundTrip', 'perTask', 'contention2', 'wake']) expect(out.parts[k], k).toBeGreaterThan(0);
      // the dense weights' gradients come from rows (fc1, fc2), timed per batch; the tree sums the rest
      expect(out.parts.rowWeights).toEqual([{ inF: 1250, outF: 500 }, { inF: 500, outF: 10 }]);
      expect(out.parts.treeP).toBe(out.parts.P - 1250 * 500 - 500 * 10);
      for (const b of ['16', '40']) {
        expect(out.parts.rows[b], b).toBeGreaterThan(out.parts.rowsCopy[b]);
        expect(out.parts.rowsCopy[b], b).toBeGreaterThan(0);
      }
      expect(out.rows).toHaveLength(3 * 2 * 2);
      for (const row of out.rows) {
        expect(['default', 'previous', 'chunk 8']).toContain(row.rule);
        // against one thread at its fastest chunk, never above the same-chunk figure
        expect(row.efficiency).toBeLessThanOrEqual(row.efficiency_same_chunk + 1e-12);
        // the contended figure slows only the compute term by the measured factor
        expect(row.efficiency_contended > row.efficiency).toBe(out.parts.contention2 < 1);
        expect(row.images_per_sec).toBeGreaterThan(0);
        expect(row.efficiency).toBeGreaterThan(0);
        expect(row.chunks).toBe(Math.ceil(row.batch / row.chunk));
        expect(Object.keys(row.terms).sort()).toEqual(['compute', 'messaging', 'reduce', 'serial']);
        expect(typeof row.limited_by).toBe('string');
      }
      // batch 40 by the default rule: 5 chunks of 8, so 64 workers leave 59 idle; by the previous rule 2 (32 + 8), 62 idle
      const at = (rule: string) => out.rows.find((x: { rule: string; batch: number; workers: number }) => x.rule === rule && x.batch === 40 && x.workers === 64);
      expect(at('default').chunks).toBe(5);
      expect(at('default').limited_by).toMatch(/59 idle/);
      expect(at('previous').limited_by).toMatch(/62 idle/);
      expect(out.checks.map((c: { batch: number; workers: number }) => `${c.batch}/${c.workers}`)).toEqual(['16/1', '16/2', '40/1', '40/2']);
      for (const c of out.checks) {
        expect(c.measured_images_per_sec).toBeGreaterThan(0);
        expect(c.error).toBeCloseTo(c.projected_images_per_sec / c.measured_images_per_sec - 1, 9);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a bad flag is exit 2', () => {
    const r = spawnSync(process.execPath, [BENCH, '--workers', '0'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
  });
});
