// Every typed kernel wrapper, one module per family (mirrors assembly/).
export * from './elementwise.js';
export * from './gemm.js';
export * from './linear.js';
export * from './conv2d.js';
export * from './pool.js';
export * from './activation.js';
export * from './softmax_xent.js';
export * from './batchnorm.js';
export * from './concat.js';
export * from './losses.js';
export * from './optim.js';
