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
import type { LoadPlan, PlannedSegment } from "./plan.js";
import { hexAlt, isLoadable, parseXenGuest, type XenGuestInfo, xenPtr } from "./xenguest.js";

export interface XenPlanOptions {
  /**
   * Whether the hypervisor accepts 32-bit PV guests (CONFIG_PV32). Debian's Xen 4.17 is built
   * without it ("Xen  kernel: 64-bit, lsb" — no ", compat32").
   */
  pv32?: boolean;
}

const U64 = (1n << 64n) - 1n;
const OUTLIER_RATIO = 4n;
const OUTLIER_MIN = 64n << 20n;

export function planXen(elf: ElfFile, opts: XenPlanOptions = {}): LoadPlan & { guest: XenGuestInfo } {
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
