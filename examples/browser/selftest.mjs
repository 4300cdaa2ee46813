#!/usr/bin/env node
// Runs the browser page's self-test in headless Chromium and prints its result:
//
//   node examples/browser/selftest.mjs [--weights URL] [--flavor simd|relaxed] [--screenshot FILE.png]
//   node examples/browser/selftest.mjs --query 'autotrain&workers=2&epochs=2' [--no-isolation] [--timeout 120]
//
// Starts serve.mjs on a free port, opens index.html?selftest, waits until the page has written
// <pre id="selftest" data-status=...>, prints that JSON and exits 0 on "pass". Chromium is
// driven over --remote-debugging-pipe (the DevTools protocol on file descriptors 3 and 4, one
// JSON message per NUL-terminated chunk), so nothing beyond Node and a Chromium binary is needed.
// `--dump-dom` is not enough: it returns when virtual time runs out, which does not wait for
// the asynchronous WebAssembly compile. Set CHROMIUM=/path/to/binary to pick the browser.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startServer, PAGE } from './serve.mjs';

const CANDIDATES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable', 'chrome'];

/** The Chromium (or Chrome) binary to use: $CHROMIUM, else the first candidate on PATH; null if none. */
export function findChromium() {
  if (process.env.CHROMIUM) return existsSync(process.env.CHROMIUM) ? process.env.CHROMIUM : null;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    for (const name of CANDIDATES) {
      const p = join(dir, name);
      if (dir && existsSync(p) && spawnSync(p, ['--version'], { stdio: 'ignore', timeout: 10_000 }).status === 0) return p;
    }
  }
  return null;
}

/**
 * Serves the repository, loads the page with `query` (e.g. 'selftest&weights=/x.safetensors')
 * in headless Chromium (serving `root`, default the repository; `page`, default this example's
 * index.html, is any page there that writes <pre id="selftest" data-status>), waits for the
 * self-test and returns { status, result, text, png? }:
 * status 'pass' | 'fail' | 'error', result the parsed JSON (when there is one), png the
 * screenshot bytes when `screenshot` is true.
 * `isolation` false serves the page without the COOP/COEP headers (no SharedArrayBuffer).
 * @param {{ query?: string, root?: string, page?: string, chromium?: string | null, screenshot?: boolean, width?: number, height?: number, timeoutMs?: number, isolation?: boolean }} [options]
 */
export async function runSelftest({ query = 'selftest', root, page: pagePath = PAGE, chromium = findChromium(), screenshot = false, width = 1000, height = 760, timeoutMs = 30_000, isolation = true } = {}) {
  if (!chromium) throw new Error('no Chromium found: install chromium or set CHROMIUM=/path/to/binary');
  const { server, url } = await startServer({ port: 0, isolation, ...(root ? { root } : {}) });
  const profile = mkdtempSync(join(tmpdir(), 'iruka-chromium-'));
  const args = [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', '--no-default-browser-check', '--mute-audio', `--user-data-dir=${profile}`,
    '--remote-debugging-pipe', `--window-size=${width},${height}`, 'about:blank',
  ];
  // fd 3: what Chromium reads (our commands); fd 4: what it writes (replies and events)
  const proc = spawn(chromium, args, { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  const cdp = devtools(proc.stdio[3], proc.stdio[4]);
  let timer;
  const timeout = new Promise((_, fail) => {
    timer = setTimeout(() => fail(new Error(`headless self-test timed out after ${timeoutMs} ms; chromium said:\n${stderr}`)), timeoutMs);
  });
  const exited = new Promise((_, fail) => proc.once('exit', (code) => fail(new Error(`chromium exited (${code}) early:\n${stderr}`))));
  exited.catch(() => {});
  try {
    return await Promise.race([timeout, exited, drive()]);
  } finally {
    clearTimeout(timer);
    proc.removeAllListeners('exit');
    cdp.send('Browser.close').catch(() => {});
    await new Promise((ok) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return ok();
      const kill = setTimeout(() => proc.kill('SIGKILL'), 3000);
      proc.once('exit', () => {
        clearTimeout(kill);
        ok();
      });
    });
    server.close();
    rmSync(profile, { recursive: true, force: true });
  }

  async function drive() {
    const { targetId } = await cdp.send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await cdp.send('Target.attachToTarget', { targetId, flatten: true });
    const page = (method, params) => cdp.send(method, params, sessionId);
    await page('Page.enable');
    await page('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile: false });
    const loaded = cdp.once('Page.loadEventFired', sessionId);
    const nav = await page('Page.navigate', { url: `${url}${pagePath}?${query}` });
    if (nav.errorText) throw new Error(`navigation failed: ${nav.errorText}`);
    await loaded;
    const { result, exceptionDetails } = await page('Runtime.evaluate', {
      expression: `new Promise((ok) => {
        const poll = () => {
          const e = document.getElementById('selftest');
          if (e && e.dataset.status) ok(e.textContent);
          else setTimeout(poll, 25);
        };
        poll();
      })`,
      awaitPromise: true,
      returnByValue: true,
    });
    if (exceptionDetails) throw new Error(`evaluating in the page failed: ${exceptionDetails.text}`);
    const text = String(result.value);
    const [head, ...rest] = text.split('\n');
    const status = head.replace(/^selftest /, '').trim();
    let parsed = null;
    try {
      parsed = JSON.parse(rest.join('\n'));
    } catch {
      // an error's stack trace, not JSON
    }
    const out = { status, result: parsed, text };
    if (screenshot) {
      await new Promise((ok) => setTimeout(ok, 100)); // let the last frame paint
      const { data } = await page('Page.captureScreenshot', { format: 'png' });
      out.png = Buffer.from(data, 'base64');
    }
    return out;
  }
}

/** A minimal DevTools-protocol client over Chromium's pipe. */
function devtools(input, output) {
  let nextId = 1;
  const pending = new Map();
  const waiters = [];
  let buf = '';
  output.setEncoding('utf8');
  output.on('data', (chunk) => {
    buf += chunk;
    let end;
    while ((end = buf.indexOf('\0')) >= 0) {
      const msg = JSON.parse(buf.slice(0, end));
      buf = buf.slice(end + 1);
      if (msg.id !== undefined && pending.has(msg.id)) {
        const { ok, fail, method } = pending.get(msg.id);
        pending.delete(msg.id);
        if (msg.error) fail(new Error(`${method}: ${msg.error.message}`));
        else ok(msg.result);
      } else if (msg.method) {
        for (let i = waiters.length - 1; i >= 0; i--) {
          const w = waiters[i];
          if (w.method === msg.method && w.sessionId === msg.sessionId) {
            waiters.splice(i, 1);
            w.ok(msg.params);
          }
        }
      }
    }
  });
  input.on('error', () => {}); // the browser closing its end during Browser.close
  return {
    send(method, params = {}, sessionId) {
      const id = nextId++;
      return new Promise((ok, fail) => {
        pending.set(id, { ok, fail, method });
        input.write(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }) + '\0');
      });
    },
    once(method, sessionId) {
      return new Promise((ok) => waiters.push({ method, sessionId, ok }));
    },
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: { weights: { type: 'string' }, flavor: { type: 'string' }, screenshot: { type: 'string' }, timeout: { type: 'string', default: '30' }, query: { type: 'string' }, 'no-isolation': { type: 'boolean' } },
  });
  const q = new URLSearchParams();
  q.set('selftest', '');
  if (values.weights) q.set('weights', values.weights);
  if (values.flavor) q.set('flavor', values.flavor);
  try {
    const query = values.query ?? q.toString().replace('selftest=', 'selftest');
    const r = await runSelftest({ query, isolation: !values['no-isolation'], screenshot: Boolean(values.screenshot), timeoutMs: Number(values.timeout) * 1000 });
    console.log(r.text);
    if (values.screenshot) {
      writeFileSync(values.screenshot, r.png);
      console.log(`screenshot: ${values.screenshot}`);
    }
    process.exitCode = r.status === 'pass' ? 0 : 1;
  } catch (e) {
    console.error(e.message);
    process.exitCode = 2;
  }
}
