// The registries are read where they say they are: every kernel side of the op table
// (KERNEL_SIDES, exhaustive over OpDef's kernel-side fields at compile time) names the test
// files and the benchmark function that read it, and each of those reads it (through its list,
// or from its one entry by name); every op carries a kernel side or says in NO_KERNEL_SIDE why
// not; the optimizer registry is iterated by its kernel tests, its torch comparison and the
// benchmark. The compile-time half: src/ops/table.ts (`single`, `satisfies`) and
// bench/kernels.ts (OP_ROWS).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { KERNEL_SIDES, NO_KERNEL_SIDE, OP_LIST, opDef, type KernelSide } from '../../src/ops/table.js';
import { OPTIM_LIST } from '../../src/optim/registry.js';

const source = (path: string) => readFileSync(fileURLToPath(new URL(`../../${path}`, import.meta.url)), 'utf8');
const BENCH = source('bench/kernels.ts');

/** How a file reads a side: its list, or `OPS.<entry>.<side>`. */
function reader(side: KernelSide): string {
  const s = KERNEL_SIDES[side];
  return 'list' in s ? s.list : `OPS.${s.entry}.${side}`;
}

describe('op table kernel sides', () => {
  for (const side of Object.keys(KERNEL_SIDES) as KernelSide[]) {
    const s = KERNEL_SIDES[side];
    it(`${side}: read by ${s.tests.join(', ')} and bench/kernels.ts ${s.bench} (${reader(side)})`, () => {
      for (const file of s.tests) expect(source(file).includes(reader(side)), `${file} reads ${reader(side)}`).toBe(true);
      expect(BENCH.includes(`function ${s.bench}(`), `bench/kernels.ts defines ${s.bench}`).toBe(true);
      expect(BENCH.includes(reader(side)), `bench/kernels.ts reads ${reader(side)}`).toBe(true);
      expect(BENCH.split(`${s.bench}(`).length, `bench/kernels.ts calls ${s.bench}`).toBeGreaterThan(2);
      const carriers = OP_LIST.filter(([, d]) => d[side] !== undefined).map(([n]) => n);
      expect(carriers.length, `ops carrying ${side}`).toBeGreaterThan(0);
      if (!('list' in s)) expect(carriers).toEqual([s.entry]);
    });
  }

  it('every op carries a kernel side or says why not, never both', () => {
    const sides = Object.keys(KERNEL_SIDES) as KernelSide[];
    for (const [name] of OP_LIST) {
      const has = sides.filter((side) => opDef(name)[side] !== undefined);
      const why = (NO_KERNEL_SIDE as Record<string, string>)[name];
      expect(has.length > 0 !== (why !== undefined), `${name}: sides [${has.join(', ')}], reason ${why}`).toBe(true);
    }
  });
});

describe('optimizer registry', () => {
  it('its kernel tests, torch comparison and benchmark rows iterate it', () => {
    for (const file of ['test/kernels/optim.test.ts', 'test/torch/optim.test.ts', 'bench/kernels.ts']) {
      expect(source(file).includes('OPTIM_LIST'), `${file} iterates OPTIM_LIST`).toBe(true);
    }
    expect(OPTIM_LIST.map(([name]) => name)).toEqual(['sgd', 'adagrad', 'rmsprop', 'adam']);
  });
});
