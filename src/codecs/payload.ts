/**
 * The payload codec registry: every compressor a Linux kernel image can carry, tried in order
 * by magic (as the kernel's own lib/decompress.c does, and elfutils' libdwfl/open.c chain).
 * Each decoder takes a maximum output size and throws LimitError past it.
 */
import { DecompressError, LimitError } from "../errors.js";
import { decodeBzip2, isBzip2 } from "./bzip2.js";
import { decodeGzip, isGzip } from "./gzip.js";
import { decodeLz4Legacy, isLz4Legacy } from "./lz4.js";
import { decodeLzma, isLzmaAlone } from "./lzma.js";
import { decodeLzop, isLzop } from "./lzop.js";
import { DEFAULT_MAX_OUTPUT, type DecodeOptions } from "./output.js";
import { decodeXz, isXz } from "./xz.js";
import { decodeZstd, isZstd } from "./zstd.js";

export type PayloadCodecName = "gzip" | "xz" | "lzma" | "bzip2" | "lzo" | "lz4" | "zstd";

export interface PayloadCodec {
  name: PayloadCodecName;
  /** Does the stream start with this codec's magic? */
  probe(head: Uint8Array): boolean;
  /**
   * Decode; `consumed` is where the stream ended when the codec can tell (undefined when the
   * stream is taken to fill its input, as for gzip's trailer and zstd frames).
   */
  decode(input: Uint8Array, opts: DecodeOptions): { data: Uint8Array; consumed?: number; detail?: string };
  /** Whether the kernel's 4 appended size bytes must be cut off before decoding. */
  cutTrailer: boolean;
}

/** In probe order: unambiguous magics first, LZMA-alone (a plausibility test, no magic) last. */
export const PAYLOAD_CODECS: readonly PayloadCodec[] = [
  {
    name: "gzip",
    probe: isGzip,
    cutTrailer: false, // gzip's own ISIZE is the kernel's size trailer
    decode: (b, o) => {
      const r = decodeGzip(b, o);
      return { data: r.data, detail: r.info.name ? `name ${r.info.name}` : "" };
    },
  },
  {
    name: "xz",
    probe: isXz,
    cutTrailer: false,
    decode: (b, o) => {
      const r = decodeXz(b, o);
      const filters = [...new Set(r.info.filters.map((f) => f.join("+")))].join(", ");
      return {
        data: r.data,
        consumed: r.info.consumed,
        detail: `check ${r.info.checks.join(",")}; filters ${filters}${r.info.unverified ? "; check not verified" : ""}`,
      };
    },
  },
  {
    name: "bzip2",
    probe: isBzip2,
    cutTrailer: false,
    decode: (b, o) => {
      const r = decodeBzip2(b, o);
      return { data: r.data, consumed: r.consumed };
    },
  },
  {
    name: "lzo",
    probe: isLzop,
    cutTrailer: false,
    decode: (b, o) => {
      const r = decodeLzop(b, o);
      return {
        data: r.data,
        consumed: r.info.consumed,
        detail: `lzop method ${r.info.method}, ${r.info.blocks} blocks`,
      };
    },
  },
  {
    name: "lz4",
    probe: isLz4Legacy,
    cutTrailer: true,
    decode: (b, o) => {
      const r = decodeLz4Legacy(b, o);
      return { data: r.data, consumed: r.consumed, detail: `legacy frame, ${r.blocks} blocks` };
    },
  },
  {
    name: "zstd",
    probe: isZstd,
    cutTrailer: true,
    decode: (b, o) => ({ data: decodeZstd(b, o) }),
  },
  {
    name: "lzma",
    probe: isLzmaAlone,
    cutTrailer: false,
    decode: (b, o) => {
      const r = decodeLzma(b, o);
      return { data: r.data, consumed: r.consumed };
    },
  },
];

export function payloadCodec(name: PayloadCodecName): PayloadCodec {
  return PAYLOAD_CODECS.find((c) => c.name === name)!;
}

/** The codec whose magic starts `head`, if any. */
export function detectPayloadCodec(head: Uint8Array): PayloadCodec | undefined {
  return PAYLOAD_CODECS.find((c) => c.probe(head));
}

export interface PayloadOptions extends DecodeOptions {
  /** Force a codec instead of probing. */
  codec?: PayloadCodecName;
  /**
   * The input ends with the 4 little-endian size bytes the kernel build appends
   * (scripts/Makefile.lib size_append; arch/x86/boot/compressed/mkpiggy.c reads them).
   */
  kernelTrailer?: boolean;
}

export interface PayloadResult {
  codec: PayloadCodecName;
  /** The decoded bytes (empty when they were streamed to `sink`). */
  data: Uint8Array;
  /** Bytes decoded. */
  size: number;
  /** Compressed bytes decoded. */
  compressedSize: number;
  /** The size the kernel build appended, when kernelTrailer was set. */
  trailerSize?: number;
  /** Bytes of input neither decoded nor the trailer (should be 0). */
  slack: number;
  detail: string;
  warnings: string[];
}

function le32(b: Uint8Array, p: number): number {
  return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
}

/** Output allowed past a declared size before decoding is stopped as a bomb. */
const DECLARED_SLACK = 16 << 20;

/** Decode a compressed kernel payload (or any single compressed stream). */
export function decodePayload(input: Uint8Array, opts: PayloadOptions = {}): PayloadResult {
  const codec = opts.codec ? payloadCodec(opts.codec) : detectPayloadCodec(input);
  if (!codec) {
    const head = Array.from(input.subarray(0, 6), (b) => b.toString(16).padStart(2, "0")).join(" ");
    throw new DecompressError("payload", `no known compression magic (starts ${head})`);
  }
  const max = opts.maxOutput ?? DEFAULT_MAX_OUTPUT;
  const warnings: string[] = [];
  let trailerSize: number | undefined;
  let body = input;
  const dopts: DecodeOptions = { maxOutput: max };
  if (opts.kernelTrailer && input.length >= 8) {
    trailerSize = le32(input, input.length - 4);
    // A trailer above the ceiling is either a bomb or garbage: refuse before decoding.
    if (trailerSize > max)
      throw new LimitError(`${codec.name} payload size (kernel trailer)`, trailerSize, max);
    // Preallocate from the trailer only as far as a plausible ratio: a forged trailer must not
    // make a small file allocate the whole ceiling (kernels compress 4–10:1; growth covers more).
    dopts.sizeHint = Math.min(trailerSize, input.length * 64 + (1 << 20));
    // and decoding stops where the declared size is passed (plus slack for odd trailers):
    // a bomb behind a small trailer costs the declared size, not the 1 GiB ceiling
    dopts.maxOutput = Math.min(max, trailerSize + DECLARED_SLACK);
    if (codec.cutTrailer) body = input.subarray(0, input.length - 4);
  } else if (codec.name === "gzip" && input.length >= 18 && opts.sizeHint === undefined) {
    // a lone gzip stream declares its size (ISIZE, modulo 2^32: kernels are far below 4 GiB)
    const isize = le32(input, input.length - 4);
    // the real size is ISIZE plus a multiple of 4 GiB: past the ceiling already (or the
    // stream is cut and these 4 bytes are not its ISIZE): refused before decoding
    if (isize > max && isize <= input.length * 1032)
      throw new LimitError("gzip payload size (ISIZE)", isize, max);
    // more than DEFLATE's 1032:1 can give: these 4 bytes are no ISIZE
    if (isize > max)
      throw new DecompressError(
        "gzip",
        `ISIZE (last 4 bytes) says ${isize} bytes, more than DEFLATE can give from ${input.length}: truncated or corrupt`,
      );
    dopts.maxOutput = Math.min(max, isize + DECLARED_SLACK);
  }
  const declared = dopts.maxOutput !== undefined && dopts.maxOutput < max ? dopts.maxOutput : undefined;
  if (opts.sizeHint !== undefined) dopts.sizeHint = opts.sizeHint;
  if (opts.onProgress) dopts.onProgress = opts.onProgress;
  let streamed = 0;
  const sink = opts.sink;
  if (sink)
    dopts.sink = (c) => {
      streamed += c.length;
      sink(c);
    };
  let r: ReturnType<typeof codec.decode>;
  try {
    r = codec.decode(body, dopts);
  } catch (e) {
    // past the declared size: a corrupt stream or a bomb, either way not this payload
    if (declared !== undefined && e instanceof LimitError)
      throw new DecompressError(
        codec.name,
        `decodes past the ${declared - DECLARED_SLACK} bytes its trailer declares (corrupt, or a decompression bomb)`,
      );
    throw e;
  }
  opts.onProgress?.(input.length, input.length);
  const consumed = r.consumed ?? body.length;
  let slack = body.length - consumed;
  if (opts.kernelTrailer && !codec.cutTrailer && codec.name !== "gzip") slack -= 4;
  if (slack > 0) warnings.push(`${slack} bytes after the ${codec.name} stream were not decoded`);
  if (slack < 0)
    warnings.push(`the ${codec.name} stream runs into the 4 size bytes the kernel build appends`);
  const size = sink ? streamed : r.data.length;
  if (trailerSize !== undefined && size >>> 0 !== trailerSize)
    warnings.push(`decoded ${size} bytes but the appended size says ${trailerSize}`);
  const res: PayloadResult = {
    codec: codec.name,
    data: r.data,
    size,
    compressedSize: consumed,
    slack: Math.max(0, slack),
    detail: r.detail ?? "",
    warnings,
  };
  if (trailerSize !== undefined) res.trailerSize = trailerSize;
  return res;
}
