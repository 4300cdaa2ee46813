#!/usr/bin/env node
// `npm run render:curves` / `iruka-render-curves`: loss and accuracy per epoch from a run's
// metrics.jsonl, as a PNG of two charts. Needs node-canvas (an optional dependency).
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { helpText, parseFlags, runCli, isMain, InputError, type FlagSpec } from './common.js';
import { parseMetricsJsonl, renderCurves, type CurvesInfo } from '../render/curves.js';

export const DEFAULT_METRICS = 'runs/mnist/metrics.jsonl';

export const FLAGS = {
  metrics: { type: 'string', arg: 'FILE', default: DEFAULT_METRICS, help: 'metrics.jsonl written by train:mnist (one JSON object per epoch)' },
  out: { type: 'string', arg: 'FILE', help: 'PNG to write (default: curves.png next to the metrics file)' },
  title: { type: 'string', arg: 'TEXT', help: 'title above the charts (default: epochs and final test accuracy)' },
  help: { type: 'boolean', short: 'h', help: 'show this help' },
} satisfies Record<string, FlagSpec>;

export const HELP = helpText(
  'npm run render:curves -- [options]   (or: iruka-render-curves [options])',
  'Draws training and test loss and accuracy per epoch from metrics.jsonl as one PNG (two charts\n' +
    'with axes, ticks and labels). Lines without "epoch" are skipped; if several runs were appended\n' +
    'to the file, the last one is drawn. Needs node-canvas.',
  FLAGS,
);

export async function run(argv: string[], log: (line: string) => void = (l) => process.stdout.write(l + '\n')): Promise<CurvesInfo> {
  const f = parseFlags(argv, FLAGS);
  const path = f.metrics ?? DEFAULT_METRICS;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a directory' : err.message;
    const hint = path === DEFAULT_METRICS ? ' (train first with `npm run train:mnist`, or pass --metrics FILE)' : '';
    throw new InputError(`${path}: cannot read metrics: ${why}${hint}`);
  }
  let metrics;
  try {
    metrics = parseMetricsJsonl(text, path);
  } catch (e) {
    throw new InputError((e as Error).message);
  }
  const out = f.out ?? join(dirname(path), 'curves.png');
  const info = await renderCurves(metrics, out, { title: f.title });
  log(`${resolve(out)}: ${metrics.length} epoch${metrics.length === 1 ? '' : 's'}, ${info.width}x${info.height} px`);
  return info;
}

/** The command: --help, errors as one line and an exit code (see runCli). */
export function main(argv: string[]): Promise<void> {
  return runCli('render:curves', HELP, argv, async (a) => {
    await run(a);
  });
}

if (isMain(import.meta.url)) await main(process.argv.slice(2));
