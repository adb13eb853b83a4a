/**
 * @file Learning-rate schedules: a function from step to a factor of the base learning rate.
 */

export type Schedule = (step: number) => number;

export type ScheduleSpec = { kind: 'constant' } | { kind: 'warmup-cosine'; warmup: number; total: number; final?: number };

export const constant = (): Schedule => () => 1;

/** Linear warmup from 0 over `warmup` steps, then cosine decay to `final` at `total`. */
export function warmupCosine(warmup: number, total: number, final = 0): Schedule {
  if (!(warmup >= 0) || !(total > warmup)) throw new Error(`warmupCosine: need 0 <= warmup < total, got warmup ${warmup}, total ${total}`);
  return (step) => {
    if (step < warmup) return (step + 1) / warmup;
    const t = Math.min(1, (step - warmup) / (total - warmup));
    return final + (1 - final) * 0.5 * (1 + Math.cos(Math.PI * t));
  };
}

export function makeSchedule(spec: ScheduleSpec | undefined): Schedule {
  if (!spec || spec.kind === 'constant') return constant();
  return warmupCosine(spec.warmup, spec.total, spec.final);
}
