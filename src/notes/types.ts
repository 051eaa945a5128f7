/**
 * Shapes shared by the note decoders. Decoders are pure functions of a note's bytes and the
 * file's e_machine/class/byte order; they never do I/O.
 */
import { archByUname } from "../arch/table.js";

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

/**
 * A NoteContext for a dump format that names its machine by utsname.machine (kdump-compressed
 * headers) instead of e_machine.
 */
export function noteContextForMachine(machine: string, wordSize: 4 | 8, littleEndian: boolean): NoteContext {
  const cls: 32 | 64 = wordSize === 8 ? 64 : 32;
  return { machine: archByUname(machine)?.eMachine ?? 0, class: cls, littleEndian };
}
