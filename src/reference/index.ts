/**
 * @file The f64 reference implementation of every op (Float64Array loops, for clarity).
 */
export * from './ndarray.js';
export * from './elementwise.js';
export * from './reduce.js';
