/**
 * One batch of pages compressed for the kdump writer, the same code on a compression worker
 * (src/node/compress-worker.ts) and on the writer's own thread: each page's result size (a
 * negative size: the page is all zeros and goes to the shared zero page; 0: compression did not
 * shrink it, store it raw), the compressed bytes end to end in `out`. The zero check is here
 * rather than on the reading thread so that workers share it (measured: the reading thread was
 * the bottleneck of `convert -l`).
 */
import type { ByteBuffer } from "../bytes/buffer.js";
import { isZeroPage } from "../bytes/zero.js";

/** sizes[i] for an all-zero page (only when the batch asked for the zero check). */
export const BATCH_ZERO_PAGE = -1;

export function compressBatch(
  compress: (page: Uint8Array) => Uint8Array,
  pages: Uint8Array,
  count: number,
  pageSize: number,
  zeroCheck: boolean,
  out: ByteBuffer,
): Int32Array<ArrayBuffer> {
  const sizes = new Int32Array(count);
  out.pos = 0;
  for (let i = 0; i < count; i++) {
    const page = pages.subarray(i * pageSize, (i + 1) * pageSize);
    if (zeroCheck && isZeroPage(page)) {
      sizes[i] = BATCH_ZERO_PAGE;
      continue;
    }
    const c = compress(page);
    if (c.length >= pageSize) continue; // stored raw
    out.push(c);
    sizes[i] = c.length;
  }
  return sizes;
}
