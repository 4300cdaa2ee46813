// How many cases each fuzz property runs, and from which seed. CI: IRUKA_FUZZ_RUNS cases per
// parser (default 10,000), seed fixed so a failure reproduces. `npm run fuzz` (scripts/fuzz.mjs)
// raises the count and draws a random seed, printed first, that IRUKA_FUZZ_SEED replays.
import fc from 'fast-check';
import { expect } from 'vitest';

const DEFAULT_RUNS = 10_000;
const DEFAULT_SEED = 20261201;

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = Number(raw);
  if (!Number.isSafeInteger(v)) throw new Error(`${name} must be an integer, got '${raw}'`);
  return v;
}

/** Cases for one parser, all its properties together. */
export const PARSER_RUNS = Math.max(1, envInt('IRUKA_FUZZ_RUNS', DEFAULT_RUNS));
export const SEED = envInt('IRUKA_FUZZ_SEED', DEFAULT_SEED);

/** fast-check options for a property that gets `share` of its parser's cases. */
export function budget(share: number): fc.Parameters<unknown> {
  return { numRuns: Math.max(1, Math.round(PARSER_RUNS * share)), seed: SEED, endOnFailure: true };
}

/** A test timeout that grows with the case count (CI's 10,000 take a few seconds). */
export const FUZZ_TIMEOUT_MS = 60_000 + PARSER_RUNS * 2;

/**
 * Runs `fn` and checks the outcome allowed for untrusted input: it returns, or it throws an
 * instance of `errorType` with a short, non-empty message that starts with `prefix` when given.
 * Returns the result, or undefined when it threw as allowed.
 */
export function loadsOrRefuses<T>(fn: () => T, errorType: new (...a: never[]) => Error, prefix?: string): T | undefined {
  let result: T;
  try {
    result = fn();
  } catch (e) {
    if (!(e instanceof errorType)) throw new Error(`threw ${(e as Error)?.constructor?.name} instead of ${errorType.name}: ${(e as Error)?.message}`, { cause: e });
    expect(e.message.length).toBeGreaterThan(0);
    expect(e.message.length).toBeLessThan(2000);
    if (prefix !== undefined) expect(e.message.startsWith(prefix)).toBe(true);
    return undefined;
  }
  return result;
}
