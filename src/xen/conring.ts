/**
 * The hypervisor's console ring (xen/drivers/char/console.c), read with symbols only:
 *   static char *conring;            (points to _conring in .init.data, or to a xenheap copy
 *                                      console_init_ring() allocated: a direct-map address)
 *   static uint32_t conring_size;    (a power of two)
 *   static uint32_t conringp, conringc;   (free-running producer/consumer indices)
 * Bytes [conringp − min(conringp − conringc, size), conringp) are in the ring at
 * index & (size − 1). In Xen ≥ 3.3 conringc only moves when the ring overflows (or the
 * console_ring keyhandler clears it), so the ring holds the newest `size` bytes logged.
 */
import { latin1 } from "../bytes/cursor.js";
import { FormatError, hex, LimitError } from "../errors.js";
import { readXenU32, readXenWord, type XenVirtualSpace } from "./hypervisor.js";
import type { SymbolTable } from "./symbols.js";

export interface XenConsoleRing {
  /** Address of the ring buffer (value of `conring`). */
  buffer: bigint;
  size: number;
  producer: number;
  consumer: number;
  /** Index (bytes since boot, mod 2^32) of the oldest byte held: bytes before it were dropped. */
  firstHeld: number;
  /** The ring's text, oldest first. */
  text: string;
}

/** Rings above this are certainly corrupt (Xen's conring_size= accepts up to a few MiB). */
const MAX_RING = 1 << 28;

/** CONRING_SIZE of Xen 3.x, where the ring was a fixed array (drivers/char/console.c). */
const CONRING_SIZE_3X = 16384;

export function readConsoleRing(space: XenVirtualSpace, syms: SymbolTable): XenConsoleRing {
  const ringSym = syms.require("conring", "the console ring");
  const prodVar = syms.require("conringp", "the console ring");
  const consVar = syms.require("conringc", "the console ring");
  const sizeVar = syms.get("conring_size");
  let buffer: bigint;
  let size: number;
  if (sizeVar !== undefined) {
    // Xen 4.x: `char *conring` (possibly re-allocated in the xenheap) and `conring_size`
    buffer = readXenWord(space, ringSym);
    size = readXenU32(space, sizeVar);
  } else {
    // Xen 3.x: `static char conring[CONRING_SIZE]`, the symbol is the ring itself
    buffer = ringSym;
    const st = syms.sizeOf("conring");
    size = st !== undefined && st <= BigInt(MAX_RING) ? Number(st) : CONRING_SIZE_3X;
  }
  const producer = readXenU32(space, prodVar);
  const consumer = readXenU32(space, consVar);
  if (size === 0 || (size & (size - 1)) !== 0)
    throw new FormatError(`conring_size ${size} is not a power of two`, undefined, "a power of two");
  if (size > MAX_RING) throw new LimitError("conring_size", size, MAX_RING);
  // uint32 arithmetic: the indices wrap at 2^32
  const used = (producer - consumer) >>> 0;
  const count = Math.min(used, size);
  const start = (producer - count) >>> 0;
  const out = new Uint8Array(count);
  const first = start & (size - 1);
  const n1 = Math.min(count, size - first);
  if (n1 > 0) space.read(buffer + BigInt(first), n1, out.subarray(0, n1));
  if (count > n1) space.read(buffer, count - n1, out.subarray(n1));
  let end = out.length;
  // a NUL run at the end means the ring was never written that far (should not happen)
  while (end > 0 && out[end - 1] === 0) end--;
  const text = latin1(out.subarray(0, end));
  return { buffer, size, producer, consumer, firstHeld: start, text };
}

export function describeRing(r: XenConsoleRing): string {
  return `ring ${hex(r.buffer)} size ${r.size} producer ${r.producer} consumer ${r.consumer}`;
}
