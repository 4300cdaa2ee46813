// Progress for long work: a one-line bar redrawn in place on a TTY, plain periodic lines
// (every `every` seconds) when stdout is a file or a pipe.

export interface ProgressStats {
  done: number;
  total: number;
  imagesPerSec: number;
  /** running means so far (absent while evaluating) */
  loss?: number;
  /** absent for losses without accuracy */
  acc?: number;
}

/** Where the bar goes: process.stdout, or anything with write(). */
export interface TextOut {
  write(s: string): unknown;
  isTTY?: boolean;
}

export class Progress {
  private last = 0;
  private readonly start = Date.now();
  constructor(
    private readonly label: string,
    private readonly out: TextOut,
    private readonly every = 10,
  ) {}

  update(s: ProgressStats): void {
    const now = Date.now();
    const tty = Boolean(this.out.isTTY);
    if (now - this.last < (tty ? 200 : this.every * 1000) && s.done < s.total) return;
    this.last = now;
    const elapsed = (now - this.start) / 1000;
    const eta = s.done > 0 ? (elapsed * (s.total - s.done)) / s.done : 0;
    const loss = s.loss === undefined ? '' : `  loss ${s.loss.toFixed(4)}`;
    const acc = s.acc === undefined ? '' : `  acc ${s.acc.toFixed(4)}`;
    const stats = `${s.done}/${s.total}  ${Math.round(s.imagesPerSec)} img/s${loss}${acc}  ETA ${fmtTime(eta)}`;
    if (tty) {
      const width = 24;
      const fill = Math.round((width * s.done) / Math.max(1, s.total));
      this.out.write(`\r${this.label} [${'='.repeat(fill)}${fill < width ? '>' : ''}${' '.repeat(Math.max(0, width - fill - 1))}] ${stats}\x1b[K`);
    } else {
      this.out.write(`${this.label} ${stats}\n`);
    }
  }

  /** Ends the bar's line (TTY) so the next output starts clean. */
  finish(): void {
    if (this.out.isTTY) this.out.write('\n');
  }
}

export function fmtTime(sec: number): string {
  if (!Number.isFinite(sec)) return '?';
  const s = Math.round(sec);
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}
