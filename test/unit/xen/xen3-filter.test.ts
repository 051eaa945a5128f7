/**
 * `convert -X` on Xen 3.x host dumps built in code (ELF /proc/vmcore with Xen's CRASH_INFO and
 * VMCOREINFO_XEN notes over machine memory): x86_64 Xen 3.3 (relocated, 40-byte page_info,
 * owners pickled as physical addresses) and x86_32 Xen 3.2 / 3.4 (PAE idle table mapping the
 * frame table at 0xf6800000, 24-byte page_info, owners as virtual addresses / frame numbers).
 * Frames are free (alloc_bitmap clear), anonymous, Xen heap, dom0's (in use or not) and a domU's.
 * The kept set is compared with an independent model of makedumpfile 1.7's
 * exclude_xen3_user_domain over the same bytes; where kdumpkit differs by design (heap start,
 * unreadable entries, Xen 3.4's pickling and _domain offset) the test names the frames.
 * Fuzzed: corrupt frame tables, bitmaps and pointers give a typed error or the model's answer.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { MemorySource } from "../../../src/bytes/source.js";
import { OUT_DUMP } from "../../../src/convert/plan.js";
import { planXenConversion } from "../../../src/convert/xen-filter.js";
import { openDump } from "../../../src/dump/index.js";
import { ET_CORE, PT_LOAD } from "../../../src/elf/types.js";
import { ElfBuilder } from "../../../src/elf/writer.js";
import { KdumpkitError } from "../../../src/errors.js";
import { FRAME_FREE, FRAME_OTHER_DOMAIN } from "../../../src/xen/frame-table.js";
import { domainOffsetFor, pickledDomainIdV3 } from "../../../src/xen/frame-table-v3.js";
import { unit } from "../../fuzz.js";

const N = 2048; // machine frames (8 MiB)
const PS = 4096;

interface Host {
  arch: "x86_64" | "x86_32";
  version: [number, number];
  mem: Uint8Array;
  /** VMCOREINFO_XEN text. */
  vi: string;
  /** The model's view of hypervisor memory: va → machine address, or undefined. */
  translate(va: bigint): number | undefined;
  size: number;
  offCount: number;
  /** Where _domain really is. */
  offDomain: number;
  /** What VMCOREINFO says (Xen 3.4: offsetof(u)). */
  offDomainVi: number;
  symbols: Record<"domain_list" | "frame_table" | "alloc_bitmap" | "xenheap_phys_end", bigint>;
  heapStartPfn: number;
  dom0: bigint;
  domU: bigint;
  physStart?: number;
}

function u32(m: Uint8Array, a: number, v: number): void {
  new DataView(m.buffer).setUint32(a, v >>> 0, true);
}
function u64(m: Uint8Array, a: number, v: bigint): void {
  new DataView(m.buffer).setBigUint64(a, v, true);
}

/** Owner pattern by pfn (seeded): the frames' page_info and bitmap bits. */
function fillFrames(
  h: Host,
  ftPa: (pfn: number) => number,
  bitmapPa: number,
  pickled0: number,
  pickledU: number,
) {
  const next = unit(h.arch === "x86_64" ? 33 : 32 + h.version[1]);
  const w = h.arch === "x86_64" ? 8 : 4;
  for (let pfn = 0; pfn < N; pfn++) {
    const r = Math.floor(next() * 100);
    const e = ftPa(pfn);
    let allocated = true;
    let owner = 0;
    let count = 0;
    if (r < 20)
      allocated = false; // free
    else if (r < 35)
      count = 1; // anonymous (Xen's own)
    else if (r < 70)
      [owner, count] = [pickled0, 1 + (r % 3)]; // dom0's, in use
    else if (r < 75)
      owner = pickled0; // dom0's, count 0
    else [owner, count] = [pickledU, 1]; // a domU's
    if (allocated) h.mem[bitmapPa + (pfn >> 3)]! |= 1 << (pfn & 7);
    // count_info: count in the low bits, PGC_allocated on top (bit 31, or 63 on 3.4 x86_64)
    u32(h.mem, e + h.offCount, count | (owner ? 0x80000000 : 0));
    if (w === 8 && h.version[1] >= 4) u32(h.mem, e + h.offCount + 4, owner ? 0x80000000 : 0);
    u32(h.mem, e + h.offDomain, owner);
    // the word VMCOREINFO wrongly names _domain on 3.4 (type_info): a type, never an owner id
    if (h.offDomainVi !== h.offDomain) u32(h.mem, e + h.offDomainVi, 0x20000001);
  }
}

/** x86_64 Xen 3.3, relocated to 4 MiB: heap [4 MiB, 6 MiB), frame table and bitmap in it. */
function hostX86_64(): Host {
  const mem = new Uint8Array(N * PS);
  const XEN_VIRT = 0xffff828c80000000n;
  const DM = 0xffff830000000000n;
  const phys = 0x400000;
  const ft = 0x500000;
  const bitmap = 0x520000;
  const h: Host = {
    arch: "x86_64",
    version: [3, 3],
    mem,
    vi: "",
    translate: (va) =>
      va >= XEN_VIRT && va < XEN_VIRT + 0x40000000n
        ? Number(va - XEN_VIRT) + phys
        : va >= DM && va < DM + 0x10000000000n
          ? Number(va - DM)
          : undefined,
    size: 40,
    offCount: 16,
    offDomain: 20,
    offDomainVi: 20,
    symbols: {
      domain_list: XEN_VIRT + 0x1000n,
      frame_table: XEN_VIRT + 0x1008n,
      alloc_bitmap: XEN_VIRT + 0x1010n,
      xenheap_phys_end: XEN_VIRT + 0x1018n,
    },
    heapStartPfn: phys / PS,
    dom0: DM + 0x530000n,
    domU: DM + 0x531000n,
    physStart: phys,
  };
  u64(mem, phys + 0x1000, h.dom0);
  u64(mem, phys + 0x1008, DM + BigInt(ft));
  u64(mem, phys + 0x1010, DM + BigInt(bitmap));
  u64(mem, phys + 0x1018, 0x600000n);
  // struct domain: domain_id at 0, next_in_list at 8
  u32(mem, 0x530000, 0);
  u64(mem, 0x530008, h.domU);
  u32(mem, 0x531000, 1);
  fillFrames(h, (p) => ft + p * h.size, bitmap, 0x530000, 0x531000);
  h.vi = vmcoreinfo(h, "");
  return h;
}

/**
 * Xen 4.0–4.2 on x86_32: count_info is one 32-bit word with the 4.0 flags at its top (PGC_allocated
 * 31, PGC_xen_heap 30, PGC_broken 25, PGC_state 23–24) and no alloc_bitmap is consulted. Frames in
 * the heap [0, 3 MiB) get the same patterns: some are shared with (allocated to) the domU.
 */
function fillFrames4(h: Host, ftPa: (pfn: number) => number, pickled0: number, pickledU: number) {
  const next = unit(40 + h.version[1]);
  for (let pfn = 0; pfn < N; pfn++) {
    const r = Math.floor(next() * 100);
    const e = ftPa(pfn);
    let count = 0;
    let owner = 0;
    if (r < 15)
      count = 3 << 23; // PGC_state_free
    else if (r < 17)
      count = 2 << 23; // offlined
    else if (r < 19)
      count = (1 << 25) | 1; // broken, in use
    else if (r < 22)
      count = (1 << 23) | 1; // offlining: still in use
    else if (r < 30)
      count = 1; // Xen's own, not PGC_allocated
    else if (r < 65) [count, owner] = [0x80000000 | (1 + (r % 3)), pickled0];
    else if (r < 82) [count, owner] = [0x80000001, pickledU];
    else count = 0x80000001; // allocated, anonymous
    u32(h.mem, e + h.offCount, count);
    u32(h.mem, e + 12, 0x20000001); // type_info: what 4.0's VMCOREINFO names _domain
    u32(h.mem, e + h.offDomain, owner);
  }
}

/**
 * x86_32 Xen (PAE): direct map 0xff000000 = machine + 0xff000000, heap [0, 3 MiB). 3.2 and 3.4
 * by Xen 3's rules; 4.0 (VMCOREINFO's _domain is offsetof(u)) and 4.1 (corrected) by Xen 4's.
 */
function hostX86_32(version: readonly [3, 2] | readonly [3, 4] | readonly [4, 0] | readonly [4, 1]): Host {
  const [major, minor] = version;
  // from 3.4 _domain is in `v`, after type_info; 3.4 and 4.0 publish offsetof(u)
  const inV = major === 4 || minor === 4;
  const mem = new Uint8Array(N * PS);
  const DM = 0xff000000n;
  const FT_VA = 0xf6800000n;
  const ftPa = 0x400000; // 48 KiB of page_info, mapped at FT_VA by the idle table
  const l3 = 0x100000;
  const bitmap = 0x160000;
  // idle_pg_table_l3 → PMD (entry 3 covers 0xc0000000–0xffffffff) → PTE page for FT_VA's 2 MiB
  u64(mem, l3 + 3 * 8, 0x101000n | 1n);
  u64(mem, 0x101000 + Number((FT_VA >> 21n) & 0x1ffn) * 8, 0x102000n | 0x63n);
  for (let i = 0; i < 12; i++)
    u64(mem, 0x102000 + (Number((FT_VA >> 12n) & 0x1ffn) + i) * 8, BigInt(ftPa + i * PS) | 0x63n);
  const walk = (va: bigint): number | undefined => {
    const dv = new DataView(mem.buffer);
    const e3 = dv.getBigUint64(l3 + Number(va >> 30n) * 8, true);
    if (!(e3 & 1n)) return undefined;
    const pmd = Number(e3 & 0xffffff000n);
    const e2 = dv.getBigUint64(pmd + Number((va >> 21n) & 0x1ffn) * 8, true);
    if (!(e2 & 1n)) return undefined;
    const pt = Number(e2 & 0xffffff000n);
    if (pt + PS > mem.length) return undefined;
    const e1 = dv.getBigUint64(pt + Number((va >> 12n) & 0x1ffn) * 8, true);
    if (!(e1 & 1n)) return undefined;
    return Number(e1 & 0xffffff000n) + Number(va & 0xfffn);
  };
  const h: Host = {
    arch: "x86_32",
    version: [major, minor],
    mem,
    vi: "",
    translate: (va) =>
      va >= DM && va < 0xffc00000n ? Number(va - DM) : va < 1n << 32n ? walk(va) : undefined,
    size: 24,
    offCount: 8,
    offDomain: inV ? 16 : 12,
    offDomainVi: major === 4 && minor > 0 ? 16 : 12,
    symbols: {
      domain_list: DM + 0x4000n,
      frame_table: DM + 0x4004n,
      alloc_bitmap: DM + 0x4008n,
      xenheap_phys_end: DM + 0x400cn,
    },
    heapStartPfn: 0,
    dom0: DM + 0x150000n,
    domU: DM + 0x151000n,
  };
  u32(mem, 0x4000, Number(h.dom0));
  u32(mem, 0x4004, Number(FT_VA));
  u32(mem, 0x4008, Number(DM) + bitmap);
  u32(mem, 0x400c, 0x300000);
  u32(mem, 0x150000, 0);
  u32(mem, 0x150008, Number(h.domU));
  u32(mem, 0x151000, 1);
  // pickled: the address (3.2) or the frame number (3.4: virt_to_mfn; 4.x: virt_to_pdx)
  const pick = (va: bigint) => (inV ? Number(va - DM) / PS : Number(va));
  if (major === 4) fillFrames4(h, (p) => ftPa + p * h.size, pick(h.dom0), pick(h.domU));
  else fillFrames(h, (p) => ftPa + p * h.size, bitmap, pick(h.dom0), pick(h.domU));
  h.vi = vmcoreinfo(h, `SYMBOL(pgd_l3)=${(DM + BigInt(l3)).toString(16)}\n`);
  return h;
}

function vmcoreinfo(h: Host, extra: string): string {
  const s = h.symbols;
  return (
    `PAGESIZE=4096\nSYMBOL(domain_list)=${s.domain_list.toString(16)}\nSYMBOL(frame_table)=${s.frame_table.toString(16)}\n` +
    `SYMBOL(alloc_bitmap)=${s.alloc_bitmap.toString(16)}\nSYMBOL(xenheap_phys_end)=${s.xenheap_phys_end.toString(16)}\n` +
    `SIZE(page_info)=${h.size}\nSIZE(domain)=2048\nOFFSET(page_info.count_info)=${h.offCount}\n` +
    `OFFSET(page_info._domain)=${h.offDomainVi}\nOFFSET(domain.domain_id)=0\nOFFSET(domain.next_in_list)=8\n${extra}`
  );
}

/** The ELF /proc/vmcore of a host: CRASH_INFO (v2 on x86_64, v1 on x86_32), VMCOREINFO_XEN. */
function vmcore(h: Host, mem = h.mem): Uint8Array {
  const x64 = h.arch === "x86_64";
  const w = x64 ? 8 : 4;
  const strAt = 0x7000; // "-test\0" for every string CRASH_INFO points at
  mem.set(new TextEncoder().encode("-test\0"), strAt);
  const words = [h.version[0], h.version[1], strAt, strAt, strAt, strAt, strAt, 0];
  if (x64) words.push(h.physStart ?? 0, 0);
  else words.push(0);
  const desc = new Uint8Array(words.length * w);
  const dv = new DataView(desc.buffer);
  for (const [i, v] of words.entries()) {
    if (w === 8) dv.setBigUint64(i * 8, BigInt(v), true);
    else dv.setUint32(i * 4, v, true);
  }
  const b = new ElfBuilder({ class: x64 ? 64 : 32, type: ET_CORE, machine: x64 ? 62 : 3 });
  b.addNoteSegment([
    { name: "Xen", type: 0x1000001, desc },
    { name: "VMCOREINFO_XEN", type: 0, desc: new TextEncoder().encode(h.vi) },
  ]);
  b.addSegment({ type: PT_LOAD, flags: 7, vaddr: 0n, paddr: 0n, data: mem, align: 4096n });
  return b.build();
}

/**
 * makedumpfile 1.7's exclude_xen3_user_domain over the same bytes (independent of src/xen):
 * unreadable bitmap or count_info → dropped; unreadable _domain → error (null).
 */
function makedumpfileModel(h: Host, mem: Uint8Array, offDomain: number, pickled0: number): boolean[] | null {
  const dv = new DataView(mem.buffer, mem.byteOffset, mem.length);
  const w = h.arch === "x86_64" ? 8 : 4;
  const word = (va: bigint): bigint | undefined => {
    const pa = h.translate(va);
    if (pa === undefined || pa + w > mem.length) return undefined;
    return w === 8 ? dv.getBigUint64(pa, true) : BigInt(dv.getUint32(pa, true));
  };
  const u32At = (va: bigint): number | undefined => {
    const pa = h.translate(va);
    return pa === undefined || pa + 4 > mem.length ? undefined : dv.getUint32(pa, true);
  };
  const ft = word(h.symbols.frame_table)!;
  const bitmap = word(h.symbols.alloc_bitmap)!;
  const heapEnd = Number(word(h.symbols.xenheap_phys_end)! >> 12n);
  const keep: boolean[] = [];
  for (let pfn = 0; pfn < N; pfn++) {
    const pa = h.translate(bitmap + BigInt(pfn >> 3));
    const byte = pa === undefined || pa >= mem.length ? undefined : mem[pa]!;
    if (byte === undefined || !(byte & (1 << (pfn & 7)))) {
      keep.push(false);
      continue;
    }
    const e = ft + BigInt(pfn * h.size);
    const count = u32At(e + BigInt(h.offCount));
    if (count === undefined) {
      keep.push(false);
      continue;
    }
    const dom = u32At(e + BigInt(offDomain));
    if (dom === undefined) return null;
    keep.push(dom === 0 || (pfn >= 0 && pfn < heapEnd) || ((count & 0xffff) !== 0 && dom === pickled0));
  }
  return keep;
}

function keptBy(bytes: Uint8Array, heapFromZero: boolean) {
  const dump = openDump(new MemorySource(bytes));
  const plan = planXenConversion(dump, { dumpLevel: 0, excludeDomains: true, heapFromZero });
  return { kept: [...plan.state].map((s) => s === OUT_DUMP), plan };
}

function diff(a: boolean[], b: boolean[]): number[] {
  const out: number[] = [];
  for (let p = 0; p < N; p++) if (a[p] !== b[p]) out.push(p);
  return out;
}

test("Xen 3.3 x86_64 -X: makedumpfile's kept frames with its heap [0, end); Xen's heap start drops the domU frames below it", () => {
  const h = hostX86_64();
  const bytes = vmcore(h);
  const model = makedumpfileModel(h, h.mem, h.offDomain, 0x530000)!;
  const asIt = keptBy(bytes, true);
  assert.deepEqual(diff(asIt.kept, model), []);
  assert.equal(asIt.plan.xen.frames?.dom0Owner, 0x530000);
  assert.match(asIt.plan.xen.frames?.layout ?? "", /Xen 3\.x x86_64/);
  const ours = keptBy(bytes, false);
  const d = diff(ours.kept, model);
  // exactly the allocated domU / idle-dom0 frames below xen_phys_start that makedumpfile keeps as "heap"
  const fr = ours.plan.xen.frames!;
  assert.ok(d.length > 100, `${d.length} frames differ`);
  for (const p of d) {
    assert.ok(p < h.heapStartPfn, `pfn ${p}`);
    assert.equal(fr.reason[p], FRAME_OTHER_DOMAIN);
    assert.equal(model[p], true);
  }
  // heap frames are kept unless the allocator calls them free
  for (let p = h.heapStartPfn; p < 0x600; p++)
    assert.notEqual(fr.reason[p], FRAME_OTHER_DOMAIN, `heap pfn ${p}`);
  assert.ok(fr.free > 300 && fr.otherDomain > 100, `${fr.free} free, ${fr.otherDomain} other`);
});

test("Xen 3.2 x86_32 -X: owners are struct domain addresses, frame table through the PAE idle table", () => {
  const h = hostX86_32([3, 2]);
  const bytes = vmcore(h);
  const model = makedumpfileModel(h, h.mem, 12, Number(h.dom0))!;
  // x86_32's heap starts at 0 (not relocated): no difference at all
  for (const zero of [true, false]) assert.deepEqual(diff(keptBy(bytes, zero).kept, model), []);
  const { plan } = keptBy(bytes, false);
  assert.equal(plan.xen.frames?.dom0Owner, Number(h.dom0));
  assert.equal(plan.xen.frames?.unreadable, 0);
  assert.ok(plan.xen.frames!.otherDomain > 100);
});

test("Xen 3.4 x86_32 -X: owners are frame numbers and _domain is in `v` (VMCOREINFO says `u`): makedumpfile drops dom0", () => {
  const h = hostX86_32([3, 4]);
  const bytes = vmcore(h);
  const pick0 = pickledDomainIdV3("x86_32", { major: 3, minor: 4 }, h.dom0, 0xff000000n);
  assert.equal(pick0, 0x150);
  // our reading: the model with the real offset and Xen 3.4's pickling
  const right = makedumpfileModel(h, h.mem, h.offDomain, pick0 ?? -1)!;
  assert.deepEqual(diff(keptBy(bytes, false).kept, right), []);
  // makedumpfile's: type_info as owner, the address as dom0's id → dom0's frames dropped
  const mdf = makedumpfileModel(h, h.mem, 12, Number(h.dom0))!;
  const d = diff(right, mdf);
  assert.ok(d.length > 300, `${d.length}`);
  for (const p of d) assert.ok(right[p] && !mdf[p] && p >= 0x300, `pfn ${p}`);
  assert.deepEqual(domainOffsetFor({ major: 3, minor: 4 }, 8, 12, 4), { offset: 16, corrected: true });
  assert.deepEqual(domainOffsetFor({ major: 4, minor: 1 }, 8, 24, 8), { offset: 24, corrected: false });
  assert.deepEqual(domainOffsetFor({ major: 3, minor: 3 }, 16, 20, 8), { offset: 20, corrected: false });
});

/**
 * exclude_xen4_user_domain as an i386 build of makedumpfile runs it (32-bit PGC_* macros), over
 * the same bytes, independent of src/xen: unreadable count_info → dropped; unreadable _domain →
 * error (null). `heapEnd`: frames below it kept unless free (Xen's is_xen_heap_mfn on x86_32;
 * makedumpfile has no such rule: 0).
 */
function makedumpfile4Model(
  h: Host,
  mem: Uint8Array,
  offDomain: number,
  pickled0: number,
  heapEnd: number,
): boolean[] | null {
  const dv = new DataView(mem.buffer, mem.byteOffset, mem.length);
  const u32At = (va: bigint): number | undefined => {
    const pa = h.translate(va);
    return pa === undefined || pa + 4 > mem.length ? undefined : dv.getUint32(pa, true);
  };
  const ft = BigInt(u32At(h.symbols.frame_table)!);
  const keep: boolean[] = [];
  for (let pfn = 0; pfn < N; pfn++) {
    const e = ft + BigInt(pfn * h.size);
    const count = u32At(e + BigInt(h.offCount));
    if (count === undefined) {
      keep.push(false);
      continue;
    }
    const state = (count >>> 23) & 3;
    if (count & (1 << 30)) keep.push(true);
    else if (state === 3 || state === 2 || count & (1 << 25)) keep.push(false);
    else if (pfn < heapEnd || !(count & 0x80000000)) keep.push(true);
    else {
      const dom = u32At(e + BigInt(offDomain));
      if (dom === undefined) return null;
      keep.push(dom === 0 || dom === pickled0);
    }
  }
  return keep;
}

test("Xen 4.0/4.1 x86_32 -X: 32-bit count_info, owners as frame numbers, the heap by xenheap_phys_end", () => {
  for (const v of [
    [4, 0],
    [4, 1],
  ] as const) {
    const h = hostX86_32(v);
    const bytes = vmcore(h);
    const pick0 = Number(h.dom0 - 0xff000000n) / PS;
    const ours = keptBy(bytes, false);
    const fr = ours.plan.xen.frames!;
    assert.equal(fr.dom0Owner, pick0, `${v}`);
    assert.equal(fr.layout, "Xen 4.0–4.2 x86_32");
    assert.equal(fr.unreadable, 0);
    // Xen's own reading: the real _domain, virt_to_pdx owners, the heap [0, xenheap_phys_end)
    const xen = makedumpfile4Model(h, h.mem, h.offDomain, pick0, 0x300)!;
    assert.deepEqual(diff(ours.kept, xen), [], `${v}`);
    assert.ok(fr.free > 200 && fr.otherDomain > 100, `${v}: ${fr.free} free, ${fr.otherDomain} other`);
    // free, offlined and broken frames go whether in the heap or not; offlining ones stay
    for (let p = 0; p < N; p++) if (fr.reason[p] === FRAME_FREE) assert.equal(ours.kept[p], false);
    // makedumpfile (an i386 build): the published offset, the domain's address as its id, no heap
    // range. It drops dom0's allocated frames and the heap's frames shared with the domU.
    const mdf = makedumpfile4Model(h, h.mem, h.offDomainVi, Number(h.dom0), 0)!;
    const d = diff(ours.kept, mdf);
    assert.ok(d.length > 500, `${v}: ${d.length}`);
    for (const p of d) assert.ok(ours.kept[p] && !mdf[p], `${v}: pfn ${p}`);
    assert.ok(d.some((p) => p < 0x300) && d.some((p) => p >= 0x300));
    // without xenheap_phys_end: the heap is what carries PGC_xen_heap, with a warning
    const g = { ...h, vi: h.vi.replace(/SYMBOL\(xenheap_phys_end\)=\w+\n/, "") };
    const noHeap = keptBy(vmcore(g), false);
    assert.deepEqual(diff(noHeap.kept, makedumpfile4Model(h, h.mem, h.offDomain, pick0, 0)!), []);
    assert.ok(
      noHeap.plan.warnings.some((w) => /xenheap_phys_end/.test(w)),
      noHeap.plan.warnings.join("; "),
    );
  }
  // 4.0's published _domain offset is offsetof(u): corrected, with a warning
  assert.ok(keptBy(vmcore(hostX86_32([4, 0])), false).plan.warnings.some((w) => /offsetof\(u\)/.test(w)));
  // Xen 4.3 dropped x86_32: a typed error, not a guess
  const h43 = hostX86_32([4, 1]);
  h43.version = [4, 3];
  assert.throws(() => keptBy(vmcore(h43), false), /x86_64 only/);
});

test("Xen 3.x -X: missing symbols and wild pointers are typed errors naming them; unreadable page_info is kept", () => {
  const h = hostX86_64();
  const without = (re: RegExp) => {
    const g = { ...h, vi: h.vi.replace(re, "") };
    return () => keptBy(vmcore(g), false);
  };
  assert.throws(without(/SYMBOL\(alloc_bitmap\)=\w+\n/), /alloc_bitmap/);
  assert.throws(without(/SYMBOL\(xenheap_phys_end\)=\w+\n/), /xenheap_phys_end/);
  assert.throws(without(/SIZE\(page_info\)=\d+\n/), /SIZE\(page_info\)/);
  const wild = h.mem.slice();
  u64(wild, 0x401008, 0x1234n); // frame_table → not a hypervisor address
  assert.throws(
    () => keptBy(vmcore(h, wild), false),
    (e: Error) => e instanceof KdumpkitError && /0x1234/.test(e.message),
  );
  // frame table pointing half past the end of memory: those entries unreadable → kept, counted
  const half = h.mem.slice();
  u64(half, 0x401008, 0xffff830000000000n + BigInt(N * PS - (N / 2) * 40));
  const r = keptBy(vmcore(h, half), false);
  assert.ok(r.plan.xen.frames!.unreadable > 0);
  for (let p = N / 2; p < N; p++)
    if (r.plan.xen.frames!.reason[p] !== FRAME_FREE) assert.equal(r.kept[p], true, `pfn ${p}`);
});

test("Xen 3.x and x86_32 4.x -X fuzz: corrupt page_info, bitmap and pointers → typed error or the model's answer", () => {
  for (const make of [hostX86_64, () => hostX86_32([3, 2]), () => hostX86_32([4, 1])]) {
    const h = make();
    const next = unit(h.arch === "x86_64" ? 1064 : 1032);
    const pick0 = h.arch === "x86_64" ? 0x530000 : Number(h.dom0);
    let typed = 0;
    let ok = 0;
    for (let c = 0; c < 40; c++) {
      const mem = h.mem.slice();
      // hot spots: the symbol words, the frame table, the bitmap, the domain list
      const spots =
        h.arch === "x86_64"
          ? [0x401000, 0x500000, 0x520000, 0x530000]
          : [0x4000, 0x400000, 0x160000, 0x150000, 0x101000];
      for (let k = 0; k < 1 + Math.floor(next() * 8); k++) {
        const at = spots[Math.floor(next() * spots.length)]! + Math.floor(next() * 0x2000);
        mem[at] = Math.floor(next() * 256);
      }
      let r: ReturnType<typeof keptBy>;
      try {
        r = keptBy(vmcore(h, mem), false);
      } catch (e) {
        assert.ok(e instanceof KdumpkitError, `case ${c}: ${(e as Error).stack}`);
        typed++;
        continue;
      }
      const kept = r.kept;
      ok++;
      const heapOk = h.arch === "x86_32"; // x86_64: we start the heap at xen_phys_start
      let model: boolean[] | null;
      if (h.version[0] === 4) {
        // Xen's reading with the owner and heap end this run found (the walk is tested apart)
        const end = new DataView(mem.buffer).getUint32(h.translate(h.symbols.xenheap_phys_end)!, true);
        model = makedumpfile4Model(h, mem, h.offDomain, r.plan.xen.frames!.dom0Owner, Math.floor(end / PS));
      } else model = makedumpfileModel(h, mem, h.offDomain, pick0);
      if (!model || !heapOk) continue;
      // a frame we drop, makedumpfile drops too (we keep what we cannot read)
      for (let p = 0; p < N; p++) if (!kept[p]) assert.equal(model[p], false, `case ${c} pfn ${p}`);
    }
    assert.ok(ok > 0 && ok + typed === 40);
  }
});
