/**
 * Symbol lookup for xen-syms (ELF .symtab, no DWARF needed) and for nm-style maps (Linux
 * System.map, xen-syms.map). Xen's console ring variables are file-local statics
 * (drivers/char/console.c: conring, conring_size, conringp, conringc), so a lookup by plain
 * name must also find locals; a "file#name" key (the form xen-syms.map prints) picks one
 * when two files have a local of the same name.
 */
import { latin1 } from "../bytes/cursor.js";
import type { SyncByteSource } from "../bytes/source.js";
import { ElfFile } from "../elf/reader.js";
import { FormatError, LimitError } from "../errors.js";

export interface NamedSymbol {
  name: string;
  value: bigint;
  /** st_size, when the source has it (ELF symbol tables). */
  size?: bigint;
  /** The source file of a local symbol (from the preceding STT_FILE symbol, or "file#name"). */
  file?: string;
  local?: boolean;
}

/** The ELF symbol fields this table needs (a subset of src/elf/types.ts ElfSymbol). */
export interface ElfSymbolLike {
  name: string;
  value: bigint;
  size?: bigint;
  type: number;
  bind: number;
}

const STT_SECTION = 3;
const STT_FILE = 4;
const STB_LOCAL = 0;
const MAX_MAP_LINES = 10_000_000;

export class SymbolTable {
  private readonly globals = new Map<string, bigint>();
  private readonly locals = new Map<string, NamedSymbol[]>();
  /** All symbols by address, built on first symbolize(). */
  private sorted: NamedSymbol[] | undefined;
  private readonly all: NamedSymbol[] = [];
  /** The file the symbols came from, named in "not found" errors. */
  source: string | undefined;

  constructor(symbols: Iterable<NamedSymbol>) {
    for (const s of symbols) {
      this.all.push(s);
      if (s.local) {
        const list = this.locals.get(s.name) ?? [];
        list.push(s);
        this.locals.set(s.name, list);
      } else if (!this.globals.has(s.name)) this.globals.set(s.name, s.value);
    }
  }

  /** From an ELF symbol table in file order (STT_FILE symbols name the locals after them). */
  static fromElf(symbols: Iterable<ElfSymbolLike>): SymbolTable {
    const out: NamedSymbol[] = [];
    let file: string | undefined;
    for (const s of symbols) {
      if (s.type === STT_FILE) {
        file = s.name;
        continue;
      }
      // STT_SECTION symbols carry a section's name, not a symbol's
      if (!s.name || s.type === STT_SECTION) continue;
      const local = s.bind === STB_LOCAL;
      const e: NamedSymbol = { name: s.name, value: s.value, local };
      if (s.size !== undefined && s.size > 0n) e.size = s.size;
      if (local && file) e.file = file;
      out.push(e);
    }
    return new SymbolTable(out);
  }

  /**
   * From a symbol file: an ELF (xen-syms, vmlinux: its .symtab) or an nm-style map
   * (System.map, xen-syms.map), told apart by the ELF magic.
   */
  static fromFile(source: SyncByteSource): SymbolTable {
    const head = source.readSync(0, Math.min(4, source.size));
    if (head.length === 4 && head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46) {
      const syms = ElfFile.parse(source).symbols("symtab");
      if (syms.length === 0) throw new FormatError(`${source.name ?? "ELF file"} has no .symtab`);
      const t = SymbolTable.fromElf(syms);
      t.source = source.name;
      return t;
    }
    if (source.size > 1 << 30) throw new LimitError("symbol map bytes", source.size, 1 << 30);
    const t = SymbolTable.fromMap(latin1(source.readSync(0, source.size)));
    t.source = source.name;
    return t;
  }

  /**
   * From nm-style text: "ADDRESS TYPE NAME" per line (System.map; xen-syms.map writes
   * "0x…" addresses and "file#name" for locals). Lowercase types are locals.
   */
  static fromMap(text: string): SymbolTable {
    const out: NamedSymbol[] = [];
    let lineNo = 0;
    for (const line of text.split("\n")) {
      if (++lineNo > MAX_MAP_LINES) throw new LimitError("symbol map lines", lineNo, MAX_MAP_LINES);
      const m = /^(?:0x)?([0-9a-fA-F]{1,16})\s+([A-Za-z?])\s+(\S+)/.exec(line);
      if (!m) continue;
      const value = BigInt(`0x${m[1]}`);
      const type = m[2]!;
      let name = m[3]!;
      let file: string | undefined;
      const hash = name.lastIndexOf("#");
      if (hash > 0) {
        file = name.slice(0, hash);
        name = name.slice(hash + 1);
      }
      const e: NamedSymbol = { name, value, local: type !== type.toUpperCase() };
      if (file) e.file = file;
      out.push(e);
    }
    if (out.length === 0) throw new FormatError("no symbols found in the symbol map");
    return new SymbolTable(out);
  }

  /**
   * Address of `name` ("name" or "file#name"): a global wins; else a local, which must be
   * unique unless the file is given.
   */
  get(name: string): bigint | undefined {
    const hash = name.lastIndexOf("#");
    if (hash > 0) {
      const file = name.slice(0, hash);
      const base = name.slice(hash + 1);
      return this.locals.get(base)?.find((s) => s.file === file)?.value;
    }
    const g = this.globals.get(name);
    if (g !== undefined) return g;
    const l = this.locals.get(name);
    if (l && l.length >= 1) {
      const distinct = new Set(l.map((s) => s.value));
      if (distinct.size === 1) return l[0]!.value;
    }
    return undefined;
  }

  /** st_size of a symbol found as by get(), when known. */
  sizeOf(name: string): bigint | undefined {
    const v = this.get(name);
    if (v === undefined) return undefined;
    const hash = name.lastIndexOf("#");
    const base = hash > 0 ? name.slice(hash + 1) : name;
    return this.all.find((s) => s.name === base && s.value === v && s.size !== undefined)?.size;
  }

  /** "name+0xoff" of the nearest symbol at or below `addr` (within 1 MiB), if any. */
  symbolize(addr: bigint): string | undefined {
    if (!this.sorted)
      this.sorted = [...this.all].sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
    const list = this.sorted;
    let lo = 0;
    let hi = list.length - 1;
    let best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]!.value <= addr) {
        best = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (best < 0) return undefined;
    const s = list[best]!;
    const off = addr - s.value;
    if (off >= 1n << 20n) return undefined;
    return off === 0n ? s.name : `${s.name}+0x${off.toString(16)}`;
  }

  /** Like get, but throws a FormatError naming what needed it. */
  require(name: string, purpose: string): bigint {
    const v = this.get(name);
    if (v === undefined)
      throw new FormatError(
        `symbol ${name} not found${this.source ? ` in ${this.source}` : ""} (needed for ${purpose})`,
      );
    return v;
  }
}
