/**
 * Xen's PV domain builder placing a guest kernel (xen/arch/x86/pv/dom0_build.c and libelf's
 * elf_load_binary, RELEASE-4.17.7): each loadable PT_LOAD is copied to the guest virtual address
 * p_paddr − elf_paddr_offset + virt_base (elf_get_ptr with dest_base = virt_kstart), p_filesz
 * bytes copied and p_memsz − p_filesz zeroed; the kernel occupies [virt_kstart, virt_kend),
 * computed from p_paddr — never from p_vaddr. A loader that used p_vaddr instead would think an
 * x86_64 image with a vsyscall segment near the top of the address space (or OpenSolaris'
 * kernel at 0xfb400000) needs gigabytes; the plan contrasts the two.
 */
import type { ElfFile } from "../elf/reader.js";
import { EM_386, EM_X86_64 } from "../elf/types.js";
import { hex } from "../errors.js";
import { checkPlanSegments, type LoadPlan, type PlannedSegment } from "./plan.js";
import { hexAlt, isLoadable, parseXenGuest, type XenGuestInfo, xenPtr } from "./xenguest.js";

export interface XenPlanOptions {
  /**
   * Whether the hypervisor accepts 32-bit PV guests (CONFIG_PV32). Debian's Xen 4.17 is built
   * without it ("Xen  kernel: 64-bit, lsb" — no ", compat32").
   */
  pv32?: boolean;
  /**
   * Dom0's pages (dom0_mem / 4 KiB): with it the plan also reproduces dom0_build.c's
   * "VIRTUAL MEMORY ARRANGEMENT" (p2m, start info, page tables, boot stack, total).
   */
  dom0Pages?: number;
  /** Initrd size in bytes (mapped after the kernel unless the kernel asks MOD_START_PFN). */
  initrdLen?: number;
}

/** sizeof(struct start_info) and sizeof(struct dom0_vga_console_info) on x86_64 (public/xen.h). */
const START_INFO_64 = 0x490n;
const VGA_CONSOLE_INFO = 0x28n;
const PAGE = 0x1000n;
/** 64-bit PV: the hypervisor's reserved slot of the guest address space (asm-x86/config.h). */
const HYPERVISOR_VIRT_START = 0xffff800000000000n;
const HYPERVISOR_VIRT_END = 0xffff880000000000n;

export interface Dom0VirtualLayout {
  vinitrd?: [bigint, bigint];
  vphysmap: [bigint, bigint];
  vstartinfo: [bigint, bigint];
  vpt: [bigint, bigint];
  nrPtPages: number;
  vstack: [bigint, bigint];
  vStart: bigint;
  vEnd: bigint;
  errors: string[];
}

/**
 * dom0_build.c's address arrangement for a 64-bit PV dom0 (RELEASE-4.17.7 dom0_construct_pv):
 * initrd (unless unmapped) and the p2m after the kernel, then start info, page tables — their
 * count found by the same search over L4/L3/L2 coverage of [v_start, v_end) — a boot stack,
 * and v_end rounded up to 4 MiB with at least 512 KiB of padding.
 */
export function dom0VirtualLayout(guest: XenGuestInfo, nrPages: number, initrdLen = 0): Dom0VirtualLayout {
  const up = (v: bigint) => (v + PAGE - 1n) & ~(PAGE - 1n) & U64;
  const errors: string[] = [];
  const vStart = guest.virtBase;
  let vinitrd: [bigint, bigint] | undefined;
  let vphysmapStart: bigint;
  if (guest.unmappedInitrd) vphysmapStart = up(guest.virtKend);
  else {
    const a = up(guest.virtKend);
    vinitrd = [a, a + BigInt(initrdLen)];
    vphysmapStart = up(vinitrd[1]);
  }
  let vphysmapEnd = vphysmapStart + BigInt(nrPages) * 8n;
  if (guest.p2mBase !== undefined) vphysmapEnd = vphysmapStart;
  const siStart = up(vphysmapEnd);
  const vptStart = up(siStart + START_INFO_64);
  const siEnd = siStart + START_INFO_64 + VGA_CONSOLE_INFO;
  const nr = (l: bigint, h: bigint, sh: bigint) => {
    const m = (1n << sh) - 1n;
    return (((h + m) & ~m) - (l & ~m)) >> sh;
  };
  let n = 2n;
  let vptEnd = 0n;
  let vEnd = 0n;
  let stack: [bigint, bigint] = [0n, 0n];
  for (; n < 1n << 20n; n++) {
    vptEnd = vptStart + n * PAGE;
    stack = [vptEnd, vptEnd + PAGE];
    vEnd = (stack[1] + (1n << 22n) - 1n) & ~((1n << 22n) - 1n);
    if (vEnd - stack[1] < 512n << 10n) vEnd += 1n << 22n;
    if (1n + nr(vStart, vEnd, 39n) + nr(vStart, vEnd, 30n) + nr(vStart, vEnd, 21n) <= n) break;
  }
  let count = vEnd - vStart;
  if (vinitrd) count -= up(BigInt(initrdLen));
  let order = 0n;
  while (PAGE << order < count) order++;
  if ((1n << order) + (BigInt(initrdLen) + PAGE - 1n) / PAGE > BigInt(nrPages))
    errors.push("Domain 0 allocation is too small for kernel image");
  const vphysmap: [bigint, bigint] =
    guest.p2mBase !== undefined
      ? [guest.p2mBase, guest.p2mBase + BigInt(nrPages) * 8n]
      : [vphysmapStart, vphysmapEnd];
  if (vStart < HYPERVISOR_VIRT_END && vEnd > HYPERVISOR_VIRT_START)
    errors.push("DOM0 image overlaps with Xen private area.");
  const out: Dom0VirtualLayout = {
    vphysmap,
    vstartinfo: [siStart, siEnd],
    vpt: [vptStart, vptEnd],
    nrPtPages: Number(n),
    vstack: stack,
    vStart,
    vEnd,
    errors,
  };
  if (vinitrd) out.vinitrd = vinitrd;
  return out;
}

const U64 = (1n << 64n) - 1n;
const OUTLIER_RATIO = 4n;
const OUTLIER_MIN = 64n << 20n;

export function planXen(elf: ElfFile, opts: XenPlanOptions = {}): LoadPlan & { guest: XenGuestInfo } {
  checkPlanSegments(elf);
  const guest = parseXenGuest(elf);
  const warnings: string[] = [];
  const errors: string[] = [];
  const console: string[] = [];
  if (guest.error) errors.push(guest.error);
  const machine = elf.header.machine;
  const is64 = elf.class === 64;
  // dom0_build.c (4.17.7) compatibility check and its printout
  let pae = guest.pae !== "no";
  let compatible = false;
  if (!is64) {
    if (!opts.pv32) {
      errors.push(
        "Found 32-bit PV kernel, but CONFIG_PV32 missing (a hypervisor built with CONFIG_PV32 loads it)",
      );
    } else {
      if (guest.pae === "bimodal") pae = true;
      if (pae && machine === EM_386) compatible = true;
    }
  }
  if (is64 && machine === EM_X86_64) compatible = true;
  if (!elf.littleEndian) compatible = false;
  if (!guest.error) {
    console.push(
      `Dom0 kernel: ${is64 ? "64" : "32"}-bit${pae ? ", PAE" : ""}, ${elf.littleEndian ? "lsb" : "msb"}, paddr ${hexAlt(guest.pstart)} -> ${hexAlt(guest.pend)}`,
    );
    if (!compatible && (is64 || opts.pv32)) {
      console.push("Mismatch between Xen and DOM0 kernel");
      errors.push(
        `Mismatch between Xen and DOM0 kernel${!is64 ? " (a 64-bit Xen runs 32-bit PV kernels only with PAE, EM_386)" : ""}`,
      );
    }
    console.push(`Loaded kernel: ${xenPtr(guest.virtKstart)}->${xenPtr(guest.virtKend)}`);
    if (opts.dom0Pages !== undefined && is64) {
      const l = dom0VirtualLayout(guest, opts.dom0Pages, opts.initrdLen ?? 0);
      const r = (a: [bigint, bigint]) => `${xenPtr(a[0])}->${xenPtr(a[1])}`;
      if (l.vinitrd && (opts.initrdLen ?? 0) > 0) console.push(`Init. ramdisk: ${r(l.vinitrd)}`);
      console.push(`Phys-Mach map: ${r(l.vphysmap)}`);
      console.push(`Start info:    ${r(l.vstartinfo)}`);
      console.push(`Page tables:   ${r(l.vpt)}`);
      console.push(`Boot stack:    ${r(l.vstack)}`);
      console.push(`TOTAL:         ${r([l.vStart, l.vEnd])}`);
      errors.push(...l.errors);
    }
    console.push(`ENTRY ADDRESS: ${xenPtr(guest.virtEntry)}`);
  }

  const loads = elf.programHeaders.filter(isLoadable);
  const segments: PlannedSegment[] = [];
  let total = 0n;
  const destSize = guest.virtKend - guest.virtKstart;
  for (const p of loads) {
    const v = (p.paddr - guest.elfPaddrOffset + guest.virtBase) & U64;
    const w: string[] = [];
    if (p.vaddr !== v)
      w.push(
        `p_vaddr ${hex(p.vaddr)} differs from where Xen places it (${hex(v)}): a vaddr-based loader puts it elsewhere`,
      );
    total += BigInt(p.memsz);
    segments.push({
      index: p.index,
      label: `LOAD ${p.index}`,
      source: { space: "file", start: BigInt(p.offset), end: BigInt(p.offset + p.filesz) },
      dest: { space: "virtual", start: v, end: v + BigInt(p.memsz) },
      alsoAt: [
        // a PV guest's pseudo-physical address is its virtual address minus virt_base
        { space: "guest-physical", start: v - guest.virtBase, end: v - guest.virtBase + BigInt(p.memsz) },
        // where a loader that trusted p_vaddr would put it
        { space: "virtual", start: p.vaddr, end: p.vaddr + BigInt(p.memsz) },
      ],
      copied: p.filesz,
      zeroed: p.memsz - p.filesz,
      op: "load",
      warnings: w,
    });
  }
  // The trap of old kernels whose paddr equals vaddr: with the legacy __xen_guest string libelf
  // defaults ELF_PADDR_OFFSET to VIRT_BASE for them; with ELF notes the default is 0, so such a
  // kernel lands at vaddr + virt_base unless it states PADDR_OFFSET.
  if (
    (!guest.error || /out of bounds/.test(guest.error)) &&
    guest.source !== "__xen_guest" &&
    guest.virtBase !== 0n &&
    guest.elfPaddrOffset === 0n &&
    !guest.notes.some((n) => n.name === "PADDR_OFFSET") &&
    loads.length > 0 &&
    loads.every((p) => p.paddr === p.vaddr)
  )
    warnings.push(
      `every p_paddr equals its p_vaddr but the notes give no PADDR_OFFSET: libelf uses 0 and places the kernel at p_vaddr + ${hex(guest.virtBase)} (the legacy __xen_guest path would have used VIRT_BASE)`,
    );
  if (!guest.error && guest.virtKend < guest.virtKstart)
    warnings.push("paddr + virt_offset wraps past the top of the address space");
  // elf_load_binary: "Let bizarre ELFs write the output image up to twice"
  if (!guest.error && total > destSize * 2n)
    errors.push("program segments total to more than the input image size (libelf refuses: O(n^2) guard)");
  if (guest.virtHypercall !== undefined && !guest.error) {
    if (guest.virtHypercall < guest.virtBase || guest.virtHypercall >= guest.virtKend)
      warnings.push(`HYPERCALL_PAGE ${hex(guest.virtHypercall)} lies outside the kernel's mapping`);
  }
  // the naive vaddr span, and which segment inflates it
  let naive: LoadPlan["naiveFootprint"];
  if (loads.length > 0) {
    const span = (list: typeof loads) => {
      let lo = U64;
      let hi = 0n;
      for (const p of list) {
        if (p.vaddr < lo) lo = p.vaddr;
        const e = p.vaddr + BigInt(p.memsz);
        if (e > hi) hi = e;
      }
      return { lo, hi };
    };
    const all = span(loads);
    const size = all.hi - all.lo;
    const culprits: string[] = [];
    if (loads.length > 1) {
      for (const p of loads) {
        const rest = span(loads.filter((q) => q !== p));
        const rsize = rest.hi - rest.lo;
        if (size > rsize * OUTLIER_RATIO && size - rsize > OUTLIER_MIN)
          culprits.push(`LOAD ${p.index} at ${hex(p.vaddr)}`);
      }
    }
    const real = guest.pend - guest.pstart;
    const note =
      size > real * 2n && size - real > OUTLIER_MIN
        ? `a loader spanning p_vaddr would reserve ${hex(size)} bytes (${mib(size)}) instead of ${hex(real)} (${mib(real)})${culprits.length ? `; inflated by ${culprits.join(", ")}` : ""}`
        : `the p_vaddr span (${mib(size)}) agrees with the p_paddr footprint`;
    if (size > real * 2n && size - real > OUTLIER_MIN) warnings.push(note);
    naive = { space: "virtual", start: all.lo, end: all.hi, size: Number(size), note };
  }
  const plan: LoadPlan & { guest: XenGuestInfo } = {
    loader: "xen",
    summary: `Xen PV domain builder (libelf): virt_base ${hex(guest.virtBase)}, elf_paddr_offset ${hex(guest.elfPaddrOffset)} (${guest.source})`,
    segments,
    overlaps: [],
    footprint: {
      space: "virtual",
      start: guest.virtKstart,
      end: guest.virtKend,
      size: Number(guest.pend > guest.pstart ? guest.pend - guest.pstart : 0n),
    },
    entry: [
      { mode: "virtual", address: guest.virtEntry },
      { mode: "guest-physical", address: (guest.virtEntry - guest.virtBase) & U64 },
    ],
    regions: [],
    console,
    warnings,
    errors,
    guest,
  };
  if (naive) plan.naiveFootprint = naive;
  return plan;
}

function mib(n: bigint): string {
  const units = ["MiB", "GiB", "TiB", "PiB", "EiB"];
  let v = Number(n) / (1 << 20);
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}
