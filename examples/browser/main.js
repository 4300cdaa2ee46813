// iruka in a web page: load the WebAssembly core from a URL, predict a sample digit with the
// shipped weights, train any shipped MNIST spec from scratch on Web Workers (the trainer's own
// loop, fitWith, with the Piscina pool's chunks: the checkpoint is the file `npm run train`
// writes, byte for byte), chart the loss and accuracy and the first conv layer's filters live,
// then classify what the user draws, with the workers. Plain ES modules served as files, no bundler.
//
// Query parameters:
//   ?weights=URL   a .safetensors checkpoint with PyTorch names for the opening LeNet (default:
//                  runs/mnist/checkpoint.safetensors if `npm run train:mnist` wrote one, else the
//                  shipped examples/browser/lenet.safetensors, else the random-init test fixture)
//   ?flavor=simd   force the plain SIMD build (default: relaxed SIMD where the browser validates it)
//   ?selftest      classify the bundled MNIST digits, directly and through the drawing path, and
//                  write the result as JSON into <pre id="selftest" data-status="pass|fail|error">
//   ?autotrain     train with the form's settings (model, workers, epochs, ntrain, ntest: query
//                  parameters of those names set them), then draw the ten digits, and write the
//                  run's result (metrics, images/s, the checkpoint's SHA-256) into <pre id="selftest">
//   ?errors        exercise the errors an embedding app meets and write what the page showed
//
// Imports: dist/src/browser.js, the Node-free API (test/examples.test.ts checks the whole graph
// for Node built-ins), and this folder's helpers.
import {
  loadCore, BoundModel, lenet, MNIST_SHAPE, LENET_SPEC, parseModelSpec, buildModel, specKey, fitWith,
  WebGradEngine, WebPredictPool, webWorkersAvailable, mnistFromIdx, decodeSafetensors, applyWeights,
  checkpointInfo, checkTensors, encodeCheckpoint,
} from '../../dist/src/browser.js';
import { loadWeightsFromBytes } from './weights.js'; // safetensors bytes → params, by name
import { toMnist, normalize, correlation, SIDE } from './preprocess.js'; // drawing → 28x28
import { samplePixels, SAMPLE_LABELS } from './samples.js'; // ten MNIST test digits

/** The shipped specs whose input is an MNIST digit (models/*.json). */
const MODELS = ['lenet', 'mlp', 'resnet_mnist'];

const query = new URLSearchParams(location.search);
const root = new URL('../../', import.meta.url); // the repository (or package) root
const coreUrl = new URL('build/', root);
const $ = (id) => document.getElementById(id);
const status = $('status');

let core; // the WebAssembly instance, its memory and allocator
let model; // the model that predicts: the opening LeNet, then the trained one
let spec = LENET_SPEC; // its spec
let predictPool = null; // WebPredictPool over `model` when the page is isolated
let weights; // where the opening weights came from
let lastCheckpoint = null; // bytes of the last trained checkpoint
let training = false;
let pad, padCtx, seenCtx;
let coreMs = 0;
let openingGuess = null; // what the page predicted for the digit it opens with
const samples = samplePixels();
const argmax = (p) => p.reduce((best, v, i) => (v > p[best] ? i : best), 0);
const isolation = webWorkersAvailable();
let pending = false;

try {
  setupForm();
  // The core finds build/iruka.relaxed.wasm or build/iruka.wasm under this folder URL: with
  // flavor 'auto' it fetches the relaxed build where the browser accepts relaxed SIMD and the
  // plain SIMD build otherwise. core.flavor says which one runs.
  const t0 = performance.now();
  core = await loadCore({ url: coreUrl, flavor: query.get('flavor') ?? 'auto' });
  coreMs = performance.now() - t0;

  // The model's parameters live in the core's memory. A page that swaps models calls
  // model.free() on the old one (the GC cannot free WASM memory).
  model = new BoundModel(core, lenet(), MNIST_SHAPE);
  weights = await loadWeights(model);
  status.textContent = `core: ${core.flavor === 'relaxed' ? 'relaxed SIMD' : core.flavor} build, loaded in ${Math.round(coreMs)} ms · weights: ${weights.label} · ${model.params.size.toLocaleString('en-US')} parameters`;
  $('threads').textContent = isolation.ok
    ? `Cross-origin isolated: training and prediction run on Web Workers (up to ${navigator.hardwareConcurrency} here).`
    : `Not cross-origin isolated, so no SharedArrayBuffer: training and prediction run on one thread, this page's (${isolation.why}).`;

  pad = $('pad');
  padCtx = pad.getContext('2d', { willReadFrequently: true });
  seenCtx = $('seen').getContext('2d');
  setupUi();
  // the page opens with a digit on the pad, predicted
  drawSample(7);
  await update();
  openingGuess = $('guess').textContent;
  $('train').disabled = false;
} catch (e) {
  status.textContent = `Could not start: ${e.message}`;
  if (query.has('selftest') || query.has('autotrain') || query.has('errors')) {
    $('selftest').dataset.status = 'error';
    $('selftest').textContent = `selftest error\n${e.stack ?? e}`;
  }
  throw e;
}

// the self-tests start at the end of this module, once every declaration below is initialised

// ---- errors on screen ---------------------------------------------------------------------------

/** Shows an error in the page's list (and returns its text). */
function showError(what, e) {
  const li = document.createElement('li');
  li.textContent = `${what}: ${e?.message ?? e}`;
  $('errors').append(li);
  return li.textContent;
}

// ---- model --------------------------------------------------------------------------------------

/** Fetches ?weights, or the trainer's default output, or the shipped LeNet, or the test fixture; copies them into the model. */
async function loadWeights(m) {
  const given = query.get('weights');
  const candidates = given
    ? [{ url: new URL(given, location.href), label: given }]
    : [
        { url: new URL('runs/mnist/checkpoint.safetensors', root), label: 'runs/mnist/checkpoint.safetensors' },
        { url: new URL('examples/browser/lenet.safetensors', root), label: 'shipped LeNet (the default train:mnist run, 99.52 %)' },
        { url: new URL('test/fixtures/torch/lenet_state.safetensors', root), label: 'test fixture (random init)', random: true },
      ];
  for (const c of candidates) {
    const res = await fetch(c.url);
    if (!res.ok) {
      if (given) throw new Error(`fetching weights ${c.url} failed: HTTP ${res.status}`);
      continue;
    }
    const meta = loadWeightsFromBytes(new Uint8Array(await res.arrayBuffer()), m.params, c.label);
    const random = c.random || c.url.pathname.endsWith('/test/fixtures/torch/lenet_state.safetensors'); // untrained
    if (random) {
      $('warn').textContent =
        'The opening weights are a random initialisation, so predictions are chance: press Train (about half a minute), ' +
        'or train in Node with `npm run train:mnist -- --epochs 1 --limit-train 12000` (it writes runs/mnist/checkpoint.safetensors) and reload.';
    }
    return { ...c, meta, random };
  }
  throw new Error('no weights found');
}

/**
 * Loads a checkpoint's bytes into the page's model, after checking that it is a checkpoint of
 * this model: another spec is named as such, and every missing or mismatched tensor is listed.
 */
function loadCheckpointBytes(bytes, name) {
  const { tensors, metadata } = decodeSafetensors(bytes, name);
  const info = checkpointInfo(metadata, name);
  if (info.model && specKey(parseModelSpec(info.model)) !== specKey(spec)) {
    let detail = '';
    try {
      checkTensors(tensors, model.params, name);
    } catch (e) {
      detail = ` (${e.message})`;
    }
    throw new Error(`${name} holds model '${info.model.name ?? 'unnamed'}', the page's model is '${spec.name ?? 'unnamed'}'; pick that model and train or load a checkpoint of it${detail}`);
  }
  checkTensors(tensors, model.params, name);
  applyWeights(tensors, model.params, name);
}

/** Class probabilities for one 28x28 u8 image (0 = background), on the workers when there are any. */
async function classify(pixels) {
  const x = normalize(pixels);
  const logits = predictPool ? await predictPool.predict(x, 1) : model.predict(x, 1);
  return softmax(logits);
}

function softmax(z) {
  const m = Math.max(...z);
  const e = Array.from(z, (v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

// ---- training -----------------------------------------------------------------------------------

function setupForm() {
  const pick = (id, v) => v !== null && ($(id).value = v);
  $('model').innerHTML = MODELS.map((m) => `<option value="${m}"${m === 'lenet' ? ' selected' : ''}>${m}</option>`).join('');
  const cores = navigator.hardwareConcurrency || 2;
  $('workers').innerHTML = Array.from({ length: cores }, (_, i) => `<option value="${i + 1}"${i + 1 === Math.min(2, cores) ? ' selected' : ''}>${i + 1}</option>`).join('');
  pick('model', query.get('model'));
  pick('workers', query.get('workers'));
  pick('epochs', query.get('epochs'));
  pick('ntrain', query.get('ntrain'));
  pick('ntest', query.get('ntest'));
  $('train').onclick = () => train().catch((e) => showError('training failed', e));
  $('download').onclick = download;
  $('ckfile').onchange = async (ev) => {
    const f = ev.target.files[0];
    if (!f) return;
    try {
      loadCheckpointBytes(new Uint8Array(await f.arrayBuffer()), f.name);
      status.textContent = `loaded ${f.name} into ${spec.name}`;
      await update();
    } catch (e) {
      showError('loading a checkpoint', e);
    }
  };
}

/** The first `n` examples of an MNIST split from the served IDX files: only their bytes are fetched (HTTP range). */
async function fetchSplit(prefix, n) {
  const get = async (file, per, header) => {
    const res = await fetch(new URL(`mnist/${file}`, root), { headers: { range: `bytes=0-${header + n * per - 1}` } });
    if (!res.ok) throw new Error(`fetching /mnist/${file} failed: HTTP ${res.status} ${await res.text()}`);
    return new Uint8Array(await res.arrayBuffer());
  };
  const [images, labels] = await Promise.all([get(`${prefix}-images-idx3-ubyte`, 28 * 28, 16), get(`${prefix}-labels-idx1-ubyte`, 1, 8)]);
  return mnistFromIdx(images, labels, n, `MNIST ${prefix}`);
}

let dataCache = null;
async function mnist(ntrain, ntest) {
  if (dataCache?.ntrain !== ntrain || dataCache?.ntest !== ntest) {
    const [trainSet, testSet] = await Promise.all([fetchSplit('train', ntrain), fetchSplit('t10k', ntest)]);
    dataCache = { ntrain, ntest, train: trainSet, test: testSet };
  }
  return dataCache;
}

/**
 * Trains the selected spec from scratch with the settings `npm run train` uses by default
 * (seed 1, batch 64, SGD + Nesterov, cosine schedule, shift augmentation of 2 px), so the
 * checkpoint equals the one `npm run train -- --model models/NAME.json --limit-train N
 * --limit-test M --epochs E` writes.
 */
async function train() {
  if (!core) throw new Error('the WebAssembly core is not loaded yet');
  if (training) return null;
  training = true;
  $('train').disabled = $('download').disabled = true;
  const name = $('model').value;
  const workers = Number($('workers').value);
  const epochs = Number($('epochs').value);
  const ntrain = Number($('ntrain').value);
  const ntest = Number($('ntest').value);
  try {
    status.textContent = `loading ${ntrain} training and ${ntest} test images from /mnist/...`;
    const data = await mnist(ntrain, ntest);
    const res = await fetch(new URL(`models/${name}.json`, root));
    if (!res.ok) throw new Error(`fetching models/${name}.json failed: HTTP ${res.status}`);
    const newSpec = parseModelSpec(await res.json());
    const threads = isolation.ok ? `${workers} worker${workers === 1 ? '' : 's'}` : `one thread (no cross-origin isolation, so no workers)`;
    $('threads').textContent = isolation.ok ? `Training on ${threads}.` : `Training on ${threads}: ${isolation.why}.`;
    const old = { model, predictPool };
    const chart = new Chart($('chart'), epochs);
    let filtersAt = 0;
    let trainingModel = null;
    const t0 = performance.now();
    const result = await fitWith(
      core,
      newSpec,
      { train: data.train, test: data.test },
      {
        epochs,
        workers,
        seed: Number(query.get('seed') ?? 1),
        augment: { shift: 2, hflip: false },
        onProgress: (p) => {
          if (p.phase !== 'train') return;
          chart.train(p.epoch - 1 + p.done / p.total, p.loss, p.acc);
          $('speed').textContent = `epoch ${p.epoch}/${epochs}: ${p.done}/${p.total} images, ${Math.round(p.imagesPerSec)} images/s, loss ${p.loss.toFixed(4)}`;
          const now = performance.now();
          if (now - filtersAt > 250) {
            filtersAt = now;
            drawFilters(trainingModel);
          }
        },
        onEpoch: (m) => chart.test(m.epoch, m.test_loss, m.test_acc),
      },
      {
        // the engine's workers also evaluate the test set between epochs
        engine: isolation.ok ? (ctx) => WebGradEngine.create(ctx, { coreUrl }) : undefined,
        save: (bytes) => {
          lastCheckpoint = bytes;
        },
      },
      (loop) => {
        trainingModel = loop.model;
      },
    );
    const seconds = (performance.now() - t0) / 1000;
    drawFilters(result.model);
    // the trained model takes over prediction; the opening one is freed
    model = result.model;
    spec = result.spec;
    predictPool = isolation.ok ? await WebPredictPool.create(spec, model, { coreUrl, workers }) : null;
    await old.predictPool?.close();
    old.model.free();
    const ips = result.metrics.reduce((s, m) => s + m.images_per_sec, 0) / result.metrics.length;
    $('speed').textContent = `${Math.round(ips)} images/s on ${threads} · test accuracy ${(result.testAcc * 100).toFixed(2)} % · ${seconds.toFixed(1)} s in all`;
    status.textContent = `trained ${spec.name} on ${ntrain} images for ${epochs} epoch${epochs === 1 ? '' : 's'}; draw a digit`;
    $('warn').textContent = '';
    await update();
    return { result, seconds, imagesPerSec: ips, threads, workersUsed: isolation.ok ? workers : 1 };
  } finally {
    training = false;
    $('train').disabled = false;
    $('download').disabled = !lastCheckpoint;
  }
}

function download() {
  if (!lastCheckpoint) return;
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([lastCheckpoint], { type: 'application/octet-stream' }));
  a.download = `${spec.name ?? 'model'}-checkpoint.safetensors`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

/** Loss (left axis, log-free: 0..max) and accuracy (right axis, 0..1) over the epochs. */
class Chart {
  constructor(canvas, epochs) {
    this.c = canvas.getContext('2d');
    this.w = canvas.width;
    this.h = canvas.height;
    this.epochs = epochs;
    this.points = [];
    this.tests = [];
    this.maxLoss = 0;
    this.draw();
  }
  train(x, loss, acc) {
    this.points.push([x, loss, acc]);
    this.maxLoss = Math.max(this.maxLoss, loss);
    this.draw();
  }
  test(epoch, loss, acc) {
    this.tests.push([epoch, loss, acc]);
    this.draw();
  }
  draw() {
    const { c, w, h } = this;
    const px = (x) => 30 + (x / this.epochs) * (w - 60);
    const py = (v, max) => h - 20 - (v / max) * (h - 30);
    c.clearRect(0, 0, w, h);
    c.strokeStyle = '#ccc';
    c.strokeRect(30, 10, w - 60, h - 30);
    c.fillStyle = '#555';
    c.font = '11px system-ui';
    for (let e = 0; e <= this.epochs; e++) c.fillText(String(e), px(e) - 3, h - 6);
    c.fillText(this.maxLoss ? this.maxLoss.toFixed(2) : 'loss', 2, 18);
    c.fillText('1.0', w - 26, 18);
    const line = (color, get, max) => {
      c.strokeStyle = color;
      c.beginPath();
      this.points.forEach((p, i) => (i ? c.lineTo(px(p[0]), py(get(p), max)) : c.moveTo(px(p[0]), py(get(p), max))));
      c.stroke();
    };
    if (this.points.length) {
      line('#4a6fd8', (p) => p[1], this.maxLoss || 1);
      if (this.points[0][2] !== undefined) line('#d8674a', (p) => p[2], 1);
    }
    c.fillStyle = '#d8674a';
    for (const [e, , acc] of this.tests) {
      if (acc === null) continue;
      c.beginPath();
      c.arc(px(e), py(acc, 1), 4, 0, 2 * Math.PI);
      c.fill();
      c.fillText(`${(acc * 100).toFixed(1)}%`, px(e) - 34, py(acc, 1) + 14);
    }
  }
}

/** The first conv layer's filters (input channel 0), each scaled by the layer's largest |w|, grey 0.5 = 0. */
function drawFilters(m) {
  const canvas = $('filters');
  const c = canvas.getContext('2d');
  c.clearRect(0, 0, canvas.width, canvas.height);
  const entry = m?.params.entries.find((e) => e.shape.length === 4 && e.name.endsWith('.weight'));
  if (!entry) {
    c.fillStyle = '#555';
    c.font = '12px system-ui';
    c.fillText(m ? 'this model has no conv layer' : '', 8, 20);
    return;
  }
  const [f, ch, kh, kw] = entry.shape;
  const w = m.params.view(entry);
  let max = 1e-12;
  for (const v of w) max = Math.max(max, Math.abs(v));
  const cols = Math.ceil(Math.sqrt(f * 2));
  const cell = Math.floor(Math.min(canvas.width / cols, canvas.height / Math.ceil(f / cols)));
  const img = new ImageData(kw, kh);
  const tile = document.createElement('canvas');
  tile.width = kw;
  tile.height = kh;
  const tctx = tile.getContext('2d');
  c.imageSmoothingEnabled = false;
  for (let k = 0; k < f; k++) {
    for (let i = 0; i < kh * kw; i++) {
      const g = Math.round(127.5 + (127.5 * w[k * ch * kh * kw + i]) / max);
      img.data.set([g, g, g, 255], i * 4);
    }
    tctx.putImageData(img, 0, 0);
    c.drawImage(tile, (k % cols) * cell + 1, Math.floor(k / cols) * cell + 1, cell - 2, cell - 2);
  }
}

// ---- drawing ------------------------------------------------------------------------------------

function setupUi() {
  clearPad();
  for (let d = 0; d < 10; d++) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = String(d);
    b.title = `draw MNIST test digit #${d}`;
    b.onclick = () => {
      drawSample(d);
      void update();
    };
    $('samples').append(b);
  }
  $('bars').innerHTML = Array.from(
    { length: 10 },
    (_, d) => `<div class="row" id="row${d}"><span>${d}</span><div class="bar"><div></div></div><span>-</span></div>`,
  ).join('');
  $('clear').onclick = () => {
    clearPad();
    void update();
  };

  let drawing = false;
  let last = null;
  const at = (e) => {
    const r = pad.getBoundingClientRect();
    return [((e.clientX - r.left) * pad.width) / r.width, ((e.clientY - r.top) * pad.height) / r.height];
  };
  pad.addEventListener('pointerdown', (e) => {
    drawing = true;
    try {
      pad.setPointerCapture(e.pointerId); // keep the stroke when the pointer leaves the pad
    } catch {
      // synthetic events (the self-test's) have no active pointer to capture
    }
    last = at(e);
    stroke(last, last);
  });
  pad.addEventListener('pointermove', (e) => {
    if (!drawing) return;
    const p = at(e);
    stroke(last, p);
    last = p;
  });
  const end = () => {
    drawing = false;
  };
  pad.addEventListener('pointerup', end);
  pad.addEventListener('pointercancel', end);
}

function clearPad() {
  padCtx.fillStyle = '#000';
  padCtx.fillRect(0, 0, pad.width, pad.height);
}

function stroke(a, b) {
  padCtx.strokeStyle = '#fff';
  padCtx.lineWidth = 22; // about 2 px once the digit is scaled into MNIST's 20x20 box
  padCtx.lineCap = 'round';
  padCtx.lineJoin = 'round';
  padCtx.beginPath();
  padCtx.moveTo(a[0], a[1]);
  padCtx.lineTo(b[0], b[1]);
  padCtx.stroke();
  scheduleUpdate();
}

/** Paints bundled digit `d` onto the pad, enlarged with smoothing, as if drawn there. */
function drawSample(d) {
  const small = document.createElement('canvas');
  small.width = small.height = SIDE;
  const img = new ImageData(SIDE, SIDE);
  for (let i = 0; i < SIDE * SIDE; i++) {
    const v = samples[d * SIDE * SIDE + i];
    img.data.set([v, v, v, 255], i * 4);
  }
  small.getContext('2d').putImageData(img, 0, 0);
  clearPad();
  padCtx.imageSmoothingEnabled = true;
  padCtx.drawImage(small, 0, 0, pad.width, pad.height);
}

/** The pad as an MNIST-style digit (or null when empty). */
function padDigit() {
  const { data, width, height } = padCtx.getImageData(0, 0, pad.width, pad.height);
  const grey = new Uint8Array(width * height);
  for (let i = 0; i < grey.length; i++) grey[i] = data[i * 4]; // red channel: white ink on black
  return toMnist(grey, width, height);
}

function scheduleUpdate() {
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => {
    pending = false;
    void update();
  });
}

/** Preprocesses the pad, classifies it and shows the input, the guess and the probabilities. */
async function update() {
  const pixels = padDigit();
  const img = new ImageData(SIDE, SIDE);
  if (pixels) for (let i = 0; i < pixels.length; i++) img.data.set([pixels[i], pixels[i], pixels[i], 255], i * 4);
  seenCtx.putImageData(img, 0, 0);
  if (!pixels) {
    showProbs(null);
    return null;
  }
  const probs = await classify(pixels);
  showProbs(probs);
  return { pixels, probs };
}

function showProbs(probs) {
  const best = probs ? argmax(probs) : -1;
  $('guess').textContent = probs ? String(best) : '\u00a0';
  for (let d = 0; d < 10; d++) {
    const row = $(`row${d}`);
    row.classList.toggle('top', d === best);
    row.querySelector('.bar > div').style.width = probs ? `${(probs[d] * 100).toFixed(1)}%` : '0';
    row.lastElementChild.textContent = probs ? `${(probs[d] * 100).toFixed(1)}%` : '-';
  }
}

/** The ten bundled digits through the drawing path: enlarged onto the pad, preprocessed back, classified. */
async function drawnDigits() {
  const out = [];
  for (let d = 0; d < 10; d++) {
    drawSample(d);
    const r = await update();
    out.push({ pred: argmax(r.probs), corr: correlation(r.pixels, samples.subarray(d * SIDE * SIDE, (d + 1) * SIDE * SIDE)) });
  }
  return out;
}

// ---- self-tests ---------------------------------------------------------------------------------

function report(result, problems) {
  const out = $('selftest');
  result.problems = problems;
  out.dataset.status = problems.length ? 'fail' : 'pass';
  out.textContent = `selftest ${out.dataset.status}\n` + JSON.stringify(result);
}

function reportError(e) {
  const out = $('selftest');
  out.dataset.status = 'error';
  out.textContent = `selftest error\n${e.stack ?? e}`;
}

/**
 * Classifies the ten bundled digits twice: straight from their pixels (the numbers a Node run of
 * the same weights must reproduce) and through the drawing path (enlarged onto the pad,
 * preprocessed back to 28x28; the correlation with the original measures that path). Also
 * checks that repeated predictions leave the WASM heap where it was.
 */
async function selftest() {
  try {
    const t0 = performance.now();
    await classify(samples.subarray(0, SIDE * SIDE)); // first call allocates the kernels' scratch block
    const heapBefore = core.heap.liveBytes;
    const direct = [];
    for (let d = 0; d < 10; d++) direct.push(await classify(samples.subarray(d * SIDE * SIDE, (d + 1) * SIDE * SIDE)));
    const drawn = await drawnDigits();
    // a '7' drawn with pointer events, through the same handlers a mouse or a finger uses
    clearPad();
    const r = pad.getBoundingClientRect();
    const path = [[60, 60], [215, 60], [215, 70], [125, 245]];
    path.forEach(([x, y], i) => {
      const type = i === 0 ? 'pointerdown' : 'pointermove';
      pad.dispatchEvent(new PointerEvent(type, { clientX: r.left + (x * r.width) / pad.width, clientY: r.top + (y * r.height) / pad.height, pointerId: 1, bubbles: true }));
    });
    pad.dispatchEvent(new PointerEvent('pointerup', { pointerId: 1, bubbles: true }));
    await new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok)));
    await new Promise((ok) => setTimeout(ok, 50)); // the update after the stroke is asynchronous
    const stroke = { guess: $('guess').textContent, ink: padDigit()?.reduce((a, b) => a + (b > 0), 0) ?? 0 };
    const heapAfter = core.heap.liveBytes;
    const result = {
      flavor: core.flavor,
      coreMs: Math.round(coreMs),
      isolated: isolation.ok,
      opening: openingGuess,
      weights: weights.label,
      randomWeights: weights.random,
      labels: SAMPLE_LABELS,
      direct: {
        preds: direct.map(argmax),
        probs: direct.map((p) => p.map((v) => Number(v.toFixed(6)))),
        correct: direct.filter((p, d) => argmax(p) === SAMPLE_LABELS[d]).length,
      },
      drawn: {
        preds: drawn.map((x) => x.pred),
        correlations: drawn.map((x) => Number(x.corr.toFixed(4))),
        correct: drawn.filter((x, d) => x.pred === SAMPLE_LABELS[d]).length,
      },
      stroke,
      heap: { before: heapBefore, after: heapAfter },
      ms: Math.round(performance.now() - t0),
    };
    const problems = [];
    if (direct.some((p) => Math.abs(p.reduce((a, b) => a + b, 0) - 1) > 1e-4 || p.some((v) => !Number.isFinite(v)))) problems.push('probabilities do not sum to 1');
    if (Math.min(...result.drawn.correlations) < 0.85) problems.push('the drawing path distorts a digit (correlation < 0.85)');
    if (!/^[0-9]$/.test(stroke.guess) || stroke.ink < 20) problems.push(`drawing with pointer events did not update the prediction (${JSON.stringify(stroke)})`);
    if (heapAfter !== heapBefore) problems.push(`the WASM heap grew by ${heapAfter - heapBefore} bytes`);
    if (!weights.random && result.direct.correct < 8) problems.push(`trained weights got only ${result.direct.correct}/10`);
    report(result, problems);
  } catch (e) {
    reportError(e);
  }
}

/** Trains with the form's settings, then draws the ten digits; reports metrics, speed and the checkpoint's hash. */
async function autotrain() {
  try {
    const run = await train();
    const drawn = await drawnDigits();
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', lastCheckpoint));
    const { metadata } = decodeSafetensors(lastCheckpoint, 'the checkpoint');
    const result = {
      flavor: core.flavor,
      coreMs: Math.round(coreMs),
      isolated: isolation.ok,
      workersUsed: run.workersUsed,
      threadsText: $('threads').textContent,
      metrics: run.result.metrics.map(({ epoch, train_loss, train_acc, test_loss, test_acc, images_per_sec }) => ({ epoch, train_loss, train_acc, test_loss, test_acc, images_per_sec })),
      testAcc: run.result.testAcc,
      imagesPerSec: Math.round(run.imagesPerSec),
      seconds: Number(run.seconds.toFixed(2)),
      speedText: $('speed').textContent,
      checkpoint: { bytes: lastCheckpoint.length, sha256: Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join(''), metadata },
      drawn: { preds: drawn.map((x) => x.pred), correct: drawn.filter((x, d) => x.pred === SAMPLE_LABELS[d]).length },
      filtersDrawn: $('filters').getContext('2d').getImageData(0, 0, 200, 100).data.some((v, i) => i % 4 === 3 && v > 0),
    };
    report(result, []);
  } catch (e) {
    reportError(e);
  }
}

/** The errors an embedding app meets, each shown in the page's list as it would be. */
async function errorsTest() {
  try {
    const shown = {};
    // 1. an API call before the core is loaded: a model built on a core that is not there yet
    try {
      new BoundModel(undefined, lenet(), MNIST_SHAPE);
    } catch (e) {
      shown.beforeCore = showError('building a model before the core loaded', e);
    }
    // 2. a checkpoint of another spec (the MLP's) loaded into the page's LeNet
    const mlpSpec = parseModelSpec(await (await fetch(new URL('models/mlp.json', root))).json());
    const mlp = new BoundModel(core, buildModel(mlpSpec), mlpSpec.input);
    const bytes = encodeCheckpoint(mlp.params, null, { epoch: 0, step: 0, stepInEpoch: 0, seed: 1, optimizer: 'sgd', flags: {}, metrics: {}, partial: { lossSum: 0, correct: 0, seen: 0 }, model: mlpSpec });
    mlp.free();
    try {
      loadCheckpointBytes(bytes, 'mlp.safetensors');
    } catch (e) {
      shown.otherSpec = showError('loading a checkpoint', e);
    }
    // 3. an input of the wrong shape
    try {
      await (predictPool ? predictPool.predict(new Float32Array(100), 1) : Promise.resolve(model.predict(new Float32Array(100), 1)));
    } catch (e) {
      shown.wrongShape = showError('predicting', e);
    }
    // 4. worker failures reject the step's promise with words: a task that throws in a worker (a
    // spec that does not build the model whose parameters were shared), and a worker that
    // cannot start (a missing script)
    if (isolation.ok) {
      const data = await mnist(256, 100);
      const ctx = { core, model, spec: mlpSpec, cfg: { workers: 2, chunkSize: 32, batchSize: 64 }, opts: { seed: 1, augment: {}, fill: [0] }, data: data.train };
      const engine = await WebGradEngine.create(ctx, { coreUrl });
      try {
        await engine.minibatch(Uint32Array.from({ length: 64 }, (_, i) => i), 0);
      } catch (e) {
        shown.taskThrows = showError('a training step', e);
      } finally {
        await engine.close();
      }
      try {
        await WebGradEngine.create(ctx, { coreUrl, workerUrl: new URL('no-such-worker.js', location.href) });
      } catch (e) {
        shown.workerMissing = showError('starting the workers', e);
      }
    }
    const problems = [];
    if (isolation.ok && !/step 0, chunk \d failed in a web worker: grad worker: shared parameters hold 656080 floats/.test(shown.taskThrows ?? '')) problems.push(`task throws: ${shown.taskThrows}`);
    if (isolation.ok && !/web worker \d+ failed/.test(shown.workerMissing ?? '')) problems.push(`worker missing: ${shown.workerMissing}`);
    if (!/not loaded yet/.test(shown.beforeCore ?? '')) problems.push(`before the core: ${shown.beforeCore}`);
    if (!/holds model 'mlp'.*'lenet'/.test(shown.otherSpec ?? '') || !/conv1\.weight is missing/.test(shown.otherSpec ?? '')) problems.push(`other spec: ${shown.otherSpec}`);
    if (!/784 floats, got 100/.test(shown.wrongShape ?? '')) problems.push(`wrong shape: ${shown.wrongShape}`);
    report({ shown, onScreen: [...$('errors').children].map((li) => li.textContent) }, problems);
  } catch (e) {
    reportError(e);
  }
}

// ---- start --------------------------------------------------------------------------------------

if (query.has('selftest')) await selftest();
else if (query.has('autotrain')) await autotrain();
else if (query.has('errors')) await errorsTest();
