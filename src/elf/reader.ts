import { Cursor, decodeText } from "../bytes/cursor.js";
import type { SyncByteSource } from "../bytes/source.js";
import { FormatError, hex, LimitError, TruncatedError } from "../errors.js";
import {
  type ElfClass,
  type ElfHeader,
  type ElfNote,
  type ElfSymbol,
  type ElfWarning,
  PN_XNUM,
  type ProgramHeader,
  PT_LOAD,
  PT_NOTE,
  type SectionHeader,
  SHN_XINDEX,
  SHT_DYNSYM,
  SHT_NOBITS,
  SHT_NOTE,
  SHT_SYMTAB,
} from "./types.js";

/** Sanity limits: real files stay far below; a hostile header cannot make us allocate more. */
export const ELF_LIMITS = {
  /** QEMU paging dumps reach ~66k phdrs; leave room for very large machines. */
  maxProgramHeaders: 16 * 1024 * 1024,
  maxSections: 4 * 1024 * 1024,
  /** A single note's name or descriptor. */
  maxNoteSize: 64 * 1024 * 1024,
  /**
   * Notes in one file: a 8192-CPU machine's vmcore has ~25k (PRSTATUS and friends per CPU);
   * more is a note bomb (many PT_NOTEs over the same bytes, or a segment of empty notes).
   */
  maxNotes: 256 * 1024,
  /** Bytes of distinct note containers decoded, summed. */
  maxNoteBytes: 512 * 1024 * 1024,
  /** Symbols in one table (the 633 MB debug vmlinux has ~150k). */
  maxSymbols: 64 * 1024 * 1024,
};

export const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];

export function isElf(head: Uint8Array): boolean {
  return head.length >= 4 && ELF_MAGIC.every((b, i) => head[i] === b);
}

function ehdrSize(cls: ElfClass): number {
  return cls === 64 ? 64 : 52;
}
export function phdrSize(cls: ElfClass): number {
  return cls === 64 ? 56 : 32;
}
export function shdrSize(cls: ElfClass): number {
  return cls === 64 ? 64 : 40;
}

/** Decode the ELF file header from (at least) its first 64 bytes. Counts are raw here. */
export function decodeElfHeader(bytes: Uint8Array, warnings: ElfWarning[] = []): ElfHeader {
  if (bytes.length < 16) throw new TruncatedError(0, 16, bytes.length, "ELF identification");
  if (!isElf(bytes)) throw new FormatError("not an ELF file", 0, "\\x7fELF");
  const eiClass = bytes[4];
  if (eiClass !== 1 && eiClass !== 2)
    throw new FormatError(`bad EI_CLASS ${eiClass}`, 4, "1 (ELF32) or 2 (ELF64)");
  const cls: ElfClass = eiClass === 2 ? 64 : 32;
  const eiData = bytes[5];
  if (eiData !== 1 && eiData !== 2) throw new FormatError(`bad EI_DATA ${eiData}`, 5, "1 (LSB) or 2 (MSB)");
  const le = eiData === 1;
  const c = new Cursor(bytes, le);
  c.need(ehdrSize(cls), 0, "ELF header");
  c.seek(16);
  const type = c.u16();
  const machine = c.u16();
  const version = c.u32();
  const entry = cls === 64 ? c.u64() : BigInt(c.u32());
  const phoff = cls === 64 ? c.u64n(undefined, "e_phoff") : c.u32();
  const shoff = cls === 64 ? c.u64n(undefined, "e_shoff") : c.u32();
  const flags = c.u32();
  const ehsize = c.u16();
  const phentsize = c.u16();
  const phnumRaw = c.u16();
  const shentsize = c.u16();
  const shnumRaw = c.u16();
  const shstrndxRaw = c.u16();
  if (ehsize !== ehdrSize(cls)) {
    // QEMU 7.2 dump-guest-memory writes e_ehsize = 8 (should be 64).
    warnings.push({
      code: "bad-ehsize",
      message: `e_ehsize is ${ehsize}, expected ${ehdrSize(cls)} (QEMU 7.2 writes 8); ignored`,
      offset: cls === 64 ? 52 : 40,
    });
  }
  return {
    ident: bytes.slice(0, 16),
    class: cls,
    littleEndian: le,
    identVersion: bytes[6]!,
    osabi: bytes[7]!,
    abiVersion: bytes[8]!,
    type,
    machine,
    version,
    entry,
    phoff,
    shoff,
    flags,
    ehsize,
    phentsize,
    phnumRaw,
    shentsize,
    shnumRaw,
    shstrndxRaw,
    phnum: phnumRaw,
    shnum: shnumRaw,
    shstrndx: shstrndxRaw,
  };
}

/** Decode one program header at `at` in `c`. */
export function decodeProgramHeader(c: Cursor, at: number, cls: ElfClass, index: number): ProgramHeader {
  if (cls === 64) {
    return {
      index,
      type: c.u32(at),
      flags: c.u32(at + 4),
      offset: c.u64n(at + 8, "p_offset"),
      vaddr: c.u64(at + 16),
      paddr: c.u64(at + 24),
      filesz: c.u64n(at + 32, "p_filesz"),
      memsz: c.u64n(at + 40, "p_memsz"),
      align: c.u64(at + 48),
    };
  }
  return {
    index,
    type: c.u32(at),
    offset: c.u32(at + 4),
    vaddr: BigInt(c.u32(at + 8)),
    paddr: BigInt(c.u32(at + 12)),
    filesz: c.u32(at + 16),
    memsz: c.u32(at + 20),
    flags: c.u32(at + 24),
    align: BigInt(c.u32(at + 28)),
  };
}

/**
 * One program header with its 64-bit fields as uint32 halves: bulk paths (65k-header QEMU
 * paging dumps) read these instead of ProgramHeader objects with three BigInts each.
 */
export interface RawProgramHeader {
  index: number;
  type: number;
  flags: number;
  offsetHi: number;
  offsetLo: number;
  vaddrHi: number;
  vaddrLo: number;
  paddrHi: number;
  paddrLo: number;
  fileszHi: number;
  fileszLo: number;
  memszHi: number;
  memszLo: number;
  alignHi: number;
  alignLo: number;
}

function newRawProgramHeader(): RawProgramHeader {
  return {
    index: 0,
    type: 0,
    flags: 0,
    offsetHi: 0,
    offsetLo: 0,
    vaddrHi: 0,
    vaddrLo: 0,
    paddrHi: 0,
    paddrLo: 0,
    fileszHi: 0,
    fileszLo: 0,
    memszHi: 0,
    memszLo: 0,
    alignHi: 0,
    alignLo: 0,
  };
}

/** Fill `r` from the program header at `at` (the table's bounds were checked by the caller). */
function decodeRawProgramHeader(
  v: DataView,
  at: number,
  cls: ElfClass,
  le: boolean,
  r: RawProgramHeader,
): void {
  r.type = v.getUint32(at, le);
  if (cls === 64) {
    const l = le ? 0 : 4;
    const h = le ? 4 : 0;
    r.flags = v.getUint32(at + 4, le);
    r.offsetLo = v.getUint32(at + 8 + l, le);
    r.offsetHi = v.getUint32(at + 8 + h, le);
    r.vaddrLo = v.getUint32(at + 16 + l, le);
    r.vaddrHi = v.getUint32(at + 16 + h, le);
    r.paddrLo = v.getUint32(at + 24 + l, le);
    r.paddrHi = v.getUint32(at + 24 + h, le);
    r.fileszLo = v.getUint32(at + 32 + l, le);
    r.fileszHi = v.getUint32(at + 32 + h, le);
    r.memszLo = v.getUint32(at + 40 + l, le);
    r.memszHi = v.getUint32(at + 40 + h, le);
    r.alignLo = v.getUint32(at + 48 + l, le);
    r.alignHi = v.getUint32(at + 48 + h, le);
    return;
  }
  r.offsetLo = v.getUint32(at + 4, le);
  r.vaddrLo = v.getUint32(at + 8, le);
  r.paddrLo = v.getUint32(at + 12, le);
  r.fileszLo = v.getUint32(at + 16, le);
  r.memszLo = v.getUint32(at + 20, le);
  r.flags = v.getUint32(at + 24, le);
  r.alignLo = v.getUint32(at + 28, le);
  r.offsetHi = r.vaddrHi = r.paddrHi = r.fileszHi = r.memszHi = r.alignHi = 0;
}

function decodeSectionHeader(c: Cursor, at: number, cls: ElfClass, index: number): SectionHeader {
  if (cls === 64) {
    return {
      index,
      nameOffset: c.u32(at),
      name: "",
      type: c.u32(at + 4),
      flags: c.u64(at + 8),
      addr: c.u64(at + 16),
      offset: c.u64n(at + 24, "sh_offset"),
      size: c.u64n(at + 32, "sh_size"),
      link: c.u32(at + 40),
      info: c.u32(at + 44),
      addralign: c.u64(at + 48),
      entsize: c.u64n(at + 56, "sh_entsize"),
    };
  }
  return {
    index,
    nameOffset: c.u32(at),
    name: "",
    type: c.u32(at + 4),
    flags: BigInt(c.u32(at + 8)),
    addr: BigInt(c.u32(at + 12)),
    offset: c.u32(at + 16),
    size: c.u32(at + 20),
    link: c.u32(at + 24),
    info: c.u32(at + 28),
    addralign: BigInt(c.u32(at + 32)),
    entsize: c.u32(at + 36),
  };
}

/**
 * Parse a block of ELF notes (Elf_Nhdr: namesz, descsz, type, each 4 bytes in both classes;
 * name and desc padded to `align`, 4 normally, 8 for SHT_NOTE/PT_NOTE aligned to 8 such as
 * .note.gnu.property). Stops at a zero-filled tail (kernel PT_NOTEs are padded). A note that
 * runs past the block is reported as a warning and parsing stops there.
 */
export function parseNotes(
  bytes: Uint8Array,
  littleEndian: boolean,
  baseOffset: number,
  origin: ElfNote["origin"],
  align = 4,
  warnings?: ElfWarning[],
): ElfNote[] {
  const c = new Cursor(bytes, littleEndian, baseOffset);
  const notes: ElfNote[] = [];
  const pad = (n: number) => (n + align - 1) & ~(align - 1);
  let pos = 0;
  while (pos + 12 <= bytes.length) {
    const namesz = c.u32(pos);
    const descsz = c.u32(pos + 4);
    const type = c.u32(pos + 8);
    if (namesz === 0 && descsz === 0 && type === 0) {
      // zero padding (the capture kernel pads merged PT_NOTEs; kexec-tools' crash_notes are
      // allocated larger than the notes they hold)
      break;
    }
    const nameAt = pos + 12;
    const descAt = nameAt + pad(namesz);
    const end = descAt + pad(descsz);
    if (
      namesz > ELF_LIMITS.maxNoteSize ||
      descsz > ELF_LIMITS.maxNoteSize ||
      descAt + descsz > bytes.length
    ) {
      warnings?.push({
        code: "note-overflow",
        message: `note at ${hex(baseOffset + pos)} (namesz ${namesz}, descsz ${descsz}) runs past its container of ${bytes.length} bytes`,
        offset: baseOffset + pos,
      });
      break;
    }
    let nameEnd = nameAt + namesz;
    while (nameEnd > nameAt && bytes[nameEnd - 1] === 0) nameEnd--;
    notes.push({
      name: decodeText(bytes.subarray(nameAt, nameEnd)),
      type,
      desc: bytes.subarray(descAt, descAt + descsz),
      offset: baseOffset + pos,
      descOffset: baseOffset + descAt,
      origin,
    });
    pos = Math.min(end, bytes.length);
  }
  return notes;
}

/**
 * A string table decoded once: names are then substrings (cheap in V8) instead of one
 * TextDecoder call per name (slow on the 130k symbols of a debug vmlinux). Tables holding
 * non-ASCII bytes fall back to UTF-8 decoding per name.
 */
export class StringTable {
  private readonly text: string | undefined;
  constructor(readonly bytes: Uint8Array) {
    let ascii = true;
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i]! >= 0x80) {
        ascii = false;
        break;
      }
    }
    this.text = ascii ? asciiDecoder.decode(bytes) : undefined;
  }
  at(offset: number): string {
    if (offset >= this.bytes.length) return "";
    if (this.text !== undefined) {
      const end = this.text.indexOf("\0", offset);
      return this.text.slice(offset, end < 0 ? undefined : end);
    }
    let e = offset;
    while (e < this.bytes.length && this.bytes[e] !== 0) e++;
    return decodeText(this.bytes.subarray(offset, e));
  }
}
const asciiDecoder = new TextDecoder("latin1"); // only ever given ASCII bytes

/**
 * An ELF file over a synchronous byte source: header, program headers (with PN_XNUM), section
 * headers with names, symbols, notes. Tolerates what real producers write (QEMU's e_ehsize 8,
 * mkelf32's PT_NOTE outside its PT_LOAD, section headers past the end of a truncated core) and
 * lists it in `warnings`.
 */
export interface ImpossibleField {
  /** Program header index. */
  index: number;
  field: "p_offset" | "p_filesz" | "p_memsz";
  value: bigint;
  /** File offset of the field. */
  at: number;
}

export class ElfFile {
  readonly warnings: ElfWarning[] = [];
  readonly header: ElfHeader;
  readonly sections: SectionHeader[];
  /** The program header table as read (validated at parse; decoded into objects on demand). */
  private readonly phdrTable: Uint8Array;
  private phdrObjects: ProgramHeader[] | undefined;
  /** True for a bare ELF core header (kexec-tools/kernel elfcorehdr): no segment data follows. */
  rawCoreHeader = false;
  /**
   * Program header fields no file can hold (p_offset, p_filesz, p_memsz of 2^53 or more: a
   * producer's bug, e.g. kexec-tools' size of a kernel map whose start symbol was missing). The
   * header is still listed with its raw values; its object form reads as an empty segment
   * (offset/filesz/memsz 0) so that no reader follows the impossible numbers.
   */
  readonly impossible: ImpossibleField[] = [];

  private constructor(
    readonly source: SyncByteSource,
    head: Uint8Array,
  ) {
    this.header = decodeElfHeader(head, this.warnings);
    this.sections = this.readSectionHeaders();
    this.phdrTable = this.readProgramHeaderTable();
    this.checkLayout();
  }

  static parse(source: SyncByteSource): ElfFile {
    const n = Math.min(64, source.size);
    if (n < 16) throw new TruncatedError(0, 16, source.size, "ELF identification");
    return new ElfFile(source, source.readSync(0, n).slice());
  }

  /** Program headers (decoded on first use: a QEMU paging dump has 65k of them). */
  get programHeaders(): ProgramHeader[] {
    if (!this.phdrObjects) {
      // checkLayout has validated the 53-bit fields; one BigInt per 64-bit address
      const t = this.phdrTable;
      const v = new DataView(t.buffer, t.byteOffset, t.byteLength);
      const cls = this.header.class;
      const le = this.littleEndian;
      const size = phdrSize(cls);
      const n = t.length / size;
      const out = new Array<ProgramHeader>(n);
      for (let i = 0; i < n; i++) {
        const at = i * size;
        if (cls === 64) {
          const lo = le ? 0 : 4;
          const hi = le ? 4 : 0;
          out[i] = {
            index: i,
            type: v.getUint32(at, le),
            flags: v.getUint32(at + 4, le),
            offset: v.getUint32(at + 8 + hi, le) * 2 ** 32 + v.getUint32(at + 8 + lo, le),
            vaddr: v.getBigUint64(at + 16, le),
            paddr: v.getBigUint64(at + 24, le),
            filesz: v.getUint32(at + 32 + hi, le) * 2 ** 32 + v.getUint32(at + 32 + lo, le),
            memsz: v.getUint32(at + 40 + hi, le) * 2 ** 32 + v.getUint32(at + 40 + lo, le),
            align: v.getBigUint64(at + 48, le),
          };
        } else {
          out[i] = {
            index: i,
            type: v.getUint32(at, le),
            offset: v.getUint32(at + 4, le),
            vaddr: BigInt(v.getUint32(at + 8, le)),
            paddr: BigInt(v.getUint32(at + 12, le)),
            filesz: v.getUint32(at + 16, le),
            memsz: v.getUint32(at + 20, le),
            flags: v.getUint32(at + 24, le),
            align: BigInt(v.getUint32(at + 28, le)),
          };
        }
      }
      for (const f of this.impossible) {
        const p = out[f.index]!;
        p.impossible = [...(p.impossible ?? []), f.field];
        // nothing of an impossible segment can be read
        p.offset = 0;
        p.filesz = 0;
        p.memsz = 0;
      }
      this.phdrObjects = out;
    }
    return this.phdrObjects;
  }

  /**
   * The raw program header table (programHeaderCount entries of the class's size, checked to lie
   * inside the file), for listings written straight from its bytes. Not to be modified.
   */
  get programHeaderTable(): Uint8Array {
    return this.phdrTable;
  }

  get programHeaderCount(): number {
    return this.phdrTable.length / phdrSize(this.header.class);
  }

  /**
   * Visit every program header without allocating per header: `fn` gets the same (reused)
   * RawProgramHeader each time.
   */
  forEachRawProgramHeader(fn: (p: RawProgramHeader) => void): void {
    const t = this.phdrTable;
    const v = new DataView(t.buffer, t.byteOffset, t.byteLength);
    const cls = this.header.class;
    const size = phdrSize(cls);
    const le = this.littleEndian;
    const r = newRawProgramHeader();
    const n = t.length / size;
    for (let i = 0; i < n; i++) {
      r.index = i;
      decodeRawProgramHeader(v, i * size, cls, le, r);
      fn(r);
    }
  }

  get littleEndian(): boolean {
    return this.header.littleEndian;
  }
  get class(): ElfClass {
    return this.header.class;
  }

  private readSectionHeaders(): SectionHeader[] {
    const h = this.header;
    if (h.shoff === 0) {
      h.shnum = h.shnumRaw;
      return [];
    }
    const size = shdrSize(h.class);
    if (h.shentsize !== size) {
      this.warnings.push({
        code: "bad-shentsize",
        message: `e_shentsize ${h.shentsize} ≠ ${size}; section headers ignored`,
      });
      return [];
    }
    if (h.shoff + size > this.source.size) {
      this.warnings.push({
        code: "shdrs-missing",
        message: `section headers at ${hex(h.shoff)} lie past the end of the file (${hex(this.source.size)})`,
        offset: h.shoff,
      });
      return [];
    }
    // Section 0 holds the extended counts (ELF gABI): sh_size = shnum, sh_link = shstrndx,
    // sh_info = phnum when e_phnum == PN_XNUM.
    const s0 = decodeSectionHeader(
      new Cursor(this.source.readSync(h.shoff, size), h.littleEndian, h.shoff),
      0,
      h.class,
      0,
    );
    let shnum = h.shnumRaw;
    if (shnum === 0) shnum = s0.size;
    if (h.shstrndxRaw === SHN_XINDEX) h.shstrndx = s0.link;
    if (h.phnumRaw === PN_XNUM) h.phnum = s0.info;
    if (shnum > ELF_LIMITS.maxSections)
      throw new LimitError("section count", shnum, ELF_LIMITS.maxSections, h.shoff);
    const avail = Math.floor((this.source.size - h.shoff) / size);
    if (shnum > avail) {
      this.warnings.push({
        code: "shdrs-truncated",
        message: `${shnum} section headers declared, only ${avail} present before the end of the file`,
        offset: h.shoff,
      });
      shnum = avail;
    }
    h.shnum = shnum;
    const c = new Cursor(this.source.readSync(h.shoff, shnum * size), h.littleEndian, h.shoff);
    const out: SectionHeader[] = [];
    for (let i = 0; i < shnum; i++) out.push(decodeSectionHeader(c, i * size, h.class, i));
    const strSec = out[h.shstrndx];
    if (h.shstrndx !== 0 && strSec) {
      const strtab = this.tryRead(strSec.offset, strSec.size, "section name table");
      if (strtab) {
        const names = new StringTable(strtab);
        for (const s of out) s.name = names.at(s.nameOffset);
      }
    }
    return out;
  }

  private readProgramHeaderTable(): Uint8Array {
    const h = this.header;
    if (h.phnumRaw === PN_XNUM && this.sections.length === 0) {
      throw new FormatError(
        "e_phnum is PN_XNUM but there is no section 0 to hold the count",
        h.class === 64 ? 56 : 44,
      );
    }
    const n = h.phnum;
    if (n === 0) return new Uint8Array(0);
    const size = phdrSize(h.class);
    if (h.phentsize !== size) {
      // e_phentsize of the other class (a producer that filled it from the wrong struct): when
      // n entries of the class's own size fit and every one has a plausible p_type, the table
      // is unambiguous — read it with the class's size and say so, as for QEMU's e_ehsize
      const other = phdrSize(h.class === 64 ? 32 : 64);
      const fits = n <= ELF_LIMITS.maxProgramHeaders && h.phoff + n * size <= this.source.size;
      const plausible = (t: number) => t <= 7 || (t >= 0x60000000 && t <= 0x7fffffff);
      let ok = h.phentsize === other && fits;
      if (ok) {
        const t = this.source.readSync(h.phoff, n * size);
        const v = new DataView(t.buffer, t.byteOffset, t.byteLength);
        for (let i = 0; i < n && ok; i++) ok = plausible(v.getUint32(i * size, h.littleEndian));
      }
      if (!ok)
        throw new FormatError(`bad e_phentsize ${h.phentsize}`, h.class === 64 ? 54 : 42, String(size));
      this.warnings.push({
        code: "bad-phentsize",
        message: `e_phentsize is ${h.phentsize} (the ELF${h.class === 64 ? 32 : 64} size), but the ${n} program headers are ${size}-byte ELF${h.class} entries: read with ${size}`,
        offset: h.class === 64 ? 54 : 42,
      });
    }
    if (n > ELF_LIMITS.maxProgramHeaders)
      throw new LimitError("program header count", n, ELF_LIMITS.maxProgramHeaders, h.phoff);
    if (h.phoff + n * size > this.source.size) {
      throw new TruncatedError(h.phoff, n * size, this.source.size - h.phoff, `program headers (${n})`);
    }
    return this.readCopy(h.phoff, n * size);
  }

  /**
   * Validate the program headers (offsets and sizes < 2^53) and note what real producers get
   * wrong, over the raw table: no objects for the 65k headers of a QEMU paging dump.
   */
  private checkLayout(): void {
    const size = this.source.size;
    const is64 = this.class === 64;
    const phoff = this.header.phoff;
    const esize = phdrSize(this.class);
    const big = (hi: number, lo: number, index: number, at: number, field: ImpossibleField["field"]) => {
      if (hi < 0x20_0000) return false;
      this.impossible.push({ index, field, value: (BigInt(hi) << 32n) | BigInt(lo), at });
      return true;
    };
    const past: number[] = [];
    const fileszGtMemsz: number[] = [];
    const notes: number[] = [];
    let withData = 0;
    let loads = 0;
    this.forEachRawProgramHeader((p) => {
      if (is64) {
        const at = phoff + p.index * esize;
        const a = big(p.offsetHi, p.offsetLo, p.index, at + 8, "p_offset");
        const b = big(p.fileszHi, p.fileszLo, p.index, at + 32, "p_filesz");
        const c = big(p.memszHi, p.memszLo, p.index, at + 40, "p_memsz");
        if (a || b || c) {
          if (p.type === PT_LOAD) loads++;
          return;
        }
      }
      const offset = p.offsetHi * 2 ** 32 + p.offsetLo;
      const filesz = p.fileszHi * 2 ** 32 + p.fileszLo;
      const memsz = p.memszHi * 2 ** 32 + p.memszLo;
      if (filesz > 0) {
        withData++;
        if (offset + filesz > size) past.push(p.index);
      }
      if (p.type === PT_LOAD) {
        loads++;
        if (filesz > memsz) fileszGtMemsz.push(p.index);
      } else if (p.type === PT_NOTE && (p.vaddrHi !== 0 || p.vaddrLo !== 0)) notes.push(p.index);
    });
    if (past.length > 0 && past.length === withData && size < 1 << 20) {
      // kexec-tools' ELF core header as it lies in memory (elfcorehdr=): p_offset holds the
      // physical address until the capture kernel rewrites it into /proc/vmcore.
      this.rawCoreHeader = this.header.type === 4;
      this.warnings.push({
        code: "segments-outside-file",
        message: `all ${past.length} segments lie past the end of this ${size}-byte file${this.rawCoreHeader ? " (a raw ELF core header: p_offset holds physical addresses)" : ""}`,
      });
    } else {
      for (const i of past) {
        const p = this.programHeaders[i]!;
        this.warnings.push({
          code: "segment-truncated",
          message: `segment ${p.index} (${hex(p.offset)}+${hex(p.filesz)}) extends past the end of the file (${hex(size)})`,
          offset: p.offset,
        });
      }
    }
    for (const f of this.impossible)
      this.warnings.push({
        code: "impossible-value",
        message: `program header ${f.index}: ${f.field} ${hex(f.value)} is impossible (no file or memory is 2^53 bytes or more)${f.value >= 1n << 63n ? `; as a signed value it is -${hex((1n << 64n) - f.value)}` : ""}: listed raw, read as an empty segment`,
        offset: f.at,
      });
    for (const i of fileszGtMemsz) {
      const p = this.programHeaders[i]!;
      this.warnings.push({
        code: "filesz-gt-memsz",
        message: `segment ${p.index}: p_filesz ${hex(p.filesz)} > p_memsz ${hex(p.memsz)}`,
      });
    }
    // mkelf32 (Xen's xen.gz) puts the build-id PT_NOTE at a vaddr outside its PT_LOAD.
    if (notes.length === 0 || loads === 0 || this.header.type === 4) return;
    const all = this.programHeaders;
    const loadHdrs = all.filter((p) => p.type === PT_LOAD);
    for (const i of notes) {
      const n = all[i]!;
      const inside = loadHdrs.some(
        (l) => n.vaddr >= l.vaddr && n.vaddr + BigInt(n.memsz) <= l.vaddr + BigInt(l.memsz),
      );
      if (!inside) {
        this.warnings.push({
          code: "note-outside-load",
          message: `PT_NOTE segment ${n.index} (vaddr ${hex(n.vaddr)}) lies outside every PT_LOAD (Xen's mkelf32 does this)`,
        });
      }
    }
  }

  private tryRead(offset: number, length: number, what: string): Uint8Array | undefined {
    if (!this.fits(offset, length, what)) return undefined;
    return this.readCopy(offset, length);
  }

  /**
   * Our own copy of `length` bytes at `offset`, read straight into it (a read then a slice
   * touches twice the fresh memory: 3.7 MB more for a QEMU paging dump's program headers).
   */
  private readCopy(offset: number, length: number): Uint8Array {
    return this.source.readSync(offset, length, new Uint8Array(length));
  }

  /** Whether `length` bytes at `offset` lie within the file; a warning naming `what` if not. */
  private fits(offset: number, length: number, what: string): boolean {
    if (offset + length > this.source.size) {
      this.warnings.push({
        code: "truncated",
        message: `${what} at ${hex(offset)}+${hex(length)} lies past the end of the file`,
        offset,
      });
      return false;
    }
    return true;
  }

  /** The file bytes of a segment (p_filesz bytes at p_offset). Throws TruncatedError past EOF. */
  readSegment(p: ProgramHeader): Uint8Array {
    return this.readCopy(p.offset, p.filesz);
  }

  /** The bytes of a section (empty for SHT_NOBITS). */
  readSection(s: SectionHeader): Uint8Array {
    if (s.type === SHT_NOBITS) return new Uint8Array(0);
    return this.readCopy(s.offset, s.size);
  }

  sectionByName(name: string): SectionHeader | undefined {
    return this.sections.find((s) => s.name === name);
  }

  /** Notes of one PT_NOTE segment. */
  segmentNotes(p: ProgramHeader): ElfNote[] {
    if (this.rawCoreHeader) return [];
    const bytes = this.tryRead(p.offset, p.filesz, `PT_NOTE segment ${p.index}`);
    if (!bytes) return [];
    return parseNotes(
      bytes,
      this.littleEndian,
      p.offset,
      { kind: "segment", index: p.index },
      p.align === 8n ? 8 : 4,
      this.warnings,
    );
  }

  /** Notes of one SHT_NOTE section. */
  sectionNotes(s: SectionHeader): ElfNote[] {
    const bytes = this.tryRead(s.offset, s.size, `note section ${s.name}`);
    if (!bytes) return [];
    return parseNotes(
      bytes,
      this.littleEndian,
      s.offset,
      { kind: "section", index: s.index, name: s.name },
      s.addralign === 8n ? 8 : 4,
      this.warnings,
    );
  }

  /**
   * All notes: from PT_NOTE segments, or, when there are none (relocatable objects, files
   * whose segments were stripped), from SHT_NOTE sections — as readelf -n does.
   */
  notes(from: "auto" | "segments" | "sections" = "auto"): ElfNote[] {
    const cached = this.notesCache.get(from);
    if (cached) return cached;
    const segs = this.programHeaders.filter((p) => p.type === PT_NOTE);
    const out =
      from === "segments" || (from === "auto" && segs.length > 0)
        ? this.boundedNotes(segs, (p) => this.segmentNotes(p))
        : this.boundedNotes(
            this.sections.filter((s) => s.type === SHT_NOTE),
            (s) => this.sectionNotes(s),
          );
    this.notesCache.set(from, out);
    return out;
  }
  private readonly notesCache = new Map<string, ElfNote[]>();

  /**
   * Notes of several containers, bounded by the file's real content: containers repeating a
   * byte range already decoded are decoded once (65,534 PT_NOTEs pointing at the same 4 KiB
   * took minutes and GBs, each decoded again), and the notes and bytes decoded are capped.
   */
  private boundedNotes<T extends { offset: number }>(
    containers: T[],
    decode: (c: T) => ElfNote[],
  ): ElfNote[] {
    const seen = new Set<string>();
    const out: ElfNote[] = [];
    let repeats = 0;
    let bytes = 0;
    for (const c of containers) {
      const size = "filesz" in c ? (c.filesz as number) : (c as unknown as SectionHeader).size;
      const key = `${c.offset}:${size}`;
      if (seen.has(key)) {
        repeats++;
        continue;
      }
      seen.add(key);
      bytes += size;
      if (bytes > ELF_LIMITS.maxNoteBytes)
        throw new LimitError("bytes of note containers", bytes, ELF_LIMITS.maxNoteBytes, c.offset);
      for (const n of decode(c)) {
        if (out.length >= ELF_LIMITS.maxNotes)
          throw new LimitError("note count", out.length + 1, ELF_LIMITS.maxNotes, n.offset);
        out.push(n);
      }
    }
    if (repeats)
      this.warnings.push({
        code: "note-repeat",
        message: `${repeats} note container${repeats === 1 ? "" : "s"} repeat a byte range already decoded (each range is decoded once)`,
      });
    return out;
  }

  /** The symbol table: .symtab if present, else .dynsym (or the one asked for). */
  symbols(which: "symtab" | "dynsym" | "auto" = "auto"): ElfSymbol[] {
    const want = which === "dynsym" ? SHT_DYNSYM : SHT_SYMTAB;
    let sec = this.sections.find((s) => s.type === want);
    if (!sec && which === "auto") sec = this.sections.find((s) => s.type === SHT_DYNSYM);
    return sec ? this.symbolsOf(sec) : [];
  }

  /**
   * The checked shape of a symbol table section: entry size, count (bounded) and its string
   * table's bytes (empty when missing or past the end of the file, with a warning).
   */
  symbolTable(sec: SectionHeader): { count: number; entsize: number; strtab: Uint8Array } {
    const { count, entsize, strOffset, strSize } = this.symbolTableSpan(sec);
    const strtab = this.readCopy(strOffset, strSize);
    return { count, entsize, strtab };
  }

  /**
   * symbolTable without reading the string table: where it lies (strSize 0 for none, or one past
   * the end of the file, which is warned about), for a reader that reads it into its own memory.
   */
  symbolTableSpan(sec: SectionHeader): {
    count: number;
    entsize: number;
    strOffset: number;
    strSize: number;
  } {
    const entsize = this.class === 64 ? 24 : 16;
    if (sec.entsize !== 0 && sec.entsize !== entsize) {
      throw new FormatError(
        `symbol table ${sec.name}: sh_entsize ${sec.entsize}`,
        sec.offset,
        String(entsize),
      );
    }
    const count = Math.floor(sec.size / entsize);
    if (count > ELF_LIMITS.maxSymbols)
      throw new LimitError("symbol count", count, ELF_LIMITS.maxSymbols, sec.offset);
    const strSec = this.sections[sec.link];
    if (!strSec || !this.fits(strSec.offset, strSec.size, "symbol string table"))
      return { count, entsize, strOffset: 0, strSize: 0 };
    return { count, entsize, strOffset: strSec.offset, strSize: strSec.size };
  }

  /** Decode the symbols of one SHT_SYMTAB/SHT_DYNSYM section. */
  symbolsOf(sec: SectionHeader): ElfSymbol[] {
    const cls = this.class;
    const { count, entsize, strtab } = this.symbolTable(sec);
    const names = new StringTable(strtab);
    const data = this.source.readSync(sec.offset, count * entsize);
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const le = this.littleEndian;
    const out = new Array<ElfSymbol>(count);
    for (let i = 0; i < count; i++) {
      const at = i * entsize;
      let nameOff: number;
      let value: bigint;
      let size: bigint;
      let info: number;
      let other: number;
      let shndx: number;
      if (cls === 64) {
        nameOff = view.getUint32(at, le);
        info = data[at + 4]!;
        other = data[at + 5]!;
        shndx = view.getUint16(at + 6, le);
        value = view.getBigUint64(at + 8, le);
        size = view.getBigUint64(at + 16, le);
      } else {
        nameOff = view.getUint32(at, le);
        value = BigInt(view.getUint32(at + 4, le));
        size = BigInt(view.getUint32(at + 8, le));
        info = data[at + 12]!;
        other = data[at + 13]!;
        shndx = view.getUint16(at + 14, le);
      }
      out[i] = {
        index: i,
        name: names.at(nameOff),
        value,
        size,
        type: info & 0xf,
        bind: info >> 4,
        visibility: other & 3,
        other,
        shndx,
      };
    }
    return out;
  }
}
