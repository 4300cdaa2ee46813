// Finds and instantiates the kernel core. Node reads the .wasm from the package's build/
// folder; browsers (or any embedder) pass the bytes or a URL. From the package folder, 'auto'
// uses the relaxed-SIMD build where the engine accepts relaxed SIMD (Node 22+, Node 20 after
// enableRelaxedSimd()) and it measured faster on this machine (choose_build.ts); from a URL
// (browsers), wherever the engine accepts it; the plain SIMD build otherwise. A caller can force either.
// Free of Node built-ins: the package folder is read through process.getBuiltinModule.
import { Heap, Buf } from './heap.js';
import { chooseAutoBuild, type ChooseDeps } from './choose_build.js';

export type Flavor = 'simd' | 'relaxed' | 'debug';

export const WASM_FILES: Record<Flavor, string> = {
  simd: 'iruka.wasm',
  relaxed: 'iruka.relaxed.wasm',
  debug: 'iruka.debug.wasm',
};

export interface CoreOptions {
  /**
   * 'auto' (default) picks relaxed where the engine accepts it (from the package folder: and
   * where it measured faster on this machine, src/core/choose_build.ts), else simd (with `bytes` or a
   * `.wasm` URL: whatever that module is). A named flavour must match the module loaded, and
   * 'relaxed' throws where the engine lacks relaxed SIMD. Env IRUKA_FLAVOR stands in for a missing `flavor`.
   */
  flavor?: Flavor | 'auto';
  /** The module's bytes (any flavour). */
  bytes?: BufferSource;
  /** Where to fetch the module from (browsers): a `.wasm` file, or the folder holding iruka.wasm and iruka.relaxed.wasm. */
  url?: string | URL;
}

/** Exports every flavour has; kernel families add theirs in src/core/kernels/*.ts. */
export interface BaseExports {
  memory: WebAssembly.Memory;
  heap_base(): number;
  is_relaxed(): number;
  peak_madd(iters: number, seed: number): number;
  peak_madds_per_iter(): number;
  peak_madd_chained(iters: number, seed: number): number;
}

/** One instance of the core: its exports, memory, allocator and a reusable scratch area. */
export class Core {
  readonly heap: Heap;
  private scratch_: Buf | null = null;

  constructor(
    readonly instance: WebAssembly.Instance,
    readonly flavor: Flavor,
  ) {
    this.heap = new Heap(this.exports.memory, this.exports.heap_base());
  }

  get exports(): BaseExports {
    return this.instance.exports as unknown as BaseExports;
  }

  /** The exports typed as a kernel family's interface. */
  fns<T>(): T {
    return this.instance.exports as unknown as T;
  }

  get memory(): WebAssembly.Memory {
    return this.exports.memory;
  }

  /**
   * Scratch space for kernels that need it (im2col columns, packed panels). It is one block,
   * grown on demand and reused, so do not hold it across another kernel call.
   */
  scratch(floats: number): Buf {
    const need = Math.max(1, Math.ceil(floats));
    if (!this.scratch_ || this.scratch_.length < need) {
      if (this.scratch_) this.heap.free(this.scratch_);
      this.scratch_ = this.heap.alloc(need);
    }
    return this.scratch_;
  }

  /** Frees the scratch block (it is counted in heap.liveBytes). */
  releaseScratch(): void {
    if (this.scratch_) this.heap.free(this.scratch_);
    this.scratch_ = null;
  }
}

/**
 * A minimal module whose one function uses f32x4.relaxed_madd: engines validate it exactly when
 * they accept relaxed-SIMD opcodes. Checking it needs no file system, so browsers can ask too.
 */
const RELAXED_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b, // type: (v128 v128 v128) -> v128
  0x03, 0x02, 0x01, 0x00, // function 0 has that type
  0x0a, 0x0d, 0x01, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, 0x85, 0x02, 0x0b, // body: relaxed_madd
]);

/** Whether this engine accepts relaxed-SIMD opcodes (works in Node and in browsers). */
export function relaxedSupported(): boolean {
  return WebAssembly.validate(RELAXED_PROBE);
}

/**
 * Loads the core asynchronously. Where the module comes from: `bytes`, else `url` (a `.wasm`
 * file, or a folder holding the build's files), else the package's build/ folder (Node).
 * `core.flavor` is always the build that runs (its `is_relaxed()` export is checked); a named
 * flavour that disagrees with the module found throws.
 */
export async function loadCore(options: CoreOptions = {}): Promise<Core> {
  const picked = await pickAsync(options, pickFlavor(options.flavor));
  checkValid(picked);
  const instance = await instantiateAsync(await WebAssembly.compile(picked.bytes));
  return new Core(instance, flavorOf(instance, picked));
}

/** Synchronous load from bytes or the package folder (Node only): for workers and tests. */
export function loadCoreSync(options: Omit<CoreOptions, 'url'> = {}): Core {
  const picked = pickSync(options, pickFlavor(options.flavor));
  checkValid(picked);
  const instance = instantiate(new WebAssembly.Module(picked.bytes));
  return new Core(instance, flavorOf(instance, picked));
}

/** A module's bytes, the flavour they are believed to be ('auto': not known until instantiated), and where they came from. */
interface Picked {
  bytes: BufferSource;
  named: Flavor | 'auto';
  source: string;
}

async function pickAsync(options: CoreOptions, want: Flavor | 'auto'): Promise<Picked> {
  if (options.bytes) return { bytes: options.bytes, named: want, source: 'the module passed as bytes' };
  if (options.url === undefined) return pickSync(options, want);
  const base = new URL(String(options.url), typeof location === 'undefined' ? undefined : location.href);
  // one file: its flavour is whatever it turns out to be
  if (base.pathname.endsWith('.wasm')) return { bytes: await fetchWasm(base), named: want, source: base.href };
  const dir = base.href.endsWith('/') ? base : new URL(base.href + '/');
  const at = (f: Flavor) => new URL(WASM_FILES[f], dir);
  if (want !== 'auto') return { bytes: await fetchWasm(at(want)), named: want, source: at(want).href };
  const relaxed = relaxedSupported() ? await fetchWasm(at('relaxed')).catch(() => null) : null;
  if (relaxed) return { bytes: relaxed, named: 'relaxed', source: at('relaxed').href };
  return { bytes: await fetchWasm(at('simd')), named: 'simd', source: at('simd').href };
}

function pickSync(options: Omit<CoreOptions, 'url'>, want: Flavor | 'auto'): Picked {
  if (options.bytes) return { bytes: options.bytes, named: want, source: 'the module passed as bytes' };
  const f = want !== 'auto' ? want : chooseAutoBuild(packagedBuilds()).flavor;
  return { bytes: readPackaged(f), named: f, source: `the package's build/${WASM_FILES[f]}` };
}

/** What choosing 'auto' in the package folder needs: relaxed only where measured faster (src/core/choose_build.ts). */
export function packagedBuilds(): ChooseDeps {
  return { relaxedSupported: relaxedSupported(), read: readPackaged, load: (flavor) => loadCoreSync({ flavor }) };
}

async function fetchWasm(url: URL): Promise<Uint8Array<ArrayBuffer>> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`loadCore: fetching ${url} failed: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

function pickFlavor(f: CoreOptions['flavor']): Flavor | 'auto' {
  const env = typeof process !== 'undefined' ? process.env?.IRUKA_FLAVOR : undefined;
  const want = f ?? (env as Flavor | 'auto' | undefined) ?? 'auto';
  if (want !== 'auto' && !(want in WASM_FILES)) {
    throw new Error(`loadCore: unknown flavor '${want}' (expected auto, simd, relaxed or debug)`);
  }
  return want;
}

const RELAXED_HINT = "on Node 20 call enableRelaxedSimd() from 'iruka/relaxed-simd' before loading (or run node with --experimental-wasm-relaxed-simd), or use flavor 'simd'";

function checkValid({ bytes, named, source }: Picked): void {
  if (WebAssembly.validate(bytes)) return;
  if (named === 'relaxed') throw new Error(`loadCore: this engine rejects the relaxed-SIMD build (${source}); ${RELAXED_HINT}`);
  const maybeRelaxed = named === 'auto' && !relaxedSupported() ? `; if it is the relaxed-SIMD build, this engine lacks relaxed SIMD: ${RELAXED_HINT}` : '';
  throw new Error(`loadCore: ${source} does not validate here (does this engine support WebAssembly SIMD?)${maybeRelaxed}`);
}

/**
 * The flavour an instance really is. `is_relaxed()` tells the relaxed build from the others;
 * a plain module named 'debug' is taken at its word (the debug and release builds export the same).
 */
function flavorOf(instance: WebAssembly.Instance, { named, source }: Picked): Flavor {
  const relaxed = (instance.exports as unknown as BaseExports).is_relaxed() === 1;
  if (named === 'auto') return relaxed ? 'relaxed' : 'simd';
  if ((named === 'relaxed') !== relaxed) {
    const is = relaxed ? "the relaxed-SIMD build (is_relaxed() is 1)" : "a plain SIMD build (is_relaxed() is 0)";
    throw new Error(`loadCore: flavor '${named}' was asked for, but ${source} is ${is}; ask for flavor 'auto' or '${relaxed ? 'relaxed' : 'simd'}'`);
  }
  return named;
}

/** Reads build/<file> next to the package root, from src/core (tsx, vitest) or dist/src/core. */
function readPackaged(flavor: Flavor): Uint8Array<ArrayBuffer> {
  const fs = nodeFs();
  const here = new URL('.', import.meta.url);
  for (const up of ['../../build/', '../../../build/']) {
    const url = new URL(up + WASM_FILES[flavor], here);
    if (fs.existsSync(url)) return new Uint8Array(fs.readFileSync(url));
  }
  throw new Error(`loadCore: ${WASM_FILES[flavor]} not found in the package's build/ folder; run 'npm run build'`);
}

function nodeFs(): typeof import('node:fs') {
  const get = typeof process !== 'undefined' ? (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule : undefined;
  if (!get) throw new Error('loadCore: no file system here; pass { bytes } or { url }');
  return get('node:fs') as typeof import('node:fs');
}

/**
 * The module's only import is AssemblyScript's abort, decoded into a readable Error. Browsers
 * refuse synchronous instantiation of large modules on the main thread, hence the async path.
 */
function instantiate(module: WebAssembly.Module): WebAssembly.Instance {
  const env = abortEnv();
  return env.bind(new WebAssembly.Instance(module, env.imports));
}

async function instantiateAsync(module: WebAssembly.Module): Promise<WebAssembly.Instance> {
  const env = abortEnv();
  return env.bind(await WebAssembly.instantiate(module, env.imports));
}

function abortEnv() {
  let memory: WebAssembly.Memory | null = null;
  const text = (ptr: number): string => {
    if (!memory || !ptr) return '';
    const len = new Uint32Array(memory.buffer, ptr - 4, 1)[0] >>> 1;
    return String.fromCharCode(...new Uint16Array(memory.buffer, ptr, len));
  };
  return {
    imports: {
      env: {
        abort(msg: number, file: number, line: number, col: number) {
          throw new Error(`iruka kernel assertion: ${text(msg) || 'abort'} at ${text(file)}:${line}:${col}`);
        },
      },
    },
    bind(instance: WebAssembly.Instance): WebAssembly.Instance {
      memory = instance.exports.memory as WebAssembly.Memory;
      return instance;
    },
  };
}
