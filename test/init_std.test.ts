// Initialisation rules and --init-std (σ_u): each scheme's stated variance, measured on 80,000
// draws, and lecun with σ_u = 1 drawing exactly what it drew before σ_u existed.
import { describe, it, expect } from 'vitest';
import { loadCoreSync } from '../src/core/load.js';
import { Params, gaussian, type InitScheme } from '../src/nn/params.js';
import { resolveFitOptions, checkInitStd } from '../src/train/options.js';

const core = loadCoreSync();
const M = 400, N = 200; // fan-in, fan-out of a [200, 400] linear weight

function drawn(init: InitScheme, gain?: number): Float32Array {
  const p = new Params(core, [{ name: 'w', shape: [N, M], init, fanIn: M, fanOut: N }]);
  try {
    p.init(5, gain);
    return Float32Array.from(p.view(p.entries[0]));
  } finally {
    p.free();
  }
}

function moments(w: Float32Array): { mean: number; variance: number } {
  let s = 0, s2 = 0;
  for (const v of w) {
    s += v;
    s2 += v * v;
  }
  const mean = s / w.length;
  return { mean, variance: s2 / w.length - mean * mean };
}

describe('init rules: the variance each states (80,000 draws: within 2 %)', () => {
  const rules: [InitScheme, number | undefined, number][] = [
    ['lecun', undefined, 1 / M],
    ['lecun', 2.5, 2.5 ** 2 / M], // the note's σ = σ_u/√M
    ['lecun', 0.1, 0.01 / M],
    ['he', undefined, 2 / M],
    ['he', 0.5, 0.25 * 2 / M],
    ['xavier', undefined, 2 / (M + N)],
    ['xavier', 3, 9 * 2 / (M + N)],
    ['torch', undefined, 1 / (3 * M)], // U(-1/√M, 1/√M)
  ];
  for (const [init, gain, want] of rules) {
    it(`${init}${gain === undefined ? '' : ` σ_u = ${gain}`}: variance ${want.toPrecision(4)}`, () => {
      const { mean, variance } = moments(drawn(init, gain));
      expect(Math.abs(variance / want - 1)).toBeLessThan(0.02);
      expect(Math.abs(mean)).toBeLessThan(4 * Math.sqrt(want / (M * N)));
    });
  }

  it('lecun with σ_u = 1 is bit-identical to σ = 1/√M times the seeded normal draws (what it always drew)', () => {
    const r = gaussian(5);
    const want = new Float32Array(M * N);
    for (let i = 0; i < want.length; i++) want[i] = (1 / Math.sqrt(M)) * r.normal();
    expect(Buffer.from(drawn('lecun').buffer).equals(Buffer.from(want.buffer))).toBe(true);
    expect(Buffer.from(drawn('lecun', 1).buffer).equals(Buffer.from(want.buffer))).toBe(true);
  });

  it('σ_u scales every weight of a normal scheme by σ_u (the same draws, within f32 rounding)', () => {
    const a = drawn('he'), b = drawn('he', 2);
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(b[i] - 2 * a[i]));
    expect(worst).toBeLessThan(1e-6);
  });
});

describe('fit option initStd', () => {
  it('must be > 0; refused with torch (uniform)', () => {
    expect(() => resolveFitOptions({ initStd: 0 })).toThrow(/initStd must be > 0/);
    expect(() => resolveFitOptions({ initStd: -1 })).toThrow(/initStd/);
    expect(() => checkInitStd({ init: 'torch', initStd: 2 }, { layers: [] })).toThrow(/normal initialisations/);
    expect(() => checkInitStd({ initStd: 2 }, { init: 'torch', layers: [] })).toThrow(/normal initialisations/);
    expect(() => checkInitStd({ initStd: 2 }, { layers: [{ type: 'linear', units: 3, init: 'torch' }] })).toThrow(/normal/);
    expect(() => checkInitStd({ init: 'he', initStd: 2 }, { init: 'torch', layers: [] })).not.toThrow();
    expect(() => Params.prototype.init.call({} as Params, 1, 0)).toThrow(/stdGain/);
  });
});
