/**
 * Xen ELF notes (owner "Xen"), as defined by xen/include/public/elfnote.h:
 * - guest-kernel notes XEN_ELFNOTE_* 0–19, read by Xen's libelf (xen/common/libelf/
 *   libelf-dominfo.c elf_xen_parse_note decides which are strings and which numbers);
 * - crash notes written by the hypervisor's kexec code per physical CPU: CRASH_INFO
 *   (crash_xen_info_t, xen/include/xen/elfcore.h) and CRASH_REGS (crash_xen_core_t,
 *   xen/arch/x86/include/asm/elf.h);
 * - xm/xl dump-core notes DUMPCORE_* (tools/libs/guest/xg_core.h);
 * - two older/proposed notes still met in the field: the dom0 CR3 note 0x10000001 (crash's
 *   NT_XEN_KDUMP_CR3, netdump.h) and type 0x1000003 carrying the hypervisor's physical start
 *   address (the 2008 kexec-tools proposal, before CRASH_INFO v2 carried xen_phys_start).
 */
import { Cursor, decodeText } from "../bytes/cursor.js";
import { EM_386, EM_X86_64 } from "../elf/types.js";
import { FormatError, rethrowMissing, TruncatedError } from "../errors.js";
import type { NoteContext } from "./types.js";

export const XEN_ELFNOTE_INFO = 0;
export const XEN_ELFNOTE_ENTRY = 1;
export const XEN_ELFNOTE_HYPERCALL_PAGE = 2;
export const XEN_ELFNOTE_VIRT_BASE = 3;
export const XEN_ELFNOTE_PADDR_OFFSET = 4;
export const XEN_ELFNOTE_XEN_VERSION = 5;
export const XEN_ELFNOTE_GUEST_OS = 6;
export const XEN_ELFNOTE_GUEST_VERSION = 7;
export const XEN_ELFNOTE_LOADER = 8;
export const XEN_ELFNOTE_PAE_MODE = 9;
export const XEN_ELFNOTE_FEATURES = 10;
export const XEN_ELFNOTE_BSD_SYMTAB = 11;
export const XEN_ELFNOTE_HV_START_LOW = 12;
export const XEN_ELFNOTE_L1_MFN_VALID = 13;
export const XEN_ELFNOTE_SUSPEND_CANCEL = 14;
export const XEN_ELFNOTE_INIT_P2M = 15;
export const XEN_ELFNOTE_MOD_START_PFN = 16;
export const XEN_ELFNOTE_SUPPORTED_FEATURES = 17;
export const XEN_ELFNOTE_PHYS32_ENTRY = 18;
export const XEN_ELFNOTE_PHYS32_RELOC = 19;

export const XEN_ELFNOTE_CRASH_INFO = 0x1000001;
export const XEN_ELFNOTE_CRASH_REGS = 0x1000002;
/** Proposed in 2008 (kexec-tools): one word, the hypervisor's physical start address. */
export const XEN_ELFNOTE_PHYS_START = 0x1000003;
export const XEN_ELFNOTE_DUMPCORE_NONE = 0x2000000;
export const XEN_ELFNOTE_DUMPCORE_HEADER = 0x2000001;
export const XEN_ELFNOTE_DUMPCORE_XEN_VERSION = 0x2000002;
export const XEN_ELFNOTE_DUMPCORE_FORMAT_VERSION = 0x2000003;
/** Old dom0 kdump note with the per-vcpu CR3 (crash netdump.h NT_XEN_KDUMP_CR3). */
export const NT_XEN_KDUMP_CR3 = 0x10000001;

/** How libelf reads each guest note: a string, one number, or an array of numbers. */
type GuestNoteForm = "string" | "number" | "numbers";

const GUEST_NOTES: Record<number, { name: string; form: GuestNoteForm }> = {
  // INFO is the legacy "NAME=VALUE,…" __xen_guest string; libelf no longer parses it.
  [XEN_ELFNOTE_INFO]: { name: "INFO", form: "string" },
  [XEN_ELFNOTE_ENTRY]: { name: "ENTRY", form: "number" },
  [XEN_ELFNOTE_HYPERCALL_PAGE]: { name: "HYPERCALL_PAGE", form: "number" },
  [XEN_ELFNOTE_VIRT_BASE]: { name: "VIRT_BASE", form: "number" },
  [XEN_ELFNOTE_PADDR_OFFSET]: { name: "PADDR_OFFSET", form: "number" },
  [XEN_ELFNOTE_XEN_VERSION]: { name: "XEN_VERSION", form: "string" },
  [XEN_ELFNOTE_GUEST_OS]: { name: "GUEST_OS", form: "string" },
  [XEN_ELFNOTE_GUEST_VERSION]: { name: "GUEST_VERSION", form: "string" },
  [XEN_ELFNOTE_LOADER]: { name: "LOADER", form: "string" },
  [XEN_ELFNOTE_PAE_MODE]: { name: "PAE_MODE", form: "string" },
  [XEN_ELFNOTE_FEATURES]: { name: "FEATURES", form: "string" },
  [XEN_ELFNOTE_BSD_SYMTAB]: { name: "BSD_SYMTAB", form: "string" },
  [XEN_ELFNOTE_HV_START_LOW]: { name: "HV_START_LOW", form: "number" },
  // maddr_t-sized mask/value pairs
  [XEN_ELFNOTE_L1_MFN_VALID]: { name: "L1_MFN_VALID", form: "numbers" },
  [XEN_ELFNOTE_SUSPEND_CANCEL]: { name: "SUSPEND_CANCEL", form: "number" },
  [XEN_ELFNOTE_INIT_P2M]: { name: "INIT_P2M", form: "number" },
  [XEN_ELFNOTE_MOD_START_PFN]: { name: "MOD_START_PFN", form: "number" },
  // libelf reads it as an array of uint32 feature submaps (elf_note_numeric_array, unit 4)
  [XEN_ELFNOTE_SUPPORTED_FEATURES]: { name: "SUPPORTED_FEATURES", form: "numbers" },
  [XEN_ELFNOTE_PHYS32_ENTRY]: { name: "PHYS32_ENTRY", form: "number" },
  // up to three uint32: alignment, minimum, maximum
  [XEN_ELFNOTE_PHYS32_RELOC]: { name: "PHYS32_RELOC", form: "numbers" },
};

const CRASH_NAMES: Record<number, string> = {
  [XEN_ELFNOTE_CRASH_INFO]: "CRASH_INFO",
  [XEN_ELFNOTE_CRASH_REGS]: "CRASH_REGS",
  [XEN_ELFNOTE_PHYS_START]: "PHYS_START",
  [XEN_ELFNOTE_DUMPCORE_NONE]: "DUMPCORE_NONE",
  [XEN_ELFNOTE_DUMPCORE_HEADER]: "DUMPCORE_HEADER",
  [XEN_ELFNOTE_DUMPCORE_XEN_VERSION]: "DUMPCORE_XEN_VERSION",
  [XEN_ELFNOTE_DUMPCORE_FORMAT_VERSION]: "DUMPCORE_FORMAT_VERSION",
  [NT_XEN_KDUMP_CR3]: "KDUMP_CR3",
};

/** The XEN_ELFNOTE_* name of a "Xen" note type (without the prefix), if known. */
export function xenNoteTypeName(type: number): string | undefined {
  return GUEST_NOTES[type]?.name ?? CRASH_NAMES[type];
}

export type XenGuestValue =
  | { form: "string"; text: string }
  | { form: "number"; value: bigint }
  | { form: "numbers"; values: bigint[]; unitBytes: number };

export interface XenGuestNote {
  kind: "xen-guest";
  type: number;
  /** XEN_ELFNOTE_ name without the prefix. */
  name: string;
  value: XenGuestValue;
}

function readUnsigned(c: Cursor, at: number, n: number): bigint {
  switch (n) {
    case 1:
      return BigInt(c.u8(at));
    case 2:
      return BigInt(c.u16(at));
    case 4:
      return BigInt(c.u32(at));
    default:
      return c.u64(at);
  }
}

/**
 * Decode a Xen guest-kernel note (types 0–19 with owner "Xen") with libelf's semantics:
 * strings are NUL-terminated, numbers are 1, 2, 4 or 8 bytes in the file's byte order
 * (libelf's elf_note_numeric). Returns undefined for a type outside 0–19. A number whose
 * descriptor has another size is a FormatError (libelf silently reads 0).
 * Used by the notes verb and by kimage for Xen guest info.
 */
export function decodeXenGuestNote(
  type: number,
  desc: Uint8Array,
  littleEndian: boolean,
  base = 0,
): XenGuestNote | undefined {
  const def = GUEST_NOTES[type];
  if (!def) return undefined;
  const c = new Cursor(desc, littleEndian, base);
  let value: XenGuestValue;
  if (def.form === "string") {
    value = { form: "string", text: c.cstring(0) };
  } else if (def.form === "number") {
    const n = desc.length;
    if (n !== 1 && n !== 2 && n !== 4 && n !== 8) {
      throw new FormatError(
        `Xen note ${def.name}: numeric descriptor of ${n} bytes`,
        base,
        "1, 2, 4 or 8 bytes",
      );
    }
    value = { form: "number", value: readUnsigned(c, 0, n) };
  } else {
    // L1_MFN_VALID: maddr_t (8-byte) mask/value pairs; PHYS32_RELOC: up to three uint32;
    // SUPPORTED_FEATURES: uint32 submaps. libelf ignores a length that is not whole units.
    const unit = type === XEN_ELFNOTE_L1_MFN_VALID && desc.length % 8 === 0 ? 8 : 4;
    let count = Math.floor(desc.length / unit);
    if (type === XEN_ELFNOTE_PHYS32_RELOC) count = Math.min(3, count);
    const values: bigint[] = [];
    for (let i = 0; i < count; i++) values.push(readUnsigned(c, i * unit, unit));
    value = { form: "numbers", values, unitBytes: unit };
  }
  return { kind: "xen-guest", type, name: def.name, value };
}

/**
 * crash_xen_info_t. Words are `unsigned long` of the hypervisor: 8 bytes on x86_64, 4 on
 * x86_32. The structure grew over time; its length tells the version:
 * - v0: 8 words (major, minor, extra, changeset, compiler, date, time, tainted);
 * - v1: + dom0_pfn_to_mfn_frame_list_list (x86, Xen 3.1/3.2);
 * - v2: + xen_phys_start *before* it (Xen ≥ 3.3, when Xen became relocatable).
 * The five string fields are physical (machine) addresses of NUL-terminated strings in the
 * hypervisor image (xen/common/kexec.c: __pa(xen_extra_version()) …).
 */
export interface XenCrashInfo {
  kind: "xen-crash-info";
  /** 0, 1 or 2 as described above. */
  version: 0 | 1 | 2;
  wordSize: 4 | 8;
  majorVersion: number;
  minorVersion: number;
  /** Machine addresses of the version strings. */
  extraVersionAddr: number;
  changesetAddr: number;
  compilerAddr: number;
  compileDateAddr: number;
  compileTimeAddr: number;
  tainted: bigint;
  /** v2: the machine address Xen relocated itself to. */
  xenPhysStart?: number;
  /** v1/v2: MFN of dom0's pfn-to-mfn frame-list-list (the root of its p2m). */
  dom0PfnToMfnFrameListList?: number;
  /** Words past v2 (a future Xen), or a length that is not whole words. */
  extraBytes?: number;
}

/**
 * The hypervisor's `unsigned long`, which sizes the crash notes. It follows the hypervisor,
 * not the ELF file (kexec-tools may write ELF64 headers around a 32-bit Xen): e_machine first;
 * under an i386 header a descriptor longer than the 4-byte layout can be (`max4` bytes) must
 * be 8-byte words; other machines go by the ELF class.
 */
function hypervisorWordSize(desc: Uint8Array, ctx: NoteContext, max4: number): 4 | 8 {
  if (ctx.machine === EM_X86_64) return 8;
  if (ctx.machine === EM_386) return desc.length > max4 ? 8 : 4;
  return ctx.class === 64 ? 8 : 4;
}

/** Decode XEN_ELFNOTE_CRASH_INFO. TruncatedError below the 8 words of v0. */
export function decodeXenCrashInfo(desc: Uint8Array, ctx: NoteContext, base = 0): XenCrashInfo {
  const w = hypervisorWordSize(desc, ctx, 40);
  const words = Math.floor(desc.length / w);
  if (words < 8) throw new TruncatedError(base, 8 * w, desc.length, "XEN_ELFNOTE_CRASH_INFO");
  const c = new Cursor(desc, ctx.littleEndian, base);
  const num = (i: number, what: string): number => c.wordn(w, i * w, what);
  const out: XenCrashInfo = {
    kind: "xen-crash-info",
    version: words >= 10 ? 2 : words === 9 ? 1 : 0,
    wordSize: w,
    majorVersion: num(0, "xen_major_version"),
    minorVersion: num(1, "xen_minor_version"),
    extraVersionAddr: num(2, "xen_extra_version"),
    changesetAddr: num(3, "xen_changeset"),
    compilerAddr: num(4, "xen_compiler"),
    compileDateAddr: num(5, "xen_compile_date"),
    compileTimeAddr: num(6, "xen_compile_time"),
    tainted: c.word(w, 7 * w),
  };
  if (words === 9) {
    out.dom0PfnToMfnFrameListList = num(8, "dom0_pfn_to_mfn_frame_list_list");
  } else if (words >= 10) {
    out.xenPhysStart = num(8, "xen_phys_start");
    out.dom0PfnToMfnFrameListList = num(9, "dom0_pfn_to_mfn_frame_list_list");
  }
  const used = Math.min(words, 10) * w;
  if (desc.length > used) out.extraBytes = desc.length - used;
  return out;
}

/** XEN_ELFNOTE_CRASH_REGS on x86: crash_xen_core_t {cr0, cr2, cr3, cr4} (one per CPU). */
export interface XenCrashRegs {
  kind: "xen-crash-regs";
  wordSize: 4 | 8;
  cr0: bigint;
  cr2: bigint;
  cr3: bigint;
  cr4: bigint;
  extraBytes?: number;
}

export function decodeXenCrashRegs(desc: Uint8Array, ctx: NoteContext, base = 0): XenCrashRegs {
  const w = hypervisorWordSize(desc, ctx, 16);
  if (desc.length < 4 * w) throw new TruncatedError(base, 4 * w, desc.length, "XEN_ELFNOTE_CRASH_REGS");
  const c = new Cursor(desc, ctx.littleEndian, base);
  const out: XenCrashRegs = {
    kind: "xen-crash-regs",
    wordSize: w,
    cr0: c.word(w, 0),
    cr2: c.word(w, w),
    cr3: c.word(w, 2 * w),
    cr4: c.word(w, 3 * w),
  };
  if (desc.length > 4 * w) out.extraBytes = desc.length - 4 * w;
  return out;
}

/** Type 0x1000003: the hypervisor's physical start address, one word. */
export interface XenPhysStart {
  kind: "xen-phys-start";
  xenPhysStart: number;
}

export function decodeXenPhysStart(desc: Uint8Array, ctx: NoteContext, base = 0): XenPhysStart {
  const w: 4 | 8 = desc.length >= 8 ? 8 : 4;
  if (desc.length < 4) throw new TruncatedError(base, 4, desc.length, "Xen PHYS_START note");
  const c = new Cursor(desc, ctx.littleEndian, base);
  return { kind: "xen-phys-start", xenPhysStart: c.wordn(w, 0, "xen_phys_start") };
}

/**
 * Type 0x10000001: dom0's CR3 (crash's NT_XEN_KDUMP_CR3), one word. The value is a page frame
 * number, not an address: find_dom0_cr3() stored pagetable_get_pfn(v->arch.guest_table)
 * (thread 001), one note per dom0 vCPU in the crash notes of the physical CPU it ran on.
 */
export interface XenKdumpCr3 {
  kind: "xen-kdump-cr3";
  /** The raw word: a machine frame number. */
  cr3: bigint;
  /** The same as a frame number and as the machine address of the page table. */
  mfn: bigint;
  address: bigint;
}

export function decodeXenKdumpCr3(desc: Uint8Array, ctx: NoteContext, base = 0): XenKdumpCr3 {
  // unsigned long of the dom0 kernel that wrote it: the descriptor length tells
  const w: 4 | 8 = desc.length >= 8 ? 8 : 4;
  if (desc.length < 4) throw new TruncatedError(base, 4, desc.length, "Xen KDUMP_CR3 note");
  const cr3 = new Cursor(desc, ctx.littleEndian, base).word(w, 0);
  return { kind: "xen-kdump-cr3", cr3, mfn: cr3, address: cr3 << 12n };
}

export type XenDumpcore =
  | { kind: "xen-dumpcore-none" }
  | {
      kind: "xen-dumpcore-header";
      magic: bigint;
      nrVcpus: bigint;
      nrPages: bigint;
      pageSize: bigint;
    }
  | {
      kind: "xen-dumpcore-xen-version";
      majorVersion: bigint;
      minorVersion: bigint;
      extraVersion: string;
      compiler: string;
      compileBy: string;
      compileDomain: string;
      compileDate: string;
      capabilities: string;
      changeset: string;
      virtStart: bigint;
      pageSize: bigint;
    }
  | { kind: "xen-dumpcore-format-version"; version: bigint; major: number; minor: number };

/** Decode the xm/xl dump-core notes (tools/libs/guest/xg_core.h); all fields are uint64. */
export function decodeXenDumpcore(
  type: number,
  desc: Uint8Array,
  ctx: NoteContext,
  base = 0,
): XenDumpcore | undefined {
  const c = new Cursor(desc, ctx.littleEndian, base);
  switch (type) {
    case XEN_ELFNOTE_DUMPCORE_NONE:
      return { kind: "xen-dumpcore-none" };
    case XEN_ELFNOTE_DUMPCORE_HEADER:
      c.need(32, 0, "XEN_ELFNOTE_DUMPCORE_HEADER");
      return {
        kind: "xen-dumpcore-header",
        magic: c.u64(0),
        nrVcpus: c.u64(8),
        nrPages: c.u64(16),
        pageSize: c.u64(24),
      };
    case XEN_ELFNOTE_DUMPCORE_XEN_VERSION: {
      // major, minor (u64) · extraversion[16] · compile_info {compiler[64], by[16],
      // domain[32], date[32]} · capabilities[1024] · changeset[64] · platform_parameters
      // {xen_ulong_t virt_start} · u64 pagesize
      const strEnd = 16 + 16 + 144 + 1024 + 64;
      // virt_start is 8 bytes from x86_64 tools, 4 from x86_32 ones (then 1276 bytes)
      const vs: 4 | 8 = desc.length >= strEnd + 16 ? 8 : 4;
      c.need(strEnd + vs + 8, 0, "XEN_ELFNOTE_DUMPCORE_XEN_VERSION");
      return {
        kind: "xen-dumpcore-xen-version",
        majorVersion: c.u64(0),
        minorVersion: c.u64(8),
        extraVersion: c.fixedString(16, 16),
        compiler: c.fixedString(64, 32),
        compileBy: c.fixedString(16, 96),
        compileDomain: c.fixedString(32, 112),
        compileDate: c.fixedString(32, 144),
        capabilities: c.fixedString(1024, 176),
        changeset: c.fixedString(64, 1200),
        virtStart: c.word(vs, strEnd),
        pageSize: c.u64(strEnd + vs),
      };
    }
    case XEN_ELFNOTE_DUMPCORE_FORMAT_VERSION: {
      const v = c.u64(0);
      return {
        kind: "xen-dumpcore-format-version",
        version: v,
        major: Number(v >> 32n),
        minor: Number(v & 0xffff_ffffn),
      };
    }
    default:
      return undefined;
  }
}

/** Read a NUL-terminated string (used for CRASH_INFO's string addresses by readers). */
export function xenString(bytes: Uint8Array, max = 1024): string {
  let e = 0;
  while (e < bytes.length && e < max && bytes[e] !== 0) e++;
  return decodeText(bytes.subarray(0, e));
}

/** The strings CRASH_INFO points at, once read from machine memory. */
export interface XenCrashInfoStrings {
  extraVersion?: string;
  changeset?: string;
  compiler?: string;
  compileDate?: string;
  compileTime?: string;
  /** "4.17.7" when the extra version was readable, else "4.17". */
  version: string;
}

/**
 * Resolve CRASH_INFO's string addresses through a reader of machine memory (which the caller
 * provides: a dump's PhysReader, or PT_LOADs of an ELF vmcore). A string that cannot be read
 * stays undefined. Strings end at NUL or after 256 bytes.
 */
export function resolveXenCrashInfoStrings(
  info: XenCrashInfo,
  read: (addr: number, length: number) => Uint8Array | undefined,
): XenCrashInfoStrings {
  const get = (addr: number): string | undefined => {
    if (addr === 0) return undefined;
    let b: Uint8Array | undefined;
    try {
      b = read(addr, 256);
    } catch (e) {
      rethrowMissing(e);
      b = undefined;
    }
    return b ? xenString(b, 256) : undefined;
  };
  const out: XenCrashInfoStrings = { version: `${info.majorVersion}.${info.minorVersion}` };
  const extra = get(info.extraVersionAddr);
  if (extra !== undefined) {
    out.extraVersion = extra;
    out.version += extra;
  }
  const cs = get(info.changesetAddr);
  if (cs !== undefined) out.changeset = cs;
  const cc = get(info.compilerAddr);
  if (cc !== undefined) out.compiler = cc;
  const cd = get(info.compileDateAddr);
  if (cd !== undefined) out.compileDate = cd;
  const ct = get(info.compileTimeAddr);
  if (ct !== undefined) out.compileTime = ct;
  return out;
}
