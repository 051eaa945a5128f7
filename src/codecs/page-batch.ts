/**
 * Batches of pages through a WebAssembly page encoder in one call (wasm/page-batch.ts, linked
 * into wasm/lzo1x-encode.ts and wasm/deflate-encode.ts): the pages are copied into the module
 * once, the zero check and the compression of every page run inside it, and the sizes and the
 * compressed bytes are copied out once, instead of a copy in, a call, a view and a copy out per
 * page from JavaScript.
 */

/** What the encoder modules export for batches. */
export interface PageBatchExports {
  memory: WebAssembly.Memory;
  batchInputPtr(): number;
  batchOutputPtr(): number;
  batchSizesPtr(): number;
  batchBytes(): number;
}

/**
 * Compress `count` pages of `pageSize` from `pages` into `out` (at least count * pageSize
 * bytes); returns each page's size (-1 all zeros, looked for only when `zeroCheck`; 0 store it
 * raw) and the bytes written, as convert/batch.ts compressBatch.
 */
export type PageBatchCompress = (
  pages: Uint8Array,
  count: number,
  pageSize: number,
  zeroCheck: boolean,
  out: Uint8Array,
) => { sizes: Int32Array<ArrayBuffer>; length: number };

/**
 * A batch compressor over module exports `x` whose `run(count, pageSize, zeroCheck)` compresses
 * the pages at batchInputPtr() (returns the bytes written at batchOutputPtr(), or < 0 when the
 * arguments do not fit). The module's memory never grows (static buffers), so the views stay valid.
 */
export function pageBatch(
  x: PageBatchExports,
  run: (count: number, pageSize: number, zeroCheck: boolean) => number,
): PageBatchCompress {
  const bytes = x.batchBytes();
  const input = new Uint8Array(x.memory.buffer, x.batchInputPtr(), bytes);
  const output = new Uint8Array(x.memory.buffer, x.batchOutputPtr(), bytes);
  const sizesAt = x.batchSizesPtr();
  return (pages, count, pageSize, zeroCheck, out) => {
    const per = Math.floor(bytes / pageSize);
    if (per < 1) throw new RangeError(`page batch: pages of ${pageSize} bytes, more than ${bytes}`);
    if (out.length < count * pageSize)
      throw new RangeError(`compressed batch: ${out.length} bytes for ${count} pages of ${pageSize}`);
    const sizes = new Int32Array(count);
    let pos = 0;
    for (let at = 0; at < count; at += per) {
      const k = Math.min(per, count - at);
      input.set(pages.subarray(at * pageSize, (at + k) * pageSize));
      const n = run(k, pageSize, zeroCheck);
      if (n < 0) throw new RangeError(`page batch: ${k} pages of ${pageSize} bytes refused by the encoder`);
      sizes.set(new Int32Array(x.memory.buffer, sizesAt, k), at);
      out.set(output.subarray(0, n), pos);
      pos += n;
    }
    return { sizes, length: pos };
  };
}
