/**
 * The hypervisor's virtual layout by Xen version and architecture (xen/include/asm-x86/config.h,
 * later xen/arch/x86/include/asm/config.h), as dump readers need it: x86_64 for every version,
 * x86_32 for the 3.x hypervisors (removed in Xen 4.3).
 */

/** A Xen version as CRASH_INFO gives it: numbers, plus the "extra" string (".7", "-rc"). */
export interface XenVersion {
  major: number;
  minor: number;
  extra?: string;
}

export function formatXenVersion(v: XenVersion): string {
  return `${v.major}.${v.minor}${v.extra ?? ""}`;
}

/** -1, 0, 1 comparing (major, minor). */
export function compareXenVersion(a: { major: number; minor: number }, major: number, minor: number): number {
  if (a.major !== major) return a.major < major ? -1 : 1;
  if (a.minor !== minor) return a.minor < minor ? -1 : 1;
  return 0;
}

/**
 * Where the Xen image (text, data, bss) is mapped, by version. The image occupies
 * [XEN_VIRT_START, +1 GiB) and maps linearly onto [xen_phys_start, +1 GiB).
 * - 3.x: 0xffff828c80000000 (makedumpfile XEN_VIRT_START_V3)
 * - 4.0–4.2: 0xffff82c480000000
 * - 4.3: 0xffff82c4c0000000 (vmap area inserted below)
 * - 4.4–4.13: 0xffff82d080000000
 * - 4.14 and later: 0xffff82d040000000 (the compat M2P read-only window was dropped)
 */
export function xenVirtStartForVersion(v: { major: number; minor: number }): bigint {
  if (v.major < 4) return 0xffff828c80000000n;
  if (compareXenVersion(v, 4, 3) < 0) return 0xffff82c480000000n;
  if (compareXenVersion(v, 4, 4) < 0) return 0xffff82c4c0000000n;
  if (compareXenVersion(v, 4, 14) < 0) return 0xffff82d080000000n;
  return 0xffff82d040000000n;
}

/** The versions a given XEN_VIRT_START is consistent with (for VMCOREINFO_XEN-only dumps). */
export function versionRangeForVirtStart(virtStart: bigint): string | undefined {
  switch (virtStart) {
    case 0xffff828c80000000n:
      return "3.x";
    case 0xffff82c480000000n:
      return "4.0–4.2";
    case 0xffff82c4c0000000n:
      return "4.3";
    case 0xffff82d080000000n:
      return "4.4–4.13";
    case 0xffff82d040000000n:
      return ">= 4.14";
    default:
      return undefined;
  }
}

/**
 * x86_32 Xen 3.x (include/asm-x86/config.h, `#elif defined(__i386__)`): IOREMAP_VIRT_END is 0
 * (the top of the 4 GiB space), 4 MiB of ioremap below it, then the 12 MiB "Direct-map (1:1)
 * area [Xen code/data/heap]": Xen is linked there and never relocated, so its virtual address
 * is machine address + 0xff000000 (makedumpfile's x86 DIRECTMAP_VIRT_START/END agree).
 * HYPERVISOR_VIRT_START is 0xf5800000 with PAE, 0xfc000000 without.
 */
export const X86_32_DIRECTMAP_VIRT_START = 0xff000000n;
export const X86_32_DIRECTMAP_VIRT_END = 0xffc00000n;
export const X86_32_HYPERVISOR_VIRT_START_PAE = 0xf5800000n;
export const X86_32_HYPERVISOR_VIRT_START = 0xfc000000n;

/**
 * Where the hypervisor's code lives for a version and architecture: x86_64's XEN_VIRT_START
 * (above), or on x86_32 the direct map start (the 64-bit values are wrong there: issue 9).
 */
export function xenVirtStartFor(v: { major: number; minor: number }, arch: "x86_64" | "x86_32"): bigint {
  return arch === "x86_32" ? X86_32_DIRECTMAP_VIRT_START : xenVirtStartForVersion(v);
}

/** Size of the Xen image window. */
export const XEN_IMAGE_WINDOW = 1n << 30n;

/**
 * The 1:1 direct map of machine memory: PML4 slots 262–271 (5 TiB) normally, or from slot
 * 265 (0xffff848000000000) with CONFIG_BIGMEM, which moves the frame table below it.
 */
export const DIRECTMAP_VIRT_START = 0xffff830000000000n;
export const DIRECTMAP_VIRT_END = 0xffff880000000000n;
export const DIRECTMAP_VIRT_START_BIGMEM = 0xffff848000000000n;
export const DIRECTMAP_VIRT_END_BIGMEM = 0xffffff8000000000n;

/**
 * makedumpfile's heuristic (arch/x86_64.c get_xen_basic_info_x86_64): domain_list lives in the
 * image's bss, less than 1 GiB above XEN_VIRT_START, and XEN_VIRT_START is 1 GiB aligned.
 */
export function xenVirtStartFromSymbol(symbolInImage: bigint): bigint {
  return symbolInImage & ~(XEN_IMAGE_WINDOW - 1n);
}

/**
 * How far iomem's "Hypervisor code and data" starts above xen_phys_start, by version. dom0
 * (xenlinux) publishes the range Xen answers to KEXEC_RANGE_MA_XEN with:
 * - 3.2–3.3 (x86_64, the first relocating Xen): xenheap_phys_start, which setup.c sets to
 *   xen_phys_start — offset 0 (common/kexec.c kexec_get_xen; thread 000's 7e600000-7f5fffff is
 *   exactly the 16 MiB xenheap);
 * - 3.4–4.8: virt_to_maddr(_start) with the image linked at __XEN_VIRT_START + 1 MiB (the
 *   "Remove statically-partitioned Xen heap" change, x86_64/machine_kexec.c) — 1 MiB;
 * - 4.9 and later: the image linked at __XEN_VIRT_START + XEN_IMG_OFFSET (0x200000,
 *   arch/x86/Rules.mk) — 2 MiB.
 */
export function xenIomemOffset(v: { major: number; minor: number }): number {
  if (compareXenVersion(v, 4, 9) >= 0) return 0x200000;
  if (compareXenVersion(v, 3, 4) >= 0) return 0x100000;
  return 0;
}

/** The version ranges with each iomem offset, for texts. */
export function xenIomemOffsetRange(offset: number): string {
  return offset === 0x200000 ? "Xen >= 4.9" : offset === 0x100000 ? "Xen 3.4–4.8" : "Xen 3.2–3.3";
}

/**
 * xen_phys_start from iomem's "Hypervisor code and data" start: the start minus the image
 * offset of the version. The one rule shared by `xen info --iomem` and the elfcorehdr start note.
 * Returns a reason instead when the line lies below the offset (it cannot be that version).
 */
export function xenPhysStartFromIomemStart(
  iomemStart: number,
  v: { major: number; minor: number },
): number | string {
  const off = xenIomemOffset(v);
  if (iomemStart < off)
    return `"Hypervisor code and data" at 0x${iomemStart.toString(16)} is below the 0x${off.toString(16)} image offset of Xen ${v.major}.${v.minor}`;
  return iomemStart - off;
}
