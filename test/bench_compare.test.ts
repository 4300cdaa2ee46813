// bench:compare with tiny settings: not a timing (no speed is asserted), but the JSON's shape —
// the four rows, our images/s, a measured peer's images/s and ratio, and a missing peer
// reported as skipped with its reason rather than as a zero.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BENCH = join(__dirname, '..', 'dist', 'bench', 'compare.js');

function run(args: string[]) {
  const r = spawnSync(process.execPath, [BENCH, ...args], { encoding: 'utf8', timeout: 240_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('bench:compare', () => {
  it('--help names the flags', () => {
    const r = run(['--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--seconds', '--rounds', '--peers', '--python', '--json']) expect(r.out).toContain(flag);
  });

  it('a bad flag is exit 2', () => {
    const r = run(['--peers', 'caffe']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown peer 'caffe'/);
  });

  it('writes the four rows; an absent PyTorch and a peer not asked for are skipped with a reason, not zeros', () => {
    const dir = mkdtempSync(join(tmpdir(), 'iruka-compare-test-'));
    try {
      const json = join(dir, 'compare.json');
      const r = run(['--rounds', '1', '--seconds', '0.2', '--peers', 'pytorch,onnxruntime', '--python', join(dir, 'no-python'), '--json', json]);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      const res = JSON.parse(readFileSync(json, 'utf8'));
      expect(res.rounds).toBe(1);
      expect(res.seconds).toBe(0.2);
      expect(Object.keys(res.rows)).toEqual(['train_b64_2w', 'train_b256_2w', 'infer_b256_1t', 'infer_b256_2t']);
      for (const [name, row] of Object.entries<{ ours: { images_per_sec: number }; peers: Record<string, Record<string, unknown>> }>(res.rows)) {
        expect(row.ours.images_per_sec, name).toBeGreaterThan(0);
        expect(row.peers.pytorch, name).toEqual({ skipped: expect.stringMatching(/no-python does not exist/) });
      }
      for (const row of ['infer_b256_1t', 'infer_b256_2t']) {
        const ort = res.rows[row].peers['onnxruntime-web'];
        expect(ort.images_per_sec, row).toBeGreaterThan(0);
        expect(ort.ratio_median, row).toBeGreaterThan(0);
        expect(ort.windows, row).toBe(1);
        expect(ort.logits_max_rel_diff, row).toBeLessThan(1e-5);
      }
      expect(res.rows.infer_b256_1t.peers['tfjs-wasm']).toEqual({ skipped: expect.stringMatching(/not asked for/) });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
