/**
 * `openKernel(dump)`: the translated kernel view of a Linux dump on any architecture kdumpkit
 * knows (x86_64, i386, arm64). The setup function of the dump's architecture builds the kernel
 * virtual address space (ranges → methods, src/xlat/space.ts) from what the dump says about
 * itself: VMCOREINFO, PT_LOADs, the header's phys_base, the extent of its RAM.
 */
import type { Dump } from "../dump/index.js";
import type { PhysReader } from "../dump/types.js";
import { FormatError, UnsupportedError } from "../errors.js";
import type { Vmcoreinfo } from "../notes/vmcoreinfo.js";
import type { AddressSpace } from "../xlat/space.js";
import type { PageWalker } from "../xlat/walk.js";
import { type Arm64KernelFacts, arm64Kernel } from "./arm64.js";
import { type I386KernelFacts, i386Kernel } from "./i386.js";
import { type KernelLog, type KernelMemory, readKernelLog } from "./printk.js";
import { type X86_64KernelFacts, x86_64Kernel } from "./x86_64.js";

/** A loadable segment of the dump (ELF PT_LOAD), for page_offset/phys_base discovery. */
export interface LoadSegment {
  vaddr: bigint;
  paddr: bigint | number;
  memsz: number;
}

/** What the setup functions need from an opened dump: physical reads, VMCOREINFO, PT_LOADs. */
export interface KernelDumpInput {
  phys: PhysReader;
  vmcoreinfo: Vmcoreinfo;
  /** The dump's PT_LOAD segments (ELF formats); absent for kdump-compressed files. */
  loads?: readonly LoadSegment[];
  /** phys_base from the dump header (kdump sub-header), used only when VMCOREINFO has none. */
  headerPhysBase?: bigint;
  /**
   * One past the highest physical address of the machine (kdump max_mapnr × page size, the
   * end of the last PT_LOAD). Bounds the direct map: with KASLR the vmalloc area can start
   * less than 2^MAX_PHYSMEM_BITS above page_offset_base, so the linear method must stop at RAM.
   */
  maxPhysAddress?: number;
  /** The lowest physical address of RAM the dump describes (arm64: where the linear map starts). */
  ramStart?: number;
}

/** What every architecture's setup says about the space it built. */
export interface KernelFacts {
  arch: "x86_64" | "i386" | "arm64";
  /** The page-table format, when the tables were found ("x86_64 4-level", "i386 PAE", …). */
  pageTables?: string;
  /** The VMCOREINFO symbol the page-table root came from, its virtual and physical address. */
  rootSymbol?: string;
  rootVirtual?: bigint;
  rootPhysical?: number;
  /** Start of the direct / linear map. */
  pageOffset?: bigint;
  /** KERNELOFFSET (KASLR), 0 when absent. */
  kernelOffset: bigint;
  /** Assumptions and disagreements worth telling the user. */
  notes: string[];
}

export interface Kernel {
  arch: KernelFacts["arch"];
  pointerSize: 4 | 8;
  /** Kernel virtual memory: `read(va, length, into?)`, `translate(va)`, `explain(va)`. */
  space: AddressSpace;
  /** The kernel's page tables, when found. */
  walker?: PageWalker;
  facts: KernelFacts;
  /** The architecture's own facts (exactly one is set). */
  x86_64?: X86_64KernelFacts;
  i386?: I386KernelFacts;
  arm64?: Arm64KernelFacts;
}

/** The input every setup function takes, from an opened dump. */
export function kernelInputOf(
  dump: Dump,
): KernelDumpInput & { vmcoreinfo: Vmcoreinfo; littleEndian: boolean } {
  const vmcoreinfo = dump.vmcoreinfo;
  if (!vmcoreinfo) throw new FormatError("the dump has no VMCOREINFO (needed for kernel addresses)");
  const loads = dump.loads;
  const hpb = dump.headerPhysBase;
  // not memoryMap(): that classifies every page of the dump, and only its start is needed
  const ramStart = dump.firstAddress();
  return {
    phys: dump,
    vmcoreinfo,
    maxPhysAddress: dump.maxAddress,
    littleEndian: dump.littleEndian,
    ...(ramStart !== undefined ? { ramStart } : {}),
    ...(loads.length ? { loads } : {}),
    ...(hpb !== undefined ? { headerPhysBase: hpb } : {}),
  };
}

/** The architectures openKernel translates. */
export const KERNEL_ARCHES: ReadonlySet<string> = new Set(["x86_64", "i386", "arm64"]);

/** What every setup reports in common (the shared facts but the page-table format). */
type SetupFacts = Omit<KernelFacts, "arch" | "pageTables">;

/** A Kernel from a setup's space and walker, the shared facts and the architecture's own. */
function kernelFrom(
  arch: KernelFacts["arch"],
  pointerSize: 4 | 8,
  k: { space: AddressSpace; walker?: PageWalker },
  f: SetupFacts,
  own: Pick<Kernel, "x86_64" | "i386" | "arm64">,
): Kernel {
  const facts: KernelFacts = { arch, kernelOffset: f.kernelOffset, notes: f.notes };
  if (k.walker) facts.pageTables = k.walker.format;
  if (f.rootVirtual !== undefined) {
    facts.rootSymbol = f.rootSymbol ?? "swapper_pg_dir";
    facts.rootVirtual = f.rootVirtual;
  }
  if (f.rootPhysical !== undefined) facts.rootPhysical = f.rootPhysical;
  if (f.pageOffset !== undefined) facts.pageOffset = f.pageOffset;
  return { arch, pointerSize, space: k.space, ...(k.walker ? { walker: k.walker } : {}), facts, ...own };
}

/** The translated kernel view of a Linux dump (x86_64, i386, arm64). */
export function openKernel(dump: Dump): Kernel {
  const input = kernelInputOf(dump);
  const arch = dump.arch;
  if (arch === "x86_64") {
    const k = x86_64Kernel(input);
    return kernelFrom(arch, 8, k, k.facts, { x86_64: k.facts });
  }
  if (arch === "i386") {
    const k = i386Kernel(input);
    return kernelFrom(arch, 4, k, { ...k.facts, pageOffset: BigInt(k.facts.pageOffset) }, { i386: k.facts });
  }
  if (arch === "arm64") {
    const k = arm64Kernel(input);
    return kernelFrom(arch, 8, k, k.facts, { arm64: k.facts });
  }
  throw new UnsupportedError(
    `kernel virtual addresses on ${arch ?? "an unknown architecture"} (x86_64, i386, arm64)`,
  );
}

/** A read outside the kernel text mapping, in textMappingLog's first try (not a KdumpkitError). */
class OutsideTextMapping extends Error {}

/**
 * The kernel log of a Linux dump, read first through the kernel text mapping alone where that
 * is cheaper (x86_64: the address space without the page-table searches for the direct map,
 * vmalloc and vmemmap, ~8 M instructions and the page-table pages they decode). A kernel's log
 * normally lies in its image (`prb`, its descriptors, infos and text ring are static unless
 * `log_buf_len=` asked for a bigger one at boot). The text mapping is the first range of the
 * whole space too, so its reads are the same; any read outside it stops the try, and the log is
 * read again through `full()`, the whole space. Errors are those of `full()` then: the setup
 * that the try shares with it throws the same.
 */
export function textMappingLog(dump: Dump, full: () => Pick<Kernel, "space">): KernelLog {
  const vi = dump.vmcoreinfo;
  if (dump.arch === "x86_64" && vi) {
    const lite = x86_64Kernel(kernelInputOf(dump), { searchRegions: false });
    const text = lite.space.map.find((r) => r.id === "text");
    if (text) {
      const mem: KernelMemory = {
        pointerSize: 8,
        read(va: bigint, length: number, into?: Uint8Array): Uint8Array {
          if (va < text.start || va + BigInt(length) > text.end) throw new OutsideTextMapping();
          return lite.space.read(va, length, into);
        },
      };
      try {
        return readKernelLog(mem, vi);
      } catch (e) {
        if (!(e instanceof OutsideTextMapping)) throw e;
      }
    }
  }
  return readKernelLog(full().space, vi!);
}
