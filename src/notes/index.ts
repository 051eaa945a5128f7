/**
 * Note decoding by owner, type and the file's e_machine. `decodeNote` never throws: a
 * descriptor too short (or otherwise unreadable) for its type becomes a "malformed" result
 * carrying the typed error, and a note nobody decodes gives undefined (show it raw).
 */
import type { ElfNote } from "../elf/types.js";
import { KdumpkitError } from "../errors.js";
import { decodeGnuNote, decodeLinuxNote, type GnuNote, type LinuxNote } from "./gnu.js";
import { decodePrpsinfo, decodePrstatus, type Prpsinfo, type Prstatus } from "./prstatus.js";
import { decodeQemuCpuState, type QemuCpuState } from "./qemu.js";
import type { NoteContext } from "./types.js";
import { Vmcoreinfo } from "./vmcoreinfo.js";
import {
  decodeXenCrashInfo,
  decodeXenCrashRegs,
  decodeXenDumpcore,
  decodeXenGuestNote,
  decodeXenKdumpCr3,
  decodeXenPhysStart,
  NT_XEN_KDUMP_CR3,
  XEN_ELFNOTE_CRASH_INFO,
  XEN_ELFNOTE_CRASH_REGS,
  XEN_ELFNOTE_PHYS_START,
  type XenCrashInfo,
  type XenCrashRegs,
  type XenDumpcore,
  type XenGuestNote,
  type XenKdumpCr3,
  type XenPhysStart,
  xenNoteTypeName,
} from "./xen.js";

export const NT_PRSTATUS = 1;
export const NT_PRFPREG = 2;
export const NT_PRPSINFO = 3;
export const NT_TASKSTRUCT = 4;
export const NT_AUXV = 6;

export interface VmcoreinfoNote {
  kind: "vmcoreinfo";
  /** True for Xen's VMCOREINFO_XEN. */
  xen: boolean;
  info: Vmcoreinfo;
}

/** A note whose descriptor does not fit its type: the typed error says what is wrong. */
export interface MalformedNote {
  kind: "malformed";
  /** The kind the note would have decoded to. */
  expected: string;
  code: string;
  message: string;
  error: KdumpkitError;
}

export type DecodedNote =
  | Prstatus
  | Prpsinfo
  | VmcoreinfoNote
  | XenCrashInfo
  | XenCrashRegs
  | XenPhysStart
  | XenKdumpCr3
  | XenDumpcore
  | XenGuestNote
  | QemuCpuState
  | GnuNote
  | LinuxNote
  | MalformedNote;

type Decoder = () => DecodedNote | undefined;

function guarded(expected: string, f: Decoder): DecodedNote | undefined {
  try {
    return f();
  } catch (e) {
    if (e instanceof KdumpkitError) {
      // error objects do not serialise: keep code and message beside it
      const m: MalformedNote = { kind: "malformed", expected, code: e.code, message: e.message, error: e };
      Object.defineProperty(m, "error", { enumerable: false });
      return m;
    }
    throw e;
  }
}

/** The owner without its trailing NULs (ElfNote.name as stored may keep them). */
function owner(note: ElfNote): string {
  const n = note.name;
  const z = n.indexOf("\0");
  return z >= 0 ? n.slice(0, z) : n;
}

/**
 * Decode one note. `ctx` is the file's e_machine, class and byte order (PRSTATUS layouts
 * and Xen word sizes depend on them).
 */
export function decodeNote(note: ElfNote, ctx: NoteContext): DecodedNote | undefined {
  const desc = note.desc;
  const base = note.descOffset;
  const t = note.type;
  switch (owner(note)) {
    case "CORE":
      if (t === NT_PRSTATUS) return guarded("prstatus", () => decodePrstatus(desc, ctx, base));
      if (t === NT_PRPSINFO) return guarded("prpsinfo", () => decodePrpsinfo(desc, ctx, base));
      if (t === NT_XEN_KDUMP_CR3) return guarded("xen-kdump-cr3", () => decodeXenKdumpCr3(desc, ctx, base));
      return undefined; // NT_TASKSTRUCT, FP registers, auxv…: shown raw
    case "LINUX":
      return undefined; // extended register sets (NT_X86_XSTATE, NT_PRXFPREG, …): shown raw
    case "VMCOREINFO":
      return { kind: "vmcoreinfo", xen: false, info: Vmcoreinfo.fromBytes(desc) };
    case "VMCOREINFO_XEN":
      return { kind: "vmcoreinfo", xen: true, info: Vmcoreinfo.fromBytes(desc) };
    case "Xen":
      return decodeXen(t, desc, ctx, base);
    case "QEMU":
      if (t === 0) return guarded("qemu-cpu-state", () => decodeQemuCpuState(desc, ctx, base));
      return undefined;
    case "GNU":
      return guarded("gnu", () => decodeGnuNote(t, desc, ctx, base));
    case "Linux":
      return guarded("linux", () => decodeLinuxNote(t, desc, ctx, base));
    default:
      if (t === NT_XEN_KDUMP_CR3) return guarded("xen-kdump-cr3", () => decodeXenKdumpCr3(desc, ctx, base));
      return undefined;
  }
}

function decodeXen(t: number, desc: Uint8Array, ctx: NoteContext, base: number): DecodedNote | undefined {
  switch (t) {
    case XEN_ELFNOTE_CRASH_INFO:
      return guarded("xen-crash-info", () => decodeXenCrashInfo(desc, ctx, base));
    case XEN_ELFNOTE_CRASH_REGS:
      return guarded("xen-crash-regs", () => decodeXenCrashRegs(desc, ctx, base));
    case XEN_ELFNOTE_PHYS_START:
      return guarded("xen-phys-start", () => decodeXenPhysStart(desc, ctx, base));
    case NT_XEN_KDUMP_CR3:
      return guarded("xen-kdump-cr3", () => decodeXenKdumpCr3(desc, ctx, base));
    default:
      if (t >= 0x2000000 && t <= 0x2000003)
        return guarded("xen-dumpcore", () => decodeXenDumpcore(t, desc, ctx, base));
      return guarded("xen-guest", () => decodeXenGuestNote(t, desc, ctx.littleEndian, base));
  }
}

const CORE_TYPES: Record<number, string> = {
  1: "PRSTATUS",
  2: "FPREGSET",
  3: "PRPSINFO",
  4: "TASKSTRUCT",
  6: "AUXV",
  512: "386_TLS",
  514: "X86_XSTATE",
  1189489535: "PRXFPREG",
  1397311305: "SIGINFO",
  1179208773: "FILE",
};
const GNU_TYPES: Record<number, string> = {
  1: "GNU_ABI_TAG",
  2: "GNU_HWCAP",
  3: "GNU_BUILD_ID",
  4: "GNU_GOLD_VERSION",
  5: "GNU_PROPERTY_TYPE_0",
};

/**
 * A short name for a note's type, in the style eu-readelf uses ("PRSTATUS", "VMCOREINFO",
 * "XEN_ELFNOTE_CRASH_INFO", "GNU_BUILD_ID", "QEMU_CPU_STATE"), or undefined.
 */
export function noteTypeLabel(note: Pick<ElfNote, "name" | "type">): string | undefined {
  const o = owner(note as ElfNote);
  const t = note.type;
  switch (o) {
    case "CORE":
      return CORE_TYPES[t] ?? (t === NT_XEN_KDUMP_CR3 ? "XEN_KDUMP_CR3" : undefined);
    case "LINUX":
      return CORE_TYPES[t];
    case "VMCOREINFO":
      return t === 0 ? "VMCOREINFO" : undefined;
    case "VMCOREINFO_XEN":
      return t === 0 ? "VMCOREINFO_XEN" : undefined;
    case "Xen": {
      const n = xenNoteTypeName(t);
      return n === undefined ? undefined : n === "KDUMP_CR3" ? "XEN_KDUMP_CR3" : `XEN_ELFNOTE_${n}`;
    }
    case "QEMU":
      return t === 0 ? "QEMU_CPU_STATE" : undefined;
    case "GNU":
      return GNU_TYPES[t];
    case "Linux":
      return t === 0x100 ? "LINUX_BUILD_SALT" : t === 0x101 ? "LINUX_LTO_INFO" : undefined;
    default:
      return t === NT_XEN_KDUMP_CR3 ? "XEN_KDUMP_CR3" : undefined;
  }
}

export * from "./cpus.js";
export * from "./gnu.js";
export * from "./prstatus.js";
export * from "./qemu.js";
export * from "./types.js";
export * from "./vmcoreinfo.js";
export * from "./xen.js";
