// How flavor 'auto' chooses the build in Node (src/core/choose_build.ts): the decision rule on
// given ratios, the environment switch, the per-machine cache and its key, and `iruka-tune`.
// Nothing here asserts a speed: a measurement's numbers are only checked for their shape.
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RELAXED_MIN_SPEEDUP, buildCacheKey, chooseBuildNow, decide, lowerQuartile, median, type ChooseDeps } from '../src/core/choose_build.js';
import { packagedBuilds } from '../src/core/load.js';

const TUNE = join(__dirname, '..', 'dist', 'src', 'cli', 'tune.js');

/** Deps that must not measure: loading a build throws. */
function noMeasure(over: Partial<ChooseDeps> = {}): ChooseDeps {
  return { ...packagedBuilds(), load: () => { throw new Error('measured'); }, ...over };
}

describe('the decision', () => {
  it('takes relaxed only when the median reaches the threshold and three rounds in four favour it', () => {
    expect(RELAXED_MIN_SPEEDUP).toBe(1.03);
    expect(decide([1.05, 1.06, 1.04, 1.08, 1.02])).toBe('relaxed');
    expect(decide([1.02, 1.02, 1.025, 1.01])).toBe('simd'); // not 3 % faster
    expect(decide([0.9, 0.95, 1.05, 1.06, 1.07, 1.08, 1.1, 1.2])).toBe('simd'); // median 1.065, but a quarter at or below 0.95: noise
    expect(decide([0.99, 1.04, 1.05, 1.06, 1.07, 1.08, 1.1, 1.2])).toBe('relaxed');
    expect(decide([])).toBe('simd');
  });

  it('quartile and median by rank', () => {
    expect(lowerQuartile([5, 1, 4, 2, 3])).toBe(2);
    expect(lowerQuartile([3, 1, 2, 4])).toBe(1);
    expect(median([3, 1, 2, 4])).toBe(2.5);
  });
});

describe("choosing for 'auto'", () => {
  let dir: string;
  const saved = { tune: process.env.IRUKA_TUNE, xdg: process.env.XDG_CACHE_HOME };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'iruka-choose-'));
    process.env.XDG_CACHE_HOME = dir;
    delete process.env.IRUKA_TUNE;
  });
  afterEach(() => {
    for (const [k, v] of [['IRUKA_TUNE', saved.tune], ['XDG_CACHE_HOME', saved.xdg]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    rmSync(dir, { recursive: true, force: true });
  });
  const file = () => join(dir, 'iruka', 'build-choice.json');

  it('an engine without relaxed SIMD gets the plain build, unmeasured', () => {
    const c = chooseBuildNow(noMeasure({ relaxedSupported: false, read: () => { throw new Error('read'); } }));
    expect(c).toMatchObject({ flavor: 'simd', by: 'unsupported' });
  });

  it('IRUKA_TUNE=off picks by availability without measuring or writing a cache (what the tests run with)', () => {
    process.env.IRUKA_TUNE = 'off';
    const c = chooseBuildNow(noMeasure());
    expect(c).toMatchObject({ flavor: 'relaxed', by: 'availability' });
    expect(c.reason).toMatch(/IRUKA_TUNE=off/);
    expect(existsSync(file())).toBe(false);
  });

  it('measures once, caches under $XDG_CACHE_HOME/iruka, and then reads the cache; other builds are a new key', () => {
    const first = chooseBuildNow(packagedBuilds());
    expect(first.by).toBe('measured');
    expect(first.cacheFile).toBe(file());
    const m = first.measurement!;
    expect(m.ratios).toHaveLength(30);
    for (const r of m.ratios) expect(r).toBeGreaterThan(0);
    expect(m.speedup).toBe(median(m.ratios));
    expect(first.flavor).toBe(decide(m.ratios));
    expect(m.key).toMatch(/^v1 \| .+ \| node v\d+\.\d+\.\d+ \| wasm [0-9a-f]{16}$/);
    const cached = JSON.parse(readFileSync(file(), 'utf8')).entries;
    expect(Object.keys(cached)).toEqual([m.key]);

    const again = chooseBuildNow(noMeasure());
    expect(again).toMatchObject({ flavor: first.flavor, by: 'cached' });
    expect(again.measurement).toEqual(m);
    expect(again.reason).toMatch(/cached in .*build-choice\.json/);

    // a rebuilt module (other bytes) is not the build that was measured
    const other = noMeasure({ read: (f) => new Uint8Array([f === 'simd' ? 1 : 2, 3]) });
    expect(() => chooseBuildNow(other)).toThrow(/measured/);
  });

  it('a decision in the cache decides, by its ratios; an unreadable cache is measured again', () => {
    const key = buildCacheKey(packagedBuilds())!;
    const write = (ratios: number[]) => {
      mkdirSync(join(dir, 'iruka'), { recursive: true });
      writeFileSync(file(), JSON.stringify({ entries: { [key]: { ratios, speedup: median(ratios), msPlain: 2, msRelaxed: 1, date: '2026-01-02T00:00:00.000Z', key } } }));
    };
    write([1.2, 1.3, 1.25, 1.22]);
    expect(chooseBuildNow(noMeasure())).toMatchObject({ flavor: 'relaxed', by: 'cached' });
    write([0.8, 0.9, 0.85]);
    const c = chooseBuildNow(noMeasure());
    expect(c).toMatchObject({ flavor: 'simd', by: 'cached' });
    expect(c.reason).toMatch(/0\.8500x .*below the 1\.0300x .*measured on 2026-01-02/);
    writeFileSync(file(), '{ not json');
    expect(() => chooseBuildNow(noMeasure())).toThrow(/measured/);
  });
});

describe('iruka-tune', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'iruka-tune-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const tune = (args: string[]) => spawnSync(process.execPath, [TUNE, ...args], { encoding: 'utf8', env: { ...process.env, XDG_CACHE_HOME: dir }, timeout: 60_000 });

  it('--help says what it measures and where the cache is', () => {
    const r = tune(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Usage: npm run tune/);
    expect(r.stdout).toContain(join(dir, 'iruka', 'build-choice.json'));
    expect(r.stdout).toMatch(/IRUKA_TUNE=off/);
  });

  it('measures (even with IRUKA_TUNE=off, which only stops auto), caches, and --show reads it back', () => {
    const before = tune(['--show']);
    expect(before.status).toBe(0);
    expect(before.stdout).toMatch(/no cached decision/);
    const r = tune(['--rounds', '3', '--window-ms', '1', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const c = JSON.parse(r.stdout);
    expect(c.by).toBe('measured');
    expect(c.measurement.ratios).toHaveLength(3);
    expect(c.flavor).toBe(decide(c.measurement.ratios));
    const shown = tune(['--show']);
    expect(shown.stdout).toMatch(new RegExp(`flavor 'auto' loads: ${c.flavor} \\(.*cached in`));
  });

  it('a bad flag is exit 2', () => {
    expect(tune(['--rounds', '0']).status).toBe(2);
  });
});
