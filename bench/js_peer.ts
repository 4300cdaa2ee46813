// The JavaScript peers of `npm run bench:compare`, each in a process of its own (ONNX Runtime
// Web fixes its thread count once per process): LeNet inference in onnxruntime-web (the model
// exported by our exporter) or in TensorFlow.js's wasm backend (the same network built from tfjs
// ops with our weights). Same protocol as bench/torch_peer.py: prints "ready <what> maxdiff=<d>"
// (d: the largest difference from our logits on the reference batch, relative to their largest
// entry), then answers "infer BATCH THREADS SECONDS" with images/s, one line each.
//   node dist/bench/js_peer.js ort THREADS MODEL.onnx REF.safetensors
//   node dist/bench/js_peer.js tfjs 1 - REF.safetensors
// REF holds the LeNet's weights under PyTorch's names, a batch `ref_x` and our `ref_logits`.
import { createInterface } from 'node:readline';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { readFileSync } from 'node:fs';
import { readSafetensors } from '../src/io/safetensors.js';

type Forward = (x: Float32Array, n: number) => Promise<Float32Array>;

async function ortPeer(threads: number, modelPath: string): Promise<{ what: string; forward: Forward }> {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = threads;
  const session = await ort.InferenceSession.create(readFileSync(modelPath), { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const forward: Forward = async (x, n) => {
    const out = await session.run({ input: new ort.Tensor('float32', x, [n, 1, 28, 28]) });
    return out.output.data as Float32Array;
  };
  return { what: `onnxruntime-web ${ort.env.versions.web ?? '?'} wasm, ${threads} thread(s)`, forward };
}

/** Our [out, in, kh, kw] filters as tfjs's [kh, kw, in, out]. */
function hwio(w: Float32Array, [o, i, kh, kw]: number[]): Float32Array {
  const out = new Float32Array(w.length);
  for (let a = 0; a < o; a++) for (let b = 0; b < i; b++) for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) out[((y * kw + x) * i + b) * o + a] = w[((a * i + b) * kh + y) * kw + x];
  return out;
}

/** fc1's [500, 1250 in C,H,W order] as [1250 in H,W,C order, 500] (tfjs flattens NHWC). */
function fc1Hwc(w: Float32Array, units: number, c: number, h: number, wd: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let u = 0; u < units; u++) for (let ch = 0; ch < c; ch++) for (let y = 0; y < h; y++) for (let x = 0; x < wd; x++) out[((y * wd + x) * c + ch) * units + u] = w[u * c * h * wd + (ch * h + y) * wd + x];
  return out;
}

function transpose(w: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = w[r * cols + c];
  return out;
}

async function tfjsPeer(weights: Map<string, Float32Array>): Promise<{ what: string; forward: Forward }> {
  const tf = await import('@tensorflow/tfjs-core');
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const require = createRequire(import.meta.url);
  wasm.setWasmPaths(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')) + '/');
  if (!(await tf.setBackend('wasm'))) throw new Error('the tfjs wasm backend did not initialise');
  await tf.ready();
  const w = (k: string) => weights.get(k)!;
  const c1 = tf.tensor4d(hwio(w('conv1.weight'), [20, 1, 5, 5]), [5, 5, 1, 20]);
  const c2 = tf.tensor4d(hwio(w('conv2.weight'), [50, 20, 5, 5]), [5, 5, 20, 50]);
  const f1 = tf.tensor2d(fc1Hwc(w('fc1.weight'), 500, 50, 5, 5), [1250, 500]);
  const f2 = tf.tensor2d(transpose(w('fc2.weight'), 10, 500), [500, 10]);
  const [b1, b2, b3, b4] = ['conv1.bias', 'conv2.bias', 'fc1.bias', 'fc2.bias'].map((k) => tf.tensor1d(w(k)));
  const forward: Forward = async (x, n) =>
    tf.tidy(() => {
      // one channel: NCHW and NHWC are the same bytes
      let h: import('@tensorflow/tfjs-core').Tensor4D = tf.tensor4d(x, [n, 28, 28, 1]);
      h = tf.maxPool(tf.fused.conv2d({ x: h, filter: c1, strides: 1, pad: 'same', bias: b1, activation: 'relu' }), 2, 2, 'valid');
      h = tf.maxPool(tf.fused.conv2d({ x: h, filter: c2, strides: 1, pad: 'valid', bias: b2, activation: 'relu' }), 2, 2, 'valid');
      const flat = tf.reshape(h, [n, 1250]) as import('@tensorflow/tfjs-core').Tensor2D;
      const hidden = tf.fused.matMul({ a: flat, b: f1, bias: b3, activation: 'relu' });
      return tf.fused.matMul({ a: hidden, b: f2, bias: b4 }).dataSync() as Float32Array;
    });
  return { what: `tfjs-backend-wasm ${wasm.version_wasm}, 1 thread`, forward };
}

function maxRelDiff(a: Float32Array, b: Float32Array): number {
  let max = 0;
  let diff = 0;
  for (let i = 0; i < b.length; i++) {
    max = Math.max(max, Math.abs(b[i]));
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
  }
  return diff / max;
}

async function main() {
  const [engine, threadsArg, modelPath, refPath] = process.argv.slice(2);
  const threads = Number(threadsArg);
  const ref = readSafetensors(refPath).tensors;
  const f32 = (k: string) => ref.get(k)!.data as Float32Array;
  const weights = new Map([...ref.keys()].map((k) => [k, f32(k)]));
  const peer = engine === 'ort' ? await ortPeer(threads, modelPath) : engine === 'tfjs' ? await tfjsPeer(weights) : null;
  if (!peer) throw new Error(`unknown engine '${engine}'`);
  const refX = f32('ref_x');
  const n = ref.get('ref_x')!.shape[0];
  const diff = maxRelDiff(await peer.forward(refX, n), f32('ref_logits'));
  console.log(`ready ${peer.what} maxdiff=${diff.toExponential(2)}`);
  const inputs = new Map<number, Float32Array>();
  for await (const line of createInterface({ input: process.stdin })) {
    const [mode, b, t, s] = line.trim().split(/\s+/);
    if (mode === 'quit') break;
    try {
      if (mode !== 'infer') throw new Error(`unknown command '${mode}'`);
      if (Number(t) !== threads) throw new Error(`this peer runs ${threads} thread(s), asked for ${t}`);
      const batch = Number(b);
      if (!inputs.has(batch)) inputs.set(batch, Float32Array.from({ length: batch * 784 }, (_, i) => refX[i % refX.length]));
      const x = inputs.get(batch)!;
      await peer.forward(x, batch);
      let images = 0;
      const t0 = performance.now();
      while (performance.now() - t0 < Number(s) * 1000) {
        await peer.forward(x, batch);
        images += batch;
      }
      console.log((images / ((performance.now() - t0) / 1000)).toFixed(3));
    } catch (e) {
      console.log(`error ${(e as Error).message}`.replace(/\n/g, ' '));
    }
  }
  process.exit(0);
}

main().catch((e) => {
  console.log(`error ${(e as Error).message}`.replace(/\n/g, ' '));
  process.exit(1);
});
