/**
 * The Xen options of the memory verbs (rd, vtop, dmesg and the view verbs): the companion files
 * (xen-syms, System.map, iomem, kexec header), the overrides, and which space (--xen-virt,
 * --machine, --domain 0 --phys/--virt). Opening files is all this does: the spaces are the
 * engine's (src/xen/spaces.ts) and the verbs render them like a Linux kernel's.
 */
import type { PhysReader } from "../dump/types.js";
import { ElfFile } from "../elf/reader.js";
import { PT_NOTE } from "../elf/types.js";
import { FormatError, rethrowMissing } from "../errors.js";
import { type KernelLog, readKernelLog } from "../kernel/printk.js";
import { parseKexecDebug } from "../memmap/kexec-debug.js";
import { type DumpFile, openDumpFile } from "../node/dump.js";
import { NodeFileSource } from "../node/file.js";
import { readConsoleRing, type XenConsoleRing } from "../xen/conring.js";
import { type Dom0View, dom0ScanOf, openDom0 } from "../xen/dom0.js";
import { dom0P2mOf } from "../xen/host.js";
import { isXenHostDump, openXenDump, type XenDump } from "../xen/open.js";
import { type XenMemory, type XenSpaceName, type XenSpaces, xenMemory } from "../xen/spaces.js";
import { SymbolTable } from "../xen/symbols.js";
import { parseAddress, parseNumber, UsageError } from "./common.js";
import { checkInput, InputError, readTextInput } from "./input.js";

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

export interface XenSession extends XenSpaces {
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
      machine: file.dump,
      dom0() {
        if (dom0) return dom0;
        const p2m = dom0P2mOf(xen, file.dump);
        if (typeof p2m === "string") throw new FormatError(`dom0: ${p2m}`);
        dom0 = openDom0(file.dump, p2m, systemMap, dom0ScanOf(file.dump));
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

export interface XenValues {
  "xen-syms"?: string | undefined;
  iomem?: string | undefined;
  "system-map"?: string | undefined;
  "xen-phys-start"?: string | undefined;
  "p2m-mfn"?: string | undefined;
  "kexec-debug"?: string | undefined;
  elfcorehdr?: string | undefined;
  "xen-virt"?: boolean | undefined;
  machine?: boolean | undefined;
  domain?: string | undefined;
  phys?: boolean | undefined;
  virt?: boolean | undefined;
}

/** The companion files named by the options. */
export function xenFilesOf(values: XenValues): XenCliFiles {
  return {
    ...(values["xen-phys-start"] !== undefined ? { physStart: values["xen-phys-start"] } : {}),
    ...(values["p2m-mfn"] !== undefined ? { p2mMfn: values["p2m-mfn"] } : {}),
    ...(values["kexec-debug"] !== undefined ? { kexecDebug: values["kexec-debug"] } : {}),
    ...(values.elfcorehdr !== undefined ? { elfcorehdr: values.elfcorehdr } : {}),
    ...(values["xen-syms"] !== undefined ? { xenSyms: values["xen-syms"] } : {}),
    ...(values["system-map"] !== undefined ? { systemMap: values["system-map"] } : {}),
    ...(values.iomem !== undefined ? { iomem: values.iomem } : {}),
  };
}

/** Which space --xen-virt / --machine / --domain 0 (--phys|--virt) name. */
export function xenSpaceOf(values: XenValues): XenSpaceName {
  const picked = [values["xen-virt"], values.machine, values.domain !== undefined].filter(Boolean).length;
  if (picked !== 1) throw new UsageError("give exactly one of --xen-virt, --machine, --domain 0");
  if (values["xen-virt"]) return "xen-virtual";
  if (values.machine) return "machine";
  if (values.domain !== "0") throw new UsageError("only --domain 0 (dom0) is supported");
  if (Boolean(values.phys) === Boolean(values.virt))
    throw new UsageError("--domain 0 needs exactly one of --phys and --virt");
  return values.phys ? "dom0-physical" : "dom0-virtual";
}

/** A Xen space opened for rd/vtop, with its address/symbol parser. */
export interface OpenedXenMemory {
  session: XenSession;
  memory: XenMemory;
  /** An address (hex, with or without 0x) or a symbol of the space. */
  resolve(text: string): { address: bigint; symbol?: string };
  close(): void;
}

export function openXenMemory(parts: readonly string[], values: XenValues): OpenedXenMemory {
  const name = xenSpaceOf(values);
  const session = openXenSession(parts, xenFilesOf(values));
  try {
    const memory = xenMemory(session, name);
    return {
      session,
      memory,
      resolve(text) {
        if (/^(0x)?[0-9a-fA-F]+$/.test(text))
          return { address: parseAddress(/^0x/i.test(text) ? text : `0x${text}`) };
        const v = memory.symbol(text);
        if (v !== undefined) return { address: v, symbol: text };
        throw new UsageError(`unknown ${name} symbol ${text} (${memory.symbolSource})`);
      },
      close: () => session.close(),
    };
  } catch (e) {
    session.close();
    throw e;
  }
}

/** `dmesg --xen` (the hypervisor's console ring) or `dmesg --domain 0` (dom0's kernel log). */
export function openXenLog(
  parts: readonly string[],
  values: XenValues,
): { ring?: XenConsoleRing; log?: KernelLog; close(): void } {
  if (values.domain !== undefined) {
    if (values.domain !== "0") throw new UsageError("only --domain 0 (dom0) is supported");
  } else if (values["xen-syms"] === undefined)
    throw new UsageError("the hypervisor's console needs --xen-syms F");
  const s = openXenSession(parts, xenFilesOf(values));
  try {
    if (values.domain !== undefined) {
      const d = s.dom0();
      if (!d.vmcoreinfo) throw new FormatError(`dom0: ${d.problems.join("; ")}`);
      return { log: readKernelLog(d.space, d.vmcoreinfo.info), close: () => s.close() };
    }
    const space = xenMemory(s, "xen-virtual").space;
    return { ring: readConsoleRing(space, s.xenSyms!), close: () => s.close() };
  } catch (e) {
    s.close();
    throw e;
  }
}
