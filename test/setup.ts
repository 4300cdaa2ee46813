// Runs before every test file: the relaxed-SIMD build must load on Node 20 too.
import '../src/cli/relaxed_simd.js';

// flavor 'auto' must not time the builds in tests (src/core/choose_build.ts): with IRUKA_TUNE=off
// it picks relaxed wherever supported, the same in every run; spawned CLIs inherit it
process.env.IRUKA_TUNE ??= 'off';
