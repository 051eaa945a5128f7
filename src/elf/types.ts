/**
 * One ELF model for both classes and byte orders. Offsets and sizes are numbers (validated
 * < 2^53); addresses are bigints (kernel virtual addresses need all 64 bits).
 */

export const PT_NULL = 0;
export const PT_LOAD = 1;
export const PT_DYNAMIC = 2;
export const PT_INTERP = 3;
export const PT_NOTE = 4;
export const PT_SHLIB = 5;
export const PT_PHDR = 6;
export const PT_TLS = 7;
export const PT_GNU_EH_FRAME = 0x6474e550;
export const PT_GNU_STACK = 0x6474e551;
export const PT_GNU_RELRO = 0x6474e552;
export const PT_GNU_PROPERTY = 0x6474e553;

export const PF_X = 1;
export const PF_W = 2;
export const PF_R = 4;

export const PN_XNUM = 0xffff;
export const SHN_UNDEF = 0;
export const SHN_LORESERVE = 0xff00;
export const SHN_ABS = 0xfff1;
export const SHN_COMMON = 0xfff2;
export const SHN_XINDEX = 0xffff;

export const SHT_NULL = 0;
export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_RELA = 4;
export const SHT_HASH = 5;
export const SHT_DYNAMIC = 6;
export const SHT_NOTE = 7;
export const SHT_NOBITS = 8;
export const SHT_REL = 9;
export const SHT_DYNSYM = 11;
export const SHT_SYMTAB_SHNDX = 18;

export const ET_NONE = 0;
export const ET_REL = 1;
export const ET_EXEC = 2;
export const ET_DYN = 3;
export const ET_CORE = 4;

export const EM_386 = 3;
export const EM_PPC64 = 21;
export const EM_S390 = 22;
export const EM_ARM = 40;
export const EM_X86_64 = 62;
export const EM_AARCH64 = 183;
export const EM_RISCV = 243;
export const EM_LOONGARCH = 258;

export type ElfClass = 32 | 64;

export interface ElfHeader {
  /** The 16 e_ident bytes as found (kept so a rewritten header is byte-identical). */
  ident: Uint8Array;
  class: ElfClass;
  littleEndian: boolean;
  /** EI_VERSION */
  identVersion: number;
  osabi: number;
  abiVersion: number;
  type: number;
  machine: number;
  version: number;
  entry: bigint;
  phoff: number;
  shoff: number;
  flags: number;
  ehsize: number;
  phentsize: number;
  /** e_phnum as stored (PN_XNUM = 0xffff means "see section 0's sh_info"). */
  phnumRaw: number;
  shentsize: number;
  /** e_shnum as stored (0 with shoff ≠ 0 means "see section 0's sh_size"). */
  shnumRaw: number;
  /** e_shstrndx as stored (SHN_XINDEX means "see section 0's sh_link"). */
  shstrndxRaw: number;
  /** The real counts after PN_XNUM / extended numbering. */
  phnum: number;
  shnum: number;
  shstrndx: number;
}

export interface ProgramHeader {
  index: number;
  type: number;
  flags: number;
  offset: number;
  vaddr: bigint;
  paddr: bigint;
  filesz: number;
  memsz: number;
  align: bigint;
  /** Fields whose raw value is impossible (ElfFile.impossible): the numbers above read as 0. */
  impossible?: ("p_offset" | "p_filesz" | "p_memsz")[];
}

export interface SectionHeader {
  index: number;
  /** Offset of the name in the section-name string table. */
  nameOffset: number;
  name: string;
  type: number;
  flags: bigint;
  addr: bigint;
  offset: number;
  size: number;
  link: number;
  info: number;
  addralign: bigint;
  entsize: number;
}

export interface ElfSymbol {
  index: number;
  name: string;
  value: bigint;
  size: bigint;
  /** STT_* (low 4 bits of st_info). */
  type: number;
  /** STB_* (high 4 bits of st_info). */
  bind: number;
  /** STV_* (low 2 bits of st_other). */
  visibility: number;
  other: number;
  shndx: number;
}

export interface ElfNote {
  name: string;
  type: number;
  desc: Uint8Array;
  /** File offset of the note header. */
  offset: number;
  /** File offset of the descriptor. */
  descOffset: number;
  /** Where it was found: { kind: "segment", index } or { kind: "section", index, name }. */
  origin:
    | { kind: "segment"; index: number }
    | { kind: "section"; index: number; name: string }
    /** Notes kept outside ELF headers, e.g. the notes blob of a kdump-compressed sub-header. */
    | { kind: "blob"; index: -1; name: string };
}

/** Something a reader noticed that real producers write but the spec forbids. */
export interface ElfWarning {
  code: string;
  message: string;
  offset?: number;
}
