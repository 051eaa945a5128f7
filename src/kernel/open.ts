/**
 * `openKernel(dump)`: the translated kernel view of a Linux dump on any architecture kdumpkit
 * knows (x86_64, i386, arm64). The setup function of the dump's architecture builds the kernel
 * virtual address space (ranges → methods, src/xlat/space.ts) from what the dump says about
 * itself: VMCOREINFO, PT_LOADs, the header's phys_base, the extent of its RAM.
 */
import type { Dump } from "../dump/index.js";
import { FormatError, UnsupportedError } from "../errors.js";
import type { Vmcoreinfo } from "../notes/vmcoreinfo.js";
import { START_KERNEL_MAP } from "../xlat/linux-x86_64.js";
import { AddressSpace, END_OF_64BIT, type RangeSpec } from "../xlat/space.js";
import type { PageWalker } from "../xlat/walk.js";
import { type Arm64KernelFacts, arm64Kernel } from "./arm64.js";
import { type I386KernelFacts, i386Kernel } from "./i386.js";
import { type KernelDumpInput, type X86_64KernelFacts, x86_64Kernel } from "./x86_64.js";

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

/** The x86_64 space in ranges: text mapping, direct map, then the page tables for the rest. */
export function x86_64KernelSpace(input: KernelDumpInput): Kernel {
  const k = x86_64Kernel(input);
  const s = k.space;
  const ranges: RangeSpec[] = [];
  if (s.textSize > 0)
    ranges.push({
      id: "text",
      name: "kernel text mapping",
      start: START_KERNEL_MAP,
      end: START_KERNEL_MAP + BigInt(s.textSize),
      method: { kind: "linear", base: Number(BigInt.asIntN(64, s.physBase)) },
    });
  if (s.pageOffset !== undefined && s.directMapSize > 0) {
    const end = s.pageOffset + BigInt(s.directMapSize);
    ranges.push({
      id: "direct",
      name: "direct map",
      start: s.pageOffset,
      end: end > END_OF_64BIT ? END_OF_64BIT : end,
      method: { kind: "linear", base: 0 },
    });
  }
  const walker = s.pageTables;
  if (walker)
    ranges.push({
      id: "pagetable",
      name: "page tables",
      start: 0n,
      end: END_OF_64BIT,
      method: { kind: "pagetable", walker },
    });
  const f = k.facts;
  const facts: KernelFacts = { arch: "x86_64", kernelOffset: f.kernelOffset, notes: f.notes };
  if (walker) facts.pageTables = walker.format;
  if (f.rootSymbol !== undefined) facts.rootSymbol = f.rootSymbol;
  if (f.rootVirtual !== undefined) facts.rootVirtual = f.rootVirtual;
  if (f.rootPhysical !== undefined) facts.rootPhysical = f.rootPhysical;
  if (f.pageOffset !== undefined) facts.pageOffset = f.pageOffset;
  return {
    arch: "x86_64",
    pointerSize: 8,
    space: new AddressSpace("kernel-virtual", input.phys, ranges, { pointerSize: 8 }),
    ...(walker ? { walker } : {}),
    facts,
    x86_64: f,
  };
}

/** The architectures openKernel translates. */
export const KERNEL_ARCHES: ReadonlySet<string> = new Set(["x86_64", "i386", "arm64"]);

/** The translated kernel view of a Linux dump (x86_64, i386, arm64). */
export function openKernel(dump: Dump): Kernel {
  const input = kernelInputOf(dump);
  const arch = dump.arch;
  if (arch === "x86_64") return x86_64KernelSpace(input);
  if (arch === "i386") {
    const k = i386Kernel(input);
    const f = k.facts;
    return {
      arch,
      pointerSize: 4,
      space: k.space,
      walker: k.walker,
      facts: {
        arch,
        pageTables: k.walker.format,
        rootSymbol: "swapper_pg_dir",
        rootVirtual: f.rootVirtual,
        rootPhysical: f.rootPhysical,
        pageOffset: BigInt(f.pageOffset),
        kernelOffset: f.kernelOffset,
        notes: f.notes,
      },
      i386: f,
    };
  }
  if (arch === "arm64") {
    const k = arm64Kernel(input);
    const f = k.facts;
    const facts: KernelFacts = {
      arch,
      pageOffset: f.pageOffset,
      kernelOffset: f.kernelOffset,
      notes: f.notes,
    };
    if (k.walker) facts.pageTables = k.walker.format;
    if (f.rootVirtual !== undefined) {
      facts.rootSymbol = "swapper_pg_dir";
      facts.rootVirtual = f.rootVirtual;
    }
    if (f.rootPhysical !== undefined) facts.rootPhysical = f.rootPhysical;
    return {
      arch,
      pointerSize: 8,
      space: k.space,
      ...(k.walker ? { walker: k.walker } : {}),
      facts,
      arm64: f,
    };
  }
  throw new UnsupportedError(
    `kernel virtual addresses on ${arch ?? "an unknown architecture"} (x86_64, i386, arm64)`,
  );
}
