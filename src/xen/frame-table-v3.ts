/**
 * `convert -X` for Xen 3.x hypervisors (x86_64 and x86_32), whose frames are told apart by the
 * boot allocator's bitmap and a statically partitioned Xen heap rather than by page states in
 * count_info. Rules of makedumpfile 1.7's exclude_xen3_user_domain (our own code), with the
 * layouts of Xen 3.x's xen/include/asm-x86/mm.h and xen/arch/x86/setup.c:
 * - `unsigned long *alloc_bitmap` (common/page_alloc.c): one bit per machine frame, set when the
 *   frame is allocated (to Xen or a domain); a clear bit is a free frame → dropped;
 * - the Xen heap is [xenheap_phys_start, xenheap_phys_end) (mm.h is_xen_heap_mfn, 3.3); its
 *   frames are kept. makedumpfile takes the start as 0; so do we, except on a relocated x86_64
 *   Xen (3.2–3.3), whose heap starts at xen_phys_start (setup.c: xenheap_phys_end +=
 *   xen_phys_start): below it lie domains' frames, which makedumpfile keeps as "heap";
 * - struct page_info (3.0–3.3): list_head, `u32 count_info` (reference count in the low bits:
 *   PGC_count_mask is 29 bits in 3.0–3.1, 26 in 3.2–3.3; the flags above), then
 *   `u.inuse._domain`, a u32 "pickled" owner; on x86_32 24 bytes. 3.4 made count_info an
 *   unsigned long (flags at the top, PG_shift) and moved `_domain` to `v.inuse`. makedumpfile
 *   reads count_info's low 32 bits and tests `count & 0xffff` for "in use" — kept here;
 * - a frame is kept when its owner is 0 (anonymous), it is in the Xen heap, or it is in use and
 *   owned by dom0; every other allocated frame is dropped.
 * The pickled owner by version and architecture (mm.h pickle_domptr / page_set_owner):
 * x86_32 3.0–3.3: the struct domain's virtual address (u32); x86_64 3.0–3.3: its physical
 * address (u32)__pa(d); 3.4 (both): virt_to_mfn(d), its machine frame.
 *
 * Where this differs from makedumpfile, by design: frames whose bitmap word, count_info or
 * _domain cannot be read are kept and counted (makedumpfile drops the first two and gives up on
 * the third); x86_32 Xen 3.4 owners are frame numbers (makedumpfile compares them with the
 * domain's address and drops dom0's frames); the heap start above; and Xen 3.4–4.0 publish
 * OFFSET(page_info._domain) as offsetof(page_info, u) — the type_info word — which Xen 4.1
 * corrected ("kexec: correct _domain offset info in elf-notes", 2011): we read `v.inuse._domain`
 * one word further on, makedumpfile reads type_info's low half.
 */
import { hex, KdumpkitError, MissingDataError, UnsupportedError } from "../errors.js";
import type { Vmcoreinfo } from "../notes/vmcoreinfo.js";
import {
  FRAME_FREE,
  FRAME_OTHER_DOMAIN,
  type FrameClassifyResult,
  type FrameTableInfo,
  isHypervisorVa,
  isReadFailure,
  newFrameResult,
} from "./frame-table.js";
import type { XenArch } from "./hypervisor.js";
import { compareXenVersion, X86_32_DIRECTMAP_VIRT_START } from "./layout.js";
import type { SymbolTable } from "./symbols.js";

/** Hypervisor memory with its word size (an engine AddressSpace satisfies it). */
export interface XenWordMemory {
  read(va: bigint, length: number, into?: Uint8Array): Uint8Array;
  readonly pointerSize: 4 | 8;
}

/** makedumpfile's fallbacks when SYMBOL(frame_table) is absent (FRAMETABLE_VIRT_START*). */
const FRAMETABLE_X86_32 = 0xf6800000n;
const FRAMETABLE_X86_64_V3 = 0xffff82f600000000n;
/** PGC_xen_heap in Xen 3.4's 64-bit count_info (PG_shift(2) = bit 62): its heap marker. */
const XEN_3_4_HEAP_BIT_HI = 1 << 30;

export interface Xen3FrameInfo extends FrameTableInfo {
  arch: XenArch;
  /** Virtual address of the allocation bitmap (alloc_bitmap's value). */
  allocBitmap: bigint;
  /** Xen heap frames [start, end). */
  heapStartPfn: number;
  heapEndPfn: number;
  /** x86_64 3.4: heap frames are those with PGC_xen_heap (count_info is 64-bit). */
  heapFlag: boolean;
  /** Where the values came from and what was corrected, for reports. */
  notes: string[];
}

function lookup(vi: Vmcoreinfo | undefined, syms: SymbolTable | undefined, name: string): bigint | undefined {
  return vi?.symbol(name) ?? syms?.get(name);
}

export function readWord(mem: XenWordMemory, va: bigint, what: string): bigint {
  try {
    const b = mem.read(va, mem.pointerSize);
    const dv = new DataView(b.buffer, b.byteOffset, b.length);
    return mem.pointerSize === 4 ? BigInt(dv.getUint32(0, true)) : dv.getBigUint64(0, true);
  } catch (e) {
    if (e instanceof MissingDataError || !(e instanceof KdumpkitError || e instanceof RangeError)) throw e;
    throw new UnsupportedError(`cannot read ${what} at ${hex(va)}: ${(e as Error).message}`);
  }
}

/**
 * OFFSET(page_info._domain) as the field really lies: Xen 3.4–4.0 wrote offsetof(page_info, u)
 * (VMCOREINFO_OFFSET_ALIAS(page_info, u, _domain)) after `_domain` had moved into `v`, which
 * follows `u` (one word: type_info). Recognised by the value: right after count_info.
 */
export function domainOffsetFor(
  v: { major: number; minor: number },
  offCountInfo: number,
  offDomain: number,
  wordSize: 4 | 8,
): { offset: number; corrected: boolean } {
  const affected = compareXenVersion(v, 3, 4) >= 0 && compareXenVersion(v, 4, 0) <= 0;
  if (affected && offDomain === offCountInfo + wordSize)
    return { offset: offDomain + wordSize, corrected: true };
  return { offset: offDomain, corrected: false };
}

/**
 * Everything exclude_xen3_user_domain needs, from VMCOREINFO_XEN (Xen ≥ 3.3 writes the page_info
 * size and offsets, frame_table, alloc_bitmap, and xenheap_phys_end except on x86_64 3.4) and
 * xen-syms for what it lacks. Typed errors name what is missing or implausible.
 */
export function xen3FrameInfo(
  mem: XenWordMemory,
  o: {
    arch: XenArch;
    version: { major: number; minor: number };
    vmcoreinfo?: Vmcoreinfo;
    xenSyms?: SymbolTable;
    /** x86_64: where the relocated image (and heap) starts. */
    xenPhysStart?: number;
    /** makedumpfile's heap, [0, xenheap_phys_end): for comparisons with it. */
    heapFromZero?: boolean;
  },
): Xen3FrameInfo {
  const { arch, version, vmcoreinfo: vi, xenSyms: syms } = o;
  const notes: string[] = [];
  const ws = mem.pointerSize;
  const size = vi?.size("page_info");
  const offCountInfo = vi?.offset("page_info.count_info");
  const rawDomain = vi?.offset("page_info._domain");
  if (size === undefined || offCountInfo === undefined || rawDomain === undefined)
    throw new UnsupportedError(
      "Xen 3.x -X needs SIZE(page_info), OFFSET(page_info.count_info) and OFFSET(page_info._domain) from VMCOREINFO_XEN (Xen ≥ 3.3)",
    );
  const dom = domainOffsetFor(version, offCountInfo, rawDomain, ws);
  if (dom.corrected)
    notes.push(
      `OFFSET(page_info._domain) ${rawDomain} is offsetof(u) (Xen ${version.major}.${version.minor}); _domain read at ${dom.offset}`,
    );
  const offDomain = dom.offset;
  if (size < 12 || size > 256 || offCountInfo + 4 > size || offDomain + 4 > size)
    throw new UnsupportedError(
      `SIZE(page_info) ${size} with count_info at ${offCountInfo}, _domain at ${offDomain}`,
    );
  const x64v34 = arch === "x86_64" && compareXenVersion(version, 3, 4) >= 0;
  if (x64v34 && offCountInfo + 8 > size)
    throw new UnsupportedError(`Xen 3.4 page_info: 64-bit count_info at ${offCountInfo} beyond size ${size}`);

  const ftSym = lookup(vi, syms, "frame_table");
  let base: bigint;
  if (ftSym !== undefined) base = readWord(mem, ftSym, "frame_table");
  else {
    base = arch === "x86_32" ? FRAMETABLE_X86_32 : FRAMETABLE_X86_64_V3;
    notes.push(`no SYMBOL(frame_table): FRAMETABLE_VIRT_START ${hex(base)} assumed (makedumpfile's value)`);
  }
  if (!isHypervisorVa(arch, base) || base % 4n !== 0n)
    throw new UnsupportedError(`frame_table holds ${hex(base)}, not a ${arch} hypervisor address`);

  const abSym = lookup(vi, syms, "alloc_bitmap");
  if (abSym === undefined)
    throw new UnsupportedError("Xen 3.x -X needs SYMBOL(alloc_bitmap) (VMCOREINFO_XEN or --xen-syms)");
  const allocBitmap = readWord(mem, abSym, "alloc_bitmap");
  if (!isHypervisorVa(arch, allocBitmap))
    throw new UnsupportedError(`alloc_bitmap holds ${hex(allocBitmap)}, not a ${arch} hypervisor address`);

  let heapStartPfn = 0;
  let heapEndPfn = 0;
  let heapFlag = false;
  const hpeSym = lookup(vi, syms, "xenheap_phys_end");
  if (x64v34) {
    // 3.4 x86_64 has no static heap (xenheap_phys_end is never set there): heap pages carry
    // PGC_xen_heap (mm.h is_xen_heap_page)
    heapFlag = true;
    notes.push("Xen heap: frames with PGC_xen_heap (x86_64 3.4)");
  } else {
    if (hpeSym === undefined)
      throw new UnsupportedError("Xen 3.x -X needs SYMBOL(xenheap_phys_end) (VMCOREINFO_XEN or --xen-syms)");
    const end = readWord(mem, hpeSym, "xenheap_phys_end");
    if (end >= 1n << 52n) throw new UnsupportedError(`xenheap_phys_end ${hex(end)} is not a machine address`);
    heapEndPfn = Number(end >> 12n);
    const startSym = syms?.get("xenheap_phys_start");
    if (o.heapFromZero) notes.push("Xen heap from 0 (makedumpfile's rule)");
    else if (startSym !== undefined) {
      const start = readWord(mem, startSym, "xenheap_phys_start");
      if (start < end) heapStartPfn = Number(start >> 12n);
      notes.push(`Xen heap from xenheap_phys_start ${hex(start)} (xen-syms)`);
    } else if (arch === "x86_64" && o.xenPhysStart !== undefined && o.xenPhysStart < Number(end)) {
      heapStartPfn = Math.floor(o.xenPhysStart / 4096);
      if (heapStartPfn)
        notes.push(`Xen heap from xen_phys_start ${hex(o.xenPhysStart)} (makedumpfile: from 0)`);
    }
  }
  return {
    arch,
    base,
    size,
    offCountInfo,
    offDomain,
    allocBitmap,
    heapStartPfn,
    heapEndPfn,
    heapFlag,
    notes,
  };
}

/**
 * Owner ids as page_info._domain holds them in Xen 3.x (see the file comment); `directMapStart`
 * is the direct map's (x86_64) or 0xff000000 (x86_32). undefined when `domainVa` cannot be one.
 */
export function pickledDomainIdV3(
  arch: XenArch,
  version: { major: number; minor: number },
  domainVa: bigint,
  directMapStart: bigint,
): number | undefined {
  const v34 = compareXenVersion(version, 3, 4) >= 0;
  if (arch === "x86_32") {
    if (domainVa >= 1n << 32n) return undefined;
    if (!v34) return Number(domainVa);
    const off = domainVa - X86_32_DIRECTMAP_VIRT_START;
    return off < 0n ? undefined : Number(off >> 12n);
  }
  const off = domainVa - directMapStart;
  if (off < 0n || off >= 1n << 52n) return undefined;
  return v34 ? Number(off >> 12n) : Number(off & 0xffffffffn);
}

export interface Xen3ClassifyOptions {
  maxPfn: number;
  exists(pfn: number): boolean;
  keepOwners: ReadonlySet<number>;
}

/**
 * Classify machine frames by Xen 3.x's rules (file comment). page_info and the bitmap are read
 * 512 frames at a time; an unreadable page_info window is retried entry by entry, an unreadable
 * bitmap window leaves its frames kept and counted.
 */
export function classifyFramesXen3(
  mem: XenWordMemory,
  ft: Xen3FrameInfo,
  o: Xen3ClassifyOptions,
): FrameClassifyResult {
  const { maxPfn } = o;
  const res = newFrameResult(maxPfn);
  const reason = res.reason;
  const WINDOW = 512;
  const sz = ft.size;
  const buf = new Uint8Array(WINDOW * sz);
  const dv = new DataView(buf.buffer);
  const ok = new Uint8Array(WINDOW);
  const bits = new Uint8Array(WINDOW / 8);
  const top = ft.arch === "x86_32" ? 1n << 32n : 1n << 64n;
  const at = (va: bigint, what: string, pfn: number): bigint => {
    if (va >= top) throw new UnsupportedError(`${what} of frame ${hex(pfn)} lies beyond the address space`);
    return va;
  };
  for (let w0 = 0; w0 < maxPfn; w0 += WINDOW) {
    const n = Math.min(WINDOW, maxPfn - w0);
    let any = false;
    for (let i = 0; i < n && !any; i++) any = o.exists(w0 + i);
    if (!any) continue;
    let bitsOk = true;
    try {
      mem.read(at(ft.allocBitmap + BigInt(w0 / 8), "alloc_bitmap", w0), Math.ceil(n / 8), bits);
    } catch (e) {
      if (!isReadFailure(e)) throw e;
      bitsOk = false;
    }
    ok.fill(0, 0, n);
    try {
      mem.read(at(ft.base + BigInt(w0 * sz), "page_info", w0), n * sz, buf.subarray(0, n * sz));
      ok.fill(1, 0, n);
    } catch (e) {
      if (!isReadFailure(e)) throw e;
      for (let i = 0; i < n; i++) {
        if (!o.exists(w0 + i)) continue;
        try {
          mem.read(
            at(ft.base + BigInt((w0 + i) * sz), "page_info", w0 + i),
            sz,
            buf.subarray(i * sz, (i + 1) * sz),
          );
          ok[i] = 1;
        } catch (e2) {
          if (!isReadFailure(e2)) throw e2;
        }
      }
    }
    for (let i = 0; i < n; i++) {
      const pfn = w0 + i;
      if (!o.exists(pfn)) continue;
      if (!bitsOk) {
        res.unreadable++;
        continue;
      }
      if (!(bits[i >> 3]! & (1 << (i & 7)))) {
        reason[pfn] = FRAME_FREE;
        res.free++;
        continue;
      }
      if (!ok[i]) {
        res.unreadable++;
        continue;
      }
      const e = i * sz;
      const owner = dv.getUint32(e + ft.offDomain, true);
      const count = dv.getUint32(e + ft.offCountInfo, true);
      const inHeap = ft.heapFlag
        ? (dv.getUint32(e + ft.offCountInfo + 4, true) & XEN_3_4_HEAP_BIT_HI) !== 0
        : pfn >= ft.heapStartPfn && pfn < ft.heapEndPfn;
      if (owner === 0 || inHeap || ((count & 0xffff) !== 0 && o.keepOwners.has(owner))) {
        res.owners.set(owner, (res.owners.get(owner) ?? 0) + 1);
        continue;
      }
      reason[pfn] = FRAME_OTHER_DOMAIN;
      res.otherDomain++;
    }
  }
  return res;
}
