// The --limit-train / --limit-test rule every loader shares: keep the first N examples, and say
// so when N is more than the files hold instead of clamping silently.

/** Throws unless `v` is absent or an integer >= 0; `op` names the caller. */
export function checkLimit(op: string, name: string, v: number | undefined): void {
  if (v !== undefined && (!Number.isInteger(v) || v < 0)) {
    throw new Error(`${op}: ${name} must be an integer >= 0, got ${v}`);
  }
}

/** How many of `count` examples a limit keeps, pushing a note when the limit asks for more. */
export function clampLimit(flag: string, what: string, limit: number | undefined, count: number, notes: string[]): number {
  if (limit === undefined) return count;
  if (limit > count) notes.push(`${flag} ${limit} is more than the ${count} ${what}; using ${count}`);
  return Math.min(limit, count);
}
