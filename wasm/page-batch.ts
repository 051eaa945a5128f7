// AssemblyScript: a batch of pages compressed in one call, shared by the WebAssembly page
// encoders (wasm/lzo1x-encode.ts, wasm/deflate-encode.ts). Per page, the JavaScript side used to
// copy the page in, call the encoder, take a view of its output and copy that out: ~3 µs a page
// of JavaScript and call overhead (`--cpu-prof` of `convert -l -d 31` on the corpus vmcore:
// about as much as the LZO1X compression itself). Here the caller copies up to BATCH_BYTES of
// pages to batchInputPtr() once, calls the module's compressBatch, and reads each page's size
// at batchSizesPtr() (-1 all zeros, when asked to look; 0 stored raw: compression did not
// shrink it) and the compressed pages end to end at batchOutputPtr().

export const BATCH_BYTES: i32 = 1 << 20;
const MAX_PAGES: i32 = BATCH_BYTES / 512;
const BIN: usize = memory.data(BATCH_BYTES, 16);
const BSIZES: usize = memory.data(4 * MAX_PAGES, 16);

/** Whether the `n` bytes at `p` (a multiple of 8, 8-aligned) are all zero. */
function allZero(p: usize, n: i32): bool {
  const end = p + <usize>n;
  let acc: u64 = 0;
  for (; p < end; p += 32)
    acc |= load<u64>(p) | load<u64>(p, 8) | load<u64>(p, 16) | load<u64>(p, 24);
  return acc == 0;
}

/**
 * `count` pages of `pageSize` bytes at BIN through `compress` (which reads `input` and writes
 * its stream at `output`, returning the stream's length), into `out` end to end (room:
 * count * pageSize, as a page is kept only when it shrinks). Returns the bytes written, or -1
 * when the arguments do not fit the buffers.
 */
export function compressPages(
  count: i32,
  pageSize: i32,
  zeroCheck: bool,
  input: usize,
  maxInput: i32,
  output: usize,
  out: usize,
  compress: (n: i32) => i32,
): i32 {
  if (count < 0 || count > MAX_PAGES || pageSize < 512 || pageSize > maxInput) return -1;
  if ((pageSize & 31) != 0 || <i64>count * <i64>pageSize > <i64>BATCH_BYTES) return -1;
  let pos: i32 = 0;
  for (let i: i32 = 0; i < count; i++) {
    const page = BIN + <usize>(i * pageSize);
    let size: i32 = 0;
    if (zeroCheck && allZero(page, pageSize)) size = -1;
    else {
      memory.copy(input, page, <usize>pageSize);
      const n = compress(pageSize);
      if (n > 0 && n < pageSize) {
        memory.copy(out + <usize>pos, output, <usize>n);
        pos += n;
        size = n;
      }
    }
    store<i32>(BSIZES + (<usize>i << 2), size);
  }
  return pos;
}

export function batchInputPtr(): usize {
  return BIN;
}
export function batchSizesPtr(): usize {
  return BSIZES;
}
export function batchBytes(): i32 {
  return BATCH_BYTES;
}
