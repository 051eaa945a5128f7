/**
 * Decompression bombs in every payload codec, built in code in well under a second each: a
 * few bytes of `head` (an ELF header, or one zero byte) then `zeros` bytes of zeros. Each is
 * made by repeating a piece the format allows to repeat — DEFLATE blocks after a sync flush,
 * zstd RLE blocks, bzip2 streams, independent lz4/LZO blocks, LZMA2 chunks after a state
 * reset — or, for .lzma, by a tiny range encoder that writes literals then rep0 matches.
 * CRCs that decoding never reaches (the bombs are stopped first) are left 0.
 */
import * as zlib from "node:zlib";
import { crc32 } from "../../../src/codecs/crc.js";
import { Lzo1xEncoder } from "../../../src/codecs/lzo1x-encode.js";

export type BombCodec = "gzip" | "zstd" | "bzip2" | "lz4" | "lzo" | "lzma" | "xz";
export const BOMB_CODECS: readonly BombCodec[] = ["gzip", "zstd", "bzip2", "lz4", "lzo", "lzma", "xz"];

/** An ELF64 little-endian header's first bytes and zeros (64 bytes). */
export function elfHead(): Uint8Array {
  const h = new Uint8Array(64);
  h.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  return h;
}

function concat(parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

function repeat(piece: Uint8Array, n: number): Uint8Array[] {
  return Array.from({ length: n }, () => piece);
}

function withHead(head: Uint8Array, size: number): Uint8Array {
  const b = new Uint8Array(size);
  b.set(head);
  return b;
}

function le32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0, true);
  return b;
}

function be32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0, false);
  return b;
}

/** gzip: DEFLATE pieces of 64 MiB ending in a sync flush (byte-aligned, not final) repeated. */
function gzip(head: Uint8Array, zeros: number): Uint8Array {
  const PIECE = 64 << 20;
  const n = Math.ceil((head.length + zeros) / PIECE);
  const opts = { level: 9, finishFlush: zlib.constants.Z_SYNC_FLUSH };
  const first = zlib.deflateRawSync(withHead(head, PIECE), opts);
  const rest = zlib.deflateRawSync(new Uint8Array(PIECE), opts);
  const hdr = Uint8Array.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);
  // final empty fixed-Huffman block, then CRC32 (never reached) and ISIZE
  return concat([hdr, first, ...repeat(rest, n - 1), Uint8Array.from([3, 0]), le32(0), le32(n * PIECE)]);
}

/** zstd: one raw block with the head, then RLE blocks of 128 KiB (4 bytes each). */
function zstd(head: Uint8Array, zeros: number): Uint8Array {
  const parts: number[] = [0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58]; // no FCS, window 2^(10+11)
  const block = (type: number, size: number, last: boolean) => {
    const h = (size << 3) | (type << 1) | (last ? 1 : 0);
    parts.push(h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff);
  };
  block(0, head.length, false);
  parts.push(...head);
  const BS = 128 * 1024;
  for (let left = zeros; left > 0; left -= BS) {
    block(1, Math.min(BS, left), left <= BS);
    parts.push(0);
  }
  return Uint8Array.from(parts);
}

// `bzip2 -9` of 45,000,000 zeros (one block) and of elfHead(): concatenated streams decode
// as one (as bzip2 -d does)
const BZ_ZEROS = "QlpoOTFBWSZTWckBtsgBWKtAIMAAEAAACCAAMMwFKaZSSFJsVJIUni7kinChIZIDbZA=";
const BZ_ELF = "QlpoOTFBWSZTWemes9AAAAXMgHAAAgADBAAAoAAiHqB6hDAgJK21XxdyRThQkOmes9A=";

function bzip2(head: Uint8Array, zeros: number): Uint8Array {
  const b64 = (s: string) => new Uint8Array(Buffer.from(s, "base64"));
  const first = head.length > 0 ? [b64(BZ_ELF)] : [];
  return concat([...first, ...repeat(b64(BZ_ZEROS), Math.ceil(zeros / 45_000_000))]);
}

/** One LZ4 block: `lit` literals, a match at offset 1 of `match` bytes, 5 zero literals. */
function lz4Block(lit: Uint8Array, match: number): Uint8Array {
  const out: number[] = [];
  const ext = (n: number) => {
    for (; n >= 255; n -= 255) out.push(255);
    out.push(n);
  };
  const ml = match - 4;
  out.push((Math.min(lit.length, 15) << 4) | Math.min(ml, 15));
  if (lit.length >= 15) ext(lit.length - 15);
  out.push(...lit, 1, 0);
  if (ml >= 15) ext(ml - 15);
  out.push(0x50, 0, 0, 0, 0, 0);
  return Uint8Array.from(out);
}

/** lz4 legacy frame: independent 8 MiB blocks. */
function lz4(head: Uint8Array, zeros: number): Uint8Array {
  const BLOCK = 8 << 20;
  const n = Math.ceil((head.length + zeros) / BLOCK);
  const lit = head.length ? head : new Uint8Array(1);
  const first = lz4Block(lit, BLOCK - lit.length - 5);
  const rest = lz4Block(new Uint8Array(1), BLOCK - 6);
  const framed = (b: Uint8Array) => concat([le32(b.length), b]);
  return concat([le32(0x184c2102), framed(first), ...repeat(framed(rest), n - 1)]);
}

/** lzop (version 0x0900 header, no checksums): independent 256 KiB LZO1X blocks. */
function lzo(head: Uint8Array, zeros: number): Uint8Array {
  const BLOCK = 256 << 10;
  const n = Math.ceil((head.length + zeros) / BLOCK);
  const enc = new Lzo1xEncoder();
  const block = (data: Uint8Array) => {
    const c = enc.compress(data).slice();
    return concat([be32(data.length), be32(c.length), c]);
  };
  const first = block(withHead(head, BLOCK));
  const rest = block(new Uint8Array(BLOCK));
  // version, lib version, method 1 (LZO1X-1), flags 0, mode, mtime, no name
  const h = Uint8Array.from([0x09, 0x00, 0x20, 0x80, 1, 0, 0, 0, 0, 0, 0, 0x81, 0xa4, 0, 0, 0, 0, 0]);
  const magic = Uint8Array.from([0x89, 0x4c, 0x5a, 0x4f, 0x00, 0x0d, 0x0a, 0x1a, 0x0a]);
  return concat([magic, h, be32(adler(h)), first, ...repeat(rest, n - 1), be32(0)]);
}

function adler(b: Uint8Array): number {
  let a = 1;
  let s = 0;
  for (const x of b) {
    a = (a + x) % 65521;
    s = (s + a) % 65521;
  }
  return ((s << 16) | a) >>> 0;
}

/**
 * LZMA with lc = lp = pb = 0 that writes `lit` as literals, then `zeros` bytes as rep0
 * matches of distance 1 (the byte before must be 0). The range encoder and the state machine
 * follow the LZMA specification (lzma-specification.txt in the LZMA SDK); only the symbols a
 * zero run needs are encoded.
 */
class ZeroRunLzma {
  private low = 0;
  private range = 0xffffffff;
  private cache = 0;
  private cacheSize = 1;
  private readonly out: number[] = [];
  private state = 0;
  private readonly isMatch = new Uint16Array(12).fill(1024);
  private readonly isRep = new Uint16Array(12).fill(1024);
  private readonly isRepG0 = new Uint16Array(12).fill(1024);
  private readonly isRep0Long = new Uint16Array(12).fill(1024);
  private readonly literal = new Uint16Array(0x300).fill(1024);
  private readonly lenChoice = new Uint16Array(2).fill(1024);
  private readonly lenLow = new Uint16Array(8).fill(1024);
  private readonly lenMid = new Uint16Array(8).fill(1024);
  private readonly lenHigh = new Uint16Array(256).fill(1024);

  private shiftLow(): void {
    if (this.low < 0xff000000 || this.low >= 2 ** 32) {
      const carry = this.low >= 2 ** 32 ? 1 : 0;
      let temp = this.cache;
      do {
        this.out.push((temp + carry) & 0xff);
        temp = 0xff;
      } while (--this.cacheSize !== 0);
      this.cache = Math.floor(this.low / 2 ** 24) & 0xff;
    }
    this.cacheSize++;
    this.low = (this.low % 2 ** 24) * 256;
  }

  private bit(p: Uint16Array, i: number, b: number): void {
    const bound = (this.range >>> 11) * p[i]!;
    if (b === 0) {
      this.range = bound;
      p[i]! += (2048 - p[i]!) >>> 5;
    } else {
      this.low += bound;
      this.range -= bound;
      p[i]! -= p[i]! >>> 5;
    }
    while (this.range < 2 ** 24) {
      this.range = (this.range * 256) >>> 0;
      this.shiftLow();
    }
  }

  private tree(p: Uint16Array, bits: number, v: number): void {
    let m = 1;
    for (let i = bits - 1; i >= 0; i--) {
      const b = (v >>> i) & 1;
      this.bit(p, m, b);
      m = (m << 1) | b;
    }
  }

  literalByte(x: number): void {
    this.bit(this.isMatch, this.state << 0, 0);
    this.tree(this.literal, 8, x);
    this.state = this.state < 4 ? 0 : this.state < 10 ? this.state - 3 : this.state - 6;
  }

  /** A rep0 match of `len` (1: a short rep). */
  rep0(len: number): void {
    const s = this.state;
    this.bit(this.isMatch, s, 1);
    this.bit(this.isRep, s, 1);
    this.bit(this.isRepG0, s, 0);
    if (len === 1) {
      this.bit(this.isRep0Long, s, 0);
      this.state = s < 7 ? 9 : 11;
      return;
    }
    this.bit(this.isRep0Long, s, 1);
    const l = len - 2;
    if (l < 8) {
      this.bit(this.lenChoice, 0, 0);
      this.tree(this.lenLow, 3, l);
    } else if (l < 16) {
      this.bit(this.lenChoice, 0, 1);
      this.bit(this.lenChoice, 1, 0);
      this.tree(this.lenMid, 3, l - 8);
    } else {
      this.bit(this.lenChoice, 0, 1);
      this.bit(this.lenChoice, 1, 1);
      this.tree(this.lenHigh, 8, l - 16);
    }
    this.state = s < 7 ? 8 : 11;
  }

  zeros(n: number): void {
    for (; n >= 273; n -= 273) this.rep0(273);
    if (n > 0) this.rep0(n);
  }

  finish(): Uint8Array {
    for (let i = 0; i < 5; i++) this.shiftLow();
    return Uint8Array.from(this.out);
  }
}

function lzmaRun(lit: Uint8Array, zeros: number): Uint8Array {
  const e = new ZeroRunLzma();
  for (const x of lit) e.literalByte(x);
  e.zeros(zeros);
  return e.finish();
}

/** .lzma (LZMA-alone) with its size in the header (no end marker). */
function lzma(head: Uint8Array, zeros: number): Uint8Array {
  const lit = head.length ? head : new Uint8Array(1);
  const size = lit.length + zeros;
  const hdr = new Uint8Array(13);
  const v = new DataView(hdr.buffer);
  hdr[0] = 0; // lc 0, lp 0, pb 0
  v.setUint32(1, 1 << 20, true);
  v.setBigUint64(5, BigInt(size), true);
  return concat([hdr, lzmaRun(lit, zeros)]);
}

function vli(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}

/** .xz (no check) of one block: LZMA2 chunks of 2 MiB, the later ones a state reset each. */
function xz(head: Uint8Array, zeros: number): Uint8Array {
  const CHUNK = 2 << 20;
  const lit = head.length ? head : new Uint8Array(1);
  const total = lit.length + zeros;
  const chunk = (control: number, props: number[], data: Uint8Array, unpacked: number) =>
    Uint8Array.from([
      control | ((unpacked - 1) >>> 16),
      ((unpacked - 1) >>> 8) & 0xff,
      (unpacked - 1) & 0xff,
      ((data.length - 1) >>> 8) & 0xff,
      (data.length - 1) & 0xff,
      ...props,
      ...data,
    ]);
  const n = Math.ceil(total / CHUNK);
  const first = chunk(0xe0, [0], lzmaRun(lit, CHUNK - lit.length), CHUNK); // dict + state reset, props
  const rest = chunk(0xa0, [], lzmaRun(new Uint8Array(0), CHUNK), CHUNK); // state reset: rep0 = 0
  const body = concat([first, ...repeat(rest, n - 1), Uint8Array.from([0])]);
  const bh = Uint8Array.from([2, 0, 0x21, 1, 16, 0, 0, 0]); // 12 bytes, LZMA2 dict 1 MiB
  const blockHeader = concat([bh, le32(crc32(bh))]);
  const unpadded = blockHeader.length + body.length;
  const pad = new Uint8Array((4 - (unpadded % 4)) % 4);
  const idx = [0, ...vli(1), ...vli(unpadded), ...vli(n * CHUNK)];
  while (idx.length % 4) idx.push(0);
  const index = Uint8Array.from(idx);
  const flags = Uint8Array.from([0, 0]);
  const footer = concat([le32(index.length / 4), flags]);
  return concat([
    Uint8Array.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0]),
    flags,
    le32(crc32(flags)),
    blockHeader,
    body,
    pad,
    index,
    le32(crc32(index)),
    le32(crc32(footer)),
    footer,
    Uint8Array.from([0x59, 0x5a]),
  ]);
}

/** `head` then `zeros` zeros, compressed by `codec`. */
export function bomb(codec: BombCodec, head: Uint8Array, zeros: number): Uint8Array {
  switch (codec) {
    case "gzip":
      return gzip(head, zeros);
    case "zstd":
      return zstd(head, zeros);
    case "bzip2":
      return bzip2(head, zeros);
    case "lz4":
      return lz4(head, zeros);
    case "lzo":
      return lzo(head, zeros);
    case "lzma":
      return lzma(head, zeros);
    case "xz":
      return xz(head, zeros);
  }
}

/**
 * A minimal x86 bzImage (boot protocol 2.15) around `payload`, with the 4 size bytes the
 * kernel build appends (scripts/Makefile.lib size_append) saying `declared`.
 */
export function bzImageAround(payload: Uint8Array, declared: number): Uint8Array {
  const body = concat([payload, le32(declared)]);
  const setupSize = 5 * 512;
  const pm = 0x100;
  const b = new Uint8Array(setupSize + pm + body.length + 16);
  const v = new DataView(b.buffer);
  b[0x1f1] = 4; // setup_sects
  v.setUint32(0x1f4, Math.ceil((b.length - setupSize) / 16), true);
  v.setUint16(0x1fe, 0xaa55, true);
  v.setUint32(0x202, 0x53726448, true); // "HdrS"
  v.setUint16(0x206, 0x020f, true);
  b[0x211] = 0x01; // LOADED_HIGH
  v.setUint32(0x214, 0x100000, true);
  v.setUint32(0x230, 0x200000, true);
  v.setUint32(0x248, pm, true); // payload_offset
  v.setUint32(0x24c, body.length, true); // payload_length
  v.setUint32(0x260, declared, true); // init_size
  b.set(body, setupSize + pm);
  return b;
}
