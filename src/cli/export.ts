#!/usr/bin/env node
// `npm run export` / `iruka-export`: writes a trained model (a checkpoint or weights file, which
// carries its spec) as an ONNX file for inference in ONNX Runtime and other ONNX tools.
import { writeFileSync, renameSync, rmSync, existsSync, readFileSync } from 'node:fs';
import { loadCoreSync, type Core } from '../core/load.js';
import { loadModel } from '../io/model_file.js';
import { readSafetensors } from '../io/safetensors.js';
import { applyWeights } from '../io/weights.js';
import { Model, parseModelSpec, type ModelSpec } from '../nn/spec.js';
import { shippedSpec } from '../nn/zoo.js';
import { BoundModel } from '../train/model.js';
import { InputError } from '../errors.js';
import { exportOnnx, ONNX_OPSET } from '../io/onnx.js';
import { helpText, parseFlags, runCli, isMain, UsageError } from './common.js';

export const FLAGS = {
  onnx: { type: 'boolean', help: 'write ONNX (opset 13; the only format so far, and required so that a later one is never a surprise)' },
  weights: { type: 'string', arg: 'CKPT', help: 'a checkpoint or weights file (safetensors with the spec inside, from train, train:mnist or saveModel)' },
  out: { type: 'string', arg: 'FILE', help: 'the file to write, e.g. model.onnx' },
  model: { type: 'string', arg: 'SPEC', help: "the spec, for weights that do not carry one (a PyTorch state_dict saved as safetensors): a shipped model's name or a .json file" },
} as const;

export const HELP = helpText(
  'npm run export -- --onnx --weights CKPT --out model.onnx   (or: iruka-export ...)',
  'Exports a trained model as ONNX: input "input" [N, ...the spec\'s input], output "output"\n' +
    '(logits) [N, ...], any batch size N. Inference semantics: dropout passes through, BatchNorm\n' +
    'uses its running statistics. Example:\n' +
    '  npm run export -- --onnx --weights runs/mnist/checkpoint.safetensors --out lenet.onnx\n' +
    '  npm run export -- --onnx --weights state_dict.safetensors --model resnet_mnist --out resnet.onnx',
  FLAGS,
);

export function main(argv: string[]): void {
  const f = parseFlags(argv, FLAGS);
  if (!f.onnx) throw new UsageError('say which format to write: --onnx (the only one so far)');
  if (!f.weights) throw new UsageError('--weights CKPT is required');
  if (!f.out) throw new UsageError('--out FILE is required');
  const core = loadCoreSync();
  const { model, spec } = f.model === undefined ? loadModel(f.weights, core) : withSpec(f.weights, readSpec(f.model), core);
  try {
    const bytes = exportOnnx(model, spec);
    // a failed write never leaves a half-written file under the name asked for
    const tmp = `${f.out}.tmp-${process.pid}`;
    try {
      writeFileSync(tmp, bytes);
      renameSync(tmp, f.out);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw new Error(`cannot write ${f.out}: ${(e as Error).message}`);
    }
    const params = model.params.entries.reduce((n, e) => n + (e.kind === 'int' ? 0 : e.size), 0);
    console.log(`wrote ${f.out} (${bytes.length.toLocaleString('en-US')} bytes, ONNX opset ${ONNX_OPSET}, model ${spec.name ?? '(unnamed)'}, ${params.toLocaleString('en-US')} parameters and buffers)`);
  } finally {
    model.free();
  }
}

function readSpec(arg: string): ModelSpec {
  if (!arg.endsWith('.json') && !existsSync(arg)) return shippedSpec(arg);
  if (!existsSync(arg)) throw new UsageError(`--model: no such file '${arg}'`);
  try {
    return parseModelSpec(JSON.parse(readFileSync(arg, 'utf8')));
  } catch (e) {
    throw new InputError(`--model ${arg}: ${(e as Error).message}`);
  }
}

/** The model `spec` describes, with the weights of `path` by name (a spec inside the file is ignored). */
function withSpec(path: string, spec: ModelSpec, core: Core): { model: BoundModel; spec: ModelSpec } {
  const { tensors } = readSafetensors(path);
  const model = new BoundModel(core, new Model(spec), spec.input);
  try {
    applyWeights(tensors, model.params, path);
  } catch (e) {
    model.free();
    throw new InputError((e as Error).message);
  }
  return { model, spec };
}

if (isMain(import.meta.url)) {
  await runCli('export', HELP, process.argv.slice(2), (argv) => main(argv));
}
