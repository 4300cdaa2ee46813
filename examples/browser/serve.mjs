#!/usr/bin/env node
// A tiny read-only static server for the browser example: serves the repository root (so the
// page can import dist/ and fetch build/*.wasm and checkpoints) on 127.0.0.1 only.
//
//   node examples/browser/serve.mjs [--port 8080]      then open the URL it prints
//
// Browsers compile WebAssembly from a fetch only over http(s), not file://, and
// WebAssembly.compileStreaming wants the type application/wasm, hence a server at all.
import { createServer } from 'node:http';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
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

/**
 * Starts the server on host:port (port 0: any free port) over `root`; resolves to the
 * http.Server and its base URL once it listens.
 */
export function startServer({ root = REPO_ROOT, host = '127.0.0.1', port = 8080, log = null } = {}) {
  const base = resolve(root);
  const server = createServer(async (req, res) => {
    const reply = (code, text) => {
      res.writeHead(code, { 'content-type': 'text/plain; charset=utf-8' });
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
      res.writeHead(302, { location: PAGE });
      return res.end();
    }
    // no way out of the root, and no dot files or folders (.git, .env)
    const parts = path.split('/').filter(Boolean);
    if (parts.some((p) => p.startsWith('.') || p.includes('\\') || p.includes('\0'))) return reply(403, 'forbidden');
    let file = join(base, ...parts);
    if (file !== base && !file.startsWith(base + sep)) return reply(403, 'forbidden');
    try {
      let st = await stat(file);
      if (st.isDirectory()) {
        file = join(file, 'index.html');
        st = await stat(file);
      }
      if (!st.isFile()) return reply(404, 'not found');
      res.writeHead(200, {
        'content-type': MIME[extname(file).toLowerCase()] ?? 'application/octet-stream',
        'content-length': st.size,
        'cache-control': 'no-cache', // rebuilt dist/ and build/ show up on reload
        'x-content-type-options': 'nosniff',
      });
      if (req.method === 'HEAD') return res.end();
      createReadStream(file).pipe(res);
      log?.(`200 ${req.method} ${req.url}`);
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
  const { values } = parseArgs({ options: { port: { type: 'string', default: '8080' }, quiet: { type: 'boolean' } } });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`--port must be an integer in 0..65535, got '${values.port}'`);
    process.exit(2);
  }
  try {
    const { url } = await startServer({ port, log: values.quiet ? null : (line) => console.log(line) });
    console.log(`serving ${REPO_ROOT} read-only at ${url}`);
    console.log(`open ${url}${PAGE}   (run 'npm run build' first; Ctrl-C stops)`);
  } catch (e) {
    console.error(e.code === 'EADDRINUSE' ? `port ${port} is in use; pass --port N` : e.message);
    process.exit(1);
  }
}
