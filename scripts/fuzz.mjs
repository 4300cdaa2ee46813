// `npm run fuzz`: the fuzz properties of test/fuzz/ run longer than in CI, from a fresh random
// seed printed first so that a failure replays: IRUKA_FUZZ_SEED=<seed> npm run fuzz.
// IRUKA_FUZZ_RUNS sets the cases per parser (default here 200,000; CI's default is 10,000).
// Extra arguments go to vitest, e.g. `npm run fuzz -- test/fuzz/idx.fuzz.test.ts --maxWorkers=1`.
import { spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const seed = process.env.IRUKA_FUZZ_SEED || String(randomInt(2 ** 31 - 1));
const runs = process.env.IRUKA_FUZZ_RUNS || '200000';
const args = process.argv.slice(2);
const files = args.filter((a) => !a.startsWith('-'));
process.stdout.write(`fuzz: ${runs} cases per parser, seed ${seed}\nfuzz: replay with IRUKA_FUZZ_SEED=${seed} IRUKA_FUZZ_RUNS=${runs} npm run fuzz${args.length ? ` -- ${args.join(' ')}` : ''}\n`);
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
const r = spawnSync(process.execPath, [vitest, 'run', ...(files.length ? [] : ['test/fuzz/']), ...args], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, IRUKA_FUZZ_SEED: seed, IRUKA_FUZZ_RUNS: runs },
});
if (r.status !== 0) process.stdout.write(`fuzz: FAILED; replay with IRUKA_FUZZ_SEED=${seed} IRUKA_FUZZ_RUNS=${runs}\n`);
process.exit(r.status ?? 1);
