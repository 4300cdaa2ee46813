// Loads a safetensors checkpoint into a model's parameters in the browser.
//
// iruka's own decodeSafetensors (dist/src/io/safetensors.js) works on any Uint8Array, but its
// module also holds the file writer and so imports node:fs, which a browser cannot resolve; and
// loadWeights (dist/src/io/checkpoint.js) reads a path. This file does what the two do for the
// F32 tensors a model needs: parse the header, check each parameter's name, dtype and shape,
// and copy the data into the flat parameter buffer by name, after validating everything (a bad
// file leaves the model as it was). Format: an 8-byte little-endian header length N, N bytes
// of JSON {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}, then the
// data area the offsets point into.

/**
 * Parses `bytes` (a whole .safetensors file); returns the header's tensor entries, the metadata
 * and a function returning one tensor's F32 data (copied: the file's offsets need not be
 * 4-byte aligned). `source` names the file in errors.
 */
export function readSafetensorsHeader(bytes, source) {
  if (bytes.length < 8) throw new Error(`${source}: ${bytes.length} bytes, too short for a safetensors file`);
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (n > bytes.length - 8) throw new Error(`${source}: header length ${n} runs past the end of the file (truncated, or not safetensors?)`);
  let header;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw new Error(`${source}: safetensors header is not valid JSON: ${e.message}`);
  }
  const { __metadata__: metadata = {}, ...entries } = header;
  const dataStart = 8 + n;
  return {
    entries,
    metadata,
    f32(name) {
      const e = entries[name];
      const [begin, end] = e.data_offsets;
      if (dataStart + end > bytes.length) throw new Error(`${source}: tensor ${name} lies past the end of the file`);
      const out = new Float32Array((end - begin) / 4);
      new Uint8Array(out.buffer).set(bytes.subarray(dataStart + begin, dataStart + end));
      return out;
    },
  };
}

/**
 * Copies every parameter of `params` (a Params: entries with PyTorch names, shapes and offsets
 * into one flat buffer) from the file; other tensors (optimizer state) are ignored.
 * Returns the file's metadata.
 */
export function loadWeightsFromBytes(bytes, params, source = 'checkpoint') {
  const file = readSafetensorsHeader(bytes, source);
  const staged = params.entries.map((p) => {
    const e = file.entries[p.name];
    if (!e) throw new Error(`${source} has no tensor ${p.name}; it has ${Object.keys(file.entries).slice(0, 12).join(', ')}`);
    if (e.dtype !== 'F32') throw new Error(`${source}: tensor ${p.name} has dtype ${e.dtype}, expected F32`);
    const want = [...p.shape];
    if (e.shape.length !== want.length || e.shape.some((d, i) => d !== want[i])) {
      throw new Error(`${source}: tensor ${p.name} has shape [${e.shape}], expected [${want}]`);
    }
    if (e.data_offsets[1] - e.data_offsets[0] !== p.size * 4) throw new Error(`${source}: tensor ${p.name}: data_offsets disagree with its shape`);
    return { p, data: file.f32(p.name) };
  });
  // a fresh view: the Float32Array must be made after any allocation that may have grown memory
  const flat = params.data.view();
  for (const { p, data } of staged) flat.set(data, p.offset);
  return file.metadata;
}
