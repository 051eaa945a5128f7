/**
 * LZMA: the range-coded LZ77 decoder shared by the legacy `.lzma` ("LZMA alone") container,
 * which the kernel's CONFIG_KERNEL_LZMA build writes with `lzma -9` (lib/decompress_unlzma.c),
 * and by LZMA2 inside `.xz` (src/codecs/xz.ts). Written from the LZMA specification
 * (lzma-specification.txt in the LZMA SDK): a single output buffer doubles as the dictionary,
 * as in xz-embedded's single-call mode, so nothing is copied twice.
 */
import { DecompressError, FormatError, LimitError } from "../errors.js";
import { type DecodeOptions, OutputBuffer } from "./output.js";

// Offsets of the probability groups inside one Uint16Array.
const IS_MATCH = 0; // [state << 4 | posState]
const IS_REP = 192;
const IS_REP_G0 = 204;
const IS_REP_G1 = 216;
const IS_REP_G2 = 228;
const IS_REP0_LONG = 240; // [state << 4 | posState]
const POS_SLOT = 432; // [lenState * 64 + slot]
const SPEC_POS = 688; // 114 = kNumFullDistances - kEndPosModelIndex
const ALIGN = 802; // 16
const LEN = 818; // length coder: choice, choice2, low[16][8], mid[16][8], high[256]
const REP_LEN = LEN + 514;
const LITERAL = REP_LEN + 514;
const LEN_CHOICE2 = 1;
const LEN_LOW = 2;
const LEN_MID = 130;
const LEN_HIGH = 258;

const TOP = 1 << 24;
const MATCH_MIN = 2;

export interface LzmaProps {
  lc: number;
  lp: number;
  pb: number;
}

/** Decode the props byte (lc + lp*9 + pb*45). */
export function lzmaProps(byte: number, codec = "lzma"): LzmaProps {
  if (byte >= 9 * 5 * 5) throw new DecompressError(codec, `invalid properties byte 0x${byte.toString(16)}`);
  const lc = byte % 9;
  const rest = (byte / 9) | 0;
  return { lc, lp: rest % 5, pb: (rest / 5) | 0 };
}

/**
 * The LZMA decoder state: probabilities, the four rep distances, a pending match, and the
 * range decoder. Output goes to an OutputBuffer whose bytes since `dictStart` are the
 * dictionary.
 */
export class LzmaDecoder {
  probs: Uint16Array = new Uint16Array(LITERAL + 0x300);
  lc = 0;
  lp = 0;
  pb = 0;
  state = 0;
  rep0 = 0;
  rep1 = 0;
  rep2 = 0;
  rep3 = 0;
  /** Bytes of a match still to copy when the previous call stopped at its limit (LZMA2). */
  remainLen = 0;
  /** Output position of the last dictionary reset: positions for pb/lp count from here. */
  dictStart = 0;
  /** Range coder registers [range, code] as uint32 (no boxing of values ≥ 2^31 in V8). */
  readonly rc = new Uint32Array(2);
  inPos = 0;
  inEnd = 0;
  input: Uint8Array = new Uint8Array(0);

  constructor(
    readonly out: OutputBuffer,
    readonly codec = "lzma",
  ) {}

  setProps(p: LzmaProps): void {
    this.lc = p.lc;
    this.lp = p.lp;
    this.pb = p.pb;
    const need = LITERAL + (0x300 << (p.lc + p.lp));
    if (this.probs.length !== need) this.probs = new Uint16Array(need);
  }

  /** State reset: all probabilities to one half, state 0, reps 0. */
  resetState(): void {
    this.probs.fill(1024);
    this.state = 0;
    this.rep0 = this.rep1 = this.rep2 = this.rep3 = 0;
    this.remainLen = 0;
  }

  resetDict(): void {
    this.dictStart = this.out.pos;
    this.remainLen = 0;
  }

  /** Start the range decoder on input[pos, end): 5 init bytes, the first must be 0. */
  initRangeCoder(input: Uint8Array, pos: number, end: number): void {
    if (end - pos < 5) throw new DecompressError(this.codec, "truncated range coder init");
    if (input[pos] !== 0) throw new DecompressError(this.codec, "range coder init byte is not 0");
    this.input = input;
    this.inEnd = end;
    this.rc[0] = 0xffffffff;
    this.rc[1] =
      ((input[pos + 1]! << 24) | (input[pos + 2]! << 16) | (input[pos + 3]! << 8) | input[pos + 4]!) >>> 0;
    this.inPos = pos + 5;
    if (this.rc[1] === this.rc[0]) throw new DecompressError(this.codec, "corrupt range coder init");
  }

  /**
   * Decode until the output reaches `limit` (absolute position; the caller has made room up
   * to it) or the end marker. Returns true when the end marker was read.
   */
  decode(limit: number): boolean {
    const out = this.out;
    const buf = out.buf;
    if (limit > buf.length) throw new Error("LzmaDecoder.decode: limit past the output buffer");
    let pos = out.pos;
    const dictStart = this.dictStart;
    const pbMask = (1 << this.pb) - 1;
    const lpMask = (1 << this.lp) - 1;
    const lc = this.lc;
    let state = this.state;
    // A match cut by the previous limit continues first.
    if (this.remainLen > 0) {
      const src0 = pos - this.rep0 - 1;
      const n = Math.min(this.remainLen, limit - pos);
      for (let k = 0; k < n; k++) buf[pos + k] = buf[src0 + k]!;
      pos += n;
      this.remainLen -= n;
    }
    let ended = false;
    // The range coder registers live in locals for the isMatch bit and the literal coder, where
    // most bits are spent (2x faster in V8 than a method call per bit through the object);
    // they are written back to `rc` around the rarer match paths, which use the methods.
    const p = this.probs;
    const rc = this.rc;
    const input = this.input;
    const inEnd = this.inEnd;
    let ip = this.inPos;
    let range = rc[0]!;
    let code = rc[1]!;
    while (pos < limit) {
      const rel = pos - dictStart;
      const posState = rel & pbMask;
      const mi = IS_MATCH + (state << 4) + posState;
      const mprob = p[mi]!;
      const mbound = Math.imul(range >>> 11, mprob) >>> 0;
      if (code < mbound) {
        range = mbound;
        p[mi] = mprob + ((2048 - mprob) >>> 5);
        if (range < TOP) {
          if (ip >= inEnd) throw new DecompressError(this.codec, "compressed data ends too early");
          range = (range << 8) >>> 0;
          code = ((code << 8) | input[ip++]!) >>> 0;
        }
        const prev = rel > 0 ? buf[pos - 1]! : 0;
        const base = LITERAL + 0x300 * (((rel & lpMask) << lc) + (prev >>> (8 - lc)));
        let sym = 1;
        if (state >= 7) {
          // matched literal: follow the byte at rep0 until the first differing bit
          let matchByte = buf[pos - this.rep0 - 1]!;
          while (sym < 0x100) {
            const matchBit = (matchByte >>> 7) & 1;
            matchByte <<= 1;
            const i = base + 0x100 + (matchBit << 8) + sym;
            const prob = p[i]!;
            const bound = Math.imul(range >>> 11, prob) >>> 0;
            let b: number;
            if (code < bound) {
              range = bound;
              p[i] = prob + ((2048 - prob) >>> 5);
              b = 0;
            } else {
              range = (range - bound) >>> 0;
              code = (code - bound) >>> 0;
              p[i] = prob - (prob >>> 5);
              b = 1;
            }
            if (range < TOP) {
              if (ip >= inEnd) throw new DecompressError(this.codec, "compressed data ends too early");
              range = (range << 8) >>> 0;
              code = ((code << 8) | input[ip++]!) >>> 0;
            }
            sym = (sym << 1) | b;
            if (matchBit !== b) break;
          }
        }
        while (sym < 0x100) {
          const i = base + sym;
          const prob = p[i]!;
          const bound = Math.imul(range >>> 11, prob) >>> 0;
          if (code < bound) {
            range = bound;
            p[i] = prob + ((2048 - prob) >>> 5);
            sym <<= 1;
          } else {
            range = (range - bound) >>> 0;
            code = (code - bound) >>> 0;
            p[i] = prob - (prob >>> 5);
            sym = (sym << 1) | 1;
          }
          if (range < TOP) {
            if (ip >= inEnd) throw new DecompressError(this.codec, "compressed data ends too early");
            range = (range << 8) >>> 0;
            code = ((code << 8) | input[ip++]!) >>> 0;
          }
        }
        buf[pos++] = sym & 0xff;
        state = state < 4 ? 0 : state < 10 ? state - 3 : state - 6;
        continue;
      }
      range = (range - mbound) >>> 0;
      code = (code - mbound) >>> 0;
      p[mi] = mprob - (mprob >>> 5);
      if (range < TOP) {
        if (ip >= inEnd) throw new DecompressError(this.codec, "compressed data ends too early");
        range = (range << 8) >>> 0;
        code = ((code << 8) | input[ip++]!) >>> 0;
      }
      rc[0] = range;
      rc[1] = code;
      this.inPos = ip;
      const r = this.match(state, posState, rel);
      range = rc[0]!;
      code = rc[1]!;
      ip = this.inPos;
      if (r < 0) {
        ended = true;
        break;
      }
      state = r;
      if (this.pendingShortRep) {
        this.pendingShortRep = false;
        buf[pos] = buf[pos - this.rep0 - 1]!;
        pos++;
        continue;
      }
      const len = this.matchLen;
      const rep0 = this.rep0;
      // streamed output slides the dictionary down (dictStart < 0): only buf[0, pos) is kept
      if (rep0 >= pos - (dictStart > 0 ? dictStart : 0))
        throw new DecompressError(
          this.codec,
          dictStart >= 0
            ? `match distance ${rep0 + 1} beyond the ${pos - dictStart} bytes decoded`
            : `match distance ${rep0 + 1} beyond the dictionary`,
        );
      const n = Math.min(len, limit - pos);
      let src = pos - rep0 - 1;
      if (n > 32 && rep0 + 1 >= n) {
        buf.copyWithin(pos, src, src + n);
        pos += n;
      } else {
        const end = pos + n;
        while (pos < end) buf[pos++] = buf[src++]!;
      }
      this.remainLen = len - n;
    }
    rc[0] = range;
    rc[1] = code;
    this.inPos = ip;
    this.state = state;
    out.pos = pos;
    return ended;
  }

  private pendingShortRep = false;
  private matchLen = 0;

  /**
   * After an isMatch bit of 1: decode the rep/match choice, length and distance. Returns the
   * new state, or -1 for the end marker; sets matchLen (with MATCH_MIN) or pendingShortRep.
   */
  private match(state: number, posState: number, rel: number): number {
    // Same bit decoding as bit()/tree()/reverseTree()/direct(), expanded with the range coder
    // in locals (the match path is a third of the decoding time).
    const p = this.probs;
    const rc = this.rc;
    const input = this.input;
    const inEnd = this.inEnd;
    let range = rc[0]!;
    let code = rc[1]!;
    let ip = this.inPos;
    let pi = 0;
    let prob = 0;
    let bound = 0;
    let b = 0;
    let lenBase: number;
    let newState: number;
    pi = IS_REP + state;
    prob = p[pi]!;
    bound = Math.imul(range >>> 11, prob) >>> 0;
    if (code < bound) {
      range = bound;
      p[pi] = prob + ((2048 - prob) >>> 5);
      b = 0;
    } else {
      range = (range - bound) >>> 0;
      code = (code - bound) >>> 0;
      p[pi] = prob - (prob >>> 5);
      b = 1;
    }
    if (range < TOP) {
      if (ip >= inEnd) throw new DecompressError(this.codec, "compressed data ends too early");
      range = (range << 8) >>> 0;
      code = ((code << 8) | input[ip++]!) >>> 0;
    }
    const rep = b === 1;
    if (rep) {
      if (rel === 0) throw new DecompressError(this.codec, "repeated match in an empty dictionary");
      pi = IS_REP_G0 + state;
      prob = p[pi]!;
      bound = Math.imul(range >>> 11, prob) >>> 0;
      if (code < bound) {
        range = bound;
        p[pi] = prob + ((2048 - prob) >>> 5);
        b = 0;
      } else {
        range = (range - bound) >>> 0;
        code = (code - bound) >>> 0;
        p[pi] = prob - (prob >>> 5);
        b = 1;
      }
      if (range < TOP) {
        if (ip >= inEnd) throw new DecompressError(this.codec, "compressed data ends too early");
        range = (range << 8) >>> 0;
        code = ((code << 8) | input[ip++]!) >>> 0;
      }
      if (b === 0) {
        pi = IS_REP0_LONG + (state << 4) + posState;
        prob = p[pi]!;
        bound = Math.imul(range >>> 11, prob) >>> 0;
        if (code < bound) {
          range = bound;
          p[pi] = prob + ((2048 - prob) >>> 5);
          b = 0;
        } else {
          range = (range - bound) >>> 0;
          code = (code - bound) >>> 0;
          p[pi] = prob - (prob >>> 5);
          b = 1;
        }
        if (range < TOP) {
          if (ip >= inEnd) throw new DecompressError(this.codec, "compressed data ends too early");
          range = (range << 8) >>> 0;
          code = ((code << 8) | input[ip++]!) >>> 0;
        }
        if (b === 0) {
          // short rep: one byte at rep0
          this.pendingShortRep = true;
          rc[0] = range;
          rc[1] = code;
          this.inPos = ip;
          return state < 7 ? 9 : 11;
        }
      } else {
        let dist: number;
        pi = IS_REP_G1 + state;
        prob = p[pi]!;
        bound = Math.imul(range >>> 11, prob) >>> 0;
        if (code < bound) {
          range = bound;
          p[pi] = prob + ((2048 - prob) >>> 5);
          b = 0;
        } else {
          range = (range - bound) >>> 0;
          code = (code - bound) >>> 0;
          p[pi] = prob - (prob >>> 5);
          b = 1;
        }
        if (range < TOP) {
          if (ip >= inEnd) throw new DecompressError(this.codec, "compressed data ends too early");
          range = (range << 8) >>> 0;
          code = ((code << 8) | input[ip++]!) >>> 0;
        }
        if (b === 0) {
          dist = this.rep1;
        } else {
          pi = IS_REP_G2 + state;
          prob = p[pi]!;
          bound = Math.imul(range >>> 11, prob) >>> 0;
          if (code < bound) {
            range = bound;
            p[pi] = prob + ((2048 - prob) >>> 5);
            b = 0;
          } else {
            range = (range - bound) >>> 0;
            code = (code - bound) >>> 0;
            p[pi] = prob - (prob >>> 5);
            b = 1;
          }
          if (range < TOP) {
            if (ip >= inEnd) throw new DecompressError(this.codec, "compressed data ends too early");
            range = (range << 8) >>> 0;
            code = ((code << 8) | input[ip++]!) >>> 0;
          }
          if (b === 0) {
            dist = this.rep2;
          } else {
            dist = this.rep3;
            this.rep3 = this.rep2;
          }
          this.rep2 = this.rep1;
        }
        this.rep1 = this.rep0;
        this.rep0 = dist;
      }
      lenBase = REP_LEN;
      newState = state < 7 ? 8 : 11;
    } else {
      this.rep3 = this.rep2;
      this.rep2 = this.rep1;
      this.rep1 = this.rep0;
      lenBase = LEN;
      newState = state < 7 ? 7 : 10;
    }
    // length: choice, choice2, then a 3-, 3- or 8-bit tree
    let treeBase: number;
    let treeBits: number;
    let lenAdd: number;
    pi = lenBase;
    prob = p[pi]!;
    bound = Math.imul(range >>> 11, prob) >>> 0;
    if (code < bound) {
      range = bound;
      p[pi] = prob + ((2048 - prob) >>> 5);
      b = 0;
    } else {
      range = (range - bound) >>> 0;
      code = (code - bound) >>> 0;
      p[pi] = prob - (prob >>> 5);
      b = 1;
    }
    if (range < TOP) {
      if (ip >= inEnd) throw new DecompressError(this.codec, "compressed data ends too early");
      range = (range << 8) >>> 0;
      code = ((code << 8) | input[ip++]!) >>> 0;
    }
    if (b === 0) {
      treeBase = lenBase + LEN_LOW + posState * 8;
      treeBits = 3;
      lenAdd = 0;
    } else {
      pi = lenBase + LEN_CHOICE2;
      prob = p[pi]!;
      bound = Math.imul(range >>> 11, prob) >>> 0;
      if (code < bound) {
        range = bound;
        p[pi] = prob + ((2048 - prob) >>> 5);
        b = 0;
      } else {
        range = (range - bound) >>> 0;
        code = (code - bound) >>> 0;
        p[pi] = prob - (prob >>> 5);
        b = 1;
      }
      if (range < TOP) {
        if (ip >= inEnd) throw new DecompressError(this.codec, "compressed data ends too early");
        range = (range << 8) >>> 0;
        code = ((code << 8) | input[ip++]!) >>> 0;
      }
      if (b === 0) {
        treeBase = lenBase + LEN_MID + posState * 8;
        treeBits = 3;
        lenAdd = 8;
      } else {
        treeBase = lenBase + LEN_HIGH;
        treeBits = 8;
        lenAdd = 16;
      }
    }
    let m = 1;
    for (let k = 0; k < treeBits; k++) {
      pi = treeBase + m;
      prob = p[pi]!;
      bound = Math.imul(range >>> 11, prob) >>> 0;
      if (code < bound) {
        range = bound;
        p[pi] = prob + ((2048 - prob) >>> 5);
        b = 0;
      } else {
        range = (range - bound) >>> 0;
        code = (code - bound) >>> 0;
        p[pi] = prob - (prob >>> 5);
        b = 1;
      }
      if (range < TOP) {
        if (ip >= inEnd) throw new DecompressError(this.codec, "compressed data ends too early");
        range = (range << 8) >>> 0;
        code = ((code << 8) | input[ip++]!) >>> 0;
      }
      m = (m << 1) | b;
    }
    const len = lenAdd + m - (1 << treeBits);
    if (!rep) {
      const slotBase = POS_SLOT + (len < 3 ? len : 3) * 64;
      m = 1;
      for (let k = 0; k < 6; k++) {
        pi = slotBase + m;
        prob = p[pi]!;
        bound = Math.imul(range >>> 11, prob) >>> 0;
        if (code < bound) {
          range = bound;
          p[pi] = prob + ((2048 - prob) >>> 5);
          b = 0;
        } else {
          range = (range - bound) >>> 0;
          code = (code - bound) >>> 0;
          p[pi] = prob - (prob >>> 5);
          b = 1;
        }
        if (range < TOP) {
          if (ip >= inEnd) throw new DecompressError(this.codec, "compressed data ends too early");
          range = (range << 8) >>> 0;
          code = ((code << 8) | input[ip++]!) >>> 0;
        }
        m = (m << 1) | b;
      }
      const slot = m - 64;
      let dist: number;
      if (slot < 4) {
        dist = slot;
      } else {
        const nd = (slot >>> 1) - 1;
        dist = (2 | (slot & 1)) * 2 ** nd;
        if (slot < 14) {
          const base = SPEC_POS + dist - slot - 1;
          m = 1;
          for (let k = 0; k < nd; k++) {
            pi = base + m;
            prob = p[pi]!;
            bound = Math.imul(range >>> 11, prob) >>> 0;
            if (code < bound) {
              range = bound;
              p[pi] = prob + ((2048 - prob) >>> 5);
              b = 0;
            } else {
              range = (range - bound) >>> 0;
              code = (code - bound) >>> 0;
              p[pi] = prob - (prob >>> 5);
              b = 1;
            }
            if (range < TOP) {
              if (ip >= inEnd) throw new DecompressError(this.codec, "compressed data ends too early");
              range = (range << 8) >>> 0;
              code = ((code << 8) | input[ip++]!) >>> 0;
            }
            m = (m << 1) | b;
            dist += b << k;
          }
        } else {
          let d = 0;
          for (let k = nd - 4; k > 0; k--) {
            range = range >>> 1;
            if (code >= range) {
              code = (code - range) >>> 0;
              d = d * 2 + 1;
            } else d *= 2;
            if (range < TOP) {
              if (ip >= inEnd) throw new DecompressError(this.codec, "compressed data ends too early");
              range = (range << 8) >>> 0;
              code = ((code << 8) | input[ip++]!) >>> 0;
            }
          }
          dist += d * 16;
          m = 1;
          for (let k = 0; k < 4; k++) {
            pi = ALIGN + m;
            prob = p[pi]!;
            bound = Math.imul(range >>> 11, prob) >>> 0;
            if (code < bound) {
              range = bound;
              p[pi] = prob + ((2048 - prob) >>> 5);
              b = 0;
            } else {
              range = (range - bound) >>> 0;
              code = (code - bound) >>> 0;
              p[pi] = prob - (prob >>> 5);
              b = 1;
            }
            if (range < TOP) {
              if (ip >= inEnd) throw new DecompressError(this.codec, "compressed data ends too early");
              range = (range << 8) >>> 0;
              code = ((code << 8) | input[ip++]!) >>> 0;
            }
            m = (m << 1) | b;
            dist += b << k;
          }
        }
      }
      if (dist === 0xffffffff) {
        rc[0] = range;
        rc[1] = code;
        this.inPos = ip;
        return -1;
      }
      this.rep0 = dist;
    }
    this.matchLen = len + MATCH_MIN;
    rc[0] = range;
    rc[1] = code;
    this.inPos = ip;
    return newState;
  }
}

/** Size of the `.lzma` header: props, dict size (LE32), uncompressed size (LE64, ~0 = unknown). */
export const LZMA_ALONE_HEADER = 13;

/** Does this look like an LZMA-alone header (as `lzma -9` writes it)? */
export function isLzmaAlone(b: Uint8Array): boolean {
  if (b.length < LZMA_ALONE_HEADER) return false;
  if (b[0]! >= 225) return false;
  const dict = (b[1]! | (b[2]! << 8) | (b[3]! << 16) | (b[4]! << 24)) >>> 0;
  // lzma-utils/xz write a power of two or 2^n + 2^(n-1); the kernel build uses -9 (64 MiB)
  if (dict < 4096 || (dict & (dict - 1)) !== 0) {
    const low = dict & -dict;
    if (dict !== low * 3 || dict < 4096) return false;
  }
  // size: ~0 or < 2^48
  const hi = (b[11]! | (b[12]! << 8)) >>> 0;
  const all1 = b.subarray(5, 13).every((x) => x === 0xff);
  return all1 || hi === 0;
}

export interface LzmaResult {
  data: Uint8Array;
  /** Input bytes consumed (header + range-coded data). */
  consumed: number;
}

/**
 * Decode a `.lzma` stream starting at input[0]. With a known uncompressed size the stream
 * may end without an end marker; with ~0 it must end with one.
 */
export function decodeLzma(input: Uint8Array, opts: DecodeOptions = {}): LzmaResult {
  if (input.length < LZMA_ALONE_HEADER + 5)
    throw new DecompressError("lzma", `stream of ${input.length} bytes is shorter than its header`);
  const props = lzmaProps(input[0]!);
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  const sizeLo = view.getUint32(5, true);
  const sizeHi = view.getUint32(9, true);
  const unknown = sizeLo === 0xffffffff && sizeHi === 0xffffffff;
  let size = -1;
  if (!unknown) {
    if (sizeHi >= 0x200000) throw new FormatError("lzma uncompressed size does not fit in 53 bits", 5);
    size = sizeHi * 2 ** 32 + sizeLo;
    const max = opts.maxOutput ?? Number.MAX_SAFE_INTEGER;
    if (size > max) throw new LimitError("lzma output size", size, max);
  }
  // the header's size is untrusted: preallocate only up to a plausible ratio, grow past it
  const hint = size >= 0 ? Math.min(size, input.length * 64 + (1 << 20)) : undefined;
  const out = new OutputBuffer("lzma", hint !== undefined ? { ...opts, sizeHint: hint } : opts);
  const dec = new LzmaDecoder(out, "lzma");
  dec.setProps(props);
  dec.resetState();
  dec.resetDict();
  dec.initRangeCoder(input, LZMA_ALONE_HEADER, input.length);
  const STEP = 1 << 22;
  // streaming: the buffer keeps the dictionary, capped at the output ceiling (a declared size
  // lowers it: a forged 4 GiB dictionary costs no more than the output may be)
  const dictSize = view.getUint32(1, true);
  const window = Math.min(Math.max(dictSize, 4096), out.limit);
  out.setWindow(window, STEP);
  for (;;) {
    const want = size >= 0 ? Math.min(STEP, size - out.size) : Math.min(STEP, Math.max(out.room, 1));
    if (want === 0) break;
    out.ensure(want);
    const ended = dec.decode(out.pos + want);
    if (out.sink) dec.dictStart -= out.flush(window);
    opts.onProgress?.(dec.inPos, input.length);
    if (ended) {
      if (size >= 0 && out.size !== size)
        throw new DecompressError("lzma", `end marker after ${out.size} of ${size} bytes`);
      break;
    }
  }
  if (dec.remainLen > 0) throw new DecompressError("lzma", "a match runs past the stated size");
  return { data: out.result(), consumed: dec.inPos };
}
