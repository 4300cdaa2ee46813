// The build every npm script runs first: the wasm kernels (build/, one .wasm per target of
// asconfig.json) and the TypeScript output (dist/). Safe to run from several commands at once
// in one checkout:
//  - Up to date, it does nothing: each tree holds a stamp, the SHA-256 of the sources it is
//    built from (build/: assembly/, asconfig.json; dist/: src/, workers/, bench/, tsconfig*.json;
//    both: package.json, package-lock.json and this script). Only a tree whose hash changed
//    is rebuilt, so editing TypeScript does not rerun asc.
//  - A rebuild writes into a temporary sibling (dist.tmp-<pid>) and renames it into place, so a
//    reader finds the old complete tree or the new one, never a half-written mix; a failed
//    build (a type error) leaves the old tree as it was. Two limits: between the two renames
//    (microseconds apart) the folder is absent, and a command already running that imports a
//    module only after a swap (a worker started late) gets the new tree's file.
//  - Builds take a lock (.build.lock, holding the builder's pid): a second build waits for the
//    first, then finds it up to date. A lock whose process is gone is taken over.
// Usage: node scripts/build.mjs [--force] [--only=wasm|ts] [--root=DIR]
// (--root builds another checkout; the tools are those in DIR/node_modules.)
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SELF = fileURLToPath(import.meta.url);
const STAMP = '.build-stamp';
const LOCK = '.build.lock';
const LOCK_POLL_MS = 100;
const LOCK_WAIT_MS = 15 * 60 * 1000;
const LOCK_EMPTY_MS = 10_000;
const SHARED = ['package.json', 'package-lock.json'];

/** The two trees: where they go, what they are built from, how. */
const TREES = {
  wasm: { dir: 'build', sources: ['assembly', 'asconfig.json', ...SHARED], build: buildWasm },
  ts: { dir: 'dist', sources: ['src', 'workers', 'bench', ...SHARED], tsconfigs: true, build: buildTs },
};

function parseArgs(argv) {
  const opts = { force: false, only: undefined, root: resolve(dirname(SELF), '..') };
  for (const a of argv) {
    if (a === '--force') opts.force = true;
    else if (a.startsWith('--only=') && a.slice(7) in TREES) opts.only = a.slice(7);
    else if (a.startsWith('--root=')) opts.root = resolve(a.slice(7));
    else throw new Error(`build: unknown argument '${a}' (usage: build.mjs [--force] [--only=wasm|ts] [--root=DIR])`);
  }
  return opts;
}

/** Every file under `rel` (a file or a folder), sorted, as paths relative to root. */
function filesUnder(root, rel) {
  const abs = join(root, rel);
  if (!existsSync(abs)) return [];
  let entries;
  try {
    entries = readdirSync(abs, { withFileTypes: true });
  } catch (e) {
    if (e.code === 'ENOTDIR') return [rel];
    throw e;
  }
  const out = [];
  for (const e of entries) {
    const child = join(rel, e.name);
    if (child === join('bench', 'results')) continue; // benchmark output, not a source
    if (e.isDirectory()) out.push(...filesUnder(root, child));
    else if (e.isFile()) out.push(child);
  }
  return out.sort();
}

/** SHA-256 over the names and contents of a tree's sources (and of this script). */
function sourceHash(root, tree) {
  const rels = [...tree.sources];
  if (tree.tsconfigs) rels.push(...readdirSync(root).filter((f) => /^tsconfig.*\.json$/.test(f)));
  const h = createHash('sha256');
  h.update(readFileSync(SELF));
  for (const rel of rels.sort()) {
    for (const f of filesUnder(root, rel)) {
      h.update(`${f.split('\\').join('/')}\0`);
      h.update(readFileSync(join(root, f)));
      h.update('\0');
    }
  }
  return h.digest('hex');
}

function readStamp(dir) {
  try {
    return readFileSync(join(dir, STAMP), 'utf8').trim();
  } catch {
    return undefined;
  }
}

function run(root, args) {
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`build: ${relative(root, args[0])} ${args.slice(1).join(' ')} failed (exit ${r.status ?? r.signal})`);
}

/** Each target of asconfig.json, its output files (build/<name>) redirected into `out`. */
function buildWasm(root, out) {
  const asc = join(root, 'node_modules', 'assemblyscript', 'bin', 'asc.js');
  const config = JSON.parse(readFileSync(join(root, 'asconfig.json'), 'utf8'));
  const entry = config.entries?.[0] ?? 'assembly/index.ts';
  for (const [target, t] of Object.entries(config.targets ?? {})) {
    const redirect = [];
    for (const key of ['outFile', 'textFile']) {
      if (t[key] !== undefined) redirect.push(`--${key}`, join(out, relative(join(root, 'build'), join(root, t[key]))));
    }
    process.stderr.write(`build: asc ${target} -> ${t.outFile}\n`);
    run(root, [asc, entry, '--config', 'asconfig.json', '--target', target, ...redirect]);
  }
}

function buildTs(root, out) {
  process.stderr.write('build: tsc -> dist/\n');
  run(root, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json', '--outDir', out]);
}

/** Puts the complete tree `fresh` at `dir`: two renames, the old tree removed after. */
function swapInto(fresh, dir) {
  const old = `${dir}.old-${process.pid}`;
  if (existsSync(dir)) renameSync(dir, old);
  renameSync(fresh, dir);
  rmSync(old, { recursive: true, force: true });
}

const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

/** Takes the lock file, waiting while a live process holds it. Returns its release. */
function lock(root) {
  const path = join(root, LOCK);
  const start = Date.now();
  for (;;) {
    try {
      writeFileSync(path, String(process.pid), { flag: 'wx' });
      return () => rmSync(path, { force: true });
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
    }
    let holder;
    let age;
    try {
      holder = Number(readFileSync(path, 'utf8').trim());
      age = Date.now() - statSync(path).mtimeMs;
    } catch (e) {
      if (e.code === 'ENOENT') continue; // released meanwhile: try again at once
      throw e;
    }
    // a holder that died leaves its lock behind; an empty file is one being written right now,
    // unless it stays empty (its writer died between creating and writing it)
    if ((holder > 0 && !alive(holder)) || (!(holder > 0) && age > LOCK_EMPTY_MS)) {
      process.stderr.write(`build: taking over the lock of process ${holder || '(unknown)'}, which has gone\n`);
      rmSync(path, { force: true });
      continue;
    }
    if (Date.now() - start > LOCK_WAIT_MS) throw new Error(`build: ${path} has been held by process ${holder} for ${LOCK_WAIT_MS / 60000} minutes`);
    sleep(LOCK_POLL_MS);
  }
}

/** Temporaries and old trees left by a build that was killed; only called under the lock. */
function removeLeftovers(root) {
  for (const name of readdirSync(root)) {
    if (/^(dist|build)\.(tmp|old)-\d+$/.test(name)) rmSync(join(root, name), { recursive: true, force: true });
  }
}

function stale(root, names, force) {
  return names.filter((n) => force || readStamp(join(root, TREES[n].dir)) !== sourceHash(root, TREES[n]));
}

export function build(argv) {
  const { force, only, root } = parseArgs(argv);
  const names = only ? [only] : Object.keys(TREES);
  if (stale(root, names, force).length === 0) return; // the common case, without waiting for the lock
  const release = lock(root);
  try {
    removeLeftovers(root);
    for (const name of stale(root, names, force)) {
      const tree = TREES[name];
      const dir = join(root, tree.dir);
      const hash = sourceHash(root, tree); // before building: a source edited meanwhile makes the next run rebuild
      const tmp = `${dir}.tmp-${process.pid}`;
      rmSync(tmp, { recursive: true, force: true });
      mkdirSync(tmp, { recursive: true });
      try {
        tree.build(root, tmp);
        writeFileSync(join(tmp, STAMP), `${hash}\n`);
        swapInto(tmp, dir);
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    }
  } finally {
    release();
  }
}

if (process.argv[1] && resolve(process.argv[1]) === SELF) {
  try {
    build(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  }
}
