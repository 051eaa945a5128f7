/**
 * Xen address spaces for the CLI's memory verbs (rd, vtop, and `xen rd`/`xen vtop`): the
 * hypervisor's virtual addresses (--xen-virt), machine addresses (--machine), and dom0's
 * pseudo-physical (--domain 0 --phys) and kernel-virtual (--domain 0 --virt) addresses.
 * The translation logic lives in src/xen/; this file only opens files and resolves names.
 */
import type { PhysReader } from "../dump/types.js";
import { ElfFile } from "../elf/reader.js";
import { PT_NOTE } from "../elf/types.js";
import { AddressError, FormatError, hex, rethrowMissing } from "../errors.js";
import { parseKexecDebug } from "../memmap/kexec-debug.js";
import { type DumpFile, openDumpFile } from "../node/dump.js";
import { NodeFileSource } from "../node/file.js";
import { type Dom0View, openDom0 } from "../xen/dom0.js";
import { dom0P2mOf } from "../xen/host.js";
import { isXenHostDump, openXenDump, type XenDump } from "../xen/open.js";
import { SymbolTable } from "../xen/symbols.js";
import type { X86_64Walk } from "../xlat/x86_64.js";
import { parseAddress, parseNumber, UsageError } from "./common.js";
import { checkInput, InputError, readTextInput } from "./input.js";

export type XenSpace = "xen-virtual" | "machine" | "dom0-physical" | "dom0-virtual";

export interface XenCliFiles {
  xenSyms?: string;
  systemMap?: string;
  iomem?: string;
  /** --xen-phys-start / --p2m-mfn overrides (numbers as typed). */
  physStart?: string;
  p2mMfn?: string;
  /** `kexec -d -p` output of the first kernel (its "vmcoreinfo header" line). */
  kexecDebug?: string;
  /** kexec-tools' raw ELF core header (elfcorehdr= memory). */
  elfcorehdr?: string;
}

/**
 * Where kexec-tools said VMCOREINFO_XEN lives: the "vmcoreinfo header" phdr of `kexec -d`, or
 * in a raw ELF core header the PT_NOTE whose memory holds a note named VMCOREINFO_XEN.
 */
function vmcoreinfoAddress(files: XenCliFiles, mem: PhysReader): number | undefined {
  if (files.kexecDebug !== undefined) {
    const d = parseKexecDebug(readTextInput(files.kexecDebug, "--kexec-debug", "kexec -d output (text)"));
    const ph = d.phdrs.find((p) => p.label === "vmcoreinfo header");
    if (!ph) throw new FormatError(`${files.kexecDebug}: no "vmcoreinfo header" line (kexec -d output?)`);
    return ph.paddr;
  }
  if (files.elfcorehdr !== undefined) {
    const src = new NodeFileSource(files.elfcorehdr);
    try {
      const elf = ElfFile.parse(src);
      for (const ph of elf.programHeaders) {
        if (ph.type !== PT_NOTE || ph.paddr > BigInt(Number.MAX_SAFE_INTEGER)) continue;
        try {
          const b = mem.readPhys(Number(ph.paddr), 27);
          if (new TextDecoder("latin1").decode(b.subarray(12, 26)) === "VMCOREINFO_XEN")
            return Number(ph.paddr);
        } catch (e) {
          rethrowMissing(e);
          // that note's memory is not in the dump
        }
      }
      throw new FormatError(`${files.elfcorehdr}: no PT_NOTE points at a VMCOREINFO_XEN note in this dump`);
    } finally {
      src.close();
    }
  }
  return undefined;
}

export interface XenSession {
  file: DumpFile;
  xen: XenDump;
  xenSyms?: SymbolTable;
  systemMap?: SymbolTable;
  /** dom0, opened on first use. */
  dom0(): Dom0View;
  close(): void;
}

export function readSymbolFile(path: string, option?: "--xen-syms" | "--system-map"): SymbolTable {
  checkInput(path, option === "--system-map" ? "a System.map" : "xen-syms (ELF) or its .map");
  const src = new NodeFileSource(path);
  let t: SymbolTable;
  try {
    t = SymbolTable.fromFile(src);
  } catch (e) {
    if (option && e instanceof FormatError) throw new FormatError(`${option} ${path}: ${e.message}`);
    throw e;
  } finally {
    src.close();
  }
  // a Linux map where Xen's is expected (or the reverse): say which it is, not "symbol not found"
  const linux = t.get("linux_banner") !== undefined;
  const xen = t.get("start_xen") !== undefined || t.get("__start_xen") !== undefined;
  if (option === "--xen-syms" && linux && !xen)
    throw new InputError(
      `--xen-syms ${path}: a Linux kernel symbol table (it has linux_banner), not Xen's; give xen-syms or xen-syms.map (the Linux System.map goes with --system-map)`,
    );
  if (option === "--system-map" && xen && !linux)
    throw new InputError(
      `--system-map ${path}: Xen's symbol table (it has start_xen), not a Linux System.map; it goes with --xen-syms`,
    );
  return t;
}

/** Open a Xen host dump (one file or every part of a split set) with its optional companion files. */
export function openXenSession(parts: string | readonly string[], files: XenCliFiles = {}): XenSession {
  const list = typeof parts === "string" ? [parts] : [...parts];
  const path = list.join(" ");
  const xenSyms = files.xenSyms !== undefined ? readSymbolFile(files.xenSyms, "--xen-syms") : undefined;
  const systemMap =
    files.systemMap !== undefined ? readSymbolFile(files.systemMap, "--system-map") : undefined;
  const iomem =
    files.iomem !== undefined ? readTextInput(files.iomem, "--iomem", "/proc/iomem (text)") : undefined;
  for (const p of list) checkInput(p);
  const file = openDumpFile(list.length === 1 ? list[0]! : list, { expect: "known" });
  try {
    // Without Xen notes (a QEMU dump of a running Xen host) xen-syms alone can place Xen
    const noNotes = !isXenHostDump(file.dump);
    if (noNotes && !xenSyms)
      throw new FormatError(
        `${path}: not a Xen host dump (no CRASH_INFO note, no VMCOREINFO_XEN); give --xen-syms F to look for Xen anyway`,
      );
    const vmcoreinfoXenAddress = vmcoreinfoAddress(files, file.dump);
    const xen = openXenDump(file.dump, {
      ...(vmcoreinfoXenAddress !== undefined ? { vmcoreinfoXenAddress } : {}),
      ...(xenSyms ? { xenSyms } : {}),
      ...(iomem !== undefined ? { iomem } : {}),
      ...(files.physStart !== undefined
        ? { physStart: parseNumber(files.physStart, "--xen-phys-start") }
        : {}),
      ...(files.p2mMfn !== undefined ? { p2mMfn: parseNumber(files.p2mMfn, "--p2m-mfn") } : {}),
    });
    if (noNotes)
      xen.warnings.push("no Xen crash notes in this dump: everything below comes from xen-syms and memory");
    let dom0: Dom0View | undefined;
    const s: XenSession = {
      file,
      xen,
      dom0() {
        if (dom0) return dom0;
        const p2m = dom0P2mOf(xen, file.dump);
        if (typeof p2m === "string") throw new FormatError(`dom0: ${p2m}`);
        dom0 = openDom0(file.dump, p2m, systemMap);
        return dom0;
      },
      close: () => file.close(),
    };
    if (xenSyms) s.xenSyms = xenSyms;
    if (systemMap) s.systemMap = systemMap;
    return s;
  } catch (e) {
    rethrowMissing(e);
    file.close();
    throw e;
  }
}

/** An address or a symbol of the space (xen-syms for the hypervisor, System.map/VMCOREINFO for dom0). */
export function resolveXenAddress(s: XenSession, space: XenSpace, text: string): bigint {
  if (/^(0x)?[0-9a-fA-F]+$/.test(text)) return parseAddress(/^0x/i.test(text) ? text : `0x${text}`);
  if (space === "xen-virtual") {
    const v = s.xenSyms?.get(text) ?? s.xen.vmcoreinfoXen?.symbol(text);
    if (v === undefined) throw new UsageError(`unknown hypervisor symbol ${text} (give --xen-syms F)`);
    return v;
  }
  if (space === "dom0-virtual") {
    const v = s.dom0().vmcoreinfo?.info.symbol(text) ?? s.systemMap?.get(text);
    if (v === undefined) throw new UsageError(`unknown dom0 symbol ${text} (give --system-map F)`);
    return v;
  }
  throw new UsageError(`${space} addresses are numbers, not symbols: ${text}`);
}

function physNumber(space: XenSpace, a: bigint): number {
  if (a < 0n || a > BigInt(Number.MAX_SAFE_INTEGER)) throw new AddressError(space, a, "beyond 2^53");
  return Number(a);
}

/** Read `length` bytes at `address` in `space`. */
export function xenRead(s: XenSession, space: XenSpace, address: bigint, length: number): Uint8Array {
  switch (space) {
    case "machine":
      return s.file.dump.readPhys(physNumber(space, address), length);
    case "xen-virtual":
      if (!s.xen.space)
        throw new FormatError(`no hypervisor address space: ${s.xen.physStart.unavailable.join("; ")}`);
      return s.xen.space.read(address, length);
    case "dom0-physical":
      return s.dom0().phys.readPhys(physNumber(space, address), length);
    case "dom0-virtual":
      return s.dom0().kernel.read(address, length);
  }
}

export interface XenTranslation {
  space: XenSpace;
  virtual?: bigint;
  /** dom0 pseudo-physical address (dom0 spaces). */
  pseudoPhysical?: number;
  machine: number;
  method: string;
  /** The page-table walk (machine addresses), when a walk translated it. */
  walk?: X86_64Walk;
}

/** Translate an address of `space` down to a machine address, saying how. */
export function xenTranslate(s: XenSession, space: XenSpace, address: bigint): XenTranslation {
  switch (space) {
    case "machine":
      return { space, machine: physNumber(space, address), method: "identity" };
    case "xen-virtual": {
      const sp = s.xen.space;
      if (!sp)
        throw new FormatError(`no hypervisor address space: ${s.xen.physStart.unavailable.join("; ")}`);
      const method = sp.methodFor(address);
      const t: XenTranslation = { space, virtual: address, machine: sp.toMachine(address), method };
      if (method === "page-table") {
        const walk = sp.idlePageTables()?.walk(address);
        if (walk) t.walk = walk;
      }
      return t;
    }
    case "dom0-physical": {
      const pa = physNumber(space, address);
      return { space, pseudoPhysical: pa, machine: s.dom0().phys.p2m.toMachine(pa), method: "p2m" };
    }
    case "dom0-virtual": {
      const d = s.dom0();
      const t = d.kernel.translate(address);
      if (t.space === "machine") {
        const r: XenTranslation = { space, virtual: address, machine: t.address, method: "dom0 page tables" };
        const walk = d.kernel.pageTables?.tables.walk(address);
        if (walk) r.walk = walk;
        return r;
      }
      return {
        space,
        virtual: address,
        pseudoPhysical: t.address,
        machine: d.phys.p2m.toMachine(t.address),
        method: "linear map + p2m",
      };
    }
  }
}

/** crash-like vtop text for a Xen translation. */
export function renderXenVtop(t: XenTranslation): string {
  const col = (v: string) => v.padEnd(18);
  const both = t.virtual !== undefined && t.pseudoPhysical !== undefined;
  const firstName =
    t.virtual !== undefined ? "VIRTUAL" : t.pseudoPhysical !== undefined ? "PHYSICAL" : "ADDRESS";
  const first = t.virtual ?? BigInt(t.pseudoPhysical ?? t.machine);
  const head = `${col(firstName)}${both ? col("PHYSICAL") : ""}MACHINE`;
  const line = `${col(first.toString(16))}${both ? col(t.pseudoPhysical!.toString(16)) : ""}${t.machine.toString(16)}`;
  const steps = (t.walk?.steps ?? []).map(
    (st) =>
      `   ${st.level.toUpperCase()}: ${st.entryAddress.toString(16)} => ${st.entry.toString(16)} [machine]`,
  );
  return `${head}\n${line}\n(${t.space}, ${t.method}; machine ${hex(t.machine)})\n${steps.length ? `${steps.join("\n")}\n` : ""}`;
}
