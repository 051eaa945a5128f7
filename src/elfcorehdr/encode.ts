/**
 * Lay out a core header buffer with the ELF writer's encoders (src/elf/writer.ts): ELF header
 * as both kexec-tools (crashdump-elf.c) and the kernel (crash_prepare_elf64_headers) fill it —
 * ET_CORE, EV_CURRENT, ELFOSABI_NONE, e_phoff = e_ehsize, no sections, e_entry 0 — then the
 * program headers, then zeros up to the allocated size.
 */

import { type ElfHeader, ET_CORE } from "../elf/types.js";
import { encodeElfHeader, encodeProgramHeader } from "../elf/writer.js";
import { LimitError } from "../errors.js";
import type { CorePhdr } from "./types.js";

export function ehdrSize(cls: 32 | 64): number {
  return cls === 64 ? 64 : 52;
}
export function phdrSize(cls: 32 | 64): number {
  return cls === 64 ? 56 : 32;
}

export function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

/** Bound on the segment we allocate: 32768 ranges + CPUs of phdrs is ~2 MiB. */
const MAX_SEGMENT = 64 << 20;

export function coreElfHeader(
  cls: 32 | 64,
  littleEndian: boolean,
  machine: number,
  phnum: number,
): ElfHeader {
  const ident = new Uint8Array(16);
  ident.set([0x7f, 0x45, 0x4c, 0x46, cls === 64 ? 2 : 1, littleEndian ? 1 : 2, 1, 0]);
  if (phnum > 0xfffe) throw new LimitError("core header program headers", phnum, 0xfffe);
  return {
    ident,
    class: cls,
    littleEndian,
    identVersion: 1,
    osabi: 0,
    abiVersion: 0,
    type: ET_CORE,
    machine,
    version: 1,
    entry: 0n,
    phoff: ehdrSize(cls),
    shoff: 0,
    flags: 0,
    ehsize: ehdrSize(cls),
    phentsize: phdrSize(cls),
    phnumRaw: phnum,
    shentsize: 0,
    shnumRaw: 0,
    shstrndxRaw: 0,
    phnum,
    shnum: 0,
    shstrndx: 0,
  };
}

/** Write header + phdrs into a zeroed buffer of `segmentSize` bytes; returns [segment, header]. */
export function layoutCoreHeader(
  cls: 32 | 64,
  littleEndian: boolean,
  machine: number,
  phdrs: readonly CorePhdr[],
  segmentSize: number,
): { segment: Uint8Array; header: Uint8Array } {
  const headerSize = ehdrSize(cls) + phdrs.length * phdrSize(cls);
  if (segmentSize < headerSize) segmentSize = headerSize;
  if (segmentSize > MAX_SEGMENT) throw new LimitError("core header size", segmentSize, MAX_SEGMENT);
  const segment = new Uint8Array(segmentSize);
  segment.set(encodeElfHeader(coreElfHeader(cls, littleEndian, machine, phdrs.length)), 0);
  let at = ehdrSize(cls);
  for (const p of phdrs) {
    segment.set(
      encodeProgramHeader(
        {
          type: p.type,
          flags: p.flags,
          offset: p.offset,
          vaddr: p.vaddr,
          paddr: BigInt(p.paddr),
          filesz: p.filesz,
          memsz: p.memsz,
          align: BigInt(p.align),
        },
        cls,
        littleEndian,
      ),
      at,
    );
    at += phdrSize(cls);
  }
  return { segment, header: segment.subarray(0, headerSize) };
}
