/**
 * The one architecture table: every place that names a machine (ELF e_machine, the utsname
 * machine string of a kdump-compressed header, kdumpkit's short name) looks it up here.
 * Pointer size and byte order are properties of the machine, not of the container: an i386
 * core written with ELF64 headers (kexec-tools --elf64-core-headers) still has 4-byte pointers.
 */

export interface ArchInfo {
  /** kdumpkit's short name ("x86_64", "i386", "arm64", …), the value of Dump.arch. */
  readonly name: string;
  /** ELF e_machine. */
  readonly eMachine: number;
  /** Kernel pointer size in bytes. */
  readonly pointerSize: 4 | 8;
  /** Byte order; undefined where the architecture runs either way (then the container says). */
  readonly littleEndian: boolean | undefined;
  /** utsname.machine strings (`uname -m`, kdump header) that name this architecture. */
  readonly unameMachines: RegExp;
  /** The utsname.machine a kdump-compressed writer puts in its header. */
  readonly unameMachine: string;
}

// e_machine values: include/uapi/linux/elf-em.h. utsname strings: each arch's UTS_MACHINE
// (arch/*/Makefile); "arm64" appears in some hand-made headers, "aarch64" is the kernel's.
export const ARCHES: readonly ArchInfo[] = [
  {
    name: "x86_64",
    eMachine: 62,
    pointerSize: 8,
    littleEndian: true,
    unameMachines: /^(x86_64|amd64)$/,
    unameMachine: "x86_64",
  },
  {
    name: "i386",
    eMachine: 3,
    pointerSize: 4,
    littleEndian: true,
    unameMachines: /^(i[3-6]86|x86)$/,
    unameMachine: "i686",
  },
  {
    name: "arm64",
    eMachine: 183,
    pointerSize: 8,
    littleEndian: undefined,
    unameMachines: /^(aarch64(_be)?|arm64)$/,
    unameMachine: "aarch64",
  },
  {
    name: "arm",
    eMachine: 40,
    pointerSize: 4,
    littleEndian: undefined,
    unameMachines: /^arm(v[0-9][a-z]*)?(b|l)?$/,
    unameMachine: "armv7l",
  },
  {
    name: "ppc64",
    eMachine: 21,
    pointerSize: 8,
    littleEndian: undefined,
    unameMachines: /^ppc64(le)?$/,
    unameMachine: "ppc64le",
  },
  {
    name: "ppc",
    eMachine: 20,
    pointerSize: 4,
    littleEndian: false,
    unameMachines: /^(ppc|powerpc)$/,
    unameMachine: "ppc",
  },
  {
    name: "s390x",
    eMachine: 22,
    pointerSize: 8,
    littleEndian: false,
    unameMachines: /^s390x$/,
    unameMachine: "s390x",
  },
  {
    name: "riscv64",
    eMachine: 243,
    pointerSize: 8,
    littleEndian: true,
    unameMachines: /^riscv64$/,
    unameMachine: "riscv64",
  },
  {
    name: "loongarch64",
    eMachine: 258,
    pointerSize: 8,
    littleEndian: true,
    unameMachines: /^loongarch64$/,
    unameMachine: "loongarch64",
  },
  {
    name: "mips64",
    eMachine: 8,
    pointerSize: 8,
    littleEndian: undefined,
    unameMachines: /^mips64(el)?$/,
    unameMachine: "mips64",
  },
  {
    name: "sparc64",
    eMachine: 43,
    pointerSize: 8,
    littleEndian: false,
    unameMachines: /^sparc64$/,
    unameMachine: "sparc64",
  },
  {
    name: "ia64",
    eMachine: 50,
    pointerSize: 8,
    littleEndian: true,
    unameMachines: /^ia64$/,
    unameMachine: "ia64",
  },
];

const BY_NAME = new Map(ARCHES.map((a) => [a.name, a]));
const BY_EM = new Map(ARCHES.map((a) => [a.eMachine, a]));

/** The architecture of an ELF e_machine, or undefined. (EM_MIPS is 32- or 64-bit: see archFor.) */
export function archByMachine(eMachine: number): ArchInfo | undefined {
  return BY_EM.get(eMachine);
}

/** The architecture a utsname.machine string names, or undefined. */
export function archByUname(machine: string | undefined): ArchInfo | undefined {
  if (!machine) return undefined;
  for (const a of ARCHES) if (a.unameMachines.test(machine)) return a;
  // 32-bit MIPS and s390 have no entry of their own yet
  return undefined;
}

/** The architecture of a short name ("arm64"), or undefined. */
export function archByName(name: string | undefined): ArchInfo | undefined {
  return name === undefined ? undefined : BY_NAME.get(name);
}

/** Short name of an e_machine ("machine-N" when unknown). EM_MIPS in an ELF32 file is "mips". */
export function archNameOfMachine(eMachine: number, elfClass?: 32 | 64): string {
  if (eMachine === 8 && elfClass === 32) return "mips";
  return archByMachine(eMachine)?.name ?? `machine-${eMachine}`;
}

/** Short name of a utsname.machine string: the table's name, else the string itself. */
export function archNameOfUname(machine: string | undefined): string | undefined {
  if (!machine) return undefined;
  return archByUname(machine)?.name ?? machine;
}

/** Pointer size of an architecture by short name; `fallback` (the container's word) if unknown. */
export function pointerSizeOf(name: string | undefined, fallback: 4 | 8): 4 | 8 {
  if (name === "mips") return 4;
  return archByName(name)?.pointerSize ?? fallback;
}
