// error_flags.wgsl (included by embedding, loss and anomaly): records a problem into the device's
// error flags, which the including kernel binds as `flags: array<atomic<u32>>` (8 words, see
// src/tensor/error-flags.ts): record 0 (words 0-3) a bad index, record 1 (words 4-7) a non-finite
// output; each [tag, value bits, flat position, unused]. The first writer wins: a compare-exchange
// of the tag from 0, and only the winner stores value and position. The host reads the words with
// its next readback and clears them.
fn flag_first(base: u32, tag: u32, value: u32, pos: u32) {
  if (atomicLoad(&flags[base]) != 0u) { return; }
  loop {
    let r = atomicCompareExchangeWeak(&flags[base], 0u, tag);
    if (r.exchanged) {
      atomicStore(&flags[base + 1u], value);
      atomicStore(&flags[base + 2u], pos);
      return;
    }
    if (r.old_value != 0u) { return; }
  }
}

// Record 0: index `value` at flat position `pos` of the indices is outside the op's range.
fn flag_index(tag: u32, value: i32, pos: u32) {
  flag_first(0u, tag, bitcast<u32>(value), pos);
}

// Whether index `value` lies in [0, limit).
fn index_in_range(value: i32, limit: u32) -> bool {
  return value >= 0 && u32(value) < limit;
}

// indices[pos] (an index binding of the including kernel), flagged in record 0 with `tag` when
// `report` holds and it lies outside [0, limit).
fn read_index(indices: ptr<storage, array<i32>, read>, pos: u32, limit: u32, tag: u32, report: bool) -> i32 {
  let value = (*indices)[pos];
  if (report && !index_in_range(value, limit)) { flag_index(tag, value, pos); }
  return value;
}
