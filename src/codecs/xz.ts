/**
 * `.xz` (xz-file-format-1.2.0): streams of blocks, each an LZMA2 chunk sequence optionally
 * preceded by the x86 BCJ filter. This is what the kernel's CONFIG_KERNEL_XZ build writes
 * (scripts/xz_wrap.sh: `xz --check=crc32 --x86 --lzma2=,dict=32MiB`) and what Debian's amd64
 * bzImage carries; the kernel decodes it with xz-embedded (lib/xz/) in single-call mode.
 * Block checks CRC32 and CRC64 are verified; SHA-256 is not (no synchronous hash in the
 * browser core) and is reported as unverified.
 */
import { DecompressError, UnsupportedError } from "../errors.js";
import { crc32, crc64 } from "./crc.js";
import { LzmaDecoder, lzmaProps } from "./lzma.js";
import { type DecodeOptions, OutputBuffer } from "./output.js";

export const XZ_MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];

const CHECK_NONE = 0;
const CHECK_CRC32 = 1;
const CHECK_CRC64 = 4;
const CHECK_SHA256 = 10;

const FILTER_X86 = 0x04;
const FILTER_LZMA2 = 0x21;
const FILTER_NAMES: Record<number, string> = {
  3: "delta",
  4: "x86",
  5: "powerpc",
  6: "ia64",
  7: "arm",
  8: "armthumb",
  9: "sparc",
  10: "arm64",
  11: "riscv",
  33: "lzma2",
};

export function isXz(b: Uint8Array): boolean {
  return XZ_MAGIC.every((v, i) => b[i] === v);
}

export interface XzInfo {
  /** Check type name per stream ("crc32", "crc64", "sha256", "none"). */
  checks: string[];
  /** Filter chains per block, e.g. ["x86", "lzma2"]. */
  filters: string[][];
  /** Input bytes consumed: streams and stream padding. */
  consumed: number;
  /** True if a SHA-256 check was present and left unverified. */
  unverified: boolean;
}

export interface XzResult {
  data: Uint8Array;
  info: XzInfo;
}

function fail(detail: string, offset?: number): never {
  throw new DecompressError(
    "xz",
    offset !== undefined ? `${detail} at input offset 0x${offset.toString(16)}` : detail,
  );
}

function readVli(b: Uint8Array, pos: number, end: number): [number, number] {
  let v = 0;
  let mul = 1;
  for (let i = 0; i < 9; i++) {
    if (pos >= end) fail("truncated variable-length integer", pos);
    const byte = b[pos++]!;
    v += (byte & 0x7f) * mul;
    if ((byte & 0x80) === 0) {
      if (i > 0 && byte === 0) fail("non-minimal variable-length integer", pos - 1);
      if (!Number.isSafeInteger(v)) fail("variable-length integer too large", pos - 1);
      return [v, pos];
    }
    mul *= 128;
  }
  return fail("variable-length integer longer than 9 bytes", pos);
}

function le32(b: Uint8Array, p: number): number {
  return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
}

/**
 * Undo the x86 BCJ filter in place over buf[start, end): relative CALL/JMP targets (E8/E9)
 * that the encoder turned absolute become relative again. `startOffset` is the filter's
 * start offset property (0 unless set). Follows the branch-converter algorithm of the .xz
 * spec (section 5.3.2 reference) with its prev_mask bookkeeping; the last 4 bytes of a
 * block are never converted, as in xz-embedded's bcj_x86 at end of input.
 */
const BCJ_ALLOWED = [true, true, true, false, true, false, false, false];
const BCJ_BIT_NUM = [0, 1, 2, 2, 3, 3, 3, 3];

export function unBcjX86(
  buf: Uint8Array,
  start: number,
  end: number,
  startOffset = 0,
  state?: BcjState,
): number {
  const allowed = BCJ_ALLOWED;
  const bitNum = BCJ_BIT_NUM;
  const size = end - start;
  if (size <= 4) return start;
  const limit = start + size - 4;
  // Before the first branch, "far before": prevMask starts at 0 (as xz-embedded's
  // prev_pos = (size_t)-1 with x86_prev_mask 0); kept small-integer for V8. A stream filtered
  // in pieces carries them over in `state` (xz-embedded's bcj_x86 does the same).
  let prevPos = start - (state?.back ?? 5);
  let prevMask = state?.mask ?? 0;
  let done = limit;
  // Jump from one E8/E9 byte to the next with indexOf (native memchr): 1–2% of x86 code bytes
  // are candidates, so this skips the per-byte loop for the rest.
  let nextE8 = buf.indexOf(0xe8, start);
  let nextE9 = buf.indexOf(0xe9, start);
  for (let i = start; i < limit; i++) {
    if (nextE8 >= 0 && nextE8 < i) nextE8 = buf.indexOf(0xe8, i);
    if (nextE9 >= 0 && nextE9 < i) nextE9 = buf.indexOf(0xe9, i);
    const next = nextE8 < 0 ? nextE9 : nextE9 < 0 ? nextE8 : Math.min(nextE8, nextE9);
    if (next < 0 || next >= limit) break;
    i = next;
    const gap = i - prevPos;
    if (gap > 3) {
      prevMask = 0;
    } else {
      prevMask = (prevMask << (gap - 1)) & 7;
      if (prevMask !== 0) {
        const k = bitNum[prevMask]!;
        const b = buf[i + 4 - k]!;
        if (!allowed[prevMask] || b === 0 || b === 0xff) {
          prevPos = i;
          prevMask = (prevMask << 1) | 1;
          continue;
        }
      }
    }
    prevPos = i;
    const b4 = buf[i + 4]!;
    if (b4 === 0 || b4 === 0xff) {
      // int32 arithmetic throughout: the conversion is modulo 2^32
      let src = buf[i + 1]! | (buf[i + 2]! << 8) | (buf[i + 3]! << 16) | (buf[i + 4]! << 24);
      let dest: number;
      const here = (startOffset + (i - start) + 5) | 0;
      for (;;) {
        dest = (src - here) | 0;
        if (prevMask === 0) break;
        const j = bitNum[prevMask]! * 8;
        const b = (dest >>> (24 - j)) & 0xff;
        if (b !== 0 && b !== 0xff) break;
        src = dest ^ ((1 << (32 - j)) - 1);
      }
      dest &= 0x01ffffff;
      if (dest & 0x01000000) dest |= 0xff000000;
      buf[i + 1] = dest & 0xff;
      buf[i + 2] = (dest >>> 8) & 0xff;
      buf[i + 3] = (dest >>> 16) & 0xff;
      buf[i + 4] = (dest >>> 24) & 0xff;
      i += 4;
      if (i + 1 > done) done = i + 1;
    } else {
      prevMask = (prevMask << 1) | 1;
    }
  }
  if (state) {
    state.back = done - prevPos;
    state.mask = prevMask;
  }
  return done;
}

/** The x86 BCJ filter's state between two pieces of one block. */
export interface BcjState {
  /** Bytes from the next piece's start back to the last E8/E9 looked at. */
  back: number;
  mask: number;
}

/** Decode the LZMA2 chunks of one block into out; returns the input position after them. */
function decodeLzma2(
  input: Uint8Array,
  pos: number,
  end: number,
  out: OutputBuffer,
  dec: LzmaDecoder,
  dictSize: number,
  onProgress?: (done: number, total: number) => void,
): number {
  // streaming: after each chunk the output goes out and the buffer keeps the dictionary only
  // (bounded by the output ceiling, which a declared size has lowered)
  const window = Math.min(dictSize, out.limit);
  out.setWindow(window, 1 << 21); // an LZMA2 chunk is at most 2 MiB
  const flush = (): void => {
    if (out.sink) dec.dictStart -= out.flush(window);
  };
  let needDictReset = true;
  let needProps = true;
  for (;;) {
    if (pos >= end) fail("LZMA2 data ends without an end marker", pos);
    const control = input[pos++]!;
    if (control === 0) return pos;
    if (control === 1 || control === 2) {
      if (pos + 2 > end) fail("truncated LZMA2 chunk header", pos);
      const size = ((input[pos]! << 8) | input[pos + 1]!) + 1;
      pos += 2;
      if (control === 1) {
        dec.resetDict();
        needDictReset = false;
      } else if (needDictReset) fail("LZMA2 stream does not start with a dictionary reset", pos - 3);
      if (pos + size > end) fail("truncated LZMA2 uncompressed chunk", pos);
      out.ensure(size);
      out.buf.set(input.subarray(pos, pos + size), out.pos);
      out.pos += size;
      pos += size;
      flush();
      continue;
    }
    if (control < 0x80) fail(`invalid LZMA2 control byte 0x${control.toString(16)}`, pos - 1);
    if (pos + 4 > end) fail("truncated LZMA2 chunk header", pos);
    const unpacked = ((control & 0x1f) << 16) + ((input[pos]! << 8) | input[pos + 1]!) + 1;
    const packed = ((input[pos + 2]! << 8) | input[pos + 3]!) + 1;
    pos += 4;
    const reset = (control >>> 5) & 3;
    if (reset === 3) {
      dec.resetDict();
      needDictReset = false;
    } else if (needDictReset) fail("LZMA2 stream does not start with a dictionary reset", pos - 5);
    if (reset >= 2) {
      if (pos >= end) fail("truncated LZMA2 properties", pos);
      const props = lzmaProps(input[pos++]!, "xz");
      if (props.lc + props.lp > 4) fail("LZMA2 lc + lp > 4", pos - 1);
      dec.setProps(props);
      needProps = false;
    } else if (needProps) fail("LZMA2 chunk without properties", pos - 5);
    if (reset >= 1) dec.resetState();
    if (pos + packed > end) fail("truncated LZMA2 chunk", pos);
    out.ensure(unpacked);
    dec.initRangeCoder(input, pos, pos + packed);
    const target = out.pos + unpacked;
    if (dec.decode(target)) fail("end marker inside an LZMA2 chunk", pos);
    if (out.pos !== target) fail("LZMA2 chunk decoded short", pos);
    if (dec.inPos !== pos + packed) fail("LZMA2 chunk size does not match its data", pos);
    pos += packed;
    flush();
    onProgress?.(pos, input.length);
  }
}

/**
 * Decode the xz stream(s) at input[0]. Decoding stops at the end of the last stream and its
 * zero padding; bytes after it (the kernel's 4 appended size bytes) are left unread and
 * `info.consumed` says where they start.
 */
export function decodeXz(input: Uint8Array, opts: DecodeOptions = {}): XzResult {
  // streaming: the raw LZMA2 output of a block goes through the block's filters and check
  // (set per block by decodeStream) before it reaches the caller's sink
  const piece: BlockPiece = { to: () => {} };
  const out = new OutputBuffer("xz", opts.sink ? { ...opts, sink: (c: Uint8Array) => piece.to(c) } : opts);
  const info: XzInfo = { checks: [], filters: [], consumed: 0, unverified: false };
  let pos = 0;
  const end = input.length;
  let first = true;
  while (pos + 12 <= end && isXz(input.subarray(pos, pos + 6))) {
    pos = decodeStream(input, pos, end, out, info, opts.onProgress, opts.sink && { piece, sink: opts.sink });
    first = false;
    // stream padding: multiples of 4 zero bytes
    let p = pos;
    while (p + 4 <= end && le32(input, p) === 0) p += 4;
    pos = p;
  }
  if (first) fail("no xz stream header (magic FD 37 7A 58 5A 00)", 0);
  info.consumed = pos;
  return { data: out.result(), info };
}

interface BlockPiece {
  to: (raw: Uint8Array) => void;
}

function decodeStream(
  input: Uint8Array,
  start: number,
  end: number,
  out: OutputBuffer,
  info: XzInfo,
  onProgress?: (done: number, total: number) => void,
  stream?: { piece: BlockPiece; sink: (chunk: Uint8Array) => void },
): number {
  let pos = start + 6;
  const flags0 = input[pos]!;
  const check = input[pos + 1]!;
  if (crc32(input.subarray(pos, pos + 2)) !== le32(input, pos + 2)) fail("stream header CRC32 mismatch", pos);
  if (flags0 !== 0 || check > 15)
    throw new UnsupportedError(
      `xz stream flags 0x${flags0.toString(16)}${check.toString(16).padStart(2, "0")}`,
    );
  pos += 6;
  const checkSize = check === 0 ? 0 : 4 << (((check - 1) / 3) | 0);
  const checkName =
    check === CHECK_NONE
      ? "none"
      : check === CHECK_CRC32
        ? "crc32"
        : check === CHECK_CRC64
          ? "crc64"
          : check === CHECK_SHA256
            ? "sha256"
            : `type ${check}`;
  info.checks.push(checkName);
  const records: Array<[number, number]> = [];
  const dec = new LzmaDecoder(out, "xz");
  for (;;) {
    if (pos >= end) fail("truncated: no index", pos);
    const hs = input[pos]!;
    if (hs === 0) break; // index indicator
    const headerSize = (hs + 1) * 4;
    const hStart = pos;
    if (pos + headerSize > end) fail("truncated block header", pos);
    if (crc32(input.subarray(pos, pos + headerSize - 4)) !== le32(input, pos + headerSize - 4))
      fail("block header CRC32 mismatch", pos);
    const bflags = input[pos + 1]!;
    if (bflags & 0x3c) throw new UnsupportedError("xz block flags with reserved bits set", pos + 1);
    let p = pos + 2;
    const hEnd = pos + headerSize - 4;
    let compressedSize = -1;
    let uncompressedSize = -1;
    if (bflags & 0x40) [compressedSize, p] = readVli(input, p, hEnd);
    if (bflags & 0x80) [uncompressedSize, p] = readVli(input, p, hEnd);
    const nFilters = (bflags & 3) + 1;
    const chain: Array<{ id: number; props: Uint8Array }> = [];
    for (let f = 0; f < nFilters; f++) {
      let id: number;
      let psize: number;
      [id, p] = readVli(input, p, hEnd);
      [psize, p] = readVli(input, p, hEnd);
      if (p + psize > hEnd) fail("filter properties overrun the block header", p);
      chain.push({ id, props: input.subarray(p, p + psize) });
      p += psize;
    }
    info.filters.push(chain.map((c) => FILTER_NAMES[c.id] ?? `0x${c.id.toString(16)}`));
    const last = chain[chain.length - 1]!;
    if (last.id !== FILTER_LZMA2)
      throw new UnsupportedError(`xz filter chain ending in ${FILTER_NAMES[last.id] ?? last.id}`);
    for (const c of chain.slice(0, -1)) {
      if (c.id !== FILTER_X86)
        throw new UnsupportedError(`xz filter ${FILTER_NAMES[c.id] ?? `0x${c.id.toString(16)}`}`);
    }
    if (last.props.length !== 1 || last.props[0]! > 40) fail("bad LZMA2 dictionary size property", p);
    const db = last.props[0]!;
    const dictSize = db === 40 ? 0xffffffff : (2 | (db & 1)) * 2 ** ((db >>> 1) + 11);
    pos = hStart + headerSize;
    const dataStart = pos;
    const outStart = out.pos;
    const sizeStart = out.size;
    const bcjOffsets = chain.slice(0, -1).map((c) => {
      if (c.props.length === 4) return le32(c.props, 0);
      if (c.props.length !== 0) fail("bad x86 filter properties", dataStart);
      return 0;
    });
    // streaming: filter and check each piece as it comes (the checks below then compare)
    let crc = 0;
    let crc64s = 0n;
    const deliver = (b: Uint8Array): void => {
      if (check === CHECK_CRC32) crc = crc32(b, crc);
      else if (check === CHECK_CRC64) crc64s = crc64(b, crc64s);
      stream!.sink(b);
    };
    let carry = new Uint8Array(0);
    let scratch = new Uint8Array(0);
    const bcj: BcjState = { back: 5, mask: 0 };
    let bcjAt = bcjOffsets[0] ?? 0;
    if (stream) {
      if (bcjOffsets.length > 1) throw new UnsupportedError("xz chain of several x86 filters");
      stream.piece.to =
        bcjOffsets.length === 0
          ? deliver
          : (raw) => {
              // a copy: the raw bytes are the LZMA2 dictionary, the filter rewrites in place
              const n = carry.length + raw.length;
              if (scratch.length < n) scratch = new Uint8Array(Math.max(n, 1 << 21));
              const b = scratch.subarray(0, n);
              b.set(carry);
              b.set(raw, carry.length);
              const done = unBcjX86(b, 0, n, bcjAt, bcj);
              bcjAt = (bcjAt + done) | 0;
              carry = b.slice(done);
              deliver(b.subarray(0, done));
            };
    } else if (uncompressedSize >= 0)
      // preallocate from the block header only up to a plausible ratio (it is untrusted)
      out.ensure(Math.min(uncompressedSize, (end - pos) * 64 + (1 << 20)));
    const dataEnd = compressedSize >= 0 ? Math.min(end, dataStart + compressedSize) : end;
    pos = decodeLzma2(input, pos, dataEnd, out, dec, dictSize, onProgress);
    if (stream) {
      // the block's dictionary ends with it (the next block starts with a dictionary reset)
      out.flush(0);
      if (carry.length) deliver(carry); // the last bytes, too short for a branch, pass as they are
    }
    const blockSize = out.size - sizeStart;
    if (compressedSize >= 0 && pos - dataStart !== compressedSize)
      fail("block compressed size mismatch", dataStart);
    if (uncompressedSize >= 0 && blockSize !== uncompressedSize)
      fail("block uncompressed size mismatch", dataStart);
    // filters other than the last, applied in reverse order
    if (!stream) for (const at of bcjOffsets.reverse()) unBcjX86(out.buf, outStart, out.pos, at);
    const unpadded = pos - hStart;
    while ((pos - hStart) % 4 !== 0) {
      if (pos >= end) fail("truncated block padding", pos);
      if (input[pos] !== 0) fail("non-zero block padding", pos);
      pos++;
    }
    if (pos + checkSize > end) fail("truncated block check", pos);
    const data = out.buf.subarray(outStart, out.pos);
    if (check === CHECK_CRC32) {
      if ((stream ? crc : crc32(data)) !== le32(input, pos)) fail("block CRC32 mismatch (corrupt data)", pos);
    } else if (check === CHECK_CRC64) {
      const want = (BigInt(le32(input, pos + 4)) << 32n) | BigInt(le32(input, pos));
      if ((stream ? crc64s : crc64(data)) !== want) fail("block CRC64 mismatch (corrupt data)", pos);
    } else if (check !== CHECK_NONE) {
      info.unverified = true;
    }
    pos += checkSize;
    records.push([unpadded + checkSize, blockSize]);
  }
  // index
  const indexStart = pos;
  const [count, afterCount] = readVli(input, pos + 1, end);
  let p = afterCount;
  if (count !== records.length) fail(`index lists ${count} blocks, stream has ${records.length}`, indexStart);
  for (const [unpadded, usize] of records) {
    let a: number;
    let b: number;
    [a, p] = readVli(input, p, end);
    [b, p] = readVli(input, p, end);
    if (a !== unpadded || b !== usize) fail("index record does not match its block", p);
  }
  while ((p - indexStart) % 4 !== 0) {
    if (p >= end || input[p] !== 0) fail("bad index padding", p);
    p++;
  }
  if (p + 4 > end) fail("truncated index", p);
  if (crc32(input.subarray(indexStart, p)) !== le32(input, p)) fail("index CRC32 mismatch", p);
  p += 4;
  // footer
  if (p + 12 > end) fail("truncated stream footer", p);
  if (crc32(input.subarray(p + 4, p + 10)) !== le32(input, p)) fail("stream footer CRC32 mismatch", p);
  const backward = (le32(input, p + 4) + 1) * 4;
  if (backward !== p - indexStart) fail("stream footer backward size mismatch", p);
  if (input[p + 8] !== 0 || input[p + 9] !== check) fail("stream footer flags differ from the header", p);
  if (input[p + 10] !== 0x59 || input[p + 11] !== 0x5a) fail("no stream footer magic YZ", p + 10);
  return p + 12;
}
