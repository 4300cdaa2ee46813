// Argument checks shared by the typed kernel wrappers (STYLE 10): every message names the op,
// the argument, what was expected and what came, so a mistake never reaches WASM as a trap or
// a silent wrong answer.
import type { Buf, DType } from './heap.js';

/** Throws unless `v` is an integer >= min. */
export function int(op: string, name: string, v: number, min = 1): void {
  if (!Number.isInteger(v) || v < min) {
    throw new Error(`${op}: ${name} must be an integer >= ${min}, got ${v}`);
  }
}

/** Throws unless `v` is a finite number. */
export function finite(op: string, name: string, v: number): void {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${op}: ${name} must be a finite number, got ${v}`);
}

/** Throws unless `buf` is a live buffer of `dtype` holding at least `n` elements. */
export function buf(op: string, name: string, b: Buf | null | undefined, n: number, dtype: DType = 'f32'): void {
  if (b == null) throw new Error(`${op}: ${name} is ${b === null ? 'null' : 'missing'}`);
  if (b.ptr === 0 || b.length === 0) throw new Error(`${op}: ${name} is an empty buffer`);
  if (!b.alive) throw new Error(`${op}: ${name} was freed`);
  if (b.dtype !== dtype) throw new Error(`${op}: ${name} must hold ${dtype}, got ${b.dtype}`);
  if (b.length < n) throw new Error(`${op}: ${name} holds ${b.length} elements, needs ${n}`);
}

/** Throws if two buffers overlap where the kernel needs them apart. */
export function disjoint(op: string, a: [string, Buf], b: [string, Buf]): void {
  const [an, ab] = a;
  const [bn, bb] = b;
  if (ab.ptr < bb.ptr + bb.bytes && bb.ptr < ab.ptr + ab.bytes) {
    throw new Error(`${op}: ${an} and ${bn} overlap; this kernel needs them in separate buffers`);
  }
}
