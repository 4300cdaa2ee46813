// iruka in a web page: load the WebAssembly core from a URL, build the LeNet, fetch its weights,
// and classify what the user draws. Plain ES modules served as files, no bundler.
//
// Query parameters:
//   ?weights=URL   a .safetensors checkpoint with PyTorch names (default: runs/mnist/checkpoint.safetensors
//                  if `npm run train:mnist` wrote one, else the random-init test fixture)
//   ?flavor=simd   force the plain SIMD build (default: relaxed SIMD where the browser validates it)
//   ?selftest      classify the bundled MNIST digits, directly and through the drawing path, and
//                  write the result as JSON into <pre id="selftest" data-status="pass|fail|error">
//
// Imports: these dist/ modules, and what they import, use no Node built-ins (the test in
// test/examples.test.ts checks the whole graph). Do not import dist/src/index.js here: it
// re-exports the trainer, the MNIST file reader and the checkpoint writer, which need node:fs.
import { loadCore } from '../../dist/src/core/load.js'; // the .wasm from a URL (or bytes), async
import { BoundModel } from '../../dist/src/train/model.js'; // params + tape + predict()
import { lenet, MNIST_SHAPE } from '../../dist/src/nn/lenet.js'; // the reference LeNet
import { loadWeightsFromBytes } from './weights.js'; // safetensors bytes → params, by name
import { toMnist, normalize, correlation, SIDE } from './preprocess.js'; // drawing → 28x28
import { samplePixels, SAMPLE_LABELS } from './samples.js'; // ten MNIST test digits

const query = new URLSearchParams(location.search);
const root = new URL('../../', import.meta.url); // the repository (or package) root
const $ = (id) => document.getElementById(id);
const status = $('status');

let core; // the WebAssembly instance, its memory and allocator
let model; // the LeNet bound to that core: flat parameters, a tape, predict()
let weights; // where the weights came from
let pad, padCtx, seenCtx;
const samples = samplePixels();
const argmax = (p) => p.reduce((best, v, i) => (v > p[best] ? i : best), 0);
let pending = false;

try {
  // The core finds build/iruka.relaxed.wasm or build/iruka.wasm under this folder URL: with
  // flavor 'auto' it fetches the relaxed build where the browser accepts relaxed SIMD and the
  // plain SIMD build otherwise. core.flavor says which one runs.
  core = await loadCore({ url: new URL('build/', root), flavor: query.get('flavor') ?? 'auto' });

  // The model's parameters live in the core's memory. A page keeps its model for its lifetime;
  // an app that swaps models calls model.free() on the old one (the GC cannot free WASM memory).
  model = new BoundModel(core, lenet(), MNIST_SHAPE);
  weights = await loadWeights(model);
  status.textContent = `core: ${core.flavor === 'relaxed' ? 'relaxed SIMD' : core.flavor} build · weights: ${weights.label} · ${model.params.size.toLocaleString('en-US')} parameters`;

  pad = $('pad');
  padCtx = pad.getContext('2d', { willReadFrequently: true });
  seenCtx = $('seen').getContext('2d');
  setupUi();
} catch (e) {
  status.textContent = `Could not start: ${e.message}`;
  if (query.has('selftest')) {
    $('selftest').dataset.status = 'error';
    $('selftest').textContent = `selftest error\n${e.stack ?? e}`;
  }
  throw e;
}

if (query.has('selftest')) await selftest();

// ---- model --------------------------------------------------------------------------------------

/** Fetches ?weights, or the trainer's default output, or the test fixture; copies them into the model. */
async function loadWeights(model) {
  const given = query.get('weights');
  const candidates = given
    ? [{ url: new URL(given, location.href), label: given }]
    : [
        { url: new URL('runs/mnist/checkpoint.safetensors', root), label: 'runs/mnist/checkpoint.safetensors' },
        { url: new URL('test/fixtures/torch/lenet_state.safetensors', root), label: 'test fixture (random init)', random: true },
      ];
  for (const c of candidates) {
    const res = await fetch(c.url);
    if (!res.ok) {
      if (given) throw new Error(`fetching weights ${c.url} failed: HTTP ${res.status}`);
      continue;
    }
    const meta = loadWeightsFromBytes(new Uint8Array(await res.arrayBuffer()), model.params, c.label);
    const random = c.random || c.url.pathname.endsWith('/test/fixtures/torch/lenet_state.safetensors'); // untrained
    if (random) {
      $('warn').textContent =
        'These weights are a random initialisation, so predictions are chance. Train a model with ' +
        '`npm run train:mnist -- --epochs 1 --limit-train 12000` (about 10 s; it writes runs/mnist/checkpoint.safetensors) and reload, or pass ?weights=URL.';
    }
    return { ...c, meta, random };
  }
  throw new Error('no weights found');
}

/** Class probabilities for one 28x28 u8 image (0 = background). */
function classify(pixels) {
  // predict() copies the input into WASM memory, runs the forward pass without recording
  // gradients, copies the logits out and frees everything it allocated
  const logits = model.predict(normalize(pixels), 1);
  return softmax(logits);
}

function softmax(z) {
  const m = Math.max(...z);
  const e = Array.from(z, (v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
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
      update();
    };
    $('samples').append(b);
  }
  $('bars').innerHTML = Array.from(
    { length: 10 },
    (_, d) => `<div class="row" id="row${d}"><span>${d}</span><div class="bar"><div></div></div><span>-</span></div>`,
  ).join('');
  $('clear').onclick = () => {
    clearPad();
    update();
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
    update();
  });
}

/** Preprocesses the pad, classifies it and shows the input, the guess and the probabilities. */
function update() {
  const pixels = padDigit();
  const img = new ImageData(SIDE, SIDE);
  if (pixels) for (let i = 0; i < pixels.length; i++) img.data.set([pixels[i], pixels[i], pixels[i], 255], i * 4);
  seenCtx.putImageData(img, 0, 0);
  if (!pixels) {
    showProbs(null);
    return null;
  }
  const probs = classify(pixels);
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

// ---- self-test ----------------------------------------------------------------------------------

/**
 * Classifies the ten bundled digits twice: straight from their pixels (the numbers a Node run of
 * the same weights must reproduce) and through the drawing path (enlarged onto the pad,
 * preprocessed back to 28x28; the correlation with the original measures that path). Also
 * checks that repeated predictions leave the WASM heap where it was.
 */
async function selftest() {
  const out = $('selftest');
  try {
    const t0 = performance.now();
    classify(samples.subarray(0, SIDE * SIDE)); // first call allocates the kernels' scratch block
    const heapBefore = core.heap.liveBytes;
    const direct = [];
    for (let d = 0; d < 10; d++) direct.push(classify(samples.subarray(d * SIDE * SIDE, (d + 1) * SIDE * SIDE)));
    const drawn = [];
    for (let d = 0; d < 10; d++) {
      drawSample(d);
      const r = update();
      drawn.push({ pred: argmax(r.probs), corr: correlation(r.pixels, samples.subarray(d * SIDE * SIDE, (d + 1) * SIDE * SIDE)) });
    }
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
    const stroke = { guess: $('guess').textContent, ink: padDigit()?.reduce((a, b) => a + (b > 0), 0) ?? 0 };
    const heapAfter = core.heap.liveBytes;
    const result = {
      flavor: core.flavor,
      weights: weights.label,
      randomWeights: weights.random,
      labels: SAMPLE_LABELS,
      direct: {
        preds: direct.map(argmax),
        probs: direct.map((p) => p.map((v) => Number(v.toFixed(6)))),
        correct: direct.filter((p, d) => argmax(p) === SAMPLE_LABELS[d]).length,
      },
      drawn: {
        preds: drawn.map((r) => r.pred),
        correlations: drawn.map((r) => Number(r.corr.toFixed(4))),
        correct: drawn.filter((r, d) => r.pred === SAMPLE_LABELS[d]).length,
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
    result.problems = problems;
    out.dataset.status = problems.length ? 'fail' : 'pass';
    out.textContent = `selftest ${out.dataset.status}\n` + JSON.stringify(result);
  } catch (e) {
    out.dataset.status = 'error';
    out.textContent = `selftest error\n${e.stack ?? e}`;
  }
}
