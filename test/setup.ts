// Runs before every test file: the relaxed-SIMD build must load on Node 20 too.
import '../src/cli/relaxed_simd.js';
