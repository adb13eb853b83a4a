/**
 * @file The default device that creation ops use, and its lifetime.
 */
import { Device, type DeviceOptions } from './device.js';

let current: Device | null = null;

/** Creates (or returns) the default device. */
export async function init(opts: DeviceOptions = {}): Promise<Device> {
  if (!current) current = await Device.create(opts);
  return current;
}

/** The default device; throws if `init()` has not been awaited. */
export function getDevice(): Device {
  if (!current) throw new Error('widthscope: no device; await init() first');
  return current;
}

/** Destroys the default device (call before exit: Dawn can crash if work is pending at exit). */
export function shutdown(): void {
  current?.destroy();
  current = null;
}

export function memoryStats() {
  return getDevice().memoryStats();
}
