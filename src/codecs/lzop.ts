/**
 * The lzop container (CONFIG_KERNEL_LZO: `lzop -9` + 4 size bytes; read by the kernel's
 * lib/decompress_unlzo.c): a header with version, method, flags, mode, mtime and name, then
 * blocks of (uncompressed length, compressed length, optional checksums, LZO1X data) ending
 * with a zero length. Block checksums (Adler-32 / CRC-32) are verified when present.
 */
import { latin1 } from "../bytes/cursor.js";
import { DecompressError } from "../errors.js";
import { adler32, crc32 } from "./crc.js";
import { lzo1xDecompress } from "./lzo1x.js";
import { type DecodeOptions, OutputBuffer } from "./output.js";

export const LZOP_MAGIC = [0x89, 0x4c, 0x5a, 0x4f, 0x00, 0x0d, 0x0a, 0x1a, 0x0a];

const F_ADLER32_D = 0x1;
const F_ADLER32_C = 0x2;
const F_H_EXTRA_FIELD = 0x40;
const F_CRC32_D = 0x100;
const F_CRC32_C = 0x200;
const F_H_FILTER = 0x800;
const F_H_CRC32 = 0x1000;
/** lzop's and unlzo's block size ceiling (LZO_BLOCK_SIZE = 256 KiB; lzop allows up to 64 MiB). */
const MAX_BLOCK = 64 << 20;

export function isLzop(b: Uint8Array): boolean {
  return LZOP_MAGIC.every((v, i) => b[i] === v);
}

function fail(detail: string, offset?: number): never {
  throw new DecompressError(
    "lzop",
    offset !== undefined ? `${detail} at input offset 0x${offset.toString(16)}` : detail,
  );
}

export interface LzopInfo {
  version: number;
  method: number;
  level: number;
  flags: number;
  name: string;
  blocks: number;
  consumed: number;
}

export function decodeLzop(
  input: Uint8Array,
  opts: DecodeOptions = {},
): { data: Uint8Array; info: LzopInfo } {
  if (!isLzop(input)) fail("no lzop magic");
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  let p = 9;
  const need = (n: number): void => {
    if (p + n > input.length) fail("truncated header", p);
  };
  need(7);
  const hdrStart = p;
  const version = view.getUint16(p);
  p += 4; // version, lib version
  if (version >= 0x0940) p += 2; // version needed
  need(2);
  const method = input[p++]!;
  let level = 0;
  if (version >= 0x0940) level = input[p++]!;
  if (method < 1 || method > 3) fail(`unsupported method ${method} (only LZO1X)`, p - 1);
  need(4);
  const flags = view.getUint32(p);
  p += 4;
  if (flags & F_H_FILTER) p += 4;
  need(8);
  p += 8; // mode, mtime low
  if (version >= 0x0940) p += 4; // mtime high
  need(1);
  const nameLen = input[p++]!;
  need(nameLen + 4);
  const name = latin1(input.subarray(p, p + nameLen));
  p += nameLen;
  const hsum = view.getUint32(p);
  const calc = flags & F_H_CRC32 ? crc32(input.subarray(hdrStart, p)) : adler32(input, hdrStart, p);
  if (hsum !== calc) fail("header checksum mismatch", p);
  p += 4;
  if (flags & F_H_EXTRA_FIELD) {
    need(4);
    const len = view.getUint32(p);
    p += 4 + len + 4;
    need(0);
  }
  const out = new OutputBuffer("lzop", opts);
  let blocks = 0;
  for (;;) {
    need(4);
    const dlen = view.getUint32(p);
    p += 4;
    if (dlen === 0) break;
    need(4);
    const clen = view.getUint32(p);
    p += 4;
    if (dlen > MAX_BLOCK) fail(`block of ${dlen} bytes exceeds ${MAX_BLOCK}`, p - 8);
    if (clen > dlen) fail(`compressed block of ${clen} bytes larger than its ${dlen}`, p - 8);
    let dsum: number | undefined;
    let csum: number | undefined;
    let dcrc = false;
    let ccrc = false;
    if (flags & (F_ADLER32_D | F_CRC32_D)) {
      need(4);
      dsum = view.getUint32(p);
      dcrc = !(flags & F_ADLER32_D);
      p += 4;
    }
    if (clen < dlen && flags & (F_ADLER32_C | F_CRC32_C)) {
      need(4);
      csum = view.getUint32(p);
      ccrc = !(flags & F_ADLER32_C);
      p += 4;
    }
    need(clen);
    if (csum !== undefined) {
      const c = ccrc ? crc32(input.subarray(p, p + clen)) : adler32(input, p, p + clen);
      if (c !== csum) fail("compressed block checksum mismatch", p);
    }
    out.ensure(dlen);
    const start = out.pos;
    if (clen === dlen) {
      out.buf.set(input.subarray(p, p + clen), start);
    } else {
      const n = lzo1xDecompress(
        input.subarray(p, p + clen),
        out.buf.subarray(start, start + dlen),
        `lzop block ${blocks}`,
      );
      if (n !== dlen) fail(`block decoded to ${n} bytes, header says ${dlen}`, p);
    }
    out.pos = start + dlen;
    if (dsum !== undefined) {
      const d = dcrc ? crc32(out.buf.subarray(start, start + dlen)) : adler32(out.buf, start, start + dlen);
      if (d !== dsum) fail("block checksum mismatch (corrupt data)", p);
    }
    p += clen;
    blocks++;
    out.flush(); // streaming: LZO1X blocks are independent
  }
  return { data: out.result(), info: { version, method, level, flags, name, blocks, consumed: p } };
}
