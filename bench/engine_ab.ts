// node dist/bench/engine_ab.js --roots A_ROOT,B_ROOT [options] — training steps of two checkouts of
// iruka (each a folder with its own built dist/) side by side in one process, for A/B work on
// the trainer itself (engines, reduction, per-chunk costs), which a kernel A/B cannot see.
//
// Each checkout gets its own core, LeNet, SGD and engine (this thread's for 1 worker, its own
// Piscina pool otherwise) over the same random MNIST-shaped images; after a warm-up, rounds
// alternate a window of a few steps of A with one of B, and the figure is the median of the
// per-round ratios B/A. Alternating short windows keeps both sides under the same load on a
// shared machine; a long run of each would compare two different moments. Only one side's
// workers compute at a time (the other pool waits idle).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { helpText, num, parseFlags, runCli, UsageError } from '../src/cli/common.js';
import { pairwise } from './peak_ratio.js';

const FLAGS = {
  roots: { type: 'string', arg: 'A,B', help: 'two checkouts, each with a built dist/ (e.g. a git worktree of the base commit, and this one: .)' },
  workers: { type: 'string', arg: 'N', default: '2', help: 'gradient workers (1: the in-thread engine)' },
  batch: { type: 'string', arg: 'N', default: '64', help: 'minibatch size' },
  'chunk-size': { type: 'string', arg: 'N[,N]', default: '8', help: 'examples per chunk: one for both sides, or A\'s,B\'s (to set two defaults against each other)' },
  flavors: { type: 'string', arg: 'F[,F]', default: 'simd', help: 'kernel build (simd or relaxed): one for both sides, or A\'s,B\'s' },
  pin: { type: 'string', arg: 'MODE[,MODE]', default: 'auto', help: 'worker thread pinning (auto, on, off; checkouts before it ignore it): one for both sides, or A\'s,B\'s' },
  rounds: { type: 'string', arg: 'N', default: '30', help: 'alternating rounds' },
  steps: { type: 'string', arg: 'N', default: '8', help: 'steps per window' },
} as const;

const HELP = helpText(
  'node dist/bench/engine_ab.js --roots A_ROOT,B_ROOT [options]',
  'LeNet training steps of two built checkouts in alternating windows; prints each side\'s images/s and the median ratio B/A.',
  FLAGS,
);

interface Side {
  root: string;
  what: string;
  step: () => Promise<void>;
  close: () => Promise<void>;
}

/** A checkout's trainer, loaded from its own dist/ (the same shapes of API across versions). */
async function side(root: string, x: Float32Array, labels: Uint8Array, cfg: { workers: number; batch: number; chunk: number; flavor: string; pin: string }): Promise<Side> {
  const load = (m: string) => import(`${root}/dist/${m}`);
  await load('src/cli/relaxed_simd.js');
  const { loadCoreSync } = await load('src/core/load.js');
  const { fromArrays } = await load('src/data/dataset.js');
  const { lenet, LENET_SPEC, MNIST_SHAPE } = await load('src/nn/lenet.js');
  const { BoundModel } = await load('src/train/model.js');
  const { PoolEngine } = await load('src/train/pool.js');
  const { LocalEngine } = await load('src/train/engine.js');
  const { makeOptimizer } = await load('src/optim/index.js');
  const core = loadCoreSync({ flavor: cfg.flavor });
  const data = fromArrays({ x, sampleShape: [...MNIST_SHAPE], labels, classes: 10 });
  const model = new BoundModel(core, lenet(), MNIST_SHAPE);
  model.params.init(1);
  const opt = makeOptimizer(core, model.params.data, model.params.grad, { name: 'sgd', momentum: 0.9, weightDecay: 5e-4 });
  const opts = { augment: {}, fill: [0], seed: 1 };
  const engine = cfg.workers === 1 ? new LocalEngine(model, data, cfg.chunk, opts) : new PoolEngine(core, model, LENET_SPEC, data, { workers: cfg.workers, chunkSize: cfg.chunk, batchSize: cfg.batch, pin: cfg.pin }, opts);
  const idx = new Uint32Array(cfg.batch);
  const n = labels.length;
  let s = 0;
  return {
    root,
    what: `${cfg.flavor} build, chunk ${cfg.chunk}${cfg.workers > 1 ? `, pin ${cfg.pin}` : ''}`,
    step: async () => {
      for (let j = 0; j < cfg.batch; j++) idx[j] = (s * cfg.batch + j) % n;
      await engine.minibatch(idx, s);
      opt.step(0.01);
      s++;
    },
    close: () => engine.close(),
  };
}

/** A flag's value for sides A and B: one value for both, or two comma separated. */
function perSide(flag: string, value: string | undefined): [string, string] {
  const v = (value ?? '').split(',');
  if (v.length === 1) return [v[0], v[0]];
  if (v.length === 2) return [v[0], v[1]];
  throw new UsageError(`--${flag} takes one value or two (A,B), got '${value}'`);
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[s.length >> 1];
}

async function main(argv: string[]) {
  const f = parseFlags(argv, FLAGS);
  const roots = (f.roots ?? '').split(',').filter(Boolean).map((r) => resolve(r));
  if (roots.length !== 2) throw new UsageError('--roots needs two checkouts, A,B (each with a built dist/)');
  for (const r of roots) if (!existsSync(`${r}/dist/src/train/engine.js`)) throw new UsageError(`${r} has no built dist/ (run npm run build there)`);
  const workers = num('workers', f.workers, { int: true, min: 1 });
  const batch = num('batch', f.batch, { int: true, min: 1 });
  const chunks = perSide('chunk-size', f['chunk-size']).map((c) => num('chunk-size', c, { int: true, min: 1 }));
  const flavors = perSide('flavors', f.flavors);
  for (const fl of flavors) if (fl !== 'simd' && fl !== 'relaxed') throw new UsageError(`--flavors: '${fl}' is not simd or relaxed`);
  const pins = perSide('pin', f.pin);
  for (const p of pins) if (!['auto', 'on', 'off'].includes(p)) throw new UsageError(`--pin: '${p}' is not auto, on or off`);
  const rounds = num('rounds', f.rounds, { int: true, min: 1 });
  const steps = num('steps', f.steps, { int: true, min: 1 });
  const n = 8192;
  let seed = 7;
  const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const x = new Float32Array(new SharedArrayBuffer(n * 784 * 4)).map(() => random() - 0.5);
  const labels = new Uint8Array(new SharedArrayBuffer(n)).map(() => Math.floor(random() * 10));
  const sides: Side[] = [];
  for (let i = 0; i < 2; i++) sides.push(await side(roots[i], x, labels, { workers, batch, chunk: chunks[i], flavor: flavors[i], pin: pins[i] }));
  try {
    for (const sd of sides) for (let i = 0; i < 20; i++) await sd.step(); // V8 tiers each side's WASM up
    const rates: number[][] = sides.map(() => []);
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < sides.length; i++) {
        const t0 = performance.now();
        for (let k = 0; k < steps; k++) await sides[i].step();
        rates[i].push((steps * batch) / ((performance.now() - t0) / 1000));
      }
    }
    const { median: mid, min, max } = pairwise(rates[1], rates[0]);
    const q = rates[1].map((v, i) => v / rates[0][i]).sort((a, b) => a - b);
    const at = (p: number) => q[Math.min(q.length - 1, Math.floor(p * q.length))].toFixed(3);
    console.log(`workers ${workers}, batch ${batch}, ${rounds} rounds of ${steps} steps each`);
    for (let i = 0; i < 2; i++) console.log(`  ${'AB'[i]} ${sides[i].root} (${sides[i].what}): median ${median(rates[i]).toFixed(0)} img/s, best ${Math.max(...rates[i]).toFixed(0)}`);
    console.log(`  B/A: median of the pairwise ratios ${mid.toFixed(3)} (quartiles ${at(0.25)}-${at(0.75)}, range ${min.toFixed(3)}-${max.toFixed(3)})`);
  } finally {
    for (const sd of sides) await sd.close();
  }
}

await runCli('engine_ab', HELP, process.argv.slice(2), main);
