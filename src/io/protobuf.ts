// A minimal protocol-buffers writer: just what the ONNX exporter needs (varints, fixed32
// floats, length-delimited strings, bytes and nested messages). A message keeps its encoded
// pieces in a list and nests by reference, so a 2.6 MB weight tensor is copied once, by
// finish(), however deep it sits.

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

const utf8 = new TextEncoder();

/** The varint encoding of a non-negative integer up to 2^53 (division, not bit shifts: those stop at 32 bits). */
function varint(v: number): Uint8Array {
  if (!Number.isSafeInteger(v) || v < 0) throw new Error(`protobuf: a varint must be a whole number in [0, 2^53), got ${v}`);
  const out: number[] = [];
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return Uint8Array.from(out);
}

export class Message {
  private readonly parts: Uint8Array[] = [];
  /** encoded length in bytes so far */
  length = 0;

  private push(b: Uint8Array): void {
    this.parts.push(b);
    this.length += b.length;
  }

  private tag(field: number, wire: number): void {
    this.push(varint(field * 8 + wire));
  }

  /** An int32/int64/enum/bool field (non-negative values only: ONNX needs no others here). */
  int(field: number, v: number): this {
    this.tag(field, WIRE_VARINT);
    this.push(varint(v));
    return this;
  }

  float(field: number, v: number): this {
    this.tag(field, WIRE_FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.push(b);
    return this;
  }

  bytes(field: number, b: Uint8Array): this {
    this.tag(field, WIRE_LEN);
    this.push(varint(b.length));
    this.push(b);
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, utf8.encode(s));
  }

  /** A repeated int64 field, one tag per value (onnx.proto declares its repeated ints unpacked). */
  ints(field: number, vs: readonly number[]): this {
    for (const v of vs) this.int(field, v);
    return this;
  }

  message(field: number, m: Message): this {
    this.tag(field, WIRE_LEN);
    this.push(varint(m.length));
    for (const p of m.parts) this.push(p);
    return this;
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}
