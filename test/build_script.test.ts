// scripts/build.mjs on a small fake project in a temp dir (its own node_modules holds stand-ins
// for asc and tsc that log each run and write their output slowly, file by file), so the
// real 15-second build never runs here: up to date does nothing, a changed source rebuilds only
// its tree, concurrent builds both succeed and build once, a reader never sees a half-written
// tree, a failed build keeps the old one, and a dead builder's lock is taken over.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '..', 'scripts', 'build.mjs');
const base = mkdtempSync(join(tmpdir(), 'iruka-build-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

// asc stand-in: `asc.js <entry> --config asconfig.json --target T --outFile F [--textFile W]`
const FAKE_ASC = `
const fs = require('node:fs');
const path = require('node:path');
const a = process.argv.slice(2);
const opt = (k) => { const i = a.indexOf(k); return i < 0 ? undefined : a[i + 1]; };
fs.appendFileSync('tools.log', 'asc ' + opt('--target') + '\\n');
const src = fs.readFileSync(a[0], 'utf8');
for (const k of ['--outFile', '--textFile']) {
  const f = opt(k);
  if (!f) continue;
  fs.mkdirSync(path.dirname(f), { recursive: true });
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(process.env.FAKE_DELAY_MS || 0));
  fs.writeFileSync(f, opt('--target') + ':' + src);
}
`;

// tsc stand-in: `tsc -p tsconfig.json --outDir D`; copies src/*.ts to D/src/*.js one file at a
// time with a pause between, and fails (exit 2, after writing) on a source that says TYPE ERROR
const FAKE_TSC = `
const fs = require('node:fs');
const path = require('node:path');
const a = process.argv.slice(2);
const out = a[a.indexOf('--outDir') + 1];
fs.appendFileSync('tools.log', 'tsc\\n');
let failed = false;
for (const f of fs.readdirSync('src').sort()) {
  const src = fs.readFileSync(path.join('src', f), 'utf8');
  failed ||= src.includes('TYPE ERROR');
  fs.mkdirSync(path.join(out, 'src'), { recursive: true });
  fs.writeFileSync(path.join(out, 'src', f.replace(/\\.ts$/, '.js')), src);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(process.env.FAKE_DELAY_MS || 0));
}
process.exit(failed ? 2 : 0);
`;

let root = '';
let n = 0;

function write(rel: string, text: string): void {
  mkdirSync(dirname(join(root, rel)), { recursive: true });
  writeFileSync(join(root, rel), text);
}

/** A fresh fake project: two wasm targets, three TypeScript files, all at version `v`. */
function makeProject(v = 'v1'): void {
  root = join(base, `p${n++}`);
  write('node_modules/assemblyscript/bin/asc.js', FAKE_ASC);
  write('node_modules/typescript/bin/tsc', FAKE_TSC);
  write('package.json', '{"name":"fake","type":"commonjs"}');
  write('asconfig.json', JSON.stringify({ entries: ['assembly/index.ts'], targets: { release: { outFile: 'build/k.wasm' }, debug: { outFile: 'build/k.debug.wasm', textFile: 'build/k.debug.wat' } } }));
  write('tsconfig.json', '{}');
  write('assembly/index.ts', `kernel ${v}`);
  setTs(v);
}

function setTs(v: string): void {
  for (const f of ['a', 'b', 'c']) write(`src/${f}.ts`, `${f} ${v}`);
}

function build(args: string[] = [], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [SCRIPT, `--root=${root}`, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: r.status, err: r.stderr };
}

function buildAsync(env: Record<string, string> = {}): Promise<{ code: number | null; err: string }> {
  return new Promise((done) => {
    const p = spawn(process.execPath, [SCRIPT, `--root=${root}`], { env: { ...process.env, ...env } });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => done({ code, err }));
  });
}

const toolRuns = () => (existsSync(join(root, 'tools.log')) ? readFileSync(join(root, 'tools.log'), 'utf8').trim().split('\n') : []);
const read = (rel: string) => readFileSync(join(root, rel), 'utf8');
const distVersions = () => ['a', 'b', 'c'].map((f) => read(`dist/src/${f}.js`));
const leftovers = () => readdirSync(root).filter((f) => /^(dist|build)\.|^\.build\.lock$/.test(f));

describe('scripts/build.mjs', () => {
  beforeEach(() => makeProject());

  it('builds both trees, each with a stamp, and leaves no temporaries or lock', () => {
    expect(build()).toMatchObject({ code: 0 });
    expect(toolRuns()).toEqual(['asc release', 'asc debug', 'tsc']);
    expect(read('build/k.wasm')).toBe('release:kernel v1');
    expect(read('build/k.debug.wat')).toBe('debug:kernel v1');
    expect(distVersions()).toEqual(['a v1', 'b v1', 'c v1']);
    expect(read('build/.build-stamp')).toMatch(/^[0-9a-f]{64}\n$/);
    expect(read('dist/.build-stamp')).toMatch(/^[0-9a-f]{64}\n$/);
    expect(leftovers()).toEqual([]);
  });

  it('up to date, it runs no tool and leaves both trees untouched', () => {
    build();
    const before = [statSync(join(root, 'build')).ino, statSync(join(root, 'dist')).ino, statSync(join(root, 'dist/src/a.js')).mtimeMs];
    for (let i = 0; i < 3; i++) expect(build()).toEqual({ code: 0, err: '' });
    expect(toolRuns()).toHaveLength(3);
    expect([statSync(join(root, 'build')).ino, statSync(join(root, 'dist')).ino, statSync(join(root, 'dist/src/a.js')).mtimeMs]).toEqual(before);
  });

  it('a changed source rebuilds only the tree built from it; config and new files count too', () => {
    build();
    setTs('v2');
    build();
    expect(toolRuns().slice(3)).toEqual(['tsc']);
    expect(distVersions()).toEqual(['a v2', 'b v2', 'c v2']);
    write('assembly/index.ts', 'kernel v2');
    build();
    expect(toolRuns().slice(4)).toEqual(['asc release', 'asc debug']);
    expect(read('build/k.wasm')).toBe('release:kernel v2');
    write('assembly/extra.ts', 'x');
    build();
    write('tsconfig.json', '{"compilerOptions":{}}');
    build();
    write('package.json', '{"name":"fake","version":"2"}');
    build();
    expect(toolRuns().slice(6)).toEqual(['asc release', 'asc debug', 'tsc', 'asc release', 'asc debug', 'tsc']);
    expect(build(['--force', '--only=ts'])).toMatchObject({ code: 0 });
    expect(toolRuns().slice(12)).toEqual(['tsc']);
  });

  it('two builds started together both succeed, build once, and a reader never sees a half-written tree', async () => {
    build();
    setTs('v2');
    const slow = { FAKE_DELAY_MS: '150' };
    const seen = new Set<string>();
    let running = true;
    const watch = (async () => {
      while (running) {
        // a read that straddles a swap (the folder renamed away or replaced meanwhile) says
        // nothing about either tree; any other read must find a whole tree
        const ino = () => (existsSync(join(root, 'dist')) ? statSync(join(root, 'dist')).ino : -1);
        const before = ino();
        let got: string;
        try {
          got = distVersions().join('|');
        } catch {
          got = 'incomplete';
        }
        if (before !== -1 && ino() === before) seen.add(got);
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    const results = await Promise.all([buildAsync(slow), buildAsync(slow)]);
    running = false;
    await watch;
    expect(results.map((r) => r.code)).toEqual([0, 0]);
    expect(toolRuns().filter((t) => t === 'tsc')).toHaveLength(2); // the first build and one rebuild
    expect(distVersions()).toEqual(['a v2', 'b v2', 'c v2']);
    // every observation is a whole tree: all old or all new, never a mix
    for (const s of seen) expect(['a v1|b v1|c v1', 'a v2|b v2|c v2']).toContain(s);
    expect(seen.has('a v1|b v1|c v1')).toBe(true); // the reader did run while the build wrote
    expect(leftovers()).toEqual([]);
  });

  it('a failed build fails the command and keeps the old tree as it was', () => {
    build();
    write('src/b.ts', 'b TYPE ERROR');
    const r = build();
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/build: .*tsc -p tsconfig\.json --outDir .*dist\.tmp-\d+ failed \(exit 2\)/);
    expect(distVersions()).toEqual(['a v1', 'b v1', 'c v1']);
    expect(leftovers()).toEqual([]);
    write('src/b.ts', 'b v1');
    expect(build()).toEqual({ code: 0, err: '' }); // back to the sources the tree was built from
  });

  it("takes over a lock left by a builder that died, and removes its temporaries", () => {
    build();
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    writeFileSync(join(root, '.build.lock'), dead);
    mkdirSync(join(root, `dist.tmp-${dead}`, 'src'), { recursive: true });
    setTs('v3');
    const r = build();
    expect(r.code).toBe(0);
    expect(r.err).toContain(`taking over the lock of process ${dead}, which has gone`);
    expect(distVersions()).toEqual(['a v3', 'b v3', 'c v3']);
    expect(leftovers()).toEqual([]);
  });

  it('waits for a lock held by a live process, then builds', async () => {
    build();
    setTs('v4');
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    writeFileSync(join(root, '.build.lock'), String(holder.pid));
    let finished = false;
    const pending = buildAsync().then((r) => ((finished = true), r));
    await new Promise((r) => setTimeout(r, 600));
    expect(finished).toBe(false); // still waiting
    expect(distVersions()).toEqual(['a v1', 'b v1', 'c v1']);
    rmSync(join(root, '.build.lock'));
    holder.kill();
    expect((await pending).code).toBe(0);
    expect(distVersions()).toEqual(['a v4', 'b v4', 'c v4']);
  });

  it('rejects unknown arguments', () => {
    expect(build(['--frobnicate'])).toMatchObject({ code: 1, err: expect.stringMatching(/build: unknown argument '--frobnicate'/) });
  });
});
