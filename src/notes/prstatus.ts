/**
 * Linux core notes: NT_PRSTATUS (struct elf_prstatus, include/uapi/linux/elfcore.h) and
 * NT_PRPSINFO (struct elf_prpsinfo). The kernel writes one NT_PRSTATUS per CPU into its
 * crash_notes (kernel/crash_core.c crash_save_cpu); Xen (xen/include/xen/elfcore.h
 * ELF_Prstatus) and QEMU (target/i386/arch_dump.c x86_64_elf_prstatus) write the same shape.
 *
 * Layout, word = sizeof(long): elf_siginfo {int signo, code, errno} · short cursig · long
 * sigpend · long sighold · int pid, ppid, pgrp, sid · 4 × struct timeval {long sec, usec} ·
 * elf_gregset_t pr_reg · int fpvalid. pr_reg starts at 112 on 64-bit and at 72 on 32-bit.
 * Register order per architecture is the kernel's user_regs_struct / elf_gregset_t, with
 * the names eu-readelf prints (elfutils backends/*_corenote.c).
 */
import { Cursor } from "../bytes/cursor.js";
import { EM_386, EM_AARCH64, EM_ARM, EM_PPC64, EM_RISCV, EM_S390, EM_X86_64 } from "../elf/types.js";
import { TruncatedError } from "../errors.js";
import type { NoteContext, Register } from "./types.js";

export type PrstatusArch = "x86_64" | "i386" | "arm64" | "ppc64" | "s390x" | "arm" | "riscv64";

export interface Timeval {
  sec: number;
  usec: number;
}

export interface Prstatus {
  kind: "prstatus";
  arch: PrstatusArch;
  signo: number;
  code: number;
  errno: number;
  cursig: number;
  sigpend: bigint;
  sighold: bigint;
  pid: number;
  ppid: number;
  pgrp: number;
  sid: number;
  utime: Timeval;
  stime: Timeval;
  cutime: Timeval;
  cstime: Timeval;
  /** pr_reg, in stored order, named as eu-readelf names them. */
  registers: Register[];
  fpvalid: number;
  /** Bytes past the structure (a newer or padded producer); decoded anyway. */
  extraBytes?: number;
}

interface RegSlot {
  name: string;
  /** Width of the slot as stored, in bytes. */
  size: 4 | 8;
}

interface ArchLayout {
  arch: PrstatusArch;
  word: 4 | 8;
  /** pr_reg slots in stored order (byte order comes from the file). */
  regs: RegSlot[];
  /** sizeof(elf_gregset_t): may exceed the named slots (ppc64 pads to 48 words). */
  gregsetSize: number;
}

function slots(names: string[], size: 4 | 8): RegSlot[] {
  return names.map((name) => ({ name, size }));
}
function range(prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${i}`);
}

// arch/x86/include/asm/user_64.h struct user_regs_struct; the first 21 are struct pt_regs
// (arch/x86/include/asm/ptrace.h) in its order, which the unwinder reads from kernel stacks
export const X86_64_PR_REG_NAMES = [
  "r15",
  "r14",
  "r13",
  "r12",
  "rbp",
  "rbx",
  "r11",
  "r10",
  "r9",
  "r8",
  "rax",
  "rcx",
  "rdx",
  "rsi",
  "rdi",
  "orig_rax",
  "rip",
  "cs",
  "rflags",
  "rsp",
  "ss",
  "fs.base",
  "gs.base",
  "ds",
  "es",
  "fs",
  "gs",
] as const;

const X86_64: ArchLayout = {
  arch: "x86_64",
  word: 8,
  regs: slots([...X86_64_PR_REG_NAMES], 8),
  gregsetSize: 27 * 8,
};

// arch/x86/include/asm/user_32.h struct user_regs_struct (segment slots are longs); the 32-bit
// struct pt_regs has the same order (the frame-pointer unwinder reads it by these names)
export const I386_PR_REG_NAMES = [
  "ebx",
  "ecx",
  "edx",
  "esi",
  "edi",
  "ebp",
  "eax",
  "ds",
  "es",
  "fs",
  "gs",
  "orig_eax",
  "eip",
  "cs",
  "eflags",
  "esp",
  "ss",
] as const;

const I386: ArchLayout = {
  arch: "i386",
  word: 4,
  regs: slots([...I386_PR_REG_NAMES], 4),
  gregsetSize: 17 * 4,
};

// arch/arm64/include/uapi/asm/ptrace.h struct user_pt_regs
const ARM64: ArchLayout = {
  arch: "arm64",
  word: 8,
  regs: slots([...range("x", 31), "sp", "pc", "pstate"], 8),
  gregsetSize: 34 * 8,
};

// arch/powerpc/include/uapi/asm/ptrace.h struct pt_regs; ELF_NGREG = 48. Slot 39 is softe on
// ppc64 (elfutils, sharing ppc32's table, calls it "mq"); trap and result eu-readelf skips.
const PPC64: ArchLayout = {
  arch: "ppc64",
  word: 8,
  regs: slots(
    [
      ...range("r", 32),
      "nip",
      "msr",
      "orig_gpr3",
      "ctr",
      "lr",
      "xer",
      "cr",
      "softe",
      "trap",
      "dar",
      "dsisr",
      "result",
    ],
    8,
  ),
  gregsetSize: 48 * 8,
};

// arch/s390/include/uapi/asm/ptrace.h s390_regs: psw {mask, addr}, gprs[16], acrs[16] (u32),
// orig_gpr2
const S390X: ArchLayout = {
  arch: "s390x",
  word: 8,
  regs: [
    ...slots(["pswm", "pswa", ...range("r", 16)], 8),
    ...slots(range("a", 16), 4),
    { name: "orig_r2", size: 8 },
  ],
  gregsetSize: 216,
};

// arch/arm/include/asm/ptrace.h: r0–r15, cpsr, orig_r0 (ELF_NGREG 18). elfutils names the
// cpsr slot by its DWARF register, "spsr".
const ARM: ArchLayout = {
  arch: "arm",
  word: 4,
  regs: slots([...range("r", 13), "sp", "lr", "pc", "spsr", "orig_r0"], 4),
  gregsetSize: 18 * 4,
};

// arch/riscv/include/uapi/asm/ptrace.h struct user_regs_struct: pc, then x1–x31 by ABI name
const RISCV64: ArchLayout = {
  arch: "riscv64",
  word: 8,
  regs: slots(
    [
      "pc",
      "ra",
      "sp",
      "gp",
      "tp",
      "t0",
      "t1",
      "t2",
      "s0",
      "s1",
      ...range("a", 8),
      ...Array.from({ length: 10 }, (_, i) => `s${i + 2}`),
      "t3",
      "t4",
      "t5",
      "t6",
    ],
    8,
  ),
  gregsetSize: 32 * 8,
};

function layoutFor(ctx: NoteContext): ArchLayout | undefined {
  switch (ctx.machine) {
    case EM_X86_64:
      return X86_64;
    case EM_386:
      return I386;
    case EM_AARCH64:
      return ARM64;
    case EM_PPC64:
      return PPC64;
    case EM_S390:
      return ctx.class === 64 ? S390X : undefined;
    case EM_ARM:
      // a 32-bit kernel's elf_prstatus (148 bytes) whatever the container: kdump-compressed
      // files and ELF64 cores (kexec-tools --elf64-core-headers) hold the same note
      return ARM;
    case EM_RISCV:
      return ctx.class === 64 ? RISCV64 : undefined;
    default:
      return undefined;
  }
}

/** sizeof(struct elf_prstatus) for an architecture (rounded to the word size). */
export function prstatusSize(arch: PrstatusArch): number {
  const l = LAYOUTS[arch];
  const regOff = l.word === 8 ? 112 : 72;
  const end = regOff + l.gregsetSize + 4;
  return Math.ceil(end / l.word) * l.word;
}

const LAYOUTS: Record<PrstatusArch, ArchLayout> = {
  x86_64: X86_64,
  i386: I386,
  arm64: ARM64,
  ppc64: PPC64,
  s390x: S390X,
  arm: ARM,
  riscv64: RISCV64,
};

/** The register names of an architecture's pr_reg, in stored order. */
export function prstatusRegisterNames(arch: PrstatusArch): string[] {
  return LAYOUTS[arch].regs.map((r) => r.name);
}

/**
 * Decode an NT_PRSTATUS descriptor. Returns undefined for an e_machine without a known
 * layout (shown raw); throws TruncatedError when the descriptor is shorter than the
 * structure.
 */
export function decodePrstatus(desc: Uint8Array, ctx: NoteContext, base = 0): Prstatus | undefined {
  const l = layoutFor(ctx);
  if (!l) return undefined;
  const size = prstatusSize(l.arch);
  // The int pr_fpvalid after pr_reg is sometimes cut off by producers that size the note as
  // offsetof(pr_fpvalid); accept that, but never less than the registers.
  const w = l.word;
  const regOff = w === 8 ? 112 : 72;
  if (desc.length < regOff + l.gregsetSize) {
    throw new TruncatedError(base, size, desc.length, `NT_PRSTATUS (${l.arch})`);
  }
  const c = new Cursor(desc, ctx.littleEndian, base);
  const word = (at: number): bigint => c.word(w, at);
  const timeval = (at: number): Timeval => ({
    sec: Number(BigInt.asIntN(w * 8, word(at))),
    usec: Number(BigInt.asIntN(w * 8, word(at + w))),
  });
  // offsets: sigpend after the short cursig, aligned to the word
  const sigpendOff = 16;
  const sigholdOff = sigpendOff + w;
  const pidOff = sigholdOff + w;
  const timeOff = pidOff + 16;
  const registers: Register[] = [];
  let at = regOff;
  for (const s of l.regs) {
    registers.push({ name: s.name, value: c.word(s.size, at), bits: s.size === 8 ? 64 : 32 });
    at += s.size;
  }
  const fpOff = regOff + l.gregsetSize;
  const out: Prstatus = {
    kind: "prstatus",
    arch: l.arch,
    signo: c.i32(0),
    code: c.i32(4),
    errno: c.i32(8),
    cursig: c.i16(12),
    sigpend: word(sigpendOff),
    sighold: word(sigholdOff),
    pid: c.i32(pidOff),
    ppid: c.i32(pidOff + 4),
    pgrp: c.i32(pidOff + 8),
    sid: c.i32(pidOff + 12),
    utime: timeval(timeOff),
    stime: timeval(timeOff + 2 * w),
    cutime: timeval(timeOff + 4 * w),
    cstime: timeval(timeOff + 6 * w),
    registers,
    fpvalid: desc.length >= fpOff + 4 ? c.i32(fpOff) : 0,
  };
  if (desc.length > size) out.extraBytes = desc.length - size;
  return out;
}

export interface Prpsinfo {
  kind: "prpsinfo";
  state: number;
  sname: string;
  zomb: number;
  nice: number;
  flag: bigint;
  uid: number;
  gid: number;
  pid: number;
  ppid: number;
  pgrp: number;
  sid: number;
  fname: string;
  psargs: string;
}

/**
 * Decode NT_PRPSINFO (struct elf_prpsinfo). The layout follows from the size: 136 bytes on
 * 64-bit, 124 on i386 (16-bit __kernel_uid_t), 128 on other 32-bit ABIs.
 */
export function decodePrpsinfo(desc: Uint8Array, ctx: NoteContext, base = 0): Prpsinfo {
  const c = new Cursor(desc, ctx.littleEndian, base);
  let w: 4 | 8;
  let idSize: 2 | 4;
  if (desc.length >= 136 && ctx.class === 64) {
    w = 8;
    idSize = 4;
  } else if (desc.length === 124 || (ctx.machine === EM_386 && desc.length < 128)) {
    w = 4;
    idSize = 2;
  } else {
    w = 4;
    idSize = 4;
  }
  const flagOff = w; // 4 chars then the long, aligned
  const uidOff = flagOff + w;
  const gidOff = uidOff + idSize;
  const pidOff = gidOff + idSize;
  const fnameOff = pidOff + 16;
  const psargsOff = fnameOff + 16;
  const need = psargsOff + 80;
  if (desc.length < need) throw new TruncatedError(base, need, desc.length, "NT_PRPSINFO");
  const id = (at: number): number => (idSize === 2 ? c.u16(at) : c.u32(at));
  const sname = c.u8(1);
  return {
    kind: "prpsinfo",
    state: c.u8(0),
    sname: sname >= 0x20 && sname < 0x7f ? String.fromCharCode(sname) : "",
    zomb: c.u8(2),
    nice: (c.u8(3) << 24) >> 24,
    flag: c.word(w, flagOff),
    uid: id(uidOff),
    gid: id(gidOff),
    pid: c.i32(pidOff),
    ppid: c.i32(pidOff + 4),
    pgrp: c.i32(pidOff + 8),
    sid: c.i32(pidOff + 12),
    fname: c.fixedString(16, fnameOff),
    psargs: c.fixedString(80, psargsOff),
  };
}
