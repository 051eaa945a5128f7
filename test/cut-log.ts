/**
 * A real dump cut short inside its kernel log, for the tests of what `dmesg`, `info` and the web
 * app say of a cut log. The cut is found by bisection over the file size, never hard-coded: the
 * smallest prefix that still holds at least half the log's records (one byte less holds fewer).
 */
import { MemorySource } from "../src/bytes/source.js";
import { openKernelSource } from "../src/cli/kernel-open.js";
import { readKernelLog } from "../src/kernel/printk.js";

/** Records read from the first `size` bytes of the dump (-1: the log could not be read at all). */
export function recordsIn(bytes: Uint8Array, size: number): number {
  try {
    const k = openKernelSource(new MemorySource(bytes.subarray(0, size)), "cut");
    try {
      return readKernelLog(k.kernel.space, k.vmcoreinfo).records.length;
    } finally {
      k.close();
    }
  } catch {
    return -1;
  }
}

/** Where to cut `bytes` so the log is read in part: its size, the records read and the total. */
export function cutInsideLog(bytes: Uint8Array): { size: number; read: number; total: number } {
  const total = recordsIn(bytes, bytes.length);
  let lo = 0;
  let hi = bytes.length;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (recordsIn(bytes, mid) >= total / 2) hi = mid;
    else lo = mid;
  }
  return { size: hi, read: recordsIn(bytes, hi), total };
}
