#!/usr/bin/env node
// `npm run tune` / `iruka-tune`: measures which kernel build flavor 'auto' should load on this
// machine (the relaxed-SIMD build only where clearly faster), caches the decision and prints it.
import './relaxed_simd.js';
import { packagedBuilds } from '../core/load.js';
import { RELAXED_MIN_SPEEDUP, buildCacheFile, cachedBuild, tuneBuild, type BuildChoice } from '../core/choose_build.js';
import { helpText, parseFlags, num, runCli, isMain } from './common.js';

export const FLAGS = {
  rounds: { type: 'string', arg: 'N', default: '30', help: 'counted rounds; each times one window of each build, side by side' },
  'window-ms': { type: 'string', arg: 'MS', default: '10', help: 'milliseconds per window (its fastest call counts)' },
  show: { type: 'boolean', help: 'print the cached decision without measuring' },
  json: { type: 'boolean', help: 'print the decision as JSON' },
} as const;

export const HELP = helpText(
  'npm run tune -- [options]   (or: iruka-tune [options])',
  "Measures the plain and the relaxed-SIMD kernel builds on this machine (the LeNet's conv2 and fc1\n" +
    'kernels at a chunk of 8, alternating short windows, the median of the pairwise ratios) and caches\n' +
    `which one flavor 'auto' loads: relaxed only if clearly faster (median at least ${RELAXED_MIN_SPEEDUP}x, three rounds\n` +
    'in four in its favour), else the plain build. Training measures this once per machine by\n' +
    'itself; run this to measure again (after a noisy first measurement, say). The cache is\n' +
    `${buildCacheFile() ?? '$XDG_CACHE_HOME/iruka/build-choice.json'} (keyed by CPU model, Node version and the builds' hash).\n` +
    "IRUKA_TUNE=off makes 'auto' skip the measurement (relaxed wherever supported); IRUKA_FLAVOR or\n" +
    '--flavor names a build outright. The relaxed build gives different bits than the plain one.',
  FLAGS,
);

function print(c: BuildChoice, asJson: boolean): void {
  if (asJson) {
    process.stdout.write(JSON.stringify(c, null, 2) + '\n');
    return;
  }
  const m = c.measurement;
  if (m) {
    const lo = Math.min(...m.ratios);
    const hi = Math.max(...m.ratios);
    console.log(`plain build ${m.msPlain.toFixed(2)} ms, relaxed build ${m.msRelaxed.toFixed(2)} ms per workload (medians of ${m.ratios.length} windows each)`);
    console.log(`relaxed / plain speed: ${m.speedup.toFixed(3)}x (median of the pairwise ratios; range ${lo.toFixed(3)}-${hi.toFixed(3)})`);
  }
  console.log(`flavor 'auto' loads: ${c.flavor} (${c.reason})`);
}

export async function main(argv: string[]): Promise<void> {
  const f = parseFlags(argv, FLAGS);
  const rounds = num('rounds', f.rounds, { int: true, min: 1 });
  const windowMs = num('window-ms', f['window-ms'], { gt: 0 });
  if (f.show) {
    const c = cachedBuild(packagedBuilds());
    if (!c) console.log(`no cached decision for this machine in ${buildCacheFile()}; flavor 'auto' measures on its first use (or run npm run tune)`);
    else print(c, f.json);
    return;
  }
  print(tuneBuild(packagedBuilds(), { rounds, windowMs }), f.json);
}

if (isMain(import.meta.url)) {
  await runCli('tune', HELP, process.argv.slice(2), main);
}
