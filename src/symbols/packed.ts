/**
 * A symbol table kept as bytes and 32-bit halves (kallsyms decoded from memory): the addresses
 * are sorted as uint32 pairs, names stay in the expanded byte text and are indexed by hash, and a
 * KernelSymbol object is made only for a symbol someone asks for. `triage` resolves a few hundred
 * addresses and names out of ~150k symbols: making every name a string, every address and size
 * a BigInt and every symbol an object cost more than the rest of the run.
 */
import { hashString } from "../bytes/fnv.js";
import type { KernelSymbol } from "./table.js";

/** A gap wider than this after a symbol is not part of it (per-CPU vs image, image vs modules). */
export const MAX_SYMBOL_SIZE = 64n * 1024n * 1024n;
const MAX_SIZE = Number(MAX_SYMBOL_SIZE);

/** `buf[s..e)` as a latin1 string. */
export function latin1(buf: Uint8Array, s: number, e: number): string {
  let out = "";
  for (let i = s; i < e; i++) out += String.fromCharCode(buf[i]!);
  return out;
}

/** What PackedSymbols is built from (src/symbols/kallsyms.ts PackedKallsyms). */
export interface PackedInput {
  count: number;
  /** Address halves in table order. */
  hi: Uint32Array;
  lo: Uint32Array;
  /** Names with their type letter first: symbol i is text[start[i]..start[i+1]). */
  text: Uint8Array;
  start: Uint32Array;
  /** hashBytes of each name without its type letter, in table order. */
  hash: Uint32Array;
}

function isLocalCode(c: number): boolean {
  return c >= 0x61 && c <= 0x7a;
}

export class PackedSymbols {
  readonly count: number;
  /** Table index of each symbol in address order (stable: aliases keep table order); undefined when the table is sorted. */
  private readonly order: Uint32Array | undefined;
  /** Address halves and sizes in address order. */
  private readonly hi: Uint32Array;
  private readonly lo: Uint32Array;
  private readonly text: Uint8Array;
  private readonly start: Uint32Array;
  /** Symbol objects made so far, by position in address order. */
  private readonly made: (KernelSymbol | undefined)[];
  private readonly hash: Uint32Array;
  /** Position in address order of each table index (for name lookups). */
  private rank: Uint32Array | undefined;

  constructor(input: PackedInput) {
    const n = input.count;
    this.count = n;
    this.text = input.text;
    this.start = input.start;
    this.hash = input.hash;
    const ih = input.hi;
    const il = input.lo;
    let sorted = true;
    for (let i = 1; i < n && sorted; i++)
      if (ih[i]! < ih[i - 1]! || (ih[i] === ih[i - 1] && il[i]! < il[i - 1]!)) sorted = false;
    this.made = new Array(n);
    // kallsyms is written sorted by address (scripts/kallsyms.c): then the table is used as
    // it is. A table that is not (a corrupt one) is sorted with the table index as tie-break.
    if (sorted) {
      this.order = undefined;
      this.hi = ih;
      this.lo = il;
      return;
    }
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    order.sort((a, b) => ih[a]! - ih[b]! || il[a]! - il[b]! || a - b);
    this.order = order;
    const hi = new Uint32Array(n);
    const lo = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      const t = order[i] as number;
      hi[i] = ih[t] as number;
      lo[i] = il[t] as number;
    }
    this.hi = hi;
    this.lo = lo;
  }

  /** Table index of position `i` in address order. */
  private tableIndex(i: number): number {
    return this.order ? (this.order[i] as number) : i;
  }

  /**
   * size = next higher address − address; 0 for the last symbol and across implausible gaps
   * (computeSizes in table.ts, on halves, for one symbol).
   */
  private sizeAt(i: number): number {
    let j = i + 1;
    while (j < this.count && this.sameAddress(i, j)) j++;
    if (j >= this.count) return 0;
    const gap = (this.hi[j]! - this.hi[i]!) * 0x100000000 + (this.lo[j]! - this.lo[i]!);
    return gap > 0 && gap <= MAX_SIZE ? gap : 0;
  }

  /** The symbol at position `i` in address order. */
  at(i: number): KernelSymbol {
    let s = this.made[i];
    if (!s) {
      const t = this.tableIndex(i);
      const a = this.start[t]!;
      s = {
        name: latin1(this.text, a + 1, this.start[t + 1]!),
        type: String.fromCharCode(this.text[a]!),
        address: (BigInt(this.hi[i]!) << 32n) | BigInt(this.lo[i]!),
        size: BigInt(this.sizeAt(i)),
      };
      this.made[i] = s;
    }
    return s;
  }

  /** The last position whose address is ≤ hi:lo, or -1. */
  floor(hi: number, lo: number): number {
    let a = 0;
    let b = this.count - 1;
    let found = -1;
    while (a <= b) {
      const mid = (a + b) >>> 1;
      const h = this.hi[mid]!;
      if (h < hi || (h === hi && this.lo[mid]! <= lo)) {
        found = mid;
        a = mid + 1;
      } else b = mid - 1;
    }
    return found;
  }

  /** Whether positions i and j hold the same address. */
  sameAddress(i: number, j: number): boolean {
    return this.hi[i] === this.hi[j] && this.lo[i] === this.lo[j];
  }

  /**
   * Positions in address order of the symbols named `name`, in table order. A scan of the
   * name hashes (~0.1 ms for 150k symbols) rather than an index: a run looks up tens of names.
   */
  named(name: string): number[] {
    if (this.order && !this.rank) {
      const rank = new Uint32Array(this.count);
      for (let i = 0; i < this.count; i++) rank[this.tableIndex(i)] = i;
      this.rank = rank;
    }
    const h = hashString(name);
    const hashes = this.hash;
    const out: number[] = [];
    for (let t = hashes.indexOf(h); t >= 0; t = hashes.indexOf(h, t + 1)) {
      const s = this.start[t]! + 1;
      if (this.start[t + 1]! - s !== name.length) continue;
      let same = true;
      for (let i = 0; i < name.length; i++)
        if (this.text[s + i] !== name.charCodeAt(i)) {
          same = false;
          break;
        }
      if (same) out.push(this.rank ? (this.rank[t] as number) : t);
    }
    return out;
  }

  /** kallsyms_lookup_name's choice: the first global symbol of the name, else the first. */
  lookup(name: string): KernelSymbol | undefined {
    const hits = this.named(name);
    if (!hits.length) return undefined;
    const typeOf = (i: number) => this.text[this.start[this.tableIndex(i)] as number] as number;
    const global = hits.find((i) => !isLocalCode(typeOf(i)));
    return this.at(global ?? hits[0]!);
  }

  /** Every symbol, in address order. */
  all(): KernelSymbol[] {
    const out = new Array<KernelSymbol>(this.count);
    for (let i = 0; i < this.count; i++) out[i] = this.at(i);
    return out;
  }
}
