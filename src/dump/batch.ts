/**
 * Page batches: a run of consecutive pages of a kdump-compressed dump gathered on one thread
 * (descriptors checked, raw and zero pages already in place, compressed pages' bytes copied end
 * to end) and decoded on another (src/node/read-ahead.ts hands them to worker_threads), or on
 * the same one. Plain typed arrays only, so that a batch crosses a postMessage by transfer, not
 * copy. Browser-safe: no Node imports.
 */
import type { PageCodecName, PageCodecs } from "../codecs/pages.js";

/** Codec codes in `PageBatch.codec`; COPY: the same bytes as an earlier page of the batch. */
export const BATCH_CODECS: readonly PageCodecName[] = ["zlib", "lzo", "snappy", "zstd"];
export const BATCH_COPY = 255;

export interface PageBatch {
  pageSize: number;
  /** Pages gathered (the first `count` pages of `out`). */
  count: number;
  /** Physical address of the first page; the pages are consecutive. */
  start: number;
  /** The pages end to end; pages that need no decoding are filled when gathered. */
  out: Uint8Array;
  /** Pages still to decode, in page order: their index in the batch, codec code, bytes in `raw`. */
  todo: number;
  index: Uint32Array;
  codec: Uint8Array;
  /** Offset and length in `raw`; for BATCH_COPY, srcOff is the index of the page to copy. */
  srcOff: Uint32Array;
  srcLen: Uint32Array;
  /** The compressed bytes of the pages to decode, end to end (`rawLen` used). */
  raw: Uint8Array;
  rawLen: number;
}

/** An empty batch of up to `capacity` pages. */
export function createPageBatch(pageSize: number, capacity: number): PageBatch {
  return {
    pageSize,
    count: 0,
    start: 0,
    out: new Uint8Array(pageSize * capacity),
    todo: 0,
    index: new Uint32Array(capacity),
    codec: new Uint8Array(capacity),
    srcOff: new Uint32Array(capacity),
    srcLen: new Uint32Array(capacity),
    raw: new Uint8Array(pageSize * capacity),
    rawLen: 0,
  };
}

/** The buffers of a batch, to transfer them to another thread. */
export function batchBuffers(b: PageBatch): ArrayBuffer[] {
  return [b.out, b.index, b.codec, b.srcOff, b.srcLen, b.raw].map((a) => a.buffer as ArrayBuffer);
}

/** Pages the batch can hold. */
export function batchCapacity(b: PageBatch): number {
  return b.index.length;
}

/** Queue `data` (compressed with `codec`) for page `i` of the batch, growing `raw` when needed. */
export function queueCompressed(b: PageBatch, i: number, codec: number, data: Uint8Array): void {
  if (b.rawLen + data.length > b.raw.length) {
    const grown = new Uint8Array(Math.max(b.raw.length * 2, b.rawLen + data.length));
    grown.set(b.raw.subarray(0, b.rawLen));
    b.raw = grown;
  }
  const t = b.todo++;
  b.index[t] = i;
  b.codec[t] = codec;
  b.srcOff[t] = b.rawLen;
  b.srcLen[t] = data.length;
  b.raw.set(data, b.rawLen);
  b.rawLen += data.length;
}

/** Page `i` of the batch is page `from` (earlier, queued) again: copied once that is decoded. */
export function queueCopy(b: PageBatch, i: number, from: number): void {
  const t = b.todo++;
  b.index[t] = i;
  b.codec[t] = BATCH_COPY;
  b.srcOff[t] = from;
  b.srcLen[t] = 0;
}

/** Why a page of a batch did not decode: its index in the batch, the codec and what is wrong. */
export interface BatchFailure {
  index: number;
  codec: string;
  detail: string;
}

/**
 * Decode the queued pages of `b` into `b.out`, in page order. Stops at the first page that does
 * not decode and says which (the pages before it are done): the caller names its pfn.
 */
export function decodePageBatch(b: PageBatch, codecs: PageCodecs): BatchFailure | undefined {
  const ps = b.pageSize;
  const out = b.out;
  for (let t = 0; t < b.todo; t++) {
    const i = b.index[t]!;
    const code = b.codec[t]!;
    const dst = out.subarray(i * ps, i * ps + ps);
    if (code === BATCH_COPY) {
      const from = b.srcOff[t]!;
      out.copyWithin(i * ps, from * ps, from * ps + ps);
      continue;
    }
    const name = BATCH_CODECS[code] ?? "unknown";
    const decoder = codecs[name as PageCodecName];
    if (!decoder) return { index: i, codec: name, detail: "no decoder" };
    try {
      decoder(b.raw.subarray(b.srcOff[t]!, b.srcOff[t]! + b.srcLen[t]!), dst);
    } catch (e) {
      const err = e as { codec?: unknown; detail?: unknown; message?: string };
      return {
        index: i,
        codec: typeof err.codec === "string" ? err.codec : name,
        detail: typeof err.detail === "string" ? err.detail : String(err.message ?? e),
      };
    }
  }
  return undefined;
}

/**
 * A backend that gathers compressed pages into batches for decoding elsewhere (the
 * kdump-compressed one): what decode-ahead readers need of it, named by what it does so no
 * code outside src/dump names a backend class.
 */
export interface PageGatherer {
  gatherPages(
    pfn: number,
    count: number,
    b: PageBatch,
    zeroExcluded: boolean,
    tinyKeys: (string | undefined)[],
  ): Error | undefined;
  rememberTiny(key: string, page: Uint8Array): void;
}

/** `backend` as a PageGatherer when it is one. */
export function pageGatherer(backend: object): PageGatherer | undefined {
  const b = backend as Partial<PageGatherer>;
  return typeof b.gatherPages === "function" && typeof b.rememberTiny === "function"
    ? (b as PageGatherer)
    : undefined;
}
