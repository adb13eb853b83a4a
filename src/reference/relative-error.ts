/**
 * @file How far a result is from its f64 reference: the relative error of the whole output.
 */

/**
 * ‖out − ref‖ / ‖scale‖ (scale defaults to ref; pass e.g. the reduction of |x| for sums that
 * cancel). A NaN anywhere in out − ref gives Infinity; a zero scale gives the absolute ‖out − ref‖.
 */
export function relativeError(out: ArrayLike<number>, ref: ArrayLike<number>, scale: ArrayLike<number> = ref): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = out[i] - ref[i];
    num += d * d;
    den += scale[i] * scale[i];
  }
  if (Number.isNaN(num)) return Infinity;
  return den === 0 ? Math.sqrt(num) : Math.sqrt(num / den);
}
