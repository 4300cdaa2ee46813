// npm run bench:compare — our LeNet training and inference against peers on the same network,
// measured in alternating short windows so that a busy neighbour slows both sides alike: each
// round runs, for every row and peer, one window of ours and one of the peer side by side (the
// order flips every round), and a row reports the median of those pairwise ratios.
//   peers: PyTorch 1.13 (bench/torch_peer.py through /usr/bin/python3, OpenBLAS pthread when
//   installed; kept alive for the run), onnxruntime-web (the LeNet from our ONNX exporter; 1 and
//   2 threads, one process each) and TensorFlow.js's wasm backend (inference, 1 thread).
// A peer that cannot start is reported as skipped with the reason, never as a zero.
import '../src/cli/relaxed_simd.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCoreSync, type Core } from '../src/core/load.js';
import { fromArrays, type Dataset } from '../src/data/dataset.js';
import { lenet, LENET_SPEC, MNIST_SHAPE } from '../src/nn/lenet.js';
import { gaussian } from '../src/nn/params.js';
import { BoundModel } from '../src/train/model.js';
import { defaultChunkSize } from '../src/train/engine.js';
import { PredictPool } from '../src/train/predict_pool.js';
import { lenetSteps, imagesPerSecond } from './lenet_steps.js';
import { writeSafetensors } from '../src/io/safetensors.js';
import { stateTensors } from '../src/io/weights.js';
import { exportOnnx } from '../src/io/onnx.js';
import { helpText, parseFlags, num, runCli, UsageError } from '../src/cli/common.js';

const PEERS = ['pytorch', 'onnxruntime', 'tfjs'] as const;
type PeerName = (typeof PEERS)[number];

const FLAGS = {
  seconds: { type: 'string', arg: 'S', default: '1', help: 'length of each timed window' },
  rounds: { type: 'string', arg: 'N', default: '12', help: 'rounds; each runs every (row, peer) pair of windows once' },
  gap: { type: 'string', arg: 'S', default: '0.2', help: "idle seconds before each window, so that the other side's threads have gone to sleep (OpenBLAS spins about 0.1 s after a call)" },
  peers: { type: 'string', arg: 'LIST', default: PEERS.join(','), help: 'peers to run, comma separated' },
  python: { type: 'string', arg: 'PATH', default: '/usr/bin/python3', help: "the Python with Debian's python3-torch" },
  json: { type: 'string', arg: 'FILE', default: 'bench/results/compare.json', help: 'where to write the results' },
} as const;

const HELP = helpText(
  'npm run bench:compare -- [options]',
  'LeNet training (batch 64 and 256, 2 workers) and inference (batch 256, 1 and 2 threads) against\n' +
    'PyTorch, onnxruntime-web and TensorFlow.js wasm, in alternating windows; reports the median of\n' +
    'the pairwise ratios (ours / peer) per row and writes them as JSON.',
  FLAGS,
);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// ---- peers: child processes that answer one command a line -----------------------------------

/** A peer process: "ready ..." once, then one line per command. */
class Peer {
  private readonly lines: string[] = [];
  private waiting: ((line: string | null) => void) | null = null;
  private closed = false;
  private stderr = '';

  private constructor(private readonly proc: ChildProcess) {
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = null;
        w(line);
      } else this.lines.push(line);
    });
    proc.stderr!.on('data', (d) => (this.stderr = (this.stderr + String(d)).slice(-2000)));
    proc.on('exit', () => {
      this.closed = true;
      this.waiting?.(null);
      this.waiting = null;
    });
    proc.on('error', (e) => {
      this.stderr += e.message;
      this.closed = true;
      this.waiting?.(null);
    });
  }

  private next(timeoutMs: number): Promise<string | null> {
    if (this.lines.length) return Promise.resolve(this.lines.shift()!);
    if (this.closed) return Promise.resolve(null);
    return new Promise((res) => {
      const timer = setTimeout(() => {
        this.waiting = null;
        res(null);
      }, timeoutMs);
      this.waiting = (line) => {
        clearTimeout(timer);
        res(line);
      };
    });
  }

  /** The running peer and what its ready line says, or why it did not start. */
  static async start(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ peer: Peer; ready: string } | { skipped: string }> {
    const peer = new Peer(spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'pipe'] }));
    const line = await peer.next(120_000);
    if (line?.startsWith('ready ')) return { peer, ready: line.slice(6) };
    peer.close();
    const why = line ?? peer.stderr.trim().split('\n').filter(Boolean).pop() ?? 'no answer';
    return { skipped: why.replace(/^error /, '') };
  }

  /** images/s for one command, or an Error with the peer's message. */
  async ask(command: string, seconds: number): Promise<number> {
    this.proc.stdin!.write(command + '\n');
    const line = await this.next(seconds * 1000 + 120_000);
    const v = Number(line);
    if (line === null || !Number.isFinite(v) || v <= 0) throw new Error(line?.replace(/^error /, '') ?? `the peer stopped (${this.stderr.trim().split('\n').pop() ?? ''})`);
    return v;
  }

  close(): void {
    if (!this.closed) this.proc.stdin!.end('quit\n');
    setTimeout(() => this.closed || this.proc.kill(), 2000).unref();
  }
}

interface Started {
  peer?: Peer;
  what?: string;
  skipped?: string;
  /** the peer's logits on the reference batch against ours (largest difference / largest logit) */
  maxdiff?: number;
}

async function startPeer(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<Started> {
  const r = await Peer.start(cmd, args, env);
  if ('skipped' in r) return { skipped: r.skipped };
  const m = / maxdiff=(\S+)$/.exec(r.ready);
  return { peer: r.peer, what: m ? r.ready.slice(0, m.index) : r.ready, ...(m ? { maxdiff: Number(m[1]) } : {}) };
}

function startTorch(python: string): Promise<Started> {
  if (!existsSync(python)) return Promise.resolve({ skipped: `PyTorch not run: ${python} does not exist` });
  const blas = '/usr/lib/x86_64-linux-gnu/openblas-pthread';
  const env = existsSync(blas) ? { ...process.env, LD_LIBRARY_PATH: [blas, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') } : process.env;
  const script = fileURLToPath(new URL('../../bench/torch_peer.py', import.meta.url));
  return startPeer(python, [script], env).then((s) => (s.skipped ? { skipped: `PyTorch not available: ${s.skipped}` } : { ...s, what: `PyTorch ${s.what!.replace(/^torch /, '')}` }));
}

// ---- ours ---------------------------------------------------------------------------------------

async function trainer(core: Core, batch: number, data: Dataset) {
  const { next, close } = lenetSteps(core, data, { batch, workers: 2, chunk: defaultChunkSize(batch) });
  return {
    what: `iruka PoolEngine, 2 workers, chunk ${defaultChunkSize(batch)}, ${core.flavor} build`,
    time: (ms: number) => imagesPerSecond(next, batch, ms),
    close,
  };
}

/** predict through a PredictPool of 2 workers (the batch split in two, one part per worker thread). */
async function poolPredictor(model: BoundModel, x: Float32Array, batch: number) {
  const pool = await PredictPool.create(LENET_SPEC, model, { workers: 2 });
  return { time: (ms: number) => imagesPerSecond(async () => void (await pool.predict(x, batch)), batch, ms), close: () => pool.close() };
}

// ---- the run ------------------------------------------------------------------------------------

interface Pairing {
  peer: string;
  started: Started;
  command: string;
}

interface Row {
  name: string;
  what: string;
  batch: number;
  ours: (ms: number) => Promise<number>;
  pairings: Pairing[];
}

async function main(argv: string[]) {
  const f = parseFlags(argv, FLAGS);
  const seconds = num('seconds', f.seconds, { gt: 0 });
  const rounds = num('rounds', f.rounds, { int: true, min: 1 });
  const gapMs = num('gap', f.gap, { min: 0 }) * 1000;
  const wanted = (f.peers ?? '').split(',').filter(Boolean);
  for (const p of wanted) if (!(PEERS as readonly string[]).includes(p)) throw new UsageError(`--peers: unknown peer '${p}'; peers: ${PEERS.join(', ')}`);
  const want = (p: PeerName) => wanted.includes(p);
  const load0 = loadavg();

  const core = loadCoreSync();
  const model = new BoundModel(core, lenet(), MNIST_SHAPE);
  model.params.init(1);
  const rnd = gaussian(7);
  const refX = Float32Array.from({ length: 8 * 784 }, () => rnd.normal());
  const tmp = mkdtempSync(join(tmpdir(), 'iruka-compare-'));
  const ref = join(tmp, 'ref.safetensors');
  writeSafetensors(ref, { ...stateTensors(model.params), ref_x: { shape: [8, 1, 28, 28], data: refX }, ref_logits: { shape: [8, 10], data: model.predict(refX, 8) } }, {});
  const onnx = join(tmp, 'lenet.onnx');
  writeFileSync(onnx, exportOnnx(model, LENET_SPEC));

  const jsPeer = fileURLToPath(new URL('./js_peer.js', import.meta.url));
  const off = (): Started => ({ skipped: `not asked for (--peers ${f.peers})` });
  const [torch, ort1, ort2, tfjs] = await Promise.all([
    want('pytorch') ? startTorch(f.python!) : off(),
    want('onnxruntime') ? startPeer(process.execPath, [jsPeer, 'ort', '1', onnx, ref]) : off(),
    want('onnxruntime') ? startPeer(process.execPath, [jsPeer, 'ort', '2', onnx, ref]) : off(),
    want('tfjs') ? startPeer(process.execPath, [jsPeer, 'tfjs', '1', '-', ref]) : off(),
  ]);
  if (tfjs.skipped && want('tfjs')) tfjs.skipped = `TensorFlow.js wasm did not start in Node: ${tfjs.skipped}`;

  // synthetic images and labels: these kernels' speed does not depend on the values
  const n = 4096;
  const data = fromArrays({ x: Float32Array.from({ length: n * 784 }, () => rnd.normal()), sampleShape: [...MNIST_SHAPE], labels: Uint8Array.from({ length: n }, () => Math.floor(rnd.uniform() * 10)), classes: 10 });
  const x256 = Float32Array.from({ length: 256 * 784 }, (_, i) => refX[i % refX.length]);
  const t64 = await trainer(core, 64, data);
  const t256 = await trainer(core, 256, data);
  const split = await poolPredictor(model, x256, 256);
  const rows: Row[] = [
    { name: 'train_b64_2w', what: t64.what, batch: 64, ours: t64.time, pairings: [{ peer: 'pytorch', started: torch, command: 'train 64 2' }] },
    { name: 'train_b256_2w', what: t256.what, batch: 256, ours: t256.time, pairings: [{ peer: 'pytorch', started: torch, command: 'train 256 2' }] },
    {
      name: 'infer_b256_1t',
      what: `iruka BoundModel.predict, 1 thread, ${core.flavor} build`,
      batch: 256,
      ours: (ms) => imagesPerSecond(() => void model.predict(x256, 256), 256, ms),
      pairings: [
        { peer: 'pytorch', started: torch, command: 'infer 256 1' },
        { peer: 'onnxruntime-web', started: ort1, command: 'infer 256 1' },
        { peer: 'tfjs-wasm', started: tfjs, command: 'infer 256 1' },
      ],
    },
    {
      name: 'infer_b256_2t',
      what: `iruka PredictPool.predict, 2 workers (128 images each), ${core.flavor} build`,
      batch: 256,
      ours: split.time,
      pairings: [
        { peer: 'pytorch', started: torch, command: 'infer 256 2' },
        { peer: 'onnxruntime-web', started: ort2, command: 'infer 256 2' },
      ],
    },
  ];
  // TensorFlow.js's wasm backend runs one thread in Node: no 2-thread row for it
  if (want('tfjs')) rows[3].pairings.push({ peer: 'tfjs-wasm', started: { skipped: 'not measured with 2 threads: tfjs-backend-wasm runs its single-threaded build in Node' }, command: '' });

  const ms = seconds * 1000;
  const ours = new Map<string, number[]>(rows.map((r) => [r.name, []]));
  const pairs = new Map<string, { peer: number[]; ratio: number[]; error?: string }>();
  const key = (r: Row, p: Pairing) => `${r.name}/${p.peer}`;
  const live = (r: Row, p: Pairing) => p.started.peer && !pairs.get(key(r, p))!.error;
  for (const r of rows) for (const p of r.pairings) pairs.set(key(r, p), { peer: [], ratio: [] });

  console.log(`bench:compare: ${rounds} rounds of ${seconds}s windows on ${availableParallelism()} cores, load average ${load0.map((l) => l.toFixed(2)).join(' ')}`);
  for (const [name, s] of [['pytorch', torch], ['onnxruntime-web 1t', ort1], ['onnxruntime-web 2t', ort2], ['tfjs-wasm', tfjs]] as const) {
    console.log(`  ${name}: ${s.skipped ? `skipped: ${s.skipped}` : `${s.what}${s.maxdiff !== undefined ? `, logits within ${s.maxdiff.toExponential(1)} of ours` : ''}`}`);
  }
  // warm-up: V8 tiers wasm up between calls, the peers fill their caches and thread pools
  const warm = Math.max(ms, 500);
  for (const r of rows) {
    await r.ours(warm);
    for (const p of r.pairings) if (live(r, p)) await p.started.peer!.ask(`${p.command} ${warm / 1000}`, warm / 1000).catch((e) => (pairs.get(key(r, p))!.error = (e as Error).message));
  }
  for (let round = 0; round < rounds; round++) {
    for (const r of rows) {
      for (const p of r.pairings) {
        if (!live(r, p)) continue;
        const entry = pairs.get(key(r, p))!;
        const idle = () => new Promise((res) => setTimeout(res, gapMs));
        const peerWindow = async () => (await idle(), p.started.peer!.ask(`${p.command} ${seconds}`, seconds));
        const ourWindow = async () => (await idle(), r.ours(ms));
        try {
          let o: number;
          let q: number;
          if (round % 2 === 0) {
            o = await ourWindow();
            q = await peerWindow();
          } else {
            q = await peerWindow();
            o = await ourWindow();
          }
          ours.get(r.name)!.push(o);
          entry.peer.push(q);
          entry.ratio.push(o / q);
        } catch (e) {
          entry.error = (e as Error).message;
        }
      }
      // a row without a live peer still measures ours once a round
      if (!r.pairings.some((p) => live(r, p))) ours.get(r.name)!.push(await r.ours(ms));
    }
    process.stdout.write(`  round ${round + 1}/${rounds} done\n`);
  }
  await t64.close();
  await t256.close();
  await split.close();
  for (const s of [torch, ort1, ort2, tfjs]) s.peer?.close();
  model.free();
  rmSync(tmp, { recursive: true, force: true });

  const out: Record<string, unknown> = {};
  console.log('\nrow             ours img/s  peer               peer img/s  median ratio (ours/peer)');
  for (const r of rows) {
    const oursRate = median(ours.get(r.name)!);
    const peers: Record<string, unknown> = {};
    for (const p of r.pairings) {
      const e = pairs.get(key(r, p))!;
      const skipped = p.started.skipped ?? e.error;
      if (skipped || !e.ratio.length) {
        peers[p.peer] = { skipped: skipped ?? 'no window completed' };
        console.log(`${r.name.padEnd(15)} ${oursRate.toFixed(0).padStart(10)}  ${p.peer.padEnd(17)}  skipped: ${skipped}`);
        continue;
      }
      const ratio = median(e.ratio);
      peers[p.peer] = {
        what: p.started.what,
        images_per_sec: median(e.peer),
        ratio_median: ratio,
        ratio_min: Math.min(...e.ratio),
        ratio_max: Math.max(...e.ratio),
        windows: e.ratio.length,
        ...(p.started.maxdiff !== undefined ? { logits_max_rel_diff: p.started.maxdiff } : {}),
      };
      console.log(`${r.name.padEnd(15)} ${oursRate.toFixed(0).padStart(10)}  ${p.peer.padEnd(17)}  ${median(e.peer).toFixed(0).padStart(10)}  ${ratio.toFixed(2)}x  (${Math.min(...e.ratio).toFixed(2)}-${Math.max(...e.ratio).toFixed(2)})`);
    }
    out[r.name] = { batch: r.batch, ours: { what: r.what, images_per_sec: oursRate, windows: ours.get(r.name)!.length }, peers };
  }
  const file = resolve(f.json ?? 'bench/results/compare.json');
  mkdirSync(dirname(file), { recursive: true });
  const result = {
    date: new Date().toISOString(),
    node: process.version,
    cores: availableParallelism(),
    load_average_before: load0,
    load_average_after: loadavg(),
    seconds,
    rounds,
    gap_seconds: gapMs / 1000,
    flavor: core.flavor,
    note: 'ratio = ours / peer, each from two windows side by side (order alternating per round); images/s are medians over the windows. Training uses synthetic MNIST-shaped data.',
    rows: out,
  };
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  console.log(`\nwrote ${file}`);
}

await runCli('bench:compare', HELP, process.argv.slice(2), main);
