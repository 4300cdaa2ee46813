// Finds and instantiates the kernel core. Node reads the .wasm from the package's build/
// folder; browsers (or any embedder) pass the bytes or a URL. The relaxed-SIMD build is used
// where the engine validates it (Node 22+, current browsers, Node 20 with
// --experimental-wasm-relaxed-simd), the plain SIMD build otherwise; a caller can force either.
import { Heap, Buf } from './heap.js';

export type Flavor = 'simd' | 'relaxed' | 'debug';

export const WASM_FILES: Record<Flavor, string> = {
  simd: 'iruka.wasm',
  relaxed: 'iruka.relaxed.wasm',
  debug: 'iruka.debug.wasm',
};

export interface CoreOptions {
  /** 'auto' (default) picks relaxed where the engine accepts it, else simd. Env IRUKA_FLAVOR overrides 'auto'. */
  flavor?: Flavor | 'auto';
  /** The module's bytes (any flavour); `flavor` then only names what they are. */
  bytes?: BufferSource;
  /** Where to fetch the module from (browsers). */
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

/** Whether this engine accepts relaxed-SIMD opcodes (checked by validating the relaxed build). */
export function relaxedSupported(): boolean {
  try {
    return WebAssembly.validate(readPackaged('relaxed'));
  } catch {
    return false;
  }
}

export async function loadCore(options: CoreOptions = {}): Promise<Core> {
  const { bytes, flavor } = await resolve(options, async (f) => {
    if (options.url !== undefined) {
      const base = new URL(String(options.url), typeof location === 'undefined' ? undefined : location.href);
      const url = base.pathname.endsWith('.wasm') ? base : new URL(WASM_FILES[f], base.href.endsWith('/') ? base : base.href + '/');
      const res = await fetch(url);
      if (!res.ok) throw new Error(`loadCore: fetching ${url} failed: HTTP ${res.status}`);
      return new Uint8Array(await res.arrayBuffer());
    }
    return readPackaged(f);
  });
  const module = await WebAssembly.compile(bytes);
  return new Core(await instantiateAsync(module), flavor);
}

/** Synchronous load from the package folder (Node only): for workers and tests. */
export function loadCoreSync(options: Omit<CoreOptions, 'url'> = {}): Core {
  const want = pickFlavor(options.flavor);
  let flavor: Flavor;
  let bytes: BufferSource;
  if (options.bytes) {
    bytes = options.bytes;
    flavor = want === 'auto' ? 'simd' : want;
  } else if (want === 'auto') {
    const relaxed = readPackaged('relaxed');
    [bytes, flavor] = WebAssembly.validate(relaxed) ? [relaxed, 'relaxed'] : [readPackaged('simd'), 'simd'];
  } else {
    bytes = readPackaged(want);
    flavor = want;
  }
  checkValid(bytes, flavor);
  return new Core(instantiate(new WebAssembly.Module(bytes)), flavor);
}

async function resolve(
  options: CoreOptions,
  read: (f: Flavor) => Promise<Uint8Array<ArrayBuffer>>,
): Promise<{ bytes: BufferSource; flavor: Flavor }> {
  const want = pickFlavor(options.flavor);
  if (options.bytes) {
    const flavor = want === 'auto' ? 'simd' : want;
    checkValid(options.bytes, flavor);
    return { bytes: options.bytes, flavor };
  }
  if (want === 'auto') {
    const relaxed = await read('relaxed').catch(() => null);
    if (relaxed && WebAssembly.validate(relaxed)) return { bytes: relaxed, flavor: 'relaxed' };
    return { bytes: await read('simd'), flavor: 'simd' };
  }
  const bytes = await read(want);
  checkValid(bytes, want);
  return { bytes, flavor: want };
}

function pickFlavor(f: CoreOptions['flavor']): Flavor | 'auto' {
  const env = typeof process !== 'undefined' ? process.env?.IRUKA_FLAVOR : undefined;
  const want = f ?? (env as Flavor | 'auto' | undefined) ?? 'auto';
  if (want !== 'auto' && !(want in WASM_FILES)) {
    throw new Error(`loadCore: unknown flavor '${want}' (expected auto, simd, relaxed or debug)`);
  }
  return want;
}

function checkValid(bytes: BufferSource, flavor: Flavor): void {
  if (WebAssembly.validate(bytes)) return;
  if (flavor === 'relaxed') {
    throw new Error(
      'loadCore: this engine rejects the relaxed-SIMD build; on Node 20 run with --experimental-wasm-relaxed-simd, or use flavor "simd"',
    );
  }
  throw new Error(`loadCore: the ${flavor} module does not validate here (does this engine support WebAssembly SIMD?)`);
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
