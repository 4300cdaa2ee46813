// The entry asc compiles: it re-exports every kernel family and nothing else.
// Layout conventions shared by all files: NCHW activations, conv weight [out,in,kh,kw],
// linear weight [out,in]; pointers are byte addresses of f32 (or i32) data; sizes are element
// counts. Forward kernels overwrite their outputs; backward kernels accumulate (+=) into theirs.
export * from './meta';
export * from './peak';
export * from './elementwise';
export * from './gemm';
export * from './linear';
export * from './conv2d';
export * from './pool';
export * from './activation';
export * from './softmax_xent';
export * from './batchnorm';
export * from './concat';
export * from './losses';
export * from './optim';
