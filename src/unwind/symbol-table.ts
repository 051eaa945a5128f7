/**
 * A sorted address → symbol table behind the KernelSymbols interface, built from any list of
 * (name, address, type) — a System.map (KASLR applied), an ELF symbol table, kallsyms.
 * Lookups are a binary search over two parallel arrays of the address halves (no BigInt
 * compares in the loop).
 */
import type { KernelSymbols, SymbolHit } from "./types.js";

export interface NamedAddress {
  name: string;
  address: bigint;
  /** nm type letter when known (T/t text, D/d data, …). */
  type?: string;
}

const TWO32 = 4294967296;

export class SymbolTable implements KernelSymbols {
  private readonly names: string[] = [];
  private readonly addrs: bigint[] = [];
  private readonly hi: Float64Array;
  private readonly byName = new Map<string, bigint>();

  constructor(symbols: readonly NamedAddress[], opts: { minAddress?: bigint } = {}) {
    const min = opts.minAddress ?? 0n;
    const sorted = symbols
      .filter((s) => s.address >= min && (s.type === undefined || !/^[aAuUwvN?]$/.test(s.type)))
      .slice()
      .sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
    this.hi = new Float64Array(sorted.length);
    sorted.forEach((s, i) => {
      this.names.push(s.name);
      this.addrs.push(s.address);
      this.hi[i] = Number(s.address >> 32n) * TWO32 + Number(s.address & 0xffffffffn);
    });
    for (const s of symbols) if (!this.byName.has(s.name)) this.byName.set(s.name, s.address);
  }

  get size(): number {
    return this.names.length;
  }

  addressOf(name: string): bigint | undefined {
    return this.byName.get(name);
  }

  lookup(address: bigint): SymbolHit | undefined {
    // doubles lose the low bits of 64-bit addresses: search approximately, then fix up exactly
    const target = Number(address >> 32n) * TWO32 + Number(address & 0xffffffffn);
    let lo = 0;
    let hi = this.hi.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.hi[mid]! <= target) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    while (found + 1 < this.addrs.length && this.addrs[found + 1]! <= address) found++;
    while (found >= 0 && this.addrs[found]! > address) found--;
    if (found < 0) return undefined;
    // among aliases at one address, the first listed name (System.map order: the global one)
    let first = found;
    while (first > 0 && this.addrs[first - 1] === this.addrs[found]) first--;
    const start = this.addrs[first]!;
    let next = found + 1;
    while (next < this.addrs.length && this.addrs[next] === start) next++;
    const hit: SymbolHit = { name: this.names[first]!, address: start, offset: Number(address - start) };
    if (next < this.addrs.length) hit.size = Number(this.addrs[next]! - start);
    return hit;
  }
}
