// Safetensors files on disk: reading with errors that name the path, and crash-safe writes
// (temporary file, fsync, rename over the target, fsync of the directory). The format itself
// (encode, decode, checks) is in safetensors_codec.ts, which has no Node imports.
import { closeSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { InputError } from '../errors.js';
import { decodeSafetensors, encodeSafetensors, type SafeTensor, type TensorIn } from './safetensors_codec.js';

export * from './safetensors_codec.js';

/** Reads and decodes a safetensors file; errors (InputError) name the path. */
export function readSafetensors(path: string): { tensors: Map<string, SafeTensor>; metadata: Record<string, string> } {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a directory' : err.message;
    throw new InputError(`${path}: cannot read checkpoint: ${why}`);
  }
  return decodeSafetensors(bytes, path);
}

/**
 * Writes a safetensors file so that a crash never leaves a half-written file under `path`
 * (see {@link writeFileAtomic}).
 */
export function writeSafetensors(path: string, tensors: Record<string, TensorIn>, metadata?: Record<string, string>): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata)); // bad input fails before the disk is touched
}

let atomicWrites = 0;

/**
 * Writes `bytes` so that a crash never leaves a half-written file under `path`: the bytes go to
 * `<path>.tmp-<pid>`, are fsynced, the temporary is renamed over `path`, and the directory is
 * fsynced (best effort: not every platform can open a directory). On failure the temporary is
 * removed and any old file at `path` is left as it was. A process killed before the rename
 * leaves only its temporary behind (removeStaleTemporaries clears those).
 */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'w');
    for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    pauseForTest(tmp);
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        /* already failing; the original error matters */
      }
    }
    try {
      unlinkSync(tmp);
    } catch {
      /* never created, or already gone */
    }
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? `directory ${dirname(path)} does not exist` : err.code === 'ENOSPC' ? 'the disk is full' : err.message;
    throw new Error(`cannot write checkpoint ${path}: ${why}`);
  }
  try {
    const dfd = openSync(dirname(path), 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    /* the rename is done; a directory fsync is a durability bonus where supported */
  }
}

/**
 * For the crash tests: IRUKA_TEST_PAUSE_IN_SAVE=N makes the N-th atomic write of this process
 * stop between the fsynced temporary and the rename, say so on stderr and sleep, so that a test
 * can SIGKILL it at the worst moment.
 */
function pauseForTest(tmp: string): void {
  const at = process.env.IRUKA_TEST_PAUSE_IN_SAVE;
  if (at === undefined || ++atomicWrites !== Number(at)) return;
  process.stderr.write(`IRUKA_TEST_PAUSED_IN_SAVE ${tmp}\n`);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);
}

/** Removes `<name>.safetensors.tmp-<pid>` files in `dir` that a killed process left (never this process's own). */
export function removeStaleTemporaries(dir: string): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    const m = /\.safetensors\.tmp-(\d+)$/.exec(name);
    if (!m || Number(m[1]) === process.pid) continue;
    try {
      unlinkSync(join(dir, name));
      removed.push(name);
    } catch {
      /* gone already, or not ours to remove */
    }
  }
  return removed;
}
