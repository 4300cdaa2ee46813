// --plots: learning curves, the confusion matrix and the misclassified test images of a
// finished run (node-canvas). Digit pictures are drawn for single-channel 28x28 data only.
import { join } from 'node:path';
import type { FitResult } from '../train/fit.js';
import type { Dataset } from '../data/dataset.js';

/** `raw`: the test set before --preprocess (its pixels are what the misclassified sheet shows); default `test`. */
export async function renderPlots(out: string, r: FitResult, test: Dataset, evalBatch: number, log: (l: string) => void, raw: Dataset = test): Promise<void> {
  const render = await import('../render/index.js');
  const files: string[] = [];
  // the curves show loss and accuracy: runs whose loss has no accuracy get the other pictures only
  const curves = r.metrics.flatMap((m) => (m.test_loss === null || m.test_acc === null ? [] : [{ ...m, test_loss: m.test_loss, test_acc: m.test_acc, train_acc: m.train_acc ?? undefined }]));
  if (curves.length === r.metrics.length && curves.length) {
    files.push(join(out, 'curves.png'));
    await render.renderCurves(curves, files[0]);
  }
  const t = test.targets;
  if (t.kind === 'labels' && r.model.loss.accuracy) {
    const preds = new Int32Array(test.n);
    r.model.evaluate(test, test.n, evalBatch, preds);
    const k = t.classes;
    const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
    for (let i = 0; i < test.n; i++) confusion[t.data[i]][preds[i]]++;
    files.push(join(out, 'confusion.png'));
    await render.renderConfusion(confusion, files[files.length - 1]);
    const [c, h, w] = test.sampleShape;
    if (c === 1 && h === 28 && w === 28) {
      const { mean, std } = raw.normalization ?? { mean: [0], std: [1] };
      const wrong: { image: Uint8Array; label: number; pred: number }[] = [];
      for (let i = 0; i < test.n && wrong.length < 100; i++) {
        if (preds[i] === t.data[i]) continue;
        const img = new Uint8Array(784);
        for (let j = 0; j < 784; j++) img[j] = Math.max(0, Math.min(255, Math.round((raw.x[i * 784 + j] * std[0] + mean[0]) * 255)));
        wrong.push({ image: img, label: t.data[i], pred: preds[i] });
      }
      files.push(join(out, 'misclassified.png'));
      await render.renderMisclassified(wrong, files[files.length - 1]);
    }
  }
  log(`Plots: ${files.join(', ')}`);
}
