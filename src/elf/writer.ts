import { Writer } from "../bytes/cursor.js";
import { FormatError } from "../errors.js";
import { phdrSize, shdrSize } from "./reader.js";
import {
  type ElfClass,
  type ElfHeader,
  PN_XNUM,
  type ProgramHeader,
  PT_NOTE,
  type SectionHeader,
  SHT_NOTE,
  SHT_NULL,
  SHT_STRTAB,
  SHT_SYMTAB,
} from "./types.js";

/**
 * Encode an ELF file header exactly as given (e_ident bytes, raw counts): a header parsed by
 * ElfFile and encoded again is byte-identical.
 */
export function encodeElfHeader(h: ElfHeader): Uint8Array {
  const w = new Writer(h.littleEndian, 64);
  const ident = new Uint8Array(16);
  ident.set(h.ident.subarray(0, 16));
  w.bytes(ident);
  w.u16(h.type).u16(h.machine).u32(h.version);
  w.word(h.class === 64 ? 8 : 4, h.entry);
  w.word(h.class === 64 ? 8 : 4, h.phoff);
  w.word(h.class === 64 ? 8 : 4, h.shoff);
  w.u32(h.flags)
    .u16(h.ehsize)
    .u16(h.phentsize)
    .u16(h.phnumRaw)
    .u16(h.shentsize)
    .u16(h.shnumRaw)
    .u16(h.shstrndxRaw);
  return w.finish();
}

export function writeProgramHeader(w: Writer, p: Omit<ProgramHeader, "index">, cls: ElfClass): void {
  if (cls === 64) {
    w.u32(p.type)
      .u32(p.flags)
      .u64(p.offset)
      .u64(p.vaddr)
      .u64(p.paddr)
      .u64(p.filesz)
      .u64(p.memsz)
      .u64(p.align);
  } else {
    const chk = (v: bigint | number, what: string) => {
      if (BigInt(v) > 0xffff_ffffn)
        throw new FormatError(`${what} 0x${BigInt(v).toString(16)} does not fit in ELF32`);
      return v;
    };
    w.u32(p.type).u32(Number(chk(p.offset, "p_offset")));
    w.u32(Number(chk(p.vaddr, "p_vaddr"))).u32(Number(chk(p.paddr, "p_paddr")));
    w.u32(Number(chk(p.filesz, "p_filesz"))).u32(Number(chk(p.memsz, "p_memsz")));
    w.u32(p.flags).u32(Number(chk(p.align, "p_align")));
  }
}

/** Encode one program header (byte-exact for both classes). */
export function encodeProgramHeader(
  p: Omit<ProgramHeader, "index">,
  cls: ElfClass,
  littleEndian: boolean,
): Uint8Array {
  const w = new Writer(littleEndian, phdrSize(cls));
  writeProgramHeader(w, p, cls);
  return w.finish();
}

export function writeSectionHeader(w: Writer, s: Omit<SectionHeader, "index" | "name">, cls: ElfClass): void {
  if (cls === 64) {
    w.u32(s.nameOffset).u32(s.type).u64(s.flags).u64(s.addr).u64(s.offset).u64(s.size);
    w.u32(s.link).u32(s.info).u64(s.addralign).u64(s.entsize);
  } else {
    w.u32(s.nameOffset).u32(s.type).u32(Number(s.flags)).u32(Number(s.addr)).u32(s.offset).u32(s.size);
    w.u32(s.link).u32(s.info).u32(Number(s.addralign)).u32(s.entsize);
  }
}

export interface NoteInput {
  name: string;
  type: number;
  desc: Uint8Array;
}

/**
 * A dump's notes carried into an output, then the writer's own: an own note replaces the
 * carried ones of its name and type (a conversion's KDUMPKIT note describes the new file, not
 * its input's; readers take the first one).
 */
export function carryNotes(carried: readonly NoteInput[], own: readonly NoteInput[]): NoteInput[] {
  const mine = (n: NoteInput) => own.some((o) => o.name === n.name && o.type === n.type);
  return [...carried.filter((n) => !mine(n)), ...own];
}

/** Encode notes (Elf_Nhdr + name + desc, each padded to 4). The name gets its NUL. */
export function encodeNotes(notes: NoteInput[], littleEndian: boolean, align = 4): Uint8Array {
  const w = new Writer(littleEndian, 256);
  const enc = new TextEncoder();
  for (const n of notes) {
    const name = n.name.length ? enc.encode(`${n.name}\0`) : new Uint8Array(0);
    w.u32(name.length).u32(n.desc.length).u32(n.type);
    w.bytes(name).align(align);
    w.bytes(n.desc).align(align);
  }
  return w.finish();
}

export interface SegmentInput {
  type: number;
  flags: number;
  vaddr: bigint;
  paddr: bigint;
  /** Bytes stored in the file (p_filesz = data.length). */
  data?: Uint8Array;
  /** Defaults to data.length. */
  memsz?: number;
  align?: bigint;
  /** Fixed file offset; otherwise laid out after the previous content (aligned to `fileAlign`). */
  offset?: number;
  /** Declared p_filesz when it must differ from data.length (truncated-file tests). */
  filesz?: number;
}

export interface SectionInput {
  name: string;
  type: number;
  flags?: bigint;
  addr?: bigint;
  data?: Uint8Array;
  /** For SHT_NOBITS: size without data. */
  size?: number;
  link?: number;
  info?: number;
  addralign?: bigint;
  entsize?: number;
}

export interface SymbolInput {
  name: string;
  value: bigint;
  size?: bigint;
  type?: number;
  bind?: number;
  other?: number;
  shndx?: number;
}

/**
 * Builds whole ELF files (synthetic test images, cores). Layout: ELF header, program headers,
 * segment data, section data, section headers. PN_XNUM is used automatically above 65,534
 * program headers.
 */
export class ElfBuilder {
  private readonly segments: SegmentInput[] = [];
  private readonly sectionsIn: SectionInput[] = [];
  readonly class: ElfClass;
  readonly littleEndian: boolean;
  constructor(
    readonly opts: {
      class: ElfClass;
      littleEndian?: boolean;
      type: number;
      machine: number;
      entry?: bigint;
      flags?: number;
      osabi?: number;
      /** File alignment of segment data (default 8). */
      fileAlign?: number;
    },
  ) {
    this.class = opts.class;
    this.littleEndian = opts.littleEndian ?? true;
  }
  addSegment(s: SegmentInput): number {
    this.segments.push(s);
    return this.segments.length - 1;
  }
  addNoteSegment(notes: NoteInput[], extra: Partial<SegmentInput> = {}): number {
    return this.addSegment({
      type: PT_NOTE,
      flags: 0,
      vaddr: 0n,
      paddr: 0n,
      align: 4n,
      ...extra,
      data: encodeNotes(notes, this.littleEndian),
    });
  }
  /** Returns the section index (section 0 is the NULL section added automatically). */
  addSection(s: SectionInput): number {
    this.sectionsIn.push(s);
    return this.sectionsIn.length;
  }
  addNoteSection(name: string, notes: NoteInput[]): number {
    return this.addSection({
      name,
      type: SHT_NOTE,
      data: encodeNotes(notes, this.littleEndian),
      addralign: 4n,
    });
  }
  /** Adds .symtab + .strtab; symbols get STB_GLOBAL/STT_NOTYPE unless given. */
  addSymbols(symbols: SymbolInput[]): number {
    const enc = new TextEncoder();
    const str = new Writer(true, 1024);
    str.u8(0);
    const w = new Writer(this.littleEndian, 1024);
    const sym = (nameOff: number, s: SymbolInput) => {
      const info = ((s.bind ?? 1) << 4) | ((s.type ?? 0) & 0xf);
      if (this.class === 64) {
        w.u32(nameOff)
          .u8(info)
          .u8(s.other ?? 0)
          .u16(s.shndx ?? 0xfff1)
          .u64(s.value)
          .u64(s.size ?? 0n);
      } else {
        w.u32(nameOff)
          .u32(Number(s.value))
          .u32(Number(s.size ?? 0n))
          .u8(info)
          .u8(s.other ?? 0)
          .u16(s.shndx ?? 0xfff1);
      }
    };
    sym(0, { name: "", value: 0n, bind: 0, shndx: 0 });
    for (const s of symbols) {
      const off = str.length;
      str.bytes(enc.encode(s.name)).u8(0);
      sym(off, s);
    }
    const strIndex = this.sectionsIn.length + 2; // .symtab comes first, then .strtab
    const symIndex = this.addSection({
      name: ".symtab",
      type: SHT_SYMTAB,
      data: w.finish(),
      link: strIndex,
      info: 1,
      addralign: 8n,
      entsize: this.class === 64 ? 24 : 16,
    });
    this.addSection({ name: ".strtab", type: SHT_STRTAB, data: str.finish(), addralign: 1n });
    return symIndex;
  }

  build(): Uint8Array {
    const cls = this.class;
    const le = this.littleEndian;
    const ehsize = cls === 64 ? 64 : 52;
    const phsize = phdrSize(cls);
    const shsize = shdrSize(cls);
    const fileAlign = this.opts.fileAlign ?? 8;
    const nph = this.segments.length;
    const xnum = nph >= PN_XNUM;
    const wantSections = this.sectionsIn.length > 0 || xnum;

    const w = new Writer(le, 4096);
    w.zeros(ehsize + nph * phsize);
    // segment data
    const phdrs: Omit<ProgramHeader, "index">[] = [];
    for (const s of this.segments) {
      const data = s.data ?? new Uint8Array(0);
      let offset: number;
      if (s.offset !== undefined) {
        offset = s.offset;
        if (offset + data.length > w.length) w.seek(w.length).zeros(offset + data.length - w.length);
        const save = w.length;
        w.seek(offset).bytes(data);
        w.seek(Math.max(save, offset + data.length));
      } else {
        w.align(fileAlign);
        offset = data.length ? w.length : 0;
        w.bytes(data);
      }
      phdrs.push({
        type: s.type,
        flags: s.flags,
        offset,
        vaddr: s.vaddr,
        paddr: s.paddr,
        filesz: s.filesz ?? data.length,
        memsz: s.memsz ?? data.length,
        align: s.align ?? 0n,
      });
    }
    // sections: NULL, user sections, .shstrtab
    const shdrs: Omit<SectionHeader, "index" | "name">[] = [];
    let shstrndx = 0;
    if (wantSections) {
      const names = new Writer(true, 256);
      names.u8(0);
      const enc = new TextEncoder();
      const nameOf = (n: string) => {
        const off = names.length;
        names.bytes(enc.encode(n)).u8(0);
        return off;
      };
      shdrs.push({
        nameOffset: 0,
        type: SHT_NULL,
        flags: 0n,
        addr: 0n,
        offset: 0,
        size: 0,
        link: 0,
        info: xnum ? nph : 0,
        addralign: 0n,
        entsize: 0,
      });
      for (const s of this.sectionsIn) {
        const data = s.data ?? new Uint8Array(0);
        w.align(Math.max(1, Number(s.addralign ?? 1n)));
        const offset = w.length;
        w.bytes(data);
        shdrs.push({
          nameOffset: nameOf(s.name),
          type: s.type,
          flags: s.flags ?? 0n,
          addr: s.addr ?? 0n,
          offset,
          size: s.size ?? data.length,
          link: s.link ?? 0,
          info: s.info ?? 0,
          addralign: s.addralign ?? 1n,
          entsize: s.entsize ?? 0,
        });
      }
      const shstrName = nameOf(".shstrtab");
      const strBytes = names.finish();
      const off = w.length;
      w.bytes(strBytes);
      shstrndx = shdrs.length;
      shdrs.push({
        nameOffset: shstrName,
        type: SHT_STRTAB,
        flags: 0n,
        addr: 0n,
        offset: off,
        size: strBytes.length,
        link: 0,
        info: 0,
        addralign: 1n,
        entsize: 0,
      });
    }
    w.align(8);
    const shoff = shdrs.length ? w.length : 0;
    for (const s of shdrs) writeSectionHeader(w, s, cls);
    const end = w.length;
    // header and program headers
    w.seek(0);
    const ident = new Uint8Array(16);
    ident.set([0x7f, 0x45, 0x4c, 0x46, cls === 64 ? 2 : 1, le ? 1 : 2, 1, this.opts.osabi ?? 0]);
    const header: ElfHeader = {
      ident,
      class: cls,
      littleEndian: le,
      identVersion: 1,
      osabi: this.opts.osabi ?? 0,
      abiVersion: 0,
      type: this.opts.type,
      machine: this.opts.machine,
      version: 1,
      entry: this.opts.entry ?? 0n,
      phoff: nph ? ehsize : 0,
      shoff,
      flags: this.opts.flags ?? 0,
      ehsize,
      phentsize: nph ? phsize : 0,
      phnumRaw: xnum ? PN_XNUM : nph,
      shentsize: shdrs.length ? shsize : 0,
      shnumRaw: shdrs.length,
      shstrndxRaw: shstrndx,
      phnum: nph,
      shnum: shdrs.length,
      shstrndx,
    };
    w.bytes(encodeElfHeader(header));
    for (const p of phdrs) writeProgramHeader(w, p, cls);
    w.seek(end);
    return w.finish();
  }
}
