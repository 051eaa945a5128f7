/**
 * Synthetic physical memory and x86_64 page tables built in code, for unit tests of xlat/ and
 * kernel/. Memory is sparse (a Map of 4 KiB pages); reading a page that was never written
 * throws AddressError like a dump reader does for a hole.
 */
import type { PhysReader } from "../../../src/dump/types.js";
import { AddressError } from "../../../src/errors.js";

export class SparsePhys implements PhysReader {
  readonly pageSize = 4096;
  readonly pages = new Map<number, Uint8Array>();
  reads = 0;
  page(pfn: number, create = true): Uint8Array {
    let p = this.pages.get(pfn);
    if (!p && create) {
      p = new Uint8Array(4096);
      this.pages.set(pfn, p);
    }
    if (!p) throw new AddressError("physical", pfn * 4096, "not in the dump");
    return p;
  }
  write(addr: number, bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length; ) {
      const a = addr + i;
      const pg = this.page(Math.floor(a / 4096));
      const off = a % 4096;
      const n = Math.min(4096 - off, bytes.length - i);
      pg.set(bytes.subarray(i, i + n), off);
      i += n;
    }
  }
  writeU64(addr: number, v: bigint): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, v), true);
    this.write(addr, b);
  }
  readPhys(addr: number, length: number, into?: Uint8Array): Uint8Array {
    this.reads++;
    const out = into ? into.subarray(0, length) : new Uint8Array(length);
    for (let i = 0; i < length; ) {
      const a = addr + i;
      const pg = this.page(Math.floor(a / 4096), false);
      const off = a % 4096;
      const n = Math.min(4096 - off, length - i);
      out.set(pg.subarray(off, off + n), i);
      i += n;
    }
    return out;
  }
}

export const P = 0x1n; // present
export const RW = 0x2n;
export const PSE = 0x80n;
export const G = 0x100n;
export const NX = 1n << 63n;

/** Builds page tables in a SparsePhys, allocating table pages from `nextTable` upwards. */
export class PageTableBuilder {
  readonly root: number;
  constructor(
    readonly mem: SparsePhys,
    readonly levels: 4 | 5 = 4,
    private nextTable = 0x100000,
    /** Bits OR-ed into every entry (an SME C-bit). */
    readonly extraBits = 0n,
  ) {
    this.root = this.alloc();
  }
  alloc(): number {
    const a = this.nextTable;
    this.nextTable += 4096;
    this.mem.page(a / 4096);
    return a;
  }
  private entry(table: number, index: number): bigint {
    const b = this.mem.readPhys(table + index * 8, 8);
    return new DataView(b.buffer, b.byteOffset).getBigUint64(0, true);
  }
  private next(table: number, index: number): number {
    const e = this.entry(table, index);
    if (e & P) return Number(e & 0x000ffffffffff000n & ~this.extraBits);
    const t = this.alloc();
    this.mem.writeU64(table + index * 8, BigInt(t) | P | RW | this.extraBits);
    return t;
  }
  /** Map `va` to `pa` with a page of `size` bytes (4 KiB, 2 MiB or 1 GiB). */
  map(va: bigint, pa: number, size: 4096 | 0x200000 | 0x40000000, flags = P | RW | G): void {
    const v = BigInt.asUintN(64, va);
    const idx = (shift: bigint) => Number((v >> shift) & 0x1ffn);
    let t = this.root;
    if (this.levels === 5) t = this.next(t, idx(48n));
    t = this.next(t, idx(39n));
    const leafFlags = flags | this.extraBits;
    if (size === 0x40000000) {
      this.mem.writeU64(t + idx(30n) * 8, BigInt(pa) | leafFlags | PSE);
      return;
    }
    t = this.next(t, idx(30n));
    if (size === 0x200000) {
      this.mem.writeU64(t + idx(21n) * 8, BigInt(pa) | leafFlags | PSE);
      return;
    }
    t = this.next(t, idx(21n));
    this.mem.writeU64(t + idx(12n) * 8, BigInt(pa) | leafFlags);
  }
}
