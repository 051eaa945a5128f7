/**
 * Xen guest information with the semantics of Xen's libelf (xen/common/libelf/
 * libelf-dominfo.c and libelf-loader.c as of RELEASE-4.17.7): Xen notes from PT_NOTE segments
 * (skipping p_offset 0, a binutils bug), else SHT_NOTE sections, else the legacy
 * `__xen_guest` string; then elf_parse_binary's pstart/pend and elf_xen_addr_calc_check's
 * defaults and bounds checks, with libelf's own error texts.
 */
import { latin1 } from "../bytes/cursor.js";
import type { ElfFile } from "../elf/reader.js";
import {
  type ElfNote,
  PF_R,
  PF_W,
  PF_X,
  type ProgramHeader,
  PT_LOAD,
  PT_NOTE,
  SHT_NOTE,
} from "../elf/types.js";
import { hex } from "../errors.js";

export const XEN_ELFNOTE = {
  ENTRY: 1,
  HYPERCALL_PAGE: 2,
  VIRT_BASE: 3,
  PADDR_OFFSET: 4,
  XEN_VERSION: 5,
  GUEST_OS: 6,
  GUEST_VERSION: 7,
  LOADER: 8,
  PAE_MODE: 9,
  FEATURES: 10,
  BSD_SYMTAB: 11,
  HV_START_LOW: 12,
  L1_MFN_VALID: 13,
  SUSPEND_CANCEL: 14,
  INIT_P2M: 15,
  MOD_START_PFN: 16,
  SUPPORTED_FEATURES: 17,
  PHYS32_ENTRY: 18,
} as const;

/** libelf 4.17's note_desc table: which notes it knows and whether they are strings. */
const NOTE_DESC: Record<number, { name: string; str: boolean }> = {
  1: { name: "ENTRY", str: false },
  2: { name: "HYPERCALL_PAGE", str: false },
  3: { name: "VIRT_BASE", str: false },
  4: { name: "PADDR_OFFSET", str: false },
  5: { name: "XEN_VERSION", str: true },
  6: { name: "GUEST_OS", str: true },
  7: { name: "GUEST_VERSION", str: true },
  8: { name: "LOADER", str: true },
  9: { name: "PAE_MODE", str: true },
  10: { name: "FEATURES", str: true },
  11: { name: "BSD_SYMTAB", str: true },
  12: { name: "HV_START_LOW", str: false },
  14: { name: "SUSPEND_CANCEL", str: false },
  15: { name: "INIT_P2M", str: false },
  16: { name: "MOD_START_PFN", str: false },
  17: { name: "SUPPORTED_FEATURES", str: false },
  18: { name: "PHYS32_ENTRY", str: false },
};

/** Feature names libelf recognises (elf_xen_feature_names), by XENFEAT_* bit. */
export const XEN_FEATURE_NAMES: Record<number, string> = {
  0: "writable_page_tables",
  1: "writable_descriptor_tables",
  2: "auto_translated_physmap",
  3: "supervisor_mode_kernel",
  4: "pae_pgdir_above_4gb",
  8: "hvm_callback_vector",
  11: "dom0",
};

const U64 = (1n << 64n) - 1n;
const UNSET = U64;

export type XenPaeMode = "no" | "yes" | "extended-cr3" | "bimodal";

export interface XenGuestParam {
  type: number;
  name: string;
  value: bigint | string;
}

export interface XenGuestInfo {
  /** Where the parameters came from. */
  source: "notes-segment" | "notes-section" | "__xen_guest" | "none";
  notes: XenGuestParam[];
  /** The raw `__xen_guest` string, when that was the source. */
  guestInfo?: string;
  loader: string;
  guestOs: string;
  guestVersion: string;
  xenVersion: string;
  pae: XenPaeMode;
  bsdSymtab: boolean;
  /** elf_parse_binary: lowest p_paddr and highest p_paddr + p_memsz over loadable PT_LOADs. */
  pstart: bigint;
  pend: bigint;
  virtBase: bigint;
  elfPaddrOffset: bigint;
  /** virt_base − elf_paddr_offset: what is added to a paddr to get its guest virtual address. */
  virtOffset: bigint;
  virtKstart: bigint;
  virtKend: bigint;
  virtEntry: bigint;
  /** HYPERCALL_PAGE (virtual; the legacy string gives a page number relative to virt_base). */
  virtHypercall?: bigint;
  virtHvStartLow?: bigint;
  p2mBase?: bigint;
  physEntry?: number;
  unmappedInitrd: boolean;
  featuresSupported: number;
  featuresRequired: number;
  /** What libelf would print with dom0_verbose (elf_msg), in order. */
  messages: string[];
  /** libelf's error (elf_err) when it refuses the image; the planner reports it. */
  error?: string;
}

/** libelf's loadable test: PT_LOAD with any of R/W/X (elf_phdr_is_loadable). */
export function isLoadable(p: ProgramHeader): boolean {
  return p.type === PT_LOAD && (p.flags & (PF_R | PF_W | PF_X)) !== 0;
}

function noteNumeric(desc: Uint8Array, le: boolean): bigint {
  const v = new DataView(desc.buffer, desc.byteOffset, desc.byteLength);
  switch (desc.length) {
    case 1:
      return BigInt(desc[0]!);
    case 2:
      return BigInt(v.getUint16(0, le));
    case 4:
      return BigInt(v.getUint32(0, le));
    case 8:
      return v.getBigUint64(0, le);
    default:
      return 0n;
  }
}

function cstr(desc: Uint8Array): string | undefined {
  const z = desc.indexOf(0);
  if (z < 0) return undefined; // elf_strval: not terminated → broken
  return latin1(desc.subarray(0, z));
}

/** strtoull(value, NULL, 0): 0x… hex, 0… octal, decimal; stops at the first bad digit. */
function strtoull(s: string): bigint {
  const t = s.trim();
  const hexm = /^0[xX]([0-9a-fA-F]+)/.exec(t);
  if (hexm) return BigInt(`0x${hexm[1]}`) & U64;
  const octm = /^0([0-7]+)/.exec(t);
  if (octm) return BigInt(`0o${octm[1]}`) & U64;
  const decm = /^([0-9]+)/.exec(t);
  return decm ? BigInt(decm[1]!) & U64 : 0n;
}

/** elf_xen_parse_features: returns false on an unknown required ("!name") feature. */
function parseFeatures(features: string, acc: { supported: number; required: number }): boolean {
  for (const raw of features.split("|")) {
    const f = raw.slice(0, 63);
    if (f === "") continue;
    const req = f.startsWith("!");
    const name = req ? f.slice(1) : f;
    const bit = Object.entries(XEN_FEATURE_NAMES).find(([, n]) => n === name)?.[0];
    if (bit === undefined) {
      if (req) return false;
      continue;
    }
    acc.supported |= 1 << Number(bit);
    if (req) acc.required |= 1 << Number(bit);
  }
  return true;
}

/**
 * Parse Xen guest parameters the way libelf's elf_xen_parse does (PV unless `hvm`). Never
 * throws for what libelf refuses: `error` carries libelf's message.
 */
export function parseXenGuest(elf: ElfFile, opts: { hvm?: boolean } = {}): XenGuestInfo {
  const hvm = opts.hvm ?? false;
  const le = elf.littleEndian;
  const msgs: string[] = [];
  // elf_parse_binary
  let low = U64;
  let high = 0n;
  for (const p of elf.programHeaders) {
    if (!isLoadable(p)) continue;
    msgs.push(`ELF: phdr: paddr=${hexAlt(p.paddr)} memsz=${hexAlt(BigInt(p.memsz))}`);
    if (low > p.paddr) low = p.paddr;
    const e = (p.paddr + BigInt(p.memsz)) & U64;
    if (high < e) high = e;
  }
  msgs.push(`ELF: memory: ${hexAlt(low)} -> ${hexAlt(high)}`);

  const info: XenGuestInfo = {
    source: "none",
    notes: [],
    loader: "",
    guestOs: "",
    guestVersion: "",
    xenVersion: "",
    pae: "no",
    bsdSymtab: false,
    pstart: low,
    pend: high,
    virtBase: UNSET,
    elfPaddrOffset: UNSET,
    virtOffset: 0n,
    virtKstart: 0n,
    virtKend: 0n,
    virtEntry: UNSET,
    unmappedInitrd: false,
    featuresSupported: 0,
    featuresRequired: 0,
    messages: msgs,
  };
  let virtHypercall = UNSET;
  let virtHvStartLow = UNSET;
  let p2mBase = UNSET;
  let physEntry = -1;
  const feats = { supported: 0, required: 0 };
  let noteFound = false;
  let invalid = false;

  const applyNote = (n: ElfNote): boolean => {
    const d = NOTE_DESC[n.type];
    if (!d) {
      msgs.push(`ELF: note: unknown (${hexAlt(BigInt(n.type))})`);
      return true;
    }
    let str = "";
    let val = 0n;
    if (d.str) {
      const s = cstr(n.desc);
      if (s === undefined) return true;
      str = s;
      msgs.push(`ELF: note: ${d.name} = "${s}"`);
      info.notes.push({ type: n.type, name: d.name, value: s });
    } else {
      val = noteNumeric(n.desc, le);
      msgs.push(`ELF: note: ${d.name} = ${hexAlt(val)}`);
      info.notes.push({ type: n.type, name: d.name, value: val });
    }
    switch (n.type) {
      case XEN_ELFNOTE.LOADER:
        info.loader = str;
        break;
      case XEN_ELFNOTE.GUEST_OS:
        info.guestOs = str;
        break;
      case XEN_ELFNOTE.GUEST_VERSION:
        info.guestVersion = str;
        break;
      case XEN_ELFNOTE.XEN_VERSION:
        info.xenVersion = str;
        break;
      case XEN_ELFNOTE.PAE_MODE:
        if (str === "yes") info.pae = "extended-cr3";
        if (str.includes("bimodal")) info.pae = "bimodal";
        break;
      case XEN_ELFNOTE.BSD_SYMTAB:
        if (str === "yes") info.bsdSymtab = true;
        break;
      case XEN_ELFNOTE.VIRT_BASE:
        info.virtBase = val;
        break;
      case XEN_ELFNOTE.ENTRY:
        info.virtEntry = val;
        break;
      case XEN_ELFNOTE.INIT_P2M:
        p2mBase = val;
        break;
      case XEN_ELFNOTE.MOD_START_PFN:
        info.unmappedInitrd = val !== 0n;
        break;
      case XEN_ELFNOTE.PADDR_OFFSET:
        info.elfPaddrOffset = val;
        break;
      case XEN_ELFNOTE.HYPERCALL_PAGE:
        virtHypercall = val;
        break;
      case XEN_ELFNOTE.HV_START_LOW:
        virtHvStartLow = val;
        break;
      case XEN_ELFNOTE.FEATURES:
        if (!parseFeatures(str, feats)) return false;
        break;
      case XEN_ELFNOTE.SUPPORTED_FEATURES:
        if (n.desc.length % 4 === 0 && n.desc.length >= 4)
          feats.supported |= new DataView(n.desc.buffer, n.desc.byteOffset, 4).getUint32(0, le);
        break;
      case XEN_ELFNOTE.PHYS32_ENTRY:
        physEntry = Number(val & 0xffffffffn);
        break;
    }
    return true;
  };

  const parseBlock = (notes: ElfNote[]): number => {
    let count = 0;
    for (const n of notes) {
      if (n.name !== "Xen") continue;
      if (!applyNote(n)) {
        invalid = true;
        return -1;
      }
      count++;
    }
    return count;
  };

  let xenNotes = 0;
  for (const p of elf.programHeaders) {
    if (p.type !== PT_NOTE) continue;
    // "Some versions of binutils do not correctly set p_offset for note segments."
    if (p.offset === 0) continue;
    const c = parseBlock(elf.segmentNotes(p));
    if (c < 0) break;
    noteFound = true;
    xenNotes += c;
  }
  if (xenNotes > 0) info.source = "notes-segment";
  if (!invalid && xenNotes === 0) {
    for (const s of elf.sections) {
      if (s.index === 0 || s.type !== SHT_NOTE) continue;
      const c = parseBlock(elf.sectionNotes(s));
      if (c < 0) break;
      noteFound = true;
      if (xenNotes === 0 && c > 0) msgs.push("ELF: using notes from SHT_NOTE section");
      xenNotes += c;
    }
    if (xenNotes > 0) info.source = "notes-section";
  }
  let guestInfoFound = false;
  if (!invalid && xenNotes === 0 && !hvm) {
    const sh = elf.sectionByName("__xen_guest");
    if (sh) {
      const bytes = elf.readSection(sh);
      const z = bytes.indexOf(0);
      const s = latin1(z >= 0 ? bytes.subarray(0, z) : bytes);
      info.guestInfo = s;
      info.source = "__xen_guest";
      guestInfoFound = true;
      noteFound = false; // elf_note_start = invalid: the legacy defaults apply
      msgs.push(`ELF: __xen_guest: "${s}"`);
      if (
        !parseGuestInfo(s, info, feats, msgs, (v) => {
          virtHypercall = v;
        })
      )
        invalid = true;
      if (info.virtBase !== UNSET && virtHypercall !== UNSET)
        virtHypercall = (virtHypercall + info.virtBase) & U64;
    }
  }
  info.featuresSupported = feats.supported;
  info.featuresRequired = feats.required;
  if (virtHypercall !== UNSET) info.virtHypercall = virtHypercall;
  if (virtHvStartLow !== UNSET) info.virtHvStartLow = virtHvStartLow;
  if (p2mBase !== UNSET) info.p2mBase = p2mBase;
  if (physEntry >= 0) info.physEntry = physEntry;
  if (invalid) {
    info.error = "ERROR: unknown required feature in FEATURES";
    return info;
  }

  // elf_xen_note_check
  const machine = elf.header.machine;
  if (!noteFound && !guestInfoFound) {
    if (machine === 3 || machine === 62) {
      info.error = "ERROR: Not a Xen-ELF image: No ELF notes or '__xen_guest' section found";
      return info;
    }
  } else if (machine === 40) {
    msgs.push("ELF: Not bothering with notes on ARM");
  } else if (physEntry >= 0 && hvm) {
    msgs.push("ELF: Found PVH image");
  } else {
    if (!info.loader.startsWith("generic") && !info.guestOs.startsWith("linux")) {
      info.error = `ERROR: Will only load images built for the generic loader or Linux images (Not '${info.loader}' and '${info.guestOs}')`;
      return info;
    }
    if (!info.xenVersion.startsWith("xen-3.0")) {
      info.error = `ERROR: Xen will only load images built for Xen v3.0 (Not '${info.xenVersion}')`;
      return info;
    }
  }

  // elf_xen_addr_calc_check
  if (info.elfPaddrOffset !== UNSET && info.virtBase === UNSET && !hvm) {
    info.error = "ERROR: ELF_PADDR_OFFSET set, VIRT_BASE unset";
    return info;
  }
  if (info.virtBase === UNSET || hvm) {
    info.virtBase = 0n;
    if (!hvm) msgs.push("ELF: VIRT_BASE unset, using 0");
  }
  if (info.elfPaddrOffset === UNSET || hvm) {
    // Legacy __xen_guest: paddr in old kernels equals vaddr, so the offset defaults to
    // virt_base (compatibility with older hypervisors); with ELF notes it defaults to 0.
    info.elfPaddrOffset = noteFound || hvm ? 0n : info.virtBase;
    if (!hvm) msgs.push(`ELF_PADDR_OFFSET unset, using ${hexAlt(info.elfPaddrOffset)}`);
  }
  const virtOffset = (info.virtBase - info.elfPaddrOffset) & U64;
  info.virtOffset = virtOffset;
  info.virtKstart = (low + virtOffset) & U64;
  info.virtKend = (high + virtOffset) & U64;
  if (info.virtEntry === UNSET || hvm) {
    info.virtEntry = physEntry >= 0 && hvm ? BigInt(physEntry) : elf.header.entry;
  }
  msgs.push("ELF: addresses:");
  msgs.push(`    virt_base        = 0x${info.virtBase.toString(16)}`);
  msgs.push(`    elf_paddr_offset = 0x${info.elfPaddrOffset.toString(16)}`);
  msgs.push(`    virt_offset      = 0x${virtOffset.toString(16)}`);
  msgs.push(`    virt_kstart      = 0x${info.virtKstart.toString(16)}`);
  msgs.push(`    virt_kend        = 0x${info.virtKend.toString(16)}`);
  msgs.push(`    virt_entry       = 0x${info.virtEntry.toString(16)}`);
  msgs.push(`    p2m_base         = 0x${p2mBase.toString(16)}`);
  if (
    info.virtKstart > info.virtKend ||
    info.virtEntry < info.virtKstart ||
    info.virtEntry > info.virtKend ||
    info.virtBase > info.virtKstart
  ) {
    info.error = "ERROR: ELF start or entries are out of bounds";
    return info;
  }
  if (p2mBase !== UNSET && p2mBase >= info.virtKstart && p2mBase < info.virtKend) {
    info.error = "ERROR: P->M table base is out of bounds";
    return info;
  }
  return info;
}

/** elf_xen_parse_guest_info over the legacy `__xen_guest` string. */
function parseGuestInfo(
  s: string,
  info: XenGuestInfo,
  feats: { supported: number; required: number },
  msgs: string[],
  setHypercall: (v: bigint) => void,
): boolean {
  for (const item of s.split(",")) {
    if (item === "") continue;
    const eq = item.indexOf("=");
    const name = (eq >= 0 ? item.slice(0, eq) : item).slice(0, 31);
    const value = eq >= 0 ? item.slice(eq + 1).slice(0, 127) : "";
    msgs.push(`ELF: ${name}="${value}"`);
    if (name === "LOADER") info.loader = value;
    if (name === "GUEST_OS") info.guestOs = value;
    if (name === "GUEST_VER") info.guestVersion = value;
    if (name === "XEN_VER") info.xenVersion = value;
    if (name === "PAE") {
      if (value === "yes[extended-cr3]") info.pae = "extended-cr3";
      else if (value.startsWith("yes")) info.pae = "yes";
    }
    if (name === "BSD_SYMTAB") info.bsdSymtab = true;
    if (name === "VIRT_BASE") info.virtBase = strtoull(value);
    if (name === "VIRT_ENTRY") info.virtEntry = strtoull(value);
    if (name === "ELF_PADDR_OFFSET") info.elfPaddrOffset = strtoull(value);
    if (name === "HYPERCALL_PAGE") setHypercall((strtoull(value) << 12n) & U64);
    if (name === "FEATURES" && !parseFeatures(value, feats)) return false;
  }
  return true;
}

/** C's "%#" PRIx64: "0" for zero, "0x…" otherwise. */
export function hexAlt(v: bigint | number): string {
  const b = BigInt(v);
  return b === 0n ? "0" : hex(b);
}

/** Xen's %p: 16 hex digits, no prefix. */
export function xenPtr(v: bigint): string {
  return (v & U64).toString(16).padStart(16, "0");
}
