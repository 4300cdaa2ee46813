// Imported first by our command-line entries, benchmarks and test setup, so that Node 20 runs
// the relaxed-SIMD build too (see src/relaxed_simd.ts; the library itself never does this).
import { enableRelaxedSimd } from '../relaxed_simd.js';

enableRelaxedSimd();
