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

/** Parses argv against the spec; unknown flags, stray positionals and misused flags are one-line UsageErrors. */
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
    throw new UsageError(usageMessage((e as Error).message, spec));
  }
}

/**
 * Rewords node's parseArgs errors (several sentences over several lines, naming the option as
 * `-e, --epochs <value>` or only `-e`) as one short line that names the long flag.
 */
function usageMessage(message: string, spec: Record<string, FlagSpec>): string {
  const long = (flag: string) => {
    const short = /^-([^-])$/.exec(flag)?.[1];
    const name = short === undefined ? undefined : Object.keys(spec).find((n) => spec[n].short === short);
    return name === undefined ? flag : `--${name}`;
  };
  const option = /^Option '(?:-[^-], )?(-[^' ]*)(?: <value>)?' (.*)$/m.exec(message);
  if (option) {
    const flag = long(option[1]);
    if (option[2].startsWith('argument is ambiguous')) return `${flag} takes a value; for one that starts with '-', write ${flag}=VALUE`;
    if (option[2].startsWith('argument missing')) return `${flag} needs a value`;
    if (option[2].startsWith('does not take an argument')) return `${flag} does not take a value`;
  }
  const unknown = /^Unknown option '([^]*)'\. To specify a positional argument/.exec(message);
  if (unknown) return `unknown flag '${unknown[1]}'`;
  // a message this code does not know (a newer node): its first sentence
  return message.split('\n')[0].split('. ')[0];
}

const DECIMAL = /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i;

/**
 * Parses a number flag written in decimal (1, -0.5, 1e-3; not 0x10 or Infinity); throws a
 * UsageError naming the flag unless it is within [min, max], above `gt`, and whole when `int`;
 * `why`, when given, follows a bound's message with the reason for the bound.
 */
export function num(name: string, raw: string | undefined, opts: { int?: boolean; min?: number; max?: number; gt?: number; why?: string } = {}): number {
  const v = Number(raw);
  // `why` says what the bounds protect, after the value (so the message still starts with the rule)
  const bad = (rule: string) => new UsageError(`--${name} ${rule}, got '${raw}'${opts.why && rule !== 'must be a number' ? `; ${opts.why}` : ''}`);
  if (raw === undefined || !DECIMAL.test(raw) || !Number.isFinite(v)) throw bad('must be a number');
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
