// What every command-line entry shares: flag parsing with clear one-line errors, --help, and
// exit codes (0 done, 1 failed while working, 2 bad usage or input).
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { InputError } from '../errors.js';

export { InputError };

export class UsageError extends Error {}

export interface FlagSpec {
  type: 'string' | 'boolean';
  short?: string;
  default?: string | boolean;
  /** shown in --help: what the flag does */
  help: string;
  /** shown in --help as the value's name, e.g. N or FILE */
  arg?: string;
}

export type Flags<S extends Record<string, FlagSpec>> = {
  [K in keyof S]: S[K]['type'] extends 'boolean' ? boolean : string | undefined;
};

/** Formats the --help text from a usage line, a description and the flag table. */
export function helpText(usage: string, description: string, spec: Record<string, FlagSpec>): string {
  const rows = Object.entries(spec).map(([name, f]) => {
    const left = `  ${f.short ? `-${f.short}, ` : '    '}--${name}${f.arg ? ` ${f.arg}` : f.type === 'string' ? ' VALUE' : ''}`;
    const def = f.default !== undefined && f.default !== false ? ` (default: ${f.default})` : '';
    return [left, f.help + def] as const;
  });
  const width = Math.max(...rows.map(([l]) => l.length)) + 2;
  return `Usage: ${usage}\n\n${description}\n\nOptions:\n${rows.map(([l, r]) => l.padEnd(width) + r).join('\n')}\n`;
}

/** Parses argv against the spec; unknown flags and stray positionals are UsageErrors. */
export function parseFlags<S extends Record<string, FlagSpec>>(argv: string[], spec: S): Flags<S> {
  const options: ParseArgsConfig['options'] = {};
  for (const [name, f] of Object.entries(spec)) {
    options[name] = { type: f.type, ...(f.short ? { short: f.short } : {}), ...(f.default !== undefined ? { default: f.default } : {}) } as never;
  }
  try {
    const { values, positionals } = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    return values as Flags<S>;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    const ambiguous = /Option '(--[\w-]+)' argument is ambiguous/.exec((e as Error).message);
    if (ambiguous) throw new UsageError(`${ambiguous[1]} takes a value; for one that starts with '-', write ${ambiguous[1]}=VALUE`);
    // node's messages are long and mention parseArgs; keep the part a user needs
    const msg = (e as Error).message.split('. ')[0].replace(/^Unknown option/, 'unknown flag');
    throw new UsageError(msg);
  }
}

/** Parses a number flag; throws a UsageError naming the flag unless it is within [min, max]. */
export function num(name: string, raw: string | undefined, opts: { int?: boolean; min?: number; max?: number; gt?: number } = {}): number {
  const v = Number(raw);
  const bad = (why: string) => new UsageError(`--${name} ${why}, got '${raw}'`);
  if (raw === undefined || raw.trim() === '' || !Number.isFinite(v)) throw bad('must be a number');
  if (opts.int && !Number.isInteger(v)) throw bad('must be an integer');
  if (opts.min !== undefined && v < opts.min) throw bad(`must be >= ${opts.min}`);
  if (opts.gt !== undefined && v <= opts.gt) throw bad(`must be > ${opts.gt}`);
  if (opts.max !== undefined && v > opts.max) throw bad(`must be <= ${opts.max}`);
  return v;
}

/** Parses a flag that must be one of `choices`. */
export function choice<T extends string>(name: string, raw: string | undefined, choices: readonly T[]): T {
  if (raw === undefined || !choices.includes(raw as T)) {
    throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got '${raw}'`);
  }
  return raw as T;
}

/**
 * Runs a command's main: prints --help when asked, turns errors into one line on stderr
 * (`<cmd>: error: ...`) and a non-zero exit code (2 for usage and input errors, 1 otherwise).
 */
export async function runCli(name: string, help: string, argv: string[], main: (argv: string[]) => Promise<void> | void): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(help);
    return;
  }
  try {
    await main(argv);
  } catch (e) {
    const err = e as Error;
    process.stderr.write(`${name}: error: ${err.message}\n`);
    if (process.env.IRUKA_DEBUG) process.stderr.write(`${err.stack}\n`);
    if (e instanceof UsageError) process.stderr.write(`Try '${name} --help'.\n`);
    process.exitCode = e instanceof UsageError || e instanceof InputError ? 2 : 1;
  }
}

/** Whether the module at `url` is the program node was asked to run (an npm `bin` is a symlink: compare real paths). */
export function isMain(url: string): boolean {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(url));
  } catch {
    return false;
  }
}
