// The trainer's crash-safety rules for its folder, kept out of fit.ts: the two checkpoint files
// (latest and best) written from one encoding, stale temporaries of a killed run cleared, a run
// folder made with errors in words. The rules that need no files (the best epoch, epochs on
// resume, NaN advice, a batch above the set) are in rules.ts and re-exported here.
import { existsSync, mkdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { encodeCheckpoint, type CheckpointMeta, type ExtraTensors } from '../io/checkpoint.js';
import { writeFileAtomic, removeStaleTemporaries } from '../io/safetensors.js';
import { InputError } from '../errors.js';
import type { Params } from '../nn/params.js';
import type { Optimizer } from '../optim/optimizer.js';

export { bestAfter, checkEpochsChange, nanAdvice, clampBatch } from './rules.js';

/**
 * Writes the checkpoint to `latest` and, when given, the same bytes to `best` first: a crash
 * between the two leaves an older `latest`, whose resumed run repeats the epoch and writes the
 * same `best` again, so the two files never disagree about a finished run.
 */
export function saveRunCheckpoint(paths: { latest: string; best: string | null }, params: Params, optimizer: Optimizer, meta: CheckpointMeta, extra: ExtraTensors = {}): void {
  writeRunCheckpoint(paths, encodeCheckpoint(params, optimizer, meta, extra));
}

/** The same for bytes already encoded (the training loop encodes them once, src/train/loop.ts). */
export function writeRunCheckpoint(paths: { latest: string; best: string | null }, bytes: Uint8Array): void {
  if (paths.best) writeFileAtomic(paths.best, bytes);
  writeFileAtomic(paths.latest, bytes);
}

/** Removes the temporaries a killed run left in its folder, saying so. */
export function cleanFolder(out: string, log: (line: string) => void): void {
  const removed = removeStaleTemporaries(out);
  if (removed.length) log(`note: removed ${removed.join(', ')} in ${out}, left by a run that was killed while writing a checkpoint`);
}

/**
 * Creates the run folder and its missing parents, one at a time (Node's recursive mkdir loops
 * forever under /proc), and says in words what is wrong when it cannot: a file in the way, no
 * permission, a read-only file system.
 */
export function makeRunFolder(out: string): void {
  const missing: string[] = [];
  let at = out;
  while (!existsSync(at)) {
    missing.unshift(at);
    const up = dirname(at);
    if (up === at) break;
    at = up;
  }
  if (existsSync(at) && !statSync(at).isDirectory()) {
    throw new InputError(at === out ? `--out ${out} is a file, not a folder; name a folder for the run` : `--out ${out}: ${at} is a file, so no folder can be made under it`);
  }
  for (const dir of missing) {
    try {
      mkdirSync(dir);
    } catch (e) {
      const code = (e as { code?: string }).code;
      const why =
        code === 'EACCES' || code === 'EPERM' ? `permission denied in ${dirname(dir)}` : code === 'EROFS' ? 'the file system is read-only' : code === 'ENOSPC' ? 'the disk is full' : code === 'ENOENT' ? `${dirname(dir)} does not accept folders` : (e as Error).message;
      throw new InputError(`--out ${out}: cannot create the folder (${why})`);
    }
  }
  // a folder that exists but takes no files would fail only at the first checkpoint, minutes in
  const probe = join(out, `.iruka-write-test-${process.pid}`);
  try {
    writeFileSync(probe, '');
    unlinkSync(probe);
  } catch (e) {
    const code = (e as { code?: string }).code;
    const why = code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EROFS' ? 'the file system is read-only' : code === 'ENOSPC' ? 'the disk is full' : (e as Error).message;
    throw new InputError(`--out ${out}: cannot write files in the folder (${why})`);
  }
}
