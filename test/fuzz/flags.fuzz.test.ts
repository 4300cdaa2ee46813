// Property-based tests of the command-line flag parser: random argv arrays either parse into
// values of the spec's types or throw a one-line UsageError; well-formed argv parse as a
// simple model says (the last occurrence wins, defaults fill the rest); num and choice accept
// exactly the values they document and name the flag otherwise.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { choice, num, parseFlags, UsageError, type FlagSpec } from '../../src/cli/common.js';
import { FLAGS as TRAIN_FLAGS } from '../../src/cli/train_mnist.js';
import { budget, FUZZ_TIMEOUT_MS, loadsOrRefuses } from './budget.js';

const SPEC = {
  epochs: { type: 'string', short: 'e', default: '15', help: '' },
  out: { type: 'string', short: 'o', help: '' },
  'data-dir': { type: 'string', help: '' },
  verbose: { type: 'boolean', short: 'v', help: '' },
  plots: { type: 'boolean', default: false, help: '' },
  nesterov: { type: 'boolean', default: true, help: '' },
} satisfies Record<string, FlagSpec>;

const SPECS: Record<string, FlagSpec>[] = [SPEC, TRAIN_FLAGS];

const junk = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.string({ maxLength: 6, unit: 'binary' }),
  fc.constantFrom('-', '--', '---', '--=', '-=', '=', '-1', '--1', '-0.5', '--no-', '--__proto__', '--constructor', '-h', '--help', '-ev', '-ve', '-vv', '--x. y', 'a\nb', '--a\nb', ''),
);

/** Tokens built from a spec's own flags, in every form, mixed with junk. */
function token(spec: Record<string, FlagSpec>): fc.Arbitrary<string[]> {
  const names = Object.keys(spec);
  const shorts = names.map((n) => spec[n].short).filter((s): s is string => s !== undefined);
  const value = fc.oneof(fc.string({ maxLength: 6 }), junk);
  return fc.oneof(
    fc.constantFrom(...names).map((n) => [`--${n}`]),
    fc.tuple(fc.constantFrom(...names), value).map(([n, v]) => [`--${n}`, v]),
    fc.tuple(fc.constantFrom(...names), value).map(([n, v]) => [`--${n}=${v}`]),
    ...(shorts.length ? [fc.tuple(fc.constantFrom(...shorts), value).map(([s, v]) => [`-${s}`, v]), fc.tuple(fc.constantFrom(...shorts), value).map(([s, v]) => [`-${s}${v}`])] : []),
    junk.map((j) => [j]),
  );
}

const argvFor = (spec: Record<string, FlagSpec>) => fc.array(token(spec), { maxLength: 6 }).map((ts) => ts.flat());

function expectTyped(values: Record<string, unknown>, spec: Record<string, FlagSpec>): void {
  for (const [k, v] of Object.entries(values)) {
    expect(Object.hasOwn(spec, k), `unexpected key ${k}`).toBe(true);
    expect(typeof v).toBe(spec[k].type);
  }
  for (const [k, f] of Object.entries(spec)) if (f.default !== undefined) expect(values[k] !== undefined).toBe(true);
}

/** A well-formed occurrence of one flag, with the value the model expects it to set. */
type Use = { name: string; argv: string[]; value: string | boolean };

function wellFormedUse(spec: Record<string, FlagSpec>): fc.Arbitrary<Use> {
  const plainValue = fc.string({ maxLength: 6 }).filter((v) => !v.startsWith('-'));
  return fc.constantFrom(...Object.keys(spec)).chain((name): fc.Arbitrary<Use> => {
    const f = spec[name];
    if (f.type === 'boolean') {
      const forms = [[`--${name}`], ...(f.short ? [[`-${f.short}`]] : [])];
      return fc.constantFrom(...forms).map((argv) => ({ name, argv, value: true }));
    }
    const forms: fc.Arbitrary<Use>[] = [
      plainValue.map((v) => ({ name, argv: [`--${name}`, v], value: v })),
      fc.string({ maxLength: 6 }).map((v) => ({ name, argv: [`--${name}=${v}`], value: v })),
    ];
    if (f.short) {
      forms.push(plainValue.map((v) => ({ name, argv: [`-${f.short}`, v], value: v })));
      forms.push(fc.string({ minLength: 1, maxLength: 6 }).map((v) => ({ name, argv: [`-${f.short}${v}`], value: v })));
    }
    return fc.oneof(...forms);
  });
}

describe('flag parser under fuzzing', { timeout: FUZZ_TIMEOUT_MS }, () => {
  for (const [i, spec] of SPECS.entries()) {
    it(`random argv (spec ${i}): typed values or a one-line UsageError`, () => {
      fc.assert(
        fc.property(argvFor(spec), (argv) => {
          const values = loadsOrRefuses(() => parseFlags(argv, spec), UsageError);
          if (values) return expectTyped(values as Record<string, unknown>, spec);
          try {
            parseFlags(argv, spec);
          } catch (e) {
            const msg = (e as Error).message;
            if (!argv.some((a) => /[\n\r]/.test(a))) expect(msg, 'one line').not.toMatch(/[\n\r]/);
            expect(msg).not.toMatch(/parseArgs|To specify|Did you forget/);
          }
        }),
        budget(0.25),
      );
    });

    it(`well-formed argv (spec ${i}) parse as the model says: last occurrence wins, defaults fill the rest`, () => {
      fc.assert(
        fc.property(fc.array(wellFormedUse(spec), { maxLength: 6 }), fc.boolean(), (uses, dashdash) => {
          const argv = [...uses.flatMap((u) => u.argv), ...(dashdash ? ['--'] : [])];
          const want: Record<string, string | boolean> = {};
          for (const [k, f] of Object.entries(spec)) if (f.default !== undefined) want[k] = f.default;
          for (const u of uses) want[u.name] = u.value;
          expect({ ...parseFlags(argv, spec) }).toEqual(want);
        }),
        budget(0.1),
      );
    });
  }

  it('errors name the offending token: unknown flags, stray arguments, values that look like flags, missing values', () => {
    const flagName = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/).filter((n) => !Object.hasOwn(SPEC, n));
    fc.assert(
      fc.property(
        fc.oneof(
          flagName.map((n) => ({ argv: [`--${n}`], msg: `unknown flag '--${n}'` })),
          fc.stringMatching(/^[a-z0-9][^\n]{0,8}$/).map((p) => ({ argv: ['--', `${p}`], msg: `unexpected argument '${p}'` })),
          fc.stringMatching(/^[a-z0-9][^\n]{0,8}$/).map((p) => ({ argv: ['-v', p], msg: `unexpected argument '${p}'` })),
          fc.tuple(fc.constantFrom('--epochs', '-e'), fc.constantFrom('-v', '-1', '--out', '--')).map(([f, v]) => ({
            argv: [f, v],
            msg: "--epochs takes a value; for one that starts with '-', write --epochs=VALUE",
          })),
          fc.constantFrom(['--epochs', '--epochs'], ['-e', '--epochs'], ['--out', '--out'], ['-o', '--out'], ['--data-dir', '--data-dir']).map(([f, long]) => ({ argv: [f], msg: `${long} needs a value` })),
          fc.constantFrom('verbose', 'plots', 'nesterov').chain((n) => fc.string({ maxLength: 4 }).map((v) => ({ argv: [`--${n}=${v}`], msg: `--${n} does not take a value` }))),
        ),
        ({ argv, msg }) => {
          expect(() => parseFlags(argv, SPEC)).toThrow(UsageError);
          expect(() => parseFlags(argv, SPEC)).toThrow(msg);
        },
      ),
      budget(0.1),
    );
  });

  it('num accepts exactly the finite numbers within its bounds and names the flag otherwise', () => {
    const raw = fc.oneof(
      fc.string({ maxLength: 8 }),
      fc.double().map(String),
      fc.integer({ min: -20, max: 20 }).map(String),
      fc.constantFrom('', ' ', '  7 ', 'NaN', 'Infinity', '-Infinity', '1e3', '1e400', '-0', '0.5', '1_000', '0x10', '1.0', '+3', '.5', '5.'),
      fc.constant(undefined),
    );
    const bound = fc.option(fc.integer({ min: -10, max: 10 }), { nil: undefined });
    fc.assert(
      fc.property(raw, fc.record({ int: fc.boolean(), min: bound, max: bound, gt: bound }), (r, opts) => {
        const v = loadsOrRefuses(() => num('rate', r, opts), UsageError, '--rate ');
        const n = Number(r);
        const ok =
          r !== undefined && r.trim() !== '' && Number.isFinite(n) && !/^\s*[+-]?0[box]/i.test(r) &&
          (!opts.int || Number.isInteger(n)) && (opts.min === undefined || n >= opts.min) && (opts.gt === undefined || n > opts.gt) && (opts.max === undefined || n <= opts.max);
        expect(v !== undefined).toBe(ok);
        if (v !== undefined) expect(v).toBe(n);
        else expect(() => num('rate', r, opts)).toThrow(`got '${r}'`);
      }),
      budget(0.15),
    );
  });

  it('choice accepts exactly its choices', () => {
    const choices = ['sgd', 'adam', 'adamw'] as const;
    fc.assert(
      fc.property(fc.oneof(fc.constantFrom(...choices, 'SGD', 'ad', 'adam ', '', 'toString', '__proto__'), fc.string({ maxLength: 6 }), fc.constant(undefined)), (r) => {
        const v = loadsOrRefuses(() => choice('optimizer', r, choices), UsageError, '--optimizer must be one of sgd, adam, adamw, got ');
        expect(v !== undefined).toBe((choices as readonly (string | undefined)[]).includes(r));
        if (v !== undefined) expect(v).toBe(r);
      }),
      budget(0.05),
    );
  });
});
