// A run's folder: metrics.jsonl (one JSON line per finished epoch) and the moving aside of an
// earlier run's files, so a fresh run never overwrites them.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';

export interface EpochMetrics {
  epoch: number;
  step: number;
  lr: number;
  train_loss: number;
  /** null for losses without accuracy (regression, reconstruction) */
  train_acc: number | null;
  test_loss: number | null;
  test_acc: number | null;
  seconds: number;
  images_per_sec: number;
  /** the process's resident set and the core's live WASM heap after the epoch (flat across epochs) */
  rss_mib: number;
  wasm_live_mib: number;
  /** the kernel build that ran (the relaxed build gives different bits than the plain one) */
  kernels?: string;
}

/** The files a run writes into its folder (a fresh run moves an earlier run's aside, never over them). */
export const RUN_FILES = ['checkpoint.safetensors', 'best.safetensors', 'metrics.jsonl', 'curves.png', 'confusion.png', 'misclassified.png'];

/** Moves an earlier run's files into `<out>/previous-<time>/`; returns that folder, or null if there were none. */
export function archivePreviousRun(out: string): string | null {
  const present = RUN_FILES.filter((f) => existsSync(join(out, f)));
  if (present.length === 0) return null;
  const dest = join(out, `previous-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  mkdirSync(dest, { recursive: true });
  for (const f of present) renameSync(join(out, f), join(dest, f));
  return dest;
}

/**
 * The epochs in a metrics.jsonl; a last line cut short by a crash is dropped, any other line
 * that does not parse is an error naming the file and line.
 */
export function readMetrics(path: string): EpochMetrics[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  const out: EpochMetrics[] = [];
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    try {
      out.push(JSON.parse(line) as EpochMetrics);
    } catch {
      const last = lines.slice(i + 1).every((l) => !l.trim());
      if (!last) throw new InputError(`${path}:${i + 1}: not a JSON line; fix or remove the file to resume`);
    }
  });
  return out;
}

/** Writes the whole metrics file (after a resume: the epochs kept), then appends one line per epoch. */
export class MetricsFile {
  constructor(readonly path: string) {}
  reset(metrics: EpochMetrics[]): void {
    writeFileSync(this.path, metrics.map((m) => JSON.stringify(m) + '\n').join(''));
  }
  append(m: EpochMetrics): void {
    appendFileSync(this.path, JSON.stringify(m) + '\n');
  }
}
