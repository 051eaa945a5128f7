/**
 * The kernel's symbol table from the best source available, in this order: kallsyms in the
 * dump's memory (VMCOREINFO ≥ 6.0 locates it), then a System.map, then a vmlinux's ELF symbol
 * table, the files moved by KERNELOFFSET (KASLR) as crash --kaslr does.
 */
import type { ElfFile } from "../elf/reader.js";
import { SHT_NOBITS } from "../elf/types.js";
import { FormatError, KdumpkitError } from "../errors.js";
import type { SystemMap } from "../kernel/system-map.js";
import type { Vmcoreinfo } from "../notes/vmcoreinfo.js";
import { kallsymsLocation, kallsymsTable } from "./kallsyms.js";
import type { MemoryReader } from "./memory.js";
import { type KernelSymbol, KernelSymbolTable } from "./table.js";

/** x86_64 __START_KERNEL_map: image symbols at or above it move with KASLR. */
const X86_64_START_KERNEL_MAP = 0xffffffff80000000n;

/** A System.map (already moved by KERNELOFFSET when it was parsed) as a KernelSymbolTable. */
export function systemMapTable(map: SystemMap): KernelSymbolTable {
  const syms: KernelSymbol[] = map.symbols.map((s) => ({
    name: s.name,
    address: s.address,
    type: s.type,
    size: 0n,
  }));
  return new KernelSymbolTable(syms, { source: "system-map", computeSizes: true });
}

const SHF_WRITE = 1;
const SHF_ALLOC = 2;
const SHF_EXECINSTR = 4;
const STT_OBJECT = 1;
const STT_SECTION = 3;
const STT_FILE = 4;
const SHN_ABS = 0xfff1;
const STB_LOCAL = 0;
const STB_WEAK = 2;

/** nm's type letter for an ELF symbol (binutils nm: coff_symbol_type/decode_section_type). */
function nmLetter(elf: ElfFile, shndx: number, bind: number, type: number): string {
  let c = "?";
  if (shndx === SHN_ABS) c = "A";
  else if (shndx === 0) c = "U";
  else {
    const sec = elf.sections[shndx];
    if (sec) {
      const f = Number(sec.flags);
      if (sec.type === SHT_NOBITS) c = "B";
      else if (f & SHF_EXECINSTR) c = "T";
      else if (f & SHF_WRITE) c = "D";
      else if (f & SHF_ALLOC) c = "R";
      else c = "N";
    }
  }
  if (bind === STB_WEAK) return type === STT_OBJECT ? "V" : "W";
  return bind === STB_LOCAL ? c.toLowerCase() : c;
}

/** A vmlinux's ELF symbol table (link addresses moved by `kernelOffset` where in the image). */
export function vmlinuxTable(elf: ElfFile, kernelOffset = 0n): KernelSymbolTable {
  const syms: KernelSymbol[] = [];
  for (const s of elf.symbols("symtab")) {
    if (!s.name || s.type === STT_SECTION || s.type === STT_FILE || s.shndx === 0) continue;
    const moved = s.value >= X86_64_START_KERNEL_MAP && s.shndx !== SHN_ABS;
    syms.push({
      name: s.name,
      address: moved ? BigInt.asUintN(64, s.value + kernelOffset) : s.value,
      type: nmLetter(elf, s.shndx, s.bind, s.type),
      size: 0n,
    });
  }
  if (syms.length === 0) throw new FormatError("the vmlinux has no symbol table (.symtab)");
  // kallsyms' rule (next symbol) rather than st_size, so every source sizes symbols alike.
  return new KernelSymbolTable(syms, { source: "vmlinux", computeSizes: true });
}

export interface KernelSymbolsInput {
  memory?: MemoryReader;
  vmcoreinfo?: Vmcoreinfo;
  systemMap?: SystemMap;
  vmlinux?: ElfFile;
  /** KERNELOFFSET for the vmlinux fallback (System.map is moved when parsed). */
  kernelOffset?: bigint;
}

export interface KernelSymbols {
  table: KernelSymbolTable;
  /** Each source tried before the one used, and why it was not used. */
  skipped: { source: string; reason: string }[];
}

/**
 * The kernel symbol table: in-memory kallsyms first; then a System.map or vmlinux when given.
 * A kallsyms table that decoded only partly is used only when no file can stand in.
 */
export function kernelSymbols(input: KernelSymbolsInput): KernelSymbols {
  const skipped: { source: string; reason: string }[] = [];
  let partial: KernelSymbolTable | undefined;
  if (input.memory && input.vmcoreinfo) {
    const loc = kallsymsLocation(input.vmcoreinfo);
    if (!loc)
      skipped.push({ source: "kallsyms", reason: "VMCOREINFO has no kallsyms symbols (Linux < 6.0)" });
    else {
      try {
        const t = kallsymsTable(input.memory, loc);
        if (!t.incomplete) return { table: t, skipped };
        partial = t;
        skipped.push({ source: "kallsyms", reason: t.incomplete });
      } catch (e) {
        if (!(e instanceof KdumpkitError)) throw e;
        skipped.push({ source: "kallsyms", reason: e.message });
      }
    }
  } else skipped.push({ source: "kallsyms", reason: "no kernel memory or VMCOREINFO" });
  if (input.systemMap) return { table: systemMapTable(input.systemMap), skipped };
  if (input.vmlinux) {
    try {
      return { table: vmlinuxTable(input.vmlinux, input.kernelOffset ?? 0n), skipped };
    } catch (e) {
      if (!(e instanceof KdumpkitError)) throw e;
      skipped.push({ source: "vmlinux", reason: e.message });
    }
  }
  if (partial) return { table: partial, skipped };
  throw new FormatError(
    `no kernel symbols: ${skipped.map((s) => `${s.source}: ${s.reason}`).join("; ")}; pass --system-map or --vmlinux`,
  );
}
