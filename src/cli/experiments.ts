#!/usr/bin/env node
// `npm run experiments`: seeded comparisons from the study note on small MNIST subsets, each
// writing a markdown table and a PNG chart into one results folder:
//   optimizers  SGD, momentum, AdaGrad and Adam on one MLP (training loss per epoch)
//   batch       batch size 1, 16, 64, 256 with plain SGD: test accuracy against training time
//   decay       L2 weight decay off and λ = 0.01 .. 0.00001: train/test gap and weight norm
//   gradients   sigmoid versus ReLU in a deep MLP: each layer's weight-gradient norm at
//               initialisation and after training (the vanishing gradient made visible)
//   init        σ_u too small, 1 (σ = 1/√M) and too large in a deep tanh MLP: each layer's
//               activation statistics at initialisation
//   whitening   none, standardize and ZCA inputs on one MLP (test accuracy per epoch)
// Every run is seeded and single-threaded, so the numbers repeat exactly on the same build.
import './relaxed_simd.js';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { helpText, parseFlags, runCli, isMain, num, type FlagSpec } from './common.js';
import { loadDataset } from '../data/datasets.js';
import { subset, type Dataset } from '../data/dataset.js';
import { fitPreprocess, applyPreprocess, type Preprocessor } from '../data/preprocess.js';
import { shippedSpec } from '../nn/zoo.js';
import { Model, type ModelSpec, type LayerSpec } from '../nn/spec.js';
import { fit, type FitResult } from '../train/fit.js';
import { OPTION_BOUNDS, type FitOptions } from '../train/options.js';
import type { EpochMetrics } from '../train/metrics.js';
import { BoundModel } from '../train/model.js';
import { loadCoreSync, type Core } from '../core/load.js';
import { sumSq } from '../core/kernels/elementwise.js';

export const EXPERIMENTS = ['optimizers', 'batch', 'decay', 'gradients', 'init', 'whitening'] as const;
type Name = (typeof EXPERIMENTS)[number];

export const FLAGS = {
  only: { type: 'string', arg: 'LIST', help: `comma-separated subset of ${EXPERIMENTS.join(', ')} (default: all)` },
  'limit-train': { type: 'string', arg: 'N', default: '3000', help: 'training images of each run' },
  'limit-test': { type: 'string', arg: 'N', default: '1000', help: 'test images of each run' },
  epochs: { type: 'string', arg: 'N', default: '6', help: 'epochs of each run' },
  seed: { type: 'string', arg: 'N', default: '1', help: 'seed of every run' },
  out: { type: 'string', arg: 'DIR', default: 'runs/experiments', help: 'results folder: <name>.md and <name>.png per experiment, and README.md' },
  help: { type: 'boolean', short: 'h', help: 'show this help' },
} satisfies Record<string, FlagSpec>;

export const HELP = helpText('npm run experiments -- [options]', 'Runs the study note\'s comparisons on MNIST subsets; writes a markdown table and a PNG chart per experiment.', FLAGS);

interface Ctx {
  train: Dataset;
  test: Dataset;
  epochs: number;
  seed: number;
  out: string;
  core: Core;
  log: (l: string) => void;
}

const BASE: Partial<FitOptions> = { workers: 1, batchSize: 64, schedule: 'constant', warmupEpochs: 0, weightDecay: 0, checkpointEvery: 0, flavor: 'auto' };

async function train(c: Ctx, spec: ModelSpec | unknown, opts: Partial<FitOptions>, data?: { train: Dataset; test: Dataset }): Promise<FitResult> {
  return fit(spec, data ?? { train: c.train, test: c.test }, { ...BASE, epochs: c.epochs, seed: c.seed, ...opts });
}

const f4 = (v: number | null) => (v === null ? '-' : v.toFixed(4));
const table = (head: string[], rows: (string | number)[][]) =>
  [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');

async function chart(c: Ctx, name: string, series: { label: string; points: [number, number][] }[], opts: { title: string; xLabel: string; yLabel: string; logY?: boolean }): Promise<void> {
  const { renderLines } = await import('../render/lines.js');
  await renderLines(series, join(c.out, `${name}.png`), opts);
}

async function optimizers(c: Ctx): Promise<string> {
  const runs: [string, Partial<FitOptions>][] = [
    ['SGD (lr 0.1)', { optimizer: 'sgd', momentum: 0, nesterov: false, lr: 0.1 }],
    ['momentum 0.9 (lr 0.01)', { optimizer: 'sgd', momentum: 0.9, nesterov: false, lr: 0.01 }],
    ['AdaGrad (lr 0.01)', { optimizer: 'adagrad', lr: 0.01 }],
    ['Adam (lr 0.001)', { optimizer: 'adam', lr: 0.001 }],
  ];
  const rows: (string | number)[][] = [];
  const series = [];
  for (const [label, o] of runs) {
    const r = await train(c, shippedSpec('mlp'), o);
    r.model.free();
    const m = r.metrics;
    series.push({ label, points: m.map((e) => [e.epoch, e.train_loss] as [number, number]) });
    rows.push([label, ...m.map((e) => f4(e.train_loss)), f4(r.testAcc)]);
    c.log(`optimizers: ${label}: train loss ${m.map((e) => e.train_loss.toFixed(3)).join(' ')}; test acc ${f4(r.testAcc)}`);
  }
  await chart(c, 'optimizers', series, { title: `MLP on ${c.train.n} MNIST images: training loss per epoch`, xLabel: 'epoch', yLabel: 'training loss (log scale)', logY: true });
  return `## Optimizers\n\nThe shipped MLP (784-256-128-10, ReLU), batch 64, constant learning rate, ${c.train.n} training and ${c.test.n} test images, seed ${c.seed}.\nTraining loss per epoch (the mean over the epoch's minibatches) and the final test accuracy:\n\n` +
    table(['optimizer', ...Array.from({ length: c.epochs }, (_, i) => `epoch ${i + 1}`), 'test acc'], rows) + '\n\n![optimizers](optimizers.png)\n';
}

/** A deep MLP: `depth` hidden layers of `width` units with `act`, LeCun normal init. */
function deepMlp(act: 'sigmoid' | 'relu' | 'tanh', depth = 6, width = 64): ModelSpec {
  const layers: LayerSpec[] = [{ type: 'flatten', name: 'flatten' }];
  for (let i = 1; i <= depth; i++) layers.push({ type: 'linear', name: `fc${i}`, units: width }, { type: act, name: `${act}${i}` } as LayerSpec);
  layers.push({ type: 'linear', name: `fc${depth + 1}`, units: 10 });
  return { format: 'iruka-model-1', name: `deep_mlp_${act}`, input: [1, 28, 28], init: 'lecun', layers } as ModelSpec;
}

/** ‖∂L/∂W‖ of each linear layer's weight on the first `n` training examples (one batch). */
function layerGradNorms(model: BoundModel, data: Dataset, n: number, seed: number): number[] {
  model.params.zeroGrad();
  model.gradChunk(data, Uint32Array.from({ length: n }, (_, i) => i), 1, { seed });
  const g = model.params.grad.view();
  return model.params.entries.filter((e) => e.name.endsWith('.weight')).map((e) => {
    let s = 0;
    for (let i = e.offset; i < e.offset + e.size; i++) s += g[i] * g[i];
    return Math.sqrt(s);
  });
}

async function gradients(c: Ctx): Promise<string> {
  const depth = 6;
  const result: Record<string, { init: number[]; trained: number[]; acc: number | null }> = {};
  for (const act of ['sigmoid', 'relu'] as const) {
    const spec = deepMlp(act, depth);
    const fresh = new BoundModel(c.core, new Model(spec), spec.input);
    fresh.params.init(c.seed);
    const init = layerGradNorms(fresh, c.train, 256, c.seed);
    fresh.free();
    const r = await train(c, spec, { optimizer: 'sgd', momentum: 0.9, nesterov: false, lr: 0.01 });
    const trained = layerGradNorms(r.model, c.train, 256, c.seed);
    r.model.free();
    result[act] = { init, trained, acc: r.testAcc };
    c.log(`gradients: ${act}: at init ${init.map((v) => v.toExponential(2)).join(' ')}; test acc ${f4(r.testAcc)}`);
  }
  const layers = Array.from({ length: depth + 1 }, (_, i) => i + 1);
  const series = (['sigmoid', 'relu'] as const).flatMap((act) => [
    { label: `${act}, init`, points: layers.map((l, i) => [l, result[act].init[i]] as [number, number]) },
    { label: `${act}, trained`, points: layers.map((l, i) => [l, result[act].trained[i]] as [number, number]) },
  ]);
  await chart(c, 'gradients', series, { title: `Deep MLP (${depth} x 64 hidden): weight-gradient norm per layer`, xLabel: 'layer (1 = next to the input)', yLabel: '‖∂L/∂W‖ (log scale)', logY: true });
  const e = (v: number) => v.toExponential(2);
  const rows = layers.map((l, i) => [`fc${l}`, e(result.sigmoid.init[i]), e(result.relu.init[i]), e(result.sigmoid.trained[i]), e(result.relu.trained[i])]);
  const ratio = (a: number[]) => (a[a.length - 1] / a[0]).toFixed(1);
  return `## Sigmoid versus ReLU: the vanishing gradient\n\nAn MLP with ${depth} hidden layers of 64 units, LeCun normal initialisation (σ = 1/√M), on one batch of 256 training images; ` +
    `trained ${c.epochs} epochs with momentum SGD (lr 0.01) on ${c.train.n} images. Norm of each layer's weight gradient:\n\n` +
    table(['layer', 'sigmoid at init', 'ReLU at init', 'sigmoid trained', 'ReLU trained'], rows) +
    `\n\nLast layer / first layer at init: sigmoid ${ratio(result.sigmoid.init)}x, ReLU ${ratio(result.relu.init)}x. Test accuracy after training: sigmoid ${f4(result.sigmoid.acc)}, ReLU ${f4(result.relu.acc)}.\n\n![gradients](gradients.png)\n`;
}

function preprocessed(ds: Dataset, p: Preprocessor, core: Core): Dataset {
  return { ...ds, x: applyPreprocess(p, ds.x, ds.n, { core }), preprocess: p };
}

async function whitening(c: Ctx): Promise<string> {
  const rows: (string | number)[][] = [];
  const series = [];
  for (const [kind, eps] of [['none', 0], ['standardize', 0.1], ['zca', 0.1], ['zca', 1]] as const) {
    let data = { train: c.train, test: c.test };
    const label = kind === 'zca' ? `zca ε=${eps}` : kind;
    if (kind !== 'none') {
      const p = fitPreprocess(kind, c.train.x, c.train.n, 784, eps);
      data = { train: preprocessed(c.train, p, c.core), test: preprocessed(c.test, p, c.core) };
    }
    const r = await train(c, shippedSpec('mlp'), { optimizer: 'sgd', momentum: 0.9, nesterov: false, lr: 0.01 }, data);
    r.model.free();
    const m: EpochMetrics[] = r.metrics;
    series.push({ label, points: m.map((e) => [e.epoch, 100 * (e.test_acc ?? 0)] as [number, number]) });
    rows.push([label, ...m.map((e) => f4(e.test_acc)), f4(m[m.length - 1].train_loss)]);
    c.log(`whitening: ${label}: test acc ${m.map((e) => f4(e.test_acc)).join(' ')}`);
  }
  await chart(c, 'whitening', series, { title: `MLP on ${c.train.n} MNIST images: test accuracy per epoch by input preprocessing`, xLabel: 'epoch', yLabel: 'test accuracy (%)' });
  return `## Whitening\n\nThe shipped MLP, momentum SGD (lr 0.01), batch 64, inputs as loaded (mean/std normalised), standardised per pixel (ε = 0.1), or ZCA-whitened (ε = 0.1 and 1, on the normalised pixels), each fitted on the ${c.train.n} training images. Test accuracy per epoch, and the last epoch's training loss:\n\n` +
    table(['input', ...Array.from({ length: c.epochs }, (_, i) => `epoch ${i + 1}`), 'train loss'], rows) + '\n\n![whitening](whitening.png)\n';
}

/** Per hidden layer of a linear+tanh MLP at its initialisation: std of the total inputs u and the share of |tanh(u)| > 0.99. */
function activationStats(model: BoundModel, data: Dataset, n: number, depth: number): { std: number; saturated: number }[] {
  const p = model.params;
  const w = (name: string) => p.view(p.byName.get(name)!);
  let h = Float64Array.from(data.x.subarray(0, n * 784));
  let width = 784;
  const out: { std: number; saturated: number }[] = [];
  for (let l = 1; l <= depth; l++) {
    const W = w(`fc${l}.weight`), b = w(`fc${l}.bias`);
    const units = b.length;
    const next = new Float64Array(n * units);
    let s2 = 0, sat = 0;
    for (let s = 0; s < n; s++) {
      for (let u = 0; u < units; u++) {
        let a = b[u];
        for (let j = 0; j < width; j++) a += W[u * width + j] * h[s * width + j];
        s2 += a * a;
        const t = Math.tanh(a);
        if (Math.abs(t) > 0.99) sat++;
        next[s * units + u] = t;
      }
    }
    out.push({ std: Math.sqrt(s2 / (n * units)), saturated: sat / (n * units) });
    h = next;
    width = units;
  }
  return out;
}

async function init(c: Ctx): Promise<string> {
  const depth = 6;
  const gains = [0.2, 1, 5];
  const spec = deepMlp('tanh', depth);
  const stats = gains.map((g) => {
    const m = new BoundModel(c.core, new Model(spec), spec.input);
    try {
      m.params.init(c.seed, g);
      return activationStats(m, c.train, 256, depth);
    } finally {
      m.free();
    }
  });
  gains.forEach((g, i) => c.log(`init: σ_u = ${g}: std(u) ${stats[i].map((s) => s.std.toPrecision(3)).join(' ')}`));
  const layers = Array.from({ length: depth }, (_, i) => i + 1);
  await chart(c, 'init', gains.map((g, i) => ({ label: `σ_u = ${g}`, points: layers.map((l, k) => [l, stats[i][k].std] as [number, number]) })), {
    title: `Deep tanh MLP (${depth} x 64) at initialisation: spread of each layer's total input`, xLabel: 'hidden layer', yLabel: 'std of u = Wx + b (log scale)', logY: true,
  });
  const rows = layers.map((l, k) => [`fc${l}`, ...gains.flatMap((_, i) => [stats[i][k].std.toPrecision(3), `${(100 * stats[i][k].saturated).toFixed(1)} %`])]);
  return `## Initialisation: σ = σ_u/√M\n\nAn MLP of ${depth} tanh layers of 64 units initialised with \`--init lecun --init-std σ_u\` (weights N(0, σ_u²/M), M the fan-in), on 256 training images: the standard deviation of each layer's total input u and the share of units with |tanh(u)| > 0.99 (saturated: almost no gradient passes).\n\n` +
    table(['layer', ...gains.flatMap((g) => [`std u, σ_u=${g}`, `saturated, σ_u=${g}`])], rows) + '\n\n![init](init.png)\n';
}

async function batch(c: Ctx): Promise<string> {
  const rows: (string | number)[][] = [];
  const series = [];
  for (const b of [1, 16, 64, 256]) {
    const r = await train(c, shippedSpec('mlp'), { optimizer: 'sgd', momentum: 0, nesterov: false, lr: 0.01, batchSize: b });
    r.model.free();
    let t = 0;
    const pts = r.metrics.map((m) => [(t += m.seconds), 100 * (m.test_acc ?? 0)] as [number, number]);
    series.push({ label: `batch ${b}`, points: pts });
    rows.push([b, Math.ceil(c.train.n / b) * c.epochs, t.toFixed(1), f4(r.metrics[0].test_acc), f4(r.testAcc)]);
    c.log(`batch: ${b}: ${t.toFixed(1)} s, test acc ${f4(r.testAcc)}`);
  }
  await chart(c, 'batch', series, { title: `MLP, plain SGD (lr 0.01): test accuracy against training time`, xLabel: 'training seconds (one thread; evaluation not counted)', yLabel: 'test accuracy (%)' });
  return `## Minibatch size\n\nThe shipped MLP, plain SGD at a constant lr 0.01 for every batch size, ${c.epochs} epochs over ${c.train.n} images, one thread. Each point is an epoch's end; the time is training only. Wall times depend on the machine and its load; the accuracies are seeded.\n\n` +
    table(['batch', 'steps', 'train seconds', 'test acc after epoch 1', 'final test acc'], rows) + '\n\n![batch](batch.png)\n';
}

async function decay(c: Ctx): Promise<string> {
  const rows: (string | number)[][] = [];
  const series = [];
  for (const wd of [0, 0.01, 0.001, 0.0001, 0.00001]) {
    const r = await train(c, shippedSpec('mlp'), { optimizer: 'sgd', momentum: 0.9, nesterov: false, lr: 0.01, weightDecay: wd });
    const norm = Math.sqrt(sumSq(r.model.core, r.model.params.data));
    r.model.free();
    const label = wd === 0 ? 'off' : `λ = ${wd}`;
    series.push({ label, points: r.metrics.map((m) => [m.epoch, 100 * ((m.train_acc ?? 0) - (m.test_acc ?? 0))] as [number, number]) });
    const last = r.metrics[r.metrics.length - 1];
    rows.push([label, f4(last.train_acc), f4(last.test_acc), f4((last.train_acc ?? 0) - (last.test_acc ?? 0)), f4(last.train_loss), norm.toFixed(2)]);
    c.log(`decay: ${label}: train ${f4(last.train_acc)} test ${f4(last.test_acc)} ‖w‖ ${norm.toFixed(2)}`);
  }
  await chart(c, 'decay', series, { title: 'MLP: train − test accuracy gap per epoch, by L2 weight decay', xLabel: 'epoch', yLabel: 'train acc − test acc (points)' });
  return `## L2 weight decay\n\nThe shipped MLP, momentum SGD (lr 0.01), minimising E(w) + λ/2·‖w‖² (the note's range λ = 0.01 … 0.00001), ${c.epochs} epochs over ${c.train.n} images. Training accuracy is the running mean over the last epoch; ‖w‖ is the norm of all trainable parameters at the end.\n\n` +
    table(['weight decay', 'train acc', 'test acc', 'gap', 'train loss', '‖w‖'], rows) + '\n\n![decay](decay.png)\n';
}

const RUNNERS: Record<Name, (c: Ctx) => Promise<string>> = { optimizers, batch, decay, gradients, init, whitening };

export async function run(argv: string[], log: (l: string) => void = (l) => process.stdout.write(l + '\n')): Promise<string[]> {
  const f = parseFlags(argv, FLAGS);
  const only = (f.only ?? EXPERIMENTS.join(',')).split(',').map((s) => s.trim());
  for (const o of only) if (!(EXPERIMENTS as readonly string[]).includes(o)) throw new (await import('./common.js')).UsageError(`--only: unknown experiment '${o}'; known: ${EXPERIMENTS.join(', ')}`);
  const limitTrain = num('limit-train', f['limit-train'], { int: true, min: 64 });
  const limitTest = num('limit-test', f['limit-test'], { int: true, min: 10 });
  const { train, test } = loadDataset('mnist', { limitTrain, limitTest });
  const out = resolve(f.out ?? 'runs/experiments');
  mkdirSync(out, { recursive: true });
  const c: Ctx = {
    train: subset(train, train.n), test: subset(test, test.n),
    epochs: num('epochs', f.epochs, { int: true, min: 1, max: 1000 }),
    seed: num('seed', f.seed, OPTION_BOUNDS.seed),
    out, core: loadCoreSync(), log,
  };
  for (const name of only as Name[]) {
    const t0 = Date.now();
    const md = await RUNNERS[name](c);
    writeFileSync(join(out, `${name}.md`), md);
    log(`${name}: ${join(out, `${name}.md`)}, ${join(out, `${name}.png`)} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  }
  // the folder's index: every experiment's table there, this run's and earlier ones'
  const all = EXPERIMENTS.filter((n) => existsSync(join(out, `${n}.md`))).map((n) => readFileSync(join(out, `${n}.md`), 'utf8'));
  writeFileSync(join(out, 'README.md'), `# Experiments\n\nMade by \`npm run experiments\` (seeded; MNIST subsets; one thread).\n\n${all.join('\n')}`);
  return only;
}

if (isMain(import.meta.url)) {
  await runCli('experiments', HELP, process.argv.slice(2), async (argv) => {
    await run(argv);
  });
}
