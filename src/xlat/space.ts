/**
 * Address spaces as maps of ranges to translation methods, and the one engine that resolves
 * them (libkdumpfile's addrxlat describes systems the same way: a map per address space, each
 * range pointing at a method):
 *  - linear: physical = (address − range start) + base (kernel text, direct / linear maps);
 *  - page table: a walker bound to its root (x86_64 4/5-level, i386 2-level/PAE, arm64);
 *  - pfn table: physical frame = lookup(address >> page shift) (Xen's p2m is one).
 * The engine (`translateHiLo`, `read`, `explain`) does no I/O of its own: page tables and data
 * come from the PhysReader the space was built over (the dump). Ranges are checked in order,
 * the first one containing the address wins, so a catch-all page-table range goes last.
 *
 * Addresses are bigint at the API and uint32 (hi, lo) halves inside.
 */
import type { PhysReader } from "../dump/types.js";
import { AddressError, hex, KdumpkitError } from "../errors.js";
import { type PageWalker, splitVa, type Walk } from "./walk.js";

const TWO32 = 4294967296;
/** One past the last 64-bit address. */
export const END_OF_64BIT = 1n << 64n;

export interface LinearMethod {
  kind: "linear";
  /** Physical address of the range's first byte (may be negative: x86_64's phys_base). */
  base: number;
}
export interface PageTableMethod {
  kind: "pagetable";
  walker: PageWalker;
}
export interface PfnTableMethod {
  kind: "pfn";
  /** log2 of the page size the table maps. */
  pageShift: number;
  /** The frame holding page `pfn` (counted from the range start), or −1 when there is none. */
  lookup(pfn: number): number;
}
export type Method = LinearMethod | PageTableMethod | PfnTableMethod;

export interface RangeSpec {
  /** Short stable name for JSON ("text", "direct", "linear", "lowmem", "pagetable", "p2m"). */
  id: string;
  /** What the range is, in the kernel's words ("direct map", "kernel text mapping", …). */
  name: string;
  start: bigint;
  /** Exclusive; at most 2^64. */
  end: bigint;
  method: Method;
}

export interface Explanation {
  virtual: bigint;
  space: string;
  /** The range the address fell in (its id and name), and its method. */
  rangeId?: string;
  range?: string;
  method?: Method["kind"];
  physical?: number;
  /** The page-table walk: the method's own, or (linear and frame-table ranges) the space's walker's, when any. */
  walk?: Walk;
  /** Why it did not translate (or why the walk could not be shown). */
  error?: string;
}

interface Range {
  spec: RangeSpec;
  sHi: number;
  sLo: number;
  /** End as hi (may be 2^32 for the end of the address space) and lo. */
  eHi: number;
  eLo: number;
  kind: 0 | 1 | 2;
  base: number;
  walker: PageWalker | undefined;
  pfn: PfnTableMethod | undefined;
}

function toRange(spec: RangeSpec): Range {
  const start = BigInt.asUintN(64, spec.start);
  if (spec.end <= start || spec.end > END_OF_64BIT)
    throw new AddressError("virtual", start, `bad range end ${hex(spec.end)} for ${spec.name}`);
  const [sHi, sLo] = splitVa(start);
  const eHi = Number(spec.end >> 32n);
  const eLo = Number(spec.end & 0xffffffffn);
  const m = spec.method;
  if (m.kind === "linear" && !Number.isSafeInteger(m.base))
    throw new AddressError("physical", m.base, `linear base of ${spec.name} out of range`);
  if (m.kind === "pfn" && (!Number.isInteger(m.pageShift) || m.pageShift < 9 || m.pageShift > 30))
    throw new AddressError("virtual", start, `bad page shift ${m.pageShift} for ${spec.name}`);
  return {
    spec: { ...spec, start },
    sHi,
    sLo,
    eHi,
    eLo,
    kind: m.kind === "linear" ? 0 : m.kind === "pagetable" ? 1 : 2,
    base: m.kind === "linear" ? m.base : 0,
    walker: m.kind === "pagetable" ? m.walker : undefined,
    pfn: m.kind === "pfn" ? m : undefined,
  };
}

/**
 * Read `length` bytes at `va` through any hi/lo translator, page by page; runs that are
 * physically contiguous become one physical read. Errors name the address that failed
 * (`where` adds what maps it).
 */
export function readVirtual(
  t: { translateHiLo(hi: number, lo: number): number; contiguousAfter?(hi: number, lo: number): number },
  phys: PhysReader,
  space: string,
  va: bigint,
  length: number,
  into?: Uint8Array,
  where: (hi: number, lo: number) => string = () => "",
): Uint8Array {
  if (!Number.isSafeInteger(length) || length < 0)
    throw new AddressError(space, va, `bad read length ${length}`);
  const out = into ? into.subarray(0, length) : new Uint8Array(length);
  if (out.length < length) throw new AddressError(space, va, `buffer of ${out.length} < ${length} bytes`);
  let [hi, lo] = splitVa(va);
  let done = 0;
  const ps = phys.pageSize || 4096;
  while (done < length) {
    const p = t.translateHiLo(hi, lo);
    if (p < 0) {
      const at = BigInt.asUintN(64, va + BigInt(done));
      throw new AddressError(space, at, `not mapped${where(hi, lo)} (read of ${length} bytes at ${hex(va)})`);
    }
    // the rest of its page, or of its large page or linear range where the translator says so:
    // one translation a leaf instead of one a page (mem_map's 8 MiB through 2 MiB vmemmap pages)
    let n = Math.min(Math.max(ps - (lo % ps), t.contiguousAfter?.(hi, lo) ?? 0), length - done);
    let nHi = hi;
    let nLo = lo + n;
    while (done + n < length) {
      if (nLo >= TWO32) {
        nLo -= TWO32;
        nHi = (nHi + 1) >>> 0;
        if (nHi === 0) break; // wrapped past the top of the address space
      }
      if (t.translateHiLo(nHi, nLo) !== p + n) break;
      const step = Math.min(ps, length - done - n);
      n += step;
      nLo += step;
    }
    const dst = out.subarray(done, done + n);
    // a buffer made here holds zeros: zero pages need not be written into it
    const got = phys.readPhys(p, n, dst, !into);
    if (got.buffer !== dst.buffer || got.byteOffset !== dst.byteOffset) dst.set(got.subarray(0, n));
    done += n;
    lo += n;
    while (lo >= TWO32) {
      lo -= TWO32;
      hi = (hi + 1) >>> 0;
    }
  }
  return out;
}

/**
 * A named address space over a PhysReader. `read`/`translate` are the interface the rest of
 * kdumpkit reads kernel memory through (printk, kallsyms, BTF, tasks, unwinders).
 */
export class AddressSpace {
  private readonly ranges: Range[];
  /** The ranges' bounds and linear bases in flat arrays: the hot path's lookup. */
  private readonly sHi: Float64Array;
  private readonly sLo: Float64Array;
  private readonly eHi: Float64Array;
  private readonly eLo: Float64Array;
  private readonly kinds: Uint8Array;
  private readonly bases: Float64Array;
  private readonly pageSize: number;
  /** The walker shown by `explain` for addresses a linear range translates (crash shows it). */
  readonly walker: PageWalker | undefined;
  /** The pointer size of the code this space belongs to (printk, unwinders read words by it). */
  readonly pointerSize: 4 | 8;

  constructor(
    readonly name: string,
    readonly phys: PhysReader,
    ranges: readonly RangeSpec[],
    opts: { walker?: PageWalker; pointerSize?: 4 | 8 } = {},
  ) {
    this.ranges = ranges.map(toRange);
    const n = this.ranges.length;
    this.sHi = new Float64Array(n);
    this.sLo = new Float64Array(n);
    this.eHi = new Float64Array(n);
    this.eLo = new Float64Array(n);
    this.kinds = new Uint8Array(n);
    this.bases = new Float64Array(n);
    this.ranges.forEach((r, i) => {
      this.sHi[i] = r.sHi;
      this.sLo[i] = r.sLo;
      this.eHi[i] = r.eHi;
      this.eLo[i] = r.eLo;
      this.kinds[i] = r.kind;
      this.bases[i] = r.base;
    });
    this.pageSize = phys.pageSize || 4096;
    this.pointerSize = opts.pointerSize ?? 8;
    this.walker = opts.walker ?? this.ranges.find((r) => r.walker !== undefined)?.walker ?? undefined;
  }

  /** The ranges, in lookup order. */
  get map(): readonly RangeSpec[] {
    return this.ranges.map((r) => r.spec);
  }

  /** Index of the first range holding (hi, lo), or −1. */
  private indexOf(hi: number, lo: number): number {
    const n = this.kinds.length;
    // the first range is checked first: callers order ranges by how hot they are
    for (let i = 0; i < n; i++) {
      const sh = this.sHi[i]!;
      const eh = this.eHi[i]!;
      if ((hi > sh || (hi === sh && lo >= this.sLo[i]!)) && (hi < eh || (hi === eh && lo < this.eLo[i]!)))
        return i;
    }
    return -1;
  }

  private rangeOf(hi: number, lo: number): Range | undefined {
    const i = this.indexOf(hi, lo);
    return i < 0 ? undefined : this.ranges[i];
  }

  /** Hot path: physical address of (hi, lo), or −1 when nothing maps it. */
  translateHiLo(hi: number, lo: number): number {
    const i = this.indexOf(hi, lo);
    if (i < 0) return -1;
    const kind = this.kinds[i];
    if (kind === 0) {
      const p = (hi - this.sHi[i]!) * TWO32 + (lo - this.sLo[i]!) + this.bases[i]!;
      return p >= 0 ? p : -1;
    }
    const r = this.ranges[i]!;
    if (kind === 1) return r.walker!.translate(hi, lo);
    const m = r.pfn!;
    const d = (hi - r.sHi) * TWO32 + (lo - r.sLo);
    const size = 2 ** m.pageShift;
    const f = m.lookup(Math.floor(d / size));
    return f >= 0 && Number.isSafeInteger(f * size) ? f * size + (d % size) : -1;
  }

  /**
   * Right after translateHiLo(hi, lo) returned an address: how many bytes from (hi, lo) on map
   * to consecutive physical addresses by the same translation: to the end of the leaf the walker
   * used, of the frame-table page or of the linear range, and never into a range looked up
   * before this one (the first range holding an address translates it). 0 when not known.
   */
  contiguousAfter(hi: number, lo: number): number {
    const i = this.indexOf(hi, lo);
    if (i < 0) return 0;
    const kind = this.kinds[i];
    // to the end of the range
    let n = (this.eHi[i]! - hi) * TWO32 + (this.eLo[i]! - lo);
    if (kind !== 0) {
      const r = this.ranges[i]!;
      const shift = kind === 1 ? r.walker!.leafShift : r.pfn!.pageShift;
      if (!(shift >= 9 && shift <= 48)) return 0;
      const size = 2 ** shift;
      // a leaf is aligned in the address space, a frame-table page from its range's start
      const off =
        kind === 2
          ? ((hi - this.sHi[i]!) * TWO32 + (lo - this.sLo[i]!)) % size
          : shift > 32
            ? (hi % 2 ** (shift - 32)) * TWO32 + lo
            : lo % size;
      n = Math.min(n, size - off);
    }
    for (let j = 0; j < i; j++) {
      const d = (this.sHi[j]! - hi) * TWO32 + (this.sLo[j]! - lo);
      if (d > 0 && d < n) n = d;
    }
    return n;
  }

  /** The name and method of the range holding `va`. */
  rangeAt(va: bigint): RangeSpec | undefined {
    const [hi, lo] = splitVa(va);
    return this.rangeOf(hi, lo)?.spec;
  }

  /** Physical address of `va`; AddressError when it is not mapped. */
  translate(va: bigint): number {
    const [hi, lo] = splitVa(va);
    const p = this.translateHiLo(hi, lo);
    if (p < 0) {
      const r = this.rangeOf(hi, lo);
      throw new AddressError(this.name, va, r ? `not mapped (${r.spec.name})` : "outside every mapped range");
    }
    return p;
  }

  /** Batch translation over uint32 halves: out[i] = physical address or −1. */
  translateBatch(hi: Uint32Array, lo: Uint32Array, out: Float64Array): void {
    const n = Math.min(hi.length, lo.length, out.length);
    for (let i = 0; i < n; i++) out[i] = this.translateHiLo(hi[i]!, lo[i]!);
  }

  /**
   * Read `length` bytes at `va`, page by page; runs that are physically contiguous become one
   * physical read. Errors name the address that failed.
   */
  read(va: bigint, length: number, into?: Uint8Array): Uint8Array {
    return readVirtual(this, this.phys, this.name, va, length, into, (hi, lo) => {
      const r = this.rangeOf(hi, lo);
      return r ? ` (${r.spec.name})` : "";
    });
  }

  /** The steps `vtop` prints: the range and method, the physical address, the walk. */
  explain(va: bigint): Explanation {
    const v = BigInt.asUintN(64, va);
    const [hi, lo] = splitVa(v);
    const res: Explanation = { virtual: v, space: this.name };
    const r = this.rangeOf(hi, lo);
    if (r) {
      res.rangeId = r.spec.id;
      res.range = r.spec.name;
      res.method = r.spec.method.kind;
    }
    try {
      const p = this.translateHiLo(hi, lo);
      if (p >= 0) res.physical = p;
      else res.error = r ? `not mapped (${r.spec.name})` : "outside every mapped range";
    } catch (e) {
      if (!(e instanceof KdumpkitError)) throw e;
      res.error = e.message;
    }
    // a frame-table range shows the space's walker too: dom0's kernel text goes through the p2m,
    // and crash's vtop still shows dom0's page-table steps for it
    const walker = r?.walker ?? this.walker;
    if (walker) {
      try {
        res.walk = walker.walk(v);
      } catch (e) {
        if (!(e instanceof KdumpkitError)) throw e;
        res.error ??= `page-table walk: ${e.message}`;
      }
    }
    return res;
  }
}
