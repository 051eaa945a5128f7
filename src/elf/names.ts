import { archNameOfMachine } from "../arch/table.js";

/** Names as readelf (binutils) prints them, so listings match users' habits. */

const PT_NAMES: Record<number, string> = {
  0: "NULL",
  1: "LOAD",
  2: "DYNAMIC",
  3: "INTERP",
  4: "NOTE",
  5: "SHLIB",
  6: "PHDR",
  7: "TLS",
  1685382480: "GNU_EH_FRAME",
  1685382481: "GNU_STACK",
  1685382482: "GNU_RELRO",
  1685382483: "GNU_PROPERTY",
  1685382484: "GNU_SFRAME",
};

export function programTypeName(t: number): string {
  const n = PT_NAMES[t];
  if (n) return n;
  if (t >= 0x70000000 && t <= 0x7fffffff) return `LOPROC+0x${(t - 0x70000000).toString(16)}`;
  if (t >= 0x60000000 && t <= 0x6fffffff) return `LOOS+0x${(t - 0x60000000).toString(16)}`;
  return `<unknown>: 0x${t.toString(16)}`;
}

/** readelf's Flg column: R, W, E letters padded with spaces ("RWE", "R E", "R  "). */
export function segmentFlags(f: number): string {
  return `${f & 4 ? "R" : " "}${f & 2 ? "W" : " "}${f & 1 ? "E" : " "}`;
}

const SHT_NAMES: Record<number, string> = {
  0: "NULL",
  1: "PROGBITS",
  2: "SYMTAB",
  3: "STRTAB",
  4: "RELA",
  5: "HASH",
  6: "DYNAMIC",
  7: "NOTE",
  8: "NOBITS",
  9: "REL",
  10: "SHLIB",
  11: "DYNSYM",
  14: "INIT_ARRAY",
  15: "FINI_ARRAY",
  16: "PREINIT_ARRAY",
  17: "GROUP",
  18: "SYMTAB SECTION INDICES",
  19: "RELR",
  1879048181: "GNU_ATTRIBUTES",
  1879048182: "GNU_HASH",
  1879048183: "GNU_LIBLIST",
  1879048189: "VERDEF",
  1879048190: "VERNEED",
  1879048191: "VERSYM",
  1879048193: "X86_64_UNWIND",
};

export function sectionTypeName(t: number): string {
  const n = SHT_NAMES[t];
  if (n) return n;
  if (t >= 0x70000000 && t <= 0x7fffffff) return `LOPROC+0x${(t - 0x70000000).toString(16)}`;
  if (t >= 0x60000000 && t <= 0x6fffffff) return `LOOS+0x${(t - 0x60000000).toString(16)}`;
  return `0x${t.toString(16)}`;
}

/** readelf -S Flg letters: W A X M S I L O G T C x o E D l p (order as binutils). */
export function sectionFlags(flags: bigint): string {
  const f = Number(flags & 0xffffffffn);
  let s = "";
  if (f & 0x1) s += "W";
  if (f & 0x2) s += "A";
  if (f & 0x4) s += "X";
  if (f & 0x10) s += "M";
  if (f & 0x20) s += "S";
  if (f & 0x40) s += "I";
  if (f & 0x80) s += "L";
  if (f & 0x100) s += "O";
  if (f & 0x200) s += "G";
  if (f & 0x400) s += "T";
  if (f & 0x800) s += "C";
  if (f & 0x80000000) s += "E";
  if (f & 0x0ff00000) s += "o";
  if (f & 0x70000000 && !(f & 0x80000000)) s += "p";
  return s;
}

const MACHINES: Record<number, string> = {
  0: "None",
  2: "Sparc",
  3: "Intel 80386",
  8: "MIPS R3000",
  20: "PowerPC",
  21: "PowerPC64",
  22: "IBM S/390",
  40: "ARM",
  42: "Renesas / SuperH SH",
  43: "Sparc v9",
  50: "Intel IA-64",
  62: "Advanced Micro Devices X86-64",
  183: "AArch64",
  243: "RISC-V",
  258: "LoongArch",
};

export function machineName(m: number): string {
  return MACHINES[m] ?? `<unknown>: 0x${m.toString(16)}`;
}

/** Short architecture names used across kdumpkit ("x86_64", "i386", "arm64", …): see src/arch/table.ts. */
export function archName(m: number, elfClass?: 32 | 64): string {
  return archNameOfMachine(m, elfClass);
}

export function fileTypeName(t: number): string {
  switch (t) {
    case 0:
      return "NONE (None)";
    case 1:
      return "REL (Relocatable file)";
    case 2:
      return "EXEC (Executable file)";
    case 3:
      return "DYN (Shared object file)";
    case 4:
      return "CORE (Core file)";
    default:
      if (t >= 0xff00) return `Processor Specific: (${t.toString(16)})`;
      if (t >= 0xfe00) return `OS Specific: (${t.toString(16)})`;
      return `<unknown>: ${t.toString(16)}`;
  }
}

export function osabiName(o: number): string {
  const n: Record<number, string> = {
    0: "UNIX - System V",
    1: "UNIX - HP-UX",
    2: "UNIX - NetBSD",
    3: "UNIX - GNU",
    6: "UNIX - Solaris",
    9: "UNIX - FreeBSD",
    12: "UNIX - OpenBSD",
    97: "ARM",
    255: "Standalone App",
  };
  return n[o] ?? `<unknown: ${o.toString(16)}>`;
}

export function symbolTypeName(t: number): string {
  return (
    ["NOTYPE", "OBJECT", "FUNC", "SECTION", "FILE", "COMMON", "TLS"][t] ??
    (t === 10 ? "IFUNC" : `<unknown>: ${t}`)
  );
}
export function symbolBindName(b: number): string {
  return ["LOCAL", "GLOBAL", "WEAK"][b] ?? (b === 10 ? "UNIQUE" : `<unknown>: ${b}`);
}
export function symbolVisibilityName(v: number): string {
  return ["DEFAULT", "INTERNAL", "HIDDEN", "PROTECTED"][v] ?? String(v);
}
export function symbolIndexName(shndx: number): string {
  if (shndx === 0) return "UND";
  if (shndx === 0xfff1) return "ABS";
  if (shndx === 0xfff2) return "COM";
  if (shndx === 0xffff) return "XINDEX";
  return String(shndx);
}

/** readelf -n note type descriptions for the common owners. */
export function noteTypeName(owner: string, type: number, core: boolean): string {
  if (owner === "GNU") {
    const g: Record<number, string> = {
      1: "NT_GNU_ABI_TAG (ABI version tag)",
      2: "NT_GNU_HWCAP (DSO-supplied software HWCAP info)",
      3: "NT_GNU_BUILD_ID (unique build ID bitstring)",
      4: "NT_GNU_GOLD_VERSION (gold version)",
      5: "NT_GNU_PROPERTY_TYPE_0",
    };
    return g[type] ?? `Unknown note type: (0x${type.toString(16).padStart(8, "0")})`;
  }
  if (owner === "VMCOREINFO" || owner === "VMCOREINFO_XEN")
    return `Unknown note type: (0x${type.toString(16).padStart(8, "0")})`;
  if (owner === "Xen") {
    const x: Record<number, string> = {
      16777217: "XEN_ELFNOTE_CRASH_INFO",
      16777218: "XEN_ELFNOTE_CRASH_REGS",
      16777219: "XEN_ELFNOTE_XEN_START",
      33554432: "XEN_ELFNOTE_DUMPCORE_NONE",
      33554433: "XEN_ELFNOTE_DUMPCORE_HEADER",
      33554434: "XEN_ELFNOTE_DUMPCORE_XEN_VERSION",
      33554435: "XEN_ELFNOTE_DUMPCORE_FORMAT_VERSION",
    };
    if (x[type]) return x[type];
  }
  if (core && (owner === "CORE" || owner === "LINUX")) {
    const c: Record<number, string> = {
      1: "NT_PRSTATUS (prstatus structure)",
      2: "NT_FPREGSET (floating point registers)",
      3: "NT_PRPSINFO (prpsinfo structure)",
      4: "NT_TASKSTRUCT (task structure)",
      6: "NT_AUXV (auxiliary vector)",
      514: "NT_X86_XSTATE (x86 XSAVE extended state)",
    };
    if (c[type]) return c[type];
  }
  return `Unknown note type: (0x${type.toString(16).padStart(8, "0")})`;
}
