// Checkpoints in the safetensors format (huggingface/safetensors), so PyTorch and other tools
// read our weights and we read theirs. Layout:
//   bytes 0..7        N, the header length, u64 little-endian
//   bytes 8..8+N      UTF-8 JSON: { "<name>": { "dtype": "F32", "shape": [..], "data_offsets": [b, e] },
//                                   ..., "__metadata__": { "<key>": "<string>" } }
//                     padded with spaces so the data starts 8-byte aligned
//   bytes 8+N..       the data area: raw little-endian tensors, row-major; offsets are relative
//                     to its start and must cover it exactly (no holes, no overlaps)
// Names and layouts are PyTorch's (conv weight (out, in, kh, kw), linear weight (out, in)); this
// file does not know about layers, only tensors. This module is the format alone, free of Node built-ins, so
// browsers use it too; safetensors.ts adds reading and crash-safe writing of files.
//
// The decoder reads untrusted bytes: every way it can fail is an InputError naming the source, and
// nothing is allocated from a header field before it is checked against the file's real size. The
// limits (exported below, also enforced by the encoder so that what we write we can read back):
//   header length   <= MAX_HEADER_BYTES (100 MB, as the reference implementation) and within the file
//   JSON nesting    <= MAX_HEADER_DEPTH levels (a real header has 3); no key twice in one object
//   tensor count    <= MAX_TENSORS
//   dims per tensor <= MAX_DIMS; each dim a safe integer >= 0; elements x item size <= 2^53 - 1
//   tensor bytes    == its data_offsets span, inside the data area, which the tensors tile exactly;
//                      so all tensors together allocate at most the file's size
import { InputError } from '../errors.js';

export type TensorData = Float32Array | Int32Array | Float64Array | BigInt64Array | Uint8Array;
export type SafeDType = 'F32' | 'F64' | 'I32' | 'I64' | 'U8';

export interface SafeTensor {
  dtype: SafeDType;
  shape: number[];
  data: TensorData;
}

/** What {@link encodeSafetensors} takes per tensor: the dtype follows from the array type. */
export interface TensorIn {
  shape: number[];
  data: TensorData;
}

const ITEM_SIZE: Record<SafeDType, number> = { F32: 4, F64: 8, I32: 4, I64: 8, U8: 1 };
const SUPPORTED = Object.keys(ITEM_SIZE).join(', ');
const METADATA = '__metadata__';
/** The reference implementation refuses headers above 100 MB; a larger N means a corrupt file. */
export const MAX_HEADER_BYTES = 100_000_000;
/** Deepest JSON nesting accepted in a header (object > tensor entry > shape is 3). */
export const MAX_HEADER_DEPTH = 64;
/** Most tensors in one file; real checkpoints (and shards of large models) hold a few thousand. */
export const MAX_TENSORS = 100_000;
/** Most dimensions of one tensor. */
export const MAX_DIMS = 64;
/** Longest name, dtype or value quoted in an error message; the rest is elided. */
const MAX_QUOTE = 120;

// The data area is copied byte for byte into typed arrays, which use the host's byte order.
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
function checkHost(): void {
  if (!LITTLE_ENDIAN) throw new Error('safetensors: this reader/writer needs a little-endian host');
}

function dtypeOf(data: TensorData): SafeDType | undefined {
  if (data instanceof Float32Array) return 'F32';
  if (data instanceof Float64Array) return 'F64';
  if (data instanceof Int32Array) return 'I32';
  if (data instanceof BigInt64Array) return 'I64';
  if (data instanceof Uint8Array) return 'U8'; // Buffer included
  return undefined;
}

function alloc(dtype: SafeDType, n: number): TensorData {
  switch (dtype) {
    case 'F32':
      return new Float32Array(n);
    case 'F64':
      return new Float64Array(n);
    case 'I32':
      return new Int32Array(n);
    case 'I64':
      return new BigInt64Array(n);
    case 'U8':
      return new Uint8Array(n);
  }
}

function isShape(s: unknown): s is number[] {
  return Array.isArray(s) && s.every((d) => Number.isSafeInteger(d) && d >= 0);
}

/** The number of elements, or Infinity once it passes 2^53 - 1 (no product of safe dims is then exact). */
function product(shape: number[]): number {
  if (shape.includes(0)) return 0;
  let n = 1;
  for (const d of shape) {
    n *= d;
    if (n > Number.MAX_SAFE_INTEGER) return Infinity;
  }
  return n;
}

function fmt(shape: number[]): string {
  return clip(`[${shape.join(', ')}]`);
}

/** Shortens text quoted from a file, so a hostile header cannot make a message megabytes long. */
function clip(s: string): string {
  return s.length > MAX_QUOTE ? `${s.slice(0, MAX_QUOTE)}... (${s.length} characters)` : s;
}

/** JSON text of a header value for a message; never throws (the header's nesting is bounded). */
function quote(v: unknown): string {
  return clip(JSON.stringify(v) ?? String(v));
}

/** Defines an own property even for the key `__proto__`, which plain assignment would swallow. */
function put<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Serializes tensors (in the order given: the header and the data area follow it) and optional
 * string metadata. Each tensor's dtype comes from its array type; `shape` must multiply to its
 * length (`[]` is a scalar). Returns the whole file. Refuses what the decoder would refuse: more
 * than MAX_TENSORS tensors, more than MAX_DIMS dims, a header above MAX_HEADER_BYTES.
 */
export function encodeSafetensors(tensors: Record<string, TensorIn>, metadata?: Record<string, string>): Uint8Array {
  checkHost();
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new Error(`encodeSafetensors: metadata ${k} must be a string, got ${typeof v}`);
    }
    if (Object.keys(metadata).length) header[METADATA] = { ...metadata };
  }
  const named = Object.entries(tensors);
  if (named.length > MAX_TENSORS) throw new Error(`encodeSafetensors: ${named.length} tensors, more than the ${MAX_TENSORS} a file may hold`);
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of named) {
    if (name === '' || name === METADATA) throw new Error(`encodeSafetensors: '${name}' cannot be a tensor name`);
    const dtype = t?.data ? dtypeOf(t.data) : undefined;
    if (!dtype) {
      const got = t?.data?.constructor?.name ?? String(t?.data);
      throw new Error(`encodeSafetensors: tensor ${name}: data must be a Float32Array, Float64Array, Int32Array, BigInt64Array or Uint8Array, got ${got}`);
    }
    if (!isShape(t.shape)) throw new Error(`encodeSafetensors: tensor ${name}: shape must be an array of integers >= 0, got ${JSON.stringify(t.shape)}`);
    if (t.shape.length > MAX_DIMS) throw new Error(`encodeSafetensors: tensor ${name}: ${t.shape.length} dims, more than ${MAX_DIMS}`);
    if (product(t.shape) !== t.data.length) {
      throw new Error(`encodeSafetensors: tensor ${name}: shape ${fmt(t.shape)} holds ${product(t.shape)} elements, data has ${t.data.length}`);
    }
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    put(header, name, { dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes.length] });
    parts.push(bytes);
    offset += bytes.length;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const n = Math.ceil(json.length / 8) * 8;
  if (n > MAX_HEADER_BYTES) throw new Error(`encodeSafetensors: the header would be ${n} bytes, above the 100 MB limit`);
  const out = new Uint8Array(8 + n + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(n), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + n);
  let at = 8 + n;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const isJsonSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/**
 * One pass over the header text, before JSON.parse: refuses nesting deeper than MAX_HEADER_DEPTH
 * (JSON.stringify, which error messages use, would overflow the stack on it) and returns the
 * top-level keys in file order (JSON.parse puts integer-like keys first, and silently keeps the
 * last of two equal keys) plus the first key that appears twice in one object. The key results
 * are meaningful only for text that then parses as JSON.
 */
function scanHeader(text: string, source: string): { keys: string[]; duplicate?: string } {
  const objects: (Set<string> | null)[] = []; // per open container: the keys seen, null for an array
  const keys: string[] = [];
  let duplicate: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      let j = i + 1;
      while (j < text.length && text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c ? 2 : 1;
      const raw = text.slice(i, j + 1);
      i = j;
      const seen = objects[objects.length - 1];
      if (!seen) continue;
      let k = j + 1;
      while (k < text.length && isJsonSpace(text.charCodeAt(k))) k++;
      if (text.charCodeAt(k) !== 0x3a) continue; // a value, not a key
      const key = raw.includes('\\') ? decodeKey(raw) : raw.slice(1, -1);
      if (seen.has(key)) duplicate ??= key;
      else seen.add(key);
      if (objects.length === 1) keys.push(key);
    } else if (c === 0x7b || c === 0x5b) {
      if (objects.length >= MAX_HEADER_DEPTH) throw new InputError(`${source}: safetensors header nests deeper than ${MAX_HEADER_DEPTH} levels`);
      objects.push(c === 0x7b ? new Set() : null);
    } else if (c === 0x7d || c === 0x5d) {
      objects.pop();
    }
  }
  return { keys, duplicate };
}

function decodeKey(raw: string): string {
  try {
    return JSON.parse(raw) as string;
  } catch {
    return raw; // malformed: JSON.parse of the whole header reports it
  }
}

type Entry = { name: string; dtype: SafeDType; shape: number[]; begin: number; end: number };

/** Checks one tensor's header entry against the data area's size; no allocation. */
function checkEntry(name: string, raw: unknown, dataBytes: number, source: string): Entry {
  const label = `${source}: tensor ${clip(name)}`;
  const t = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
  if (t === null || typeof t !== 'object' || Array.isArray(t)) throw new InputError(`${label}: header entry must be an object`);
  if (typeof t.dtype !== 'string') throw new InputError(`${label}: dtype missing`);
  if (!Object.hasOwn(ITEM_SIZE, t.dtype)) throw new InputError(`${label}: dtype ${clip(t.dtype)} is not supported (supported: ${SUPPORTED})`);
  const dtype = t.dtype as SafeDType;
  if (!isShape(t.shape)) throw new InputError(`${label}: shape must be an array of integers >= 0, got ${quote(t.shape)}`);
  if (t.shape.length > MAX_DIMS) throw new InputError(`${label}: shape has ${t.shape.length} dims, more than ${MAX_DIMS}`);
  const off = t.data_offsets;
  if (!Array.isArray(off) || off.length !== 2 || !off.every((o) => Number.isSafeInteger(o) && o >= 0) || off[0] > off[1]) {
    throw new InputError(`${label}: data_offsets must be [begin, end] with 0 <= begin <= end, got ${quote(off)}`);
  }
  const [begin, end] = off as [number, number];
  const want = product(t.shape) * ITEM_SIZE[dtype];
  if (!Number.isSafeInteger(want)) throw new InputError(`${label}: ${dtype} shape ${fmt(t.shape)} needs more than 2^53 bytes`);
  if (end - begin !== want) {
    throw new InputError(`${label}: ${dtype} shape ${fmt(t.shape)} needs ${want} bytes, data_offsets [${begin}, ${end}] span ${end - begin}`);
  }
  if (end > dataBytes) {
    throw new InputError(`${label}: data_offsets [${begin}, ${end}] lie outside the data area (${dataBytes} bytes; file truncated?)`);
  }
  return { name, dtype, shape: t.shape, begin, end };
}

/** The data area must be tiled exactly: sorts by position and walks it. */
function checkTiling(entries: Entry[], dataBytes: number, source: string): void {
  const order = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  let prev = '';
  for (const e of order) {
    if (e.begin < at) throw new InputError(`${source}: tensors ${clip(prev)} and ${clip(e.name)} overlap (${clip(e.name)} starts at ${e.begin}, ${clip(prev)} ends at ${at})`);
    if (e.begin > at) throw new InputError(`${source}: ${e.begin - at} bytes at [${at}, ${e.begin}) of the data area belong to no tensor`);
    at = e.end;
    prev = e.name;
  }
  if (at !== dataBytes) throw new InputError(`${source}: ${dataBytes - at} bytes at the end of the data area belong to no tensor`);
}

function readMetadata(raw: unknown, source: string): Record<string, string> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new InputError(`${source}: __metadata__ must be an object of strings`);
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== 'string') throw new InputError(`${source}: metadata ${clip(k)} must be a string, got ${quote(v)}`);
    put(metadata, k, v);
  }
  return metadata;
}

/** Reads the header length, decodes the UTF-8 JSON header, and returns it with its keys in file order. */
function readHeader(bytes: Uint8Array, source: string): { header: Record<string, unknown>; keys: string[]; headerEnd: number } {
  if (bytes.length < 8) {
    throw new InputError(`${source}: file is ${bytes.length} bytes, too short for a safetensors header (needs at least 8)`);
  }
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true);
  if (n > BigInt(bytes.length - 8)) {
    throw new InputError(`${source}: header length ${n} runs past the end of the file (${bytes.length} bytes; truncated or not a safetensors file?)`);
  }
  if (n > BigInt(MAX_HEADER_BYTES)) throw new InputError(`${source}: header length ${n} is above the 100 MB limit`);
  const headerEnd = 8 + Number(n);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, headerEnd));
  } catch (e) {
    throw new InputError(`${source}: safetensors header is not valid UTF-8 JSON: ${(e as Error).message}`);
  }
  const { keys, duplicate } = scanHeader(text, source);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${source}: safetensors header is not valid UTF-8 JSON: ${(e as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new InputError(`${source}: safetensors header must be a JSON object`);
  }
  if (duplicate !== undefined) throw new InputError(`${source}: safetensors header has the key ${quote(duplicate)} twice in one object`);
  if (keys.length !== Object.keys(parsed).length) throw new Error(`${source}: internal error: header scan found ${keys.length} keys, JSON.parse ${Object.keys(parsed).length}`);
  return { header: parsed as Record<string, unknown>, keys, headerEnd };
}

/**
 * Parses a safetensors file. `source` names it in errors. Tensor data is copied into fresh,
 * aligned typed arrays (the file's offsets need not suit the array's alignment). The Map keeps
 * the header's order. Throws an InputError when the file is shorter than 8 bytes, the header runs
 * past the end, breaks a limit above or is not JSON, a dtype is unsupported, a shape disagrees
 * with its offsets, offsets leave the data area, tensors overlap or leave holes, or metadata
 * values are not strings.
 */
export function decodeSafetensors(bytes: Uint8Array, source = 'buffer'): { tensors: Map<string, SafeTensor>; metadata: Record<string, string> } {
  checkHost();
  const { header, keys, headerEnd } = readHeader(bytes, source);
  const dataBytes = bytes.length - headerEnd;
  const count = keys.length - (Object.hasOwn(header, METADATA) ? 1 : 0);
  if (count > MAX_TENSORS) throw new InputError(`${source}: header lists ${count} tensors, more than the ${MAX_TENSORS} allowed`);
  let metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const name of keys) {
    if (name === METADATA) metadata = readMetadata(header[name], source);
    else entries.push(checkEntry(name, header[name], dataBytes, source));
  }
  checkTiling(entries, dataBytes, source);
  const tensors = new Map<string, SafeTensor>();
  for (const e of entries) {
    const data = alloc(e.dtype, product(e.shape));
    new Uint8Array(data.buffer).set(bytes.subarray(headerEnd + e.begin, headerEnd + e.end));
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data });
  }
  return { tensors, metadata };
}

/**
 * Returns tensor `name` from a decoded checkpoint after checking its shape and dtype; throws a
 * message naming the checkpoint and, for a missing tensor, the names it does have.
 */
export function expectTensor(st: Map<string, SafeTensor>, name: string, shape: number[], source: string, dtype: SafeDType = 'F32'): SafeTensor {
  const t = st.get(name);
  if (!t) {
    const names = [...st.keys()];
    const list = names.length === 0 ? 'it has no tensors' : `it has ${names.slice(0, 20).join(', ')}${names.length > 20 ? `, ... (${names.length - 20} more)` : ''}`;
    throw new Error(`checkpoint ${source} has no tensor ${name}; ${list}`);
  }
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new Error(`checkpoint ${source}: tensor ${name} has shape ${fmt(t.shape)}, expected ${fmt(shape)}`);
  }
  if (t.dtype !== dtype) throw new Error(`checkpoint ${source}: tensor ${name} has dtype ${t.dtype}, expected ${dtype}`);
  return t;
}
