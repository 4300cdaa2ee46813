// core.flavor reports the build that actually runs, whatever the caller named or pointed at;
// 'relaxed' asked where it does not fit fails with a message that says what to do; and
// enableRelaxedSimd() turns relaxed SIMD on for Node 20 (checked in a fresh process, where the
// test setup's flag is not set). The URL cases serve build/ over HTTP, as browsers fetch it.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join, resolve } from 'node:path';
import { loadCore, loadCoreSync, relaxedSupported, type Core } from '../src/core/load.js';
import { startServer } from '../examples/browser/serve.mjs';

const ROOT = resolve(__dirname, '..');
const plain = () => new Uint8Array(readFileSync(join(ROOT, 'build', 'iruka.wasm')));
const relaxed = () => new Uint8Array(readFileSync(join(ROOT, 'build', 'iruka.relaxed.wasm')));

/** The flavour name must agree with what the module says it is. */
function expectHonest(core: Core, flavor: string): void {
  expect(core.flavor).toBe(flavor);
  expect(core.exports.is_relaxed()).toBe(flavor === 'relaxed' ? 1 : 0);
}

describe('loadCore({ url })', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    ({ server, url } = await startServer({ root: ROOT, port: 0 }));
  });
  afterAll(() => server.close());

  it("a URL to the plain .wasm: 'auto' and 'simd' report simd, 'relaxed' throws instead of running it as relaxed", async () => {
    const file = `${url}/build/iruka.wasm`;
    expectHonest(await loadCore({ url: file }), 'simd');
    expectHonest(await loadCore({ url: file, flavor: 'auto' }), 'simd');
    expectHonest(await loadCore({ url: file, flavor: 'simd' }), 'simd');
    await expect(loadCore({ url: file, flavor: 'relaxed' })).rejects.toThrow(
      /flavor 'relaxed' was asked for, but .*\/build\/iruka\.wasm is a plain SIMD build \(is_relaxed\(\) is 0\)/,
    );
  });

  it("a URL to the relaxed .wasm: 'auto' reports relaxed, 'simd' throws", async () => {
    const file = `${url}/build/iruka.relaxed.wasm`;
    expectHonest(await loadCore({ url: file }), 'relaxed');
    await expect(loadCore({ url: file, flavor: 'simd' })).rejects.toThrow(/flavor 'simd' was asked for, but .* is the relaxed-SIMD build/);
  });

  it('a folder URL: auto takes the relaxed build where the engine has relaxed SIMD, each name gets its file', async () => {
    expect(relaxedSupported()).toBe(true); // test/setup.ts enabled it
    expectHonest(await loadCore({ url: `${url}/build/` }), 'relaxed');
    expectHonest(await loadCore({ url: `${url}/build`, flavor: 'simd' }), 'simd');
    expectHonest(await loadCore({ url: `${url}/build/`, flavor: 'relaxed' }), 'relaxed');
    expectHonest(await loadCore({ url: `${url}/build/`, flavor: 'debug' }), 'debug');
  });
});

describe('loadCore({ bytes }) and loadCoreSync({ bytes })', () => {
  it("'auto' reports what the bytes are", async () => {
    expectHonest(await loadCore({ bytes: plain() }), 'simd');
    expectHonest(await loadCore({ bytes: relaxed() }), 'relaxed');
    expectHonest(loadCoreSync({ bytes: plain() }), 'simd');
    expectHonest(loadCoreSync({ bytes: relaxed() }), 'relaxed');
  });

  it('a name that contradicts the bytes throws', async () => {
    await expect(loadCore({ bytes: plain(), flavor: 'relaxed' })).rejects.toThrow(/flavor 'relaxed' was asked for, but the module passed as bytes is a plain SIMD build/);
    expect(() => loadCoreSync({ bytes: relaxed(), flavor: 'simd' })).toThrow(/flavor 'simd' was asked for, but the module passed as bytes is the relaxed-SIMD build/);
    expect(() => loadCoreSync({ bytes: relaxed(), flavor: 'debug' })).toThrow(/flavor 'debug' was asked for/);
  });
});

describe('an engine without relaxed SIMD (a fresh Node process)', () => {
  const dist = join(ROOT, 'dist', 'src', 'index.js');
  const major = Number(process.versions.node.split('.')[0]);

  it.runIf(existsSync(dist))("auto falls back to simd, 'relaxed' says how to enable it, enableRelaxedSimd() turns it on", () => {
    const script = `
      const { loadCoreSync, relaxedSupported, enableRelaxedSimd } = await import(${JSON.stringify(dist)});
      const out = { before: relaxedSupported(), auto: loadCoreSync().flavor };
      try { loadCoreSync({ flavor: 'relaxed' }); out.relaxed = 'loaded'; } catch (e) { out.relaxed = e.message; }
      out.enabled = enableRelaxedSimd();
      out.again = enableRelaxedSimd();
      const c = loadCoreSync();
      out.after = [c.flavor, c.exports.is_relaxed()];
      console.log(JSON.stringify(out));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    if (major < 22) {
      expect(out.before).toBe(false);
      expect(out.auto).toBe('simd');
      expect(out.relaxed).toMatch(/this engine rejects the relaxed-SIMD build .*call enableRelaxedSimd\(\) from 'iruka\/relaxed-simd'/);
    } else {
      // Node 22+ has relaxed SIMD on by default; the helper is a no-op there
      expect(out.before).toBe(true);
      expect(out.auto).toBe('relaxed');
    }
    expect(out.enabled).toBe(true);
    expect(out.again).toBe(true);
    expect(out.after).toEqual(['relaxed', 1]);
  });
});
