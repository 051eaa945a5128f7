/**
 * LZ4 legacy frames (magic 0x184C2102, the format of `lz4 -l`): a sequence of blocks, each a
 * little-endian compressed length and an LZ4 block that expands to at most 8 MiB. This is
 * what CONFIG_KERNEL_LZ4 writes (scripts/Makefile.lib cmd_lz4: `lz4 -l -c1` + 4 size bytes) and
 * what the kernel reads with lib/decompress_unlz4.c; Debian's cloud kernels for arm64 use it.
 * The LZ4 block decoder is written from lz4's doc/lz4_Block_format.md.
 */
import { DecompressError, LimitError } from "../errors.js";
import { type DecodeOptions, OutputBuffer } from "./output.js";

export const LZ4_LEGACY_MAGIC = 0x184c2102;
/** Uncompressed size of every legacy block but the last. */
export const LZ4_LEGACY_BLOCK = 8 << 20;

export function isLz4Legacy(b: Uint8Array): boolean {
  return b[0] === 0x02 && b[1] === 0x21 && b[2] === 0x4c && b[3] === 0x18;
}

function le32(b: Uint8Array, p: number): number {
  return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
}

/** Worst-case compressed size of n bytes (LZ4_COMPRESSBOUND). */
function compressBound(n: number): number {
  return n + Math.floor(n / 255) + 16;
}

/** Decode one LZ4 block input[pos, end) into out (at most maxLen bytes); returns bytes written. */
export function decodeLz4Block(
  input: Uint8Array,
  pos: number,
  end: number,
  out: OutputBuffer,
  maxLen: number,
): number {
  const room = Math.min(maxLen, out.room);
  out.ensure(room);
  const buf = out.buf;
  const start = out.pos;
  const limit = start + room;
  const over = (): never => {
    if (room < maxLen) throw new LimitError("lz4 output size", out.limit + 1, out.limit);
    throw new DecompressError("lz4", "block expands past its size");
  };
  let o = start;
  while (pos < end) {
    const token = input[pos++]!;
    let lit = token >>> 4;
    if (lit === 15) {
      let b: number;
      do {
        if (pos >= end) throw new DecompressError("lz4", "truncated literal length");
        b = input[pos++]!;
        lit += b;
      } while (b === 255);
    }
    if (pos + lit > end) throw new DecompressError("lz4", "literals run past the block");
    if (o + lit > limit) over();
    buf.set(input.subarray(pos, pos + lit), o);
    o += lit;
    pos += lit;
    if (pos >= end) break; // the last sequence has literals only
    if (pos + 2 > end) throw new DecompressError("lz4", "truncated match offset");
    const off = input[pos]! | (input[pos + 1]! << 8);
    pos += 2;
    if (off === 0 || off > o - start) throw new DecompressError("lz4", `bad match offset ${off}`);
    let len = token & 15;
    if (len === 15) {
      let b: number;
      do {
        if (pos >= end) throw new DecompressError("lz4", "truncated match length");
        b = input[pos++]!;
        len += b;
      } while (b === 255);
    }
    len += 4;
    if (o + len > limit) over();
    let src = o - off;
    if (off >= len) {
      buf.copyWithin(o, src, src + len);
      o += len;
    } else {
      const e = o + len;
      while (o < e) buf[o++] = buf[src++]!;
    }
  }
  out.pos = o;
  return o - start;
}

export interface Lz4Result {
  data: Uint8Array;
  blocks: number;
  /** Input bytes consumed (frames); the kernel's size trailer, if any, follows. */
  consumed: number;
}

/**
 * Decode concatenated legacy frames. Like unlz4, a block length equal to the magic starts a
 * new frame; decoding stops at the end of input or when fewer than 4 bytes remain. When
 * `trailer` is true the last 4 bytes are the kernel's appended size, not data.
 */
export function decodeLz4Legacy(
  input: Uint8Array,
  opts: DecodeOptions & { trailer?: boolean } = {},
): Lz4Result {
  if (!isLz4Legacy(input)) throw new DecompressError("lz4", "no LZ4 legacy magic 02 21 4c 18");
  const end = opts.trailer ? input.length - 4 : input.length;
  const out = new OutputBuffer("lz4", opts);
  let pos = 4;
  let blocks = 0;
  while (pos + 4 <= end) {
    const n = le32(input, pos);
    pos += 4;
    if (n === LZ4_LEGACY_MAGIC) continue;
    if (n > compressBound(LZ4_LEGACY_BLOCK))
      throw new DecompressError(
        "lz4",
        `block length ${n} exceeds the bound for 8 MiB at input offset 0x${(pos - 4).toString(16)}`,
      );
    if (pos + n > end)
      throw new DecompressError(
        "lz4",
        `block of ${n} bytes runs past the end of input at 0x${(pos - 4).toString(16)}`,
      );
    decodeLz4Block(input, pos, pos + n, out, LZ4_LEGACY_BLOCK);
    out.flush(); // streaming: legacy blocks are independent (8 MiB at most)
    pos += n;
    blocks++;
  }
  return { data: out.result(), blocks, consumed: pos };
}
