/**
 * The address space of an i386 Linux dump, from what it says about itself:
 *  - PAE or not: CONFIG_X86_PAE=y in VMCOREINFO (kernel/crash_core.c exports it on x86_32);
 *  - the root table: SYMBOL(swapper_pg_dir), a lowmem address, so physical = va − PAGE_OFFSET;
 *  - PAGE_OFFSET (CONFIG_VMSPLIT_*: 0xC0000000 by default, 0xB0000000, 0x80000000, 0x78000000,
 *    0x40000000) is not in VMCOREINFO: the ELF PT_LOADs say it (kexec-tools and the kernel give
 *    lowmem segments p_vaddr = PAGE_OFFSET + p_paddr); otherwise each split is tried and the one
 *    whose page tables map swapper_pg_dir (and _stext) onto themselves wins;
 *  - lowmem direct map: [PAGE_OFFSET, PAGE_OFFSET + min(RAM, MAXMEM)), MAXMEM being
 *    VMALLOC_END − PAGE_OFFSET − __VMALLOC_RESERVE (arch/x86/include/asm/pgtable_32_areas.h);
 *    a conservative bound is used (the page tables map the rest of lowmem just as well);
 *  - everything else (vmalloc, pkmap, fixmap, modules): the page tables.
 * KASLR moves the kernel inside lowmem (the image runs at PAGE_OFFSET + its physical address),
 * so KERNELOFFSET needs nothing more here.
 */
import { AddressError, KdumpkitError, rethrowMissing } from "../errors.js";
import { I386PageTables } from "../xlat/i386.js";
import { AddressSpace, type RangeSpec } from "../xlat/space.js";
import type { KernelDumpInput } from "./open.js";

/** PAGE_OFFSET of each CONFIG_VMSPLIT_* choice (arch/x86/Kconfig), the default first. */
export const I386_PAGE_OFFSETS = [0xc0000000, 0xb0000000, 0x80000000, 0x78000000, 0x40000000] as const;
/** __VMALLOC_RESERVE (128 MiB) plus room for the fixmap, pkmap and guard holes above vmalloc. */
const ABOVE_LOWMEM = 0x8000000 + 0x2000000;

export interface I386KernelFacts {
  pae: boolean;
  pageOffset: number;
  pageOffsetSource: "pt_load" | "page-tables";
  rootVirtual: bigint;
  rootPhysical: number;
  /** Bytes of lowmem translated linearly. */
  lowmemSize: number;
  kernelOffset: bigint;
  notes: string[];
}

export interface I386Kernel {
  facts: I386KernelFacts;
  space: AddressSpace;
  walker: I386PageTables;
}

function pageOffsetFromLoads(input: KernelDumpInput): number | undefined {
  for (const l of input.loads ?? []) {
    const v = Number(l.vaddr);
    const p = Number(l.paddr);
    if (l.vaddr === 0n || l.memsz === 0) continue;
    const po = v - p;
    if ((I386_PAGE_OFFSETS as readonly number[]).includes(po)) return po;
  }
  return undefined;
}

/** True when page tables rooted at swapper_pg_dir − po map the probes the way lowmem does. */
function consistent(
  input: KernelDumpInput,
  pae: boolean,
  po: number,
  probes: bigint[],
): I386PageTables | undefined {
  const rootVa = probes[0]!;
  const root = Number(rootVa) - po;
  if (root < 0 || root % 4096 !== 0) return undefined;
  try {
    const w = new I386PageTables(input.phys, { root, pae });
    for (const p of probes) if (w.translate(0, Number(p)) !== Number(p) - po) return undefined;
    return w;
  } catch (e) {
    rethrowMissing(e);
    if (e instanceof KdumpkitError) return undefined;
    throw e;
  }
}

/** Work out the address space of an i386 Linux dump. */
export function i386Kernel(input: KernelDumpInput): I386Kernel {
  const vi = input.vmcoreinfo;
  const notes: string[] = [];
  const pae = vi.config("X86_PAE") === "y";
  const rootVirtual = vi.symbol("swapper_pg_dir");
  if (rootVirtual === undefined || rootVirtual > 0xffffffffn)
    throw new AddressError("kernel-virtual", rootVirtual ?? 0n, "no SYMBOL(swapper_pg_dir) in VMCOREINFO");
  const probes = [rootVirtual];
  for (const s of ["_stext", "init_uts_ns"]) {
    const v = vi.symbol(s);
    if (v !== undefined && v <= 0xffffffffn) probes.push(v);
  }
  let pageOffset = pageOffsetFromLoads(input);
  let source: I386KernelFacts["pageOffsetSource"] = "pt_load";
  let walker = pageOffset !== undefined ? consistent(input, pae, pageOffset, probes) : undefined;
  if (pageOffset !== undefined && !walker)
    notes.push(`PT_LOAD PAGE_OFFSET 0x${pageOffset.toString(16)} does not fit the page tables`);
  if (!walker) {
    source = "page-tables";
    for (const po of I386_PAGE_OFFSETS) {
      walker = consistent(input, pae, po, probes);
      if (walker) {
        pageOffset = po;
        break;
      }
    }
  }
  if (!walker || pageOffset === undefined)
    throw new AddressError(
      "kernel-virtual",
      rootVirtual,
      `swapper_pg_dir: no PAGE_OFFSET (${I386_PAGE_OFFSETS.map((p) => `0x${p.toString(16)}`).join(", ")}) gives ${pae ? "PAE" : "2-level"} page tables that map the kernel`,
    );
  const maxLowmem = 0x100000000 - pageOffset - ABOVE_LOWMEM;
  const ramEnd = input.maxPhysAddress ?? maxLowmem;
  const lowmemSize = Math.max(0, Math.min(ramEnd, maxLowmem));
  const ranges: RangeSpec[] = [];
  if (lowmemSize > 0)
    ranges.push({
      id: "lowmem",
      name: "lowmem direct map",
      start: BigInt(pageOffset),
      end: BigInt(pageOffset + lowmemSize),
      method: { kind: "linear", base: 0 },
    });
  ranges.push({
    id: "pagetable",
    name: "page tables",
    start: 0n,
    end: 0x100000000n,
    method: { kind: "pagetable", walker },
  });
  const space = new AddressSpace("kernel-virtual", input.phys, ranges, { walker, pointerSize: 4 });
  return {
    facts: {
      pae,
      pageOffset,
      pageOffsetSource: source,
      rootVirtual,
      rootPhysical: walker.root,
      lowmemSize,
      kernelOffset: vi.kernelOffset ?? 0n,
      notes,
    },
    space,
    walker,
  };
}
