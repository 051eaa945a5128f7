/**
 * Notes and registers as `kdumpkit notes` / `kdumpkit regs` show them, shared with the web app:
 * opening the notes of any dump from a byte source, decoding them, and their text and JSON.
 */
import type { SyncByteSource } from "../bytes/source.js";
import type { PageCodecs } from "../codecs/pages.js";
import { type Dump, openDumpWith } from "../dump/dump.js";
import { machineName } from "../elf/names.js";
import { ElfFile, isElf } from "../elf/reader.js";
import { type ElfNote, PT_LOAD } from "../elf/types.js";
import { diagnoseImpossibleHeaders, formatHeaderProblems } from "../elfcorehdr/broken.js";
import { embeddedHeaderNotes } from "../elfcorehdr/xen-start-note.js";
import { hex, rethrowMissing } from "../errors.js";
import {
  type CpuState,
  type DecodedNote,
  decodeNote,
  type NoteContext,
  noteContextForMachine,
  noteTypeLabel,
  type Register,
  resolveXenCrashInfoStrings,
  type Timeval,
  Vmcoreinfo,
  type XenCrashInfoStrings,
} from "../notes/index.js";
import type { SymbolizedRegister } from "../unwind/registers.js";

// Opening: any ELF (vmcore, QEMU dump, elfcorehdr, vmlinux, xen-syms) through the ELF reader;
// everything else through the dump facade (kdump-compressed, diskdump, flattened, split sets).
export interface DumpNotes {
  format: "elf" | "kdump" | "diskdump";
  /** e.g. "ELF64 LSB, x86-64" or "kdump-compressed, x86_64". */
  description: string;
  ctx: NoteContext;
  notes: ElfNote[];
  /** kdump v3 and older keep VMCOREINFO outside the notes (sub-header offset_vmcoreinfo). */
  vmcoreinfoBytes?: Uint8Array;
  /** Physical/machine memory, for strings a note points at; undefined when absent. */
  readPhys(addr: number, length: number): Uint8Array | undefined;
  warnings: string[];
}

/** The notes of one file: an ELF file directly, anything else through the dump facade. */
export function dumpNotesOf(src: SyncByteSource, codecs: PageCodecs): DumpNotes {
  const head = src.readSync(0, Math.min(src.size, 16));
  if (isElf(head)) {
    const elf = ElfFile.parse(src);
    const h = elf.header;
    const loads = elf.programHeaders.filter((p) => p.type === PT_LOAD && p.filesz > 0);
    return {
      format: "elf",
      description: `ELF${h.class} ${h.littleEndian ? "LSB" : "MSB"}, ${machineName(h.machine)}${
        elf.rawCoreHeader
          ? " (a bare ELF core header: its PT_NOTEs point at notes in the crashed machine's memory, not in this file)"
          : ""
      }`,
      ctx: { machine: h.machine, class: h.class, littleEndian: h.littleEndian },
      // a bare header carries no notes of its own, except the Plan-B Xen note inside it
      notes: elf.rawCoreHeader ? embeddedHeaderNotes(elf).flatMap((e) => e.notes) : elf.notes(),
      readPhys(addr, length) {
        // A bare core header (elfcorehdr) has no segment data behind it.
        if (elf.rawCoreHeader) return undefined;
        for (const p of loads) {
          const start = Number(p.paddr);
          if (addr >= start && addr < start + p.filesz) {
            const n = Math.min(length, start + p.filesz - addr);
            return src.readSync(p.offset + (addr - start), n).slice();
          }
        }
        return undefined;
      },
      warnings: [
        ...elf.warnings.map((w) => w.message),
        ...formatHeaderProblems(diagnoseImpossibleHeaders(elf)).map((l) => l.trimStart()),
      ],
    };
  }
  // kdump-compressed, diskdump, flattened (QEMU writes its kdump files flattened): the facade
  return dumpNotesOfDump(openDumpWith(src, codecs));
}

/** Notes of a dump opened through the facade (kdump-compressed, flattened, split sets). */
export function dumpNotesOfDump(dump: Dump): DumpNotes {
  const k = dump.backend;
  const out: DumpNotes = {
    format: dump.format === "elf" ? "elf" : dump.format === "diskdump" ? "diskdump" : "kdump",
    description: `${dump.flattened ? "flattened " : ""}${dump.format === "diskdump" ? "diskdump" : dump.format === "elf" ? "ELF vmcore" : "kdump-compressed"}, ${k.machine ?? (dump.arch ? `${dump.arch} (from the ${dump.archFrom})` : "unknown machine")}`,
    // the header's machine, else the architecture the dump's notes tell (a Xen host kdump)
    ctx: noteContextForMachine(k.machine ?? dump.arch ?? "", k.wordSize, k.littleEndian),
    notes: dump.notes,
    readPhys(addr, length) {
      try {
        return dump.readPhys(addr, length);
      } catch (e) {
        rethrowMissing(e);
        return undefined;
      }
    },
    warnings: dump.warnings.map((w) => w.message),
  };
  if (k.vmcoreinfoBytes) out.vmcoreinfoBytes = k.vmcoreinfoBytes;
  return out;
}

// ---------- rendering ----------

function hex64(v: bigint, bits: number): string {
  return `0x${BigInt.asUintN(bits, v)
    .toString(16)
    .padStart(bits / 4, "0")}`;
}

/** Registers two per line, as eu-readelf lays them out. */
export function formatRegisters(regs: readonly Register[], indent = "    "): string[] {
  const out: string[] = [];
  const w = Math.max(...regs.map((r) => r.name.length), 3) + 1;
  for (let i = 0; i < regs.length; i += 2) {
    const cell = (r: Register) => `${`${r.name}:`.padEnd(w)} ${hex64(r.value, r.bits)}`;
    const a = regs[i]!;
    const b = regs[i + 1];
    out.push(`${indent}${cell(a).padEnd(w + 19)}${b ? `  ${cell(b)}` : ""}`.trimEnd());
  }
  return out;
}

function tv(t: Timeval): string {
  return `${t.sec}.${String(t.usec).padStart(6, "0")}`;
}

function hexDump(b: Uint8Array, indent: string, max = 256): string[] {
  const out: string[] = [];
  const n = Math.min(b.length, max);
  for (let i = 0; i < n; i += 16) {
    const row = Array.from(b.subarray(i, Math.min(i + 16, n)), (x) => x.toString(16).padStart(2, "0"));
    const text = Array.from(b.subarray(i, Math.min(i + 16, n)), (x) =>
      x >= 0x20 && x < 0x7f ? String.fromCharCode(x) : ".",
    ).join("");
    out.push(`${indent}${i.toString(16).padStart(4, "0")}: ${row.join(" ").padEnd(47)}  ${text}`);
  }
  if (b.length > max) out.push(`${indent}… ${b.length - max} more bytes`);
  return out;
}

function vmcoreinfoLines(info: Vmcoreinfo, indent: string): string[] {
  return info.entries.map((e) => {
    // NUMBER(x) is signed decimal; show what a negative one means modulo 2^64
    const note = e.kind === "NUMBER" && e.value !== undefined && e.value < 0n ? `  (${hex(e.value)})` : "";
    return `${indent}${e.key}=${e.raw}${note}`;
  });
}

/** The text lines describing one decoded note (without its header line). */
export function describeNote(d: DecodedNote, strings?: XenCrashInfoStrings): string[] {
  const I = "    ";
  switch (d.kind) {
    case "prstatus":
      return [
        `${I}arch: ${d.arch}  pid: ${d.pid}  ppid: ${d.ppid}  pgrp: ${d.pgrp}  sid: ${d.sid}`,
        `${I}info.si_signo: ${d.signo}  info.si_code: ${d.code}  info.si_errno: ${d.errno}  cursig: ${d.cursig}`,
        `${I}sigpend: ${hex(d.sigpend)}  sighold: ${hex(d.sighold)}  fpvalid: ${d.fpvalid}`,
        `${I}utime: ${tv(d.utime)}  stime: ${tv(d.stime)}  cutime: ${tv(d.cutime)}  cstime: ${tv(d.cstime)}`,
        ...formatRegisters(d.registers),
        ...(d.extraBytes ? [`${I}(${d.extraBytes} bytes past elf_prstatus)`] : []),
      ];
    case "prpsinfo":
      return [
        `${I}state: ${d.state} (${d.sname || "?"})  zomb: ${d.zomb}  nice: ${d.nice}  flag: ${hex(d.flag)}`,
        `${I}uid: ${d.uid}  gid: ${d.gid}  pid: ${d.pid}  ppid: ${d.ppid}  pgrp: ${d.pgrp}  sid: ${d.sid}`,
        `${I}fname: ${d.fname}`,
        `${I}psargs: ${d.psargs}`,
      ];
    case "vmcoreinfo":
      return vmcoreinfoLines(d.info, I);
    case "xen-crash-info": {
      const s = (addr: number, v: string | undefined) => `${hex(addr)}${v !== undefined ? `  "${v}"` : ""}`;
      const lines = [
        `${I}crash_xen_info_t v${d.version} (${d.wordSize}-byte words)${strings ? `: Xen ${strings.version}` : ""}`,
        `${I}xen_major_version:  ${d.majorVersion}`,
        `${I}xen_minor_version:  ${d.minorVersion}`,
        `${I}xen_extra_version:  ${s(d.extraVersionAddr, strings?.extraVersion)}`,
        `${I}xen_changeset:      ${s(d.changesetAddr, strings?.changeset)}`,
        `${I}xen_compiler:       ${s(d.compilerAddr, strings?.compiler)}`,
        `${I}xen_compile_date:   ${s(d.compileDateAddr, strings?.compileDate)}`,
        `${I}xen_compile_time:   ${s(d.compileTimeAddr, strings?.compileTime)}`,
        `${I}tainted:            ${hex(d.tainted)}`,
      ];
      if (d.xenPhysStart !== undefined) lines.push(`${I}xen_phys_start:     ${hex(d.xenPhysStart)}`);
      if (d.dom0PfnToMfnFrameListList !== undefined)
        lines.push(`${I}dom0_pfn_to_mfn_frame_list_list: ${hex(d.dom0PfnToMfnFrameListList)}`);
      if (d.extraBytes) lines.push(`${I}(${d.extraBytes} bytes past v2)`);
      return lines;
    }
    case "xen-crash-regs":
      return formatRegisters([
        { name: "cr0", value: d.cr0, bits: d.wordSize === 8 ? 64 : 32 },
        { name: "cr2", value: d.cr2, bits: d.wordSize === 8 ? 64 : 32 },
        { name: "cr3", value: d.cr3, bits: d.wordSize === 8 ? 64 : 32 },
        { name: "cr4", value: d.cr4, bits: d.wordSize === 8 ? 64 : 32 },
      ]);
    case "xen-phys-start":
      return [`${I}xen_phys_start: ${hex(d.xenPhysStart)}`];
    case "xen-kdump-cr3":
      return [`${I}cr3: pfn ${hex(d.mfn)} (page table at machine address ${hex(d.address)})`];
    case "xen-dumpcore-none":
      return [];
    case "xen-dumpcore-header":
      return [
        `${I}magic: ${hex(d.magic)}  vcpus: ${d.nrVcpus}  pages: ${d.nrPages}  page size: ${d.pageSize}`,
      ];
    case "xen-dumpcore-xen-version":
      return [
        `${I}Xen ${d.majorVersion}.${d.minorVersion}${d.extraVersion}  changeset: ${d.changeset}`,
        `${I}compiled by ${d.compileBy}@${d.compileDomain} with ${d.compiler} on ${d.compileDate}`,
        `${I}capabilities: ${d.capabilities}`,
        `${I}virt_start: ${hex(d.virtStart)}  page size: ${d.pageSize}`,
      ];
    case "xen-dumpcore-format-version":
      return [`${I}format version: ${d.major}.${d.minor}`];
    case "xen-guest": {
      const v = d.value;
      if (v.form === "string") return [`${I}${d.name} = "${v.text}"`];
      if (v.form === "number") return [`${I}${d.name} = ${hex(v.value)}`];
      return [`${I}${d.name} = ${v.values.map((x) => hex(x)).join(" ")}`];
    }
    case "qemu-cpu-state": {
      const lines = [
        `${I}QEMUCPUState version ${d.version}, size ${d.size}`,
        ...formatRegisters(d.registers),
      ];
      for (const s of d.segments)
        lines.push(
          `${I}${s.name.padEnd(4)} selector ${hex(s.selector).padEnd(7)} base ${hex64(s.base, 64)}  limit ${hex(s.limit).padEnd(11)} flags ${hex(s.flags)}`,
        );
      lines.push(...formatRegisters(d.cr.map((value, i) => ({ name: `cr${i}`, value, bits: 64 as const }))));
      if (d.kernelGsBase !== undefined) lines.push(`${I}kernel_gs_base: ${hex64(d.kernelGsBase, 64)}`);
      return lines;
    }
    case "gnu-build-id":
      return [`${I}Build ID: ${d.buildId}`];
    case "gnu-abi-tag":
      return [`${I}OS: ${d.os}, ABI: ${d.major}.${d.minor}.${d.subminor}`];
    case "gnu-gold-version":
      return [`${I}Version: ${d.version}`];
    case "gnu-property":
      return d.properties.map(
        (p) =>
          `${I}property ${hex(p.type)}: ${Array.from(p.data, (x) => x.toString(16).padStart(2, "0")).join(" ")}`,
      );
    case "linux-build-salt":
      return [`${I}build salt: ${d.salt}`];
    case "linux-lto-info":
      return [`${I}LTO: ${d.lto ? "yes" : "no"}`];
    case "malformed":
      return [`${I}malformed ${d.expected}: ${d.message}`];
  }
}

/**
 * Physical addresses and frame numbers are numbers in the decoded objects; the JSON contract
 * prints every 64-bit quantity as "0x…", so turn those fields into bigints for output.
 */
/**
 * JSON convention for registers (issue 14.17): `registers` keyed by name (`.registers.rip`),
 * and `registerList`, the same in the note's stored order with each register's width.
 */
export function registersJson(regs: readonly { name: string; value: bigint; bits?: number }[]): {
  registers: Record<string, bigint>;
  registerList: { name: string; value: bigint; bits?: number }[];
} {
  return {
    registers: Object.fromEntries(regs.map((r) => [r.name, r.value])),
    registerList: regs.map((r) => ({ ...r })),
  };
}

function addressesAsHex(d: DecodedNote): unknown {
  if ("registers" in d && Array.isArray(d.registers)) return { ...d, ...registersJson(d.registers) };
  if (d.kind !== "xen-crash-info" && d.kind !== "xen-phys-start") return d;
  const o: Record<string, unknown> = { ...d };
  for (const [k, v] of Object.entries(o))
    if (typeof v === "number" && /Addr$|PhysStart$|FrameListList$/.test(k)) o[k] = BigInt(v);
  return o;
}

export interface NoteRow {
  index: number;
  name: string;
  type: number;
  typeName: string | undefined;
  descsz: number;
  offset: number;
  decoded?: DecodedNote;
  strings?: XenCrashInfoStrings;
  desc: Uint8Array;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function decodeDumpNotes(d: DumpNotes): NoteRow[] {
  const rows: NoteRow[] = d.notes.map((n, index) => {
    const row: NoteRow = {
      index,
      name: n.name,
      type: n.type,
      typeName: noteTypeLabel(n),
      descsz: n.desc.length,
      offset: n.offset,
      desc: n.desc,
    };
    const dec = decodeNote(n, d.ctx);
    if (dec) row.decoded = dec;
    if (dec?.kind === "xen-crash-info") row.strings = resolveXenCrashInfoStrings(dec, d.readPhys);
    return row;
  });
  // kdump v3+ headers point at VMCOREINFO outside the notes too; show it only when it is not
  // already one of the notes (makedumpfile and QEMU write both, identical)
  const vi = d.vmcoreinfoBytes;
  const dup = vi && d.notes.some((n) => n.name === "VMCOREINFO" && sameBytes(n.desc, vi));
  if (vi && !dup) {
    rows.push({
      index: rows.length,
      name: "VMCOREINFO",
      type: 0,
      typeName: "VMCOREINFO (kdump sub-header)",
      descsz: vi.length,
      offset: -1,
      decoded: { kind: "vmcoreinfo", xen: false, info: Vmcoreinfo.fromBytes(vi) },
      desc: vi,
    });
  }
  return rows;
}

/** `kdumpkit notes --json`'s object. */
export function notesJson(file: string, dump: DumpNotes, rows: NoteRow[]) {
  return {
    file,
    format: dump.format,
    machine: dump.ctx.machine,
    class: dump.ctx.class,
    littleEndian: dump.ctx.littleEndian,
    notes: rows.map((r) => {
      const o: Record<string, unknown> = {
        index: r.index,
        name: r.name,
        type: r.type,
        typeName: r.typeName ?? null,
        descsz: r.descsz,
      };
      if (r.offset >= 0) o.offset = BigInt(r.offset);
      if (r.decoded) o.decoded = addressesAsHex(r.decoded);
      if (r.strings) o.strings = r.strings;
      if (!r.decoded) o.desc = r.desc;
      return o;
    }),
    warnings: dump.warnings,
  };
}

/** `kdumpkit notes`' text. */
export function notesText(file: string, dump: DumpNotes, rows: NoteRow[]): string {
  const out: string[] = [
    `${file}: ${dump.description}, ${rows.length} note${rows.length === 1 ? "" : "s"}`,
    "",
  ];
  for (const r of rows) {
    const where = r.offset >= 0 ? ` at ${hex(r.offset)}` : "";
    const tn = r.typeName ?? `unknown type ${hex(r.type)}`;
    out.push(`[${r.index}] ${r.name || '""'}  ${tn}  (${r.descsz} bytes${where})`);
    if (r.decoded) out.push(...describeNote(r.decoded, r.strings));
    else out.push(...hexDump(r.desc, "    "));
  }
  out.push("");
  return out.join("\n");
}

/**
 * `kdumpkit regs`: per-CPU registers at the time of the crash, from NT_PRSTATUS, Xen's
 * CRASH_REGS (control registers per physical CPU) and QEMU's CPU state notes. `named` gives a
 * CPU's registers that point at kernel symbols (none when the dump's symbols are unknown).
 */
export type NamedRegisters = (c: CpuState) => readonly SymbolizedRegister[];
const noNames: NamedRegisters = () => [];

/** Which notes a CPU's registers came from. */
export function cpuSources(s: CpuState): string[] {
  const out: string[] = [];
  if (s.prstatus) out.push("PRSTATUS");
  if (s.xenCrashRegs) out.push("XEN_ELFNOTE_CRASH_REGS");
  if (s.qemu) out.push("QEMU");
  return out;
}

/** `kdumpkit regs --json`'s CPU list. */
export function cpusJson(cpus: readonly CpuState[], named: NamedRegisters = noNames) {
  return cpus.map((c) => ({
    cpu: c.cpu,
    pid: c.pid ?? null,
    arch: c.prstatus?.arch ?? (c.qemu ? "x86_64" : null),
    sources: cpuSources(c),
    ...registersJson(c.registers),
    symbols: Object.fromEntries(named(c).map((r) => [r.name, r.symbol])),
  }));
}

/** `kdumpkit regs`' text: per CPU a header line, the registers two per line, QEMU's segments. */
export function cpusText(cpus: readonly CpuState[], named: NamedRegisters = noNames): string {
  const out: string[] = [];
  for (const c of cpus) {
    const head = [`CPU ${c.cpu}`];
    if (c.pid !== undefined) head.push(`pid ${c.pid}`);
    if (c.prstatus?.cursig) head.push(`signal ${c.prstatus.cursig}`);
    head.push(`(${cpuSources(c).join(" + ")})`);
    out.push(head.join("  "));
    out.push(...formatRegisters(c.registers));
    for (const r of named(c)) out.push(`    ${r.name} is ${r.symbol}`);
    if (c.qemu)
      for (const s of c.qemu.segments.slice(0, 6))
        out.push(
          `    ${s.name}: selector ${hex(s.selector)} base ${hex(s.base)} limit ${hex(s.limit)} flags ${hex(s.flags)}`,
        );
    out.push("");
  }
  return out.join("\n");
}
