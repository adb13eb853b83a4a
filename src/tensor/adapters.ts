/**
 * @file Dawn's instance and the adapters it offers: enumeration, matching a user's wish
 * (WIDTHSCOPE_ADAPTER / --adapter) on the host, and the one-line form `devices` prints.
 */
import { create } from 'webgpu';
import './gpu-globals.js';
import { captureNativeStderr } from './native-stderr.js';
import { UsageError } from '../util/usage-error.js';

export interface AdapterDescription {
  vendor: string;
  architecture: string;
  /** Dawn's device name (e.g. `llvmpipe-llvm-15-0-6-256-bits-`). */
  device: string;
  description: string;
  /** The adapter's narrowest subgroup (0 when it does not say). */
  subgroupMinSize: number;
}

export interface OfferedAdapter {
  adapter: GPUAdapter;
  info: AdapterDescription;
}

/**
 * Dawn's instance, made once and kept for the process: dropping it at the last device's destroy
 * let it be collected while the binding's AsyncRunner could still call its ProcessEvents (a test
 * file's process once hung there after shutdown, blocked on a mutex inside ProcessEvents). Its
 * flags come from WIDTHSCOPE_DAWN_FLAGS only (e.g. `backend=opengl`), never from the adapter
 * wish, so one failed device creation leaves it as good as new.
 */
let instance: GPU | null = null;
/** Whether the instance has discovered its physical devices (its first adapter request). */
let discovered = false;

/** Dawn's limit-clamping notices (dawn/native/Limits.cpp): informational, printed at discovery. */
export const DAWN_LIMIT_WARNING = /^Warning: maxDynamic(?:Uniform|Storage)BuffersPerPipelineLayout artificially reduced from \d+ to \d+ to fit dynamic offset allocation limit\.$/;

function dawnInstance(): GPU {
  if (instance) return instance;
  const flags = (process.env.WIDTHSCOPE_DAWN_FLAGS ?? '').split(' ').filter((f) => f !== '');
  const bad = flags.find((f) => !/^[^=]+=/.test(f));
  if (bad !== undefined) {
    throw new UsageError(`WIDTHSCOPE_DAWN_FLAGS: expected space-separated key=value flags (e.g. backend=vulkan), got '${bad}'`);
  }
  instance = create(flags);
  return instance;
}

/** Whether an adapter runs on the CPU (lavapipe, llvmpipe, SwiftShader). */
export function isSoftwareAdapter(info: { vendor: string; architecture: string; description: string }): boolean {
  const text = `${info.vendor} ${info.architecture} ${info.description}`.toLowerCase();
  return /llvmpipe|lavapipe|swiftshader|software|cpu/.test(text);
}

export function describeAdapterInfo(a: GPUAdapter): AdapterDescription {
  const info = a.info as GPUAdapterInfo & { subgroupMinSize?: number };
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    subgroupMinSize: info.subgroupMinSize ?? 0,
  };
}

/** `vendor / architecture / description`, as `widthscope devices` prints it. */
export function formatAdapter(info: AdapterDescription): string {
  return `${info.vendor} / ${info.architecture} / ${info.description || info.device}`;
}

/**
 * Every adapter the instance offers, over all feature levels, power preferences and the
 * fallback flag (`preferred` first: that is what a plain request gets). Duplicates (the same
 * vendor, architecture, device and description) are listed once. The first call discovers the
 * physical devices; what Dawn prints then goes to stderr except its limit-clamping notices,
 * which are shown only when `verbose`.
 */
export async function enumerateAdapters(preferred?: GPUPowerPreference, verbose = false): Promise<OfferedAdapter[]> {
  const gpu = dawnInstance();
  const requests: GPURequestAdapterOptions[] = [{ powerPreference: preferred }];
  for (const featureLevel of ['core', 'compatibility'])
    for (const powerPreference of [undefined, 'low-power', 'high-performance'] as const)
      for (const forceFallbackAdapter of [false, true]) requests.push({ featureLevel, powerPreference, forceFallbackAdapter });
  const start = () => requests.map((r) => gpu.requestAdapter(r));
  let pending: Promise<GPUAdapter | null>[];
  if (discovered) {
    pending = start();
  } else {
    const { value, text } = captureNativeStderr(start);
    discovered = true;
    pending = value;
    const shown = text.split('\n').filter((line, i, all) => (i < all.length - 1 || line !== '') && (verbose || !DAWN_LIMIT_WARNING.test(line)));
    if (shown.length > 0) process.stderr.write(`${shown.join('\n')}\n`);
  }
  const out: OfferedAdapter[] = [];
  const seen = new Set<string>();
  for (const r of await Promise.allSettled(pending)) {
    if (r.status !== 'fulfilled' || !r.value) continue;
    const info = describeAdapterInfo(r.value);
    const key = JSON.stringify([info.vendor, info.architecture, info.device, info.description]);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ adapter: r.value, info });
  }
  return out;
}

/** Whether `wish` is a case-insensitive substring of the adapter's vendor, architecture, device, description or `devices` line. */
export function adapterMatches(info: AdapterDescription, wish: string): boolean {
  const w = wish.trim().toLowerCase();
  return [info.vendor, info.architecture, info.device, info.description, formatAdapter(info)].some((f) => f.toLowerCase().includes(w));
}

/** The first offered adapter that matches `wish`; a UsageError listing what is offered when none does. */
export function pickAdapter(offered: OfferedAdapter[], wish: string): OfferedAdapter {
  if (wish.trim() === '') throw new UsageError(`--adapter / WIDTHSCOPE_ADAPTER: expected part of an adapter's name, got '${wish}'`);
  const hit = offered.find((o) => adapterMatches(o.info, wish));
  if (hit) return hit;
  const list = offered.length ? offered.map((o) => `'${formatAdapter(o.info)}'`).join(', ') : 'none';
  throw new UsageError(
    `--adapter / WIDTHSCOPE_ADAPTER: no adapter matches '${wish}'; expected a case-insensitive part of the vendor, ` +
      `architecture, device or description of one of the adapters available: ${list}` +
      ' (other Dawn backends: WIDTHSCOPE_DAWN_FLAGS=backend=<name>)',
  );
}
