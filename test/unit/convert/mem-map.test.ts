/**
 * Page classification from struct page (kernel/mem-map.ts) on a machine built in code:
 * SPARSEMEM_EXTREME with one root page, a 6.1-like struct page layout, every category, blocks
 * spanning many pfns, tails, unreadable struct pages; then fuzzed struct page / mem_section data.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { lzo1xDecompress } from "../../../src/codecs/lzo1x.js";
import { Lzo1xEncoder } from "../../../src/codecs/lzo1x-encode.js";
import { snappyDecompress } from "../../../src/codecs/snappy.js";
import { SnappyEncoder } from "../../../src/codecs/snappy-encode.js";
import { AddressError, KdumpkitError } from "../../../src/errors.js";
import {
  classifyPages,
  EXCLUDED_CACHE,
  EXCLUDED_CACHE_PRIVATE,
  EXCLUDED_FREE,
  EXCLUDED_HWPOISON,
  EXCLUDED_OFFLINE,
  EXCLUDED_USER,
  KEEP,
  type KernelMemory,
} from "../../../src/kernel/mem-map.js";
import { Vmcoreinfo } from "../../../src/notes/vmcoreinfo.js";
import { unit } from "../../fuzz.js";

const PS = 4096;
const SZ = 64;
const ROOT = 0xffff_8880_0001_0000n; // mem_section root array (pointers)
const SECTIONS = 0xffff_8880_0002_0000n; // the structs of root 0
const VMEMMAP = 0xffff_ea00_0000_0000n;
const NPFN = 4096; // 2 sections of 2048 pages (SECTION_SIZE_BITS 23)

const VI = `OSRELEASE=6.1.0-test
PAGESIZE=4096
SYMBOL(mem_section)=${ROOT.toString(16)}
LENGTH(mem_section)=${2 ** (46 - 23) / (PS / 16)}
SIZE(mem_section)=16
OFFSET(mem_section.section_mem_map)=0
NUMBER(SECTION_SIZE_BITS)=23
NUMBER(MAX_PHYSMEM_BITS)=46
SIZE(page)=64
OFFSET(page.flags)=0
OFFSET(page._refcount)=52
OFFSET(page.mapping)=24
OFFSET(page.lru)=8
OFFSET(page._mapcount)=48
OFFSET(page.private)=40
OFFSET(page.compound_dtor)=16
OFFSET(page.compound_order)=17
OFFSET(page.compound_head)=8
LENGTH(zone.free_area)=11
NUMBER(PG_lru)=4
NUMBER(PG_private)=13
NUMBER(PG_swapcache)=10
NUMBER(PG_swapbacked)=19
NUMBER(PG_slab)=9
NUMBER(PG_hwpoison)=23
NUMBER(PG_head_mask)=65536
NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)=-129
NUMBER(HUGETLB_PAGE_DTOR)=2
NUMBER(PAGE_OFFLINE_MAPCOUNT_VALUE)=-257
`;

/** Kernel memory as a map of pages; reads of absent pages fail like a dump's. */
class Mem implements KernelMemory {
  pages = new Map<bigint, Uint8Array>();
  page(va: bigint): Uint8Array {
    const base = va & ~0xfffn;
    let p = this.pages.get(base);
    if (!p) {
      p = new Uint8Array(PS);
      this.pages.set(base, p);
    }
    return p;
  }
  write(va: bigint, b: Uint8Array): void {
    for (let i = 0; i < b.length; i++) this.page(va + BigInt(i))[Number((va + BigInt(i)) & 0xfffn)] = b[i]!;
  }
  read(va: bigint, length: number, into = new Uint8Array(length)): Uint8Array {
    for (let i = 0; i < length; ) {
      const a = va + BigInt(i);
      const p = this.pages.get(a & ~0xfffn);
      if (!p) throw new AddressError("kernel-virtual", a, "not mapped");
      const off = Number(a & 0xfffn);
      const n = Math.min(length - i, PS - off);
      into.set(p.subarray(off, off + n), i);
      i += n;
    }
    return into;
  }
  translate(va: bigint): number {
    return Number(va & 0xffffffffn);
  }
}

function machine(): { mem: Mem; sp: (pfn: number) => DataView } {
  const mem = new Mem();
  const word = (v: bigint) => {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, v, true);
    return b;
  };
  mem.write(ROOT, word(SECTIONS));
  for (let s = 0; s < 2; s++) {
    // section_mem_map = mem_map − first pfn·SIZE(page), | SECTION_MARKED_PRESENT: with one
    // linear vmemmap that is the vmemmap base for every section
    mem.write(SECTIONS + BigInt(s * 16), word(VMEMMAP + 1n));
  }
  for (let p = 0; p < NPFN; p++) mem.page(VMEMMAP + BigInt(p * SZ));
  const sp = (pfn: number) => {
    const va = VMEMMAP + BigInt(pfn * SZ);
    const page = mem.page(va);
    return new DataView(page.buffer, Number(va & 0xfffn), SZ);
  };
  return { mem, sp };
}

const opts = (dumpLevel: number) => ({
  dumpLevel,
  maxPfn: NPFN,
  pageSize: PS,
  wordSize: 8 as const,
  littleEndian: true,
  arch: "x86_64",
  // every pfn but 5 (a hole)
  inDump: new Uint8Array(NPFN).fill(1).fill(0, 5, 6),
});

test("mem_map: every category, blocks, tails and what each dump level drops", () => {
  const { mem, sp } = machine();
  // pfn 8–11: free buddy block of order 2
  sp(8).setInt32(48, -129, true);
  sp(8).setBigUint64(40, 2n, true);
  sp(20).setUint32(0, 1 << 4, true); // cache (PG_lru), not private
  sp(21).setUint32(0, (1 << 4) | (1 << 13), true); // cache, private
  sp(22).setUint32(0, 1 << 4, true);
  sp(22).setBigUint64(24, 0xffff_8880_1234_5001n, true); // anon mapping: user data
  sp(23).setUint32(0, 1 << 9, true);
  sp(23).setBigUint64(24, 0xffff_8880_1234_5001n, true); // slab: mapping&1 does not make it anon
  sp(24).setUint32(0, 1 << 23, true); // hwpoison
  sp(25).setInt32(48, -257, true); // offline
  // 32–35: hugetlb compound of order 2 (head flag, order and dtor in the first tail)
  sp(32).setUint32(0, 65536, true);
  sp(33).setUint8(17, 2);
  sp(33).setUint8(16, 2);
  for (const t of [33, 34, 35]) sp(t).setBigUint64(8, VMEMMAP + 32n * 64n + 1n, true);
  // 40–41: a non-hugetlb compound (order 1): tails kept
  sp(40).setUint32(0, 65536, true);
  sp(41).setUint8(17, 1);
  sp(41).setBigUint64(8, VMEMMAP + 40n * 64n + 1n, true);
  // a buddy block (order 3) from 2044 crossing into section 1: every pfn excluded
  sp(2040).setInt32(48, -129, true);
  sp(2040).setBigUint64(40, 3n, true);
  // buddy marks with orders no kernel has: private's low half ≥ 2^31, and its high half set
  sp(50).setInt32(48, -129, true);
  sp(50).setBigUint64(40, 0x8000_0003n, true);
  sp(51).setInt32(48, -129, true);
  sp(51).setBigUint64(40, 0x1_0000_0002n, true);
  const vi = new Vmcoreinfo(VI);

  const r31 = classifyPages(mem, vi, opts(31));
  assert.equal(r31.layout?.model, "sparsemem-extreme");
  assert.deepEqual([...r31.reason.subarray(8, 12)], [5, 5, 5, 5]);
  assert.equal(r31.reason[12], KEEP);
  assert.equal(r31.reason[20], EXCLUDED_CACHE);
  assert.equal(r31.reason[21], EXCLUDED_CACHE_PRIVATE);
  assert.equal(r31.reason[22], EXCLUDED_USER);
  assert.equal(r31.reason[23], KEEP);
  assert.equal(r31.reason[24], EXCLUDED_HWPOISON);
  assert.equal(r31.reason[25], EXCLUDED_OFFLINE);
  assert.deepEqual([...r31.reason.subarray(32, 36)], [4, 4, 4, 4]);
  assert.deepEqual([...r31.reason.subarray(40, 42)], [KEEP, KEEP]);
  assert.ok(r31.reason.subarray(2040, 2048).every((x) => x === EXCLUDED_FREE));
  assert.equal(r31.reason[2048], KEEP);
  assert.equal(r31.counts.free, 4 + 8);
  assert.equal(r31.counts.user, 1 + 4);
  // single pages and blocks counted together, per reason
  assert.equal(r31.counts.cache, 1);
  assert.equal(r31.counts.hwpoison, 1);
  assert.equal(r31.counts.offline, 1);
  assert.deepEqual([r31.reason[50], r31.reason[51]], [KEEP, KEEP]);
  assert.deepEqual(
    r31.warnings.filter((w) => w.startsWith("invalid free page order")),
    ["invalid free page order at pfn 0x32: huge (kept)", "invalid free page order at pfn 0x33: huge (kept)"],
  );

  // -d 2: only non-private cache (and hwpoison / offline, always)
  const r2 = classifyPages(mem, vi, opts(2));
  assert.equal(r2.reason[20], EXCLUDED_CACHE);
  assert.equal(r2.reason[21], KEEP);
  assert.equal(r2.reason[8], KEEP);
  assert.equal(r2.reason[24], EXCLUDED_HWPOISON);
  // -d 4: private cache too, counted as such
  assert.equal(classifyPages(mem, vi, opts(4)).reason[21], EXCLUDED_CACHE_PRIVATE);
  // -d 16: free only
  const r16 = classifyPages(mem, vi, opts(16));
  assert.equal(r16.reason[20], KEEP);
  assert.equal(r16.reason[9], EXCLUDED_FREE);

  // a struct page that cannot be read: the page is kept and counted
  mem.pages.delete(VMEMMAP + 4096n); // struct pages of pfns 64–127
  const ru = classifyPages(mem, vi, opts(31));
  assert.equal(ru.unreadable, 64);
  assert.ok(ru.reason.subarray(64, 128).every((x) => x === KEEP));
  assert.equal(ru.reason[20], EXCLUDED_CACHE);
});

test("mem_map fuzz: corrupt struct pages and mem_section give a result or a typed error", () => {
  const vi = new Vmcoreinfo(VI);
  const next = unit(10);
  for (let i = 0; i < 300; i++) {
    const { mem } = machine();
    const keys = [...mem.pages.keys()];
    for (let k = 0; k < 40; k++) {
      const p = mem.pages.get(keys[Math.floor(next() * keys.length)] ?? 0n);
      if (!p) continue;
      p[Math.floor(next() * PS)] = Math.floor(next() * 256);
    }
    if (next() < 0.2) mem.pages.delete(keys[Math.floor(next() * keys.length)] ?? 0n);
    try {
      const r = classifyPages(mem, vi, opts(31));
      assert.equal(r.reason.length, NPFN);
      assert.equal(r.reason[5], KEEP); // a hole is never excluded
    } catch (e) {
      assert.ok(e instanceof KdumpkitError, String(e));
    }
  }
});

test("LZO1X and snappy encoders: round trips, incompressible and repetitive pages", () => {
  const next = unit(3);
  const lz = new Lzo1xEncoder();
  const sn = new SnappyEncoder();
  const out = new Uint8Array(PS);
  const samples: Uint8Array[] = [new Uint8Array(PS), new Uint8Array(PS).fill(0xab)];
  const rnd = new Uint8Array(PS);
  for (let i = 0; i < PS; i++) rnd[i] = Math.floor(next() * 256);
  samples.push(rnd);
  for (let s = 0; s < 50; s++) {
    const p = new Uint8Array(PS);
    for (let i = 0; i < PS; i++)
      p[i] = next() < 0.7 ? p[Math.max(0, i - 1 - Math.floor(next() * 3000))]! : Math.floor(next() * 8);
    samples.push(p);
  }
  for (const p of samples) {
    lzo1xDecompress(lz.compress(p), out, "lzo", true);
    assert.deepEqual(out, p);
    snappyDecompress(sn.compress(p), out, "snappy", true);
    assert.deepEqual(out, p);
  }
  assert.ok(lz.compress(new Uint8Array(PS)).length < 64);
  assert.ok(sn.compress(new Uint8Array(PS)).length < 300);
});
