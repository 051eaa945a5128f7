/**
 * One batch of pages compressed for the kdump writer, the same code on a compression worker
 * (src/node/compress-worker.ts) and on the writer's own thread: each page's result size (a
 * negative size: the page is all zeros and goes to the shared zero page; 0: compression did not
 * shrink it, store it raw), the compressed bytes end to end in `out`. The zero check is here
 * rather than on the reading thread so that workers share it (measured: the reading thread was
 * the bottleneck of `convert -l`).
 */

import { isZeroPage } from "../bytes/zero.js";
import type { PageBatchCompress } from "../codecs/page-batch.js";

/** sizes[i] for an all-zero page (only when the batch asked for the zero check). */
export const BATCH_ZERO_PAGE = -1;

/**
 * Compress `count` pages into `out` (at least count * pageSize bytes: a page is kept compressed
 * only when it shrinks, so that always suffices); returns each page's size and the bytes used.
 */
export function compressBatch(
  compress: ((page: Uint8Array) => Uint8Array) & { pages?: PageBatchCompress },
  pages: Uint8Array,
  count: number,
  pageSize: number,
  zeroCheck: boolean,
  out: Uint8Array,
): { sizes: Int32Array<ArrayBuffer>; length: number } {
  if (out.length < count * pageSize)
    throw new RangeError(`compressed batch: ${out.length} bytes for ${count} pages of ${pageSize}`);
  // a WebAssembly encoder does the whole batch, zero check included, in one call (for the page
  // sizes its buffers take: up to its 64 KiB input, a multiple of 32 bytes)
  if (compress.pages && pageSize >= 512 && pageSize <= 65536 && pageSize % 32 === 0)
    return compress.pages(pages, count, pageSize, zeroCheck, out);
  const sizes = new Int32Array(count);
  let pos = 0;
  for (let i = 0; i < count; i++) {
    const page = pages.subarray(i * pageSize, (i + 1) * pageSize);
    if (zeroCheck && isZeroPage(page)) {
      sizes[i] = BATCH_ZERO_PAGE;
      continue;
    }
    const c = compress(page);
    if (c.length >= pageSize) continue; // stored raw
    out.set(c, pos);
    pos += c.length;
    sizes[i] = c.length;
  }
  return { sizes, length: pos };
}
