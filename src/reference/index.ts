/**
 * @file The f64 reference implementation of every op (Float64Array loops, for clarity).
 */
export * from './ndarray.js';
export * from './elementwise.js';
export * from './reduce.js';
export * from './softmax.js';
export * from './norm.js';
export * from './loss.js';
export * from './embedding.js';
export * from './optim.js';
export * from './finite-diff.js';
export * from './matmul.js';
export * from './conv.js';
export * from './attention.js';
export * from './relative-error.js';
