/**
 * What every page-table walker (x86_64, i386, arm64) shares: the step trace `vtop` prints, the
 * walker interface the engine calls, and a one-page-per-level cache of table pages (drgn's
 * x86_64 iterator keeps one too: consecutive lookups mostly share their upper tables).
 *
 * A walker does no I/O of its own: it asks a PhysReader (the dump) for table pages. Its hot path
 * takes a virtual address as (hi, lo) uint32 halves and returns a physical address as a number,
 * or -1 when the address is not mapped; table pages missing from the dump throw typed errors.
 */
import type { PhysReader } from "../dump/types.js";
import { AddressError } from "../errors.js";

/** One step of a walk. Entry values are the raw table entries (64-bit, or 32-bit widened). */
export interface WalkStep {
  /** The level's name in the kernel's words: pgd, p4d, pud, pmd, pte. */
  level: string;
  /** Physical address of the table. */
  table: number;
  index: number;
  /** Physical address of the entry. */
  entryAddress: number;
  /** The entry as stored. */
  raw: bigint;
  /** The entry as the walk uses it (x86_64: encryption bits cleared). */
  entry: bigint;
}

export interface Walk {
  virtual: bigint;
  steps: WalkStep[];
  /** Physical address, when the walk reached a valid leaf. */
  physical?: number;
  /** Size of the page or block that maps it. */
  pageSize?: number;
  /** Physical base of that page. */
  pageBase?: number;
  /** The leaf entry, when one was reached (also a non-present last-level entry, for display). */
  leaf?: bigint;
  /** Why the walk stopped without a translation. */
  fault?: string;
}

/** A page-table format bound to a root table: what the engine needs from every walker. */
export interface PageWalker {
  /** The entry format, e.g. "x86_64 4-level", "i386 PAE", "arm64 4K granule, 48-bit VA". */
  readonly format: string;
  /** Physical address of the top-level table. */
  readonly root: number;
  /** Hot path: physical address, or -1 when not mapped. No allocation, no BigInt. */
  translate(hi: number, lo: number): number;
  /**
   * After a translate() that returned an address: log2 of the bytes its leaf entry maps (12 for
   * a 4 KiB page, 21 for a 2 MiB one, 30 for 1 GiB; an arm64 block's size), so that a reader
   * of many pages translates once a leaf (readVirtual).
   */
  readonly leafShift: number;
  /** Every step recorded (slow path). */
  walk(va: bigint): Walk;
  /** Names of the flags set in a leaf entry, in the order the architecture's tools print them. */
  flagNames(entry: bigint): string[];
  /** Table pages read so far (tests, benchmarks). */
  readonly tableReads: number;
}

const HOST_LE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Split a 64-bit virtual address into uint32 halves. */
export function splitVa(va: bigint): [hi: number, lo: number] {
  const v = BigInt.asUintN(64, va);
  return [Number(v >> 32n), Number(v & 0xffffffffn)];
}

/** Join uint32 halves into a bigint. */
export function joinVa(hi: number, lo: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/** A table page as read once: its bytes and the two views entries are read through. */
export interface TablePage {
  bytes: Uint8Array;
  u32: Uint32Array;
  view: DataView;
}

/**
 * Table pages kept across walks, at most `limit` of them (first in, first out): a walk that
 * jumps between distant addresses (shuffled vmalloc, vmemmap and module addresses) would
 * otherwise read its lower tables from the dump again on nearly every step — 1.6 table reads
 * a walk measured on a real vmcore, 150× slower than the walk itself. libkdumpfile keeps a
 * page cache for the same reason. 1024 pages of 4 KiB bound it to 4 MiB, allocated only as
 * tables are met; a kernel's own tables for a few GiB of RAM fit.
 */
export class TableStore {
  private readonly pages = new Map<number, TablePage>();
  /** Table pages read from the dump so far (tests, benchmarks). */
  reads = 0;

  constructor(
    private readonly phys: PhysReader,
    private readonly limit = 1024,
  ) {}

  /** The `size` bytes of the table at physical `table`; throws what the dump's reader throws. */
  get(table: number, size: number): TablePage {
    const hit = this.pages.get(table);
    if (hit && hit.bytes.length === size) return hit;
    if (!Number.isSafeInteger(table) || table < 0)
      throw new AddressError("physical", table, "page table outside physical memory");
    const bytes = new Uint8Array(size);
    const got = this.phys.readPhys(table, size, bytes);
    if (got.buffer !== bytes.buffer || got.byteOffset !== 0) bytes.set(got.subarray(0, size));
    this.reads++;
    const page = {
      bytes,
      u32: new Uint32Array(bytes.buffer, 0, size >>> 2),
      view: new DataView(bytes.buffer),
    };
    if (this.pages.size >= this.limit) this.pages.delete(this.pages.keys().next().value!);
    this.pages.set(table, page);
    return page;
  }

  clear(): void {
    this.pages.clear();
  }
}

/**
 * The table of each level slot in use, over a TableStore. `entry64`/`entry32` leave the entry
 * in `hi`/`lo` (no tuple allocation on the hot path). Tables are read whole (`bytes` per slot,
 * at most 64 KiB).
 */
export class TableCache {
  private readonly addr: Float64Array;
  private readonly u32: Uint32Array[] = [];
  private readonly views: DataView[] = [];
  private readonly store: TableStore;
  private readonly direct: boolean;
  hi = 0;
  lo = 0;

  constructor(
    phys: PhysReader,
    /** Bytes of the table at each slot (level). */
    private readonly sizes: readonly number[],
    private readonly littleEndian = true,
  ) {
    this.addr = new Float64Array(sizes.length).fill(-1);
    this.store = new TableStore(phys);
    for (const size of sizes) {
      const b = new ArrayBuffer(size);
      this.u32.push(new Uint32Array(b));
      this.views.push(new DataView(b));
    }
    this.direct = HOST_LE && littleEndian;
  }

  /** Table pages read from the dump so far. */
  get reads(): number {
    return this.store.reads;
  }

  private load(slot: number, table: number): void {
    if (this.addr[slot] === table) return;
    this.addr[slot] = -1;
    const page = this.store.get(table, this.sizes[slot]!);
    this.u32[slot] = page.u32;
    this.views[slot] = page.view;
    this.addr[slot] = table;
  }

  /** 64-bit entry `index` of the table at `table` → this.hi / this.lo. */
  entry64(slot: number, table: number, index: number): void {
    this.load(slot, table);
    if (this.direct) {
      const u = this.u32[slot]!;
      this.lo = u[index << 1]!;
      this.hi = u[(index << 1) + 1]!;
    } else {
      const v = this.views[slot]!;
      const le = this.littleEndian;
      this.lo = v.getUint32((index << 3) + (le ? 0 : 4), le);
      this.hi = v.getUint32((index << 3) + (le ? 4 : 0), le);
    }
  }

  /** 32-bit entry → this.lo (this.hi = 0). */
  entry32(slot: number, table: number, index: number): void {
    this.load(slot, table);
    this.hi = 0;
    if (this.direct) {
      const u = this.u32[slot]!;
      this.lo = u[index]!;
    } else this.lo = this.views[slot]!.getUint32(index << 2, this.littleEndian);
  }

  flush(): void {
    this.addr.fill(-1);
    this.store.clear();
  }
}
