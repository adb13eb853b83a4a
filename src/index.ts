/**
 * @file widthscope's public API.
 */
export { Device, type DeviceOptions, type DispatchSpec } from './tensor/device.js';
export { init, getDevice, shutdown, memoryStats } from './tensor/runtime.js';
export { Tensor, type DType } from './tensor/tensor.js';
export { tidy, tidyAsync, keep } from './tensor/scope.js';
export type { MemoryStats } from './tensor/pool.js';
// The differentiable ops (every raw op name, recorded on the tape when gradients are enabled).
export * from './autograd/index.js';
// The raw launchers, without autograd (kernels, benchmarks).
export * as raw from './ops/index.js';
