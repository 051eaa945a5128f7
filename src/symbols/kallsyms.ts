/**
 * kallsyms decoded from the dump's memory, located by VMCOREINFO (kernel/crash_core.c exports
 * SYMBOL(kallsyms_names) … since Linux 6.0, commit "crash_core: export kallsyms symbols").
 *
 * The tables scripts/kallsyms.c writes into the image:
 *  - kallsyms_num_syms: `.long` (PTR before 4.20-ish: read the low half of a word too);
 *  - kallsyms_names: per symbol a length, then that many token numbers. The length is one
 *    byte, or two when bit 7 of the first is set (6.1, "kallsyms: support big kernel symbols":
 *    (b0 & 0x7f) | b1 << 7); older kernels never wrote lengths ≥ 128, so one rule reads both;
 *  - kallsyms_token_table: 256 NUL-terminated strings; kallsyms_token_index: 256 u16 offsets
 *    into it. A name expands to the concatenated tokens; its first character is the type letter;
 *  - addresses, three encodings over the years:
 *    absolute  — kallsyms_addresses[], one word per symbol (before 4.6, and arches without
 *                CONFIG_KALLSYMS_BASE_RELATIVE);
 *    base-relative — kallsyms_offsets[] (s32) + kallsyms_relative_base: base + (u32)offset;
 *    absolute-percpu — (x86_64 SMP, CONFIG_KALLSYMS_ABSOLUTE_PERCPU) offsets ≥ 0 are absolute
 *                per-CPU offsets, negative ones mean base − 1 − offset.
 *    VMCOREINFO does not say which of the last two: a kernel with absolute per-CPU symbols has
 *    its whole image at negative offsets, a base-relative one has none, so the signs decide.
 * kallsyms_relative_base and kallsyms_addresses are relocated at boot, so KASLR is already in
 * the values read; per-CPU offsets are not moved (as the kernel prints them).
 */
import { FNV_OFFSET, FNV_PRIME } from "../bytes/fnv.js";
import { FormatError, hex, KdumpkitError, LimitError } from "../errors.js";
import type { Vmcoreinfo } from "../notes/vmcoreinfo.js";
import { type MemoryReader, MemoryStream } from "./memory.js";
import { latin1, PackedSymbols } from "./packed.js";
import { type KernelSymbol, KernelSymbolTable } from "./table.js";

/** More symbols than any kernel has (6.1 allmodconfig with KALLSYMS_ALL: ~400k). */
export const MAX_KALLSYMS = 4 * 1024 * 1024;
/** KSYM_NAME_LEN is 512 since 6.1 (128 before); a longer expansion is corruption. */
const MAX_NAME = 1024;

export interface KallsymsLocation {
  names: bigint;
  numSyms: bigint;
  tokenTable: bigint;
  tokenIndex: bigint;
  offsets?: bigint;
  relativeBase?: bigint;
  addresses?: bigint;
  markers?: bigint;
}

export type KallsymsEncoding = "absolute" | "base-relative" | "absolute-percpu";

export interface Kallsyms {
  symbols: KernelSymbol[];
  encoding: KallsymsEncoding;
  /** kallsyms_num_syms as read. */
  count: number;
  relativeBase?: bigint;
  /** Why fewer than `count` symbols were decoded (a read failed, a name was corrupt). */
  incomplete?: string;
}

/** Where VMCOREINFO says the kallsyms tables are, or undefined when it does not (< 6.0). */
export function kallsymsLocation(vi: Vmcoreinfo): KallsymsLocation | undefined {
  const names = vi.symbol("kallsyms_names");
  const numSyms = vi.symbol("kallsyms_num_syms");
  const tokenTable = vi.symbol("kallsyms_token_table");
  const tokenIndex = vi.symbol("kallsyms_token_index");
  if (names === undefined || numSyms === undefined || tokenTable === undefined || tokenIndex === undefined)
    return undefined;
  const loc: KallsymsLocation = { names, numSyms, tokenTable, tokenIndex };
  const opt = (k: keyof KallsymsLocation, n: string) => {
    const v = vi.symbol(n);
    if (v !== undefined) loc[k] = v;
  };
  opt("offsets", "kallsyms_offsets");
  opt("relativeBase", "kallsyms_relative_base");
  opt("addresses", "kallsyms_addresses");
  opt("markers", "kallsyms_markers");
  return loc;
}

/** The 256 tokens' bytes. */
function readTokenBytes(mem: MemoryReader, loc: KallsymsLocation): Uint8Array[] {
  const idx = mem.bytes(loc.tokenIndex, 512, "kallsyms_token_index");
  const dv = new DataView(idx.buffer, idx.byteOffset, idx.byteLength);
  const offsets: number[] = [];
  let max = 0;
  for (let i = 0; i < 256; i++) {
    const o = dv.getUint16(i * 2, mem.littleEndian);
    offsets.push(o);
    if (o > max) max = o;
  }
  // Every token but the last-placed one ends before the highest offset; that one is read as a
  // string of at most 256 bytes (a token is at most KSYM_NAME_LEN characters in practice).
  const table = mem.bytes(loc.tokenTable, max, "kallsyms_token_table");
  const last = mem.cstring(loc.tokenTable + BigInt(max), 256);
  const lastBytes = Uint8Array.from(last, (c) => c.charCodeAt(0));
  return offsets.map((o, i) => {
    if (o === max) return lastBytes;
    const e = table.indexOf(0, o);
    if (e < 0)
      throw new FormatError(
        `kallsyms token ${i} is not NUL-terminated (at ${hex(loc.tokenTable + BigInt(o))})`,
      );
    return table.subarray(o, e);
  });
}

/** The 256 token strings. */
export function readTokens(mem: MemoryReader, loc: KallsymsLocation): string[] {
  return readTokenBytes(mem, loc).map((t) => String.fromCharCode(...t));
}

function readNumSyms(mem: MemoryReader, at: bigint): number {
  let n = mem.u32(at);
  // PTR-sized on old kernels: on a big-endian 64-bit kernel the count is the second half.
  if (n === 0 && mem.wordSize === 8) n = mem.u32(at + 4n);
  if (n === 0 || n > MAX_KALLSYMS) throw new LimitError(`kallsyms_num_syms at ${hex(at)}`, n, MAX_KALLSYMS);
  return n;
}

/**
 * The addresses in table order as 32-bit halves (no BigInt per symbol: 150k of them made a
 * third of the decode's garbage).
 */
function readAddresses(
  mem: MemoryReader,
  loc: KallsymsLocation,
  count: number,
): { hi: Uint32Array; lo: Uint32Array; encoding: KallsymsEncoding; relativeBase?: bigint } {
  const hi = new Uint32Array(count);
  const lo = new Uint32Array(count);
  const le = mem.littleEndian;
  if (loc.offsets !== undefined) {
    if (loc.relativeBase === undefined)
      throw new FormatError("VMCOREINFO has kallsyms_offsets but no kallsyms_relative_base");
    const base = mem.word(loc.relativeBase);
    const raw = mem.bytes(loc.offsets, count * 4, "kallsyms_offsets");
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const baseHi = mem.wordSize === 8 ? Number(base >> 32n) : 0;
    const baseLo = Number(base & 0xffffffffn);
    let negative = false;
    for (let i = 0; i < count; i++) if (dv.getInt32(i * 4, le) < 0) negative = true;
    // base + delta modulo the word size, 0 ≤ delta < 2^32
    const setBasePlus = (i: number, delta: number) => {
      const l = baseLo + delta;
      lo[i] = l >>> 0;
      hi[i] = mem.wordSize === 8 ? (baseHi + (l >= 0x100000000 ? 1 : 0)) >>> 0 : 0;
    };
    for (let i = 0; i < count; i++) {
      const v = dv.getInt32(i * 4, le);
      if (!negative) setBasePlus(i, v >>> 0);
      else if (v >= 0) lo[i] = v;
      else setBasePlus(i, -1 - v);
    }
    return { hi, lo, encoding: negative ? "absolute-percpu" : "base-relative", relativeBase: base };
  }
  if (loc.addresses !== undefined) {
    const w = mem.wordSize;
    const raw = mem.bytes(loc.addresses, count * w, "kallsyms_addresses");
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    for (let i = 0; i < count; i++) {
      if (w === 4) lo[i] = dv.getUint32(i * 4, le);
      else {
        lo[i] = dv.getUint32(i * 8 + (le ? 0 : 4), le);
        hi[i] = dv.getUint32(i * 8 + (le ? 4 : 0), le);
      }
    }
    return { hi, lo, encoding: "absolute" };
  }
  throw new FormatError("VMCOREINFO has neither kallsyms_offsets nor kallsyms_addresses");
}

/**
 * kallsyms as decoded, still in bytes: each name expanded once into `text` (type letter
 * first), addresses as halves. Strings and symbol objects are made only for the symbols asked
 * for (src/symbols/packed.ts).
 */
export interface PackedKallsyms {
  /** Symbols decoded (≤ numSyms). */
  count: number;
  /** kallsyms_num_syms as read. */
  numSyms: number;
  hi: Uint32Array;
  lo: Uint32Array;
  /** Expanded names back to back; symbol i is text[start[i]..start[i+1]), type letter first. */
  text: Uint8Array;
  start: Uint32Array;
  /** hashBytes (src/bytes/fnv.ts) of each name without its type letter. */
  hash: Uint32Array;
  encoding: KallsymsEncoding;
  relativeBase?: bigint;
  incomplete?: string;
}

/** Names expanded so far (decodeKallsymsPacked). */
interface NameState {
  text: Uint8Array;
  used: number;
  /** Names done. */
  n: number;
  start: Uint32Array;
  hash: Uint32Array;
  /** Why the name at buf[errorAt] is corrupt ("" while none is). */
  error: string;
  errorAt: number;
}

/**
 * Expand the whole names in `buf` from `p` (a length of 1 or 2 bytes, then that many token
 * numbers) into st.text, hashing each without its type letter; stop at `count` names, at a
 * name that does not fit in `buf`, or at a corrupt one (st.error). Returns where it stopped.
 * Small and free of calls so that V8 optimises it early in a one-shot run.
 */
function expandNames(
  buf: Uint8Array,
  p: number,
  count: number,
  tokens: Uint8Array,
  tokStart: Int32Array,
  st: NameState,
): number {
  const end = buf.length;
  const start = st.start;
  const hash = st.hash;
  let text = st.text;
  let used = st.used;
  let n = st.n;
  while (n < count && p < end) {
    let len = buf[p]!;
    let q = p + 1;
    if (len & 0x80) {
      if (q >= end) break;
      len = (len & 0x7f) | (buf[q++]! << 7);
    }
    if (len === 0) {
      st.error = "has length 0";
      st.errorAt = p;
      break;
    }
    if (q + len > end) break;
    let nameLen = 0;
    for (let k = q; k < q + len; k++) {
      const c = buf[k]!;
      nameLen += tokStart[c + 1]! - tokStart[c]!;
    }
    if (nameLen < 2 || nameLen > MAX_NAME) {
      st.error = `expands to ${nameLen} characters`;
      st.errorAt = p;
      break;
    }
    if (used + nameLen > text.length) {
      const bigger = new Uint8Array(Math.max(text.length * 2, used + nameLen));
      bigger.set(text.subarray(0, used));
      text = bigger;
    }
    const first = used;
    for (let k = q; k < q + len; k++) {
      const c = buf[k]!;
      for (let t = tokStart[c]!, e = tokStart[c + 1]!; t < e; t++) text[used++] = tokens[t]!;
    }
    // FNV-1a as hashBytes (src/bytes/fnv.ts), inline
    let h = FNV_OFFSET;
    for (let i = first + 1; i < used; i++) h = Math.imul(h ^ text[i]!, FNV_PRIME);
    hash[n] = h >>> 0;
    start[++n] = used;
    p = q + len;
  }
  st.text = text;
  st.used = used;
  st.n = n;
  return p;
}

/**
 * Decode the kernel's kallsyms into bytes. Throws a typed error when the tables cannot be read
 * at all; a failure part way keeps the symbols decoded so far with `incomplete` set.
 */
export function decodeKallsymsPacked(mem: MemoryReader, loc: KallsymsLocation): PackedKallsyms {
  const count = readNumSyms(mem, loc.numSyms);
  const tokenList = readTokenBytes(mem, loc);
  // the tokens back to back, so that expanding a name is a plain byte loop
  const tokStart = new Int32Array(257);
  for (let t = 0; t < 256; t++) tokStart[t + 1] = tokStart[t]! + tokenList[t]!.length;
  const tokens = new Uint8Array(tokStart[256]!);
  for (let t = 0; t < 256; t++) tokens.set(tokenList[t]!, tokStart[t]!);
  const { hi, lo, encoding, relativeBase } = readAddresses(mem, loc, count);
  const st: NameState = {
    text: new Uint8Array(Math.min(count * 24, 8 * 1024 * 1024)),
    used: 0,
    n: 0,
    start: new Uint32Array(count + 1),
    hash: new Uint32Array(count),
    error: "",
    errorAt: 0,
  };
  const stream = new MemoryStream(mem, loc.names);
  let incomplete: string | undefined;
  try {
    while (st.n < count) {
      // expand every whole name in the window, then make the next one fit
      const p = stream.ensure(1);
      const q = expandNames(stream.buffer, p, count, tokens, tokStart, st);
      if (st.error) {
        stream.skip(st.errorAt - p);
        throw new FormatError(`kallsyms name ${st.n} ${st.error} at ${hex(stream.pos)}`);
      }
      stream.skip(q - p);
      if (st.n >= count || q > p) continue;
      // the next name runs past the window: read at least all of it
      let need = 1 + stream.buffer[stream.ensure(1)]!;
      if (need > 0x80) need = 2 + ((need - 1) & 0x7f) + (stream.buffer[stream.ensure(2) + 1]! << 7);
      stream.ensure(need);
    }
  } catch (e) {
    if (!(e instanceof KdumpkitError)) throw e;
    incomplete = `kallsyms decoded ${st.n} of ${count} symbols: ${e.message}`;
  }
  const n = st.n;
  return {
    count: n,
    numSyms: count,
    hi,
    lo,
    text: st.text.subarray(0, st.used),
    start: st.start.subarray(0, n + 1),
    hash: st.hash.subarray(0, n),
    encoding,
    ...(relativeBase !== undefined ? { relativeBase } : {}),
    ...(incomplete ? { incomplete } : {}),
  };
}

/**
 * Decode the kernel's kallsyms into symbol objects. Throws a typed error when the tables cannot
 * be read at all; a failure part way returns the symbols decoded so far with `incomplete` set.
 */
export function decodeKallsyms(mem: MemoryReader, loc: KallsymsLocation): Kallsyms {
  const p = decodeKallsymsPacked(mem, loc);
  const symbols: KernelSymbol[] = [];
  for (let i = 0; i < p.count; i++)
    symbols.push({
      name: latin1(p.text, p.start[i]! + 1, p.start[i + 1]!),
      type: String.fromCharCode(p.text[p.start[i] as number] as number),
      address: (BigInt(p.hi[i]!) << 32n) | BigInt(p.lo[i]!),
      size: 0n,
    });
  return {
    symbols,
    encoding: p.encoding,
    count: p.numSyms,
    ...(p.relativeBase !== undefined ? { relativeBase: p.relativeBase } : {}),
    ...(p.incomplete ? { incomplete: p.incomplete } : {}),
  };
}

/** The kernel image's symbol table from its in-memory kallsyms. */
export function kallsymsTable(mem: MemoryReader, loc: KallsymsLocation): KernelSymbolTable {
  const k = decodeKallsymsPacked(mem, loc);
  return KernelSymbolTable.packed(new PackedSymbols(k), "kallsyms", k.incomplete);
}
