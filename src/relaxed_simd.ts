// Node 20 accepts relaxed-SIMD modules only with V8's --experimental-wasm-relaxed-simd (Node
// 22+ has them on). An app calls enableRelaxedSimd() once, before loading the core, to get the
// faster relaxed build there without putting a flag on its node command line (a flag a later
// Node's V8 no longer knows stops that Node from starting, as --experimental-wasm-simd did).
// The library never calls it by itself: embedders keep control of their engine's flags.
import { setFlagsFromString } from 'node:v8';
import { relaxedSupported } from './core/load.js';

const NODE_MAJOR = Number(process.versions.node.split('.')[0]);

/**
 * Turns on V8's relaxed-SIMD support where Node needs the flag (Node < 22) and returns whether
 * the engine accepts relaxed SIMD now. V8 flags are process-wide: worker threads started
 * afterwards see it too. Safe to call more than once; a no-op on Node 22+.
 */
export function enableRelaxedSimd(): boolean {
  if (!relaxedSupported() && NODE_MAJOR < 22 && !process.execArgv.includes('--experimental-wasm-relaxed-simd')) {
    setFlagsFromString('--experimental-wasm-relaxed-simd');
  }
  return relaxedSupported();
}
