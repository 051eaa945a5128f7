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
import { FormatError, hex, KdumpkitError, LimitError } from "../errors.js";
import type { Vmcoreinfo } from "../notes/vmcoreinfo.js";
import { type MemoryReader, MemoryStream } from "./memory.js";
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

/** The 256 token strings. */
export function readTokens(mem: MemoryReader, loc: KallsymsLocation): string[] {
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
  return offsets.map((o, i) => {
    if (o === max) return last;
    let s = "";
    for (let p = o; ; p++) {
      if (p >= table.length)
        throw new FormatError(
          `kallsyms token ${i} is not NUL-terminated (at ${hex(loc.tokenTable + BigInt(o))})`,
        );
      const c = table[p]!;
      if (c === 0) break;
      s += String.fromCharCode(c);
    }
    return s;
  });
}

function readNumSyms(mem: MemoryReader, at: bigint): number {
  let n = mem.u32(at);
  // PTR-sized on old kernels: on a big-endian 64-bit kernel the count is the second half.
  if (n === 0 && mem.wordSize === 8) n = mem.u32(at + 4n);
  if (n === 0 || n > MAX_KALLSYMS) throw new LimitError(`kallsyms_num_syms at ${hex(at)}`, n, MAX_KALLSYMS);
  return n;
}

function readAddresses(
  mem: MemoryReader,
  loc: KallsymsLocation,
  count: number,
): { addresses: bigint[]; encoding: KallsymsEncoding; relativeBase?: bigint } {
  if (loc.offsets !== undefined) {
    if (loc.relativeBase === undefined)
      throw new FormatError("VMCOREINFO has kallsyms_offsets but no kallsyms_relative_base");
    const base = mem.word(loc.relativeBase);
    const raw = mem.bytes(loc.offsets, count * 4, "kallsyms_offsets");
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const offs = new Int32Array(count);
    let negative = false;
    for (let i = 0; i < count; i++) {
      const v = dv.getInt32(i * 4, mem.littleEndian);
      offs[i] = v;
      if (v < 0) negative = true;
    }
    const addresses = new Array<bigint>(count);
    if (negative) {
      for (let i = 0; i < count; i++) {
        const v = offs[i]!;
        addresses[i] = v >= 0 ? BigInt(v) : mem.add(base, -1 - v);
      }
      return { addresses, encoding: "absolute-percpu", relativeBase: base };
    }
    for (let i = 0; i < count; i++) addresses[i] = mem.add(base, offs[i]! >>> 0);
    return { addresses, encoding: "base-relative", relativeBase: base };
  }
  if (loc.addresses !== undefined) {
    const w = mem.wordSize;
    const raw = mem.bytes(loc.addresses, count * w, "kallsyms_addresses");
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const addresses = new Array<bigint>(count);
    for (let i = 0; i < count; i++)
      addresses[i] =
        w === 8 ? dv.getBigUint64(i * 8, mem.littleEndian) : BigInt(dv.getUint32(i * 4, mem.littleEndian));
    return { addresses, encoding: "absolute" };
  }
  throw new FormatError("VMCOREINFO has neither kallsyms_offsets nor kallsyms_addresses");
}

/**
 * Decode the kernel's kallsyms. Throws a typed error when the tables cannot be read at all; a
 * failure part way returns the symbols decoded so far with `incomplete` set.
 */
export function decodeKallsyms(mem: MemoryReader, loc: KallsymsLocation): Kallsyms {
  const count = readNumSyms(mem, loc.numSyms);
  const tokens = readTokens(mem, loc);
  const { addresses, encoding, relativeBase } = readAddresses(mem, loc, count);
  const symbols: KernelSymbol[] = [];
  const stream = new MemoryStream(mem, loc.names);
  let incomplete: string | undefined;
  for (let i = 0; i < count; i++) {
    const at = stream.pos;
    try {
      let len = stream.u8();
      if (len & 0x80) len = (len & 0x7f) | (stream.u8() << 7);
      if (len === 0) throw new FormatError(`kallsyms name ${i} has length 0 at ${hex(at)}`);
      const codes = stream.take(len);
      let name = "";
      for (let k = 0; k < codes.length; k++) name += tokens[codes[k] as number] as string;
      if (name.length < 2 || name.length > MAX_NAME)
        throw new FormatError(`kallsyms name ${i} expands to ${name.length} characters at ${hex(at)}`);
      symbols.push({ name: name.slice(1), type: name[0]!, address: addresses[i]!, size: 0n });
    } catch (e) {
      if (!(e instanceof KdumpkitError)) throw e;
      incomplete = `kallsyms decoded ${i} of ${count} symbols: ${e.message}`;
      break;
    }
  }
  return {
    symbols,
    encoding,
    count,
    ...(relativeBase !== undefined ? { relativeBase } : {}),
    ...(incomplete ? { incomplete } : {}),
  };
}

/** The kernel image's symbol table from its in-memory kallsyms. */
export function kallsymsTable(mem: MemoryReader, loc: KallsymsLocation): KernelSymbolTable {
  const k = decodeKallsyms(mem, loc);
  return new KernelSymbolTable(k.symbols, {
    source: "kallsyms",
    computeSizes: true,
    ...(k.incomplete ? { incomplete: k.incomplete } : {}),
  });
}
