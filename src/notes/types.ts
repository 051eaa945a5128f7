/**
 * Shapes shared by the note decoders. Decoders are pure functions of a note's bytes and the
 * file's e_machine/class/byte order; they never do I/O.
 */

/** What a decoder needs to know about the file a note came from. */
export interface NoteContext {
  /** e_machine (EM_X86_64, EM_386, …). */
  machine: number;
  class: 32 | 64;
  littleEndian: boolean;
}

/** One register, in the order the structure stores it. */
export interface Register {
  /** Name as eu-readelf prints it ("rip", "rflags", "fs.base", "x29", "pswa", …). */
  name: string;
  /** Raw value, unsigned (modulo 2^bits). */
  value: bigint;
  /** Width in bits as stored. */
  bits: 16 | 32 | 64;
}

/** Look a register up by name. */
export function registerValue(regs: readonly Register[], name: string): bigint | undefined {
  for (const r of regs) if (r.name === name) return r.value;
  return undefined;
}

const EM_386 = 3;
const EM_PPC64 = 21;
const EM_S390 = 22;
const EM_X86_64 = 62;
const EM_AARCH64 = 183;
const EM_ARM = 40;
const EM_RISCV = 243;

/**
 * A NoteContext for a dump format that names its machine by utsname.machine (kdump-compressed
 * headers) instead of e_machine.
 */
export function noteContextForMachine(machine: string, wordSize: 4 | 8, littleEndian: boolean): NoteContext {
  const cls: 32 | 64 = wordSize === 8 ? 64 : 32;
  let em = 0;
  if (machine === "x86_64") em = EM_X86_64;
  else if (/^i[3-6]86$/.test(machine)) em = EM_386;
  else if (machine === "aarch64" || machine === "arm64") em = EM_AARCH64;
  else if (/^ppc64(le)?$/.test(machine)) em = EM_PPC64;
  else if (machine === "s390x") em = EM_S390;
  // 32-bit ARM kernels report armv7l, armv6l, armv5tel… (utsname.machine)
  else if (/^arm(v\d.*)?$/.test(machine)) em = EM_ARM;
  else if (machine === "riscv64") em = EM_RISCV;
  return { machine: em, class: cls, littleEndian };
}
