/**
 * The Xen hypervisor start note ("Plan B", kexec-tools/xen-devel, 2008): a PT_NOTE holding one
 * "Xen" note of type 0x1000003 whose 64-bit descriptor is the physical start of the hypervisor,
 * so that dump tools can find Xen's page tables without guessing xen_phys_start. It was
 * proposed and never merged; we offer it as an option.
 *
 * The trap: the only place dom0 sees the hypervisor is /proc/iomem's "Hypervisor code and
 * data", and that line does NOT always start at xen_phys_start. Xen 3.2–3.3 report the xenheap
 * start = xen_phys_start; Xen 3.4–4.8 report
 * __pa(&_stext) = xen_phys_start + 1 MiB; Xen >= 4.9 link the image at XEN_IMG_OFFSET = 2 MiB
 * (xen/arch/x86/include/asm/config.h), so the line starts at xen_phys_start + 2 MiB. Given the
 * Xen version we subtract the right offset; without it we write the iomem value unchanged (as
 * the 2008 patch did) and warn.
 */

import { type ElfFile, parseNotes, phdrSize } from "../elf/reader.js";
import { type ElfNote, PT_NOTE } from "../elf/types.js";
import { encodeNotes } from "../elf/writer.js";
import { FormatError, hex } from "../errors.js";
import { xenPhysStartFromIomemStart } from "../xen/layout.js";
import { type CorePhdr, notePhdr, type XenStartNoteInput } from "./types.js";

/** Note type of the proposal, next to XEN_ELFNOTE_CRASH_INFO (0x1000001) and _CRASH_REGS (0x1000002). */
export const XEN_ELFNOTE_HYPERVISOR_START = 0x1000003;

/** The rule lives with Xen's layout (one function for `xen info --iomem` and this note). */
export { xenIomemOffset } from "../xen/layout.js";

export function xenPhysStartFromIomem(iomemStart: number, v: { major: number; minor: number }): number {
  const r = xenPhysStartFromIomemStart(iomemStart, v);
  if (typeof r === "string") throw new FormatError(r);
  return r;
}

export function xenStartNote(
  inp: XenStartNoteInput,
  littleEndian: boolean,
  warnings: string[],
  wordSize: 4 | 8 = 8,
): { phdr: CorePhdr; bytes: Uint8Array } {
  let start = inp.iomemStart;
  let why: string;
  if (inp.xenVersion) {
    start = xenPhysStartFromIomem(inp.iomemStart, inp.xenVersion);
    why = `Xen hypervisor start note: xen_phys_start ${hex(start)} = iomem "Hypervisor code and data" ${hex(inp.iomemStart)} - ${hex(inp.iomemStart - start)} (Xen ${inp.xenVersion.major}.${inp.xenVersion.minor})`;
  } else {
    why = `Xen hypervisor start note: iomem "Hypervisor code and data" ${hex(inp.iomemStart)} written unchanged (2008 behaviour)`;
    warnings.push(
      "Xen start note holds iomem's value, which is xen_phys_start + 1 MiB (Xen 3.4-4.8) or + 2 MiB (Xen >= 4.9): give the Xen version to store xen_phys_start itself",
    );
  }
  const desc = new Uint8Array(wordSize);
  if (wordSize === 4 && start > 0xffffffff)
    throw new FormatError(`xen_phys_start ${hex(start)} does not fit the 4-byte word of an i386 kexec-tools`);
  if (wordSize === 4) new DataView(desc.buffer).setUint32(0, start, littleEndian);
  else new DataView(desc.buffer).setBigUint64(0, BigInt(start), littleEndian);
  const bytes = encodeNotes([{ name: "Xen", type: XEN_ELFNOTE_HYPERVISOR_START, desc }], littleEndian);
  return {
    // placed by the caller right after the last program header: p_offset is set there
    phdr: notePhdr("xen-start-note", 0, bytes.length, why),
    bytes,
  };
}

/** A PT_NOTE whose notes lie inside the header segment itself (the Plan-B note). */
export interface EmbeddedHeaderNote {
  phdrIndex: number;
  /** File offset of the notes in the header. */
  at: number;
  notes: ElfNote[];
  /** Where the header was loaded, as p_offset − at implies. */
  headerAddress: number;
}

/**
 * The notes a raw ELF core header carries inside itself: thread 000's patch writes the note
 * right after the last program header and sets only p_offset (header address + that offset),
 * leaving p_paddr 0. A PT_NOTE is taken as embedded when the bytes after the table parse as
 * notes filling exactly p_filesz, and p_offset is consistent with the header being loaded at a
 * page-aligned address.
 */
export function embeddedHeaderNotes(elf: ElfFile): EmbeddedHeaderNote[] {
  if (!elf.rawCoreHeader) return [];
  const h = elf.header;
  const at = h.phoff + elf.programHeaderCount * phdrSize(h.class);
  const out: EmbeddedHeaderNote[] = [];
  for (const p of elf.programHeaders) {
    if (p.type !== PT_NOTE || p.filesz === 0 || p.filesz > 4096) continue;
    if (at + p.filesz > elf.source.size || p.offset < at || (p.offset - at) % 4096 !== 0) continue;
    if (p.paddr !== 0n && p.paddr !== BigInt(p.offset)) continue;
    let notes: ElfNote[];
    try {
      notes = parseNotes(elf.source.readSync(at, p.filesz).slice(), h.littleEndian, at, {
        kind: "segment",
        index: p.index,
      });
    } catch {
      continue;
    }
    if (notes.length === 0) continue;
    out.push({ phdrIndex: p.index, at, notes, headerAddress: p.offset - at });
  }
  return out;
}
