/**
 * One symbol table API whatever the symbols came from (kallsyms in the dump's memory, a
 * System.map, a vmlinux's ELF symbol table, a module's own kallsyms): address → symbol+offset,
 * name → symbol, type letter. Sizes follow kallsyms (kernel/kallsyms.c get_symbol_pos): a
 * symbol ends where the next higher address starts; aliases at one address resolve to the first
 * one in table order, as kallsyms_lookup() does.
 */

import { MAX_SYMBOL_SIZE, type PackedSymbols } from "./packed.js";

export interface KernelSymbol {
  name: string;
  /** Address as the kernel ran (KASLR applied). */
  address: bigint;
  /** nm/kallsyms type letter: T t D d B b R r A V W … (uppercase = global). */
  type: string;
  /** Distance to the next higher symbol (kallsyms' rule); 0n when unknown (last, or a gap). */
  size: bigint;
  /** Module name for module symbols (crash prints `[name]`); undefined for the kernel image. */
  module?: string;
}

export type SymbolSource = "kallsyms" | "system-map" | "vmlinux" | "modules" | "combined";

export interface SymbolMatch {
  symbol: KernelSymbol;
  offset: bigint;
}

export { MAX_SYMBOL_SIZE };

export interface SymbolTableOptions {
  source: SymbolSource;
  /** Compute sizes (distance to the next higher address) instead of keeping the given ones. */
  computeSizes?: boolean;
  /** Why the table may lack symbols (a corrupt or unreadable part); undefined when complete. */
  incomplete?: string;
}

function byAddress(a: KernelSymbol, b: KernelSymbol): number {
  return a.address < b.address ? -1 : a.address > b.address ? 1 : 0;
}

export class KernelSymbolTable {
  readonly source: SymbolSource;
  readonly incomplete: string | undefined;
  /** Sorted by address; aliases keep their original order (made on first use when packed). */
  private list: KernelSymbol[] | undefined;
  private readonly byName = new Map<string, KernelSymbol>();
  /** kallsyms kept as bytes: symbols are made only when asked for. */
  private readonly pack: PackedSymbols | undefined;

  constructor(symbols: KernelSymbol[], opts: SymbolTableOptions, pack?: PackedSymbols) {
    this.source = opts.source;
    this.incomplete = opts.incomplete;
    this.pack = pack;
    if (pack) return;
    const sorted = symbols.slice().sort(byAddress); // Array.prototype.sort is stable
    if (opts.computeSizes) computeSizes(sorted);
    this.list = sorted;
    // Name lookup prefers global symbols, then the first seen (kallsyms_lookup_name's order).
    for (const s of symbols) {
      const had = this.byName.get(s.name);
      if (!had || (isLocal(had.type) && !isLocal(s.type))) this.byName.set(s.name, s);
    }
  }

  /** A table over packed symbols (sizes computed as kallsyms does). */
  static packed(pack: PackedSymbols, source: SymbolSource, incomplete?: string): KernelSymbolTable {
    return new KernelSymbolTable([], { source, ...(incomplete ? { incomplete } : {}) }, pack);
  }

  /** Every symbol, sorted by address; aliases keep their original order. */
  get symbols(): readonly KernelSymbol[] {
    this.list ??= this.pack!.all();
    return this.list;
  }

  get size(): number {
    return this.pack ? this.pack.count : this.list!.length;
  }

  /** The symbol named `name` (a global one when there are several), or undefined. */
  lookup(name: string): KernelSymbol | undefined {
    return this.pack ? this.pack.lookup(name) : this.byName.get(name);
  }

  /** Every symbol named `name` (static functions of the same name in several files). */
  lookupAll(name: string): KernelSymbol[] {
    if (this.pack)
      return this.pack
        .named(name)
        .sort((a, b) => a - b)
        .map((i) => this.pack!.at(i));
    return this.list!.filter((s) => s.name === name);
  }

  /** The index of the last symbol at or below `address` (the first alias), or -1. */
  private floor(address: bigint): number {
    if (this.pack) {
      const p = this.pack;
      if (address < 0n || address >= 1n << 64n) return -1;
      let found = p.floor(Number(address >> 32n), Number(address & 0xffffffffn));
      while (found > 0 && p.sameAddress(found - 1, found)) found--;
      return found;
    }
    const s = this.list!;
    let lo = 0;
    let hi = s.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (s[mid]!.address <= address) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    while (found > 0 && s[found - 1]!.address === s[found]!.address) found--;
    return found;
  }

  private item(i: number): KernelSymbol {
    return this.pack ? this.pack.at(i) : (this.list?.[i] as KernelSymbol);
  }

  /**
   * The symbol containing `address` and the offset into it, or undefined when the address lies
   * past the symbol's end (size 0 means only the exact address matches).
   */
  resolve(address: bigint): SymbolMatch | undefined {
    const i = this.floor(address);
    if (i < 0) return undefined;
    const symbol = this.item(i);
    const offset = address - symbol.address;
    if (offset !== 0n && offset >= symbol.size) return undefined;
    return { symbol, offset };
  }

  /** Symbols at exactly `address` (aliases), in table order. */
  at(address: bigint): KernelSymbol[] {
    const i = this.floor(address);
    const out: KernelSymbol[] = [];
    for (let j = i; j >= 0 && j < this.size && this.item(j).address === address; j++) out.push(this.item(j));
    return out;
  }

  /** This table and others (module symbols) as one; sizes are kept as each table computed them. */
  combine(...others: KernelSymbolTable[]): KernelSymbolTable {
    const all = [...this.symbols];
    for (const o of others) all.push(...o.symbols);
    const incomplete = [this, ...others].map((t) => t.incomplete).filter((x) => x !== undefined);
    return new KernelSymbolTable(all, {
      source: others.length ? "combined" : this.source,
      ...(incomplete.length ? { incomplete: incomplete.join("; ") } : {}),
    });
  }
}

function isLocal(type: string): boolean {
  return type >= "a" && type <= "z";
}

/** size = next higher address − address, 0 for the last symbol and across implausible gaps. */
export function computeSizes(sorted: KernelSymbol[]): void {
  let nextAddress: bigint | undefined;
  for (let i = sorted.length - 1; i >= 0; i--) {
    const s = sorted[i]!;
    const after = sorted[i + 1];
    if (after && after.address !== s.address) nextAddress = after.address;
    const gap = nextAddress !== undefined ? nextAddress - s.address : 0n;
    s.size = gap > 0n && gap <= MAX_SYMBOL_SIZE ? gap : 0n;
  }
}

/** "name+0x1a/0x40" as the kernel's %pS prints it (offset/size in hex). */
export function symbolWithOffset(m: SymbolMatch): string {
  const mod = m.symbol.module ? ` [${m.symbol.module}]` : "";
  return `${m.symbol.name}+0x${m.offset.toString(16)}/0x${m.symbol.size.toString(16)}${mod}`;
}
