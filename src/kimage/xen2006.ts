/**
 * The Xen PV ELF loader variants discussed in thread 003 (xen-devel, February 2006), as
 * selectable loader versions, for images that today's libelf rejects ("ELF start or entries
 * are out of bounds") or that it places differently:
 * - "2006-loader": the loader before the thread — every p_paddr taken as a virtual address:
 *   guest-physical = p_paddr − VIRT_BASE (the LOAD_OFFSET hack made old Linux kernels write
 *   paddr == vaddr);
 * - "2006-paddr-check": Gerd Hoffmann's first patch (xc_load_elf.c): a segment with
 *   p_paddr == p_vaddr is an old kernel (guest-physical = p_vaddr − VIRT_BASE), any other uses
 *   p_paddr as guest-physical as is — Joe Bonasera's objection: OpenSolaris' p_paddr
 *   0x40000000 is not relative to the kernel start;
 * - "2006-virt-base": Gerd's second patch: p_paddr only, shifted by VIRT_BASE from
 *   __xen_guest; an image whose p_paddr values reach VIRT_BASE is an old kernel (paddr is
 *   virtual: guest-physical = p_paddr − VIRT_BASE); entry = physical e_entry + VIRT_BASE once
 *   the entry-point change was rejected on lkml — Christian Limpach's objection: a valid new
 *   image with a small VIRT_BASE is mistaken for an old one;
 * - "2006-phys-offset": Christian's proposal: PHYS_OFFSET in __xen_guest (default VIRT_BASE);
 *   guest-physical = p_paddr − PHYS_OFFSET, virtual = p_paddr + VIRT_BASE − PHYS_OFFSET
 *   (what libelf later made ELF_PADDR_OFFSET).
 */
import type { ElfFile } from "../elf/reader.js";
import { PT_LOAD } from "../elf/types.js";
import { hex } from "../errors.js";
import { checkPlanSegments, type LoadPlan, type PlannedSegment } from "./plan.js";
import { parseXenGuest } from "./xenguest.js";

export const XEN_2006_LOADERS = [
  "2006-loader",
  "2006-paddr-check",
  "2006-virt-base",
  "2006-phys-offset",
] as const;
export type Xen2006Loader = (typeof XEN_2006_LOADERS)[number];

const U64 = (1n << 64n) - 1n;

/** A hex number of a __xen_guest "KEY=value" pair (values are hex there). */
function guestValue(s: string | undefined, key: string): bigint | undefined {
  const m = s ? new RegExp(`(?:^|,)${key}=(?:0x)?([0-9a-fA-F]+)`).exec(s) : null;
  return m ? BigInt(`0x${m[1]}`) : undefined;
}

export function planXen2006(elf: ElfFile, variant: Xen2006Loader): LoadPlan {
  checkPlanSegments(elf);
  const guest = parseXenGuest(elf);
  const warnings: string[] = [];
  const errors: string[] = [];
  const gi = guest.guestInfo;
  const virtBase = guestValue(gi, "VIRT_BASE") ?? (guest.virtBase !== undefined ? guest.virtBase : 0n);
  if (!gi) warnings.push("no __xen_guest section: the 2006 loaders read VIRT_BASE from it (0 assumed)");
  const physOffset = guestValue(gi, "PHYS_OFFSET") ?? virtBase;
  const loads = elf.programHeaders.filter((p) => p.type === PT_LOAD);
  const oldKernel = loads.some((p) => p.paddr >= virtBase) && virtBase !== 0n;
  const segments: PlannedSegment[] = [];
  let lo = U64;
  let hi = 0n;
  for (const p of loads) {
    let phys: bigint;
    let why: string;
    switch (variant) {
      case "2006-loader":
        phys = p.paddr - virtBase;
        why = "p_paddr − VIRT_BASE (paddr taken as virtual)";
        break;
      case "2006-paddr-check":
        if (p.paddr === p.vaddr) {
          phys = p.vaddr - virtBase;
          why = "p_paddr == p_vaddr: old kernel, p_vaddr − VIRT_BASE";
        } else {
          phys = p.paddr;
          why = "p_paddr as guest-physical";
        }
        break;
      case "2006-virt-base":
        phys = oldKernel ? p.paddr - virtBase : p.paddr;
        why = oldKernel
          ? "p_paddr reaches VIRT_BASE: old kernel, p_paddr − VIRT_BASE"
          : "p_paddr as guest-physical";
        break;
      case "2006-phys-offset":
        phys = p.paddr - physOffset;
        why = `p_paddr − PHYS_OFFSET ${hex(physOffset)}`;
        break;
    }
    const size = BigInt(p.memsz);
    if (phys < 0n) {
      errors.push(`LOAD ${p.index}: ${why} is negative (${hex(p.paddr)} below the offset)`);
      phys = 0n;
    }
    const virt = (phys + virtBase) & U64;
    if (phys < lo) lo = phys;
    if (phys + size > hi) hi = phys + size;
    segments.push({
      index: p.index,
      label: `LOAD ${p.index}`,
      source: { space: "file", start: BigInt(p.offset), end: BigInt(p.offset + p.filesz) },
      dest: { space: "guest-physical", start: phys, end: phys + BigInt(p.filesz) },
      alsoAt: [{ space: "virtual", start: virt, end: virt + size }],
      copied: p.filesz,
      zeroed: p.memsz - p.filesz,
      op: "copy",
      warnings: [why],
    });
  }
  if (loads.length && hi >= 256n << 20n)
    warnings.push(
      `the image reaches guest-physical ${hex(hi)}: a domain needs that much memory to hold it (p_paddr is not relative to the kernel start)`,
    );
  // entry: virtual; 2006-virt-base adds VIRT_BASE to a physical e_entry
  let entry = elf.header.entry;
  if (variant === "2006-virt-base" && entry < virtBase) entry += virtBase;
  const kstart = (lo + virtBase) & U64;
  const kend = (hi + virtBase) & U64;
  if (loads.length && (entry < kstart || entry >= kend))
    errors.push(`entry ${hex(entry)} lies outside the kernel mapping ${hex(kstart)}-${hex(kend - 1n)}`);
  if (variant === "2006-virt-base" && oldKernel && loads.every((p) => p.paddr !== p.vaddr))
    warnings.push(
      "p_paddr reaches VIRT_BASE while differing from p_vaddr: a new-style image with a small VIRT_BASE would be mistaken for an old one here (Christian Limpach's objection)",
    );
  return {
    loader: "xen",
    summary: `Xen PV loader ${variant} (thread 003, 2006): VIRT_BASE ${hex(virtBase)}${variant === "2006-phys-offset" ? `, PHYS_OFFSET ${hex(physOffset)}` : ""}`,
    segments,
    overlaps: [],
    footprint: { space: "guest-physical", start: lo, end: hi, size: Number(hi - lo) },
    entry: [
      { mode: "virtual", address: entry },
      { mode: "guest-physical", address: (entry - virtBase) & U64 },
    ],
    regions: [],
    console: [],
    warnings,
    errors,
  };
}
