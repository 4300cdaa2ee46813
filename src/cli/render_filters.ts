#!/usr/bin/env node
// `npm run render:filters` / `iruka-render-filters`: a PNG sheet of a conv layer's learned
// kernels, read from a safetensors checkpoint. Needs node-canvas (an optional dependency).
import { dirname, join, resolve } from 'node:path';
import { helpText, parseFlags, runCli, isMain, num, choice, UsageError, InputError, type FlagSpec } from './common.js';
import { readSafetensors } from '../io/safetensors.js';
import {
  renderFilterSheet, filterWeightFromCheckpoint, checkpointLayers, SCALE_MODES, COLOR_MAPS,
  type ChannelView, type FilterSheetInfo,
} from '../render/filters.js';

export const DEFAULT_WEIGHTS = 'runs/mnist/checkpoint.safetensors';

export const FLAGS = {
  weights: { type: 'string', arg: 'FILE', default: DEFAULT_WEIGHTS, help: 'the checkpoint (safetensors) to read' },
  layer: { type: 'string', arg: 'NAME', default: 'conv1', help: 'layer to draw: conv1, conv2, ... (tensor NAME.weight); a dense layer draws each weight row as an image of the input' },
  count: { type: 'string', arg: 'N|all', default: '20', help: 'draw the first N output kernels (all, if the layer has fewer)' },
  cols: { type: 'string', arg: 'N', default: '5', help: 'grid columns (a mosaic has one column per input channel)' },
  cell: { type: 'string', arg: 'PX', help: 'pixels per weight, nearest-neighbour upscale (default: 12, or 6 in a mosaic)' },
  scale: { type: 'string', arg: 'MODE', default: 'kernel', help: 'kernel (each min-max scaled on its own), layer (one scale for all), filter (one per output kernel) or column (each column of each kernel min-max scaled, as scikit-learn\'s MinMaxScaler: the study note\'s figures)' },
  cmap: { type: 'string', arg: 'MAP', default: 'grey', help: 'grey (black low, white high) or diverging (blue < 0 < red, ±max|w|)' },
  channel: { type: 'string', arg: 'all|mean|K', default: 'all', help: 'with several input channels: all (mosaic: row = kernel, column = input), their mean, or channel K' },
  out: { type: 'string', arg: 'FILE', help: 'PNG to write (default: filters-<layer>.png next to the checkpoint)' },
  list: { type: 'boolean', help: 'list the checkpoint\'s layers and their shapes, draw nothing' },
  help: { type: 'boolean', short: 'h', help: 'show this help' },
} satisfies Record<string, FlagSpec>;

export const HELP = helpText(
  'npm run render:filters -- [options]   (or: iruka-render-filters [options])',
  'Writes a PNG sheet of a conv layer\'s learned kernels from a checkpoint: a grid of kernels, each\n' +
    'upscaled by nearest neighbour, separated by grid lines, titled with the layer, its shape and the\n' +
    'kernel count. For conv2 ([50, 20, 5, 5]) the default is a mosaic of the first 20 kernels x 20\n' +
    'input channels; --channel mean or --channel K draws one tile per kernel instead.\n' +
    'Needs node-canvas. Examples:\n' +
    '  npm run render:filters -- --layer conv1\n' +
    '  npm run render:filters -- --layer conv2 --channel mean --count all --cmap diverging',
  FLAGS,
);

/** Parses argv, reads the checkpoint, writes the sheet; returns its geometry (or null for --list). */
export async function run(argv: string[], log: (line: string) => void = (l) => process.stdout.write(l + '\n')): Promise<FilterSheetInfo | null> {
  const f = parseFlags(argv, FLAGS);
  const weights = f.weights ?? DEFAULT_WEIGHTS;
  const layer = f.layer ?? 'conv1';
  if (!/^[\w.-]+$/.test(layer)) throw new UsageError(`--layer must be a layer name like conv1, got '${layer}'`);
  let count = f.count === 'all' ? undefined : num('count', f.count, { int: true, min: 1 });
  const cols = num('cols', f.cols, { int: true, min: 1, max: 1000 });
  const cell = f.cell === undefined ? undefined : num('cell', f.cell, { int: true, min: 1, max: 256 });
  const scale = choice('scale', f.scale, SCALE_MODES);
  const cmap = choice('cmap', f.cmap, COLOR_MAPS);
  const channel: ChannelView =
    f.channel === 'all' || f.channel === 'mean' ? f.channel : num('channel', f.channel, { int: true, min: 0 });

  let tensors, metadata;
  try {
    ({ tensors, metadata } = readSafetensors(weights));
  } catch (e) {
    const hint = weights === DEFAULT_WEIGHTS ? ' (train first with `npm run train:mnist`, or pass --weights FILE)' : '';
    throw new InputError((e as Error).message + hint);
  }
  if (f.list) {
    for (const l of checkpointLayers(tensors)) log(`${l.layer.padEnd(12)} [${l.shape.join(', ')}]${l.conv ? '  conv' : ''}`);
    return null;
  }
  let w;
  try {
    w = filterWeightFromCheckpoint(tensors, layer, weights, sampleShapeOf(metadata));
  } catch (e) {
    throw new InputError((e as Error).message);
  }
  const [nOut, nIn] = w.shape;
  // the default 20 means "up to 20"; only an explicit --count above the layer's size is an error
  const countGiven = argv.some((x) => x === '--count' || x.startsWith('--count='));
  if (count !== undefined && count > nOut && !countGiven) count = nOut;
  if (count !== undefined && count > nOut) throw new UsageError(`--count ${count} is more than the ${nOut} kernels of ${layer}`);
  if (typeof channel === 'number' && channel >= nIn) {
    throw new UsageError(`--channel ${channel} is out of range: ${layer} has ${nIn} input channel${nIn === 1 ? '' : 's'} (0..${nIn - 1})`);
  }
  const out = f.out ?? join(dirname(weights), `filters-${layer}.png`);
  const dense = tensors.get(w.name)?.shape.length === 2;
  let info: FilterSheetInfo;
  try {
    info = await renderFilterSheet(w, out, {
      count: count ?? (f.count === 'all' ? nOut : Math.min(nOut, 20)), cols, cell: cell ?? (dense ? 3 : undefined), scale, cmap, channel,
    });
  } catch (e) {
    // the plan's refusals (a sheet too large) are about the flags; canvas and disk errors are not
    const msg = (e as Error).message;
    if (msg.startsWith('filter sheet: ')) throw new UsageError(msg.slice('filter sheet: '.length));
    throw e;
  }
  const p = info.plan;
  log(`${resolve(out)}: ${p.count} of ${nOut} kernels of ${w.name} [${w.shape.join(', ')}]` +
    `${p.mode === 'mosaic' ? ` x ${nIn} input channels (mosaic)` : p.channel === 'mean' ? ', mean over input channels' : nIn > 1 ? `, input channel ${p.channel}` : ''}` +
    `, ${info.width}x${info.height} px`);
  return info;
}

/** The data's sample shape from a checkpoint's metadata (undefined when absent or unreadable). */
function sampleShapeOf(metadata: Record<string, string>): number[] | undefined {
  try {
    const s = JSON.parse(metadata.data ?? 'null')?.sampleShape;
    return Array.isArray(s) && s.every((d) => Number.isInteger(d)) ? s : undefined;
  } catch {
    return undefined;
  }
}

/** The command: --help, errors as one line and an exit code (see runCli). */
export function main(argv: string[]): Promise<void> {
  return runCli('render:filters', HELP, argv, async (a) => {
    await run(a);
  });
}

if (isMain(import.meta.url)) await main(process.argv.slice(2));
