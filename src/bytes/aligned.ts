/**
 * Buffers whose address is known modulo 64, for reads whose speed depends on it.
 *
 * Measured on this project's x86_64 machine (AMD EPYC, Linux 6.x, Node 20): a `read`/`pread` of
 * a file in the page cache copies at ~7 GB/s when the destination address and the file offset
 * are equal modulo 64, and at ~1.5–2.5 GB/s for some other pairs (a page-aligned file offset
 * into a destination 8–24 bytes past a cache line, say). A large ArrayBuffer comes from malloc's
 * mmap at 16 bytes past a page, so a plain `new Uint8Array(1 << 20)` is one of the slow cases:
 * 110 MB read in 1 MiB pieces took 51–75 ms into it and 14–16 ms into a buffer placed right.
 * JavaScript cannot see an ArrayBuffer's address, but a WebAssembly memory starts on a page, so
 * a view into one has a known address modulo 64: its byteOffset's.
 */

const pageAligned = new WeakSet<ArrayBufferLike>();

/** Record that `buffer` starts on a page (a WebAssembly memory's buffer). */
export function markPageAligned(buffer: ArrayBufferLike): void {
  pageAligned.add(buffer);
}

/** The view's address modulo 64 where it is known, else undefined. */
export function addressMod64(view: Uint8Array): number | undefined {
  return pageAligned.has(view.buffer) ? view.byteOffset & 63 : undefined;
}

/**
 * `bytes` bytes starting on a page (a WebAssembly memory of its own), or undefined where
 * WebAssembly is missing. Not transferable (a WebAssembly memory's buffer cannot be detached).
 */
export function pageAlignedBytes(bytes: number): Uint8Array | undefined {
  if (typeof WebAssembly !== "object" || !Number.isSafeInteger(bytes) || bytes <= 0 || bytes > 1 << 30)
    return undefined;
  try {
    const memory = new WebAssembly.Memory({ initial: Math.ceil(bytes / 65536) });
    markPageAligned(memory.buffer);
    return new Uint8Array(memory.buffer, 0, bytes);
  } catch {
    return undefined;
  }
}

/**
 * Page-aligned buffers carved from one WebAssembly memory of `capacity` bytes, made on the first
 * call, shared between threads when `shared` (its buffer is then a SharedArrayBuffer: a worker
 * given a view reads and writes the same bytes, nothing copied or transferred). One memory for
 * many buffers, not one each: V8 reserves ~10 GiB of address space for every WebAssembly memory
 * on a 64-bit host, and a `ulimit -v` of tens of GB then allows only a few. The allocator gives
 * undefined once the memory is used up, or where it cannot be made (no WebAssembly, an address
 * space limit, no shared memory in a page without cross-origin isolation): the caller then uses
 * a plain buffer.
 */
export function pageAlignedArena(
  capacity: number,
  shared: boolean,
): (bytes: number) => Uint8Array | undefined {
  let buffer: ArrayBufferLike | null | undefined;
  let used = 0;
  return (bytes) => {
    if (!Number.isSafeInteger(bytes) || bytes <= 0) return undefined;
    if (buffer === undefined) {
      buffer = null;
      if (
        typeof WebAssembly === "object" &&
        Number.isSafeInteger(capacity) &&
        capacity > 0 &&
        capacity <= 1 << 30
      ) {
        try {
          const pages = Math.ceil(capacity / 65536);
          buffer = new WebAssembly.Memory(
            shared ? { initial: pages, maximum: pages, shared: true } : { initial: pages },
          ).buffer;
          markPageAligned(buffer);
        } catch {
          buffer = null;
        }
      }
    }
    // each buffer starts on a 4 KiB page of the memory
    const size = Math.ceil(bytes / 4096) * 4096;
    if (!buffer || used + size > buffer.byteLength) return undefined;
    const view = new Uint8Array(buffer, used, bytes);
    used += size;
    return view;
  };
}

/** Whether `view` is on shared memory (a SharedArrayBuffer: given to a worker, not transferred). */
export function isShared(view: Uint8Array): boolean {
  return typeof SharedArrayBuffer === "function" && view.buffer instanceof SharedArrayBuffer;
}
