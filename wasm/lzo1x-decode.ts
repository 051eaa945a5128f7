// AssemblyScript source of the WebAssembly LZO1X decoder (assembled into src/codecs/wasm-modules.ts
// by scripts/build-wasm.mjs; used through src/codecs/lzo1x-wasm.ts). Written from the bitstream
// description in the Linux kernel's Documentation/staging/lzo.rst, as src/codecs/lzo1x.ts is, with
// the same checks in the same order: for every input both give the same result or fail with the
// same error at the same offsets (test/unit/codecs/lzo1x-decode-wasm.test.ts compares them).
//
// Memory: the input and the output buffers, static, each followed by SLACK bytes so that copies
// may move whole 8- or 16-byte steps past the end of a run (reading up to 16 bytes beyond the
// input's end, writing up to 15 beyond the run's end: those bytes are overwritten by what follows
// or never copied out). Every run's start and length are checked against the true lengths before
// it is copied.
//
// Two loops (issue 13): the fast loop (fastInto) decodes while an instruction cannot reach
// either end, with the bounds checked once per instruction; the careful loop (carefulFrom), every
// bound checked, resumes from the same state for the last instructions and for any instruction
// the fast loop would not take (the end marker, a look-behind, a length extension that does not
// fit), so every error is the careful loop's, with the same offsets as before.
//
// decompress() returns the output length, or a negative error code (E_* below) with the offsets at
// errorPtr() (where the failing instruction starts, the output offset, the match distance).

const MAX_INPUT: i32 = 2 * 65536; // kdump pages: compressed size ≤ 2 × page size (≤ 64 KiB)
const MAX_OUTPUT: i32 = 65536;
const SLACK: i32 = 16;

import { runPages } from "./page-run";

const IN: usize = memory.data(MAX_INPUT + SLACK, 16);
const OUT: usize = memory.data(MAX_OUTPUT + SLACK, 16);

// error codes: the JS side maps them to the TypeScript decoder's messages
const E_EMPTY: i32 = -1;
const E_FIRST_RUN: i32 = -2;
const E_NO_END: i32 = -3;
const E_LENGTH_INPUT: i32 = -4;
const E_LITERALS_TOO_LONG: i32 = -5;
const E_LITERALS_INPUT: i32 = -6;
const E_LITERALS_OUTPUT: i32 = -7;
const E_MATCH_INPUT: i32 = -8;
const E_MATCH_TOO_LONG: i32 = -9;
const E_SHORT: i32 = -10;
const E_LOOK_BEHIND: i32 = -11;
const E_MATCH_OUTPUT: i32 = -12;
const E_TRAILING_INPUT: i32 = -13;
const E_TRAILING_OUTPUT: i32 = -14;
const E_SIZE: i32 = -15;

// the first multiple of d ≥ 8, for d = 0–7
const FAR: usize = memory.data<u8>([8, 8, 8, 9, 8, 10, 12, 14]);

// a failure's offsets, as three i32: the failing instruction's input offset, the output
// offset, the match distance (look-behind errors)
const ERR: usize = memory.data(12, 4);

export function inputPtr(): usize {
  return IN;
}
export function outputPtr(): usize {
  return OUT;
}
export function maxInput(): i32 {
  return MAX_INPUT;
}
export function maxOutput(): i32 {
  return MAX_OUTPUT;
}
export function errorPtr(): usize {
  return ERR;
}

// @ts-ignore: decorator
@inline
function fail(code: i32, at: i32, op: i32): i32 {
  store<i32>(ERR, at);
  store<i32>(ERR + 4, op);
  return code;
}

/** Copy `len` bytes forward from `from` to `to` in 8-byte words, up to 7 bytes past the end. */
// @ts-ignore: decorator
@inline
function copyWords(to: usize, from: usize, len: i32): void {
  const end = to + <usize>len;
  do {
    store<u64>(to, load<u64>(from));
    to += 8;
    from += 8;
  } while (to < end);
}

/**
 * Decompress the `inLen` bytes at inputPtr() into `outLen` bytes at outputPtr(). `exact`: the
 * output must be exactly `outLen` bytes (a page). Returns the bytes written or an E_* code.
 */
export function decompress(inLen: i32, outLen: i32, exact: bool): i32 {
  if (inLen < 0 || inLen > MAX_INPUT || outLen < 0 || outLen > MAX_OUTPUT) return E_SIZE;
  return decodeInto(IN, OUT, inLen, outLen, exact);
}

// The fast loop's margins: it starts an instruction only while ≥ IN_MARGIN input bytes are left
// (the longest instruction without a length extension: a literal run of 18, 19 bytes; a match,
// its 2 bytes and 3 trailing literals, 6) and ≥ OUT_MARGIN output bytes (a literal run of 18 or
// a match of 33 and 3 trailing literals, each copied in 16-byte steps: ≤ 48 bytes written).
// Reads may run 16 bytes past the input's end, writes 16 past the output's (see Memory).
const IN_MARGIN: i32 = 20;
const OUT_MARGIN: i32 = 48;

// where fastInto() stopped: the output offset and the state (its return value is the input offset)
let fastOp: i32 = 0;
let fastState: i32 = 0;

/** Copy `len` bytes forward from `from` to `to` (at least 16 bytes apart) 16 bytes a step, up to 15 past the end. */
// @ts-ignore: decorator
@inline
function copy16(to: usize, from: usize, len: i32): void {
  const end = to + <usize>len;
  do {
    store<u64>(to, load<u64>(from));
    store<u64>(to, load<u64>(from, 8), 8);
    to += 16;
    from += 16;
  } while (to < end);
}

/**
 * A match of `len` bytes `dist` back (both checked) copied to `to` in words, writing up to 15
 * bytes past its end: the careful loop's.
 */
// @ts-ignore: decorator
@inline
function copyMatch(to: usize, dist: i32, len: i32): void {
  const from = to - <usize>dist;
  if (dist >= 16) {
    // every word read lies in output already written (or, past the run, is overwritten later)
    if (len > 64 && dist >= len) memory.copy(to, from, <usize>len);
    else copy16(to, from, len);
  } else if (dist >= 8) copyWords(to, from, len);
  else copyNear(to, dist, len);
}

/**
 * A match 1–7 bytes back (2% of the matches, not inlined: the loops' registers stay free),
 * writing up to 7 bytes past its end.
 */
function copyNear(to: usize, dist: i32, len: i32): void {
  const from = to - <usize>dist;
  if (dist == 1) {
    // a run of one byte (zero pages: one 4 KiB match)
    if (len > 64) memory.fill(to, load<u8>(from), <usize>len);
    else {
      const v = <u64>load<u8>(from) * 0x0101010101010101;
      const end = to + <usize>len;
      let p = to;
      do {
        store<u64>(p, v);
        p += 8;
      } while (p < end);
    }
  } else if (len > 256) {
    // a long repeating pattern of 2–7 bytes (pages of one repeated word: ~3.6 KiB a page on
    // the Xen host's makedumpfile -l -d 0): native copies that double, log2(len/dist) calls
    let done: i32 = 0;
    while (done < len) {
      const n = min(dist + done, len - done);
      memory.copy(to + <usize>done, from, <usize>n);
      done += n;
    }
  } else {
    // a shorter repeating pattern of 2–7 bytes (dumpfile.lzo-d31: 6 a page, ~90 bytes each):
    // byte by byte until the pattern repeats at a distance of 8 or more (the first multiple
    // of `dist` ≥ 8), then words at that distance: cheaper than calls out of the module
    const far = <i32>load<u8>(FAR + <usize>dist);
    const pre = min(far - dist, len);
    for (let i: i32 = 0; i < pre; i++) store<u8>(to + <usize>i, load<u8>(from + <usize>i));
    if (pre < len) copyWords(to + <usize>pre, to + <usize>pre - <usize>far, len - pre);
  }
}

/**
 * decompress() of the `inLen` bytes at `inp` into `outLen` bytes at `out` (OUT, or a page's place
 * in RUN_OUT): writes may run up to 16 bytes past the output's end, reads up to 16 past the
 * input's end (see Memory above). The fast loop decodes while both ends are far; the careful loop
 * takes over where it stops, so every error comes from the careful loop.
 */
function decodeInto(inp: usize, out: usize, inLen: i32, outLen: i32, exact: bool): i32 {
  let ip: i32 = 0;
  let op: i32 = 0;
  // literals copied by the previous instruction (0–3), 4 after a literal run of 4+
  let state: i32 = 0;

  if (inLen == 0) return fail(E_EMPTY, 0, 0);
  const t = <i32>load<u8>(inp);
  if (t > 17) {
    // an initial literal run of (byte − 17)
    const len = t - 17;
    ip = 1;
    if (ip + len > inLen || len > outLen) return fail(E_FIRST_RUN, 0, 0);
    copyWords(out, inp + 1, len);
    ip += len;
    op = len;
    state = len < 4 ? len : 4;
  }
  ip = fastInto(inp, out, inLen, outLen, ip, op, state);
  return carefulFrom(inp, out, inLen, outLen, exact, ip, fastOp, fastState);
}

/**
 * A match in the fast loop: `len` bytes `dist` back to `op` (both checked), writing up to 31 bytes
 * past its end (room the fast loop's margins or checks leave).
 */
// @ts-ignore: decorator
@inline
function fastMatch(op: usize, dist: i32, len: i32): void {
  const from = op - <usize>dist;
  if (dist >= 16) {
    // 16 bytes, then 16 a step (the words read lie in output already written)
    store<u64>(op, load<u64>(from));
    store<u64>(op, load<u64>(from, 8), 8);
    if (len > 16) {
      if (len > 128 && dist >= len) memory.copy(op + 16, from + 16, <usize>(len - 16));
      else copy16(op + 16, from + 16, len - 16);
    }
  } else if (dist >= 8) {
    store<u64>(op, load<u64>(from));
    if (len > 8) copyWords(op + 8, from + 8, len - 8);
  } else copyNear(op, dist, len);
}

// where extLength() stopped
let extIp: usize = 0;

/**
 * The fast loop's length extension at `ip` (zeros adding 255 each, then a non-zero byte): `base`
 * + 255·zeros + byte + 2, extIp just past it; -1 where the careful loop fails (input ends, or the
 * length passes `limit`). Not inlined: the fast loop's registers stay free.
 */
function extLength(ip: usize, inEnd: usize, limit: i32, base: i32): i32 {
  let len = base;
  for (;;) {
    if (ip >= inEnd) return -1;
    const b = <i32>load<u8>(ip);
    ip++;
    if (b != 0) {
      extIp = ip;
      return len + b + 2;
    }
    len += 255;
    if (len > limit) return -1;
  }
  return -1; // not reached
}

/**
 * The fast loop: decodes whole instructions from `ip`, `op`, `state` while they lie well inside
 * the input and the output, with the bounds checked once per instruction (the margins above;
 * length extensions are checked where they occur). It raises no error: at the end marker, near
 * either end, or at any instruction the careful loop would reject, it stops before that
 * instruction. Returns its input offset (fastOp, fastState: the rest of the state). Works on
 * addresses rather than offsets (fewer live values in the loop).
 */
function fastInto(inp: usize, out: usize, inLen: i32, outLen: i32, ip0: i32, op0: i32, state: i32): i32 {
  // inp, out ≥ 1024 (the module's static data): these do not wrap below 0
  const inFast = inp + <usize>inLen - IN_MARGIN;
  const outFast = out + <usize>outLen - OUT_MARGIN;
  const inEnd = inp + <usize>inLen;
  const outEnd = out + <usize>outLen;
  let ip = inp + <usize>ip0;
  let op = out + <usize>op0;
  for (;;) {
    // two branches, not one of two comparisons
    if (ip > inFast) break;
    if (op > outFast) break;
    const at = ip;
    let t = <i32>load<u8>(ip);
    if (t >= 64) {
      // M2: 3–8 bytes at 1–2048, then 0–3 literals (the low 2 bits of t)
      const dist = (<i32>load<u8>(ip, 1) << 3) + ((t >> 2) & 7) + 1;
      const len = (t >> 5) + 1;
      ip += 2;
      if (<usize>dist > op - out) {
        // look-behind: the careful loop fails
        ip = at;
        break;
      }
      if (dist >= 8) store<u64>(op, load<u64>(op - <usize>dist));
      else copyNear(op, dist, len);
      op += <usize>len;
    } else if (t >= 32) {
      // M3: 3–33 bytes (more with a length extension) at 1–16384
      let len = t & 31;
      ip++;
      if (len == 0) {
        len = extLength(ip, inEnd, outLen, 31);
        ip = extIp;
        // room for the distance and 3 trailing literals, and for the match and its literals
        if (len < 0 || ip + 5 > inEnd || op + <usize>len + 3 > outEnd) {
          ip = at;
          break;
        }
      } else len += 2;
      const le = <i32>load<u16>(ip);
      ip += 2;
      const dist = (le >> 2) + 1;
      if (<usize>dist > op - out) {
        ip = at;
        break;
      }
      fastMatch(op, dist, len);
      op += <usize>len;
      t = le;
    } else if (t >= 16) {
      // M4: 3–9 bytes (more with a length extension) at 16385–49151, or the end marker
      let len = t & 7;
      ip++;
      if (len == 0) {
        len = extLength(ip, inEnd, outLen, 7);
        ip = extIp;
        if (len < 0 || ip + 5 > inEnd || op + <usize>len + 3 > outEnd) {
          ip = at;
          break;
        }
      } else len += 2;
      const le = <i32>load<u16>(ip);
      ip += 2;
      let dist = ((t & 8) << 11) + (le >> 2);
      if (dist == 0) {
        // the end marker: the careful loop checks the length
        ip = at;
        break;
      }
      dist += 16384;
      if (<usize>dist > op - out) {
        ip = at;
        break;
      }
      fastMatch(op, dist, len);
      op += <usize>len;
      t = le;
    } else if (state == 0) {
      // a literal run of 3 + L (L = 0: 18 + 255·zeros + byte)
      let len = t + 3;
      ip++;
      if (t == 0) {
        len = extLength(ip, inEnd, outLen, 15) + 1;
        ip = extIp;
        if (len <= 0 || ip + <usize>len > inEnd || op + <usize>len > outEnd) {
          ip = at;
          break;
        }
        copy16(op, ip, len);
      } else {
        // 4–18 bytes: 16, then 16 more
        store<u64>(op, load<u64>(ip));
        store<u64>(op, load<u64>(ip, 8), 8);
        if (len > 16) {
          store<u64>(op, load<u64>(ip, 16), 16);
          store<u64>(op, load<u64>(ip, 24), 24);
        }
      }
      ip += <usize>len;
      op += <usize>len;
      state = 4;
      continue;
    } else {
      // M1: 2 bytes at 1–1024 after 1–3 literals, 3 bytes at 2049–3072 after a literal run
      const b = <i32>load<u8>(ip, 1);
      ip += 2;
      let dist: i32;
      let len: i32;
      if (state == 4) {
        dist = (b << 2) + (t >> 2) + 2049;
        len = 3;
      } else {
        dist = (b << 2) + (t >> 2) + 1;
        len = 2;
      }
      if (<usize>dist > op - out) {
        ip = at;
        break;
      }
      copyMatch(op, dist, len);
      op += <usize>len;
    }
    // then 0–3 literals (the low 2 bits of the last instruction byte or LE16), as a whole word
    state = t & 3;
    store<u32>(op, load<u32>(ip));
    ip += <usize>state;
    op += <usize>state;
  }
  fastOp = <i32>(op - out);
  fastState = state;
  return <i32>(ip - inp);
}

/** The careful loop: every bound checked, from the state fastInto() left (or the start). */
function carefulFrom(
  inp: usize,
  out: usize,
  inLen: i32,
  outLen: i32,
  exact: bool,
  ip: i32,
  op: i32,
  state: i32,
): i32 {
  let at: i32 = 0;
  let len: i32 = 0;
  let dist: i32 = 0;
  let t: i32 = 0;
  let b: i32 = 0;
  for (;;) {
    at = ip;
    if (ip >= inLen) return fail(E_NO_END, at, op);
    t = <i32>load<u8>(inp + <usize>ip);
    ip++;
    if (t < 16) {
      if (state == 0) {
        // literal run of 3 + L (L = 0: 18 + 255·zeros + byte)
        len = t;
        if (len == 0) {
          len = 15;
          for (;;) {
            if (ip >= inLen) return fail(E_LENGTH_INPUT, at, op);
            b = <i32>load<u8>(inp + <usize>ip);
            ip++;
            if (b != 0) break;
            len += 255;
            if (len > outLen) return fail(E_LITERALS_TOO_LONG, at, op);
          }
          len += b;
        }
        len += 3;
        if (ip + len > inLen) return fail(E_LITERALS_INPUT, at, op);
        if (op + len > outLen) return fail(E_LITERALS_OUTPUT, at, op);
        copyWords(out + <usize>op, inp + <usize>ip, len);
        ip += len;
        op += len;
        state = 4;
        continue;
      }
      if (ip >= inLen) return fail(E_MATCH_INPUT, at, op);
      b = <i32>load<u8>(inp + <usize>ip);
      ip++;
      if (state == 4) {
        dist = (b << 2) + (t >> 2) + 2049;
        len = 3;
      } else {
        dist = (b << 2) + (t >> 2) + 1;
        len = 2;
      }
    } else if (t >= 64) {
      if (ip >= inLen) return fail(E_MATCH_INPUT, at, op);
      dist = (<i32>load<u8>(inp + <usize>ip) << 3) + ((t >> 2) & 7) + 1;
      ip++;
      len = (t >> 5) + 1;
    } else {
      const mask = t >= 32 ? 31 : 7;
      len = t & mask;
      if (len == 0) {
        len = mask;
        for (;;) {
          if (ip >= inLen) return fail(E_LENGTH_INPUT, at, op);
          b = <i32>load<u8>(inp + <usize>ip);
          ip++;
          if (b != 0) break;
          len += 255;
          if (len > outLen) return fail(E_MATCH_TOO_LONG, at, op);
        }
        len += b;
      }
      len += 2;
      if (ip + 2 > inLen) return fail(E_MATCH_INPUT, at, op);
      const le = <i32>load<u16>(inp + <usize>ip);
      ip += 2;
      if (t >= 32) dist = (le >> 2) + 1;
      else {
        dist = ((t & 8) << 11) + (le >> 2);
        if (dist == 0) {
          // end of stream: 0x11 0x00 0x00
          if (exact && op != outLen) return fail(E_SHORT, at, op);
          return op;
        }
        dist += 16384;
      }
      t = le;
    }
    // copy the match
    if (op - dist < 0) {
      store<i32>(ERR + 8, dist);
      return fail(E_LOOK_BEHIND, at, op);
    }
    if (op + len > outLen) return fail(E_MATCH_OUTPUT, at, op);
    copyMatch(out + <usize>op, dist, len);
    op += len;
    // then 0–3 literals (the low 2 bits of the last instruction byte or LE16)
    state = t & 3;
    if (state) {
      if (ip + state > inLen) return fail(E_TRAILING_INPUT, at, op);
      if (op + state > outLen) return fail(E_TRAILING_OUTPUT, at, op);
      // a whole word: the bytes past the literals are overwritten by what follows
      store<u32>(out + <usize>op, load<u32>(inp + <usize>ip));
      ip += state;
      op += state;
    }
  }
  return E_NO_END; // not reached: the loop returns
}

// ---- runs of pages (issue 13: the read loop): see wasm/page-run.ts ---------------------------

export {
  runInPtr,
  runKindPtr,
  runLenPtr,
  runMaxPages,
  runInSize,
  runOutPtr,
  runOutSize,
  runSrcPtr,
} from "./page-run";

/** A page of a run: decoded from its bytes in RUN_IN straight into its place in RUN_OUT. */
function lzoPage(src: usize, len: i32, dst: usize, pageSize: i32): bool {
  // writes past the page's end land in the next page's place (written after it) or RUN_OUT's
  // slack; reads past its bytes' end, in the next page's bytes or RUN_IN's neighbours
  return decodeInto(src, dst, len, pageSize, true) == pageSize;
}

/** wasm/page-run.ts runPages() over the LZO1X decoder. */
export function decodeRun(count: i32, pageSize: i32): i32 {
  return runPages(count, pageSize, MAX_OUTPUT, MAX_INPUT, lzoPage);
}
