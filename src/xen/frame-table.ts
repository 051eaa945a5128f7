/**
 * Xen's frame table: one `struct page_info` per machine frame (indexed by PDX), found through
 * VMCOREINFO_XEN (SYMBOL(frame_table) holds the address of a pointer to FRAMETABLE_VIRT_START,
 * SIZE(page_info), OFFSET(page_info.count_info), OFFSET(page_info._domain); Xen common/kexec.c
 * crash_save_vmcoreinfo). Used by `convert -X` to keep the hypervisor's and dom0's frames and
 * drop the other domains' and Xen's free ones, as makedumpfile 1.7's exclude_xen4_user_domain
 * does (our own code from its rules and Xen's headers).
 *
 * count_info's flags sit at the top of the 64-bit word (PG_shift(idx) = 64 − idx) and moved
 * between versions (xen/include/asm-x86/mm.h, later xen/arch/x86/include/asm/mm.h):
 * - 4.0–4.16: PGC_allocated 63, PGC_xen_heap 62, PGC_page_table 61, cacheattr 58–60,
 *   PGC_broken 57, PGC_state 55–56 (4.14–4.16 add PGC_extra at 54);
 * - 4.17 and later: PGC_allocated 63, PGC_xen_heap 62, PGC_broken 60, PGC_state 58–59
 *   (the cacheattr bits were dropped). makedumpfile 1.7.2 hard-codes the older layout.
 * A page's owner (`v.inuse._domain`) is "pickled": the PDX of its struct domain's direct-map
 * address (page_set_owner: virt_to_pdx), 32 bits without CONFIG_BIGMEM.
 *
 * x86_32 hosts (Xen 4.0–4.2; 4.3 dropped them) use the same headers with BITS_PER_LONG 32:
 * count_info is one 32-bit word, PGC_allocated 31, PGC_xen_heap 30, PGC_broken 25, PGC_state
 * 23–24; page_info is 24 bytes (list 8, count_info at 8, type_info at 12, `_domain` at 16); the
 * owner is virt_to_pdx(d), the struct domain's frame (no PDX compression there). The Xen heap is
 * a separate range, [0, xenheap_phys_end) (mm.h is_xen_heap_mfn for __i386__), whose frames carry
 * no PGC_xen_heap; a free frame in it is still PGC_state_free.
 *
 * Frames whose page_info cannot be read are kept and counted (makedumpfile drops them).
 */
import { hex, KdumpkitError, LimitError, MissingDataError, UnsupportedError } from "../errors.js";
import type { Vmcoreinfo } from "../notes/vmcoreinfo.js";
import type { XenArch } from "./hypervisor.js";
import { compareXenVersion, X86_32_HYPERVISOR_VIRT_START_PAE } from "./layout.js";

/** Hypervisor virtual memory, structurally (XenVirtualSpace satisfies it). */
export interface XenMemory {
  read(va: bigint, length: number, into?: Uint8Array): Uint8Array;
}

/** count_info bit positions (of the 64-bit word) for one Xen version range. */
export interface PgcLayout {
  allocated: number;
  xenHeap: number;
  broken: number;
  /** Lowest bit of the 2-bit page state (0 inuse, 1 offlining, 2 offlined, 3 free). */
  state: number;
  /** Which headers these come from, for messages. */
  name: string;
}

export const PGC_XEN_4_0: PgcLayout = {
  allocated: 63,
  xenHeap: 62,
  broken: 57,
  state: 55,
  name: "Xen 4.0–4.16",
};
export const PGC_XEN_4_17: PgcLayout = {
  allocated: 63,
  xenHeap: 62,
  broken: 60,
  state: 58,
  name: "Xen ≥ 4.17",
};

/** Xen 4.0–4.2 on x86_32: the 4.0 flags at the top of a 32-bit count_info. */
export const PGC_XEN_4_0_X86_32: PgcLayout = {
  allocated: 31,
  xenHeap: 30,
  broken: 25,
  state: 23,
  name: "Xen 4.0–4.2 x86_32",
};

/** The count_info layout of a Xen version (Xen 4.0 and later; x86_32 only to 4.2). */
export function pgcLayoutFor(v: { major: number; minor: number }, arch: XenArch = "x86_64"): PgcLayout {
  if (v.major < 4)
    throw new UnsupportedError(
      `Xen ${v.major}.${v.minor}: domain filtering needs Xen 4 (Xen 3 kept an alloc_bitmap instead)`,
    );
  if (arch === "x86_32") {
    if (compareXenVersion(v, 4, 3) >= 0)
      throw new UnsupportedError(`Xen ${v.major}.${v.minor} on x86_32: Xen 4.3 and later run on x86_64 only`);
    return PGC_XEN_4_0_X86_32;
  }
  return compareXenVersion(v, 4, 17) >= 0 ? PGC_XEN_4_17 : PGC_XEN_4_0;
}

export interface FrameTableInfo {
  /** FRAMETABLE_VIRT_START: page_info of PDX 0. */
  base: bigint;
  size: number;
  offCountInfo: number;
  offDomain: number;
  /** count_info's width (unsigned long): 8, or 4 on x86_32. Absent: 8. */
  countInfoBytes?: 4 | 8;
}

const MASK64 = (1n << 64n) - 1n;

/** Is `va` a plausible hypervisor address of this architecture? */
export function isHypervisorVa(arch: XenArch, va: bigint): boolean {
  return arch === "x86_32"
    ? va >= X86_32_HYPERVISOR_VIRT_START_PAE && va < 1n << 32n
    : va >= 0xffff800000000000n && va < 1n << 64n;
}

/**
 * Where the frame table is and how its entries look, from VMCOREINFO_XEN (SYMBOL(frame_table) is
 * the address of a pointer holding FRAMETABLE_VIRT_START: a word of the hypervisor's size).
 */
export function frameTableInfo(mem: XenMemory, vi: Vmcoreinfo, arch: XenArch = "x86_64"): FrameTableInfo {
  const sym = vi.symbol("frame_table");
  const size = vi.size("page_info");
  const offCountInfo = vi.offset("page_info.count_info");
  const offDomain = vi.offset("page_info._domain");
  if (sym === undefined || size === undefined || offCountInfo === undefined || offDomain === undefined)
    throw new UnsupportedError(
      "Xen domain filtering needs SYMBOL(frame_table), SIZE(page_info), OFFSET(page_info.count_info) and OFFSET(page_info._domain) in VMCOREINFO_XEN",
    );
  const w = arch === "x86_32" ? 4 : 8;
  if (size < 4 * w || size > 256 || offCountInfo + w > size || offDomain + 4 > size)
    throw new UnsupportedError(
      `SIZE(page_info) ${size} with count_info at ${offCountInfo}, _domain at ${offDomain}`,
    );
  const b = mem.read(sym & MASK64, w);
  const dv = new DataView(b.buffer, b.byteOffset, w);
  const base = w === 4 ? BigInt(dv.getUint32(0, true)) : dv.getBigUint64(0, true);
  // FRAMETABLE_VIRT_START lies in the hypervisor's part of the address space; anything else is not it
  if (!isHypervisorVa(arch, base) || base % BigInt(w) !== 0n)
    throw new UnsupportedError(`frame_table at ${hex(sym)} holds ${hex(base)}, not a hypervisor address`);
  return { base, size, offCountInfo, offDomain, countInfoBytes: w };
}

/** Reason codes of the machine-frame classification (one byte per frame). */
export const FRAME_KEEP = 0;
/** PGC_allocated to a domain that is not selected (a domU, dom_io, dom_cow). */
export const FRAME_OTHER_DOMAIN = 1;
/** Xen's free, offlined or broken frames. */
export const FRAME_FREE = 2;

export interface FrameClassifyOptions {
  /** Frames 0 … maxPfn − 1. */
  maxPfn: number;
  /** Does the dump hold this machine frame? Others are not looked at. */
  exists(pfn: number): boolean;
  /** Pickled owner ids (PDX of struct domain) whose pages are kept. */
  keepOwners: ReadonlySet<number>;
  layout: PgcLayout;
  /** PDX compression: pfn → pdx (absent: pdx = pfn). */
  pfnToPdx?: (pfn: number) => number;
  /**
   * x86_32: frames below this are the Xen heap (is_xen_heap_mfn), kept unless free, offlined
   * or broken. Absent: the heap is what carries PGC_xen_heap (x86_64).
   */
  heapEndPfn?: number;
}

export interface FrameClassifyResult {
  /** FRAME_* per machine frame. */
  reason: Uint8Array;
  otherDomain: number;
  free: number;
  /** Frames whose page_info could not be read: kept. */
  unreadable: number;
  /** Frames kept per pickled owner (0 = anonymous / Xen's own). */
  owners: Map<number, number>;
}

export const MAX_FRAMES = 2 ** 28;

/** A failed read of a frame's data (kept and counted), not a missing input (rethrown). */
export function isReadFailure(e: unknown): boolean {
  if (e instanceof MissingDataError) return false;
  return e instanceof KdumpkitError || e instanceof RangeError;
}

/** An empty classification of `maxPfn` frames, the count bounded (shared by both generations). */
export function newFrameResult(maxPfn: number): FrameClassifyResult {
  if (!Number.isSafeInteger(maxPfn) || maxPfn < 0 || maxPfn > MAX_FRAMES)
    throw new LimitError("machine frames to classify", maxPfn, MAX_FRAMES);
  return { reason: new Uint8Array(maxPfn), otherDomain: 0, free: 0, unreadable: 0, owners: new Map() };
}

/**
 * Classify machine frames by their page_info (makedumpfile exclude_xen4_user_domain's rules):
 * Xen heap → keep; free / offlined / broken → drop; not PGC_allocated (Xen's static data, page
 * tables) → keep; owner 0 → keep; owner selected → keep; else drop. page_info is read 512
 * entries at a time; an unreadable window is retried entry by entry.
 */
export function classifyFrames(
  mem: XenMemory,
  ft: FrameTableInfo,
  o: FrameClassifyOptions,
): FrameClassifyResult {
  const { maxPfn } = o;
  const res = newFrameResult(maxPfn);
  const reason = res.reason;
  // the flags as bits of count_info's 32-bit word that holds them (the high half of a 64-bit one)
  const wide = (ft.countInfoBytes ?? 8) === 8;
  const low = wide ? 32 : 0;
  const flagsAt = ft.offCountInfo + (wide ? 4 : 0);
  const hiBit = (b: number) => 2 ** (b - low);
  const allocated = hiBit(o.layout.allocated);
  const xenHeap = hiBit(o.layout.xenHeap);
  const broken = hiBit(o.layout.broken);
  const stateShift = o.layout.state - low;
  const heapEnd = o.heapEndPfn ?? 0;
  const WINDOW = 512;
  const sz = ft.size;
  const buf = new Uint8Array(WINDOW * sz);
  const dv = new DataView(buf.buffer);
  const ok = new Uint8Array(WINDOW);
  const toPdx = o.pfnToPdx;
  const readEntry = (pfn: number, into: Uint8Array) =>
    mem.read(ft.base + BigInt((toPdx ? toPdx(pfn) : pfn) * sz), sz, into);
  for (let w0 = 0; w0 < maxPfn; w0 += WINDOW) {
    const n = Math.min(WINDOW, maxPfn - w0);
    let any = false;
    for (let i = 0; i < n && !any; i++) any = o.exists(w0 + i);
    if (!any) continue;
    ok.fill(0, 0, n);
    if (!toPdx) {
      try {
        mem.read(ft.base + BigInt(w0 * sz), n * sz, buf.subarray(0, n * sz));
        ok.fill(1, 0, n);
      } catch (e) {
        if (!isReadFailure(e)) throw e;
      }
    }
    if (!ok[0])
      for (let i = 0; i < n; i++) {
        if (!o.exists(w0 + i)) continue;
        try {
          readEntry(w0 + i, buf.subarray(i * sz, (i + 1) * sz));
          ok[i] = 1;
        } catch (e) {
          if (!isReadFailure(e)) throw e;
        }
      }
    for (let i = 0; i < n; i++) {
      const pfn = w0 + i;
      if (!o.exists(pfn)) continue;
      if (!ok[i]) {
        res.unreadable++;
        continue;
      }
      const at = i * sz;
      const hi = dv.getUint32(at + flagsAt, true);
      if (hi & xenHeap) continue;
      const state = (hi >>> stateShift) & 3;
      // 2 offlined, 3 free (1 offlining is still in use)
      if (state >= 2 || hi & broken) {
        reason[pfn] = FRAME_FREE;
        res.free++;
        continue;
      }
      // x86_32's heap by range: its pages shared with a guest are PGC_allocated to that guest
      if (pfn < heapEnd || !(hi & allocated)) continue;
      const owner = dv.getUint32(at + ft.offDomain, true);
      if (owner === 0 || o.keepOwners.has(owner)) {
        res.owners.set(owner, (res.owners.get(owner) ?? 0) + 1);
        continue;
      }
      reason[pfn] = FRAME_OTHER_DOMAIN;
      res.otherDomain++;
    }
  }
  return res;
}

/**
 * A domain's pickled id as page_info._domain holds it: the PDX of its struct domain's page in
 * the direct map (virt_to_pdx; makedumpfile get_xen_info_x86_64 for Xen ≥ 3.4).
 */
export function pickledDomainId(domainVa: bigint, directMapStart: bigint): number | undefined {
  const off = domainVa - directMapStart;
  if (off < 0n || off >= 1n << 52n) return undefined;
  return Number(off >> 12n);
}
