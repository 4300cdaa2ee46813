// Module facts the TypeScript loader reads once.

/** First free byte after the module's static data: the TS heap starts here (aligned up). */
export function heap_base(): usize {
  return __heap_base;
}

/** 1 in the relaxed-SIMD build (madd is fused), 0 in the plain build. */
export function is_relaxed(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}
