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
const MAX_HEADER = 100_000_000;

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

function product(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function fmt(shape: number[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * Serializes tensors (in the order given: the header and the data area follow it) and optional
 * string metadata. Each tensor's dtype comes from its array type; `shape` must multiply to its
 * length (`[]` is a scalar). Returns the whole file.
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
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    if (name === '' || name === METADATA) throw new Error(`encodeSafetensors: '${name}' cannot be a tensor name`);
    const dtype = t?.data ? dtypeOf(t.data) : undefined;
    if (!dtype) {
      const got = t?.data?.constructor?.name ?? String(t?.data);
      throw new Error(`encodeSafetensors: tensor ${name}: data must be a Float32Array, Float64Array, Int32Array, BigInt64Array or Uint8Array, got ${got}`);
    }
    if (!isShape(t.shape)) throw new Error(`encodeSafetensors: tensor ${name}: shape must be an array of integers >= 0, got ${JSON.stringify(t.shape)}`);
    if (product(t.shape) !== t.data.length) {
      throw new Error(`encodeSafetensors: tensor ${name}: shape ${fmt(t.shape)} holds ${product(t.shape)} elements, data has ${t.data.length}`);
    }
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    header[name] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes.length] };
    parts.push(bytes);
    offset += bytes.length;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const n = Math.ceil(json.length / 8) * 8;
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

/**
 * Parses a safetensors file. `source` names it in errors. Tensor data is copied into fresh,
 * aligned typed arrays (the file's offsets need not suit the array's alignment). The Map keeps
 * the header's order. Throws when the file is shorter than 8 bytes, the header runs past the
 * end or is not JSON, a dtype is unsupported, a shape disagrees with its offsets, offsets leave
 * the data area, tensors overlap or leave holes, or metadata values are not strings.
 */
export function decodeSafetensors(bytes: Uint8Array, source = 'buffer'): { tensors: Map<string, SafeTensor>; metadata: Record<string, string> } {
  checkHost();
  if (bytes.length < 8) {
    throw new Error(`${source}: file is ${bytes.length} bytes, too short for a safetensors header (needs at least 8)`);
  }
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true);
  if (n > BigInt(bytes.length - 8)) {
    throw new Error(`${source}: header length ${n} runs past the end of the file (${bytes.length} bytes; truncated or not a safetensors file?)`);
  }
  if (n > BigInt(MAX_HEADER)) throw new Error(`${source}: header length ${n} is above the 100 MB limit`);
  const headerEnd = 8 + Number(n);
  let parsed: unknown;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, headerEnd));
    parsed = JSON.parse(text);
  } catch (e) {
    throw new Error(`${source}: safetensors header is not valid UTF-8 JSON: ${(e as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error(`${source}: safetensors header must be a JSON object`);
  }
  const dataBytes = bytes.length - headerEnd;
  const metadata: Record<string, string> = {};
  const entries: { name: string; dtype: SafeDType; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, raw] of Object.entries(parsed as Record<string, unknown>)) {
    if (name === METADATA) {
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${source}: __metadata__ must be an object of strings`);
      for (const [k, v] of Object.entries(raw)) {
        if (typeof v !== 'string') throw new Error(`${source}: metadata ${k} must be a string, got ${JSON.stringify(v)}`);
        metadata[k] = v;
      }
      continue;
    }
    const t = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
    if (t === null || typeof t !== 'object') throw new Error(`${source}: tensor ${name}: header entry must be an object`);
    if (typeof t.dtype !== 'string') throw new Error(`${source}: tensor ${name}: dtype missing`);
    if (!Object.hasOwn(ITEM_SIZE, t.dtype)) throw new Error(`${source}: tensor ${name}: dtype ${t.dtype} is not supported (supported: ${SUPPORTED})`);
    const dtype = t.dtype as SafeDType;
    if (!isShape(t.shape)) throw new Error(`${source}: tensor ${name}: shape must be an array of integers >= 0, got ${JSON.stringify(t.shape)}`);
    const off = t.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((o) => Number.isSafeInteger(o) && o >= 0) || off[0] > off[1]) {
      throw new Error(`${source}: tensor ${name}: data_offsets must be [begin, end] with 0 <= begin <= end, got ${JSON.stringify(off)}`);
    }
    const [begin, end] = off as [number, number];
    const want = product(t.shape) * ITEM_SIZE[dtype];
    if (end - begin !== want) {
      throw new Error(`${source}: tensor ${name}: ${dtype} shape ${fmt(t.shape)} needs ${want} bytes, data_offsets [${begin}, ${end}] span ${end - begin}`);
    }
    if (end > dataBytes) {
      throw new Error(`${source}: tensor ${name}: data_offsets [${begin}, ${end}] lie outside the data area (${dataBytes} bytes; file truncated?)`);
    }
    entries.push({ name, dtype, shape: t.shape, begin, end });
  }
  // the data area must be tiled exactly: sort by position and walk it
  const order = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  let prev = '';
  for (const e of order) {
    if (e.begin < at) throw new Error(`${source}: tensors ${prev} and ${e.name} overlap (${e.name} starts at ${e.begin}, ${prev} ends at ${at})`);
    if (e.begin > at) throw new Error(`${source}: ${e.begin - at} bytes at [${at}, ${e.begin}) of the data area belong to no tensor`);
    at = e.end;
    prev = e.name;
  }
  if (at !== dataBytes) throw new Error(`${source}: ${dataBytes - at} bytes at the end of the data area belong to no tensor`);
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
