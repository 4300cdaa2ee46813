// Datasets on shared memory: what the main thread hands to worker threads (the gradient and the
// predict workers) so that a training or test set is shared, not copied, and what a worker
// rebuilds from it.
import type { Dataset, Targets } from '../data/dataset.js';

/** A dataset's targets with their arrays on shared memory. */
export type SharedTargets =
  | { kind: 'labels'; classes: number; data: SharedArrayBuffer; int32: boolean }
  | { kind: 'tensor'; shape: number[]; data: SharedArrayBuffer }
  | { kind: 'input' };

/** A dataset whose inputs and targets live in SharedArrayBuffers. */
export interface SharedDataset {
  name: string;
  n: number;
  x: SharedArrayBuffer;
  targets: SharedTargets;
}

export function shared(bytes: number): SharedArrayBuffer {
  return new SharedArrayBuffer(Math.max(4, bytes));
}

/** The array itself when it already spans a whole SharedArrayBuffer, else a shared copy. */
export function asShared<T extends Float32Array | Uint8Array | Int32Array>(a: T): T {
  if (a.buffer instanceof SharedArrayBuffer && a.byteOffset === 0 && a.byteLength === a.buffer.byteLength) return a;
  const out = new (a.constructor as new (b: SharedArrayBuffer) => T)(shared(a.byteLength));
  out.set(a);
  return out;
}

export function sharedTargets(t: Targets): SharedTargets {
  if (t.kind === 'labels') return { kind: 'labels', classes: t.classes, data: asShared(t.data).buffer as SharedArrayBuffer, int32: t.data instanceof Int32Array };
  if (t.kind === 'tensor') return { kind: 'tensor', shape: t.shape, data: asShared(t.data).buffer as SharedArrayBuffer };
  return { kind: 'input' };
}

export function targetsOf(t: SharedTargets): Targets {
  if (t.kind === 'labels') return { kind: 'labels', classes: t.classes, data: t.int32 ? new Int32Array(t.data) : new Uint8Array(t.data) };
  if (t.kind === 'tensor') return { kind: 'tensor', shape: t.shape, data: new Float32Array(t.data) };
  return { kind: 'input' };
}

export function shareDataset(d: Dataset): SharedDataset {
  return { name: d.name, n: d.n, x: asShared(d.x).buffer as SharedArrayBuffer, targets: sharedTargets(d.targets) };
}

export function datasetOf(s: SharedDataset, sampleShape: readonly number[]): Dataset {
  return { name: s.name, sampleShape: [...sampleShape], n: s.n, x: new Float32Array(s.x), targets: targetsOf(s.targets) };
}
