// The embedding examples (examples/): the Node program runs and prints what it promises; the
// browser page's module graph needs no Node built-ins, its wasm URL resolves, its preprocessing
// and weight loading agree with the library; and, where Chromium is installed, the page's own
// self-test runs headless and matches a Node run of the same weights. Needs `npm run build`
// (dist/ and build/), as `npm test` does first.
import { describe, it, expect, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import { existsSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadCore, loadCoreSync, type Core } from '../src/core/load.js';
import { BoundModel } from '../src/train/model.js';
import { lenet, MNIST_SHAPE } from '../src/nn/lenet.js';
import { loadWeights } from '../src/io/checkpoint.js';
import { loadMnist, normalizeImages } from '../src/data/mnist.js';
import { toMnist, normalize, correlation } from '../examples/browser/preprocess.js';
import { loadWeightsFromBytes } from '../examples/browser/weights.js';
import { samplePixels, SAMPLE_LABELS, SAMPLE_INDICES } from '../examples/browser/samples.js';
import { startServer } from '../examples/browser/serve.mjs';
import { findChromium, runSelftest } from '../examples/browser/selftest.mjs';
import { specifiers, moduleGraph } from './helpers/module_graph.js';

const ROOT = resolve(__dirname, '..');
const NODE_EXAMPLE = join(ROOT, 'examples', 'node-embed', 'main.mjs');
const PAGE_MODULE = join(ROOT, 'examples', 'browser', 'main.js');
const FIXTURE = join(ROOT, 'test', 'fixtures', 'torch', 'lenet_state.safetensors');
const BUILT = existsSync(join(ROOT, 'dist', 'src', 'index.js')) && existsSync(join(ROOT, 'build', 'iruka.wasm'));

function runNode(args: string[]) {
  const r = spawnSync(process.execPath, [NODE_EXAMPLE, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function softmax(z: ArrayLike<number>): number[] {
  const m = Math.max(...Array.from(z));
  const e = Array.from(z, (v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

const argmax = (p: number[]) => p.reduce((best, v, i) => (v > p[best] ? i : best), 0);

/** Logits of `n` images (u8, 784 each) under the fixture's weights, computed with the library directly. */
function referenceLogits(core: Core, pixels: Uint8Array, n: number): Float32Array {
  const model = new BoundModel(core, lenet(), MNIST_SHAPE);
  try {
    loadWeights(FIXTURE, model.params);
    return model.predict(normalizeImages(pixels.subarray(0, n * 784)), n);
  } finally {
    model.free();
  }
}

it('dist/ and build/ exist (the examples run the built package: npm run build)', () => {
  expect(BUILT).toBe(true);
});

describe.runIf(BUILT)('examples/node-embed', () => {
  let run: ReturnType<typeof runNode>;
  beforeAll(() => {
    run = runNode([]);
  });

  it('runs with the default checkpoint and names the flavour it loaded', () => {
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/^core: flavor (simd|relaxed) /m);
    expect(run.out).toMatch(/^weights: .*lenet_state\.safetensors \(656,080 parameters/m);
  });

  it('prints a prediction per MNIST test digit, the same ones the library computes', () => {
    const lines = [...run.out.matchAll(/^digit (\d+): label (\d) predicted (\d) p=([0-9.]+)/gm)];
    expect(lines.length).toBe(8);
    const { test } = loadMnist({ limitTrain: 0, limitTest: 8 });
    const core = loadCoreSync({ flavor: 'simd' });
    const logits = referenceLogits(core, test.images, 8);
    for (const [i, m] of lines.entries()) {
      expect(Number(m[1])).toBe(i);
      expect(Number(m[2])).toBe(test.labels[i]);
      const p = softmax(logits.subarray(i * 10, i * 10 + 10));
      expect(Number(m[3])).toBe(argmax(p));
      expect(Number(m[4])).toBeCloseTo(p[argmax(p)], 3);
    }
    expect(run.out).toMatch(/^classified \d\/8 correctly/m);
  });

  it('trains its small MLP: the printed loss goes down at every report and ends below a third', () => {
    const losses = [...run.out.matchAll(/^step +(\d+) +loss ([0-9.]+)$/gm)].map((m) => Number(m[2]));
    expect(losses.length).toBeGreaterThanOrEqual(5);
    for (let i = 1; i < losses.length; i++) expect(losses[i]).toBeLessThan(losses[i - 1]);
    expect(losses.at(-1)!).toBeLessThan(losses[0] / 3);
    expect(run.out).toMatch(/^loss [0-9.]+ -> [0-9.]+$/m);
  });

  it('frees everything it allocated', () => {
    expect(run.out).toMatch(/^heap: 0 bytes still allocated/m);
  });

  it('takes a checkpoint path and --digits; a missing or wrong checkpoint is one clear line and exit 1', () => {
    const r = runNode([FIXTURE, '--digits', '3']);
    expect(r.code).toBe(0);
    expect([...r.out.matchAll(/^digit \d+: /gm)].length).toBe(3);
    const missing = runNode([join(ROOT, 'no-such.safetensors')]);
    expect(missing.code).toBe(1);
    expect(missing.err.trim()).toMatch(/no-such\.safetensors: cannot read checkpoint: no such file$/);
    const wrong = runNode([join(ROOT, 'test', 'fixtures', 'torch', 'conv2d.safetensors')]);
    expect(wrong.code).toBe(1);
    expect(wrong.err).toMatch(/has no tensor conv1\.weight/);
  });
});

describe.runIf(BUILT)('examples/train-custom', () => {
  it('trains its own BatchNorm + residual spec on 2 workers through the public API, to the bits of 1 worker', () => {
    const dir = mkdtempSync(join(tmpdir(), 'iruka-custom-'));
    try {
      const script = join(ROOT, 'examples', 'train-custom', 'main.mjs');
      const go = (workers: string, out: string) => spawnSync(process.execPath, [script, '--workers', workers, '--epochs', '2', '--out', join(dir, out)], { encoding: 'utf8', timeout: 240_000 });
      const two = go('2', 'w2');
      expect(two.stderr).toBe('');
      expect(two.status).toBe(0);
      expect([...two.stdout.matchAll(/^epoch \d: train loss [\d.]+, test accuracy ([\d.]+)$/gm)]).toHaveLength(2);
      expect(Number(/^test accuracy ([\d.]+) after 2 epochs on 2 workers$/m.exec(two.stdout)![1])).toBeGreaterThan(0.8);
      expect(two.stdout).toMatch(/reloaded from .*checkpoint\.safetensors: same logits$/m);
      const one = go('1', 'w1');
      expect(one.status, one.stderr).toBe(0);
      expect(readFileSync(join(dir, 'w1', 'checkpoint.safetensors')).equals(readFileSync(join(dir, 'w2', 'checkpoint.safetensors')))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.runIf(BUILT)('examples/browser, checked in Node', () => {
  it('the specifier scanner sees what it must', () => {
    expect(specifiers(`import { a,\n  b } from './x.js';\nexport * as k from "../y.js";\nimport './z.js';\nconst m = await import('node:fs');\nexport { c } from 'node:path';`)).toEqual(
      ['./x.js', '../y.js', './z.js', 'node:path', 'node:fs'],
    );
    // and it does flag the Node-only modules the page must avoid
    const all = [...moduleGraph(join(ROOT, 'dist', 'src', 'index.js')).values()].flat();
    expect(all).toContain('node:fs');
  });

  it("the page's module graph imports only relative files: no Node built-ins, no bare packages", () => {
    const graph = moduleGraph(PAGE_MODULE);
    const rel = (f: string) => f.slice(ROOT.length + 1);
    const files = [...graph.keys()].map(rel);
    expect(files).toContain('dist/src/core/load.js');
    expect(files).toContain('dist/src/train/model.js');
    expect(files).toContain('dist/src/nn/lenet.js');
    const offenders = [...graph].flatMap(([f, specs]) => specs.filter((s) => !s.startsWith('./') && !s.startsWith('../')).map((s) => `${rel(f)} imports ${s}`));
    expect(offenders).toEqual([]);
  });

  it('the wasm URL the page builds finds the file over HTTP, and loading from a URL never touches node:fs', async () => {
    const { server, url } = await startServer({ port: 0 });
    const proc = process as unknown as { getBuiltinModule?: unknown };
    const saved = proc.getBuiltinModule;
    try {
      // main.js: root = new URL('../../', import.meta.url); loadCore({ url: new URL('build/', root) })
      const pageUrl = new URL('/examples/browser/main.js', url);
      const wasmDir = new URL('build/', new URL('../../', pageUrl));
      const res = await fetch(new URL('iruka.wasm', wasmDir));
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/wasm');
      await res.arrayBuffer();
      // the browser path must not reach the Node file reader: make it fail if it does
      proc.getBuiltinModule = () => {
        throw new Error('loadCore({ url }) reached for a Node built-in');
      };
      for (const flavor of ['simd', 'auto'] as const) {
        const core = await loadCore({ url: wasmDir, flavor });
        expect(['simd', 'relaxed']).toContain(core.flavor);
        expect(core.memory.buffer.byteLength).toBeGreaterThan(0);
      }
      // a wrong folder is an HTTP error naming the URL
      await expect(loadCore({ url: new URL('/nowhere/', url), flavor: 'simd' })).rejects.toThrow(/nowhere\/iruka\.wasm failed: HTTP 404/);
    } finally {
      proc.getBuiltinModule = saved;
      server.close();
    }
  });

  it('the static server: MIME types, read-only, no way out of the root', async () => {
    const { server, url } = await startServer({ port: 0 });
    try {
      const head = async (path: string, method = 'GET') => {
        const r = await fetch(url + path, { method, redirect: 'manual' });
        await r.arrayBuffer();
        return { status: r.status, type: r.headers.get('content-type') };
      };
      expect(await head('/examples/browser/index.html')).toEqual({ status: 200, type: 'text/html; charset=utf-8' });
      expect(await head('/examples/browser/main.js')).toEqual({ status: 200, type: 'text/javascript; charset=utf-8' });
      expect(await head('/test/fixtures/torch/lenet_state.safetensors')).toEqual({ status: 200, type: 'application/octet-stream' });
      expect((await head('/')).status).toBe(302);
      expect((await head('/package.json', 'POST')).status).toBe(405);
      expect((await head('/.git/config')).status).toBe(403);
      // raw paths (fetch would normalise the dots away before sending)
      const raw = (path: string) =>
        new Promise<number>((ok, fail) => {
          const u = new URL(url);
          http.get({ host: u.hostname, port: u.port, path }, (res) => ok(res.resume().statusCode!)).on('error', fail);
        });
      expect(await raw('/..%2f..%2fetc%2fpasswd')).toBe(403);
      expect(await raw('/examples/..%2f..%2f..%2fetc/passwd')).toBe(403);
      expect(await raw('/../../etc/passwd')).toBe(404); // resolved as a URL: /etc/passwd under the root
      expect((await head('/no/such/file.js')).status).toBe(404);
    } finally {
      server.close();
    }
  });

  it('loadWeightsFromBytes (the page) sets the same parameters as loadWeights (Node), and rejects a mismatch', () => {
    const core = loadCoreSync({ flavor: 'simd' });
    const a = new BoundModel(core, lenet(), MNIST_SHAPE);
    const b = new BoundModel(core, lenet(), MNIST_SHAPE);
    try {
      loadWeights(FIXTURE, a.params);
      const meta = loadWeightsFromBytes(new Uint8Array(readFileSync(FIXTURE)), b.params, 'fixture');
      expect(meta.format).toBe('pt');
      const same = (x: Float32Array, y: Float32Array) => Buffer.from(x.buffer).equals(Buffer.from(y.buffer));
      expect(same(b.params.data.toArray(), a.params.data.toArray())).toBe(true);
      const before = b.params.data.toArray();
      const other = new Uint8Array(readFileSync(join(ROOT, 'test', 'fixtures', 'torch', 'conv2d.safetensors')));
      expect(() => loadWeightsFromBytes(other, b.params, 'conv2d.safetensors')).toThrow(/conv2d\.safetensors has no tensor conv1\.weight/);
      expect(() => loadWeightsFromBytes(new Uint8Array(4), b.params, 'tiny')).toThrow(/tiny: file is 4 bytes, too short/);
      expect(same(b.params.data.toArray(), before)).toBe(true); // a bad file changes nothing
    } finally {
      a.free();
      b.free();
    }
  });

  it('the bundled samples are the MNIST test digits they claim to be', () => {
    const { test } = loadMnist({ limitTrain: 0, limitTest: 100 });
    const px = samplePixels();
    expect(px.length).toBe(10 * 784);
    SAMPLE_INDICES.forEach((idx: number, d: number) => {
      expect(test.labels[idx]).toBe(SAMPLE_LABELS[d]);
      expect(px.subarray(d * 784, (d + 1) * 784)).toEqual(test.images.subarray(idx * 784, (idx + 1) * 784));
    });
  });

  it("the drawing path (enlarge to 280x280, toMnist back to 28x28) keeps each digit (correlation > 0.88), and normalize() matches normalizeImages()", () => {
    const px = samplePixels();
    for (let d = 0; d < 10; d++) {
      const s = px.subarray(d * 784, (d + 1) * 784);
      const W = 280;
      const big = new Uint8Array(W * W);
      for (let y = 0; y < W; y++) for (let x = 0; x < W; x++) big[y * W + x] = s[Math.floor(y / 10) * 28 + Math.floor(x / 10)];
      const back = toMnist(big, W, W)!;
      expect(correlation(s, back), `digit ${d}`).toBeGreaterThan(0.88);
    }
    expect(toMnist(new Uint8Array(100), 10, 10)).toBeNull();
    const ours = normalize(px);
    const lib = normalizeImages(px);
    for (let i = 0; i < ours.length; i++) expect(Math.abs(ours[i] - lib[i])).toBeLessThan(1e-6);
  });
});

const CHROMIUM = BUILT ? findChromium() : null;

// Chromium is optional for developers: a machine without it skips only this block. CI installs
// it and sets IRUKA_REQUIRE_CHROMIUM=1, so there a missing browser fails instead of skipping.
it('Chromium is present where the environment requires it', () => {
  if (process.env.IRUKA_REQUIRE_CHROMIUM === '1') expect(CHROMIUM, 'IRUKA_REQUIRE_CHROMIUM=1 but no Chromium found').not.toBeNull();
});

describe.runIf(BUILT && CHROMIUM)('examples/browser in headless Chromium', () => {
  it("the page's self-test passes and matches the library's numbers for the same weights", async () => {
    const run = await runSelftest({ query: 'selftest&weights=/test/fixtures/torch/lenet_state.safetensors', timeoutMs: 30_000 });
    expect(run.status, run.text).toBe('pass');
    const r = run.result;
    expect(['simd', 'relaxed']).toContain(r.flavor);
    expect(r.randomWeights).toBe(true);
    expect(r.problems).toEqual([]);
    const core = loadCoreSync();
    const logits = referenceLogits(core, samplePixels(), 10);
    for (let d = 0; d < 10; d++) {
      const p = softmax(logits.subarray(d * 10, d * 10 + 10));
      for (let c = 0; c < 10; c++) expect(Math.abs(r.direct.probs[d][c] - p[c]), `digit ${d} class ${c}`).toBeLessThan(1e-4);
      const sorted = [...p].sort((x, y) => y - x);
      if (sorted[0] - sorted[1] > 1e-4) expect(r.direct.preds[d], `digit ${d}`).toBe(argmax(p)); // no near-tie
    }
    expect(Math.min(...r.drawn.correlations)).toBeGreaterThan(0.85);
    expect(r.stroke.guess).toMatch(/^[0-9]$/);
    expect(r.heap.after).toBe(r.heap.before);
  });

  it('opens with the shipped LeNet, which reads the sample digits (directly and drawn) and the opening one right', async () => {
    const run = await runSelftest({ query: 'selftest&weights=/examples/browser/lenet.safetensors', timeoutMs: 30_000 });
    expect(run.status, run.text).toBe('pass');
    const r = run.result;
    expect(r.randomWeights).toBe(false);
    expect(r.direct.correct).toBeGreaterThanOrEqual(9);
    expect(r.drawn.correct).toBeGreaterThanOrEqual(9);
    expect(r.opening).toBe(String(SAMPLE_LABELS[7])); // the page opens with sample 7 on the pad
  });

  it('a bad weights URL is reported in the page, not swallowed', async () => {
    const bad = await runSelftest({ query: 'selftest&weights=/no-such.safetensors', timeoutMs: 30_000 });
    expect(bad.status).toBe('error');
    expect(bad.text).toMatch(/no-such\.safetensors failed: HTTP 404/);
  });
});
