// Imported first by our command-line entries: Node 20 accepts relaxed-SIMD modules only with
// --experimental-wasm-relaxed-simd (Node 22+ has it on). The npm scripts pass the flag; this
// turns it on for `bin` use too. V8 flags are process-wide, so worker threads see it as well.
// The library itself never does this: embedders keep control of their engine's flags.
import { setFlagsFromString } from 'node:v8';

if (Number(process.versions.node.split('.')[0]) < 22 && !process.execArgv.includes('--experimental-wasm-relaxed-simd')) {
  setFlagsFromString('--experimental-wasm-relaxed-simd');
}
