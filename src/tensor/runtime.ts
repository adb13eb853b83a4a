/**
 * @file The default device that creation ops use, and its lifetime.
 */
import { Device, type DeviceOptions } from './device.js';

let current: Device | null = null;
/** The creation in progress: concurrent init() calls share it; a failed one is forgotten. */
let creating: Promise<Device> | null = null;

/** Creates (or returns) the default device; after a failed creation, the next call tries afresh. */
export async function init(opts: DeviceOptions = {}): Promise<Device> {
  if (current) return current;
  if (!creating) {
    creating = Device.create(opts).then(
      (d) => {
        current = d;
        creating = null;
        return d;
      },
      (e: unknown) => {
        creating = null;
        throw e;
      },
    );
  }
  return creating;
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
