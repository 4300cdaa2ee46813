// Imported first by our command-line entries, benchmarks and test setup: Node 20 accepts
// relaxed-SIMD modules only with V8's --experimental-wasm-relaxed-simd (Node 22+ has them on).
// Setting it here rather than on the node command line keeps the npm scripts and `bin`s
// working on a later Node whose V8 has dropped the flag (as happened to
// --experimental-wasm-simd). V8 flags are process-wide, so worker threads see it as well.
// The library itself never does this: embedders keep control of their engine's flags.
import { setFlagsFromString } from 'node:v8';

if (Number(process.versions.node.split('.')[0]) < 22 && !process.execArgv.includes('--experimental-wasm-relaxed-simd')) {
  setFlagsFromString('--experimental-wasm-relaxed-simd');
}
