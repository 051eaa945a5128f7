// AssemblyScript: runs of kdump pages decoded in one call (issue 13, the read loop), shared by the
// page decoders wasm/lzo1x-decode.ts and wasm/inflate.ts, which export these functions and a
// decodeRun() over their own page decoder (used through src/codecs/page-run.ts).
//
// The caller reads the file bytes a run's pages occupy into RUN_IN with one read, says per page
// where its bytes are (RUN_SRC, offset in RUN_IN; RUN_LEN) and what it is (RUN_KIND: 0 compressed,
// 1 a raw page, 2 zeros), and gets the pages end to end in RUN_OUT. Each compressed page goes
// through the module's single-page decoder, so it decodes and fails exactly as alone. One call
// per run instead of a call, two copies and a view per page from JavaScript (README, "Speed
// (issue 13)").

// 128 pages a run (512 KiB out, up to 1 MiB in): every page of these areas a read touches is a
// page fault the first time (~13 µs each on this project's VM). With 256 pages (1 MiB out, 2 MiB
// in) a read of dumpfile.lzo-d31 took ~200 more faults on its thread (3,340 against 3,130;
// zlib 3,300 against 3,140) for ~60 fewer calls, at most ~1 ms of call and read overhead.
const RUN_PAGES: i32 = 128;
const RUN_IN_SIZE: i32 = 1 << 20;
const RUN_OUT_SIZE: i32 = 512 << 10;
const RUN_IN: usize = memory.data(RUN_IN_SIZE, 16);
// 64 bytes of slack past the end: a decoder writing in place may run past the last page's end
const RUN_OUT: usize = memory.data(RUN_OUT_SIZE + 64, 16);
const RUN_SRC: usize = memory.data(4 * RUN_PAGES, 16);
const RUN_LEN: usize = memory.data(4 * RUN_PAGES, 16);
const RUN_KIND: usize = memory.data(RUN_PAGES, 16);

export function runInPtr(): usize {
  return RUN_IN;
}
export function runOutPtr(): usize {
  return RUN_OUT;
}
export function runSrcPtr(): usize {
  return RUN_SRC;
}
export function runLenPtr(): usize {
  return RUN_LEN;
}
export function runKindPtr(): usize {
  return RUN_KIND;
}
export function runMaxPages(): i32 {
  return RUN_PAGES;
}
export function runInSize(): i32 {
  return RUN_IN_SIZE;
}
export function runOutSize(): i32 {
  return RUN_OUT_SIZE;
}

/**
 * Decode `count` pages of `pageSize` (≤ maxPage) bytes as RUN_SRC/RUN_LEN/RUN_KIND say into
 * RUN_OUT, compressed ones (≤ maxInput bytes) through `page` (the bytes at src, len → the page at
 * dst; true when it is exactly the page). Returns `count`, or the index of the first page that
 * fails (the caller reads that page alone for its error), or -1 when the arguments are out of
 * bounds.
 */
export function runPages(
  count: i32,
  pageSize: i32,
  maxPage: i32,
  maxInput: i32,
  page: (src: usize, len: i32, dst: usize, pageSize: i32) => bool,
): i32 {
  if (count < 0 || count > RUN_PAGES || pageSize <= 0 || pageSize > maxPage) return -1;
  if (count * pageSize > RUN_OUT_SIZE) return -1;
  for (let i: i32 = 0; i < count; i++) {
    const src = load<i32>(RUN_SRC + (<usize>i << 2));
    const len = load<i32>(RUN_LEN + (<usize>i << 2));
    const kind = load<u8>(RUN_KIND + <usize>i);
    const dst = RUN_OUT + <usize>(i * pageSize);
    if (kind == 2) {
      memory.fill(dst, 0, <usize>pageSize);
      continue;
    }
    if (src < 0 || len < 0 || src > RUN_IN_SIZE || len > RUN_IN_SIZE - src) return i;
    if (kind == 1) {
      if (len != pageSize) return i;
      memory.copy(dst, RUN_IN + <usize>src, <usize>pageSize);
      continue;
    }
    if (kind != 0 || len > maxInput) return i;
    if (!page(RUN_IN + <usize>src, len, dst, pageSize)) return i;
  }
  return count;
}
