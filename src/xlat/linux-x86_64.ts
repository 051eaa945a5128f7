/**
 * Fixed points of the Linux x86_64 kernel virtual layout (Documentation/arch/x86/x86_64/mm.rst,
 * arch/x86/include/asm/page_64_types.h, pgtable_64_types.h). The kernel space itself is built
 * by `src/kernel/x86_64.ts` as ranges → methods (src/xlat/space.ts); the Xen dom0 view uses the
 * same constants.
 */

/** __START_KERNEL_map: the kernel text mapping. */
export const START_KERNEL_MAP = 0xffffffff80000000n;
/** KERNEL_IMAGE_SIZE with CONFIG_RANDOMIZE_BASE: 1 GiB; modules start right after. */
export const KERNEL_IMAGE_SIZE = 0x40000000;
/** MODULES_END (4.x+): the module mapping space ends below the fixmap. */
export const MODULES_END = 0xffffffffff000000n;
/** page_offset_base without KASLR (4-level and 5-level paging). */
export const PAGE_OFFSET_4LEVEL = 0xffff888000000000n;
export const PAGE_OFFSET_5LEVEL = 0xff11000000000000n;
/** vmalloc_base and vmemmap_base without KASLR (__VMALLOC_BASE_L4/L5, __VMEMMAP_BASE_L4/L5). */
export const VMALLOC_BASE_4LEVEL = 0xffffc90000000000n;
export const VMALLOC_BASE_5LEVEL = 0xffa0000000000000n;
export const VMEMMAP_BASE_4LEVEL = 0xffffea0000000000n;
export const VMEMMAP_BASE_5LEVEL = 0xffd4000000000000n;
/** VMALLOC_SIZE_TB_L4/L5 (32 TiB, 12800 TiB). */
export const VMALLOC_SIZE_4LEVEL = 32n << 40n;
export const VMALLOC_SIZE_5LEVEL = 12800n << 40n;
/**
 * CPU_ENTRY_AREA_BASE: kernel_randomize_memory (arch/x86/mm/kaslr.c) places the direct map,
 * vmalloc and vmemmap below it, in that order, each PUD-aligned.
 */
export const CPU_ENTRY_AREA_BASE = 0xfffffe0000000000n;
