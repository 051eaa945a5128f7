/**
 * The address space of an arm64 Linux dump, from VMCOREINFO (arch/arm64/kernel/crash_core.c
 * exports VA_BITS, kimage_voffset, PHYS_OFFSET, TCR_EL1_T1SZ since 5.13, KERNELOFFSET):
 *  - granule: PAGESIZE (4K, 16K, 64K); table geometry: NUMBER(VA_BITS); addresses the CPU
 *    translates: 64 − NUMBER(TCR_EL1_T1SZ) bits (52-bit kernels on 48-bit CPUs);
 *  - 52-bit physical addresses (MAX_PHYSMEM_BITS 52): FEAT_LPA encoding with 64K pages,
 *    FEAT_LPA2 with 4K/16K (Linux 6.9+);
 *  - linear map: physical = va − PAGE_OFFSET + PHYS_OFFSET (PHYS_OFFSET = memstart_addr, which
 *    KASLR and 52-bit VA fallbacks may make "negative", hence modulo 2^64). Since 5.4
 *    (commit 14c127c957c1, "flip the kernel VA space") PAGE_OFFSET = −2^VA_BITS and the linear
 *    map is the lower half of the kernel VA space; before, PAGE_OFFSET = −2^(VA_BITS−1) and the
 *    kernel image lived in the lower half. Which one: where the image (_stext) is;
 *  - the root: SYMBOL(swapper_pg_dir), an image address: physical = va − kimage_voffset
 *    (before 4.6, no kimage_voffset: the image was in the linear map);
 *  - everything else in the kernel half (image, vmalloc, modules, vmemmap, fixmap): page tables.
 */
import { AddressError, KdumpkitError, rethrowMissing, UnsupportedError } from "../errors.js";
import { type Arm64Pa52, Arm64PageTables } from "../xlat/arm64.js";
import { AddressSpace, END_OF_64BIT, type RangeSpec } from "../xlat/space.js";
import type { KernelDumpInput } from "./open.js";

const U64 = (v: bigint) => BigInt.asUintN(64, v);

export interface Arm64KernelFacts {
  pageSize: number;
  vaBits: number;
  vaBitsSource: "vmcoreinfo" | "default";
  activeVaBits: number;
  pa52: Arm64Pa52;
  levels: number;
  pageOffset: bigint;
  /** "flipped": the 5.4+ layout (linear map in the lower half of the kernel VA space). */
  layout: "flipped" | "pre-5.4";
  physOffset: bigint;
  kimageVoffset?: bigint;
  kernelOffset: bigint;
  rootVirtual?: bigint;
  rootPhysical?: number;
  notes: string[];
}

export interface Arm64Kernel {
  facts: Arm64KernelFacts;
  space: AddressSpace;
  walker?: Arm64PageTables;
}

/** Work out the address space of an arm64 Linux dump. */
export function arm64Kernel(input: KernelDumpInput & { littleEndian?: boolean }): Arm64Kernel {
  const vi = input.vmcoreinfo;
  const notes: string[] = [];
  const pageSize = vi.pageSize ?? input.phys.pageSize;
  const vb = vi.number("VA_BITS");
  let vaBits = 48;
  let vaBitsSource: Arm64KernelFacts["vaBitsSource"] = "default";
  if (vb !== undefined && vb >= 36n && vb <= 52n) {
    vaBits = Number(vb);
    vaBitsSource = "vmcoreinfo";
  } else notes.push("no usable NUMBER(VA_BITS): 48 assumed");
  const t1sz = vi.number("TCR_EL1_T1SZ");
  let activeVaBits = vaBits;
  if (t1sz !== undefined) {
    const a = 64 - Number(t1sz);
    if (a >= 36 && a <= vaBits) activeVaBits = a;
    else notes.push(`NUMBER(TCR_EL1_T1SZ)=${t1sz} ignored (VA_BITS ${vaBits})`);
  }
  const mpb = vi.number("MAX_PHYSMEM_BITS");
  const pa52: Arm64Pa52 = mpb === 52n ? (pageSize === 65536 ? "lpa" : "lpa2") : "none";
  const physOffset = vi.numberU64("PHYS_OFFSET");
  if (physOffset === undefined)
    throw new UnsupportedError("arm64 dump without NUMBER(PHYS_OFFSET) in VMCOREINFO (before 4.x)");
  const kimageVoffset = vi.numberU64("kimage_voffset");

  // the layout: the image sits in the upper half of the kernel VA space since 5.4
  const half = U64(-(1n << BigInt(vaBits - 1)));
  const image = vi.symbol("_stext") ?? vi.symbol("swapper_pg_dir");
  const layout: Arm64KernelFacts["layout"] =
    image !== undefined && image < half && kimageVoffset !== undefined ? "pre-5.4" : "flipped";
  const pageOffset = layout === "flipped" ? U64(-(1n << BigInt(vaBits))) : half;
  const linear = (va: bigint) => U64(va - pageOffset + physOffset);

  // linear map over the RAM the dump describes
  const ranges: RangeSpec[] = [];
  const ramStart = BigInt(input.ramStart ?? 0);
  const ramEnd = BigInt(input.maxPhysAddress ?? 0);
  const linearSize = 1n << BigInt(vaBits - 1);
  if (ramEnd > ramStart) {
    const start = U64(pageOffset + ramStart - physOffset);
    let end = start + (ramEnd - ramStart);
    const limit = pageOffset + linearSize;
    if (end > limit) end = limit;
    if (start >= pageOffset && end > start)
      ranges.push({
        id: "linear",
        name: "linear map",
        start,
        end,
        method: { kind: "linear", base: Number(ramStart) },
      });
    else notes.push("RAM lies outside the linear map: PHYS_OFFSET or VA_BITS looks wrong");
  }

  let walker: Arm64PageTables | undefined;
  const rootVirtual = vi.symbol("swapper_pg_dir");
  let rootPhysical: number | undefined;
  if (rootVirtual !== undefined) {
    const inLinear = rootVirtual >= pageOffset && rootVirtual < pageOffset + linearSize;
    const p =
      inLinear || kimageVoffset === undefined ? linear(rootVirtual) : U64(rootVirtual - kimageVoffset);
    try {
      if (p > BigInt(Number.MAX_SAFE_INTEGER))
        throw new AddressError("physical", p, "swapper_pg_dir out of range");
      rootPhysical = Number(p);
      walker = new Arm64PageTables(input.phys, {
        root: rootPhysical,
        pageSize,
        vaBits,
        activeVaBits,
        pa52,
        littleEndian: input.littleEndian ?? true,
      });
      // the tables must map their own root where it is: a wrong layout guess fails here
      const [hi, lo] = [Number(rootVirtual >> 32n), Number(rootVirtual & 0xffffffffn)];
      const got = walker.translate(hi, lo);
      if (got !== rootPhysical) {
        notes.push(
          `page tables at 0x${rootPhysical.toString(16)} map swapper_pg_dir to ${got < 0 ? "nothing" : `0x${got.toString(16)}`}`,
        );
      }
    } catch (e) {
      rethrowMissing(e);
      if (!(e instanceof KdumpkitError)) throw e;
      notes.push(`page-table root swapper_pg_dir: ${e.message}`);
      walker = undefined;
    }
  } else notes.push("no SYMBOL(swapper_pg_dir) in VMCOREINFO");

  if (walker)
    ranges.push({
      id: "pagetable",
      name: "page tables",
      start: U64(-(1n << BigInt(activeVaBits))),
      end: END_OF_64BIT,
      method: { kind: "pagetable", walker },
    });
  else if (kimageVoffset !== undefined && image !== undefined) {
    // without page tables, the image at least translates by kimage_voffset (crash does the same
    // for [_text, _end)); _end is not in VMCOREINFO: up to the next 128 MiB
    const start = image & ~0x1fffffn;
    const base = U64(start - kimageVoffset);
    ranges.push({
      id: "image",
      name: "kernel image",
      start,
      end: start + 0x8000000n,
      method: { kind: "linear", base: Number(base) },
    });
    notes.push("kernel image translated by kimage_voffset only (page tables unusable)");
  }
  const space = new AddressSpace("kernel-virtual", input.phys, ranges, {
    ...(walker ? { walker } : {}),
    pointerSize: 8,
  });
  const facts: Arm64KernelFacts = {
    pageSize,
    vaBits,
    vaBitsSource,
    activeVaBits,
    pa52,
    levels: walker?.levels ?? 0,
    pageOffset,
    layout,
    physOffset,
    kernelOffset: vi.kernelOffset ?? 0n,
    notes,
  };
  if (kimageVoffset !== undefined) facts.kimageVoffset = kimageVoffset;
  if (rootVirtual !== undefined) facts.rootVirtual = rootVirtual;
  if (rootPhysical !== undefined) facts.rootPhysical = rootPhysical;
  return { facts, space, ...(walker ? { walker } : {}) };
}
