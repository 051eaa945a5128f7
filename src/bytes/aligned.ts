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
 * `bytes` bytes starting on a page in shared memory (a shared WebAssembly memory, whose buffer
 * is a SharedArrayBuffer): worker threads given the view read and write the same bytes, with
 * no copy and no transfer. Undefined where shared memory is missing (a browser page without
 * cross-origin isolation, say).
 */
export function sharedPageAlignedBytes(bytes: number): Uint8Array | undefined {
  if (typeof WebAssembly !== "object" || !Number.isSafeInteger(bytes) || bytes <= 0 || bytes > 1 << 30)
    return undefined;
  try {
    const pages = Math.ceil(bytes / 65536);
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
    markPageAligned(memory.buffer);
    return new Uint8Array(memory.buffer, 0, bytes);
  } catch {
    return undefined;
  }
}

/** Whether `view` is on shared memory (a SharedArrayBuffer: given to a worker, not transferred). */
export function isShared(view: Uint8Array): boolean {
  return typeof SharedArrayBuffer === "function" && view.buffer instanceof SharedArrayBuffer;
}
