/**
 * The x86_64 hypervisor's virtual layout by Xen version (xen/include/asm-x86/config.h, later
 * xen/arch/x86/include/asm/config.h), as dump readers need it.
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
