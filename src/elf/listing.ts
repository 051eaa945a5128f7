/**
 * readelf-style text listings (binutils `readelf -hlSsnW` layouts), and the JSON shape of
 * `kdumpkit elf --json`. Pure: strings out, no I/O.
 */
import { latin1 } from "../bytes/cursor.js";
import {
  fileTypeName,
  machineName,
  noteTypeName,
  osabiName,
  programTypeName,
  sectionFlags,
  sectionTypeName,
  segmentFlags,
} from "./names.js";
import { writeProgramHeaderListing } from "./program-listing.js";
import type { ElfFile } from "./reader.js";
import type { ElfHeader, ElfNote, ProgramHeader, SectionHeader } from "./types.js";

const hx = (v: number | bigint, width = 0) => BigInt(v).toString(16).padStart(width, "0");

export function listHeader(h: ElfHeader): string {
  const magic = Array.from(h.ident, (b) => b.toString(16).padStart(2, "0")).join(" ");
  const line = (k: string, v: string) => `  ${`${k}:`.padEnd(35)}${v}`;
  return [
    "ELF Header:",
    `  Magic:   ${magic} `,
    line("Class", h.class === 64 ? "ELF64" : "ELF32"),
    line("Data", h.littleEndian ? "2's complement, little endian" : "2's complement, big endian"),
    line("Version", `${h.identVersion}${h.identVersion === 1 ? " (current)" : ""}`),
    line("OS/ABI", osabiName(h.osabi)),
    line("ABI Version", String(h.abiVersion)),
    line("Type", fileTypeName(h.type)),
    line("Machine", machineName(h.machine)),
    line("Version", `0x${hx(h.version)}`),
    line("Entry point address", `0x${hx(h.entry)}`),
    line("Start of program headers", `${h.phoff} (bytes into file)`),
    line("Start of section headers", `${h.shoff} (bytes into file)`),
    line("Flags", `0x${hx(h.flags)}`),
    line("Size of this header", `${h.ehsize} (bytes)`),
    line("Size of program headers", `${h.phentsize} (bytes)`),
    line("Number of program headers", h.phnumRaw === 0xffff ? `65535 (${h.phnum})` : String(h.phnum)),
    line("Size of section headers", `${h.shentsize} (bytes)`),
    line("Number of section headers", h.shnumRaw === 0 && h.shnum ? `0 (${h.shnum})` : String(h.shnumRaw)),
    line(
      "Section header string table index",
      h.shstrndxRaw === 0xffff ? `65535 (${h.shstrndx})` : String(h.shstrndx),
    ),
    "",
  ].join("\n");
}

export function listProgramHeaders(elf: ElfFile): string {
  const chunks: Uint8Array[] = [];
  writeProgramHeaderListing(elf, (c) => chunks.push(c));
  return chunks.map((c) => latin1(c)).join("");
}

export function listSections(elf: ElfFile): string {
  const is64 = elf.class === 64;
  if (elf.sections.length === 0) return "\nThere are no sections in this file.\n";
  const out = ["Section Headers:"];
  out.push(
    is64
      ? "  [Nr] Name              Type            Address          Off    Size   ES Flg Lk Inf Al"
      : "  [Nr] Name              Type            Addr     Off    Size   ES Flg Lk Inf Al",
  );
  for (const s of elf.sections) {
    const idx = `[${String(s.index).padStart(2)}]`;
    out.push(
      `  ${idx} ${s.name.padEnd(17)} ${sectionTypeName(s.type).padEnd(15)} ${hx(s.addr, is64 ? 16 : 8)} ${hx(s.offset, 6)} ${hx(s.size, 6)} ${hx(s.entsize, 2)} ${sectionFlags(s.flags).padStart(3)} ${String(s.link).padStart(2)} ${String(s.info).padStart(3)} ${String(s.addralign).padStart(2)}`,
    );
  }
  out.push("");
  return out.join("\n");
}

export function listNotes(
  elf: ElfFile,
  notes: ElfNote[],
  describe?: (n: ElfNote) => string | undefined,
): string {
  const out: string[] = [];
  let current = "";
  for (const n of notes) {
    const key = `${n.origin.kind}:${n.origin.index}`;
    if (key !== current) {
      current = key;
      const o = n.origin;
      const p = o.kind === "segment" ? elf.programHeaders[o.index] : undefined;
      if (p)
        out.push(
          "",
          `Displaying notes found at file offset 0x${hx(p.offset, 8)} with length 0x${hx(p.filesz, 8)}:`,
        );
      else out.push("", `Displaying notes found in: ${o.kind === "segment" ? `segment ${o.index}` : o.name}`);
      out.push("  Owner                Data size \tDescription");
    }
    const extra = describe?.(n);
    out.push(
      `  ${n.name.padEnd(20)} 0x${hx(n.desc.length, 8)}\t${noteTypeName(n.name, n.type, elf.header.type === 4)}${extra ? `\t    ${extra}` : ""}`,
    );
  }
  out.push("");
  return out.join("\n");
}

/** `kdumpkit elf --json` shape (contract relied on by later checks). */
export function headerJson(h: ElfHeader) {
  return {
    class: h.class === 64 ? "ELF64" : "ELF32",
    data: h.littleEndian ? "little-endian" : "big-endian",
    osabi: h.osabi,
    abiVersion: h.abiVersion,
    type: h.type,
    typeName: fileTypeName(h.type),
    machine: h.machine,
    machineName: machineName(h.machine),
    version: h.version,
    entry: h.entry,
    phoff: BigInt(h.phoff),
    shoff: BigInt(h.shoff),
    flags: h.flags,
    ehsize: h.ehsize,
    phentsize: h.phentsize,
    phnum: h.phnum,
    phnumRaw: h.phnumRaw,
    shentsize: h.shentsize,
    shnum: h.shnum,
    shstrndx: h.shstrndx,
  };
}

export function programHeaderJson(p: ProgramHeader) {
  return {
    index: p.index,
    type: programTypeName(p.type),
    typeValue: p.type,
    offset: BigInt(p.offset),
    vaddr: p.vaddr,
    paddr: p.paddr,
    filesz: BigInt(p.filesz),
    memsz: BigInt(p.memsz),
    flags: segmentFlags(p.flags),
    align: p.align,
  };
}

export function sectionJson(s: SectionHeader) {
  return {
    index: s.index,
    name: s.name,
    type: sectionTypeName(s.type),
    typeValue: s.type,
    flags: sectionFlags(s.flags),
    flagsValue: s.flags,
    addr: s.addr,
    offset: BigInt(s.offset),
    size: BigInt(s.size),
    link: s.link,
    info: s.info,
    addralign: s.addralign,
    entsize: BigInt(s.entsize),
  };
}

export function noteJson(elf: ElfFile, n: ElfNote, decoded?: unknown) {
  const o: Record<string, unknown> = {
    name: n.name,
    type: n.type,
    typeName: noteTypeName(n.name, n.type, elf.header.type === 4),
    descsz: n.desc.length,
    offset: BigInt(n.offset),
  };
  if (decoded !== undefined) o.decoded = decoded;
  return o;
}
